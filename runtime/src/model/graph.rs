//! The foreign-key graph of a validated schema, by position: tables and
//! columns are indexes into the schema's lists, so the planner and the
//! executor never look a name up on their hot paths.

use std::collections::HashMap;
use std::sync::Arc;

use crate::model::error::{Error, ForeignKeyName};
use crate::model::index_range::IndexRange;
use crate::model::metadata::{Action, IndexRef, Name, TableMeta};
use crate::model::value::{Key, Value};

/// Position of a table in its schema.
pub(crate) type TableId = usize;
/// Position of a foreign key in [`Graph::fks`].
pub(crate) type FkId = usize;

/// How to reach rows by the values of some columns.
#[derive(Debug, Clone)]
pub(crate) enum Lookup {
    /// Through an index whose first columns are the looked-up columns:
    /// `order[j]` is the position, among the looked-up values, of the value
    /// for the index's column `j`; `columns` are all the index's column
    /// positions (for scan positions).
    Index {
        index: IndexRef,
        order: Vec<usize>,
        columns: Vec<usize>,
    },
    /// No index: a filtered scan (only `unindexed` restrict / no_action FKs).
    Unindexed,
}

/// One table of the graph.
#[derive(Debug)]
pub(crate) struct TableNode {
    /// Column positions of the primary key, in key order.
    pub(crate) pk: Vec<usize>,
    /// Column positions of every unique key: the primary key first, then the
    /// unique indexes, with the index each is read through.
    pub(crate) unique_keys: Vec<(IndexRef, Vec<usize>)>,
    /// Foreign keys that reference this table (this table is the parent).
    pub(crate) incoming: Vec<FkId>,
    /// Foreign keys declared on this table (this table is the child).
    pub(crate) outgoing: Vec<FkId>,
    /// Whether deleting a row of this table can reach, through CASCADE
    /// edges, a table with an edge that needs a check or a write other than
    /// a delete (RESTRICT, NO ACTION, SET NULL, SET DEFAULT), on either end.
    /// When false, the planner skips the table's whole cascade subgraph.
    pub(crate) needs_check: bool,
    /// Position of the `#[soft_delete]` column, if the table has one.
    pub(crate) soft_delete: Option<usize>,
    /// Whether the table is on a cycle of foreign keys (a self-reference
    /// included): only then can its rows form a data cycle.
    pub(crate) in_cycle: bool,
}

/// One foreign key of the graph.
#[derive(Debug)]
pub(crate) struct FkEdge {
    /// The referencing table.
    pub(crate) child: TableId,
    /// The referenced table.
    pub(crate) parent: TableId,
    /// Column positions in the child, paired with `parent_columns`.
    pub(crate) child_columns: Vec<usize>,
    /// Column positions in the parent (its primary key or a unique key).
    pub(crate) parent_columns: Vec<usize>,
    /// Action on delete of a parent row.
    pub(crate) on_delete: Action,
    /// Action on change of a parent key.
    pub(crate) on_update: Action,
    /// The database runs this key's actions ([`ForeignKeyMeta::native`](crate::ForeignKeyMeta::native)).
    pub(crate) native: bool,
    /// How to find the children of a parent key.
    pub(crate) children: Lookup,
    /// How to find the parent of a child key (always an index).
    pub(crate) parent_lookup: Lookup,
    /// The name errors use.
    pub(crate) name: Arc<ForeignKeyName>,
    /// Whether the ON DELETE action writes a column of a primary or unique
    /// key of the child (a SET NULL / SET DEFAULT that is a key change, with
    /// ON UPDATE actions and unique checks of its own).
    pub(crate) delete_changes_key: bool,
}

impl FkEdge {
    /// The values the child columns must have to reference `parent_row`.
    pub(crate) fn parent_values(&self, parent_row: &[Value]) -> Key {
        self.parent_columns
            .iter()
            .map(|&c| parent_row[c].clone())
            .collect()
    }

    /// The child row's values for the FK columns, in FK order.
    pub(crate) fn child_values(&self, child_row: &[Value]) -> Key {
        self.child_columns
            .iter()
            .map(|&c| child_row[c].clone())
            .collect()
    }
}

/// Whether a key has a NULL column: MATCH SIMPLE makes such a key reference
/// nothing (child side) and be referenced by nothing (parent side).
pub(crate) fn has_null(key: &[Value]) -> bool {
    key.iter().any(Value::is_null)
}

/// The index range that finds rows whose looked-up columns equal `values`
/// (in looked-up order), or `None` for [`Lookup::Unindexed`].
pub(crate) fn range_for(table: &Name, access: &Lookup, values: &[Value]) -> Option<IndexRange> {
    match access {
        Lookup::Index { index, order, .. } => Some(IndexRange {
            table: table.clone(),
            index: index.clone(),
            prefix: order.iter().map(|&k| values[k].clone()).collect(),
            range: None,
        }),
        Lookup::Unindexed => None,
    }
}

/// The foreign-key graph: incoming and outgoing edges per table.
#[derive(Debug)]
pub(crate) struct Graph {
    pub(crate) tables: Vec<TableNode>,
    pub(crate) fks: Vec<FkEdge>,
    by_name: HashMap<Name, TableId>,
}

fn positions(table: &TableMeta, columns: &[Name]) -> Vec<usize> {
    // validated: every column exists
    columns
        .iter()
        .filter_map(|c| table.column_position(c))
        .collect()
}

/// For looked-up columns `wanted` and an index over `index_columns` whose
/// first `wanted.len()` columns are `wanted` as a set: the order mapping.
fn order(index_columns: &[usize], wanted: &[usize]) -> Vec<usize> {
    index_columns[..wanted.len()]
        .iter()
        .filter_map(|c| wanted.iter().position(|w| w == c))
        .collect()
}

impl Graph {
    /// Builds the graph of a schema that [`validate`](crate::model::validate) accepted.
    pub(crate) fn build(tables: &[&TableMeta]) -> Graph {
        let by_name: HashMap<Name, TableId> = tables
            .iter()
            .enumerate()
            .map(|(id, t)| (t.name.clone(), id))
            .collect();
        let mut nodes: Vec<TableNode> = tables
            .iter()
            .map(|t| {
                let pk = positions(t, &t.primary_key);
                let mut unique_keys = vec![(IndexRef::PrimaryKey, pk.clone())];
                unique_keys.extend(
                    t.indexes
                        .iter()
                        .filter(|i| i.unique)
                        .map(|i| (IndexRef::Index(i.name.clone()), positions(t, &i.columns))),
                );
                TableNode {
                    pk,
                    unique_keys,
                    incoming: Vec::new(),
                    outgoing: Vec::new(),
                    needs_check: false,
                    soft_delete: t.soft_delete.as_ref().and_then(|c| t.column_position(c)),
                    in_cycle: false,
                }
            })
            .collect();
        let mut fks = Vec::new();
        for (child, table) in tables.iter().enumerate() {
            for fk in table.foreign_keys.iter() {
                let Some(&parent) = by_name.get(&fk.referenced_table) else {
                    continue;
                };
                let parent_meta = tables[parent];
                let child_columns = positions(table, &fk.columns);
                let parent_columns = positions(parent_meta, &fk.referenced_columns);
                let children = match &fk.index {
                    IndexRef::PrimaryKey => Lookup::Index {
                        index: IndexRef::PrimaryKey,
                        order: order(&nodes[child].pk, &child_columns),
                        columns: nodes[child].pk.clone(),
                    },
                    IndexRef::Index(name) => {
                        let columns = table
                            .index(name)
                            .map(|i| positions(table, &i.columns))
                            .unwrap_or_default();
                        Lookup::Index {
                            index: IndexRef::Index(name.clone()),
                            order: order(&columns, &child_columns),
                            columns,
                        }
                    }
                    IndexRef::Unindexed => Lookup::Unindexed,
                };
                let mut sorted_parent = parent_columns.clone();
                sorted_parent.sort_unstable();
                let parent_lookup = nodes[parent]
                    .unique_keys
                    .iter()
                    .find(|(_, key)| {
                        let mut key = key.clone();
                        key.sort_unstable();
                        key == sorted_parent
                    })
                    .map(|(index, key)| Lookup::Index {
                        index: index.clone(),
                        order: order(key, &parent_columns),
                        columns: key.clone(),
                    })
                    .unwrap_or(Lookup::Unindexed);
                let references_primary_key = {
                    let mut pk = nodes[parent].pk.clone();
                    pk.sort_unstable();
                    pk == sorted_parent
                };
                let delete_changes_key =
                    matches!(fk.on_delete, Action::SetNull | Action::SetDefault)
                        && nodes[child]
                            .unique_keys
                            .iter()
                            .any(|(_, key)| key.iter().any(|c| child_columns.contains(c)));
                let id = fks.len();
                nodes[child].outgoing.push(id);
                nodes[parent].incoming.push(id);
                fks.push(FkEdge {
                    child,
                    parent,
                    child_columns,
                    parent_columns,
                    on_delete: fk.on_delete,
                    on_update: fk.on_update,
                    native: fk.native,
                    children,
                    parent_lookup,
                    name: Arc::new(ForeignKeyName {
                        table: table.name.clone(),
                        columns: fk.columns.to_vec(),
                        referenced_table: fk.referenced_table.clone(),
                        referenced_columns: fk.referenced_columns.to_vec(),
                        references_primary_key,
                        constraint: fk.name.clone(),
                    }),
                    delete_changes_key,
                });
            }
        }
        // needs_check: a table is watched when deleting its rows needs a
        // check or a write other than a delete (an incoming non-CASCADE
        // edge), or when the planner or the executor asks whether its rows
        // are deleted (the child of a non-CASCADE edge, or a table whose rows
        // a delete's updates reach); then every table with a CASCADE path to
        // it needs checking too (least fixpoint).
        for edge in &fks {
            if edge.on_delete != Action::Cascade {
                nodes[edge.parent].needs_check = true;
                nodes[edge.child].needs_check = true;
            }
        }
        // Rows a delete can update — through SET NULL / SET DEFAULT, then
        // through the ON UPDATE actions those key changes set off — are
        // asked about too (an updated row must not be one being deleted).
        let mut updatable: Vec<bool> = vec![false; nodes.len()];
        for edge in &fks {
            if matches!(edge.on_delete, Action::SetNull | Action::SetDefault) {
                updatable[edge.child] = true;
            }
        }
        loop {
            let mut changed = false;
            for edge in &fks {
                let writes = matches!(
                    edge.on_update,
                    Action::Cascade | Action::SetNull | Action::SetDefault
                );
                if writes && updatable[edge.parent] && !updatable[edge.child] {
                    updatable[edge.child] = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        for (node, updatable) in nodes.iter_mut().zip(updatable) {
            node.needs_check |= updatable;
        }
        loop {
            let mut changed = false;
            for edge in &fks {
                if edge.on_delete == Action::Cascade
                    && nodes[edge.child].needs_check
                    && !nodes[edge.parent].needs_check
                {
                    nodes[edge.parent].needs_check = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        // in_cycle: the table reaches itself following child → parent edges.
        for start in 0..nodes.len() {
            let mut seen = vec![false; nodes.len()];
            let mut stack = vec![start];
            let mut cycle = false;
            while let Some(table) = stack.pop() {
                for &f in &nodes[table].outgoing {
                    let parent = fks[f].parent;
                    cycle |= parent == start;
                    if !seen[parent] {
                        seen[parent] = true;
                        stack.push(parent);
                    }
                }
            }
            nodes[start].in_cycle = cycle;
        }
        Graph {
            tables: nodes,
            fks,
            by_name,
        }
    }

    /// The position of the table named `name`.
    pub(crate) fn table_id(&self, name: &str) -> Option<TableId> {
        self.by_name.get(name).copied()
    }

    /// The position of the table named `name`, or [`Error::UnknownTable`].
    pub(crate) fn resolve_table(&self, name: &str) -> Result<TableId, Error> {
        self.table_id(name).ok_or_else(|| Error::UnknownTable {
            table: name.to_owned(),
        })
    }

    /// The tables whose rows deleting rows of `table` can delete: `table`
    /// and every table a chain of ON DELETE CASCADE edges reaches from it.
    pub(crate) fn cascade_reachable(&self, table: TableId) -> Vec<bool> {
        let mut reachable = vec![false; self.tables.len()];
        reachable[table] = true;
        let mut stack = vec![table];
        while let Some(parent) = stack.pop() {
            for &f in &self.tables[parent].incoming {
                let edge = &self.fks[f];
                if edge.on_delete == Action::Cascade && !reachable[edge.child] {
                    reachable[edge.child] = true;
                    stack.push(edge.child);
                }
            }
        }
        reachable
    }

    /// Whether a delete whose cascade reaches the tables `reachable` writes a
    /// key through SET NULL / SET DEFAULT: such a delete is a key update too,
    /// and runs in one transaction.
    pub(crate) fn delete_changes_keys(&self, reachable: &[bool]) -> bool {
        self.fks
            .iter()
            .any(|edge| edge.delete_changes_key && reachable[edge.parent])
    }

    /// The primary-key values of `row` of table `table`.
    pub(crate) fn pk_of(&self, table: TableId, row: &[Value]) -> Key {
        self.tables[table]
            .pk
            .iter()
            .map(|&c| row[c].clone())
            .collect()
    }
}
