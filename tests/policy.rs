//! Row policies on every store: a tenant may delete its project, but not a
//! project whose cascade reaches another tenant's rows — refused before
//! anything is written, in batched, sync, soft-cascade and scheduled
//! deletes, naming the table, the key, the foreign key, the cascade path and
//! the policy; SET NULL rows and ON UPDATE CASCADE rewrites are asked too;
//! explain reports the refusal; without a policy, nothing changes.

mod common;

use std::time::Duration;

use cascadia::{
    Database, DeleteOptions, Denied, Error, ExplainOptions, Id, PolicyRow, RowChange, Schema,
    Table, UpdateOptions, Value, schema,
};
use serde::{Deserialize, Serialize};

#[derive(Table, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[table(name = "projects")]
pub struct Project {
    #[primary_key]
    pub id: i64,
    pub tenant: i64,
    #[soft_delete]
    pub deleted_at: Option<i64>,
}

#[derive(Table, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[table(name = "tasks")]
#[index(name = "by_project", columns(project_id))]
pub struct Task {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Project, on_delete = cascade, on_update = cascade, index = "by_project")]
    pub project_id: Id<Project>,
    pub tenant: i64,
    #[soft_delete]
    pub deleted_at: Option<i64>,
}

#[derive(Table, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[table(name = "notes")]
#[index(name = "by_task", columns(task_id))]
pub struct Note {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Task, on_delete = set_null, index = "by_task")]
    pub task_id: Option<Id<Task>>,
    pub tenant: i64,
}

/// The acting tenant, passed as the operation's context.
#[derive(Debug, Clone, Copy)]
struct Tenant(i64);

fn tracker() -> Schema {
    static SCHEMA: Schema = schema![Project, Task, Note];
    SCHEMA.clone()
}

/// A row may be changed only by the tenant that owns it.
fn same_tenant(row: &PolicyRow<'_>) -> Result<(), Denied> {
    let Some(Tenant(acting)) = row.context::<Tenant>() else {
        return Err(Denied::new("no acting tenant"));
    };
    match row.value("tenant") {
        Some(Value::Integer(owner)) if owner == acting => Ok(()),
        Some(owner) => Err(Denied::new(format!(
            "it belongs to tenant {owner:?}, not {acting}"
        ))),
        None => Err(Denied::new("no tenant column")),
    }
}

fn guarded(db: Database) -> Database {
    db.with_policy::<Project>("same_tenant", same_tenant)
        .with_policy::<Task>("same_tenant", same_tenant)
        .with_policy::<Note>("same_tenant", same_tenant)
}

fn databases() -> Vec<(&'static str, Database)> {
    vec![
        ("memory", common::memory(tracker())),
        ("sqlite", common::sqlite(tracker())),
        ("postgres", common::postgres(tracker())),
    ]
}

/// Project 1 (tenant 1) with tasks 10, 11 (tenant 1); project 2 (tenant 1)
/// with task 20 (tenant 1) and task 21 (tenant 2); note 210 (tenant 2) on
/// task 21's sibling 20, and note 200 (tenant 1) on task 20.
fn fill(db: &Database) {
    db.write(|tx| {
        for (id, tenant) in [(1, 1), (2, 1)] {
            tx.insert(&Project {
                id,
                tenant,
                deleted_at: None,
            })?;
        }
        for (id, project, tenant) in [(10, 1, 1), (11, 1, 1), (20, 2, 1), (21, 2, 2)] {
            tx.insert(&Task {
                id,
                project_id: Id::new(project),
                tenant,
                deleted_at: None,
            })?;
        }
        for (id, task, tenant) in [(100, 10, 1), (200, 20, 1)] {
            tx.insert(&Note {
                id,
                task_id: Some(Id::new(task)),
                tenant,
            })?;
        }
        Ok::<_, cascadia::Error>(())
    })
    .unwrap();
}

fn expect_denied(error: Error, table: &str, key: i64, change: RowChange, via: &[&str]) -> String {
    let message = error.to_string();
    let Error::PolicyDenied {
        table: denied_table,
        key: denied_key,
        change: denied_change,
        policy,
        via: path,
        ..
    } = error
    else {
        panic!("expected a policy refusal, got {message}");
    };
    assert_eq!(denied_table, table, "{message}");
    assert_eq!(denied_key, vec![Value::Integer(key)], "{message}");
    assert_eq!(denied_change, change, "{message}");
    assert_eq!(policy, "same_tenant", "{message}");
    let path: Vec<String> = path.iter().map(ToString::to_string).collect();
    assert_eq!(path, via, "{message}");
    message
}

#[test]
fn a_tenant_deletes_its_project_and_its_tasks() {
    for (store, db) in databases() {
        let db = guarded(db);
        fill(&db);
        let tenant1 = db.with_context(Tenant(1));
        let outcome = tenant1.delete::<Project>(&1).unwrap();
        assert_eq!(outcome.deleted::<Task>(), 2, "{store}");
        assert_eq!(outcome.updated::<Note>(), 1, "{store}");
        assert_eq!(db.get::<Project>(&1).unwrap(), None, "{store}");
    }
}

#[test]
fn a_cascade_into_another_tenants_rows_is_refused_before_anything_is_written() {
    for (store, db) in databases() {
        let db = guarded(db);
        fill(&db);
        let before = common::dump(&db);
        for options in [
            DeleteOptions::default(),
            DeleteOptions::default().sync(),
            DeleteOptions::default().soft_cascade(),
            DeleteOptions::default().mode(cascadia::DeleteMode::Scheduled(Duration::ZERO)),
        ] {
            let error = db
                .delete_with::<Project>(&[2], &options.clone().context(Tenant(1)))
                .unwrap_err();
            let message = expect_denied(error, "tasks", 21, RowChange::Delete, &["projects 2"]);
            assert_eq!(
                message,
                "cannot delete projects 2 (it cascades to tasks 21): policy `same_tenant` \
                 refuses the delete of tasks 21 (through tasks(project_id) → projects): \
                 it belongs to tenant 2, not 1",
                "{store} {options:?}"
            );
            assert_eq!(common::dump(&db), before, "{store}: nothing written");
        }
        // Inside a caller's transaction, the database's context applies.
        let error = db
            .with_context(Tenant(1))
            .write(|tx| tx.delete::<Project>(&2))
            .unwrap_err();
        expect_denied(error, "tasks", 21, RowChange::Delete, &["projects 2"]);
        assert_eq!(common::dump(&db), before, "{store}: nothing written");
    }
}

#[test]
fn the_root_itself_and_a_missing_context_are_refused() {
    for (store, db) in databases() {
        let db = guarded(db);
        fill(&db);
        let error = db
            .with_context(Tenant(2))
            .delete::<Project>(&1)
            .unwrap_err();
        expect_denied(error, "projects", 1, RowChange::Delete, &[]);
        let error = db.delete::<Project>(&1).unwrap_err();
        let message = expect_denied(error, "projects", 1, RowChange::Delete, &[]);
        assert!(
            message.ends_with(": no acting tenant"),
            "{store}: {message}"
        );
        assert!(db.get::<Project>(&1).unwrap().is_some(), "{store}");
    }
}

#[test]
fn a_set_null_row_of_another_tenant_is_refused_with_the_path_to_its_parent() {
    for (store, db) in databases() {
        let db = guarded(db);
        fill(&db);
        db.write(|tx| {
            tx.insert(&Note {
                id: 300,
                task_id: Some(Id::new(11)),
                tenant: 2,
            })
        })
        .unwrap();
        let before = common::dump(&db);
        let error = db
            .with_context(Tenant(1))
            .delete::<Project>(&1)
            .unwrap_err();
        expect_denied(
            error,
            "notes",
            300,
            RowChange::SetNull,
            &["projects 1", "tasks 11"],
        );
        assert_eq!(common::dump(&db), before, "{store}: nothing written");
    }
}

#[test]
fn an_on_update_cascade_into_another_tenants_rows_is_refused_and_rolled_back() {
    for (store, db) in databases() {
        let db = guarded(db);
        fill(&db);
        let before = common::dump(&db);
        let moved = |id| Project {
            id,
            tenant: 1,
            deleted_at: None,
        };
        let tenant1 = db.with_context(Tenant(1));
        let error = tenant1.update_key::<Project>(&2, &moved(7)).unwrap_err();
        expect_denied(error, "tasks", 21, RowChange::KeyRewrite, &["projects 2"]);
        assert_eq!(common::dump(&db), before, "{store}: rolled back");
        // The options' context wins over the database's.
        let error = tenant1
            .write(|tx| {
                tx.update_row(
                    "projects",
                    &[Value::Integer(1)],
                    vec![Value::Integer(8), Value::Integer(1), Value::Null],
                    &UpdateOptions::default().context(Tenant(2)),
                )
            })
            .unwrap_err();
        expect_denied(error, "projects", 1, RowChange::Update, &[]);
        // Tenant 1's own project moves, with its tasks.
        let outcome = tenant1.update_key::<Project>(&1, &moved(8)).unwrap();
        assert_eq!(outcome.updated::<Task>(), 2, "{store}");
    }
}

#[test]
fn explain_reports_the_refusal() {
    for (store, db) in databases() {
        let db = guarded(db);
        fill(&db);
        let options = ExplainOptions::default().context(Tenant(1));
        let explain = db.explain_delete::<Project>(&[2], &options).unwrap();
        assert!(!explain.would_succeed(), "{store}");
        let denied = explain.denied.expect("a policy refusal");
        assert_eq!(denied.table, "tasks", "{store}");
        assert_eq!(denied.key, vec![Value::Integer(21)], "{store}");
        assert_eq!(denied.policy, "same_tenant", "{store}");
        let explain = db.explain_delete::<Project>(&[1], &options).unwrap();
        assert!(explain.would_succeed(), "{store}: {:?}", explain.denied);
    }
}

#[test]
fn without_a_policy_the_same_delete_goes_through() {
    for (store, db) in databases() {
        fill(&db);
        let outcome = db.delete::<Project>(&2).unwrap();
        assert_eq!(outcome.deleted::<Task>(), 2, "{store}");
        assert_eq!(outcome.updated::<Note>(), 1, "{store}");
    }
}
