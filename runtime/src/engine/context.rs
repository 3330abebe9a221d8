//! Foreign-key lookups over a transaction: the children of a parent key
//! (through the index that serves the foreign key), the parent of a child
//! key (through the parent's primary or unique key), and row checks. Shared by
//! the planner, the executor and typed CRUD, so every lookup goes through the
//! same index-backed path.

use crate::engine::policy::{Asked, Policies, PolicyContext, PolicyScope};
use crate::model::error::{Error, Operation, RowRef};
use crate::model::graph::{FkEdge, Graph, Lookup, TableId, has_null, range_for};
use crate::model::index_range::IndexRange;
use crate::model::metadata::{ColumnMeta, IndexRef, TableMeta};
use crate::model::position::ScanPosition;
use crate::model::schema::Schema;
use crate::model::validate::class_fits;
use crate::model::value::{Key, Row, Value, ValueType};
use crate::store::{ChildScan, Transaction};

/// What a child scan ([`Ctx::children_of`]) reads of each row.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Projection<'c> {
    /// Every column, and the row's size.
    Rows,
    /// The columns `columns` (the others may come back NULL), and the
    /// row's size only with `sizes` (otherwise it may come back 0).
    Columns { columns: &'c [usize], sizes: bool },
}

/// The schema and its graph, borrowed together.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub(crate) schema: &'a Schema,
    pub(crate) graph: &'a Graph,
    /// The operation's row policies (`None` when no policy is registered).
    pub(crate) policy: Option<PolicyScope<'a>>,
}

impl<'a> Ctx<'a> {
    /// The context of a valid schema.
    pub(crate) fn new(schema: &'a Schema) -> Result<Self, Error> {
        Ok(Ctx {
            schema,
            graph: schema.graph()?,
            policy: None,
        })
    }

    /// Asks the operation's row policies, if any, about `asked` (see
    /// [`PolicyScope::check`]).
    pub(crate) fn ask(&self, operation: Operation, asked: Asked<'_>) -> Result<(), Error> {
        let Some(scope) = self.policy else {
            return Ok(());
        };
        let parent = asked.parent.map(|(table, key)| RowRef {
            table: self.meta(table).name.clone(),
            key,
        });
        scope.check(
            operation,
            asked.table,
            self.meta(asked.table),
            asked.row,
            self.pk_of(asked.table, asked.row),
            asked.change,
            asked.fk.map(|f| &self.fk(f).name),
            parent,
        )
    }

    /// This context with the row policies `policies` and the operation's
    /// context value (no scope when `policies` is empty).
    pub(crate) fn with_policies(
        mut self,
        policies: &'a Policies,
        context: Option<&'a PolicyContext>,
    ) -> Self {
        self.policy = (!policies.is_empty()).then(|| PolicyScope {
            policies,
            context: context.map(|value| &**value),
        });
        self
    }

    pub(crate) fn meta(&self, table: TableId) -> &'a TableMeta {
        self.schema.meta(table)
    }

    pub(crate) fn fk(&self, id: usize) -> &'a FkEdge {
        &self.graph.fks[id]
    }

    pub(crate) fn pk_of(&self, table: TableId, row: &[Value]) -> Key {
        self.graph.pk_of(table, row)
    }

    /// Up to `limit` rows of the child table referencing `parent_values`
    /// (in FK column order) through `fk`, after `after`. Empty for a key with
    /// a NULL column (MATCH SIMPLE).
    pub(crate) fn children(
        &self,
        tx: &mut dyn Transaction,
        fk: &FkEdge,
        parent_values: &[Value],
        after: Option<&ScanPosition>,
        limit: usize,
    ) -> Result<Vec<Row>, Error> {
        if has_null(parent_values) {
            return Ok(Vec::new());
        }
        let table = &self.meta(fk.child).name;
        match range_for(table, &fk.children, parent_values) {
            Some(range) => tx.scan(&range, after, limit),
            None => tx.scan_where(
                table,
                &fk.child_columns,
                parent_values,
                after.map(|a| a.key.as_slice()),
                limit,
            ),
        }
    }

    /// Up to `limit` rows of the child table referencing any of the parent
    /// values `parents` through `fk` (an indexed foreign key), in index
    /// order, after `after`, with their serialised sizes, read as
    /// `projection` says.
    pub(crate) fn children_of(
        &self,
        tx: &mut dyn Transaction,
        fk: &FkEdge,
        parents: &[Key],
        after: Option<&ScanPosition>,
        limit: usize,
        projection: Projection<'_>,
    ) -> Result<Vec<(Row, u64)>, Error> {
        let range = self.child_range(fk)?;
        let prefixes: Vec<Key> = parents
            .iter()
            .map(|values| self.index_prefix(fk, values))
            .collect();
        let scan = ChildScan::new(&range, &prefixes, limit).after(after);
        let scan = match projection {
            Projection::Rows => scan,
            Projection::Columns { columns, sizes } => scan.columns(columns).sizes(sizes),
        };
        tx.scan_children(&scan)
    }

    /// The index range (no prefix) that finds `fk`'s referencing rows.
    ///
    /// # Errors
    /// [`Error::InvalidRange`] for an `unindexed` foreign key.
    pub(crate) fn child_range(&self, fk: &FkEdge) -> Result<IndexRange, Error> {
        let table = &self.meta(fk.child).name;
        match &fk.children {
            Lookup::Index { index, .. } => Ok(IndexRange::new(table.clone(), index.clone())),
            Lookup::Unindexed => Err(Error::InvalidRange {
                table: table.clone(),
                reason: "a child scan of several parents needs an index".to_owned(),
            }),
        }
    }

    /// Parent values (in the foreign key's column order) as a prefix of the
    /// index that serves `fk` (in the index's column order).
    pub(crate) fn index_prefix(&self, fk: &FkEdge, values: &[Value]) -> Key {
        match &fk.children {
            Lookup::Index { order, .. } => order.iter().map(|&k| values[k].clone()).collect(),
            Lookup::Unindexed => values.to_vec(),
        }
    }

    /// The position just after child `row` in the scans of [`children`](Self::children).
    pub(crate) fn child_position(&self, fk: &FkEdge, row: &[Value]) -> ScanPosition {
        let index = match &fk.children {
            Lookup::Index { columns, .. } => columns.iter().map(|&c| row[c].clone()).collect(),
            Lookup::Unindexed => Vec::new(),
        };
        ScanPosition {
            index,
            key: self.pk_of(fk.child, row),
        }
    }

    /// Whether any row other than `except` (a primary key of the child
    /// table) references `parent_values` through `fk`; returns its key.
    pub(crate) fn first_child(
        &self,
        tx: &mut dyn Transaction,
        fk: &FkEdge,
        parent_values: &[Value],
        except: Option<&[Value]>,
    ) -> Result<Option<Key>, Error> {
        let found = self.children(tx, fk, parent_values, None, 2)?;
        Ok(found
            .iter()
            .map(|row| self.pk_of(fk.child, row))
            .find(|key| Some(key.as_slice()) != except))
    }

    /// The parent row that `child_values` (in FK column order) reference
    /// through `fk`, if any. `None` too for a key with a NULL column.
    pub(crate) fn parent(
        &self,
        tx: &mut dyn Transaction,
        fk: &FkEdge,
        child_values: &[Value],
    ) -> Result<Option<Row>, Error> {
        if has_null(child_values) {
            return Ok(None);
        }
        let table = &self.meta(fk.parent).name;
        match &fk.parent_lookup {
            Lookup::Index {
                index: IndexRef::PrimaryKey,
                order,
                ..
            } => {
                let key: Key = order.iter().map(|&k| child_values[k].clone()).collect();
                tx.get(table, &key)
            }
            access => match range_for(table, access, child_values) {
                Some(range) => Ok(tx.scan(&range, None, 1)?.pop()),
                None => Ok(None),
            },
        }
    }

    /// Checks a row for table `table`: one value per column, each of the
    /// column's storage class (an integer in a REAL column becomes a real, as
    /// SQLite's REAL affinity does), NULL only in nullable columns.
    pub(crate) fn normalize(&self, table: TableId, mut row: Row) -> Result<Row, Error> {
        let meta = self.meta(table);
        if row.len() != meta.columns.len() {
            return Err(Error::RowShape {
                table: meta.name.clone(),
                expected: meta.columns.len(),
                found: row.len(),
            });
        }
        for (value, column) in row.iter_mut().zip(meta.columns.iter()) {
            normalize_value(meta, column, value)?;
        }
        Ok(row)
    }

    /// Checks the values `set` writes into columns of `table`, as
    /// [`normalize`](Self::normalize) checks a row's (an integer in a REAL
    /// column becomes a real).
    pub(crate) fn normalize_set(
        &self,
        table: TableId,
        set: &mut [(usize, Value)],
    ) -> Result<(), Error> {
        let meta = self.meta(table);
        for (column, value) in set {
            normalize_value(meta, &meta.columns[*column], value)?;
        }
        Ok(())
    }

    /// Checks a primary key given for table `table`: one value per
    /// primary-key column, each of the column's storage class (an integer
    /// fits a REAL column) and none NULL.
    pub(crate) fn check_key(&self, table: TableId, key: &[Value]) -> Result<(), Error> {
        let pk = &self.graph.tables[table].pk;
        let meta = self.meta(table);
        if key.len() != pk.len() {
            return Err(Error::KeyShape {
                table: meta.name.clone(),
                expected: pk.len(),
                found: key.len(),
            });
        }
        for (value, &column) in key.iter().zip(pk) {
            check_value(meta, &meta.columns[column], value)?;
        }
        Ok(())
    }
}

/// Checks one value for `column` of `table` and converts an integer in a
/// REAL column into a real, as SQLite's REAL affinity does.
fn normalize_value(table: &TableMeta, column: &ColumnMeta, value: &mut Value) -> Result<(), Error> {
    check_value(table, column, value)?;
    if let (Value::Integer(integer), ValueType::Real) = (&*value, column.value_type) {
        *value = Value::Real(*integer as f64);
    }
    Ok(())
}

/// Checks one value for `column` of `table`: of the column's storage class
/// (an integer fits a REAL column), NULL only if the column is nullable.
fn check_value(table: &TableMeta, column: &ColumnMeta, value: &Value) -> Result<(), Error> {
    match value.value_type() {
        None if !column.nullable => Err(Error::NotNull {
            table: table.name.clone(),
            column: column.name.clone(),
        }),
        Some(class) if !class_fits(column.value_type, class) => Err(Error::TypeMismatch {
            table: table.name.clone(),
            column: column.name.clone(),
            expected: column.value_type,
            value: value.clone(),
        }),
        _ => Ok(()),
    }
}
