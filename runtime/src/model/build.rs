//! Builders for metadata made at run time (tools reading a catalogue, tests,
//! generated schemas): `TableMeta::new("teams").with_column(...)`. The derive
//! emits the same types as `const` data.

use std::borrow::Cow;

use crate::model::metadata::{
    Action, ColumnDefault, ColumnMeta, Deletion, ForeignKeyMeta, IndexMeta, IndexRef, Name,
    TableMeta,
};
use crate::model::value::{Value, ValueType};

fn names<I, S>(columns: I) -> Cow<'static, [Name]>
where
    I: IntoIterator<Item = S>,
    S: Into<Name>,
{
    Cow::Owned(columns.into_iter().map(Into::into).collect())
}

impl TableMeta {
    /// An empty table named `name` (also its `type_name`), to be filled with
    /// the `with_*` methods. [`Schema::new`](crate::Schema::new) validates it.
    pub fn new(name: impl Into<Name>) -> Self {
        let name = name.into();
        TableMeta {
            type_name: name.clone(),
            name,
            columns: Cow::Owned(Vec::new()),
            primary_key: Cow::Owned(Vec::new()),
            indexes: Cow::Owned(Vec::new()),
            foreign_keys: Cow::Owned(Vec::new()),
            soft_delete: None,
            deletion: Deletion::Hard,
        }
    }

    /// Adds a column (rows hold values in column order).
    pub fn with_column(mut self, column: ColumnMeta) -> Self {
        self.columns.to_mut().push(column);
        self
    }

    /// Sets the primary key's columns, in key order.
    pub fn with_primary_key<I, S>(mut self, columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<Name>,
    {
        self.primary_key = names(columns);
        self
    }

    /// Adds a secondary index (unique or not).
    pub fn with_index(mut self, index: IndexMeta) -> Self {
        self.indexes.to_mut().push(index);
        self
    }

    /// Adds an outgoing foreign key.
    pub fn with_foreign_key(mut self, foreign_key: ForeignKeyMeta) -> Self {
        self.foreign_keys.to_mut().push(foreign_key);
        self
    }

    /// Sets how a delete that names no mode removes the table's rows
    /// (`#[table(deletion = ...)]`).
    pub fn with_deletion(mut self, deletion: Deletion) -> Self {
        self.deletion = deletion;
        self
    }

    /// Sets the soft-delete column (a nullable INTEGER column).
    pub fn with_soft_delete(mut self, column: impl Into<Name>) -> Self {
        self.soft_delete = Some(column.into());
        self
    }
}

impl ColumnMeta {
    /// A non-nullable column of class `value_type` with no default; its
    /// field name is its SQL name.
    pub fn new(name: impl Into<Name>, value_type: ValueType) -> Self {
        let name = name.into();
        let rust_type = match value_type {
            ValueType::Integer => "i64",
            ValueType::Real => "f64",
            ValueType::Text => "String",
            ValueType::Blob => "Vec<u8>",
        };
        ColumnMeta {
            field: name.clone(),
            name,
            rust_type: Cow::Borrowed(rust_type),
            value_type,
            nullable: false,
            default: None,
        }
    }

    /// Makes the column nullable (an `Option<_>` field).
    pub fn nullable(mut self) -> Self {
        if !self.nullable {
            self.rust_type = Cow::Owned(format!("Option<{}>", self.rust_type));
        }
        self.nullable = true;
        self
    }

    /// Gives the column a constant default.
    pub fn with_default(mut self, value: impl Into<Value>) -> Self {
        self.default = Some(ColumnDefault::Value(value.into()));
        self
    }

    /// Gives the column a default computed on each use.
    pub fn with_computed_default(mut self, compute: fn() -> Value) -> Self {
        self.default = Some(ColumnDefault::Computed(compute));
        self
    }
}

impl IndexMeta {
    /// A non-unique index over `columns`, in index order.
    pub fn new<I, S>(name: impl Into<Name>, columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<Name>,
    {
        IndexMeta {
            name: name.into(),
            columns: names(columns),
            unique: false,
            sql_name: None,
        }
    }

    /// Makes the index a unique key.
    pub fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    /// Sets the index's name in the database ([`IndexMeta::sql_name`]).
    pub fn with_sql_name(mut self, sql_name: impl Into<Name>) -> Self {
        self.sql_name = Some(sql_name.into());
        self
    }
}

impl ForeignKeyMeta {
    /// A foreign key from `columns` to `referenced_columns` of
    /// `referenced_table`, with `NO ACTION` on delete and update, served by
    /// no index until [`with_index`](Self::with_index) names one.
    pub fn new<I, S, J, T>(
        columns: I,
        referenced_table: impl Into<Name>,
        referenced_columns: J,
    ) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<Name>,
        J: IntoIterator<Item = T>,
        T: Into<Name>,
    {
        ForeignKeyMeta {
            columns: names(columns),
            referenced_table: referenced_table.into(),
            referenced_columns: names(referenced_columns),
            on_delete: Action::NoAction,
            on_update: Action::NoAction,
            index: IndexRef::Unindexed,
            name: None,
            native: false,
        }
    }

    /// Sets the action on delete of a referenced row.
    pub fn on_delete(mut self, action: Action) -> Self {
        self.on_delete = action;
        self
    }

    /// Sets the action on change of a referenced key.
    pub fn on_update(mut self, action: Action) -> Self {
        self.on_update = action;
        self
    }

    /// Sets the access path that finds referencing rows.
    pub fn with_index(mut self, index: IndexRef) -> Self {
        self.index = index;
        self
    }

    /// Names the constraint ([`ForeignKeyMeta::name`]).
    pub fn named(mut self, name: impl Into<Name>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Lets the database run the key's actions ([`ForeignKeyMeta::native`]).
    pub fn native(mut self) -> Self {
        self.native = true;
        self
    }
}
