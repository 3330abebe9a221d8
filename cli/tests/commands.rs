//! The `cascadia` binary on real temporary SQLite files: the lint and its
//! exit codes, the orphans' clean-up, graph, delete, jobs, worker, JSON
//! output and errors.

mod common;

use common::{TEAMS, cascadia, count, database};

fn path_arg(path: &std::path::Path) -> String {
    path.display().to_string()
}

#[test]
fn inspect_finds_orphans_fix_delete_removes_them_then_inspect_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    let db = path_arg(&database(dir.path(), "teams.db", TEAMS));

    let inspect = cascadia(["inspect", &db]);
    assert_eq!(inspect.code, 1, "{inspect:?}");
    assert!(
        inspect.stdout.contains("members(team_id) → teams(id): 2"),
        "{}",
        inspect.stdout
    );
    assert!(
        inspect.stdout.contains("tasks(member_id) → members(id): 1"),
        "{}",
        inspect.stdout
    );
    assert!(inspect.stdout.contains("[orphans]"), "{}", inspect.stdout);

    let fix = cascadia(["orphans", &db, "--fix", "delete", "--batch-rows", "1"]);
    assert_eq!(fix.code, 0, "{fix:?}");
    assert!(fix.stdout.contains("0 orphan(s) remain"), "{}", fix.stdout);
    // Members 12 and 13 went, and task 101 of member 12 with them (its
    // FK cascades); then task 102, whose member never existed.
    assert_eq!(count(dir.path().join("teams.db").as_path(), "members"), 3);
    assert_eq!(count(dir.path().join("teams.db").as_path(), "tasks"), 2);

    let again = cascadia(["inspect", &db]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(
        again.stdout.contains("lint: nothing found"),
        "{}",
        again.stdout
    );
}

#[test]
fn orphans_dry_run_changes_nothing_and_set_null_clears_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = database(dir.path(), "teams.db", TEAMS);
    let db = path_arg(&file);
    let before = std::fs::read(&file).unwrap();

    let dry = cascadia(["orphans", &db, "--fix", "set-null", "--dry-run"]);
    assert_eq!(dry.code, 1, "{dry:?}");
    assert!(
        dry.stdout.contains("would set the foreign key to NULL"),
        "{}",
        dry.stdout
    );
    assert_eq!(
        std::fs::read(&file).unwrap(),
        before,
        "a dry run wrote to the file"
    );

    // members.team_id is NOT NULL: set-null is refused there, naming it.
    let refused = cascadia(["orphans", &db, "--fix", "set-null"]);
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(
        refused.stderr.contains("members.team_id"),
        "{}",
        refused.stderr
    );
    assert_eq!(refused.stderr.lines().count(), 1, "{}", refused.stderr);
}

#[test]
fn set_null_fix_on_a_nullable_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = database(
        dir.path(),
        "notes.db",
        r#"
        CREATE TABLE "Note Books" (code TEXT PRIMARY KEY);
        CREATE TABLE notes (id INTEGER PRIMARY KEY, book TEXT REFERENCES "Note Books" ON DELETE SET NULL);
        CREATE INDEX notes__by_book ON notes(book);
        INSERT INTO "Note Books" VALUES ('a');
        INSERT INTO notes VALUES (1, 'a'), (2, 'gone'), (3, 'gone'), (4, NULL);
        "#,
    );
    let db = path_arg(&file);
    let fix = cascadia(["orphans", &db, "--fix", "set-null", "--format", "json"]);
    assert_eq!(fix.code, 0, "{fix:?}");
    let json: serde_json::Value = serde_json::from_str(&fix.stdout).unwrap();
    assert_eq!(json["orphans"][0]["count"], 2);
    assert_eq!(json["orphans"][0]["samples"], serde_json::json!([2, 3]));
    assert_eq!(json["fixed"][0]["set_null"], 2);
    assert_eq!(json["remaining"], 0);
    let conn = rusqlite::Connection::open(&file).unwrap();
    let nulls: i64 = conn
        .query_row("SELECT count(*) FROM notes WHERE book IS NULL", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(nulls, 3);

    // A TEXT key of a table whose name has a space: SET NULL by the engine.
    let dry = cascadia(["delete", &db, "Note Books", "a", "--dry-run"]);
    assert_eq!(dry.code, 0, "{dry:?}");
    assert!(
        dry.stdout.contains("notes: 0 deleted, 1 updated"),
        "{}",
        dry.stdout
    );
    let delete = cascadia(["delete", &format!("sqlite://{db}"), "Note Books", "a"]);
    assert_eq!(delete.code, 0, "{delete:?}");
    assert!(
        delete.stdout.contains("notes: 1 updated"),
        "{}",
        delete.stdout
    );
    assert_eq!(count(&file, "Note Books"), 0);
}

#[test]
fn the_lint_names_the_missing_index_and_impossible_actions() {
    let dir = tempfile::tempdir().unwrap();
    let file = database(
        dir.path(),
        "lint.db",
        r#"
        CREATE TABLE parents (id INTEGER PRIMARY KEY);
        CREATE TABLE children (
            id INTEGER PRIMARY KEY,
            other INTEGER,
            parent_id INTEGER NOT NULL REFERENCES parents ON DELETE SET NULL,
            backup_id INTEGER REFERENCES parents ON DELETE SET DEFAULT
        );
        CREATE INDEX children_other_parent ON children(other, parent_id);
        CREATE INDEX children__by_backup ON children(backup_id);
        CREATE TABLE people (id INTEGER PRIMARY KEY, manager INTEGER REFERENCES people);
        CREATE INDEX people__by_manager ON people(manager);
        INSERT INTO people VALUES (1, 2), (2, 1), (3, NULL);
        "#,
    );
    let run = cascadia(["inspect", &path_arg(&file), "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let findings = json["findings"].as_array().unwrap();
    let kinds: Vec<&str> = findings
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "unindexed-foreign-key",
        "index-not-prefix",
        "set-null-on-not-null",
        "set-default-without-default",
        "invalid-schema",
        "data-cycle",
    ] {
        assert!(kinds.contains(&kind), "no {kind} in {kinds:?}");
    }
    let unindexed = findings
        .iter()
        .find(|f| f["kind"] == "unindexed-foreign-key")
        .unwrap();
    assert_eq!(
        unindexed["fix"],
        "CREATE INDEX \"children__by_parent_id\" ON \"children\" (\"parent_id\");"
    );
    assert_eq!(json["table_cycles"], serde_json::json!([["people"]]));
}

#[test]
fn graph_in_mermaid_and_dot() {
    let dir = tempfile::tempdir().unwrap();
    let db = path_arg(&database(dir.path(), "teams.db", TEAMS));
    let mermaid = cascadia(["graph", &db]);
    assert_eq!(mermaid.code, 0, "{mermaid:?}");
    assert!(
        mermaid.stdout.starts_with("flowchart LR\n"),
        "{}",
        mermaid.stdout
    );
    assert!(
        mermaid
            .stdout
            .contains("t0 -->|\"team_id → id<br/>ON DELETE CASCADE<br/>ON UPDATE NO ACTION\"| t2"),
        "{}",
        mermaid.stdout
    );
    let dot = cascadia(["graph", &db, "--format", "dot"]);
    assert_eq!(dot.code, 0, "{dot:?}");
    assert!(
        dot.stdout.contains("\"tasks\" -> \"members\""),
        "{}",
        dot.stdout
    );
}

#[test]
fn delete_dry_run_explains_and_delete_cascades() {
    let dir = tempfile::tempdir().unwrap();
    let file = database(dir.path(), "teams.db", TEAMS);
    let db = path_arg(&file);

    let dry = cascadia(["delete", &db, "teams", "1", "--dry-run"]);
    assert_eq!(dry.code, 0, "{dry:?}");
    assert!(dry.stdout.contains("would succeed"), "{}", dry.stdout);
    assert!(dry.stdout.contains("members: 2 deleted"), "{}", dry.stdout);
    assert!(dry.stdout.contains("tasks: 1 deleted"), "{}", dry.stdout);
    assert_eq!(count(&file, "members"), 5);

    let json = cascadia(["delete", &db, "teams", "1", "--dry-run", "--format", "json"]);
    let explain: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(explain["would_succeed"], true);

    let delete = cascadia(["delete", &db, "teams", "1", "--budget-rows", "1"]);
    assert_eq!(delete.code, 0, "{delete:?}");
    assert!(
        delete.stdout.contains("members: 2 deleted"),
        "{}",
        delete.stdout
    );
    assert_eq!(count(&file, "teams"), 1);
    assert_eq!(count(&file, "members"), 3);
    assert_eq!(count(&file, "tasks"), 3);

    let bad_key = cascadia(["delete", &db, "teams", "one"]);
    assert_eq!(bad_key.code, 2, "{bad_key:?}");
    assert!(
        bad_key.stderr.contains("not an integer"),
        "{}",
        bad_key.stderr
    );
    let bad_table = cascadia(["delete", &db, "team", "1"]);
    assert_eq!(bad_table.code, 2, "{bad_table:?}");
    assert!(
        bad_table.stderr.contains("no table `team`"),
        "{}",
        bad_table.stderr
    );
}

#[test]
fn jobs_list_and_worker() {
    let dir = tempfile::tempdir().unwrap();
    let db = path_arg(&database(dir.path(), "teams.db", TEAMS));
    let list = cascadia(["jobs", &db, "list"]);
    assert_eq!(list.code, 0, "{list:?}");
    assert_eq!(list.stdout, "no delete jobs\n");
    let json = cascadia(["jobs", &db, "list", "--format", "json"]);
    let jobs: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(jobs, serde_json::json!([]));
    let cancel = cascadia(["jobs", &db, "cancel", "7"]);
    assert_eq!(cancel.code, 2, "{cancel:?}");
    let worker = cascadia(["worker", &db, "--until-idle", "--poll-ms", "10"]);
    assert_eq!(worker.code, 0, "{worker:?}");
}

#[test]
fn a_queued_delete_is_listed_cancelled_retried_and_run_by_the_worker() {
    let dir = tempfile::tempdir().unwrap();
    let file = database(dir.path(), "teams.db", TEAMS);
    let db = path_arg(&file);
    let queued = cascadia(["delete", &db, "teams", "1", "--enqueue", "--format", "json"]);
    assert_eq!(queued.code, 0, "{queued:?}");
    let job: serde_json::Value = serde_json::from_str(&queued.stdout).unwrap();
    let id = job["job"].as_u64().unwrap().to_string();
    assert_eq!(
        count(&file, "members"),
        5,
        "a queued delete waits for a worker"
    );

    let list = cascadia(["jobs", &db, "list"]);
    assert!(
        list.stdout
            .contains(&format!("job {id}: queued, 1 root(s) of teams")),
        "{}",
        list.stdout
    );
    let cancel = cascadia(["jobs", &db, "cancel", &id]);
    assert_eq!(cancel.code, 0, "{cancel:?}");
    let listed = cascadia(["jobs", &db, "list", "--format", "json"]);
    let jobs: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(jobs[0]["status"], "cancelled", "{jobs}");
    let retry = cascadia(["jobs", &db, "retry", &id]);
    assert_eq!(retry.code, 0, "{retry:?}");

    let worker = cascadia(["worker", &db, "--until-idle", "--poll-ms", "10"]);
    assert_eq!(worker.code, 0, "{worker:?}");
    assert!(
        worker
            .stdout
            .contains(&format!("job {id} finished: 4 row(s) deleted")),
        "{}",
        worker.stdout
    );
    assert_eq!(count(&file, "members"), 3);
    assert_eq!(count(&file, "tasks"), 3);
}

#[test]
fn the_worker_exits_0_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let db = path_arg(&database(dir.path(), "teams.db", TEAMS));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cascadia"))
        .args(["worker", &db, "--poll-ms", "20"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until it says it runs (its handler is installed by then).
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stderr, &mut line).unwrap();
    assert!(line.contains("worker running"), "{line}");
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert_eq!(status.code(), Some(0));
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the worker did not stop"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn inspect_graph_generate_and_dry_runs_leave_the_file_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let file = database(dir.path(), "teams.db", TEAMS);
    let db = path_arg(&file);
    let before = std::fs::read(&file).unwrap();
    let listing = || {
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        names
    };
    let files = listing();
    assert_eq!(cascadia(["inspect", &db]).code, 1);
    assert_eq!(cascadia(["inspect", &db, "--format", "json"]).code, 1);
    assert_eq!(cascadia(["graph", &db]).code, 0);
    assert_eq!(cascadia(["generate", &db]).code, 0);
    assert_eq!(
        cascadia(["orphans", &db, "--fix", "delete", "--dry-run"]).code,
        1
    );
    assert_eq!(std::fs::read(&file).unwrap(), before);
    assert_eq!(listing(), files, "a read left a file beside the database");
}

#[test]
fn errors_are_one_line_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = path_arg(&dir.path().join("missing.db"));
    for args in [
        vec!["inspect", missing.as_str()],
        vec!["inspect", "postgres://localhost/db"],
        vec!["graph", "mysql://localhost/db"],
    ] {
        let run = cascadia(&args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    }
    assert!(!dir.path().join("missing.db").exists());
    let url = cascadia([
        "inspect",
        &format!(
            "sqlite://{}",
            path_arg(&database(dir.path(), "t.db", TEAMS))
        ),
    ]);
    assert_eq!(url.code, 1, "{url:?}");
}
