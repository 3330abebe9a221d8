//! Differential test: cascadia's referential actions against SQLite's own.
//!
//! proptest generates a random schema (2–6 tables; single and composite
//! primary keys, unique keys, self-references and cycles, foreign keys
//! through new columns or through a primary-key column, every action on
//! delete and on update, nullable columns, defaults, indexes in either column
//! order, `unindexed` keys), random rows that satisfy every foreign key, and
//! a random operation: a delete of 1–3 rows or an update of one row (key
//! columns, unique columns, foreign-key columns).
//!
//! The same operation runs
//! - through cascadia on a SQLite database whose foreign keys are declared
//!   without actions (SQLite's enforcement on, as a safety net),
//! - through cascadia on the memory store,
//! - through SQLite's native actions on an oracle database, and on a second
//!   oracle whose tables and foreign keys are declared in reverse order.
//!
//! Both cascadia runs must always agree (same contents, or the same error).
//! Against the oracle: the final contents must be identical, or both must
//! fail. Cases are excluded from that comparison, and counted, when
//! - the two oracles disagree: SQLite's result depends on the order it fires
//!   actions in (e.g. RESTRICT reached through a diamond);
//! - cascadia refused on RESTRICT and the oracle succeeded after deleting or
//!   changing the restricting row through another path — cascadia decides
//!   RESTRICT on the state before the operation (checked: the restricting row
//!   is gone or changed in the oracle's result);
//! - SQLite hit its trigger recursion limit (an engine limit).
//!
//! Cases: `CASCADIA_DIFFERENTIAL_CASES` (default 3,000). The counts are
//! printed (`cargo test differential -- --nocapture`).

mod common;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use cascadia::metadata::{ColumnMeta, ForeignKeyMeta, IndexMeta};
use cascadia::store::sqlite::ddl::{DdlOptions, create_statements, quote};
use cascadia::{
    Access, Action, Database, DeleteOptions, Error, IndexRef, Key, MemoryStore, Row, Schema,
    SqliteOptions, SqliteStore, Store, TableMeta, UpdateOptions, Value, ValueType,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rusqlite::Connection;

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
struct FkSeed {
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
struct TableSeed {
    pk: u8,
    unique: u8,
    fks: Vec<FkSeed>,
    rows: Vec<[u8; 10]>,
}

#[derive(Debug, Clone)]
struct OpSeed {
    delete: bool,
    table: usize,
    rows: Vec<usize>,
    changes: [u8; 10],
}

#[derive(Debug, Clone)]
struct Seed {
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

fn seed() -> impl Strategy<Value = Seed> {
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
enum Op {
    Delete { table: usize, keys: Vec<Key> },
    Update { table: usize, key: Key, row: Row },
}

struct Case {
    schema: Schema,
    /// Rows per frame of the bottom-up executor (small, to exercise resumed
    /// scans and many frames).
    batch_rows: usize,
    /// Rows per table, in schema order.
    rows: Vec<Vec<Row>>,
    op: Op,
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
fn build(seed: &Seed) -> Option<Case> {
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

// ---------------------------------------------------------------------------
// Running a case.

/// Contents of every table, rows sorted.
type Contents = Vec<Vec<Row>>;

#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Ok(Contents),
    ForeignKey(String),
    Unique(String),
    NotNull(String),
    Recursion(String),
    Other(String),
}

impl Outcome {
    fn failed(&self) -> bool {
        !matches!(self, Outcome::Ok(_))
    }
}

fn reversed(schema: &Schema) -> Schema {
    let tables: Vec<TableMeta> = schema
        .tables()
        .rev()
        .map(|t| {
            let mut t = t.clone();
            t.foreign_keys.to_mut().reverse();
            t
        })
        .collect();
    Schema::new(tables).expect("reversed schema")
}

fn sqlite_rows(conn: &Connection, table: &TableMeta) -> Vec<Row> {
    let sql = format!("SELECT * FROM {}", quote(&table.name));
    let mut statement = conn.prepare(&sql).expect("select");
    let mut rows: Vec<Row> = statement
        .query_map([], |row| {
            (0..table.columns.len())
                .map(|i| row.get::<_, Value>(i))
                .collect::<Result<Row, _>>()
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    rows.sort();
    rows
}

fn where_key(table: &TableMeta, first: usize) -> String {
    table
        .primary_key
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{} = ?{}", quote(c), first + i))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// Runs the case with SQLite's native actions.
fn oracle(case: &Case, schema: &Schema) -> Outcome {
    let conn = Connection::open_in_memory().expect("oracle");
    conn.execute_batch("PRAGMA foreign_keys = ON")
        .expect("pragma");
    for statement in
        create_statements(schema, &DdlOptions::default().native_actions(true)).expect("ddl")
    {
        conn.execute_batch(&statement).expect("create");
    }
    load_sqlite(&conn, &case.schema, &case.rows);
    let tables: Vec<&TableMeta> = case.schema.tables().collect();
    let result = match &case.op {
        Op::Delete { table, keys } => {
            let meta = tables[*table];
            let per_key = meta.primary_key.len();
            let condition = (0..keys.len())
                .map(|k| format!("({})", where_key(meta, 1 + k * per_key)))
                .collect::<Vec<_>>()
                .join(" OR ");
            let sql = format!("DELETE FROM {} WHERE {condition}", quote(&meta.name));
            let params: Vec<&Value> = keys.iter().flatten().collect();
            conn.execute(&sql, rusqlite::params_from_iter(params))
        }
        Op::Update { table, key, row } => {
            let meta = tables[*table];
            let set = meta
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{} = ?{}", quote(&c.name), i + 1))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "UPDATE {} SET {set} WHERE {}",
                quote(&meta.name),
                where_key(meta, meta.columns.len() + 1)
            );
            let params: Vec<&Value> = row.iter().chain(key).collect();
            conn.execute(&sql, rusqlite::params_from_iter(params))
        }
    };
    match result {
        Ok(_) => Outcome::Ok(tables.iter().map(|t| sqlite_rows(&conn, t)).collect()),
        Err(error) => {
            let message = error.to_string();
            if message.contains("FOREIGN KEY") {
                Outcome::ForeignKey(message)
            } else if message.contains("UNIQUE") {
                Outcome::Unique(message)
            } else if message.contains("NOT NULL") {
                Outcome::NotNull(message)
            } else if message.contains("too many levels of trigger recursion") {
                Outcome::Recursion(message)
            } else {
                Outcome::Other(message)
            }
        }
    }
}

/// Loads rows in one transaction, foreign keys checked at commit.
fn load_sqlite(conn: &Connection, schema: &Schema, rows: &[Vec<Row>]) {
    conn.execute_batch("BEGIN; PRAGMA defer_foreign_keys = ON")
        .expect("begin");
    for (table, rows) in schema.tables().zip(rows) {
        let sql = format!(
            "INSERT INTO {} VALUES ({})",
            quote(&table.name),
            (1..=table.columns.len())
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        for row in rows {
            conn.execute(&sql, rusqlite::params_from_iter(row))
                .expect("insert");
        }
    }
    conn.execute_batch("COMMIT")
        .expect("generated rows satisfy their keys");
}

fn load_store(store: &dyn Store, rows: &[Vec<Row>]) {
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

fn classify(result: Result<cascadia::Outcome, Error>, db: &Database) -> (Outcome, Option<Error>) {
    match result {
        Ok(_) => {
            let contents = db
                .schema()
                .tables()
                .map(|t| {
                    let mut rows = db.rows(&t.name).expect("rows");
                    rows.sort();
                    rows
                })
                .collect();
            (Outcome::Ok(contents), None)
        }
        Err(error) => {
            let outcome = if error.is_foreign_key() {
                Outcome::ForeignKey(error.to_string())
            } else if error.is_unique() {
                Outcome::Unique(error.to_string())
            } else if matches!(error, Error::NotNull { .. }) {
                Outcome::NotNull(error.to_string())
            } else {
                Outcome::Other(error.to_string())
            };
            (outcome, Some(error))
        }
    }
}

fn through_cascadia(case: &Case, db: &Database) -> (Outcome, Option<Error>) {
    let tables: Vec<String> = case.schema.tables().map(|t| t.name.to_string()).collect();
    let result = match &case.op {
        Op::Delete { table, keys } => db.delete_rows(
            &tables[*table],
            keys,
            &DeleteOptions::default().batch_rows(case.batch_rows),
        ),
        Op::Update { table, key, row } => db.write(|tx| {
            tx.update_row(&tables[*table], key, row.clone(), &UpdateOptions::default())
        }),
    };
    classify(result, db)
}

#[derive(Default)]
struct Counts {
    run: AtomicU64,
    compared: AtomicU64,
    both_ok: AtomicU64,
    both_failed: AtomicU64,
    failed_differently: AtomicU64,
    oracle_order_dependent: AtomicU64,
    restrict_before_state: AtomicU64,
    recursion_limit: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

fn run_case(case: &Case, counts: &Counts) -> Result<(), TestCaseError> {
    bump(&counts.run);
    let sqlite_store = SqliteStore::open_in_memory(case.schema.clone(), SqliteOptions::default())
        .expect("sqlite store");
    load_store(&sqlite_store, &case.rows);
    let sqlite_db = Database::new(sqlite_store.clone());
    let memory_store = MemoryStore::new(case.schema.clone()).expect("memory store");
    load_store(&memory_store, &case.rows);
    let memory_db = Database::new(memory_store);

    let (on_sqlite, error) = through_cascadia(case, &sqlite_db);
    let (on_memory, _) = through_cascadia(case, &memory_db);
    prop_assert_eq!(
        &on_sqlite,
        &on_memory,
        "cascadia on SQLite and on memory disagree\n{:?}",
        case
    );
    // SQLite's own check agrees that nothing is orphaned.
    let orphans: usize = sqlite_store
        .with_connection_mut(|conn| {
            Ok(conn
                .prepare("PRAGMA foreign_key_check")?
                .query_map([], |_| Ok(()))?
                .count())
        })
        .expect("foreign_key_check");
    prop_assert_eq!(orphans, 0, "orphans after the operation\n{:?}", case);

    let first = oracle(case, &case.schema);
    let second = oracle(case, &reversed(&case.schema));
    if matches!(first, Outcome::Recursion(_)) || matches!(second, Outcome::Recursion(_)) {
        bump(&counts.recursion_limit);
        return Ok(());
    }
    if first.failed() != second.failed() || (!first.failed() && first != second) {
        bump(&counts.oracle_order_dependent);
        return Ok(());
    }
    prop_assert!(
        !matches!(first, Outcome::Other(_)),
        "the oracle failed unexpectedly: {:?}\n{:?}",
        first,
        case
    );
    if let (
        Some(Error::Restricted {
            foreign_key,
            child_key,
            ..
        }),
        Outcome::Ok(contents),
    ) = (&error, &first)
    {
        // Legitimate only if the oracle removed or changed the restricting row.
        let (position, child) = case
            .schema
            .tables()
            .enumerate()
            .find(|(_, t)| t.name == foreign_key.table)
            .expect("child table");
        let pk: Vec<usize> = child
            .primary_key
            .iter()
            .filter_map(|c| child.column_position(c))
            .collect();
        let before = case.rows[position]
            .iter()
            .find(|row| pk.iter().map(|&p| &row[p]).eq(child_key.iter()))
            .cloned();
        let after = contents[position]
            .iter()
            .find(|row| pk.iter().map(|&p| &row[p]).eq(child_key.iter()))
            .cloned();
        prop_assert!(
            before != after,
            "cascadia refused on RESTRICT but the oracle kept the restricting row\n{:?}",
            case
        );
        bump(&counts.restrict_before_state);
        return Ok(());
    }
    bump(&counts.compared);
    match (&on_sqlite, &first) {
        (Outcome::Ok(ours), Outcome::Ok(theirs)) => {
            prop_assert_eq!(ours, theirs, "final contents differ\n{:?}", case);
            bump(&counts.both_ok);
        }
        (ours, theirs) if ours.failed() && theirs.failed() => {
            bump(&counts.both_failed);
            if std::mem::discriminant(ours) != std::mem::discriminant(theirs) {
                bump(&counts.failed_differently);
                if std::env::var_os("CASCADIA_DIFFERENTIAL_VERBOSE").is_some() {
                    println!(
                        "failed differently:\ncascadia: {ours:?}\noracle: {theirs:?}\n{case:?}\n"
                    );
                }
            }
        }
        (ours, theirs) => {
            return Err(TestCaseError::fail(format!(
                "cascadia: {ours:?}\noracle: {theirs:?}\n{case:?}"
            )));
        }
    }
    Ok(())
}

#[test]
fn differential_against_sqlite_native_actions() {
    let cases: u32 = std::env::var("CASCADIA_DIFFERENTIAL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000);
    let counts = Counts::default();
    let skipped = AtomicU64::new(0);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&seed(), |seed| match build(&seed) {
        Some(case) => run_case(&case, &counts),
        None => {
            bump(&skipped);
            Ok(())
        }
    });
    let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
    let summary = [
        ("cases run", load(&counts.run)),
        ("compared with the oracle", load(&counts.compared)),
        ("  both succeeded, same contents", load(&counts.both_ok)),
        ("  both failed", load(&counts.both_failed)),
        (
            "    of which for another reason (e.g. UNIQUE vs FOREIGN KEY)",
            load(&counts.failed_differently),
        ),
        (
            "excluded: the two oracles disagree (action order)",
            load(&counts.oracle_order_dependent),
        ),
        (
            "excluded: RESTRICT decided before the operation",
            load(&counts.restrict_before_state),
        ),
        (
            "excluded: SQLite's trigger recursion limit",
            load(&counts.recursion_limit),
        ),
        ("seeds without a valid case", load(&skipped)),
    ];
    println!("differential summary ({cases} cases asked):");
    for (what, count) in &summary {
        println!("  {what}: {count}");
    }
    if let Err(error) = result {
        panic!("{error}");
    }
}
