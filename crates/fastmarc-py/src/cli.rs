//! `run_cli`: the `fastmarc` command inside Python (the package's console script).
//!
//! The command runs on a thread of its own while this one waits with the GIL released,
//! waking every few milliseconds to let Python see Ctrl-C (Python's own SIGINT handler
//! stays in place). On Ctrl-C the command is asked to stop; if it does within a moment its
//! status (130) is returned, otherwise KeyboardInterrupt is raised.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use std::ffi::OsString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

/// How often the waiting thread looks for Ctrl-C.
const SIGNAL_POLL: Duration = Duration::from_millis(50);
/// How long a command gets to stop cleanly after Ctrl-C.
const STOP_GRACE: Duration = Duration::from_secs(1);

/// Run the `fastmarc` command line `argv` (program name first); returns the exit status.
#[pyfunction]
pub fn run_cli(py: Python<'_>, argv: Vec<OsString>) -> PyResult<i32> {
    let stop = Arc::new(AtomicBool::new(false));
    let (done, mut status) = mpsc::channel();
    let worker_stop = stop.clone();
    std::thread::Builder::new()
        .name("fastmarc-cli".into())
        .spawn(move || {
            let _ = done.send(fastmarc_cli::run_with_stop_flag(argv, &worker_stop));
        })?;
    loop {
        // The receiver is not Sync: move it into the GIL-free section and back out.
        let (rx, received) = py.detach(move || {
            let r = status.recv_timeout(SIGNAL_POLL);
            (status, r)
        });
        status = rx;
        match received {
            Ok(code) => return Ok(code),
            Err(RecvTimeoutError::Disconnected) => {
                return Err(PyRuntimeError::new_err(
                    "the fastmarc command ended abnormally",
                ))
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        if let Err(interrupt) = py.check_signals() {
            stop.store(true, Ordering::Relaxed);
            return match py.detach(move || status.recv_timeout(STOP_GRACE)) {
                Ok(code) => Ok(code),
                Err(_) => Err(interrupt),
            };
        }
    }
}
