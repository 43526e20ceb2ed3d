//! Ctrl-C. Commands check a stop flag between records and stop cleanly (outputs flushed
//! and closed, exit status 130). The standalone binary sets the flag from a signal handler;
//! a host that keeps its own handler (Python) passes its own flag to
//! [`crate::run_with_stop_flag`].

use crate::failure::EXIT_INTERRUPTED;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

static STOP: AtomicBool = AtomicBool::new(false);

/// How long a command gets to stop by itself: one blocked in a read (a terminal on stdin
/// that sends nothing) never reaches its next check.
const GRACE: Duration = Duration::from_secs(1);

/// The flag the handler sets.
pub(crate) fn global_flag() -> &'static AtomicBool {
    &STOP
}

/// Make Ctrl-C set the flag [`crate::run`] checks; if the command has not stopped within a
/// second, or on a second Ctrl-C, exit with status 130 at once. Returns false if a handler
/// could not be installed (one already is).
pub fn install_interrupt_handler() -> bool {
    ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            exit_now();
        }
        std::thread::spawn(|| {
            std::thread::sleep(GRACE);
            exit_now();
        });
    })
    .is_ok()
}

/// Exit with status 130 without unwinding; outputs being written are kept as
/// `OUT.partial`, never left under their temporary names.
fn exit_now() -> ! {
    crate::output::abandon_pending();
    std::process::exit(EXIT_INTERRUPTED);
}
