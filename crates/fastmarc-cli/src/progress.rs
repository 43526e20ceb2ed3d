//! A progress bar on stderr for long work: only when stderr is a terminal, and only once the
//! work has taken more than a moment, so short runs and pipelines stay silent.

use crate::failure::eprint_message;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Work shorter than this shows no bar.
const SHOW_AFTER: Duration = Duration::from_millis(800);
/// Records between looks at the clock and the byte counter.
const RECORDS_PER_UPDATE: u64 = 256;

/// Progress through one input, measured in bytes read.
pub struct Progress {
    bar: Option<ProgressBar>,
    shown: bool,
    start: Instant,
    bytes_read: Arc<AtomicU64>,
    records: u64,
}

impl Progress {
    /// A bar for an input of `total` bytes (unknown for a pipe) whose reader counts the bytes
    /// it has read in `bytes_read`. Inert unless stderr is a terminal.
    pub fn new(label: &str, total: Option<u64>, bytes_read: Arc<AtomicU64>) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let template = if total.is_some() {
                "{prefix} [{bar:30}] {bytes}/{total_bytes} {msg} ({eta})"
            } else {
                "{prefix} {spinner} {bytes} {msg}"
            };
            let style = ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            ProgressBar::with_draw_target(total, ProgressDrawTarget::hidden())
                .with_style(style)
                .with_prefix(label.to_string())
        });
        Progress {
            bar,
            shown: false,
            start: Instant::now(),
            bytes_read,
            records: 0,
        }
    }

    /// One more record done.
    pub fn record_done(&mut self) {
        self.records += 1;
        if !self.records.is_multiple_of(RECORDS_PER_UPDATE) {
            return;
        }
        let Some(bar) = &self.bar else { return };
        if !self.shown && self.start.elapsed() >= SHOW_AFTER {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            self.shown = true;
        }
        bar.set_position(self.bytes_read.load(Ordering::Relaxed));
        bar.set_message(format!("{} records", self.records));
    }

    /// Print `fastmarc: <message>` to stderr without tearing the bar.
    pub fn eprint_message(&self, message: &str) {
        match &self.bar {
            Some(bar) if self.shown => bar.suspend(|| eprint_message(message)),
            _ => eprint_message(message),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
