//! MARC-in-JSON reading: the slice reader and the streaming reader (in pieces behind a tiny
//! buffer) agree, the first error ends the stream, and every record read survives writing
//! and reading back as JSON, MARCXML (where XML can hold it) and ISO 2709 (where it can).
#![no_main]

use fastmarc_fuzz::invariants::check_ends_at_error;
use fastmarc_fuzz::reading::{json_slice, json_stream, records};
use fastmarc_fuzz::roundtrip::{check_iso, check_json, check_model, check_xml, iso_representable};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let items = json_slice(data);
    check_ends_at_error(&items, "JsonSliceReader");
    assert_eq!(
        json_stream(data),
        items,
        "JsonReader differs from JsonSliceReader"
    );
    for rec in records(&items) {
        check_json(rec);
        check_xml(rec);
        check_model(rec);
        if iso_representable(rec) {
            check_iso(rec, true);
        }
    }
});
