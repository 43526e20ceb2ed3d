//! The boundary scanner: its records and skipped ranges tile the buffer up to the partial
//! tail, each record is well framed, it finds exactly what the resynchronising reader
//! frames, and scanning in two chunks (the second starting at the first's partial tail)
//! finds exactly what scanning at once does.
#![no_main]

use fastmarc::internal::{scan_record_boundaries, Boundaries};
use fastmarc::iso2709::{ReaderOptions, SliceReader};
use fastmarc::ErrorKind;
use fastmarc_fuzz::pieces::seed_of;
use libfuzzer_sys::fuzz_target;

/// What the scanner found, in order: (start, end, None for a record or the framing error).
type Found = Vec<(usize, usize, Option<ErrorKind>)>;

fn found(b: &Boundaries, shift: usize) -> Found {
    let mut v: Found = b
        .records
        .iter()
        .map(|r| (r.start + shift, r.end + shift, None))
        .chain(
            b.broken
                .iter()
                .map(|(e, r)| (r.start + shift, r.end + shift, Some(e.kind().clone()))),
        )
        .collect();
    v.sort_by_key(|x| x.0);
    v
}

fn check_shape(data: &[u8], b: &Boundaries) {
    let mut pos = 0;
    for (start, end, kind) in found(b, 0) {
        assert_eq!(start, pos, "gap or overlap at {pos}: {b:?}");
        assert!(end > start && end <= data.len(), "bad range {start}..{end}");
        match kind {
            None => {
                let rec = &data[start..end];
                assert!(rec.len() >= 25, "record shorter than a leader");
                assert_eq!(&rec[..5], format!("{:05}", rec.len()).as_bytes());
                assert_eq!(rec[rec.len() - 1], 0x1D, "record without its terminator");
            }
            Some(kind) => {
                assert!(
                    matches!(
                        kind,
                        ErrorKind::RecordLengthNotDigits
                            | ErrorKind::RecordLengthInvalid(_)
                            | ErrorKind::EndOfRecordNotFound
                    ),
                    "not a framing error: {kind:?}"
                );
                // A skip ends after a terminator, or where a record that ends at the next
                // one starts.
                assert!(
                    data[start..end].contains(&0x1D) || b.records.iter().any(|r| r.start == end),
                    "skip {start}..{end} to nowhere"
                );
            }
        }
        pos = end;
    }
    for (e, r) in &b.broken {
        assert_eq!(e.offset(), Some(r.start as u64), "broken offset");
    }
    assert_eq!(
        pos,
        b.partial_tail.unwrap_or(data.len()),
        "tiling ends at the tail"
    );
}

fuzz_target!(|data: &[u8]| {
    let all = scan_record_boundaries(data);
    check_shape(data, &all);
    let found_all = found(&all, 0);

    // The resynchronising reader frames the same, up to the partial tail.
    let tail = all.partial_tail.unwrap_or(data.len());
    let mut reader = SliceReader::with_options(data, ReaderOptions::resyncing());
    let mut framed: Found = Vec::new();
    while let Some(item) = reader.next_frame() {
        match item {
            Ok((bytes, _, offset)) => {
                let start = offset as usize;
                framed.push((start, start + bytes.len(), None));
            }
            // Where the reader goes next is where the skip ends.
            Err(e) => framed.push((
                e.offset().unwrap() as usize,
                usize::MAX,
                Some(e.into_kind()),
            )),
        }
        assert!(framed.len() <= data.len() + 1, "reader does not end");
    }
    for i in 0..framed.len() {
        if framed[i].1 == usize::MAX {
            framed[i].1 = framed.get(i + 1).map_or(data.len(), |n| n.0);
        }
    }
    let before_tail: Found = framed.iter().filter(|x| x.0 < tail).cloned().collect();
    // The reader's skip after the last error before the tail may run into the tail's bytes
    // only if the scanner too ends the skip there; compare starts and kinds, then ends.
    assert_eq!(
        before_tail
            .iter()
            .map(|x| (x.0, x.2.clone()))
            .collect::<Vec<_>>(),
        found_all
            .iter()
            .map(|x| (x.0, x.2.clone()))
            .collect::<Vec<_>>(),
        "scanner and resynchronising reader frame differently"
    );
    for (f, s) in before_tail.iter().zip(&found_all) {
        if f.2.is_none() {
            assert_eq!(f.1, s.1, "record end");
        }
    }

    // In two chunks, as the parallel pipeline scans.
    let cut = (seed_of(data) % (data.len() as u64 + 1)) as usize;
    let head = scan_record_boundaries(&data[..cut]);
    check_shape(&data[..cut], &head);
    let resume = head.partial_tail.unwrap_or(cut);
    let rest = scan_record_boundaries(&data[resume..]);
    let mut joined = found(&head, 0);
    joined.extend(found(&rest, resume));
    assert_eq!(joined, found_all, "scanning in chunks cut at {cut} differs");
    assert_eq!(
        rest.partial_tail.map(|p| p + resume),
        all.partial_tail,
        "partial tail after chunked scan"
    );
});
