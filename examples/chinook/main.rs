//! cascadia on real data: the Chinook sample database.
//!
//! ```sh
//! cargo run --example chinook                      # finds $CASCADIA_DATA/chinook/
//! cargo run --example chinook -- path/to/Chinook_Sqlite_fk_actions.sql
//! cargo run --example chinook -- --graph mermaid   # or `dot`: the FK graph
//! ```
//!
//! The source (a Chinook SQL script or SQLite database whose foreign keys
//! carry the actions of `Chinook_Sqlite_fk_actions.sql`) is loaded twice:
//! once as it is, so that SQLite runs its own `ON DELETE` / `ON UPDATE`
//! actions (the oracle), and once into a database that cascadia creates from
//! the `#[derive(Table)]` structs of `schema.rs`, with every foreign key
//! declared without actions (SQLite enforces them at each commit; cascadia
//! runs the actions). Each operation then runs on both, from the original
//! data, and the example prints the rows deleted and updated per table by
//! each, and whether the two databases are identical afterwards.
//!
//! Exit status: 0 when every operation agrees, 1 when one does not, 2 when
//! the source cannot be found or read.

mod schema;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cascadia::{
    Database, DeleteOptions, Error, Outcome, Row, SqliteOptions, SqliteStore, Table, Tx, Value,
    from_row,
};
use rusqlite::Connection;
use serde::Serialize;
use serde::de::DeserializeOwned;

use schema::{
    Album, Artist, CHINOOK, Customer, Employee, Genre, Invoice, InvoiceLine, MediaType, Playlist,
    PlaylistTrack, Track,
};

/// One operation, as cascadia runs it and as SQL (for the native copy).
enum Operation {
    Delete { table: &'static str, key: i64 },
    UpdateArtistKey { from: i64, to: i64 },
}

const OPERATIONS: [Operation; 6] = [
    Operation::Delete {
        table: "Artist",
        key: 275,
    },
    Operation::Delete {
        table: "Genre",
        key: 1,
    },
    Operation::Delete {
        table: "Employee",
        key: 2,
    },
    Operation::Delete {
        table: "Playlist",
        key: 1,
    },
    Operation::Delete {
        table: "Artist",
        key: 1,
    },
    Operation::UpdateArtistKey { from: 1, to: 1000 },
];

impl Operation {
    fn sql(&self) -> String {
        match self {
            Operation::Delete { table, key } => {
                let column = CHINOOK
                    .table(table)
                    .map(|meta| meta.primary_key[0].to_string())
                    .unwrap_or_default();
                format!("DELETE FROM {table} WHERE {column} = {key}")
            }
            Operation::UpdateArtistKey { from, to } => {
                format!("UPDATE Artist SET ArtistId = {to} WHERE ArtistId = {from}")
            }
        }
    }

    /// Runs the operation through cascadia: deletes in batched mode (one
    /// transaction per 1,000 rows written), the key update in one
    /// transaction. Also returns the number of transactions committed.
    fn run_cascadia(&self, db: &Database) -> (Result<Outcome, Error>, u64) {
        match *self {
            Operation::Delete { table, key } => {
                let batches = Arc::new(AtomicU64::new(0));
                let seen = batches.clone();
                let options = DeleteOptions::default()
                    .observer(move |progress| seen.store(progress.batches, Ordering::Relaxed));
                let result = db.delete_rows(table, &[vec![Value::Integer(key)]], &options);
                (result, batches.load(Ordering::Relaxed))
            }
            Operation::UpdateArtistKey { .. } => (self.update_artist_key(db), 1),
        }
    }

    fn update_artist_key(&self, db: &Database) -> Result<Outcome, Error> {
        match *self {
            Operation::Delete { .. } => Ok(Outcome::default()),
            Operation::UpdateArtistKey { from, to } => {
                let Some(artist) = db.get::<Artist>(&from)? else {
                    return Ok(Outcome::default());
                };
                db.update_key::<Artist>(
                    &from,
                    &Artist {
                        artist_id: to,
                        ..artist
                    },
                )
            }
        }
    }
}

/// Rows deleted and updated, per table.
type Counts = BTreeMap<String, (u64, u64)>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().position(|arg| arg == "--graph") {
        Some(at) => match args.get(at + 1).map(String::as_str) {
            Some("mermaid") => {
                print!("{}", CHINOOK.to_mermaid());
                ExitCode::SUCCESS
            }
            Some("dot") => {
                print!("{}", CHINOOK.to_dot());
                ExitCode::SUCCESS
            }
            _ => {
                eprintln!("--graph takes `mermaid` or `dot`");
                ExitCode::from(2)
            }
        },
        None => match run(args.first().map(PathBuf::from)) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::from(2)
            }
        },
    }
}

/// The source: the argument, or `$CASCADIA_DATA/chinook/Chinook_Sqlite_fk_actions.sql`.
fn find_source(argument: Option<PathBuf>) -> Result<PathBuf, String> {
    if let Some(path) = argument {
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("{} is not a file", path.display()))
        };
    }
    let data = std::env::var_os("CASCADIA_DATA").ok_or(
        "no Chinook source given and CASCADIA_DATA is not set: pass the path of \
         Chinook_Sqlite_fk_actions.sql (or of a Chinook SQLite database with those actions), \
         or set CASCADIA_DATA to the folder holding chinook/",
    )?;
    let path = Path::new(&data)
        .join("chinook")
        .join("Chinook_Sqlite_fk_actions.sql");
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} does not exist: set CASCADIA_DATA to the folder holding chinook/, or pass the file",
            path.display()
        ))
    }
}

fn run(argument: Option<PathBuf>) -> Result<bool, String> {
    let source = find_source(argument)?;
    let work = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("chinook");
    std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    let pristine_native = work.join("native-original.sqlite");
    let pristine_cascadia = work.join("cascadia-original.sqlite");

    let rows = load_native(&source, &pristine_native)?;
    check_declared_actions(&pristine_native)?;
    load_cascadia(&pristine_native, &pristine_cascadia)?;
    println!(
        "Chinook: {rows} rows in {} tables, from {}",
        CHINOOK.tables().count(),
        source.display()
    );
    println!(
        "  SQLite copy:   the source as it is; SQLite runs its own ON DELETE / ON UPDATE actions"
    );
    println!("  cascadia copy: tables created by cascadia, foreign keys declared without actions");
    println!("Each operation starts from the original data.");

    let mut all_agree = true;
    for operation in &OPERATIONS {
        let native_path = work.join("native.sqlite");
        let cascadia_path = work.join("cascadia.sqlite");
        copy_database(&pristine_native, &native_path)?;
        copy_database(&pristine_cascadia, &cascadia_path)?;
        all_agree &= compare(operation, &native_path, &cascadia_path).map_err(|e| e.to_string())?;
    }
    println!();
    if all_agree {
        println!("all operations: cascadia and SQLite agree, databases identical");
    } else {
        println!("some operations disagree: see above");
    }
    Ok(all_agree)
}

/// Loads the source into a new database file at `target`; returns its row count.
fn load_native(source: &Path, target: &Path) -> Result<i64, String> {
    remove_database(target)?;
    let is_script = source
        .extension()
        .is_some_and(|extension| extension == "sql");
    if is_script {
        let script = std::fs::read_to_string(source)
            .map_err(|e| format!("cannot read {}: {e}", source.display()))?;
        let conn = Connection::open(target).map_err(|e| e.to_string())?;
        conn.execute_batch("PRAGMA foreign_keys = ON; BEGIN;")
            .and_then(|()| conn.execute_batch(script.trim_start_matches('\u{feff}')))
            .and_then(|()| conn.execute_batch("COMMIT;"))
            .map_err(|e| {
                format!(
                    "{} is not a Chinook script SQLite can run: {e}",
                    source.display()
                )
            })?;
    } else {
        let conn = Connection::open(source)
            .map_err(|e| format!("cannot open {}: {e}", source.display()))?;
        conn.execute("VACUUM INTO ?1", [target.to_string_lossy()])
            .map_err(|e| format!("cannot copy {}: {e}", source.display()))?;
    }
    let conn = Connection::open(target).map_err(|e| e.to_string())?;
    let mut rows = 0;
    for table in CHINOOK.tables() {
        rows += conn
            .query_row(
                &format!("SELECT count(*) FROM \"{}\"", table.name),
                [],
                |row| row.get::<_, i64>(0),
            )
            .map_err(|e| {
                format!(
                    "{} has no Chinook table {}: {e}",
                    source.display(),
                    table.name
                )
            })?;
    }
    Ok(rows)
}

/// The oracle is only an oracle if SQLite runs the actions the structs
/// declare: compare the source's declared actions with the schema's.
fn check_declared_actions(native: &Path) -> Result<(), String> {
    let conn = Connection::open(native).map_err(|e| e.to_string())?;
    for table in CHINOOK.tables() {
        let mut statement = conn
            .prepare(&format!("PRAGMA foreign_key_list(\"{}\")", table.name))
            .map_err(|e| e.to_string())?;
        let declared: Vec<(String, String, String, String)> = statement
            .query_map([], |row| {
                Ok((row.get(2)?, row.get(3)?, row.get(5)?, row.get(6)?))
            })
            .and_then(Iterator::collect)
            .map_err(|e| e.to_string())?;
        for fk in table.foreign_keys.iter() {
            let column = &fk.columns[0];
            let matches = declared.iter().any(|(parent, from, on_update, on_delete)| {
                parent == &fk.referenced_table
                    && from == column
                    && on_update == fk.on_update.sql()
                    && on_delete == fk.on_delete.sql()
            });
            if !matches {
                return Err(format!(
                    "the source does not declare {}({column}) → {} with ON DELETE {} ON UPDATE {}, \
                     so SQLite would not run the actions cascadia runs; use Chinook_Sqlite_fk_actions.sql",
                    table.name, fk.referenced_table, fk.on_delete, fk.on_update
                ));
            }
        }
    }
    Ok(())
}

/// Creates the cascadia copy and fills it from the native copy, through
/// cascadia's typed inserts (each row's foreign keys checked).
fn load_cascadia(native: &Path, target: &Path) -> Result<(), String> {
    remove_database(target)?;
    let store = SqliteStore::open(
        target,
        CHINOOK.clone(),
        SqliteOptions::default().create_tables(true),
    )
    .map_err(|e| e.to_string())?;
    let db = Database::new(store);
    let source = Connection::open(native).map_err(|e| e.to_string())?;
    db.write(|tx| {
        copy_table::<Artist>(&source, tx)?;
        copy_table::<Album>(&source, tx)?;
        copy_table::<Genre>(&source, tx)?;
        copy_table::<MediaType>(&source, tx)?;
        copy_table::<Track>(&source, tx)?;
        copy_table::<Playlist>(&source, tx)?;
        copy_table::<PlaylistTrack>(&source, tx)?;
        copy_table::<Employee>(&source, tx)?;
        copy_table::<Customer>(&source, tx)?;
        copy_table::<Invoice>(&source, tx)?;
        copy_table::<InvoiceLine>(&source, tx)
    })
    .map_err(|e| format!("cannot copy the Chinook rows into cascadia's database: {e}"))
}

fn copy_table<T: Table + Serialize + DeserializeOwned>(
    source: &Connection,
    tx: &mut Tx<'_>,
) -> Result<(), Error> {
    for row in select_rows(source, T::META.name.as_ref())? {
        tx.insert(&from_row::<T>(T::META, row)?)?;
    }
    Ok(())
}

/// Every row of `table`, with the schema's columns in the schema's order,
/// sorted by primary key.
fn select_rows(conn: &Connection, table: &str) -> Result<Vec<Row>, Error> {
    let meta = CHINOOK.table(table).ok_or_else(|| Error::UnknownTable {
        table: table.to_owned(),
    })?;
    let columns: Vec<String> = meta
        .columns
        .iter()
        .map(|c| format!("\"{}\"", c.name))
        .collect();
    let order: Vec<String> = meta
        .primary_key
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect();
    let mut statement = conn.prepare(&format!(
        "SELECT {} FROM \"{table}\" ORDER BY {}",
        columns.join(", "),
        order.join(", ")
    ))?;
    let rows = statement
        .query_map([], |row| {
            (0..columns.len()).map(|i| row.get::<_, Value>(i)).collect()
        })?
        .collect::<Result<Vec<Row>, _>>()?;
    Ok(rows)
}

/// Runs `operation` on both copies, prints what each did, and whether the
/// copies are identical afterwards.
fn compare(operation: &Operation, native_path: &Path, cascadia_path: &Path) -> Result<bool, Error> {
    println!();
    println!("== {}", operation.sql());

    let native = Connection::open(native_path)?;
    native.execute_batch("PRAGMA foreign_keys = ON")?;
    install_change_log(&native)?;
    let native_result = native.execute_batch(&operation.sql());
    let native_counts = read_change_log(&native)?;

    let store = SqliteStore::open(cascadia_path, CHINOOK.clone(), SqliteOptions::default())?;
    let db = Database::new(store);
    let (cascadia_result, transactions) = operation.run_cascadia(&db);

    let agree_on_outcome = match (&cascadia_result, &native_result) {
        (Ok(outcome), Ok(())) => {
            print_counts(outcome, &native_counts);
            // The root row itself: deleted, or its key updated.
            let root = 1;
            let cascadia_rows = outcome.rows_written() - root;
            let native_rows: u64 = native_counts.values().map(|(d, u)| d + u).sum::<u64>() - root;
            println!(
                "  rows changed besides the root: cascadia {cascadia_rows}, SQLite {native_rows}"
            );
            println!("  cascadia committed {transactions} transaction(s)");
            cascadia_rows == native_rows
        }
        (Err(cascadia), Err(native)) => {
            println!("  refused by cascadia: {cascadia}");
            println!("  refused by SQLite:   {native}");
            true
        }
        (cascadia, native) => {
            println!("  cascadia: {cascadia:?}");
            println!("  SQLite:   {native:?}");
            false
        }
    };
    let identical = CHINOOK.tables().try_fold(true, |same, table| {
        Ok::<_, Error>(same && select_rows(&native, &table.name)? == db.rows(&table.name)?)
    })?;
    let integrity =
        native.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |row| {
            row.get::<_, i64>(0)
        })?;
    println!(
        "  databases identical: {}",
        if identical { "yes" } else { "NO" }
    );
    Ok(agree_on_outcome && identical && integrity == 0)
}

/// TEMP triggers that log every row the native copy deletes or updates,
/// including the rows SQLite's actions change.
fn install_change_log(conn: &Connection) -> Result<(), Error> {
    conn.execute_batch("CREATE TEMP TABLE change_log(table_name TEXT, change TEXT)")?;
    for table in CHINOOK.tables() {
        let name = &table.name;
        conn.execute_batch(&format!(
            "CREATE TEMP TRIGGER \"log_delete_{name}\" AFTER DELETE ON main.\"{name}\" \
               BEGIN INSERT INTO change_log VALUES ('{name}', 'deleted'); END;
             CREATE TEMP TRIGGER \"log_update_{name}\" AFTER UPDATE ON main.\"{name}\" \
               BEGIN INSERT INTO change_log VALUES ('{name}', 'updated'); END;"
        ))?;
    }
    Ok(())
}

fn read_change_log(conn: &Connection) -> Result<Counts, Error> {
    let mut counts = Counts::new();
    let mut statement =
        conn.prepare("SELECT table_name, change, count(*) FROM change_log GROUP BY 1, 2")?;
    let rows = statement.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, i64>(2)?,
        ))
    })?;
    for row in rows {
        let (table, change, count) = row?;
        let entry = counts.entry(table).or_default();
        if change == "deleted" {
            entry.0 = count.unsigned_abs();
        } else {
            entry.1 = count.unsigned_abs();
        }
    }
    Ok(counts)
}

fn print_counts(outcome: &Outcome, native: &Counts) {
    let header = ("table", "cascadia del / upd", "SQLite del / upd");
    println!("  {:<14} {:>20} {:>20}", header.0, header.1, header.2);
    for table in CHINOOK.tables() {
        let name = table.name.as_ref();
        let ours = (outcome.rows_deleted(name), outcome.rows_updated(name));
        let theirs = native.get(name).copied().unwrap_or_default();
        if ours != (0, 0) || theirs != (0, 0) {
            let ours = format!("{} / {}", ours.0, ours.1);
            let theirs = format!("{} / {}", theirs.0, theirs.1);
            println!("  {name:<14} {ours:>20} {theirs:>20}");
        }
    }
}

fn remove_database(path: &Path) -> Result<(), String> {
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(format!(
                    "cannot remove {}: {error}",
                    Path::new(&file).display()
                ));
            }
        }
    }
    Ok(())
}

/// Copies a closed database file (its WAL was checkpointed at close).
fn copy_database(from: &Path, to: &Path) -> Result<(), String> {
    remove_database(to)?;
    std::fs::copy(from, to)
        .map(drop)
        .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}
