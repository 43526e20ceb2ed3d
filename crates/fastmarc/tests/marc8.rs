//! MARC-8 decoding: pymarc's own MARC-8/UTF-8 test corpus, and one test per rule of
//! pymarc 5.4.0's decoder (inputs built here).

use fastmarc::marc8::{decode_marc8_into, marc8_to_unicode, Marc8Error, Marc8Warning};
use std::path::PathBuf;

mod common;

fn pymarc_test_dir() -> PathBuf {
    let dir = common::pymarc_test_dir();
    assert!(
        dir.join("test_marc8.txt").is_file() && dir.join("test_utf8.txt").is_file(),
        "test_marc8.txt or test_utf8.txt missing from {}",
        dir.display()
    );
    dir
}

/// Decode, returning the text and the warnings.
fn decode(input: &[u8]) -> (String, Vec<Marc8Warning>) {
    let mut out = String::new();
    let mut warnings = Vec::new();
    decode_marc8_into(input, &mut out, &mut warnings)
        .unwrap_or_else(|e| panic!("{input:x?}: unexpected error {e}"));
    (out, warnings)
}

fn text(input: &[u8]) -> String {
    decode(input).0
}

fn error(input: &[u8]) -> Marc8Error {
    let mut out = String::from("kept");
    let mut warnings = Vec::new();
    let err = decode_marc8_into(input, &mut out, &mut warnings)
        .expect_err(&format!("{input:x?} should not decode"));
    assert_eq!(out, "kept", "output must be untouched on error");
    assert_eq!(marc8_to_unicode(input), Err(err.clone()));
    err
}

/// The space an EACC character cut short by the end of `len` bytes of input reads as.
fn cut_short(byte_offset: usize, len: usize) -> Marc8Warning {
    Marc8Warning {
        cut_short_input_len: Some(len),
        ..warning(byte_offset, 0x20, 0x31, 0x45)
    }
}

fn warning(byte_offset: usize, code_point: u32, g0: u8, g1: u8) -> Marc8Warning {
    Marc8Warning {
        byte_offset,
        code_point,
        g0,
        g1,
        cut_short_input_len: None,
    }
}

#[test]
fn pymarc_marc8_and_utf8_line_files_agree() {
    let dir = pymarc_test_dir();
    let marc8 = std::fs::read(dir.join("test_marc8.txt")).unwrap();
    let utf8 = std::fs::read(dir.join("test_utf8.txt")).unwrap();
    let mut count = 0;
    for (i, (m, u)) in marc8
        .split(|&b| b == b'\n')
        .zip(utf8.split(|&b| b == b'\n'))
        .enumerate()
    {
        if m.is_empty() || u.is_empty() {
            break;
        }
        let got = marc8_to_unicode(m).unwrap_or_else(|e| panic!("line {}: {e}", i + 1));
        assert_eq!(
            got.as_bytes(),
            u,
            "line {}: {:?} decoded to {:?}, expected {:?}",
            i + 1,
            String::from_utf8_lossy(m),
            got,
            String::from_utf8_lossy(u)
        );
        count += 1;
    }
    assert_eq!(count, 1515);
}

#[test]
fn empty_and_plain_ascii() {
    assert_eq!(decode(b""), (String::new(), vec![]));
    let ascii: Vec<u8> = (0x20..=0x7Eu8).cycle().take(300).collect();
    assert_eq!(text(&ascii).as_bytes(), &ascii[..]);
}

#[test]
fn appends_and_normalises_only_the_new_text() {
    let mut out = String::from("e\u{301}|");
    let mut warnings = Vec::new();
    decode_marc8_into(b"\xe2a", &mut out, &mut warnings).unwrap();
    assert_eq!(out, "e\u{301}|\u{e1}");
    decode_marc8_into(b" plain", &mut out, &mut warnings).unwrap();
    assert_eq!(out, "e\u{301}|\u{e1} plain");
    assert!(warnings.is_empty());
}

#[test]
fn each_call_starts_in_basic_latin_and_ansel() {
    assert_eq!(text(b"\x1b(Nab"), "\u{410}\u{411}");
    assert_eq!(text(b"ab"), "ab");
    assert_eq!(text(b"\x1b)Q\xc0"), "\u{491}");
    assert_eq!(text(b"\xa1"), "\u{141}");
}

#[test]
fn ansel_letters_and_the_2004_2005_additions() {
    assert_eq!(
        text(b"\xa1\xb1\xc7\xc8\xae"),
        "\u{141}\u{142}\u{df}\u{20ac}\u{2bc}"
    );
}

#[test]
fn combining_marks_go_after_the_next_base_and_are_composed() {
    assert_eq!(text(b"caf\xe2e"), "caf\u{e9}");
    assert_eq!(text(b"\xe1a"), "\u{e0}");
    // Two marks on one letter: the order sent is kept, then NFC composes.
    assert_eq!(text(b"\xe3\xe2a"), "\u{1ea5}");
    // A mark with no precomposed form stays decomposed.
    assert_eq!(text(b"\xf2x"), "x\u{323}");
    // Marks are released by the very next base character only.
    assert_eq!(text(b"\xe8ab"), "\u{e4}b");
    // Double-width marks (ligature halves) are combining too.
    assert_eq!(text(b"\xebt\xecs"), "t\u{fe20}s\u{fe21}");
}

#[test]
fn combining_marks_left_at_the_end_are_dropped() {
    assert_eq!(text(b"abc\xe2"), "abc");
    assert_eq!(text(b"\xe2\xe3"), "");
    assert_eq!(text(b"x\xe2\x1b(B"), "x");
}

#[test]
fn control_codes_are_dropped() {
    assert_eq!(text(b"a\x00b\x1dc\x1fd"), "abcd");
    assert_eq!(text(b"a\x81b\x88c\x8dd\x9fe"), "abcde");
    // Held marks survive a dropped control code.
    assert_eq!(text(b"\xe2\x1ee"), "\u{e9}");
}

#[test]
fn del_and_0x80_are_looked_up_and_unmapped() {
    let (s, w) = decode(b"a\x7fb\x80c");
    assert_eq!(s, "a b c");
    assert_eq!(
        w,
        vec![warning(1, 0x7f, 0x42, 0x45), warning(3, 0x80, 0x42, 0x45)]
    );
}

#[test]
fn unmapped_characters_become_spaces_with_warnings() {
    let (s, w) = decode(b"ab\xffc\xe2\xbf");
    // 0xBF has no ANSEL mapping; its space is a base character, so it takes the held
    // acute accent.
    assert_eq!(s, "ab c \u{301}");
    assert_eq!(w, vec![warning(2, 0xff, 66, 69), warning(5, 0xbf, 66, 69)]);
    assert_eq!(
        w[0].to_string(),
        "Unable to parse character 0xff in g0=66 g1=69"
    );
    assert_eq!(
        w[1].to_string(),
        "Unable to parse character 0xbf in g0=66 g1=69"
    );
}

#[test]
fn g0_escapes() {
    // ESC ( F, ESC , F, ESC $ F all set G0.
    assert_eq!(text(b"\x1b(Sab\x1b(Bab"), "\u{3b1}\u{3b2}ab");
    assert_eq!(text(b"\x1b,Nab"), "\u{410}\u{411}");
    assert_eq!(text(b"\x1b(2`a"), "\u{5d0}\u{5d1}");
    // Greek with its own combining acute (0x22).
    assert_eq!(text(b"\x1b(S\"a"), "\u{3ac}");
    // ESC $ , F: the comma is skipped.
    assert_eq!(text(b"\x1b$,1\x21\x30\x21\x1b(Bz"), "\u{4e00}z");
}

#[test]
fn g1_escapes() {
    // ESC ) F and ESC - F set G1; high bytes are then looked up in the new set, by the
    // raw byte value.
    assert_eq!(text(b"\x1b)Q\xc0\x1b-E\xa1"), "\u{491}\u{141}");
    // Basic Cyrillic has no codes above 0x80: every high byte is unmapped.
    let (s, w) = decode(b"\x1b)N\xe1a");
    assert_eq!(s, " a");
    assert_eq!(w, vec![warning(3, 0xe1, 0x42, 0x4e)]);
    // G1 does not affect bytes below 0x80.
    assert_eq!(text(b"\x1b)Nab"), "ab");
}

#[test]
fn a_set_without_a_table_maps_nothing() {
    let (s, w) = decode(b"\x1b(Zab\xa1");
    assert_eq!(s, "  \u{141}");
    assert_eq!(
        w,
        vec![warning(3, 0x61, b'Z', 0x45), warning(4, 0x62, b'Z', 0x45)]
    );
    let (s, w) = decode(b"\x1b)!\xa1");
    assert_eq!(s, " ");
    assert_eq!(w, vec![warning(3, 0xa1, 0x42, b'!')]);
}

#[test]
fn escape_with_a_bare_final_byte() {
    // ESC F with F a known set designates G0 and goes on with the next byte.
    assert_eq!(text(b"CO\x1bb2\x1bs is a gas"), "CO\u{2082} is a gas");
    assert_eq!(text(b"x\x1bp2\x1bs"), "x\u{b2}");
    assert_eq!(text(b"\x1bNab\x1bsab"), "\u{410}\u{411}ab");
    // ESC s right at the end just stops.
    assert_eq!(text(b"abc\x1bs"), "abc");
    assert_eq!(text(b"\x1bs"), "");
}

#[test]
fn the_byte_after_esc_f_is_never_an_escape() {
    // After ESC b, the next ESC is read as a (dropped) control code, so the "s" that
    // follows is a character of the subscript set, which has no "s".
    let (s, w) = decode(b"\x1bb2\x1b\x1bs");
    assert_eq!(s, "\u{2082}");
    assert!(w.is_empty());
    let (s, w) = decode(b"\x1bb\x1bs2");
    assert_eq!(s, " \u{2082}");
    assert_eq!(w, vec![warning(3, 0x73, 0x62, 0x45)]);
}

#[test]
fn escape_with_an_unknown_byte_is_a_dropped_control() {
    assert_eq!(text(b"a\x1bZb"), "aZb");
    assert_eq!(text(b"a\x1b\x1b(Sa"), "a\u{3b1}");
    assert_eq!(text(b"\x1b!"), "!");
}

#[test]
fn g0_escape_cut_short_keeps_the_esc() {
    assert_eq!(text(b"Soci\xe2et\x1b,"), "Soci\u{e9}t\u{1b},");
    assert_eq!(text(b"\x1b("), "\u{1b}(");
    assert_eq!(text(b"ab\x1b$"), "ab\u{1b}$");
    // The kept ESC does not release held marks: they go on the next base character.
    assert_eq!(text(b"\xe2\x1b("), "\u{1b}(\u{301}");
    assert_eq!(text(b"x\xe8\x1b$"), "x\u{1b}$\u{308}");
}

#[test]
fn eacc_three_byte_characters() {
    assert_eq!(
        text(b"\x1b$1\x21\x30\x21\x21\x4c\x35\x1b(B."),
        "\u{4e00}\u{7565}."
    );
    // In EACC mode every byte is part of a triple, even bytes below 0x20 or ESC after
    // the first.
    let (s, w) = decode(b"\x1b$1\x00\x00\x41");
    assert_eq!(s, " ");
    assert_eq!(w, vec![warning(3, 0x41, 0x31, 0x45)]);
    // A triple that comes out below 0x20 (or in 0x81..=0x9F) is a dropped control.
    assert_eq!(text(b"\x1b$1\x00\x00\x1f\x00\x00\x85"), "");
    // ESC 1 (bare final byte) also enters EACC.
    assert_eq!(text(b"\x1b1\x21\x30\x21"), "\u{4e00}");
}

#[test]
fn eacc_compatibility_ideographs_are_normalised() {
    // 0x4B4B3E maps to U+F9AD, which NFC replaces with U+73B2.
    assert_eq!(text(b"\x1b$1\x4b\x4b\x3e"), "\u{73b2}");
}

#[test]
fn eacc_cut_short_tail_is_a_space_looked_up_in_eacc() {
    let (s, w) = decode(b"\x1b$1\x21\x30\x21\x7b\x36");
    assert_eq!(s, "\u{4e00} ");
    assert_eq!(w, vec![cut_short(6, 8)]);
    // pymarc's words for it (it prints them even when quiet).
    assert_eq!(
        w[0].overrun().as_deref(),
        Some("Multi-byte position 9 exceeds length of marc8 string 8")
    );
    let (s, w) = decode(b"\x1b$1\x21");
    assert_eq!(s, " ");
    assert_eq!(w, vec![cut_short(3, 4)]);
    // ESC 1 as the last two bytes: the tail is empty and still reads as a space.
    let (s, w) = decode(b"ab\x1b1");
    assert_eq!(s, "ab ");
    assert_eq!(w, vec![cut_short(4, 4)]);
    // The escape back to basic Latin can itself be swallowed by a triple.
    let (s, w) = decode(b"\x1b$1\x21\x30\x21\x21\x1b(B");
    assert_eq!(s, "\u{4e00}  ");
    assert_eq!(w, vec![warning(6, 0x211b28, 0x31, 0x45), cut_short(9, 10)]);
}

#[test]
fn extra_three_byte_codes() {
    assert_eq!(
        text(b"\x1b$1\x21\x20\x3d\x21\x20\x40\x7f\x20\x14\x7f\x20\x19\x7f\x20\x20\x7f\x21\x22"),
        "\u{2026}\u{201c}\u{2014}\u{2019}\u{201d}\u{2122}"
    );
    // They do not release held marks.
    assert_eq!(text(b"\xe2\x1b$1\x21\x20\x3d\x1b(Be"), "\u{2026}\u{e9}");
}

#[test]
fn long_runs_of_held_marks() {
    // Marks held across many characters that do not release them, then a base.
    let n = 20_000;
    let mut input = vec![0xe2; n];
    input.extend_from_slice(b"\x1b$1");
    for _ in 0..n {
        input.extend_from_slice(b"\x21\x20\x3d");
    }
    input.extend_from_slice(b"\x1b(Bx");
    let expected = "\u{2026}".repeat(n) + "x" + &"\u{301}".repeat(n);
    assert_eq!(text(&input), expected);
}

#[test]
fn marc8_errors_for_escapes_cut_short() {
    // A lone ESC at the end.
    assert_eq!(error(b"\x1b"), Marc8Error { byte_offset: 0 });
    assert_eq!(error(b"abc\x1b"), Marc8Error { byte_offset: 3 });
    // G1 escapes need their final byte.
    assert_eq!(error(b"x\x1b)"), Marc8Error { byte_offset: 1 });
    assert_eq!(error(b"x\x1b-"), Marc8Error { byte_offset: 1 });
    // ESC $ , needs its final byte.
    assert_eq!(error(b"\x1b$,"), Marc8Error { byte_offset: 0 });
    // ESC F (one-byte set) as the last two bytes: there is no character to read.
    assert_eq!(error(b"ab\x1bN"), Marc8Error { byte_offset: 2 });
    assert_eq!(error(b"\x1bE"), Marc8Error { byte_offset: 0 });
    // The error wins even after warnings and earlier text.
    assert_eq!(error(b"\xe2a\xff\x1b)"), Marc8Error { byte_offset: 3 });
}

#[test]
fn error_and_warning_messages() {
    let e = Marc8Error { byte_offset: 7 };
    assert!(e
        .to_string()
        .contains("invalid multibyte character encoding"));
    let boxed: Box<dyn std::error::Error> = Box::new(e);
    assert!(boxed.to_string().contains('7'));
    assert_eq!(
        warning(0, 0x211b28, 0x31, 0x45).to_string(),
        "Unable to parse character 0x211b28 in g0=49 g1=69"
    );
}

#[test]
fn not_errors_near_the_end() {
    // ESC ( and ESC $ with one byte: the ESC is kept (see above). ESC s: stop.
    // ESC 1: EACC space. ESC ( F at the very end: nothing more to decode.
    assert_eq!(text(b"ab\x1b(B"), "ab");
    assert_eq!(text(b"ab\x1b)E"), "ab");
    assert_eq!(text(b"ab\x1b$,1"), "ab");
}
