use super::*;
use crate::engine::execute::changes::Changes;
use crate::engine::execute::delete_sync;
use crate::engine::execute::usage::Usage;
use crate::engine::options::DeleteOptions;
use crate::engine::plan::plan_delete;
use crate::model::budget::Budget;
use crate::model::error::Operation;
use crate::model::metadata::Action;
use crate::model::metadata::{ColumnMeta, ForeignKeyMeta, IndexMeta, IndexRef, TableMeta};
use crate::model::schema::Schema;
use crate::model::value::ValueType;
use crate::store::{Access, MemoryStore, Store};

/// `orgs` ← `teams` (CASCADE) ← `members` (CASCADE, and `buddy` → members
/// CASCADE: a data cycle), `posts` → members (CASCADE) and → teams (SET
/// NULL): a diamond with mixed actions.
fn schema() -> Schema {
    let id = || ColumnMeta::new("id", ValueType::Integer);
    Schema::new(vec![
        TableMeta::new("orgs")
            .with_column(id())
            .with_primary_key(["id"]),
        TableMeta::new("teams")
            .with_column(id())
            .with_column(ColumnMeta::new("org", ValueType::Integer))
            .with_primary_key(["id"])
            .with_index(IndexMeta::new("by_org", ["org"]))
            .with_foreign_key(
                ForeignKeyMeta::new(["org"], "orgs", ["id"])
                    .on_delete(Action::Cascade)
                    .with_index(IndexRef::Index("by_org".into())),
            ),
        TableMeta::new("members")
            .with_column(id())
            .with_column(ColumnMeta::new("team", ValueType::Integer))
            .with_column(ColumnMeta::new("buddy", ValueType::Integer).nullable())
            .with_primary_key(["id"])
            .with_index(IndexMeta::new("by_team", ["team"]))
            .with_index(IndexMeta::new("by_buddy", ["buddy"]))
            .with_foreign_key(
                ForeignKeyMeta::new(["team"], "teams", ["id"])
                    .on_delete(Action::Cascade)
                    .with_index(IndexRef::Index("by_team".into())),
            )
            .with_foreign_key(
                ForeignKeyMeta::new(["buddy"], "members", ["id"])
                    .on_delete(Action::Cascade)
                    .with_index(IndexRef::Index("by_buddy".into())),
            ),
        TableMeta::new("posts")
            .with_column(id())
            .with_column(ColumnMeta::new("author", ValueType::Integer))
            .with_column(ColumnMeta::new("team", ValueType::Integer).nullable())
            .with_primary_key(["id"])
            .with_index(IndexMeta::new("by_author", ["author"]))
            .with_index(IndexMeta::new("by_team", ["team"]))
            .with_foreign_key(
                ForeignKeyMeta::new(["author"], "members", ["id"])
                    .on_delete(Action::Cascade)
                    .with_index(IndexRef::Index("by_author".into())),
            )
            .with_foreign_key(
                ForeignKeyMeta::new(["team"], "teams", ["id"])
                    .on_delete(Action::SetNull)
                    .with_index(IndexRef::Index("by_team".into())),
            ),
    ])
    .unwrap()
}

fn filled() -> MemoryStore {
    let store = MemoryStore::new(schema()).unwrap();
    let mut tx = store.begin(Access::Write).unwrap();
    let int = Value::Integer;
    for org in 1..=2 {
        tx.insert("orgs", &[int(org)]).unwrap();
    }
    for team in 1..=6 {
        tx.insert("teams", &[int(team), int(1 + team % 2)]).unwrap();
    }
    for member in 1..=30 {
        // Members pair up as buddies: 1↔2, 3↔4, ... (a cycle each).
        let buddy = if member % 2 == 1 {
            member + 1
        } else {
            member - 1
        };
        tx.insert("members", &[int(member), int(1 + member % 6), int(buddy)])
            .unwrap();
    }
    for post in 1..=60 {
        let author = 1 + post % 30;
        // Half the posts sit in another team than their author's.
        let team = 1 + (author + post % 2) % 6;
        tx.insert("posts", &[int(post), int(author), int(team)])
            .unwrap();
    }
    tx.commit().unwrap();
    store
}

fn contents(store: &MemoryStore) -> Vec<Vec<Row>> {
    let mut tx = store.begin(Access::Read).unwrap();
    ["orgs", "teams", "members", "posts"]
        .iter()
        .map(|t| {
            tx.scan(
                &crate::model::index_range::IndexRange::new(*t, IndexRef::PrimaryKey),
                None,
                1_000,
            )
            .unwrap()
        })
        .collect()
}

#[test]
fn budgeted_batches_with_a_persisted_stack_match_sync_and_never_commit_an_orphan() {
    let roots = vec![vec![Value::Integer(1)]];
    let reference = filled();
    {
        let schema = reference.schema().clone();
        let ctx = Ctx::new(&schema).unwrap();
        let mut tx = reference.begin(Access::Write).unwrap();
        let table = ctx.graph.table_id("orgs").unwrap();
        delete_sync(ctx, &mut *tx, table, &roots, &DeleteOptions::default()).unwrap();
        tx.commit().unwrap();
    }

    let store = filled();
    let schema = store.schema().clone();
    let ctx = Ctx::new(&schema).unwrap();
    let table = ctx.graph.table_id("orgs").unwrap();
    let plan = {
        let mut tx = store.begin(Access::Read).unwrap();
        plan_delete(ctx, &mut *tx, table, &roots, None).unwrap()
    };
    let mut state =
        serde_json::to_string(&DeleteStack::new("orgs".into(), Roots::Inline(roots), 2)).unwrap();
    let budget = Budget {
        rows_written: Some(3),
        ..Budget::default()
    };
    let mut batches = 0;
    loop {
        batches += 1;
        assert!(batches < 1_000, "the delete makes progress");
        let mut stack: DeleteStack = serde_json::from_str(&state).unwrap();
        let mut tx = store.begin(Access::Write).unwrap();
        let mut changes = Changes::new(
            ctx,
            &plan.closure,
            None,
            (Operation::Delete, "orgs".into(), vec![]),
        );
        let mut usage = Usage::default();
        let mut deleted = vec![0; 4];
        let progress = stack
            .run(&mut Run {
                ctx,
                tx: &mut *tx,
                changes: &mut changes,
                budget: &budget,
                usage: &mut usage,
                deleted: &mut deleted,
                serialized: false,
                window: super::WINDOW,
            })
            .unwrap();
        // What this batch removed is referenced by nothing: no orphan is
        // committed, data cycles included.
        changes.finish(&mut *tx).unwrap();
        state = serde_json::to_string(&stack).unwrap();
        tx.commit().unwrap();
        if progress == Progress::Done {
            break;
        }
    }
    assert!(
        batches > 5,
        "the budget split the delete ({batches} batches)"
    );
    assert_eq!(contents(&store), contents(&reference));
}
