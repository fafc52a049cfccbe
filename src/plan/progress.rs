//! The progress bar of a run: `indicatif` with the `progress` feature, nothing without it.

/// Tasks done out of the total, drawn on stderr.
pub(crate) struct Progress {
    #[cfg(feature = "progress")]
    bar: indicatif::ProgressBar,
}

impl Progress {
    pub(crate) fn new(tasks: usize) -> Progress {
        #[cfg(feature = "progress")]
        {
            let bar = indicatif::ProgressBar::new(tasks as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:40}] {pos}/{len} tasks",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            Progress { bar }
        }
        #[cfg(not(feature = "progress"))]
        {
            let _ = tasks;
            Progress {}
        }
    }

    pub(crate) fn task_done(&self) {
        #[cfg(feature = "progress")]
        self.bar.inc(1);
    }

    pub(crate) fn finish(&self) {
        #[cfg(feature = "progress")]
        self.bar.finish_and_clear();
    }
}
