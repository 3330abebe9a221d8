// `#[table(crate = path)]`: the derive reaches cascadia through `path`, for a
// crate that renames the dependency or re-exports it. Here `cascadia` is
// only reachable as `renamed` or through the module `reexports`.

mod reexports {
    pub use ::cascadia as db;
}

mod tables {
    use cascadia as renamed;

    use renamed::{Id, Table};

    #[derive(Table)]
    #[table(name = "teams", crate = renamed)]
    pub struct Team {
        #[primary_key]
        pub id: i64,
        #[soft_delete]
        pub deleted_at: Option<i64>,
    }

    #[derive(Table)]
    #[table(crate = crate::reexports::db)]
    #[index(columns(team_id))]
    pub struct Member {
        #[primary_key]
        pub id: i64,
        #[foreign_key(references = Team, on_delete = cascade)]
        pub team_id: Id<Team>,
        #[column(default = "member")]
        pub role: String,
    }
}

// No `cascadia` path below: only the renamed ones.
extern crate cascadia as _;

fn main() {
    use reexports::db::{IndexRange, Table};

    let schema = reexports::db::schema![tables::Team, tables::Member];
    assert_eq!(schema.tables().count(), 2);
    assert_eq!(tables::Member::META.foreign_keys[0].referenced_table, "teams");
    let _: IndexRange = tables::Member::indexes()
        .by_team_id()
        .team_id()
        .eq(reexports::db::Id::new(1))
        .into();
}
