//! `Schema`: run-time validation (every problem, each naming its table and
//! columns), the incoming-edge graph, and the JSON / DOT / Mermaid exports.

mod common;

use cascadia::metadata::{ColumnMeta, ForeignKeyMeta, IndexMeta};
use cascadia::{Action, Error, IndexRef, Schema, SchemaProblem, TableMeta, Value, ValueType};
use common::teams_schema;

fn problems(tables: Vec<TableMeta>) -> Vec<SchemaProblem> {
    match Schema::new(tables) {
        Err(Error::InvalidSchema { problems }) => problems,
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("the schema should be refused"),
    }
}

fn parent() -> TableMeta {
    TableMeta::new("parent")
        .with_column(ColumnMeta::new("id", ValueType::Integer))
        .with_column(ColumnMeta::new("code", ValueType::Text))
        .with_column(ColumnMeta::new("name", ValueType::Text))
        .with_primary_key(["id"])
        .with_index(IndexMeta::new("by_code", ["code"]).unique())
}

fn child(fk: ForeignKeyMeta) -> TableMeta {
    TableMeta::new("child")
        .with_column(ColumnMeta::new("id", ValueType::Integer))
        .with_column(ColumnMeta::new("parent_id", ValueType::Integer))
        .with_column(ColumnMeta::new("maybe_parent", ValueType::Integer).nullable())
        .with_column(ColumnMeta::new("code", ValueType::Text))
        .with_primary_key(["id"])
        .with_index(IndexMeta::new("by_parent", ["parent_id", "code"]))
        .with_index(IndexMeta::new("by_code", ["code", "parent_id"]))
        .with_foreign_key(fk)
}

/// Asserts one problem mentions `table`, `columns` and `needle`.
fn assert_problem(problems: &[SchemaProblem], table: &str, columns: &[&str], needle: &str) {
    assert!(
        problems.iter().any(|p| p.table == table
            && p.columns.iter().map(|c| &**c).eq(columns.iter().copied())
            && p.message.contains(needle)),
        "no problem on {table}({columns:?}) containing {needle:?} in {problems:#?}"
    );
}

#[test]
fn a_valid_schema_is_accepted() {
    let schema = Schema::new(vec![
        parent(),
        child(
            ForeignKeyMeta::new(["parent_id"], "parent", ["id"])
                .on_delete(Action::Cascade)
                .with_index(IndexRef::Index("by_parent".into())),
        ),
    ])
    .unwrap();
    let incoming = schema.incoming("parent");
    assert_eq!(incoming.len(), 1);
    assert_eq!(
        incoming[0].name(&schema).to_string(),
        "child(parent_id) → parent"
    );
}

#[test]
fn foreign_key_rules_are_checked() {
    let fk = |columns: &[&str], table: &str, referenced: &[&str]| {
        ForeignKeyMeta::new(
            columns.iter().map(|c| c.to_string()),
            table.to_owned(),
            referenced.iter().map(|c| c.to_string()),
        )
        .with_index(IndexRef::Index("by_parent".into()))
    };
    let cases: Vec<(ForeignKeyMeta, &[&str], &str)> = vec![
        (fk(&["nope"], "parent", &["id"]), &["nope"], "do not exist"),
        (
            fk(&["parent_id"], "ghost", &["id"]),
            &["parent_id"],
            "`ghost`, which is not in the schema",
        ),
        (
            fk(&["parent_id"], "parent", &["ghost"]),
            &["parent_id"],
            "`ghost` that `parent` does not have",
        ),
        (
            fk(&["parent_id"], "parent", &["name"]),
            &["parent_id"],
            "not a primary or unique key",
        ),
        (
            fk(&["parent_id"], "parent", &["code"]),
            &["parent_id"],
            "which holds Text",
        ),
        (
            fk(&["parent_id"], "parent", &["id", "code"]),
            &["parent_id"],
            "references 2 column(s)",
        ),
        (
            fk(&["parent_id"], "parent", &["id"]).on_delete(Action::SetNull),
            &["parent_id"],
            "set_null on non-nullable column(s) `parent_id`",
        ),
        (
            fk(&["parent_id"], "parent", &["id"]).on_update(Action::SetDefault),
            &["parent_id"],
            "set_default on column(s) `parent_id` with no default",
        ),
        (
            fk(&["parent_id"], "parent", &["id"]).with_index(IndexRef::Index("by_code".into())),
            &["parent_id"],
            "index `by_code` (code, parent_id) cannot serve",
        ),
        (
            fk(&["parent_id"], "parent", &["id"]).with_index(IndexRef::PrimaryKey),
            &["parent_id"],
            "served by the primary key (id)",
        ),
        (
            fk(&["parent_id"], "parent", &["id"]).with_index(IndexRef::Index("ghost".into())),
            &["parent_id"],
            "names index `ghost`, which does not exist",
        ),
        (
            fk(&["parent_id"], "parent", &["id"])
                .on_delete(Action::Cascade)
                .with_index(IndexRef::Unindexed),
            &["parent_id"],
            "is unindexed but its actions",
        ),
    ];
    for (fk, columns, needle) in cases {
        assert_problem(
            &problems(vec![parent(), child(fk)]),
            "child",
            columns,
            needle,
        );
    }
}

#[test]
fn referenced_unique_keys_match_in_any_order() {
    let parent = TableMeta::new("p")
        .with_column(ColumnMeta::new("a", ValueType::Integer))
        .with_column(ColumnMeta::new("b", ValueType::Text))
        .with_primary_key(["a", "b"]);
    let child = TableMeta::new("c")
        .with_column(ColumnMeta::new("x", ValueType::Text))
        .with_column(ColumnMeta::new("y", ValueType::Integer))
        .with_primary_key(["y", "x"])
        .with_foreign_key(
            ForeignKeyMeta::new(["x", "y"], "p", ["b", "a"]).with_index(IndexRef::PrimaryKey),
        );
    Schema::new(vec![parent, child]).unwrap();
}

#[test]
fn every_problem_is_reported_at_once() {
    let broken = TableMeta::new("broken")
        .with_column(ColumnMeta::new("id", ValueType::Integer).nullable())
        .with_column(ColumnMeta::new("id", ValueType::Integer))
        .with_column(ColumnMeta::new("n", ValueType::Integer).with_default("text"))
        .with_primary_key(["id", "missing"])
        .with_index(IndexMeta::new("i", ["nope"]))
        .with_index(IndexMeta::new("i", ["id"]))
        .with_soft_delete("n")
        .with_foreign_key(ForeignKeyMeta::new(["id"], "ghost", ["id"]))
        .with_foreign_key(ForeignKeyMeta::new(["id"], "ghost", ["id"]));
    let duplicate = TableMeta::new("broken")
        .with_column(ColumnMeta::new("id", ValueType::Integer))
        .with_primary_key(["id"]);
    let found = problems(vec![broken, duplicate]);
    assert_problem(&found, "broken", &[], "two tables share this name");
    assert_problem(&found, "broken", &["id"], "two columns share this name");
    assert_problem(&found, "broken", &["n"], "the default 'text' is Text");
    assert_problem(
        &found,
        "broken",
        &["id", "missing"],
        "`missing` do not exist",
    );
    assert_problem(&found, "broken", &["id"], "cannot be nullable");
    assert_problem(
        &found,
        "broken",
        &["nope"],
        "index `i` lists column(s) `nope`",
    );
    assert_problem(&found, "broken", &["id"], "two indexes are named `i`");
    assert_problem(
        &found,
        "broken",
        &["n"],
        "soft-delete column must be an `Option<i64>`",
    );
    assert_problem(
        &found,
        "broken",
        &["id"],
        "two foreign keys on these columns reference `ghost`",
    );
    assert!(found.len() >= 10, "{found:#?}");
    let message = Error::InvalidSchema { problems: found }.to_string();
    assert!(
        message.starts_with("invalid schema: table `broken`"),
        "{message}"
    );
}

#[test]
fn a_null_default_needs_a_nullable_column() {
    let table = TableMeta::new("t")
        .with_column(ColumnMeta::new("id", ValueType::Integer))
        .with_column(ColumnMeta::new("x", ValueType::Integer).with_default(Value::Null))
        .with_primary_key(["id"]);
    assert_problem(&problems(vec![table]), "t", &["x"], "default is NULL");
}

#[test]
fn json_round_trips() {
    let schema = teams_schema();
    let json = schema.to_json();
    assert!(json.contains("\"on_delete\": \"cascade\""), "{json}");
    let back: Schema = serde_json::from_str(&json).unwrap();
    assert_eq!(
        back.tables().collect::<Vec<_>>(),
        schema.tables().collect::<Vec<_>>()
    );
    // A deserialised schema is validated.
    let broken = json.replace(
        "\"referenced_table\": \"teams\"",
        "\"referenced_table\": \"ghost\"",
    );
    let error = serde_json::from_str::<Schema>(&broken).unwrap_err();
    assert!(error.to_string().contains("ghost"), "{error}");
}

#[test]
fn dot_and_mermaid_show_every_edge_with_its_actions() {
    let schema = teams_schema();
    let dot = schema.to_dot();
    assert!(dot.starts_with("digraph schema {"), "{dot}");
    assert!(
        dot.contains("\"members\" -> \"teams\" [label=\"team_id → id\\nON DELETE CASCADE\\nON UPDATE CASCADE\"];"),
        "{dot}"
    );
    assert!(dot.contains("\"members\" -> \"members\""), "{dot}");
    let mermaid = schema.to_mermaid();
    assert!(mermaid.starts_with("flowchart LR\n"), "{mermaid}");
    assert!(mermaid.contains("t0[\"teams\"]"), "{mermaid}");
    assert!(
        mermaid.contains("t1 -->|\"team_id → id<br/>ON DELETE CASCADE<br/>ON UPDATE CASCADE\"| t0"),
        "{mermaid}"
    );
    assert!(
        mermaid.contains(
            "t2 -->|\"member_id → id<br/>ON DELETE CASCADE<br/>ON UPDATE NO ACTION\"| t1"
        ),
        "{mermaid}"
    );
}

#[test]
fn a_schema_is_cheap_to_clone_and_usable_across_threads() {
    let schema = teams_schema();
    let clone = schema.clone();
    std::thread::spawn(move || assert_eq!(clone.incoming("teams").len(), 1))
        .join()
        .unwrap();
    assert!(schema.table("members").is_some());
    assert!(schema.table("nope").is_none());
}
