//! Timing one run: wall seconds, CPU seconds (to tell CPU from I/O waits)
//! and the process's peak resident memory during it. CPU and memory come
//! from Linux's `/proc/self`; elsewhere they read 0.

use std::time::Instant;

/// What one timed run cost.
#[derive(Debug, Clone, Copy, Default)]
pub struct Measured {
    /// Wall-clock seconds.
    pub seconds: f64,
    /// CPU seconds of the process (user + system).
    pub cpu_seconds: f64,
    /// Peak resident memory during the run, in MiB.
    pub peak_rss_mib: f64,
    /// Resident memory when the run started, in MiB.
    pub start_rss_mib: f64,
}

impl Measured {
    /// Rows per second, for `rows` rows.
    pub fn rate(&self, rows: u64) -> f64 {
        rows as f64 / self.seconds
    }
}

/// Runs `f` and measures it. The peak memory is reset first, after the
/// allocator has returned what earlier work freed, so that the figure
/// starts from what the process holds, not from what the fill and the
/// earlier runs left in the allocator's free lists.
pub fn measure<R>(f: impl FnOnce() -> R) -> (R, Measured) {
    release_free_memory();
    reset_peak_rss();
    let start_rss_mib = status_mib("VmRSS:");
    let cpu = cpu_seconds();
    let started = Instant::now();
    let result = f();
    let seconds = started.elapsed().as_secs_f64();
    let measured = Measured {
        seconds,
        cpu_seconds: cpu_seconds() - cpu,
        peak_rss_mib: status_mib("VmHWM:"),
        start_rss_mib,
    };
    (result, measured)
}

/// A memory figure of `/proc/self/status` (`VmHWM:`, `VmRSS:`), in MiB.
fn status_mib(field: &str) -> f64 {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return 0.0;
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// Returns the allocator's free memory to the operating system (glibc's
/// `malloc_trim`; elsewhere nothing). Without it the resident memory at the
/// start of a run grows with the data filled before it (5 MiB after a 1k-row
/// fill, 8 MiB after a 100k-row one), though nothing holds that memory.
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            /// glibc: releases free heap memory; returns 1 if any was.
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: malloc_trim only returns free pages of glibc's heap to
        // the kernel; it touches no live allocation.
        unsafe {
            malloc_trim(0);
        }
    }
}

/// Resets the peak resident memory (`VmHWM`) to the current one.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// CPU time (user + system) of this process so far, in seconds.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // The fields after the command name (which is in parentheses): utime
    // and stime, fields 14 and 15 of the line, are 12th and 13th here.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / TICKS_PER_SECOND
}

/// The unit of `/proc/self/stat`'s times (`sysconf(_SC_CLK_TCK)`, 100 on
/// Linux).
const TICKS_PER_SECOND: f64 = 100.0;
