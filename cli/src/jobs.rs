//! `cascadia jobs` and `cascadia worker`: the queue of delete jobs that a
//! batched delete leaves when it takes more than one transaction.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use cascadia::{Database, JobId, JobInfo, JobStatus, Worker};
use serde_json::json;

use crate::args::{Format, JobsAction};
use crate::output::print_json;

fn status(status: &JobStatus) -> (String, Option<String>) {
    match status {
        JobStatus::Queued => ("queued".into(), None),
        JobStatus::Running => ("running".into(), None),
        JobStatus::Failed { error } => ("failed".into(), Some(error.clone())),
        JobStatus::Cancelled { reason } => ("cancelled".into(), Some(reason.clone())),
        _ => ("unknown".into(), None),
    }
}

/// Milliseconds since the Unix epoch (negative before it), as JSON shows times.
fn unix_ms(time: std::time::SystemTime) -> i64 {
    match time.duration_since(std::time::UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

fn job_json(job: &JobInfo) -> serde_json::Value {
    let (status, detail) = status(&job.status);
    json!({
        "id": job.id.0,
        "table": job.table,
        "roots": job.roots,
        "status": status,
        "detail": detail,
        "created_ms": unix_ms(job.created),
        "due_ms": job.due.map(unix_ms),
        "batches": job.batches,
        "deleted": job.outcome.deleted,
        "updated": job.outcome.updated,
    })
}

/// Runs `jobs list|cancel|retry`.
pub fn run(db: &Database, action: &JobsAction, format: Format) -> Result<()> {
    match action {
        JobsAction::List => {
            let jobs = db.jobs().context("cannot list the jobs")?;
            match format {
                Format::Json => print_json(&jobs.iter().map(job_json).collect::<Vec<_>>())?,
                Format::Text => {
                    let mut out = String::new();
                    if jobs.is_empty() {
                        out.push_str("no delete jobs\n");
                    }
                    for job in &jobs {
                        let (status, detail) = status(&job.status);
                        let _ = write!(
                            out,
                            "job {}: {status}, {} root(s) of {}, {} batch(es), {} row(s) deleted",
                            job.id,
                            job.roots,
                            job.table,
                            job.batches,
                            job.outcome.deleted.values().sum::<u64>()
                        );
                        if let Some(detail) = detail {
                            let _ = write!(out, ": {detail}");
                        }
                        out.push('\n');
                    }
                    print!("{out}");
                }
            }
        }
        JobsAction::Cancel { id } => {
            if !db.cancel_job(JobId(*id)).context("cannot cancel the job")? {
                bail!("job {id} is not active; `cascadia jobs DB list` shows the jobs");
            }
            println!("job {id} cancelled");
        }
        JobsAction::Retry { id } => {
            if !db.retry_job(JobId(*id)).context("cannot retry the job")? {
                bail!(
                    "job {id} is not failed or cancelled; `cascadia jobs DB list` shows the jobs"
                );
            }
            println!("job {id} queued again");
        }
    }
    Ok(())
}

/// Runs `worker`: drains the jobs on a background thread until SIGINT or
/// SIGTERM (or, with `until_idle`, until no job is active), letting the
/// current batch finish.
pub fn worker(db: &Database, until_idle: bool, poll: Duration) -> Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed))
        .context("cannot install the SIGINT/SIGTERM handler")?;
    let handle = Worker::new(db.clone()).poll_interval(poll).spawn();
    eprintln!("worker running; SIGINT or SIGTERM stops it after the current batch");
    while !stop.load(Ordering::Relaxed) && !handle.is_finished() {
        std::thread::sleep(Duration::from_millis(50));
        if until_idle && !db.jobs()?.iter().any(|job| job.status.is_active()) {
            break;
        }
    }
    let report = handle.stop();
    for (id, outcome) in &report.finished {
        println!(
            "job {id} finished: {} row(s) deleted",
            outcome.deleted.values().sum::<u64>()
        );
    }
    for (id, error) in &report.failed {
        println!("job {id} failed: {error}");
    }
    for (id, reason) in &report.cancelled {
        println!("job {id} cancelled: {reason}");
    }
    for error in &report.errors {
        eprintln!("worker error: {error}");
    }
    Ok(())
}
