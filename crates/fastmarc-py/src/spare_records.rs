//! Core records that Python let go of, kept on their thread for the reader to parse into.
//!
//! Freeing a record (its text, field and span tables, and the `Arc` around them) happens
//! in the record object's deallocation, with the GIL held, and parsing the next batch then
//! allocates the same buffers again. Instead the record object hands its core record
//! here, and the reader parses into it the next time it parses on this thread (with the
//! GIL released): no free with the GIL held, no allocation while parsing, and memory
//! still in this core's cache. A thread keeps at most a batch's worth of small records.

use fastmarc::Record as CoreRecord;
use std::cell::RefCell;
use std::sync::Arc;

/// Records kept per thread: one batch of the reader.
const MAX_KEPT: usize = 256;
/// Larger records are freed, so that one big record does not stay allocated for good.
const MAX_RECORD_BYTES: usize = 16 * 1024;

thread_local! {
    static SPARE: RefCell<Vec<Arc<CoreRecord>>> = const { RefCell::new(Vec::new()) };
}

/// Keep `rec` for reuse on this thread, or let it go when another holder shares it or
/// there is enough kept already.
pub fn keep(mut rec: Arc<CoreRecord>) {
    if Arc::get_mut(&mut rec).is_none_or(|r| r.allocated_bytes() > MAX_RECORD_BYTES) {
        return;
    }
    // Fails only while the thread is exiting; the record is then simply freed.
    let _ = SPARE.try_with(|spare| {
        let mut spare = spare.borrow_mut();
        if spare.len() < MAX_KEPT {
            spare.push(rec);
        }
    });
}

/// A record to parse into, held by nobody else: one kept on this thread, else a new one.
pub fn take() -> Arc<CoreRecord> {
    SPARE
        .try_with(|spare| spare.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record with one control field whose data is `data`.
    fn record(data: &str) -> CoreRecord {
        let mut rec = CoreRecord::new();
        let tag = fastmarc::Tag::new("001").unwrap();
        rec.push(&fastmarc::Field::control(tag, data));
        rec
    }

    #[test]
    fn kept_records_come_back_on_their_thread_only() {
        let rec = record("x");
        let at = rec.allocated_bytes();
        keep(Arc::new(rec));
        std::thread::spawn(|| assert_eq!(take().allocated_bytes(), 0))
            .join()
            .unwrap();
        assert_eq!(take().allocated_bytes(), at);
        assert_eq!(take().allocated_bytes(), 0);
    }

    #[test]
    fn big_records_and_records_past_the_limit_are_freed() {
        keep(Arc::new(record(&"x".repeat(MAX_RECORD_BYTES))));
        assert_eq!(take().allocated_bytes(), 0);
        for _ in 0..MAX_KEPT + 10 {
            keep(Arc::new(record("x")));
        }
        let kept = std::iter::from_fn(|| Some(take()))
            .take_while(|r| r.allocated_bytes() > 0)
            .count();
        assert_eq!(kept, MAX_KEPT);
    }

    #[test]
    fn a_shared_record_is_not_kept() {
        let rec = Arc::new(record("x"));
        let other = rec.clone();
        keep(rec);
        assert_eq!(take().allocated_bytes(), 0);
        assert_eq!(other.len(), 1);
    }
}
