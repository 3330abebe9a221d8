//! `cascadia`: inspect, lint, clean up, generate Rust structs for, and
//! cascade-delete in an existing SQLite database, with cascadia's engine and
//! the database's own foreign keys.
//!
//! Exit codes: 0 done; 1 `inspect` or `orphans` found something (for CI);
//! 2 a usage, input or database error, printed as one line saying what to do.

mod args;
mod delete;
mod generate;
mod graph;
mod inspect;
mod jobs;
mod lint;
mod names;
mod orphans;
mod orphans_command;
mod output;
mod source;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;

use args::{Cli, Command};
use source::Source;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(true) => ExitCode::from(1),
        Ok(false) => ExitCode::SUCCESS,
        Err(error) => {
            let causes: Vec<String> = error.chain().map(ToString::to_string).collect();
            eprintln!("error: {}", causes.join(": "));
            ExitCode::from(2)
        }
    }
}

/// Runs one command; `Ok(true)` when it found something to report with
/// exit code 1.
fn run(command: Command) -> Result<bool> {
    match command {
        Command::Inspect {
            db,
            format,
            samples,
            batch_rows,
        } => inspect::run(&Source::parse(&db)?, format, samples, batch_rows),
        Command::Generate { db, output } => {
            let source = generate::run(&Source::parse(&db)?)?;
            match output {
                Some(path) => std::fs::write(&path, source)
                    .with_context(|| format!("cannot write `{}`", path.display()))?,
                None => print!("{source}"),
            }
            Ok(false)
        }
        Command::Graph { db, format } => {
            let tables = Source::parse(&db)?.introspect()?.tables;
            print!("{}", graph::render(&tables, format));
            Ok(false)
        }
        Command::Orphans {
            db,
            fix,
            dry_run,
            batch_rows,
            format,
        } => orphans_command::run(&Source::parse(&db)?, fix, dry_run, batch_rows, format),
        Command::Delete {
            db,
            table,
            keys,
            dry_run,
            budget_rows,
            enqueue,
            format,
        } => {
            let database = Source::parse(&db)?.database()?;
            let mode = if dry_run {
                delete::Mode::DryRun
            } else if enqueue {
                delete::Mode::Enqueue
            } else {
                delete::Mode::Run
            };
            delete::run(&database, &table, &keys, mode, budget_rows, format)?;
            Ok(false)
        }
        Command::Jobs { db, action, format } => {
            jobs::run(&Source::parse(&db)?.database()?, &action, format)?;
            Ok(false)
        }
        Command::Worker {
            db,
            until_idle,
            poll_ms,
        } => {
            let database = Source::parse(&db)?.database()?;
            jobs::worker(&database, until_idle, Duration::from_millis(poll_ms))?;
            Ok(false)
        }
    }
}
