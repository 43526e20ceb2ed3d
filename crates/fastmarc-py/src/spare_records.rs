//! Core records that Python let go of, sent back to the thread that parsed them, for it to
//! parse into again.
//!
//! Freeing a record (its text, field and span tables, and the `Arc` around them) happens
//! in the record object's deallocation, with the GIL held, and parsing the next batch then
//! allocates the same buffers again. Instead the record object hands its core record
//! here, and the thread that parsed it parses into it again (with the GIL released): no
//! free with the GIL held, no allocation while parsing, and memory still in that core's
//! cache. With a parallel reader the record goes back across threads: a pool thread
//! parsing into records the consumer dropped (memory the pool thread last wrote, only
//! glanced at by the consumer) instead of the consumer parsing into them, or the pool
//! thread allocating while the consumer frees, took a third off the CPU time of parsing.
//!
//! Each parsing thread has a home: a slot with a mailbox. A record dropped on its own
//! thread goes straight to that thread's spares; one dropped elsewhere waits in a small
//! outbox on the dropping thread and goes home [`SEND`] at a time (one lock per batch, not
//! per record). Every list is bounded, so at most a few batches of records are kept.

use fastmarc::Record as CoreRecord;
use std::cell::RefCell;
use std::sync::{Arc, Mutex, MutexGuard};

/// Where a record was parsed: a thread's slot, or [`NO_HOME`].
pub type Home = u8;

/// A record whose thread had no slot (more than [`SLOTS`] parsing threads at once), or
/// that was not parsed by a reader: kept by whichever thread drops it.
pub const NO_HOME: Home = Home::MAX;

/// Records kept per thread, spares and mailbox each: one batch of the reader.
const MAX_KEPT: usize = 256;
/// Larger records are freed, so that one big record does not stay allocated for good.
const MAX_RECORD_BYTES: usize = 16 * 1024;
/// Records sent home together.
const SEND: usize = 32;
/// Threads with a home at once; more parse without one.
const SLOTS: usize = 64;
/// Homes a thread keeps records for at once (a few parser threads per reader).
const MAX_OUTBOXES: usize = 8;

#[derive(Default)]
struct Mailbox {
    /// A live thread owns the slot; records for a closed slot are freed.
    open: bool,
    records: Vec<Arc<CoreRecord>>,
}

static MAILBOXES: [Mutex<Mailbox>; SLOTS] = [const {
    Mutex::new(Mailbox {
        open: false,
        records: Vec::new(),
    })
}; SLOTS];

fn mailbox(home: Home) -> Option<MutexGuard<'static, Mailbox>> {
    let m = MAILBOXES.get(home as usize)?;
    // Nothing panics while holding it.
    Some(m.lock().unwrap_or_else(|e| e.into_inner()))
}

/// What a thread keeps: its home, its spares, and what it sends to other homes.
struct Local {
    home: Home,
    spare: Vec<Arc<CoreRecord>>,
    /// Records for other homes, by home; sent when one reaches [`SEND`].
    outbox: Vec<(Home, Vec<Arc<CoreRecord>>)>,
}

impl Local {
    /// Claim the first free slot.
    fn new() -> Local {
        let home = (0..SLOTS)
            .find(|&i| {
                mailbox(i as Home).is_some_and(|mut m| {
                    let free = !m.open;
                    m.open |= free;
                    free
                })
            })
            .map_or(NO_HOME, |i| i as Home);
        Local {
            home,
            spare: Vec::new(),
            outbox: Vec::new(),
        }
    }

    fn keep(&mut self, rec: Arc<CoreRecord>, home: Home) {
        if home == self.home || home == NO_HOME {
            if self.spare.len() < MAX_KEPT {
                self.spare.push(rec);
            }
            return;
        }
        let at = match self.outbox.iter().position(|(h, _)| *h == home) {
            Some(at) => at,
            None => {
                if self.outbox.len() == MAX_OUTBOXES {
                    // Homes come and go with readers: the longest-known one goes first.
                    let (old, mut batch) = self.outbox.remove(0);
                    send(old, &mut batch);
                }
                self.outbox.push((home, Vec::with_capacity(SEND)));
                self.outbox.len() - 1
            }
        };
        let batch = &mut self.outbox[at].1;
        batch.push(rec);
        if batch.len() >= SEND {
            send(home, batch);
        }
    }

    fn take(&mut self) -> Arc<CoreRecord> {
        if self.spare.is_empty() {
            if let Some(mut m) = mailbox(self.home) {
                std::mem::swap(&mut m.records, &mut self.spare);
            }
        }
        self.spare.pop().unwrap_or_default()
    }
}

/// Put `batch` in `home`'s mailbox, as much as fits; the rest is freed.
fn send(home: Home, batch: &mut Vec<Arc<CoreRecord>>) {
    if let Some(mut m) = mailbox(home).filter(|m| m.open) {
        let room = MAX_KEPT.saturating_sub(m.records.len());
        let n = batch.len().min(room);
        m.records.extend(batch.drain(..n));
    }
    // Freed after the lock is let go.
    batch.clear();
}

impl Drop for Local {
    fn drop(&mut self) {
        // Close the slot; the records in it are freed once the lock is let go.
        let records = mailbox(self.home).map(|mut m| {
            m.open = false;
            std::mem::take(&mut m.records)
        });
        drop(records);
    }
}

thread_local! {
    static LOCAL: RefCell<Local> = RefCell::new(Local::new());
}

/// This thread's home, for the records it parses.
pub fn home() -> Home {
    LOCAL.try_with(|l| l.borrow().home).unwrap_or(NO_HOME)
}

/// Keep `rec`, parsed by the thread whose home is `home`, for that thread to parse into
/// again, or let it go when another holder shares it or enough are kept already.
pub fn keep(mut rec: Arc<CoreRecord>, home: Home) {
    if Arc::get_mut(&mut rec).is_none_or(|r| r.allocated_bytes() > MAX_RECORD_BYTES) {
        return;
    }
    // Fails only while the thread is exiting; the record is then simply freed.
    let _ = LOCAL.try_with(|l| l.borrow_mut().keep(rec, home));
}

/// A record to parse into, held by nobody else: one this thread parsed before (kept here
/// or sent home), else a new one.
pub fn take() -> Arc<CoreRecord> {
    LOCAL
        .try_with(|l| l.borrow_mut().take())
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

    fn on_new_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::spawn(f).join().unwrap()
    }

    #[test]
    fn kept_records_come_back_on_their_thread_only() {
        let rec = record("x");
        let at = rec.allocated_bytes();
        keep(Arc::new(rec), home());
        on_new_thread(|| assert_eq!(take().allocated_bytes(), 0));
        assert_eq!(take().allocated_bytes(), at);
        assert_eq!(take().allocated_bytes(), 0);
    }

    #[test]
    fn records_dropped_elsewhere_go_home_a_batch_at_a_time() {
        let (tx, rx) = std::sync::mpsc::channel::<(Home, Vec<Arc<CoreRecord>>)>();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        // A parser thread: parses SEND + 1 records, hands them over, and waits.
        let parser = std::thread::spawn(move || {
            let recs: Vec<_> = (0..SEND + 1).map(|_| Arc::new(record("x"))).collect();
            let at = recs[0].allocated_bytes();
            tx.send((home(), recs)).unwrap();
            done_rx.recv().unwrap();
            // SEND came home; the last one still waits in the other thread's outbox.
            let back = std::iter::from_fn(|| Some(take()))
                .take_while(|r| r.allocated_bytes() == at)
                .count();
            assert_eq!(back, SEND);
        });
        let (parser_home, recs) = rx.recv().unwrap();
        assert_ne!(parser_home, home());
        for r in recs {
            keep(r, parser_home);
        }
        // None of them became this thread's spares.
        assert_eq!(take().allocated_bytes(), 0);
        done_tx.send(()).unwrap();
        parser.join().unwrap();
    }

    #[test]
    fn big_records_and_records_past_the_limit_are_freed() {
        on_new_thread(|| {
            keep(Arc::new(record(&"x".repeat(MAX_RECORD_BYTES))), home());
            assert_eq!(take().allocated_bytes(), 0);
            for _ in 0..MAX_KEPT + 10 {
                keep(Arc::new(record("x")), home());
            }
            let kept = std::iter::from_fn(|| Some(take()))
                .take_while(|r| r.allocated_bytes() > 0)
                .count();
            assert_eq!(kept, MAX_KEPT);
        });
    }

    #[test]
    fn a_shared_record_is_not_kept() {
        on_new_thread(|| {
            let rec = Arc::new(record("x"));
            let other = rec.clone();
            keep(rec, home());
            assert_eq!(take().allocated_bytes(), 0);
            assert_eq!(other.len(), 1);
        });
    }
}
