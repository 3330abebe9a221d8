//! cascadia in one command: `cargo run --example quickstart`.
//!
//! A small schema — teams → members → posts, a member's mentor (SET NULL) and
//! a team's invoices (RESTRICT) — in an embedded SQLite file under
//! `target/`. It fills the tables, shows a delete that RESTRICT refuses, then
//! deletes a team with all its members and their posts in batches of 1,000
//! rows (one transaction each) with a progress bar drawn from the progress
//! observer, and prints the tables before and after and an integrity check.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use cascadia::{
    Database, DeleteOptions, ExplainOptions, Id, IntegrityOptions, Schema, SqliteOptions,
    SqliteStore, Table, schema,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

#[derive(Table, Serialize, Deserialize)]
#[table(name = "teams")]
struct Team {
    #[primary_key]
    id: i64,
    #[unique]
    name: String,
}

#[derive(Table, Serialize, Deserialize)]
#[table(name = "members")]
#[index(columns(team_id))]
#[index(columns(mentor_id))]
struct Member {
    #[primary_key]
    id: i64,
    #[foreign_key(references = Team, on_delete = cascade)]
    team_id: Id<Team>,
    /// A mentor may be in another team; when the mentor goes, the member stays.
    #[foreign_key(references = Member, on_delete = set_null)]
    mentor_id: Option<Id<Member>>,
    name: String,
}

#[derive(Table, Serialize, Deserialize)]
#[table(name = "posts")]
#[index(columns(author_id))]
struct Post {
    #[primary_key]
    id: i64,
    #[foreign_key(references = Member, on_delete = cascade)]
    author_id: Id<Member>,
    body: String,
}

#[derive(Table, Serialize, Deserialize)]
#[table(name = "invoices")]
#[index(columns(team_id))]
struct Invoice {
    #[primary_key]
    id: i64,
    /// A team that was invoiced cannot be deleted.
    #[foreign_key(references = Team, on_delete = restrict)]
    team_id: Id<Team>,
    amount_cents: i64,
}

static SCHEMA: Schema = schema![Team, Member, Post, Invoice];

/// Members per team, and posts per member of team 1.
const MEMBERS_PER_TEAM: i64 = 2_000;
const POSTS_PER_MEMBER: i64 = 10;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("quickstart.sqlite");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let store = SqliteStore::open(
        &path,
        SCHEMA.clone(),
        SqliteOptions::default().create_tables(true),
    )?;
    let db = Database::new(store);
    println!("cascadia quickstart: {}", path.display());
    for fk in SCHEMA.foreign_keys() {
        println!("  {} ON DELETE {}", fk.name(&SCHEMA), fk.meta.on_delete);
    }

    let started = Instant::now();
    fill(&db)?;
    println!("filled in {:.1?}", started.elapsed());
    let before = counts(&db)?;

    println!("\ndelete team 2, which has an invoice:");
    match db.delete::<Team>(&2) {
        Err(error) => println!("  refused: {error}"),
        Ok(_) => println!("  deleted?! RESTRICT should have refused"),
    }

    println!("\ndelete team 1 with its members and their posts, in batches:");
    let plan = db.explain_delete::<Team>(&[1], &ExplainOptions::default())?;
    println!(
        "  explain: {} rows to delete, {} to update, refused by nothing: {}",
        plan.rows_deleted(),
        plan.rows_updated(),
        plan.would_succeed()
    );
    let bar = ProgressBar::new(plan.rows_deleted() + plan.rows_updated()).with_style(
        ProgressStyle::with_template("  [{bar:40}] {pos}/{len} rows, {msg}")?.progress_chars("=> "),
    );
    let position = bar.clone();
    let batches = Arc::new(AtomicU64::new(0));
    let largest_batch = Arc::new(AtomicU64::new(0));
    let (batches_seen, largest_seen) = (batches.clone(), largest_batch.clone());
    let started = Instant::now();
    let outcome = db.delete_with::<Team>(
        &[1],
        &DeleteOptions::default().observer(move |progress| {
            position.set_position(progress.rows_written());
            position.set_message(format!("{} transactions", progress.batches));
            batches_seen.store(progress.batches, Ordering::Relaxed);
            largest_seen.fetch_max(progress.batch_rows_written, Ordering::Relaxed);
        }),
    )?;
    bar.finish();
    if !bar.is_hidden() {
        eprintln!();
    }
    println!(
        "  {} rows deleted, {} mentors set to NULL, in {:.1?}",
        outcome.deleted.values().sum::<u64>(),
        outcome.rows_updated("members"),
        started.elapsed()
    );
    println!(
        "  {} transactions, the largest writing {} rows",
        batches.load(Ordering::Relaxed),
        largest_batch.load(Ordering::Relaxed)
    );

    let after = counts(&db)?;
    println!("\n  {:<10} {:>8} {:>8}", "table", "before", "after");
    for ((table, before), (_, after)) in before.iter().zip(&after) {
        println!("  {table:<10} {before:>8} {after:>8}");
    }

    let integrity = db.check_integrity(&IntegrityOptions::default())?;
    println!(
        "\nintegrity: {} orphans in {} foreign keys ({} rows checked)",
        integrity.orphans(),
        integrity.foreign_keys.len(),
        integrity.rows_checked
    );
    Ok(())
}

/// Three teams of members (some mentored across teams), posts for team 1's
/// members, an invoice for team 2: one transaction, every row's foreign keys
/// checked by cascadia.
fn fill(db: &Database) -> Result<(), cascadia::Error> {
    db.write(|tx| {
        for (id, name) in [(1, "fjord"), (2, "glacier"), (3, "tundra")] {
            tx.insert(&Team {
                id,
                name: name.into(),
            })?;
        }
        let mut post_id = 0;
        for team in 1..=3 {
            for n in 0..MEMBERS_PER_TEAM {
                let id = team * MEMBERS_PER_TEAM + n;
                // Every tenth member of team 3 is mentored by a member of team 1.
                let mentor = (team == 3 && n % 10 == 0).then(|| Id::new(MEMBERS_PER_TEAM + n));
                tx.insert(&Member {
                    id,
                    team_id: Id::new(team),
                    mentor_id: mentor,
                    name: format!("member {id}"),
                })?;
                if team == 1 {
                    for _ in 0..POSTS_PER_MEMBER {
                        post_id += 1;
                        tx.insert(&Post {
                            id: post_id,
                            author_id: Id::new(id),
                            body: format!("post {post_id}: {}", "lorem ipsum ".repeat(6)),
                        })?;
                    }
                }
            }
        }
        tx.insert(&Invoice {
            id: 1,
            team_id: Id::new(2),
            amount_cents: 12_000,
        })
    })
}

/// Rows per table, in schema order.
fn counts(db: &Database) -> Result<Vec<(String, usize)>, cascadia::Error> {
    SCHEMA
        .tables()
        .map(|table| Ok((table.name.to_string(), db.rows(&table.name)?.len())))
        .collect()
}
