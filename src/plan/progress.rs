//! The progress bar of a run: `indicatif` with the `progress` feature, nothing without it.
//! It shows tasks done out of the total, the rows read so far against all the run's
//! sources hold, their throughput, and the time left.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Tasks done out of the total and rows read, drawn on stderr.
pub(crate) struct Progress {
    #[cfg(feature = "progress")]
    bar: indicatif::ProgressBar,
    rows_total: u64,
    rows_read: AtomicU64,
    started: Instant,
}

impl Progress {
    /// A bar for `tasks` tasks whose scans read `rows_total` rows.
    pub(crate) fn new(tasks: usize, rows_total: u64) -> Progress {
        #[cfg(feature = "progress")]
        let bar = {
            let bar = indicatif::ProgressBar::new(tasks as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:40}] {pos}/{len} tasks, {msg}, {eta} left",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        };
        #[cfg(not(feature = "progress"))]
        let _ = tasks;
        Progress {
            #[cfg(feature = "progress")]
            bar,
            rows_total,
            rows_read: AtomicU64::new(0),
            started: Instant::now(),
        }
    }

    /// One more task done, which read `rows` rows (scans) or none.
    pub(crate) fn task_done(&self, rows: u64) {
        let read = self.rows_read.fetch_add(rows, Ordering::Relaxed) + rows;
        let seconds = self.started.elapsed().as_secs_f64().max(1e-3);
        let message = format!(
            "{} of {} rows read ({}/s)",
            human(read as f64),
            human(self.rows_total as f64),
            human(read as f64 / seconds)
        );
        #[cfg(feature = "progress")]
        {
            self.bar.set_message(message);
            self.bar.inc(1);
        }
        #[cfg(not(feature = "progress"))]
        let _ = message;
    }

    pub(crate) fn finish(&self) {
        #[cfg(feature = "progress")]
        self.bar.finish_and_clear();
    }
}

/// A count with a k, M or G suffix.
fn human(n: f64) -> String {
    match n {
        n if n >= 1e9 => format!("{:.2}G", n / 1e9),
        n if n >= 1e6 => format!("{:.2}M", n / 1e6),
        n if n >= 1e3 => format!("{:.1}k", n / 1e3),
        n => format!("{n:.0}"),
    }
}
