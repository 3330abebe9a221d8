//! The differential generator: random schemas, rows that satisfy every
//! foreign key, and a random delete or update. Shared by the differential
//! and index-backed tests.

use std::fmt;

use cascadia::metadata::{ColumnMeta, ForeignKeyMeta, IndexMeta};
use cascadia::store::sqlite::ddl::{DdlOptions, create_statements};
use cascadia::{Access, Action, IndexRef, Key, Row, Schema, Store, TableMeta, Value, ValueType};
use proptest::prelude::*;

const ACTIONS: [Action; 5] = [
    Action::Cascade,
    Action::Restrict,
    Action::NoAction,
    Action::SetNull,
    Action::SetDefault,
];
const TEXTS: [&str; 3] = ["a", "b", "c"];

// ---------------------------------------------------------------------------
// Seeds: what proptest generates and shrinks; `build` turns them into a case.

#[derive(Debug, Clone)]
pub struct FkSeed {
    target: usize,
    to_unique: bool,
    in_pk: bool,
    nullable: bool,
    defaults: [u8; 2],
    on_delete: usize,
    on_update: usize,
    extra_index_column: bool,
    reversed_index: bool,
    unindexed: bool,
}

#[derive(Debug, Clone)]
pub struct TableSeed {
    pk: u8,
    unique: u8,
    fks: Vec<FkSeed>,
    rows: Vec<[u8; 10]>,
}

#[derive(Debug, Clone)]
pub struct OpSeed {
    delete: bool,
    table: usize,
    rows: Vec<usize>,
    changes: [u8; 10],
}

#[derive(Debug, Clone)]
pub struct Seed {
    tables: Vec<TableSeed>,
    op: OpSeed,
}

fn fk_seed() -> impl Strategy<Value = FkSeed> {
    (
        0usize..6,
        any::<bool>(),
        prop::bool::weighted(0.3),
        any::<bool>(),
        any::<[u8; 2]>(),
        0usize..5,
        0usize..5,
        prop::bool::weighted(0.3),
        any::<bool>(),
        prop::bool::weighted(0.2),
    )
        .prop_map(
            |(
                target,
                to_unique,
                in_pk,
                nullable,
                defaults,
                on_delete,
                on_update,
                extra_index_column,
                reversed_index,
                unindexed,
            )| FkSeed {
                target,
                to_unique,
                in_pk,
                nullable,
                defaults,
                on_delete,
                on_update,
                extra_index_column,
                reversed_index,
                unindexed,
            },
        )
}

fn table_seed() -> impl Strategy<Value = TableSeed> {
    (
        0u8..3,
        0u8..3,
        prop::collection::vec(fk_seed(), 0..=2),
        prop::collection::vec(any::<[u8; 10]>(), 0..=7),
    )
        .prop_map(|(pk, unique, fks, rows)| TableSeed {
            pk,
            unique,
            fks,
            rows,
        })
}

pub fn seed() -> impl Strategy<Value = Seed> {
    (
        prop::collection::vec(table_seed(), 2..=6),
        (
            prop::bool::weighted(0.6),
            0usize..6,
            prop::collection::vec(0usize..8, 1..=3),
            any::<[u8; 10]>(),
        ),
    )
        .prop_map(|(tables, (delete, table, rows, changes))| Seed {
            tables,
            op: OpSeed {
                delete,
                table,
                rows,
                changes,
            },
        })
}

// ---------------------------------------------------------------------------
// The case built from a seed.

#[derive(Debug, Clone)]
pub enum Op {
    Delete { table: usize, keys: Vec<Key> },
    Update { table: usize, key: Key, row: Row },
}

pub struct Case {
    pub schema: Schema,
    /// Rows per frame of the bottom-up executor (small, to exercise resumed
    /// scans and many frames).
    pub batch_rows: usize,
    /// Rows per table, in schema order.
    pub rows: Vec<Vec<Row>>,
    pub op: Op,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "batch_rows: {}", self.batch_rows)?;
        writeln!(f, "schema:")?;
        for statement in
            create_statements(&self.schema, &DdlOptions::default().native_actions(true))
                .unwrap_or_default()
        {
            writeln!(f, "  {statement};")?;
        }
        for (table, rows) in self.schema.tables().zip(&self.rows) {
            writeln!(f, "rows of {}: {:?}", table.name, rows)?;
        }
        write!(f, "operation: {:?}", self.op)
    }
}

fn value(class: ValueType, seed: u8) -> Value {
    match class {
        ValueType::Text => Value::Text(TEXTS[seed as usize % TEXTS.len()].to_owned()),
        _ => Value::Integer(i64::from(seed % 4)),
    }
}

/// Builds the schema and rows of a seed; `None` when the seed makes no valid
/// schema (it is then skipped, which the counts show).
pub fn build(seed: &Seed) -> Option<Case> {
    let n = seed.tables.len();
    // Primary keys and unique keys first: foreign keys need their targets'.
    let mut metas: Vec<TableMeta> = Vec::new();
    for (i, t) in seed.tables.iter().enumerate() {
        let mut meta = TableMeta::new(format!("t{i}"));
        meta = match t.pk {
            0 => meta
                .with_column(ColumnMeta::new("id", ValueType::Integer))
                .with_primary_key(["id"]),
            1 => meta
                .with_column(ColumnMeta::new("k1", ValueType::Integer))
                .with_column(ColumnMeta::new("k2", ValueType::Text))
                .with_primary_key(["k1", "k2"]),
            _ => meta
                .with_column(ColumnMeta::new("code", ValueType::Text))
                .with_primary_key(["code"]),
        };
        match t.unique {
            1 => {
                meta = meta
                    .with_column(ColumnMeta::new("u", ValueType::Integer))
                    .with_index(IndexMeta::new("by_u", ["u"]).unique());
            }
            2 => {
                meta = meta
                    .with_column(ColumnMeta::new("u", ValueType::Integer).nullable())
                    .with_index(IndexMeta::new("by_u", ["u"]).unique());
            }
            _ => {}
        }
        metas.push(meta);
    }
    let keys: Vec<(Vec<String>, Option<String>)> = metas
        .iter()
        .map(|m| {
            (
                m.primary_key.iter().map(|c| c.to_string()).collect(),
                m.indexes.first().map(|i| i.columns[0].to_string()),
            )
        })
        .collect();
    for (i, t) in seed.tables.iter().enumerate() {
        let mut used_pk_fk = false;
        for (k, fk) in t.fks.iter().enumerate() {
            let target = fk.target % n;
            let (target_pk, target_unique) = &keys[target];
            let referenced: Vec<String> = match (fk.to_unique, target_unique) {
                (true, Some(u)) => vec![u.clone()],
                _ => target_pk.clone(),
            };
            let classes: Vec<ValueType> = referenced
                .iter()
                .map(|c| metas[target].column(c).map(|c| c.value_type))
                .collect::<Option<_>>()?;
            let mut on_delete = ACTIONS[fk.on_delete];
            let mut on_update = ACTIONS[fk.on_update];
            let through_pk = fk.in_pk
                && !used_pk_fk
                && t.pk == 1
                && classes == [ValueType::Integer]
                && target != i;
            let meta = &mut metas[i];
            let columns: Vec<String> = if through_pk {
                used_pk_fk = true;
                // k1 is the first primary-key column: the key's own index
                // serves the foreign key. It cannot be set to NULL.
                for action in [&mut on_delete, &mut on_update] {
                    if *action == Action::SetNull {
                        *action = Action::Cascade;
                    }
                }
                if on_delete == Action::SetDefault || on_update == Action::SetDefault {
                    let column = meta.columns.to_mut().iter_mut().find(|c| c.name == "k1")?;
                    column.default = Some(cascadia::ColumnDefault::Value(value(
                        ValueType::Integer,
                        fk.defaults[0],
                    )));
                }
                vec!["k1".to_owned()]
            } else {
                let nullable =
                    fk.nullable || on_delete == Action::SetNull || on_update == Action::SetNull;
                let set_default =
                    on_delete == Action::SetDefault || on_update == Action::SetDefault;
                let mut columns = Vec::new();
                for (c, class) in classes.iter().enumerate() {
                    let name = format!("f{k}_{c}");
                    let mut column = ColumnMeta::new(name.clone(), *class);
                    if nullable {
                        column = column.nullable();
                    }
                    if set_default {
                        // A NULL default on a nullable column now and then.
                        column = if nullable && fk.defaults[c] % 5 == 0 {
                            column.with_default(Value::Null)
                        } else {
                            column.with_default(value(*class, fk.defaults[c]))
                        };
                    }
                    meta.columns.to_mut().push(column);
                    columns.push(name);
                }
                columns
            };
            let index = if through_pk {
                IndexRef::PrimaryKey
            } else if fk.unindexed
                && matches!(on_delete, Action::Restrict | Action::NoAction)
                && matches!(on_update, Action::Restrict | Action::NoAction)
            {
                IndexRef::Unindexed
            } else {
                let mut index_columns = columns.clone();
                if fk.reversed_index {
                    index_columns.reverse();
                }
                if fk.extra_index_column {
                    index_columns.push(meta.primary_key[0].to_string());
                }
                let name = format!("fk{k}");
                meta.indexes
                    .to_mut()
                    .push(IndexMeta::new(name.clone(), index_columns));
                IndexRef::Index(name.into())
            };
            // One foreign key per (columns, target).
            if meta.foreign_keys.iter().any(|existing| {
                existing.referenced_table == format!("t{target}")
                    && existing
                        .columns
                        .iter()
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>()
                        == columns
            }) {
                continue;
            }
            meta.foreign_keys.to_mut().push(
                ForeignKeyMeta::new(columns, format!("t{target}"), referenced)
                    .on_delete(on_delete)
                    .on_update(on_update)
                    .with_index(index),
            );
        }
    }
    let schema = Schema::new(metas.clone()).expect("the generator makes valid schemas");

    // Rows: every column from the seed bytes, then foreign-key columns
    // pointed at existing rows most of the time.
    let mut rows: Vec<Vec<Row>> = seed
        .tables
        .iter()
        .zip(&metas)
        .map(|(t, meta)| {
            t.rows
                .iter()
                .map(|bytes| {
                    meta.columns
                        .iter()
                        .enumerate()
                        .map(|(c, column)| {
                            let byte = bytes[c % bytes.len()];
                            if column.nullable && byte % 7 == 0 {
                                Value::Null
                            } else {
                                value(column.value_type, byte)
                            }
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    for (i, meta) in metas.iter().enumerate() {
        for (k, fk) in meta.foreign_keys.iter().enumerate() {
            let target: usize = fk.referenced_table[1..].parse().ok()?;
            let child_positions: Vec<usize> = fk
                .columns
                .iter()
                .map(|c| meta.column_position(c))
                .collect::<Option<_>>()?;
            let parent_positions: Vec<usize> = fk
                .referenced_columns
                .iter()
                .map(|c| metas[target].column_position(c))
                .collect::<Option<_>>()?;
            for r in 0..rows[i].len() {
                let choice = seed.tables[i].rows[r][(k + 7) % 10] as usize;
                let candidates = rows[target].len();
                if candidates == 0 || choice % 5 == 4 {
                    continue;
                }
                let parent = rows[target][choice % candidates].clone();
                if parent_positions.iter().any(|&p| parent[p].is_null()) {
                    continue;
                }
                for (c, p) in child_positions.iter().zip(&parent_positions) {
                    rows[i][r][*c] = parent[*p].clone();
                }
            }
        }
    }
    fix_up(&metas, &mut rows);

    let op_table = seed.op.table % n;
    let table_rows = &rows[op_table];
    let pk_positions: Vec<usize> = metas[op_table]
        .primary_key
        .iter()
        .filter_map(|c| metas[op_table].column_position(c))
        .collect();
    let key_of = |row: &Row| -> Key { pk_positions.iter().map(|&p| row[p].clone()).collect() };
    let op = if seed.op.delete || table_rows.is_empty() {
        let keys: Vec<Key> = if table_rows.is_empty() {
            vec![
                pk_positions
                    .iter()
                    .map(|&p| value(metas[op_table].columns[p].value_type, 1))
                    .collect(),
            ]
        } else {
            let mut keys: Vec<Key> = Vec::new();
            for &r in &seed.op.rows {
                let key = key_of(&table_rows[r % table_rows.len()]);
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
            keys
        };
        Op::Delete {
            table: op_table,
            keys,
        }
    } else {
        let old = &table_rows[seed.op.rows[0] % table_rows.len()];
        let mut new = old.clone();
        for (c, column) in metas[op_table].columns.iter().enumerate() {
            let byte = seed.op.changes[c % 10];
            // Key and unique columns change often, the others now and then.
            let is_key = metas[op_table].primary_key.contains(&column.name) || column.name == "u";
            if byte % 3 == 0 || (!is_key && byte % 3 == 1) {
                continue;
            }
            new[c] = if column.nullable && byte % 11 == 0 {
                Value::Null
            } else {
                value(column.value_type, byte / 3)
            };
        }
        Op::Update {
            table: op_table,
            key: key_of(old),
            row: new,
        }
    };
    let batch_rows = 1 + seed.op.changes[9] as usize % 3;
    Some(Case {
        schema,
        batch_rows,
        rows,
        op,
    })
}

/// Drops rows that collide on a primary or unique key, and makes every
/// foreign key hold: a dangling reference becomes NULL when it can, else its
/// row goes. Repeats until stable.
fn fix_up(metas: &[TableMeta], rows: &mut [Vec<Row>]) {
    loop {
        let mut changed = false;
        for (i, meta) in metas.iter().enumerate() {
            let mut keys: Vec<Vec<usize>> = vec![
                meta.primary_key
                    .iter()
                    .filter_map(|c| meta.column_position(c))
                    .collect(),
            ];
            keys.extend(meta.indexes.iter().filter(|ix| ix.unique).map(|ix| {
                ix.columns
                    .iter()
                    .filter_map(|c| meta.column_position(c))
                    .collect()
            }));
            let mut kept: Vec<Row> = Vec::new();
            for row in rows[i].drain(..) {
                let collides = keys.iter().any(|key| {
                    let values: Vec<&Value> = key.iter().map(|&p| &row[p]).collect();
                    !values.iter().any(|v| v.is_null())
                        && kept.iter().any(|other| {
                            key.iter().map(|&p| &other[p]).collect::<Vec<_>>() == values
                        })
                });
                if collides {
                    changed = true;
                } else {
                    kept.push(row);
                }
            }
            rows[i] = kept;
        }
        for (i, meta) in metas.iter().enumerate() {
            for fk in meta.foreign_keys.iter() {
                let Ok(target) = fk.referenced_table[1..].parse::<usize>() else {
                    continue;
                };
                let child: Vec<usize> = fk
                    .columns
                    .iter()
                    .filter_map(|c| meta.column_position(c))
                    .collect();
                let parent: Vec<usize> = fk
                    .referenced_columns
                    .iter()
                    .filter_map(|c| metas[target].column_position(c))
                    .collect();
                let nullable = fk
                    .columns
                    .iter()
                    .all(|c| meta.column(c).is_some_and(|c| c.nullable));
                let mut r = 0;
                while r < rows[i].len() {
                    let values: Vec<Value> = child.iter().map(|&p| rows[i][r][p].clone()).collect();
                    let dangling = !values.iter().any(Value::is_null)
                        && !rows[target]
                            .iter()
                            .any(|p| parent.iter().map(|&c| &p[c]).eq(values.iter()));
                    if dangling {
                        changed = true;
                        if nullable {
                            for &p in &child {
                                rows[i][r][p] = Value::Null;
                            }
                        } else {
                            rows[i].remove(r);
                            continue;
                        }
                    }
                    r += 1;
                }
            }
        }
        if !changed {
            return;
        }
    }
}

/// Loads a case's rows into a store in one transaction (no foreign-key
/// checks: the rows satisfy them; SQLite checks at commit).
pub fn load_store(store: &dyn Store, rows: &[Vec<Row>]) {
    let names: Vec<String> = store
        .schema()
        .tables()
        .map(|t| t.name.to_string())
        .collect();
    let mut tx = store.begin(Access::Write).expect("begin");
    for (name, rows) in names.iter().zip(rows) {
        for row in rows {
            tx.insert(name, row).expect("insert");
        }
    }
    tx.commit().expect("generated rows satisfy their keys");
}
