//! ISO 2709 readers, strict and permissive and everything between: under every parse option
//! set and recovery, the slice reader, the streaming reader fed in pieces and a reader
//! reusing one record agree; every output is well formed (see `check_iso_items`); and the
//! recoveries differ only after the errors that end the stricter ones.
#![no_main]

use fastmarc::iso2709::{ReaderOptions, Recovery};
use fastmarc_fuzz::invariants::{check_iso_items, check_recoveries_agree};
use fastmarc_fuzz::reading::{
    iso_slice, iso_slice_reusing, iso_stream, parse_option_sets, RECOVERIES,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The named configurations are the default parse options with Stop and Resync, the
    // first set below.
    debug_assert_eq!(ReaderOptions::strict().recovery, Recovery::Stop);
    debug_assert_eq!(ReaderOptions::resyncing().recovery, Recovery::Resync);
    for parse in parse_option_sets() {
        let mut by_recovery = Vec::with_capacity(3);
        for recovery in RECOVERIES {
            let opts = ReaderOptions { parse, recovery };
            let slice = iso_slice(data, opts);
            check_iso_items(data, &opts, &slice);
            assert_eq!(
                iso_stream(data, opts, 61),
                slice,
                "Reader fed in pieces differs from SliceReader ({opts:?})"
            );
            assert_eq!(
                iso_slice_reusing(data, opts),
                slice,
                "read_record into a reused Record differs ({opts:?})"
            );
            by_recovery.push(slice);
        }
        check_recoveries_agree(&by_recovery[0], &by_recovery[1], &by_recovery[2]);
    }
});
