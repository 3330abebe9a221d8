//! Helpers of the CLI's tests: SQLite files made from SQL in a temporary
//! folder, and the built `cascadia` binary run on them.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use rusqlite::Connection;

/// What one run of the binary printed, and its exit code.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cascadia` with `args`.
pub fn cascadia<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let output = Command::new(env!("CARGO_BIN_EXE_cascadia"))
        .args(args)
        .output()
        .expect("the cascadia binary runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A SQLite file named `name` in `dir`, made by running `sql`.
pub fn database(dir: &Path, name: &str, sql: &str) -> PathBuf {
    let path = dir.join(name);
    let conn = Connection::open(&path).expect("a new SQLite file");
    // The bundled SQLite enforces foreign keys by default: these files
    // hold orphans on purpose.
    conn.execute_batch("PRAGMA foreign_keys = OFF;")
        .expect("the pragma runs");
    conn.execute_batch(sql.trim_start_matches('\u{feff}'))
        .expect("the SQL runs");
    path
}

/// The shared data folder (`CASCADIA_DATA`, set by `.cargo/config.toml`).
pub fn data_dir() -> PathBuf {
    PathBuf::from(
        std::env::var("CASCADIA_DATA").expect("CASCADIA_DATA is set (see .cargo/config.toml)"),
    )
}

/// Rows of `table` in the file at `path`.
pub fn count(path: &Path, table: &str) -> i64 {
    let conn = Connection::open(path).expect("the file opens");
    conn.query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |row| {
        row.get(0)
    })
    .expect("the count runs")
}

/// A small team schema with orphans: members 12 and 13 reference missing
/// teams, task 101 belongs to orphan member 12, task 102 to a missing
/// member. Indexes carry cascadia's own names (`<table>__<index>`).
pub const TEAMS: &str = r#"
CREATE TABLE teams (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE members (
    id INTEGER PRIMARY KEY,
    team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    name TEXT
);
CREATE INDEX members__by_team_id ON members(team_id);
CREATE TABLE tasks (
    id INTEGER PRIMARY KEY,
    member_id INTEGER REFERENCES members ON DELETE CASCADE,
    title TEXT NOT NULL DEFAULT 'todo'
);
CREATE INDEX tasks__by_member_id ON tasks(member_id);
INSERT INTO teams VALUES (1, 'core'), (2, 'docs');
INSERT INTO members VALUES (10, 1, 'ada'), (11, 1, 'bob'), (12, 3, 'cy'), (13, 4, 'di'), (14, 2, 'ed');
INSERT INTO tasks VALUES (100, 10, 'a'), (101, 12, 'b'), (102, 99, 'c'), (103, 14, 'd');
"#;
