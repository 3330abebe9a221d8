//! `Schema`: the validated set of tables and the foreign-key graph between them.

use crate::metadata::TableMeta;

/// The tables of one database and the foreign keys between them.
///
/// Built by `cascadia::schema![A, B, C]` from derived tables (checked at
/// compile time), or from metadata built at run time.
pub struct Schema {
    tables: Tables,
}

enum Tables {
    Static(&'static [&'static TableMeta]),
    #[expect(dead_code, reason = "`Schema::new` lands with the store layer")]
    Owned(Vec<TableMeta>),
}

impl Schema {
    /// Not public API: the constructor behind `schema![...]`, which has already
    /// checked the tables at compile time.
    #[doc(hidden)]
    pub const fn from_static(tables: &'static [&'static TableMeta]) -> Self {
        Schema {
            tables: Tables::Static(tables),
        }
    }

    /// The tables, in the order they were listed.
    pub fn tables(&self) -> impl Iterator<Item = &TableMeta> {
        let (borrowed, owned): (&[&TableMeta], &[TableMeta]) = match &self.tables {
            Tables::Static(tables) => (tables, &[]),
            Tables::Owned(tables) => (&[], tables),
        };
        borrowed.iter().copied().chain(owned)
    }

    /// The table with SQL name `name`.
    pub fn table(&self, name: &str) -> Option<&TableMeta> {
        self.tables().find(|table| table.name == name)
    }
}
