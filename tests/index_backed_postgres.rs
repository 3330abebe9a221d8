//! Every lookup the PostgreSQL store issues is index-backed.
//!
//! The workload of `index_backed.rs` — generated schemas, rows and
//! operations (batched deletes with tiny budgets, explained, queued and
//! drained by a worker, audited with `check_integrity`; key updates;
//! every row inserted again) and a typed-access workload (prefix and range
//! scans, resumed pages, NULLs in resume positions, unique lookups, key
//! updates, deletes) — runs on PostgreSQL stores, each in a schema of its
//! own. Then every distinct statement each store prepared is planned as a
//! generic plan (`plan_cache_mode = force_generic_plan`, parameters
//! unknown, as a prepared statement runs after its first executions), with
//! `enable_seqscan = off`: `PREPARE` + `EXPLAIN (FORMAT JSON) EXECUTE` with
//! NULL arguments (PostgreSQL 15 has no `EXPLAIN (GENERIC_PLAN)`). A `Seq
//! Scan`, or an index scan with no index condition (a full index scan), of
//! a table fails the test: with sequential scans disabled, the planner
//! only shows one when no index can serve the statement.
//!
//! Allowed: statements the store flags as full scans by design (an index
//! scan with no prefix, parents or range — table dumps, `check_integrity`;
//! lookups through `unindexed` foreign keys; listing the jobs).

mod common;

use std::collections::BTreeSet;

use cascadia::{Database, PostgresOptions};
use common::generate::{build, load_store, seed};
use common::postgres::TestStore;
use common::teams_schema;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value as Json;

/// The first column of index `index` of the client's schema.
fn leading_column(client: &mut postgres::Client, index: &str) -> String {
    client
        .query_one(
            "SELECT a.attname::text FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indexrelid \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
             WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace",
            &[&index],
        )
        .expect("index of the schema")
        .get(0)
}

/// The scan nodes of a JSON plan that read a table without searching it:
/// a sequential scan, or an index scan whose condition does not constrain
/// the index's first column (PostgreSQL then reads the whole index).
fn unsearched(client: &mut postgres::Client, plan: &Json, out: &mut Vec<String>) {
    let kind = plan["Node Type"].as_str().unwrap_or_default();
    let relation = plan["Relation Name"].as_str().unwrap_or_default();
    match kind {
        "Seq Scan" => out.push(format!("Seq Scan on {relation}")),
        "Index Scan" | "Index Only Scan" | "Bitmap Index Scan" => {
            let index = plan["Index Name"].as_str().unwrap_or_default();
            let condition = plan["Index Cond"].as_str().unwrap_or_default();
            let first = leading_column(client, index);
            let searched = [
                format!("({first} "),
                format!("ROW({first},"),
                format!("(\"{first}\" "),
                format!("ROW(\"{first}\","),
            ]
            .iter()
            .any(|operand| condition.contains(operand.as_str()));
            if !searched {
                out.push(format!(
                    "{kind} using {index} without a condition on its first column {first} ({condition})"
                ));
            }
        }
        _ => {}
    }
    for child in plan["Plans"].as_array().into_iter().flatten() {
        unsearched(client, child, out);
    }
}

/// Whether a plan sorts (beyond what the index order gives).
fn sorts(plan: &Json) -> bool {
    plan["Node Type"] == "Sort" || plan["Plans"].as_array().into_iter().flatten().any(sorts)
}

/// The generic plan of `sql` (planner settings are the client's).
fn generic_plan(client: &mut postgres::Client, sql: &str) -> Json {
    let params = client
        .prepare(sql)
        .expect("the store's statement prepares")
        .params()
        .len();
    let nulls = vec!["NULL"; params].join(", ");
    let arguments = if params == 0 {
        String::new()
    } else {
        format!("({nulls})")
    };
    client
        .batch_execute(&format!("DEALLOCATE ALL; PREPARE probe AS {sql}"))
        .expect("prepare");
    // The text protocol: the JSON plan as text.
    let text = client
        .simple_query(&format!("EXPLAIN (FORMAT JSON) EXECUTE probe{arguments}"))
        .expect("explain")
        .into_iter()
        .find_map(|message| match message {
            postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
            _ => None,
        })
        .expect("a plan");
    serde_json::from_str(&text).expect("json plan")
}

/// Checks the statements `store` prepared that `seen` lacks; returns how
/// many it checked and how many of them sort.
fn check(
    store: &TestStore,
    seen: &mut BTreeSet<String>,
    failures: &mut Vec<String>,
) -> (usize, usize) {
    let mut client = store.schema.client();
    client
        .batch_execute("SET enable_seqscan = off; SET plan_cache_mode = force_generic_plan")
        .expect("planner settings");
    let (mut checked, mut sorting) = (0, 0);
    for statement in store.store.prepared_statements() {
        if !seen.insert(statement.sql.clone()) {
            continue;
        }
        checked += 1;
        let plan = generic_plan(&mut client, &statement.sql);
        let plan = &plan[0]["Plan"];
        sorting += usize::from(sorts(plan));
        if statement.full_scan_expected {
            continue;
        }
        let mut bad = Vec::new();
        unsearched(&mut client, plan, &mut bad);
        if !bad.is_empty() {
            failures.push(format!("{}\n    -> {}", statement.sql, bad.join("; ")));
        }
    }
    (checked, sorting)
}

/// What the checks found so far.
#[derive(Default)]
struct Found {
    failures: Vec<String>,
    seen: BTreeSet<String>,
    checked: usize,
    sorting: usize,
}

#[test]
fn index_backed_generated_workload_on_postgres() {
    // proptest wants a `Fn`.
    let found = std::cell::RefCell::new(Found::default());
    let mut runner = TestRunner::new(Config {
        cases: 120,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&seed(), |seed| {
            let Some(case) = build(&seed) else {
                return Ok(());
            };
            let store =
                TestStore::with_options(case.schema.clone(), PostgresOptions::default(), "ib");
            load_store(&store, &case.rows);
            let db = Database::new(store.clone());
            common::workload::generated(&db, &case);
            drop(db);
            let found = &mut *found.borrow_mut();
            let (checked, sorting) = check(&store, &mut found.seen, &mut found.failures);
            found.checked += checked;
            found.sorting += sorting;
            Ok(())
        })
        .expect("workload");
    let Found {
        failures,
        seen,
        checked,
        sorting,
    } = found.into_inner();
    let in_arrays = seen.iter().filter(|sql| sql.contains("= ANY(")).count();
    println!(
        "index_backed (PostgreSQL): {checked} distinct statements planned, {in_arrays} with `= ANY`, {sorting} with a sort"
    );
    assert!(in_arrays > 0, "the set-based statements were exercised");
    assert!(
        failures.is_empty(),
        "statements that scan instead of searching:\n{}",
        failures.join("\n")
    );
}

#[test]
fn index_backed_typed_access_on_postgres() {
    let store = TestStore::with_options(teams_schema(), PostgresOptions::default(), "ibt");
    let db = Database::new(store.clone());
    common::workload::typed(&db);
    let mut failures = Vec::new();
    let (checked, _) = check(&store, &mut BTreeSet::new(), &mut failures);
    // The check sees a scan when there is one: a lookup by a column no
    // index leads with.
    let mut client = store.schema.client();
    client
        .batch_execute("SET enable_seqscan = off; SET plan_cache_mode = force_generic_plan")
        .expect("planner settings");
    let mut bad = Vec::new();
    let plan = generic_plan(&mut client, "SELECT * FROM \"members\" WHERE \"name\" = $1");
    unsearched(&mut client, &plan[0]["Plan"], &mut bad);
    assert!(!bad.is_empty(), "a scan by an unindexed column is flagged");
    println!("index_backed (PostgreSQL): {checked} statements of the typed workload planned");
    assert!(
        failures.is_empty(),
        "statements that scan instead of searching:\n{}",
        failures.join("\n")
    );
}
