//! The parallel paths give exactly what the sequential reader gives: `parse_all` on a pool,
//! and the ordered pipeline over bytes in memory and over a stream, with chunks small enough
//! that records and errors straddle chunk boundaries.
#![no_main]

use fastmarc::iso2709::{ParseOptions, ReaderOptions, Recovery};
use fastmarc::parallel::{ParallelOptions, ParallelReader, ParsePool};
use fastmarc_fuzz::pieces::{seed_of, Pieces};
use fastmarc_fuzz::reading::{collect_bounded, iso_slice};
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};

static POOL: OnceLock<ParsePool> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let pool = POOL.get_or_init(|| ParsePool::new(Some(2)).expect("parser pool"));
    let seed = seed_of(data);
    let pymarc = ReaderOptions {
        parse: ParseOptions {
            strict: false,
            ..ParseOptions::default()
        },
        recovery: Recovery::SkipRecord,
    };
    for opts in [ReaderOptions::strict(), ReaderOptions::resyncing(), pymarc] {
        let sequential = iso_slice(data, opts);
        assert_eq!(
            pool.parse_all(data, &opts),
            sequential,
            "parse_all differs from SliceReader ({opts:?})"
        );
        let popts = ParallelOptions {
            reader: opts,
            threads: Some(2),
            chunk_size: 1 + (seed % 300) as usize,
            chunks_in_flight: Some(1 + (seed % 3) as usize),
            ..ParallelOptions::default()
        };
        let memory = ParallelReader::from_shared(Arc::new(data.to_vec()), popts).expect("pipeline");
        assert_eq!(
            collect_bounded(memory, data.len(), "ParallelReader over bytes"),
            sequential,
            "ParallelReader over bytes differs ({popts:?})"
        );
        let source = Pieces::new(data.to_vec(), seed, 61);
        let stream = ParallelReader::with_options(source, popts).expect("pipeline");
        assert_eq!(
            collect_bounded(stream, data.len(), "ParallelReader over a stream"),
            sequential,
            "ParallelReader over a stream differs ({popts:?})"
        );
    }
});
