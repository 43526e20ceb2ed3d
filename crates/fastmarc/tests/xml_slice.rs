//! `XmlReader::from_slice` reads a document in memory through quick-xml's slice reader,
//! every other reader through its buffered reader. Both must give the same records and the
//! same errors (kind, record number, offset) at the same places, on every document: the
//! test files, documents written from the test records, and damaged ones.

mod common;

use common::ChoppyReader;
use fastmarc::iso2709::SliceReader;
use fastmarc::xml::{XmlLayout, XmlReader, XmlReaderOptions, XmlWriteOptions, XmlWriter};
use fastmarc::{Record, Result};
use std::io::BufReader;

/// Each item with the reader's record offset and offset after it.
type Item = (Result<Record>, u64, u64);

fn items<R: std::io::BufRead>(mut reader: XmlReader<R>) -> Vec<Item> {
    let mut out = Vec::new();
    while let Some(item) = reader.next() {
        out.push((item, reader.record_offset(), reader.offset()));
    }
    out
}

/// The slice reading, the buffered reading of the same slice and of the bytes arriving in
/// pieces agree item by item, with either option for namespaces.
fn assert_paths_agree(doc: &[u8]) {
    for marc_namespace_only in [false, true] {
        let opts = XmlReaderOptions {
            marc_namespace_only,
            ..XmlReaderOptions::default()
        };
        let slice = items(XmlReader::from_slice(doc, opts));
        let buffered = items(XmlReader::with_options(doc, opts));
        let shown = String::from_utf8_lossy(doc);
        assert_eq!(slice, buffered, "slice and buffered differ on {shown:?}");
        // A byte at a time, and in pieces of any size up to 7 (a character may straddle
        // two).
        for capacity in [1, 7] {
            let stream = BufReader::with_capacity(capacity, ChoppyReader::new(doc, 5));
            let stream = items(XmlReader::with_options(stream, opts));
            assert_eq!(stream, buffered, "stream and buffered differ on {shown:?}");
        }
    }
}

/// A document with most of what a reader meets: a declaration, a comment, a processing
/// instruction, namespaces with and without a prefix, an OAI-PMH-like wrapper, entities,
/// character references, CDATA, a carriage return, non-ASCII text, empty elements and
/// attributes in any order and quoting.
const FEATURES: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<!-- a comment --><?pi data?>\
<collection xmlns=\"http://www.loc.gov/MARC21/slim\" xmlns:m=\"http://www.loc.gov/MARC21/slim\">\n\
 <record><leader>00000nam a2200000 a 4500</leader>\
  <controlfield tag=\"001\">id&amp;1</controlfield>\
  <datafield tag='245' ind2 = \"0\"\tind1=\"1\">\
   <subfield code=\"a\">Caf\u{e9} &#233; &lt;x&gt;\r\nline<![CDATA[ & <raw> ]]></subfield>\
   <subfield code=\"b\"/></datafield>\
  <datafield ind1=\" \" ind2=\" \" tag=\"500\"/></record>\n\
 <wrap><m:record><m:leader>00000nam a2200000 a 4500</m:leader>\
  <m:datafield tag=\"42\" ind1=\"&#x31;\" ind2=\"\"><m:subfield code=\"z\">\u{20ac}</m:subfield>\
  </m:datafield></m:record></wrap>\n\
 <other:record xmlns:other=\"urn:x\"><leader>00000nam a2200000 a 4500</leader></other:record>\n\
</collection>\n";

#[test]
fn the_features_document_reads_the_same_both_ways() {
    let records: Vec<Record> = XmlReader::from_slice(FEATURES.as_bytes(), Default::default())
        .collect::<Result<_>>()
        .unwrap();
    assert_eq!(records.len(), 3);
    assert_paths_agree(FEATURES.as_bytes());
}

#[test]
fn pymarc_xml_files_read_the_same_both_ways() {
    for name in ["batch.xml", "utf8.xml", "bad_tag.xml"] {
        assert_paths_agree(&common::pymarc_file(name));
    }
}

#[test]
fn documents_written_from_the_test_records_read_the_same_both_ways() {
    for (name, bytes) in common::pymarc_marc_files() {
        let records: Vec<Record> = SliceReader::new(&bytes).filter_map(|r| r.ok()).collect();
        for layout in [
            XmlLayout::Pymarc,
            XmlLayout::RecordPerLine,
            XmlLayout::Indented,
        ] {
            for opts in [
                XmlWriteOptions::default(),
                XmlWriteOptions {
                    namespace: true,
                    ascii: true,
                },
            ] {
                let mut w = XmlWriter::with_layout(Vec::new(), opts, layout);
                for r in &records {
                    w.write_record(r).unwrap();
                }
                let doc = w.finish().unwrap();
                let back: Vec<Record> = XmlReader::from_slice(&doc, Default::default())
                    .filter_map(|r| r.ok())
                    .collect();
                if layout != XmlLayout::Pymarc {
                    assert_eq!(back.len(), records.len(), "{name}");
                }
                assert_paths_agree(&doc);
            }
        }
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The features document behind no mark, one, two, and the start of one.
fn with_marks() -> Vec<Vec<u8>> {
    [
        &b""[..],
        BOM,
        b"\xEF\xBB\xBF\xEF\xBB\xBF",
        b"\xEF\xBB",
        b"\xEF",
    ]
    .iter()
    .map(|mark| [*mark, FEATURES.as_bytes()].concat())
    .collect()
}

#[test]
fn every_truncation_reads_the_same_both_ways() {
    for doc in with_marks() {
        for end in 0..=doc.len() {
            assert_paths_agree(&doc[..end]);
        }
    }
}

#[test]
fn every_deleted_byte_reads_the_same_both_ways() {
    let doc = FEATURES.as_bytes();
    for at in 0..doc.len() {
        let damaged = [&doc[..at], &doc[at + 1..]].concat();
        assert_paths_agree(&damaged);
    }
}

#[test]
fn replaced_and_inserted_bytes_read_the_same_both_ways() {
    let doc = [BOM, FEATURES.as_bytes()].concat();
    // The bytes markup and text turn on, and bytes that are not UTF-8.
    let bytes = b"<>&;\"'=/ \r\n:![]?-x\x00\x80\xC3\xEF\xFF";
    for at in 0..doc.len() {
        for &b in bytes {
            let mut replaced = doc.clone();
            replaced[at] = b;
            assert_paths_agree(&replaced);
        }
        let b = bytes[at % bytes.len()];
        let inserted = [&doc[..at], &[b][..], &doc[at..]].concat();
        assert_paths_agree(&inserted);
    }
}

#[test]
fn characters_xml_does_not_allow_are_found_wherever_they_stand() {
    // U+FF21 begins like U+FFFE and U+FFFF and is allowed.
    let doc = FEATURES.as_bytes();
    for c in ["\u{1}", "\u{1f}", "\u{fffe}", "\u{ffff}", "\u{ff21}"] {
        for at in 0..=doc.len() {
            let inserted = [&doc[..at], c.as_bytes(), &doc[at..]].concat();
            assert_paths_agree(&inserted);
        }
    }
}
