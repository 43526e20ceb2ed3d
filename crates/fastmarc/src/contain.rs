//! Keeping a panic from reaching the user as one: work run through [`contain`] that
//! panics gives back the panic's message as an error, and the standard panic report
//! (message, backtrace) is not printed for it. What panics is a bug here, or a decoder
//! fastmarc uses meeting damaged input (the Parquet and Arrow crates panic on some). Panics on other threads are reported as
//! usual: the hook is process-wide (and the Python host shares the process), so it stays
//! quiet only on a thread that is inside `contain`.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    /// Whether this thread is inside `contain` (nesting counted).
    static CONTAINING: Cell<u32> = const { Cell::new(0) };
    /// The message of the last panic contained on this thread.
    static LAST_MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) };
}

static INSTALL: Once = Once::new();

/// Install the hook once: quiet on a containing thread, the previous hook elsewhere.
fn install_hook() {
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CONTAINING.with(Cell::get) > 0 {
                let payload = info.payload();
                let text = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                let place = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                LAST_MESSAGE.with(|m| *m.borrow_mut() = Some(format!("{}{place}", shorten(&text))));
            } else {
                previous(info);
            }
        }));
    });
}

/// The first line of a panic message, at most [`MESSAGE_CHARS`] characters of it (some quote
/// a whole record).
fn shorten(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    match line.char_indices().nth(MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line.to_string(),
    }
}

const MESSAGE_CHARS: usize = 120;

/// Run `f`; a panic in it becomes `Err(message)`, with nothing printed.
pub fn contain<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_hook();
    CONTAINING.with(|c| c.set(c.get() + 1));
    let outcome = panic::catch_unwind(AssertUnwindSafe(f));
    CONTAINING.with(|c| c.set(c.get() - 1));
    outcome.map_err(|_| {
        LAST_MESSAGE
            .with(|m| m.borrow_mut().take())
            .unwrap_or_else(|| "unknown panic".into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message() {
        assert_eq!(contain(|| 7), Ok(7));
        let err = contain(|| -> u8 { panic!("boom {}", 1) }).unwrap_err();
        assert!(err.starts_with("boom 1 at "), "{err}");
        let long = contain(|| panic!("{}\nsecond line", "x".repeat(500))).unwrap_err();
        assert!(
            long.starts_with(&format!("{}... at ", "x".repeat(MESSAGE_CHARS))),
            "{long}"
        );
        // Nested: the inner one is contained, the outer goes on.
        let outer = contain(|| contain(|| panic!("inner")).unwrap_err());
        assert!(outer.unwrap().starts_with("inner"));
    }
}
