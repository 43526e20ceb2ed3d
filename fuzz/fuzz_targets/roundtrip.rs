//! Whatever the ISO 2709 reader accepts, under every parse option set, survives writing and
//! reading back: as ISO 2709 (equal record, stable bytes), as MARCXML (where XML can hold
//! its text) and as MARC-in-JSON; rebuilding it from owned fields gives it back too.
#![no_main]

use fastmarc::iso2709::{ReaderOptions, Recovery};
use fastmarc::Record;
use fastmarc_fuzz::reading::{iso_slice, parse_option_sets, records};
use fastmarc_fuzz::roundtrip::{check_iso, check_json, check_model, check_xml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Most option sets read most records alike: the text formats are checked once a record.
    let mut checked: Vec<Record> = Vec::new();
    for parse in parse_option_sets() {
        let opts = ReaderOptions {
            parse,
            recovery: Recovery::Resync,
        };
        for rec in records(&iso_slice(data, opts)) {
            check_iso(rec, parse.strict);
            if checked.contains(rec) {
                continue;
            }
            check_xml(rec);
            check_json(rec);
            check_model(rec);
            checked.push(rec.clone());
        }
    }
});
