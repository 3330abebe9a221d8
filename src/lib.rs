//! cascadia: foreign-key graphs checked by the compiler, and referential
//! actions run in bounded, resumable batches.

#![warn(missing_docs)]

#[doc = include_str!("../docs/table.md")]
pub use cascadia_macros::Table;
pub use cascadia_runtime::*;

/// A [`Schema`] of derived tables, checked at compile time.
///
/// `schema![Team, Member, Project]` lists the tables of one database. During
/// constant evaluation it checks that every foreign key of a listed table
/// references a listed table, and that no two tables share a SQL name (rule
/// C11); a failed check is a compile error naming the tables involved. The
/// value is a `const` expression, so it fits a `static`, a `const`, or a
/// function body.
///
/// ```
/// use cascadia::{Id, Schema, Table, schema};
///
/// #[derive(Table)]
/// #[table(name = "teams")]
/// struct Team {
///     #[primary_key]
///     id: i64,
/// }
///
/// #[derive(Table)]
/// #[table(name = "members")]
/// #[index(columns(team_id))]
/// struct Member {
///     #[primary_key]
///     id: i64,
///     team_id: Id<Team>,
/// }
///
/// static SCHEMA: Schema = schema![Team, Member];
///
/// assert!(SCHEMA.table("members").is_some());
/// ```
///
/// Leaving `Team` out does not compile: `Member`'s foreign key needs it.
///
/// ```compile_fail
/// # use cascadia::{Id, Schema, Table, schema};
/// # #[derive(Table)] #[table(name = "teams")] struct Team { #[primary_key] id: i64 }
/// # #[derive(Table)] #[table(name = "members")] #[index(columns(team_id))]
/// # struct Member { #[primary_key] id: i64, team_id: Id<Team> }
/// static SCHEMA: Schema = schema![Member];
/// ```
#[macro_export]
macro_rules! schema {
    ($($table:ty),* $(,)?) => {{
        const __CASCADIA_TABLES: &[&$crate::TableMeta] = &[$(<$table as $crate::Table>::META),*];
        const _: () = if let ::core::option::Option::Some(error) =
            $crate::__private::check_schema(__CASCADIA_TABLES)
        {
            $crate::__private::concat_panic(&[&error])
        };
        $crate::Schema::from_static(__CASCADIA_TABLES)
    }};
}
