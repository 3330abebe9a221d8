//! The command line, as clap parses it.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Inspect, lint, clean up, generate Rust structs for, and cascade-delete
/// in an existing database, with cascadia's engine and the database's own
/// foreign keys.
#[derive(Debug, Parser)]
#[command(name = "cascadia", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Output of commands whose output is data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people.
    Text,
    /// One JSON document on stdout.
    Json,
}

/// Output of `cascadia graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// A Mermaid flowchart.
    Mermaid,
    /// Graphviz DOT.
    Dot,
}

/// How `cascadia orphans --fix` cleans up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Fix {
    /// Delete each orphan row, running the actions of the foreign keys that
    /// reference it (a cascade deletes its own children).
    Delete,
    /// Set the orphan's foreign-key columns to NULL.
    SetNull,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Tables, foreign keys with their actions, indexes, and a lint (exit
    /// code 1 when it finds something).
    Inspect {
        /// A SQLite file path or a `sqlite://` URL.
        db: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Orphans' keys shown per foreign key.
        #[arg(long, default_value_t = 5)]
        samples: usize,
        /// Rows read per query while looking for orphans.
        #[arg(long, default_value_t = 10_000)]
        batch_rows: usize,
    },
    /// Rust source with one `#[derive(Table)]` struct per table and a
    /// `schema![...]`.
    Generate {
        /// A SQLite file path or a `sqlite://` URL.
        db: String,
        /// Where to write the source (default: stdout).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// The foreign-key graph.
    Graph {
        /// A SQLite file path or a `sqlite://` URL.
        db: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
        format: GraphFormat,
    },
    /// Orphans per foreign key (exit code 1 when some are found and not
    /// fixed), and their clean-up in bounded batches.
    Orphans {
        /// A SQLite file path or a `sqlite://` URL.
        db: String,
        /// Clean up: delete the orphan rows, or set their foreign key to NULL.
        #[arg(long, value_enum)]
        fix: Option<Fix>,
        /// Say what the fix would do, without doing it.
        #[arg(long)]
        dry_run: bool,
        /// Rows per transaction of the clean-up, and per query of the search.
        #[arg(long, default_value_t = 1_000)]
        batch_rows: usize,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Delete rows by primary key, running the actions of the database's
    /// own foreign keys with cascadia's engine, in bounded batches.
    Delete {
        /// A SQLite file path or a `sqlite://` URL.
        db: String,
        /// The table of the rows.
        table: String,
        /// Primary keys; a composite key's values are joined with commas
        /// (`3,17`).
        #[arg(required = true)]
        keys: Vec<String>,
        /// Print what the delete would do (`explain_delete`), change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Most rows written per transaction.
        #[arg(long)]
        budget_rows: Option<u64>,
        /// Queue the delete as a job for `cascadia worker` (after its check
        /// pass) instead of running it now.
        #[arg(long, conflicts_with = "dry_run")]
        enqueue: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// List, cancel or retry delete jobs.
    Jobs {
        /// A SQLite file path or a `sqlite://` URL.
        db: String,
        /// What to do with the jobs.
        #[command(subcommand)]
        action: JobsAction,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text, global = true)]
        format: Format,
    },
    /// Run delete jobs until stopped (SIGINT or SIGTERM: the current batch
    /// finishes, then the worker exits with code 0).
    Worker {
        /// A SQLite file path or a `sqlite://` URL.
        db: String,
        /// Exit once no job is queued or running.
        #[arg(long)]
        until_idle: bool,
        /// How often to look for jobs, in milliseconds.
        #[arg(long, default_value_t = 1_000)]
        poll_ms: u64,
    },
}

/// What `cascadia jobs` does.
#[derive(Debug, Subcommand)]
pub enum JobsAction {
    /// Every job with its status and progress.
    List,
    /// Cancel a queued or running job (its committed batches stay).
    Cancel {
        /// The job's id.
        id: u64,
    },
    /// Queue a failed or cancelled job again.
    Retry {
        /// The job's id.
        id: u64,
    },
}
