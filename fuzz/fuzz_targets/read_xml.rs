//! MARCXML reading: over a slice and over a stream in pieces behind a tiny buffer the reader
//! gives the same records and errors, with or without the namespace check; the first error
//! ends the stream; reading with a normalisation form gives the plain reading's text in that
//! form; and every record read survives writing and reading back as MARCXML, MARC-in-JSON
//! and (where it can hold it) ISO 2709.
#![no_main]

use fastmarc::xml::{UnicodeForm, XmlReaderOptions};
use fastmarc::{Field, Record, Subfield};
use fastmarc_fuzz::invariants::check_ends_at_error;
use fastmarc_fuzz::pieces::seed_of;
use fastmarc_fuzz::reading::{records, xml_slice, xml_stream};
use fastmarc_fuzz::roundtrip::{check_iso, check_json, check_model, check_xml, iso_representable};
use libfuzzer_sys::fuzz_target;
use unicode_normalization::UnicodeNormalization;

const FORMS: [UnicodeForm; 4] = [
    UnicodeForm::Nfc,
    UnicodeForm::Nfd,
    UnicodeForm::Nfkc,
    UnicodeForm::Nfkd,
];

fn normalize(s: &str, form: UnicodeForm) -> String {
    match form {
        UnicodeForm::Nfc => s.nfc().collect(),
        UnicodeForm::Nfd => s.nfd().collect(),
        UnicodeForm::Nfkc => s.nfkc().collect(),
        UnicodeForm::Nfkd => s.nfkd().collect(),
    }
}

/// `rec` with its control field and subfield text in `form` (an ASCII leader stays as it is).
fn normalized(rec: &Record, form: UnicodeForm) -> Record {
    let mut out = Record::with_leader(*rec.leader());
    for f in rec.fields() {
        let field = match f.data() {
            Some(d) => Field::control(f.tag(), normalize(d, form)),
            None => Field::data(
                f.tag(),
                f.indicator1(),
                f.indicator2(),
                f.subfields()
                    .map(|s| Subfield::new(s.code, normalize(s.value, form)))
                    .collect(),
            ),
        };
        out.push(&field);
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let plain = XmlReaderOptions::default();
    let strict = XmlReaderOptions {
        marc_namespace_only: true,
        ..plain
    };
    let items = xml_slice(data, plain);
    for opts in [plain, strict] {
        let slice = if opts == plain {
            items.clone()
        } else {
            xml_slice(data, opts)
        };
        check_ends_at_error(&slice, "XmlReader");
        assert_eq!(
            xml_stream(data, opts),
            slice,
            "XmlReader over a stream differs from over a slice ({opts:?})"
        );
    }

    let form = FORMS[(seed_of(data) % 4) as usize];
    let norm = xml_slice(
        data,
        XmlReaderOptions {
            normalization: Some(form),
            ..plain
        },
    );
    check_ends_at_error(&norm, "XmlReader normalising");
    for (a, b) in items.iter().zip(&norm) {
        if let (Ok(a), Ok(b)) = (a, b) {
            assert_eq!(b, &normalized(a, form), "reading with {form:?}");
        }
    }

    for rec in records(&items) {
        check_xml(rec);
        check_json(rec);
        check_model(rec);
        if iso_representable(rec) {
            check_iso(rec, true);
        }
    }
});
