//! `Schema`: the validated set of tables and the foreign-key graph between them.

use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use crate::model::budget::Budget;
use crate::model::error::{Error, ForeignKeyName, SchemaProblem};
use crate::model::graph::{Graph, TableId};
use crate::model::metadata::{ForeignKeyMeta, TableMeta};
use crate::model::validate::validate;

/// The tables of one database and the foreign keys between them.
///
/// Built by `cascadia::schema![A, B, C]` from derived tables (checked at
/// compile time), or by [`Schema::new`] from metadata built at run time
/// (checked there, with the same rules). Holds the foreign-key graph with the
/// incoming edges of every table, computed once (lazily for `schema![...]`).
///
/// Cloning is cheap: the tables and the graph are shared.
///
/// Serialises as `{"tables": [...]}` (each table as its [`TableMeta`]); a
/// deserialised schema is validated like [`Schema::new`]. See also
/// [`to_dot`](Schema::to_dot) and [`to_mermaid`](Schema::to_mermaid).
#[derive(Clone, Serialize, Deserialize)]
#[serde(into = "SchemaDef", try_from = "SchemaDef")]
pub struct Schema {
    tables: Tables,
    graph: OnceLock<Result<Arc<Graph>, Arc<[SchemaProblem]>>>,
    budget: Budget,
}

#[derive(Clone)]
enum Tables {
    Static(&'static [&'static TableMeta]),
    Owned(Arc<[TableMeta]>),
}

/// The serialised form of a [`Schema`].
#[derive(Serialize, Deserialize)]
struct SchemaDef {
    tables: Vec<TableMeta>,
}

impl From<Schema> for SchemaDef {
    fn from(schema: Schema) -> Self {
        SchemaDef {
            tables: schema.tables().cloned().collect(),
        }
    }
}

impl TryFrom<SchemaDef> for Schema {
    type Error = Error;

    fn try_from(def: SchemaDef) -> Result<Self, Error> {
        Schema::new(def.tables)
    }
}

impl Schema {
    /// Not public API: the constructor behind `schema![...]`, which has
    /// already checked the tables at compile time. The graph is built (and
    /// the rules checked once more) on first use; a store opened over an
    /// invalid schema fails with [`Error::InvalidSchema`].
    #[doc(hidden)]
    pub const fn from_static(tables: &'static [&'static TableMeta]) -> Self {
        Schema {
            tables: Tables::Static(tables),
            graph: OnceLock::new(),
            budget: Budget::DEFAULT,
        }
    }

    /// A schema from metadata built at run time, validated with the rules the
    /// derive checks at compile time: primary-key, index and foreign-key
    /// columns exist; referenced tables exist; referenced columns are the
    /// target's primary key or one of its unique keys (in any order), as many
    /// as the foreign key's columns and of the same storage class; `set_null`
    /// only on nullable columns; `set_default` only on columns with a
    /// default; the index serving a foreign key has the foreign key's columns
    /// (as a set) first; `unindexed` only with `restrict` / `no_action`; one
    /// foreign key per (columns, target); unique table names; primary-key
    /// columns not nullable; defaults that fit their column.
    ///
    /// # Errors
    /// [`Error::InvalidSchema`] listing every problem, each naming its table
    /// and columns.
    pub fn new(tables: Vec<TableMeta>) -> Result<Schema, Error> {
        let tables: Arc<[TableMeta]> = tables.into();
        let refs: Vec<&TableMeta> = tables.iter().collect();
        let problems = validate(&refs);
        if !problems.is_empty() {
            return Err(Error::InvalidSchema { problems });
        }
        let graph = Graph::build(&refs);
        let schema = Schema {
            tables: Tables::Owned(tables),
            graph: OnceLock::new(),
            budget: Budget::DEFAULT,
        };
        // A fresh `OnceLock` accepts the first value.
        let _ = schema.graph.set(Ok(Arc::new(graph)));
        Ok(schema)
    }

    /// The schema with `budget` as the default [`Budget`] of its batched
    /// deletes (each delete may still override it with
    /// [`DeleteOptions::budget`](crate::DeleteOptions::budget)). A `const fn`,
    /// so it fits a `static`:
    /// `static SCHEMA: Schema = schema![Team, Member].with_budget(Budget::DEFAULT.rows_written(500));`
    ///
    /// The budget is a setting of this process, not part of the schema's
    /// serialised form.
    pub const fn with_budget(mut self, budget: Budget) -> Self {
        self.budget = budget;
        self
    }

    /// The default [`Budget`] of batched deletes ([`Budget::DEFAULT`] unless
    /// set with [`with_budget`](Self::with_budget)).
    pub fn budget(&self) -> Budget {
        self.budget
    }

    /// The tables, in the order they were listed.
    pub fn tables(&self) -> impl DoubleEndedIterator<Item = &TableMeta> {
        let (borrowed, owned): (&[&TableMeta], &[TableMeta]) = match &self.tables {
            Tables::Static(tables) => (tables, &[]),
            Tables::Owned(tables) => (&[], tables),
        };
        borrowed.iter().copied().chain(owned)
    }

    /// The table with SQL name `name`.
    pub fn table(&self, name: &str) -> Option<&TableMeta> {
        match self.graph() {
            Ok(graph) => graph.table_id(name).map(|id| self.meta(id)),
            Err(_) => self.tables().find(|table| table.name == name),
        }
    }

    /// Checks the schema with the rules of [`Schema::new`]; a schema from
    /// `schema![...]` is checked here on first use.
    ///
    /// # Errors
    /// [`Error::InvalidSchema`] listing every problem.
    pub fn validate(&self) -> Result<(), Error> {
        self.graph().map(|_| ())
    }

    /// The foreign keys that reference table `name` (the table's incoming
    /// edges), in schema order. Empty for an unknown table.
    pub fn incoming(&self, name: &str) -> Vec<ForeignKey<'_>> {
        self.foreign_keys()
            .filter(|fk| fk.meta.referenced_table == name)
            .collect()
    }

    /// Every foreign key of the schema, table by table.
    pub fn foreign_keys(&self) -> impl Iterator<Item = ForeignKey<'_>> {
        self.tables().flat_map(|table| {
            table
                .foreign_keys
                .iter()
                .map(move |meta| ForeignKey { table, meta })
        })
    }

    /// The graph, built on first use.
    pub(crate) fn graph(&self) -> Result<&Graph, Error> {
        let built = self.graph.get_or_init(|| {
            let refs: Vec<&TableMeta> = self.tables().collect();
            let problems = validate(&refs);
            if problems.is_empty() {
                Ok(Arc::new(Graph::build(&refs)))
            } else {
                Err(problems.into())
            }
        });
        match built {
            Ok(graph) => Ok(graph),
            Err(problems) => Err(Error::InvalidSchema {
                problems: problems.to_vec(),
            }),
        }
    }

    /// The table at position `id`.
    pub(crate) fn meta(&self, id: TableId) -> &TableMeta {
        match &self.tables {
            Tables::Static(tables) => tables[id],
            Tables::Owned(tables) => &tables[id],
        }
    }

    /// The position of table `name`, or [`Error::UnknownTable`].
    pub(crate) fn resolve(&self, name: &str) -> Result<(&Graph, TableId), Error> {
        let graph = self.graph()?;
        let id = graph.resolve_table(name)?;
        Ok((graph, id))
    }
}

impl fmt::Debug for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schema")
            .field(
                "tables",
                &self.tables().map(|t| &*t.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// A view of one foreign key: the referencing table and the key's metadata.
#[derive(Debug, Clone, Copy)]
pub struct ForeignKey<'a> {
    /// The referencing (child) table.
    pub table: &'a TableMeta,
    /// The foreign key, as declared on the child.
    pub meta: &'a ForeignKeyMeta,
}

impl ForeignKey<'_> {
    /// The name messages use, e.g. `members(team_id) → teams`.
    pub fn name(&self, schema: &Schema) -> ForeignKeyName {
        let references_primary_key =
            schema
                .table(&self.meta.referenced_table)
                .is_some_and(|parent| {
                    let mut pk: Vec<&str> = parent.primary_key.iter().map(|c| &**c).collect();
                    let mut referenced: Vec<&str> =
                        self.meta.referenced_columns.iter().map(|c| &**c).collect();
                    pk.sort_unstable();
                    referenced.sort_unstable();
                    pk == referenced
                });
        ForeignKeyName {
            table: self.table.name.clone(),
            columns: self.meta.columns.to_vec(),
            referenced_table: self.meta.referenced_table.clone(),
            referenced_columns: self.meta.referenced_columns.to_vec(),
            references_primary_key,
            constraint: self.meta.name.clone(),
        }
    }
}
