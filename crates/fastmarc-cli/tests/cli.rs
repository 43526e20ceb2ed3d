//! The `fastmarc` binary, run as a user runs it, on files built here with the core API and
//! on the bundled sample.

use fastmarc::iso2709::{record_to_bytes, SliceReader};
use fastmarc::{Field, Leader, Record, Subfield, Tag, TextEncoding};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_fastmarc");

fn sample_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sample.mrc")
}

fn sample_bytes() -> Vec<u8> {
    std::fs::read(sample_path()).expect("the bundled sample data/sample.mrc")
}

fn fastmarc(args: &[&str]) -> Output {
    fastmarc_in(None, args, None)
}

/// Run the binary in `dir` (if given) with `stdin` (empty if `None`).
fn fastmarc_in(dir: Option<&Path>, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    // What the arguments name before the run, to find the files it writes.
    let candidates: Vec<PathBuf> = args
        .iter()
        .flat_map(|arg| {
            let path = match dir {
                Some(d) => d.join(arg),
                None => PathBuf::from(arg),
            };
            [PathBuf::from(format!("{}.partial", path.display())), path]
        })
        .collect();
    let stamp = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let before: Vec<_> = candidates
        .iter()
        .map(|p| (stamp(p), std::fs::read(p).ok()))
        .collect();
    let mut child = cmd.spawn().expect("run fastmarc");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.unwrap_or_default().to_vec();
    // Feed stdin from a thread so a large input cannot deadlock against a full stdout.
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait for fastmarc");
    feeder.join().unwrap();
    // Every MARCXML document the command writes must be well-formed for other tools.
    if out.stdout.starts_with(b"<?xml") {
        assert_xmllint(&out.stdout);
    }
    for (path, (stamp_before, bytes_before)) in candidates.iter().zip(before) {
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        let written = stamp(path) != stamp_before || bytes_before.as_ref() != Some(&bytes);
        if written && bytes.starts_with(b"<?xml") {
            assert_xmllint(&bytes);
        }
    }
    out
}

/// `xmllint --noout` accepts the document (libxml2-utils, installed by scripts/install.sh).
#[track_caller]
fn assert_xmllint(doc: &[u8]) {
    let mut child = Command::new("xmllint")
        .args(["--noout", "-"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("xmllint (libxml2-utils) is needed by the tests: run scripts/install.sh");
    let mut input = child.stdin.take().unwrap();
    let data = doc.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert!(
        out.status.success(),
        "xmllint rejects the document: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&doc[..doc.len().min(2000)])
    );
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("UTF-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn assert_status(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        stderr(o)
    );
    assert!(!stderr(o).contains("panicked"), "{}", stderr(o));
}

fn tag(s: &str) -> Tag {
    Tag::new(s).unwrap()
}

/// Record `i` of a generated file: UTF-8 text with accents, a varying number of 650s, and
/// varying leader/06 and leader/07.
fn record(i: usize) -> Record {
    let mut leader = Leader::from_bytes(b"00000nam a2200000 i 4500").unwrap();
    if i % 5 == 4 {
        leader.set_bibliographic_level(b's');
    }
    if i % 7 == 6 {
        leader.set_type_of_record(b'c');
    }
    let mut r = Record::with_leader(leader);
    r.push(&Field::control(tag("001"), format!("rec{i:05}")));
    r.push(&Field::control(
        tag("008"),
        "240101s2024    xx            000 0 eng d",
    ));
    r.push(&Field::data(
        tag("245"),
        '1',
        '0',
        vec![
            Subfield::new('a', format!("Títle number {i} :")),
            Subfield::new('b', "a <tale> & \"more\" /"),
            Subfield::new('c', "Ünïcode Äuthor."),
        ],
    ));
    for k in 0..i % 3 {
        r.push(&Field::data(
            tag("650"),
            ' ',
            '0',
            vec![
                Subfield::new('a', format!("Subject {k}")),
                Subfield::new('x', "History."),
            ],
        ));
    }
    r
}

fn records(n: usize) -> Vec<Record> {
    (0..n).map(record).collect()
}

fn iso(recs: &[Record]) -> Vec<u8> {
    recs.iter()
        .flat_map(|r| record_to_bytes(r).unwrap())
        .collect()
}

/// Each record's bytes, separately.
fn iso_parts(recs: &[Record]) -> Vec<Vec<u8>> {
    recs.iter().map(|r| record_to_bytes(r).unwrap()).collect()
}

fn read_iso(bytes: &[u8]) -> Vec<Record> {
    SliceReader::new(bytes)
        .collect::<Result<_, _>>()
        .expect("valid ISO 2709")
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The MARC text of records as `dump` and `convert --to text` write them.
fn text_of(recs: &[Record]) -> String {
    recs.iter()
        .map(|r| r.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Five records, the second with a non-digit base address (a parse error inside a
/// well-framed record) and the fourth with a non-digit record length (broken framing).
/// Returns the file and the byte offsets of the two errors.
fn file_with_two_bad_records(dir: &Path) -> (PathBuf, u64, u64) {
    let parts = iso_parts(&records(5));
    let starts: Vec<u64> = parts
        .iter()
        .scan(0u64, |at, p| {
            let s = *at;
            *at += p.len() as u64;
            Some(s)
        })
        .collect();
    let mut parts = parts;
    parts[1][12] = b'x';
    parts[3][..5].copy_from_slice(b"abcde");
    let path = write(dir, "bad.mrc", &parts.concat());
    (path, starts[1] + 12, starts[3])
}

// ---- help and usage ----------------------------------------------------------------------

#[test]
fn help_for_the_command_and_every_subcommand() {
    let o = fastmarc(&["--help"]);
    assert_status(&o, 0);
    for sub in [
        "count", "stats", "convert", "dump", "validate", "split", "cat",
    ] {
        assert!(
            stdout(&o).contains(sub),
            "{sub} missing from\n{}",
            stdout(&o)
        );
        let o = fastmarc(&[sub, "--help"]);
        assert_status(&o, 0);
        assert!(
            stdout(&o).contains(&format!("Usage: fastmarc {sub}")),
            "{}",
            stdout(&o)
        );
    }
    let o = fastmarc(&["--version"]);
    assert_status(&o, 0);
    assert!(stdout(&o).starts_with("fastmarc "), "{}", stdout(&o));
}

#[test]
fn usage_errors_exit_2() {
    let dir = TempDir::new().unwrap();
    let sample = sample_path();
    let sample = s(&sample);
    let csv = dir.path().join("out.csv");
    for args in [
        vec![],
        vec!["frobnicate"],
        vec!["count", "--from", "marcxml", sample],
        vec!["count", "--threads", "0", sample],
        vec!["count", "--bogus", sample],
        vec!["convert", sample, "out.mrc", "--to", "pdf"],
        vec!["convert", sample, "out.mrc", "-o", "other.mrc"],
        vec!["convert", sample, "out.xml", "--to-encoding", "marc8"],
        vec!["convert", sample, "out.mrc", "--set-leader", "24=a"],
        vec!["convert", sample, s(&csv)],
        vec!["dump", sample, "--tag", "24"],
        vec!["split", sample],
        vec!["split", sample, "--records", "0"],
        vec!["split", sample, "--records", "many"],
        vec!["cat"],
    ] {
        let o = fastmarc(&args);
        assert_status(&o, 2);
        assert!(o.stdout.is_empty(), "{args:?}: {}", stdout(&o));
        assert!(!o.stderr.is_empty(), "{args:?}: no message");
    }
    assert!(!csv.exists(), "a usage error must not create the output");
}

#[test]
fn convert_refuses_to_overwrite_its_input() {
    let dir = TempDir::new().unwrap();
    let bytes = iso(&records(3));
    let p = write(dir.path(), "in.mrc", &bytes);
    let o = fastmarc(&["convert", s(&p), s(&p)]);
    assert_status(&o, 2);
    assert!(
        stderr(&o).contains("would be overwritten"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&p).unwrap(), bytes);
    let o = fastmarc(&["cat", s(&p), "-o", s(&p)]);
    assert_status(&o, 2);
    assert_eq!(std::fs::read(&p).unwrap(), bytes);
}

// ---- count -------------------------------------------------------------------------------

#[test]
fn count_one_file_prints_only_the_number() {
    let o = fastmarc(&["count", s(&sample_path())]);
    assert_status(&o, 0);
    assert_eq!(stdout(&o), format!("{}\n", read_iso(&sample_bytes()).len()));
}

#[test]
fn count_several_files_and_stdin() {
    let dir = TempDir::new().unwrap();
    let a = write(dir.path(), "a.mrc", &iso(&records(3)));
    let b = write(dir.path(), "b.mrc", &iso(&records(11)));
    let o = fastmarc_in(None, &["count", s(&a), "-", s(&b)], Some(&iso(&records(4))));
    assert_status(&o, 0);
    assert_eq!(
        stdout(&o),
        format!("3\t{}\n4\t<stdin>\n11\t{}\n18\ttotal\n", s(&a), s(&b))
    );
}

#[test]
fn count_reads_every_format_and_thread_setting_alike() {
    let dir = TempDir::new().unwrap();
    let mrc = write(dir.path(), "r.mrc", &iso(&records(40)));
    let xml = dir.path().join("r.xml");
    let json = dir.path().join("r.json");
    assert_status(&fastmarc(&["convert", s(&mrc), s(&xml)]), 0);
    assert_status(&fastmarc(&["convert", s(&mrc), s(&json)]), 0);
    for args in [
        vec!["count", s(&mrc)],
        vec!["count", "--threads", "1", s(&mrc)],
        vec!["count", "--threads", "2", s(&mrc)],
        vec!["count", s(&xml)],
        vec!["count", s(&json)],
        vec!["count", "--from", "xml", s(&xml)],
        vec!["count", "--from", "json", s(&json)],
    ] {
        let o = fastmarc(&args);
        assert_status(&o, 0);
        assert_eq!(stdout(&o), "40\n", "{args:?}");
    }
}

#[test]
fn empty_input_has_no_records() {
    let o = fastmarc_in(None, &["count", "-"], Some(b""));
    assert_status(&o, 0);
    assert_eq!(stdout(&o), "0\n");
}

// ---- format detection and overrides ----------------------------------------------------

#[test]
fn formats_are_detected_on_stdin_and_overridable() {
    let recs = records(6);
    let bytes = iso(&recs);
    let xml = fastmarc_in(None, &["convert", "-", "-", "--to", "xml"], Some(&bytes));
    assert_status(&xml, 0);
    assert!(xml.stdout.starts_with(b"<?xml"));
    let json = fastmarc_in(None, &["convert", "-", "-", "--to", "json"], Some(&bytes));
    assert_status(&json, 0);
    assert!(json.stdout.starts_with(b"["));

    // Detected: XML and JSON on stdin back to ISO 2709 (stdout's default).
    for doc in [&xml.stdout, &json.stdout] {
        let o = fastmarc_in(None, &["convert", "-", "-"], Some(doc));
        assert_status(&o, 0);
        assert_eq!(o.stdout, bytes);
    }
    // Leading whitespace and a byte order mark before XML are fine.
    let mut padded = b"\xEF\xBB\xBF\n  ".to_vec();
    padded.extend_from_slice(&xml.stdout);
    let o = fastmarc_in(None, &["count", "-"], Some(&padded));
    assert_status(&o, 0);
    assert_eq!(stdout(&o), "6\n");

    // Forcing the wrong format is a data error at the first byte.
    let o = fastmarc_in(
        None,
        &["count", "--from", "iso2709", "-"],
        Some(&xml.stdout),
    );
    assert_status(&o, 1);
    assert!(
        stderr(&o).starts_with("fastmarc: <stdin>: record 1, byte offset 0: "),
        "{}",
        stderr(&o)
    );
    let o = fastmarc_in(None, &["count", "--from", "json", "-"], Some(&bytes));
    assert_status(&o, 1);
    assert!(stderr(&o).contains("MARC-in-JSON"), "{}", stderr(&o));

    // Something that is no MARC at all.
    let o = fastmarc_in(None, &["count", "-"], Some(b"Hello, world\n"));
    assert_status(&o, 1);
    assert!(stderr(&o).contains("--from"), "{}", stderr(&o));
}

#[test]
fn output_format_follows_the_extension_unless_overridden() {
    let dir = TempDir::new().unwrap();
    let recs = records(5);
    let mrc = write(dir.path(), "in.mrc", &iso(&recs));
    for (name, starts) in [
        ("o.xml", &b"<?xml"[..]),
        ("o.json", b"["),
        ("o.txt", b"=LDR  "),
        ("o.dat", b"0"),
        ("o.marc", b"0"),
    ] {
        let out = dir.path().join(name);
        assert_status(&fastmarc(&["convert", s(&mrc), s(&out)]), 0);
        assert!(std::fs::read(&out).unwrap().starts_with(starts), "{name}");
    }
    let out = dir.path().join("forced.mrc");
    assert_status(&fastmarc(&["convert", s(&mrc), s(&out), "--to", "xml"]), 0);
    assert!(std::fs::read(&out).unwrap().starts_with(b"<?xml"));
    let out = dir.path().join("anything.out");
    assert_status(&fastmarc(&["convert", s(&mrc), s(&out), "--to", "text"]), 0);
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        text_of(&read_iso(&iso(&recs)))
    );
}

// ---- convert -----------------------------------------------------------------------------

#[test]
fn iso_to_xml_to_iso_gives_identical_records_and_bytes() {
    let dir = TempDir::new().unwrap();
    for (name, bytes) in [
        ("gen.mrc", iso(&records(30))),
        ("sample.mrc", sample_bytes()),
    ] {
        let src = write(dir.path(), name, &bytes);
        let xml = dir.path().join("x.xml");
        let back = dir.path().join("back.mrc");
        assert_status(&fastmarc(&["convert", s(&src), s(&xml)]), 0);
        let parsed = fastmarc::xml::parse_xml(&std::fs::read(&xml).unwrap()).unwrap();
        assert_eq!(parsed, read_iso(&bytes));
        assert_status(&fastmarc(&["convert", s(&xml), s(&back)]), 0);
        let again = std::fs::read(&back).unwrap();
        assert_eq!(read_iso(&again), read_iso(&bytes), "{name}");
        assert_eq!(again, bytes, "{name}: bytes differ");
    }
}

#[test]
fn iso_to_json_to_iso_gives_identical_records() {
    let dir = TempDir::new().unwrap();
    let bytes = sample_bytes();
    let json = dir.path().join("s.json");
    let back = dir.path().join("back.mrc");
    assert_status(
        &fastmarc(&["convert", "--threads", "2", s(&sample_path()), s(&json)]),
        0,
    );
    let parsed = fastmarc::json::parse_json(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(parsed, read_iso(&bytes));
    assert_status(&fastmarc(&["convert", s(&json), s(&back)]), 0);
    assert_eq!(read_iso(&std::fs::read(&back).unwrap()), read_iso(&bytes));
    // And XML <-> JSON directly.
    let xml = dir.path().join("s.xml");
    let json2 = dir.path().join("s2.json");
    assert_status(&fastmarc(&["convert", s(&json), s(&xml)]), 0);
    assert_status(&fastmarc(&["convert", s(&xml), s(&json2)]), 0);
    assert_eq!(
        std::fs::read(&json).unwrap(),
        std::fs::read(&json2).unwrap()
    );
}

#[test]
fn convert_to_text_is_the_records_text_form() {
    let recs = records(4);
    let o = fastmarc_in(
        None,
        &["convert", "-", "-", "--to", "text"],
        Some(&iso(&recs)),
    );
    assert_status(&o, 0);
    assert_eq!(stdout(&o), text_of(&read_iso(&iso(&recs))));
    assert!(stdout(&o).contains("=245  10$aTítle number 0 :$ba <tale>"));
}

/// A MARC-8 record (leader/09 blank): "Café" with the acute sent before the `e`, as MARC-8
/// does (0xE2 is the combining acute in ANSEL).
fn marc8_record_bytes() -> Vec<u8> {
    let mut leader = Leader::from_bytes(b"00000nam  2200000   4500").unwrap();
    leader.set_character_coding_scheme(b' ');
    let mut r = Record::with_leader(leader);
    r.set_encoding(TextEncoding::Raw);
    r.push(&Field::control(tag("001"), "m8"));
    r.push(&Field::data(
        tag("245"),
        '0',
        '0',
        vec![Subfield::new('a', "Caf\u{e2}e society")],
    ));
    let bytes = record_to_bytes(&r).unwrap();
    assert_eq!(bytes[9], b' ');
    assert!(bytes.windows(2).any(|w| w == b"\xE2e"));
    bytes
}

#[test]
fn marc8_is_converted_to_utf8_with_leader_09_a() {
    let dir = TempDir::new().unwrap();
    let src = write(dir.path(), "m8.mrc", &marc8_record_bytes());
    let out = dir.path().join("u.mrc");
    assert_status(&fastmarc(&["convert", s(&src), s(&out)]), 0);
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(bytes[9], b'a');
    let recs = read_iso(&bytes);
    assert_eq!(recs[0].title().as_deref(), Some("Café society"));
    assert!(bytes.windows(2).any(|w| w == "é".as_bytes()));

    for to in ["xml", "json", "text"] {
        let o = fastmarc(&["convert", s(&src), "-", "--to", to]);
        assert_status(&o, 0);
        let text = stdout(&o);
        assert!(
            text.contains("nam a22"),
            "{to}: leader/09 is not 'a': {text}"
        );
        // JSON escapes non-ASCII; the others write it as UTF-8.
        let cafe = if to == "json" { "Caf\\u00e9" } else { "Café" };
        assert!(text.contains(cafe), "{to}: {text}");
    }
    let stats = fastmarc(&["stats", s(&src)]);
    assert_status(&stats, 0);
    assert!(
        stdout(&stats).contains("MARC-8                  1"),
        "{}",
        stdout(&stats)
    );
}

#[test]
fn convert_stops_at_a_bad_record_but_keeps_what_came_before() {
    let dir = TempDir::new().unwrap();
    let (bad, first_error, _) = file_with_two_bad_records(dir.path());
    let out = dir.path().join("out.xml");
    let o = fastmarc(&["convert", s(&bad), s(&out)]);
    assert_status(&o, 1);
    assert_eq!(
        stderr(&o).lines().next().unwrap(),
        format!(
            "fastmarc: {}: record 2, byte offset {first_error}: base address (leader/12-16) is \
             not digits ({} not written; what was converted before is in {}.partial)",
            s(&bad),
            s(&out),
            s(&out)
        )
    );
    // No file that looks complete: the closed document, with the one record before the
    // error, is kept under another name.
    assert!(!out.exists());
    assert!(stderr(&o).contains("out.xml.partial"), "{}", stderr(&o));
    let partial = dir.path().join("out.xml.partial");
    let written = fastmarc::xml::parse_xml(&std::fs::read(&partial).unwrap()).unwrap();
    assert_eq!(written, vec![read_iso(&iso(&records(1))).remove(0)]);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn permissive_skips_bad_records_with_warnings_and_keeps_every_good_one() {
    let dir = TempDir::new().unwrap();
    let (bad, first_error, second_error) = file_with_two_bad_records(dir.path());
    let good: Vec<Record> = [0, 2, 4].iter().map(|&i| record(i)).collect();
    for threads in ["1", "2"] {
        let out = dir.path().join(format!("out{threads}.mrc"));
        let o = fastmarc(&[
            "convert",
            "--permissive",
            "--threads",
            threads,
            s(&bad),
            s(&out),
        ]);
        assert_status(&o, 0);
        assert_eq!(
            read_iso(&std::fs::read(&out).unwrap()),
            read_iso(&iso(&good))
        );
        let err = stderr(&o);
        let warnings: Vec<&str> = err.lines().collect();
        assert_eq!(warnings.len(), 3, "{err}");
        assert_eq!(
            warnings[2],
            format!(
                "fastmarc: {}: 5 records read, 3 written, 2 skipped",
                s(&bad)
            )
        );
        assert!(warnings[0].starts_with(&format!(
            "fastmarc: warning: {}: record 2, byte offset {first_error}: ",
            s(&bad)
        )));
        assert!(warnings[1].starts_with(&format!(
            "fastmarc: warning: {}: record 4, byte offset {second_error}: ",
            s(&bad)
        )));
    }
    let o = fastmarc(&["count", "--permissive", s(&bad)]);
    assert_status(&o, 0);
    assert_eq!(stdout(&o), "3\n");
    let o = fastmarc(&["count", s(&bad)]);
    assert_status(&o, 1);
    assert!(o.stdout.is_empty());
}

/// An ISO 2709 record assembled by hand from `(tag, field bytes)`, so that it can hold what
/// the writer would never produce. Each field's bytes must end with the field terminator.
fn raw_record(fields: &[(&str, &[u8])]) -> Vec<u8> {
    let base = 24 + 12 * fields.len() + 1;
    let mut directory = Vec::new();
    let mut data = Vec::new();
    for (tag, bytes) in fields {
        directory.extend_from_slice(format!("{tag}{:04}{:05}", bytes.len(), data.len()).as_bytes());
        data.extend_from_slice(bytes);
    }
    let total = base + data.len() + 1;
    let mut out = format!("{total:05}nam a22{base:05}   4500").into_bytes();
    out.extend_from_slice(&directory);
    out.push(0x1E);
    out.extend_from_slice(&data);
    out.push(0x1D);
    out
}

#[test]
fn permissive_reads_records_with_odd_indicators_as_pymarc_does() {
    // Three characters before the first subfield, as in pymarc's regression45.dat: strict
    // reading rejects the record; pymarc (and --permissive) keep it.
    let odd = raw_record(&[
        ("001", b"odd\x1e"),
        ("245", b"00\x1faKept /\x1e"),
        ("752", b"  \\\x1faRussian Federation\x1fdKostroma\x1e"),
    ]);
    let dir = TempDir::new().unwrap();
    let path = write(dir.path(), "odd.mrc", &[odd, iso(&records(1))].concat());

    let o = fastmarc(&["count", s(&path)]);
    assert_status(&o, 1);
    assert!(
        stderr(&o).contains("record 1, byte offset ") && stderr(&o).contains("752"),
        "{}",
        stderr(&o)
    );
    let o = fastmarc(&["validate", s(&path)]);
    assert_status(&o, 1);
    assert!(
        stdout(&o).contains("2 records checked, 1 problem"),
        "{}",
        stdout(&o)
    );

    for threads in ["1", "2"] {
        let o = fastmarc(&["count", "--permissive", "--threads", threads, s(&path)]);
        assert_status(&o, 0);
        assert_eq!(stdout(&o), "2\n");
        assert_eq!(stderr(&o), "");
    }
    let o = fastmarc(&["dump", "--permissive", "--tag", "752", s(&path)]);
    assert_status(&o, 0);
    assert!(
        stdout(&o).contains("$aRussian Federation$dKostroma"),
        "{}",
        stdout(&o)
    );
    // What --permissive converts is well-formed ISO 2709 that strict reading accepts.
    let out = dir.path().join("fixed.mrc");
    assert_status(
        &fastmarc(&["convert", "--permissive", s(&path), s(&out)]),
        0,
    );
    let fixed = read_iso(&std::fs::read(&out).unwrap());
    assert_eq!(fixed.len(), 2);
    assert_eq!(fixed[0].title().as_deref(), Some("Kept /"));
}

#[test]
fn permissive_reading_never_panics_on_a_span_inside_a_character() {
    // The 001's directory entry is made to point at "Caf" and the 245's "é" (bytes 52..54
    // of the data area): lenient parsing takes what the directory says and its last byte
    // as the field terminator, which would cut the "é" in two.
    let mut cut = raw_record(&[
        ("001", b"cut\x1e"),
        ("008", b"870303s1987    nyu           000 0 eng d\x1e"),
        ("245", "10\x1faCaf\u{e9} society\x1e".as_bytes()),
    ]);
    cut[24 + 3..24 + 12].copy_from_slice(b"000500049");
    let input = [cut, iso(&records(1))].concat();
    for args in [
        &["dump", "--permissive", "-"][..],
        &["dump", "--permissive", "--print-offsets", "-"],
        &["count", "--permissive", "-"],
        &["count", "--permissive", "--threads", "1", "-"],
        &["stats", "--permissive", "-"],
        &["convert", "--permissive", "-", "-", "--to", "text"],
        &["convert", "--permissive", "-", "-", "--to", "xml"],
        &[
            "convert",
            "--permissive",
            "--threads",
            "1",
            "-",
            "-",
            "--to",
            "json",
        ],
    ] {
        let o = fastmarc_in(None, args, Some(&input));
        assert_status(&o, 0);
        let err = stderr(&o);
        assert!(
            !err.contains("panicked") && !err.contains("backtrace"),
            "{args:?}: {err}"
        );
        let lines: Vec<&str> = err.lines().collect();
        // The cut character is read as U+FFFD, with a warning, rather than the record
        // lost; convert adds its summary.
        assert_eq!(
            lines[0],
            "fastmarc: warning: <stdin>: record 1, byte offset 0: field 001: text that is not \
             valid UTF-8 was read as U+FFFD",
            "{args:?}: {err}"
        );
        let expected = if args[0] == "convert" { 2 } else { 1 };
        assert_eq!(lines.len(), expected, "{args:?}: {err}");
        // The good record after it is still there, whole.
        if args[0] == "count" {
            assert_eq!(stdout(&o), "2\n", "{args:?}");
        } else if args[0] == "stats" {
            assert!(stdout(&o).contains("records    2\n"), "{}", stdout(&o));
            assert!(stdout(&o).contains("errors     0\n"), "{}", stdout(&o));
        } else {
            assert!(stdout(&o).contains("rec00000"), "{args:?}: {}", stdout(&o));
        }
    }
}

// ---- dump --------------------------------------------------------------------------------

#[test]
fn dump_prints_the_text_form_with_blank_lines_between_records() {
    let o = fastmarc(&["dump", s(&sample_path())]);
    assert_status(&o, 0);
    let recs = read_iso(&sample_bytes());
    assert_eq!(stdout(&o), text_of(&recs));
    assert_eq!(stdout(&o).matches("\n\n=LDR  ").count(), recs.len() - 1);
}

#[test]
fn dump_selects_tags_and_always_shows_the_leader() {
    let recs = records(3);
    let o = fastmarc_in(
        None,
        &["dump", "-", "--tag", "245", "--tag", "001,650"],
        Some(&iso(&recs)),
    );
    assert_status(&o, 0);
    let parsed = read_iso(&iso(&recs));
    let expected: Vec<String> = parsed
        .iter()
        .map(|r| {
            let mut t = format!("=LDR  {}\n", r.leader());
            for f in r.fields() {
                if ["001", "245", "650"].contains(&f.tag().as_str()) {
                    t.push_str(&f.to_string());
                    t.push('\n');
                }
            }
            t
        })
        .collect();
    assert_eq!(stdout(&o), expected.join("\n"));
    assert!(!stdout(&o).contains("=008"));
}

#[test]
fn dump_reads_xml_and_json_too() {
    let dir = TempDir::new().unwrap();
    let recs = records(3);
    let mrc = write(dir.path(), "r.mrc", &iso(&recs));
    let expected = fastmarc(&["dump", s(&mrc)]);
    for ext in ["xml", "json"] {
        let doc = dir.path().join(format!("r.{ext}"));
        assert_status(&fastmarc(&["convert", s(&mrc), s(&doc)]), 0);
        let o = fastmarc(&["dump", s(&doc)]);
        assert_status(&o, 0);
        assert_eq!(o.stdout, expected.stdout, "{ext}");
    }
}

// ---- stats -------------------------------------------------------------------------------

#[test]
fn stats_reports_counts_types_levels_tags() {
    let dir = TempDir::new().unwrap();
    let recs = records(14);
    let bytes = iso(&recs);
    let p = write(dir.path(), "r.mrc", &bytes);
    let o = fastmarc(&["stats", s(&p)]);
    assert_status(&o, 0);
    let out = stdout(&o);
    let line = |prefix: &str| -> Vec<String> {
        out.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .unwrap_or_else(|| panic!("no line {prefix:?} in\n{out}"))
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    assert_eq!(line("records"), ["records", "14"]);
    assert_eq!(
        line("bytes"),
        ["bytes".to_string(), bytes.len().to_string()]
    );
    assert_eq!(line("errors"), ["errors", "0"]);
    assert_eq!(line("UTF-8"), ["UTF-8", "14"]);
    assert_eq!(line("MARC-8"), ["MARC-8", "0"]);
    // leader/06: i % 7 == 6 is notated music (2 of 14); leader/07: i % 5 == 4 serial (2).
    assert_eq!(line("c  notated music"), ["c", "notated", "music", "2"]);
    assert_eq!(
        line("a  language material"),
        ["a", "language", "material", "12"]
    );
    assert_eq!(line("s  serial"), ["s", "serial", "2"]);
    assert_eq!(line("m  monograph/item"), ["m", "monograph/item", "12"]);
    // 650: k in 0..i%3 → occurrences sum(i%3), records with i%3 > 0.
    let occ: usize = (0..14).map(|i| i % 3).sum();
    let with: usize = (0..14).filter(|i| i % 3 > 0).count();
    assert_eq!(
        line("650"),
        ["650".into(), occ.to_string(), with.to_string()]
    );
    assert_eq!(line("245"), ["245", "14", "14"]);
}

#[test]
fn stats_lists_errors_and_fails_unless_permissive() {
    let dir = TempDir::new().unwrap();
    let (bad, first_error, second_error) = file_with_two_bad_records(dir.path());
    let o = fastmarc(&["stats", s(&bad)]);
    assert_status(&o, 1);
    let out = stdout(&o);
    assert!(out.contains("records    3\n"), "{out}");
    assert!(out.contains("errors     2\n"), "{out}");
    assert!(
        out.contains(&format!("record 2, byte offset {first_error}: ")),
        "{out}"
    );
    assert!(
        out.contains(&format!("record 4, byte offset {second_error}: ")),
        "{out}"
    );
    assert!(stderr(&o).contains("2 bad records"), "{}", stderr(&o));
    let o = fastmarc(&["stats", "--permissive", s(&bad)]);
    assert_status(&o, 0);
    assert_eq!(stdout(&o), out);
}

// ---- validate ----------------------------------------------------------------------------

#[test]
fn validate_clean_files_exit_0() {
    let o = fastmarc(&["validate", s(&sample_path())]);
    assert_status(&o, 0);
    let n = read_iso(&sample_bytes()).len();
    assert_eq!(
        stdout(&o),
        format!("{}: {n} records checked, no problems\n", s(&sample_path()))
    );
}

#[test]
fn validate_reports_every_problem_with_record_and_offset() {
    let dir = TempDir::new().unwrap();
    let (bad, first_error, second_error) = file_with_two_bad_records(dir.path());
    for threads in ["1", "2"] {
        let o = fastmarc(&["validate", "--threads", threads, s(&bad)]);
        assert_status(&o, 1);
        let name = s(&bad);
        assert_eq!(
            stdout(&o),
            format!(
                "{name}: record 2, byte offset {first_error}: base address (leader/12-16) is not digits\n\
                 {name}: record 4, byte offset {second_error}: record length is not five ASCII digits\n\
                 {name}: 5 records checked, 2 problems\n"
            )
        );
    }
    // Several files: one summary each; one bad file makes the status 1.
    let good = write(dir.path(), "good.mrc", &iso(&records(2)));
    let o = fastmarc(&["validate", s(&good), s(&bad)]);
    assert_status(&o, 1);
    assert!(stdout(&o).starts_with(&format!("{}: 2 records checked, no problems\n", s(&good))));
}

#[test]
fn validate_finds_a_truncated_last_record() {
    let dir = TempDir::new().unwrap();
    let bytes = iso(&records(3));
    let cut = bytes.len() - 10;
    let p = write(dir.path(), "cut.mrc", &bytes[..cut]);
    let start = iso(&records(2)).len();
    let o = fastmarc(&["validate", s(&p)]);
    assert_status(&o, 1);
    assert!(
        stdout(&o).starts_with(&format!(
            "{}: record 3, byte offset {start}: truncated record",
            s(&p)
        )),
        "{}",
        stdout(&o)
    );
}

#[test]
fn validate_xml_reports_where_it_breaks() {
    let recs = records(2);
    let xml = fastmarc_in(
        None,
        &["convert", "-", "-", "--to", "xml"],
        Some(&iso(&recs)),
    );
    let mut doc = xml.stdout.clone();
    doc.truncate(doc.len() - 30);
    let o = fastmarc_in(None, &["validate", "-"], Some(&doc));
    assert_status(&o, 1);
    assert!(
        stdout(&o).starts_with("<stdin>: record 2, byte offset "),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("MARCXML"), "{}", stdout(&o));
}

// ---- split and cat -----------------------------------------------------------------------

#[test]
fn split_then_cat_reproduces_the_input_byte_for_byte() {
    let dir = TempDir::new().unwrap();
    let bytes = sample_bytes();
    let n = read_iso(&bytes).len();
    let o = fastmarc_in(
        Some(dir.path()),
        &["split", s(&sample_path()), "--records", "7"],
        None,
    );
    assert_status(&o, 0);
    let files = n.div_ceil(7);
    let names: Vec<String> = (1..=files).map(|i| format!("sample-{i:04}.mrc")).collect();
    let mut listed: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    listed.sort();
    assert_eq!(listed, names);
    for (i, name) in names.iter().enumerate() {
        let part = std::fs::read(dir.path().join(name)).unwrap();
        let expected = if i + 1 < files {
            7
        } else {
            n - 7 * (files - 1)
        };
        assert_eq!(read_iso(&part).len(), expected, "{name}");
    }
    let mut args = vec!["cat".to_string()];
    args.extend(names.iter().cloned());
    args.extend(["-o".into(), "joined.mrc".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_status(&fastmarc_in(Some(dir.path()), &args, None), 0);
    assert_eq!(std::fs::read(dir.path().join("joined.mrc")).unwrap(), bytes);
}

#[test]
fn split_copies_bytes_it_would_not_write_itself() {
    // A MARC-8 record and a record whose directory is out of order: re-encoding would change
    // both; split and cat must not.
    let dir = TempDir::new().unwrap();
    let mut bytes = marc8_record_bytes();
    bytes.extend(iso(&records(3)));
    let src = write(dir.path(), "mixed.mrc", &bytes);
    let o = fastmarc_in(
        Some(dir.path()),
        &["split", s(&src), "--records", "2", "--prefix", "part_"],
        None,
    );
    assert_status(&o, 0);
    let a = std::fs::read(dir.path().join("part_0001.mrc")).unwrap();
    let b = std::fs::read(dir.path().join("part_0002.mrc")).unwrap();
    assert!(!dir.path().join("part_0003.mrc").exists());
    assert_eq!([a.clone(), b.clone()].concat(), bytes);
    // cat from stdin and a file, to stdout.
    let o = fastmarc_in(Some(dir.path()), &["cat", "-", "part_0002.mrc"], Some(&a));
    assert_status(&o, 0);
    assert_eq!(o.stdout, bytes);
}

#[test]
fn split_and_cat_check_framing() {
    let dir = TempDir::new().unwrap();
    let (bad, _, second_error) = file_with_two_bad_records(dir.path());
    // The base address error is inside a well-framed record: copied as it is. The broken
    // length is an error.
    let o = fastmarc_in(Some(dir.path()), &["cat", s(&bad)], None);
    assert_status(&o, 1);
    assert!(
        stderr(&o).contains(&format!(
            "record 4, byte offset {second_error}: record length"
        )),
        "{}",
        stderr(&o)
    );
    let parts = {
        let mut p = iso_parts(&records(5));
        p[1][12] = b'x';
        p
    };
    assert_eq!(o.stdout, parts[..3].concat());
    let o = fastmarc_in(Some(dir.path()), &["cat", "--permissive", s(&bad)], None);
    assert_status(&o, 0);
    assert_eq!(o.stdout, [&parts[..3], &parts[4..]].concat().concat());
    assert!(stderr(&o).contains("warning"), "{}", stderr(&o));

    let o = fastmarc_in(
        Some(dir.path()),
        &["split", s(&bad), "--records", "2"],
        None,
    );
    assert_status(&o, 1);
    let o = fastmarc_in(
        Some(dir.path()),
        &[
            "split",
            s(&bad),
            "--records",
            "2",
            "--permissive",
            "--prefix",
            "ok-",
        ],
        None,
    );
    assert_status(&o, 0);
    let joined = [
        std::fs::read(dir.path().join("ok-0001.mrc")).unwrap(),
        std::fs::read(dir.path().join("ok-0002.mrc")).unwrap(),
    ]
    .concat();
    assert_eq!(joined, [&parts[..3], &parts[4..]].concat().concat());

    // MARCXML is not something to copy record by record.
    let xml = fastmarc(&["convert", s(&sample_path()), "-", "--to", "xml"]);
    let x = write(dir.path(), "s.xml", &xml.stdout);
    let o = fastmarc(&["cat", s(&x)]);
    assert_status(&o, 1);
    assert!(
        stderr(&o).contains("MARCXML, not ISO 2709"),
        "{}",
        stderr(&o)
    );
}

// ---- hostile input -----------------------------------------------------------------------

#[test]
fn bad_input_never_panics_and_exits_1_with_a_message() {
    let good = iso(&records(2));
    let mut inputs: Vec<Vec<u8>> = vec![
        b"00000".to_vec(),
        b"99999nam a2200000   4500".to_vec(),
        b"00026nam a2200025   4500\x1e\x1d".to_vec(),
        b"12".to_vec(),
        good[..good.len() / 2].to_vec(),
        b"<collection><record><leader>".to_vec(),
        b"<record><datafield tag=\"x\"/></record>".to_vec(),
        b"<!DOCTYPE x [<!ENTITY a \"b\">]><collection>&a;</collection>".to_vec(),
        b"[{\"leader\": 1}]".to_vec(),
        b"{\"fields\": [{\"245\": {\"subfields\": [{\"a\": 5}]}}]}".to_vec(),
        "[".repeat(100_000).into_bytes(),
        b"\xff\xfe\x00\x01".to_vec(),
    ];
    // Each byte of a record's leader and directory flipped to a non-digit.
    for i in 0..40 {
        let mut b = good.clone();
        b[i] = b'#';
        inputs.push(b);
    }
    for input in &inputs {
        for cmd in ["count", "dump", "validate", "stats"] {
            let o = fastmarc_in(None, &[cmd, "-"], Some(input));
            let shown = String::from_utf8_lossy(&input[..input.len().min(40)]).into_owned();
            assert!(
                o.status.code() == Some(1) || o.status.code() == Some(0),
                "{cmd} {shown:?}: {:?} {}",
                o.status,
                stderr(&o)
            );
            assert!(
                !stderr(&o).contains("panicked"),
                "{cmd} {shown:?}: {}",
                stderr(&o)
            );
            if o.status.code() == Some(1) {
                assert!(
                    stderr(&o).contains("fastmarc: <stdin>") || cmd == "validate",
                    "{cmd} {shown:?}: {}",
                    stderr(&o)
                );
            }
        }
        let o = fastmarc_in(None, &["convert", "-", "-", "--to", "json"], Some(input));
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    }
}

#[test]
fn missing_files_are_reported() {
    let o = fastmarc(&["count", "/nonexistent/x.mrc"]);
    assert_status(&o, 1);
    assert!(
        stderr(&o).starts_with("fastmarc: /nonexistent/x.mrc: cannot open: "),
        "{}",
        stderr(&o)
    );
    let o = fastmarc(&["count", s(&sample_path()), "/nonexistent/x.mrc"]);
    assert_status(&o, 1);
    assert!(stdout(&o).starts_with("50\t"), "{}", stdout(&o));
}

// ---- pipes and signals -------------------------------------------------------------------

#[test]
fn a_closed_stdout_pipe_ends_quietly() {
    let bytes = iso(&records(3000));
    let mut child = Command::new(BIN)
        .args(["dump", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&bytes);
    });
    let mut out = child.stdout.take().unwrap();
    let mut first = [0u8; 6];
    out.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"=LDR  ");
    drop(out);
    let o = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert_status(&o, 0);
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
}

/// Whether the process has a handler for SIGINT (bit 1 of SigCgt in /proc).
#[cfg(target_os = "linux")]
fn catches_sigint(pid: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & 0b10 != 0)
}

#[cfg(target_os = "linux")]
#[test]
fn ctrl_c_stops_with_status_130() {
    for threads in ["1", "2"] {
        // stdin stays open and silent: the command waits for input until interrupted.
        let o = interrupted(&["count", "--threads", threads, "-"], &iso(&records(5)));
        assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
        assert!(o.stdout.is_empty());
    }
}

/// Run `args` with `input` on a stdin that stays open, so the command waits for more until
/// Ctrl-C (SIGINT, once its handler is installed) stops it.
#[cfg(target_os = "linux")]
fn interrupted(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input).unwrap();
    let started = std::time::Instant::now();
    while !catches_sigint(child.id()) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "no SIGINT handler installed"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    drop(stdin);
    o
}

/// Nothing in `dir` but `expected` (no temporary `.NAME.PID.part` file left behind).
fn assert_only_files(dir: &Path, expected: &[&str]) {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, expected);
}

#[cfg(target_os = "linux")]
#[test]
fn ctrl_c_during_a_conversion_leaves_no_finished_file() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("out.xml");
    for threads in ["1", "2"] {
        let args = ["convert", "--threads", threads, "-", s(&out)];
        let o = interrupted(&args, &iso(&records(50)));
        assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
        // What was converted is kept under a name that says it is not finished.
        assert_only_files(dir.path(), &["out.xml.partial"]);
        std::fs::remove_file(dir.path().join("out.xml.partial")).unwrap();
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_write_error_during_a_conversion_leaves_no_finished_file() {
    let dir = TempDir::new().unwrap();
    let input = write(dir.path(), "in.mrc", &iso(&records(2000)));
    let out = dir.path().join("out.mrk");
    // A file size limit of 64 KiB (ulimit -f counts 512-byte blocks in sh), with SIGXFSZ
    // ignored: writing past it fails with "File too large", as a full disk fails.
    let o = Command::new("sh")
        .args([
            "-c",
            "ulimit -f 128 && trap '' XFSZ && exec \"$0\" convert \"$1\" \"$2\"",
            BIN,
            s(&input),
            s(&out),
        ])
        .output()
        .unwrap();
    assert_status(&o, 1);
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!("fastmarc: {}: write error: ", s(&out))),
        "{err}"
    );
    assert!(!err.contains("os error"), "{err}");
    assert_only_files(dir.path(), &["in.mrc", "out.mrk.partial"]);
}

#[test]
fn records_too_long_for_iso2709_are_errors_or_skipped() {
    // MARCXML can hold a field longer than ISO 2709's 9,999 bytes; writing it is refused.
    let mut recs = records(3);
    recs[1].push(&Field::data(
        tag("500"),
        ' ',
        ' ',
        vec![Subfield::new('a', "x".repeat(20_000))],
    ));
    let mut w = fastmarc::xml::XmlWriter::new(Vec::new());
    for r in &recs {
        w.write_record(r).unwrap();
    }
    let xml = w.finish().unwrap();
    let o = fastmarc_in(None, &["convert", "-", "-"], Some(&xml));
    assert_status(&o, 1);
    assert!(
        stderr(&o).starts_with("fastmarc: <stdin>: record 2, byte offset "),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains(": cannot be written as ISO 2709: "),
        "{}",
        stderr(&o)
    );
    assert_eq!(o.stdout, iso(&recs[..1]));
    let o = fastmarc_in(None, &["convert", "--permissive", "-", "-"], Some(&xml));
    assert_status(&o, 0);
    assert!(stderr(&o).contains("warning"), "{}", stderr(&o));
    assert_eq!(o.stdout, iso(&[recs[0].clone(), recs[2].clone()]));
}

/// `convert` and `dump` serialise records on the parser threads: whatever the thread
/// count, every format's output and the warnings about bad records are the same, over a
/// file of many chunks with bad records among them.
#[test]
fn conversions_are_the_same_on_any_number_of_threads() {
    let dir = TempDir::new().unwrap();
    let mut parts = iso_parts(&records(3000));
    parts[1234][12] = b'x';
    parts[2500][..5].copy_from_slice(b"abcde");
    let input = write(dir.path(), "many.mrc", &parts.concat());
    let run = |args: &[&str]| {
        let o = fastmarc(args);
        assert_status(&o, 0);
        let warnings: Vec<String> = stderr(&o).lines().map(str::to_string).collect();
        // Two bad records, and convert's summary.
        let expected = if args[0] == "convert" { 3 } else { 2 };
        assert_eq!(warnings.len(), expected, "{args:?}: {warnings:?}");
        (o.stdout, warnings)
    };
    for to in ["iso2709", "xml", "json", "text"] {
        let mut outputs = Vec::new();
        for threads in ["1", "2", "4"] {
            let out = dir.path().join(format!("out-{to}-{threads}"));
            let (_, warnings) = run(&[
                "convert",
                "--permissive",
                "--threads",
                threads,
                "--to",
                to,
                s(&input),
                s(&out),
            ]);
            outputs.push((std::fs::read(&out).unwrap(), warnings));
        }
        assert!(outputs.windows(2).all(|w| w[0] == w[1]), "{to}");
        if to == "iso2709" {
            let kept = read_iso(&outputs[0].0);
            assert_eq!(kept.len(), 2998);
            assert_eq!(kept[1234].get("001").unwrap().data(), Some("rec01235"));
        }
    }
    let dumps: Vec<_> = ["1", "2", "4"]
        .iter()
        .map(|t| run(&["dump", "--permissive", "--threads", t, s(&input)]))
        .collect();
    assert!(dumps.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(
        String::from_utf8(dumps[0].0.clone()).unwrap(),
        std::fs::read_to_string(dir.path().join("out-text-1")).unwrap()
    );
}

// ---- output other tools accept ------------------------------------------------------------

/// Record 2 of three has a stray 0x1F at the end of its 001 (as 8 of 250,000 Library of
/// Congress records do) and a carriage return in its 245.
fn file_with_a_control_character_in_a_001(dir: &Path) -> PathBuf {
    let mut recs = records(3);
    let mut odd = Record::with_leader(*recs[1].leader());
    odd.push(&Field::control(tag("001"), "rec00001\u{1f}"));
    odd.push(&Field::data(
        tag("245"),
        '1',
        '0',
        vec![Subfield::new('a', "Two lines\r\nin one")],
    ));
    recs[1] = odd;
    write(dir, "ctl.mrc", &iso(&recs))
}

#[test]
fn a_control_character_in_a_001_never_reaches_the_xml_raw() {
    let dir = TempDir::new().unwrap();
    let input = file_with_a_control_character_in_a_001(dir.path());
    let out = dir.path().join("out.xml");
    // Strict: an error naming the record, where it starts, the field and the character;
    // no output file. The same on one thread and on several.
    let second = record_to_bytes(&records(1)[0]).unwrap().len();
    for threads in ["1", "2"] {
        let o = fastmarc(&["convert", "--threads", threads, s(&input), s(&out)]);
        assert_status(&o, 1);
        let err = stderr(&o);
        assert!(
            err.starts_with(&format!(
                "fastmarc: {}: record 2, byte offset {second}: cannot be written as MARCXML: \
                 001: character U+001F at position 8 cannot be written in XML",
                s(&input)
            )),
            "{threads} threads: {err}"
        );
        assert!(!out.exists());
    }
    // Permissive: replaced by U+FFFD with one warning for the record; xmllint accepts the
    // file (checked for every XML document these tests write).
    let o = fastmarc(&["convert", "--permissive", s(&input), s(&out)]);
    assert_status(&o, 0);
    let err = stderr(&o);
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(
        warnings[0].contains(&format!(
            "record 2, byte offset {second}: 001: character U+001F"
        )),
        "{err}"
    );
    assert!(warnings[0].contains("written as U+FFFD"), "{err}");
    let back = fastmarc::xml::parse_xml(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(back[1].get("001").unwrap().data(), Some("rec00001\u{fffd}"));
    // The carriage return is written &#13; and comes back as itself.
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .contains("Two lines&#13;&#10;in one"));
    assert_eq!(
        back[1].get("245").unwrap().subfield('a'),
        Some("Two lines\r\nin one")
    );
    let mrc = dir.path().join("back.mrc");
    assert_status(&fastmarc(&["convert", s(&out), s(&mrc)]), 0);
    assert_eq!(
        read_iso(&std::fs::read(&mrc).unwrap())[1]
            .get("245")
            .unwrap()
            .subfield('a'),
        Some("Two lines\r\nin one")
    );
}

/// Whatever the input format, the error for a character MARCXML cannot carry says where
/// the record starts in the input: its `=LDR` line, its `{` in JSON, its `<record>`.
#[test]
fn the_xml_character_error_points_into_every_input_format() {
    let dir = TempDir::new().unwrap();
    let mut recs = records(2);
    let mut odd = Record::with_leader(*recs[1].leader());
    odd.push(&Field::control(tag("001"), "rec00001\u{1f}"));
    recs[1] = odd;
    let first_mrk = fastmarc::mrk::record_to_mrk(&recs[0]);
    let mrk = [first_mrk.clone(), fastmarc::mrk::record_to_mrk(&recs[1])].concat();
    let first_json = fastmarc::json::record_to_json(&recs[0]);
    let jsonl = format!(
        "{first_json}\n{}\n",
        fastmarc::json::record_to_json(&recs[1])
    );
    for (name, bytes, offset) in [
        ("in.mrk", mrk.as_bytes(), first_mrk.len()),
        ("in.jsonl", jsonl.as_bytes(), first_json.len() + 1),
    ] {
        let input = write(dir.path(), name, bytes);
        let o = fastmarc(&["convert", s(&input), "-", "--to", "xml"]);
        assert_status(&o, 1);
        let err = stderr(&o);
        assert!(
            err.starts_with(&format!(
                "fastmarc: {}: record 2, byte offset {offset}: cannot be written as MARCXML: \
                 001: character U+001F",
                s(&input)
            )),
            "{name}: {err}"
        );
        // What was converted before the error is a well-formed document.
        assert_xmllint(&o.stdout);
    }
}

#[test]
fn xml_is_one_record_per_line_or_pretty_and_every_text_output_ends_with_a_newline() {
    let dir = TempDir::new().unwrap();
    let input = write(dir.path(), "in.mrc", &iso(&records(3)));
    let o = fastmarc(&["convert", s(&input), "-", "--to", "xml"]);
    assert_status(&o, 0);
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "{text}");
    assert!(lines[2..5]
        .iter()
        .all(|l| l.starts_with("<record>") && l.ends_with("</record>")));
    let o = fastmarc(&["convert", s(&input), "-", "--to", "xml", "--pretty"]);
    assert_status(&o, 0);
    assert!(
        stdout(&o).contains("\n  <record>\n    <leader>"),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        fastmarc::xml::parse_xml(&o.stdout).unwrap(),
        read_iso(&iso(&records(3)))
    );
    for to in ["xml", "json", "jsonl", "mrk", "text"] {
        let o = fastmarc(&["convert", s(&input), "-", "--to", to]);
        assert_status(&o, 0);
        assert!(o.stdout.ends_with(b"\n"), "{to}");
        let empty = fastmarc_in(None, &["convert", "-", "-", "--to", to], Some(b""));
        assert_status(&empty, 0);
        assert!(
            empty.stdout.is_empty() || empty.stdout.ends_with(b"\n"),
            "{to}"
        );
    }
}

#[test]
fn json_lines_out_and_in_and_concatenated_objects_in() {
    let dir = TempDir::new().unwrap();
    let recs = records(4);
    let input = write(dir.path(), "in.mrc", &iso(&recs));
    let jsonl = dir.path().join("out.jsonl");
    assert_status(&fastmarc(&["convert", s(&input), s(&jsonl)]), 0);
    let text = std::fs::read_to_string(&jsonl).unwrap();
    assert_eq!(text.lines().count(), 4);
    assert!(text.lines().all(|l| l.starts_with("{\"leader\"")));
    let back = dir.path().join("back.mrc");
    assert_status(&fastmarc(&["convert", s(&jsonl), s(&back)]), 0);
    assert_eq!(std::fs::read(&back).unwrap(), iso(&recs));
    // Objects back to back, as yaz-marcdump writes them.
    let glued: String = text.lines().collect();
    let o = fastmarc_in(None, &["count", "-"], Some(glued.as_bytes()));
    assert_status(&o, 0);
    assert_eq!(stdout(&o), "4\n");
}

#[test]
fn a_failed_conversion_leaves_an_existing_output_untouched() {
    let dir = TempDir::new().unwrap();
    let (bad, _, _) = file_with_two_bad_records(dir.path());
    let out = write(dir.path(), "out.mrc", b"previous contents");
    let o = fastmarc(&["convert", s(&bad), s(&out)]);
    assert_status(&o, 1);
    assert_eq!(std::fs::read(&out).unwrap(), b"previous contents");
    assert!(dir.path().join("out.mrc.partial").exists());
    // Success replaces it.
    let good = write(dir.path(), "good.mrc", &iso(&records(2)));
    assert_status(&fastmarc(&["convert", s(&good), s(&out)]), 0);
    assert_eq!(std::fs::read(&out).unwrap(), iso(&records(2)));
}

// ---- MarcEdit's .mrk ------------------------------------------------------------------------

#[test]
fn mrk_round_trips_byte_for_byte() {
    let dir = TempDir::new().unwrap();
    for (name, bytes) in [("sample", sample_bytes()), ("generated", iso(&records(40)))] {
        let input = write(dir.path(), &format!("{name}.mrc"), &bytes);
        let mrk = dir.path().join(format!("{name}.mrk"));
        let back = dir.path().join(format!("{name}-back.mrc"));
        assert_status(&fastmarc(&["convert", s(&input), s(&mrk)]), 0);
        let text = std::fs::read_to_string(&mrk).unwrap();
        assert!(text.starts_with("=LDR  "), "{text}");
        assert!(text.ends_with("\n\n"));
        assert_status(&fastmarc(&["convert", s(&mrk), s(&back)]), 0);
        assert_eq!(std::fs::read(&back).unwrap(), bytes, "{name}");
    }
}

#[test]
fn a_malformed_mrk_line_is_an_error_with_its_line_number() {
    let dir = TempDir::new().unwrap();
    let mrk = write(
        dir.path(),
        "bad.mrk",
        b"=LDR  00000nam\\a2200000\\a\\4500\n=001  one\n\n=LDR  00000nam\\a2200000\\a\\4500\n245  10$aNo equals sign\n\n=LDR  00000nam\\a2200000\\a\\4500\n=001  three\n",
    );
    let o = fastmarc(&["convert", s(&mrk), "-", "--to", "text"]);
    assert_status(&o, 1);
    assert!(
        stderr(&o).contains(
            "record 2, byte offset 73: MARC text (.mrk): line 5: a line must start with '='"
        ),
        "{}",
        stderr(&o)
    );
    let o = fastmarc(&["count", "--permissive", s(&mrk)]);
    assert_status(&o, 0);
    assert_eq!(stdout(&o), "2\n");
}

// ---- character sets --------------------------------------------------------------------------

#[test]
fn marc8_out_decodes_back_to_the_same_text() {
    let dir = TempDir::new().unwrap();
    let mut recs = records(5);
    recs[2].push(&Field::data(
        tag("880"),
        '1',
        '0',
        vec![Subfield::new('a', "Война и мир / 中文 / Ἰλιάς 😀")],
    ));
    let input = write(dir.path(), "in.mrc", &iso(&recs));
    let out = dir.path().join("marc8.mrc");
    let o = fastmarc(&["convert", s(&input), s(&out), "--to-encoding", "marc8"]);
    assert_status(&o, 0);
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    let third = iso(&recs[..2]).len();
    assert!(
        err.contains(&format!(
            "record 3, byte offset {third}: 880$a: character U+1F600"
        )),
        "{err}"
    );
    let bytes = std::fs::read(&out).unwrap();
    let back = read_iso(&bytes);
    assert_eq!(back.len(), 5);
    for (a, b) in recs.iter().zip(&back) {
        assert_eq!(b.leader().character_coding_scheme(), b' ');
        for (fa, fb) in a.fields().zip(b.fields()) {
            if fa.tag().as_str() == "880" {
                assert_eq!(
                    fb.subfield('a'),
                    Some("Война и мир / 中文 / Ἰλιάς &#x1F600;")
                );
            } else {
                assert_eq!(fa, fb);
            }
        }
    }
    // The text is MARC-8 on disk: no UTF-8 sequence for 'í'.
    assert!(!bytes.windows(2).any(|w| w == "í".as_bytes()));
}

#[test]
fn utf8_under_a_blank_leader_09_is_read_right_when_asked() {
    let dir = TempDir::new().unwrap();
    let mut bytes = iso(&records(1));
    bytes[9] = b' ';
    let input = write(dir.path(), "lying.mrc", &bytes);
    let garbled = fastmarc(&["dump", s(&input)]);
    assert_status(&garbled, 0);
    assert!(!stdout(&garbled).contains("Títle"));
    let right = fastmarc(&["dump", "--from-encoding", "utf8", s(&input)]);
    assert_status(&right, 0);
    assert!(
        stdout(&right).contains("Títle number 0"),
        "{}",
        stdout(&right)
    );
    // Converting as the leader says garbles the text, and says so, once for the record.
    let out = dir.path().join("garbled.xml");
    let o = fastmarc(&["convert", s(&input), s(&out)]);
    assert_status(&o, 0);
    let said = stderr(&o);
    assert!(
        said.contains("record 1, byte offset 0: leader/09 is blank (MARC-8) but field 245 holds UTF-8; it was decoded as MARC-8 (read the file with --from-encoding utf8)"),
        "{said}"
    );
    assert_eq!(said.matches("holds UTF-8").count(), 1, "{said}");
    let out = dir.path().join("fixed.mrc");
    let o = fastmarc(&["convert", "--from-encoding", "utf8", s(&input), s(&out)]);
    assert_status(&o, 0);
    assert!(!stderr(&o).contains("holds UTF-8"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&out).unwrap(), iso(&records(1)));
    // validate says what is wrong.
    let o = fastmarc(&["validate", s(&input)]);
    assert_status(&o, 1);
    assert!(
        stdout(&o).contains("record 1, byte offset 9, field leader: leader/09 is blank (MARC-8) but field 245 holds UTF-8"),
        "{}",
        stdout(&o)
    );
    // Latin-1 and normalisation.
    let mut latin = raw_record(&[("245", b"00\x1faCaf\xe9\x1e")]);
    latin[9] = b' ';
    let o = fastmarc_in(
        None,
        &["dump", "--from-encoding", "latin1", "-"],
        Some(&latin),
    );
    assert_status(&o, 0);
    assert!(stdout(&o).contains("Café"), "{}", stdout(&o));
    let o = fastmarc_in(
        None,
        &[
            "dump",
            "--from-encoding",
            "latin1",
            "--normalize",
            "nfd",
            "-",
        ],
        Some(&latin),
    );
    assert!(stdout(&o).contains("Cafe\u{301}"), "{}", stdout(&o));
}

// ---- validate --------------------------------------------------------------------------------

#[test]
fn validate_reports_what_breaks_other_systems() {
    let dir = TempDir::new().unwrap();
    let input = file_with_a_control_character_in_a_001(dir.path());
    let mut bytes = std::fs::read(&input).unwrap();
    // Leader/22 as 0x02, as in real files, in the first record.
    bytes[22] = 0x02;
    let input = write(dir.path(), "v.mrc", &bytes);
    let second = record_to_bytes(&records(1)[0]).unwrap().len();
    let o = fastmarc(&["validate", s(&input)]);
    assert_status(&o, 1);
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].ends_with("record 1, byte offset 22, field leader: entry map (20-23): byte 0x02 where MARC 21 requires a digit"),
        "{out}"
    );
    // 001 of record 2: leader, 3-entry directory... the 0x1F is the 9th byte of its data.
    let base = 24 + 2 * 12 + 1;
    let offset = second + base + 8;
    assert!(
        out.contains(&format!(
            "record 2, byte offset {offset}, field 001: control character byte 0x1F"
        )),
        "{out}"
    );
    assert!(
        out.contains("field 245$a: control character byte 0x0D"),
        "{out}"
    );
    assert_eq!(
        lines.last().unwrap(),
        &format!("{}: 3 records checked, 3 problems", s(&input))
    );
    // The same records as .mrk text: each problem at the start of its record's =LDR line.
    let mrk = dir.path().join("v.mrk");
    assert_status(&fastmarc(&["convert", s(&input), s(&mrk)]), 0);
    let text = std::fs::read_to_string(&mrk).unwrap();
    let second_mrk = text.find("\n\n=LDR").unwrap() + 2;
    let o = fastmarc(&["validate", s(&mrk)]);
    assert_status(&o, 1);
    assert!(
        stdout(&o).contains(&format!(
            "{}: record 2, byte offset {second_mrk}, field 001: control character",
            s(&mrk)
        )),
        "{}",
        stdout(&o)
    );
    let o = fastmarc(&["validate", "--format", "json", s(&input)]);
    assert_status(&o, 1);
    let out = stdout(&o);
    assert!(
        out.lines().next().unwrap().starts_with(&format!(
            "{{\"file\":\"{}\",\"record\":1,\"offset\":22,\"field\":\"leader\",\"problem\":",
            s(&input)
        )),
        "{out}"
    );
    assert_eq!(
        out.lines().last().unwrap(),
        format!(
            "{{\"file\":\"{}\",\"records\":3,\"problems\":3}}",
            s(&input)
        )
    );
}

// ---- selecting and editing -------------------------------------------------------------------

#[test]
fn offset_limit_tag_wildcards_and_offsets() {
    let dir = TempDir::new().unwrap();
    let recs = records(10);
    let input = write(dir.path(), "in.mrc", &iso(&recs));
    let o = fastmarc(&["count", "--offset", "3", "--limit", "4", s(&input)]);
    assert_eq!(stdout(&o), "4\n");
    let o = fastmarc(&["count", "--offset", "8", "--limit", "4", s(&input)]);
    assert_eq!(stdout(&o), "2\n");
    let o = fastmarc(&["convert", "--offset", "2", "--limit", "3", s(&input), "-"]);
    assert_status(&o, 0);
    assert_eq!(o.stdout, iso(&recs[2..5]));
    let o = fastmarc(&["dump", "--tag", "6XX", "--limit", "3", s(&input)]);
    let text = stdout(&o);
    assert_eq!(text.matches("=650  ").count(), 1 + 2, "{text}");
    assert!(!text.contains("=245"));
    let o = fastmarc(&[
        "dump",
        "--print-offsets",
        "--offset",
        "1",
        "--limit",
        "2",
        s(&input),
    ]);
    let first = record_to_bytes(&recs[0]).unwrap().len();
    let second = record_to_bytes(&recs[1]).unwrap().len();
    let text = stdout(&o);
    assert!(
        text.starts_with(&format!("# record 2, byte offset {first}\n=LDR  ")),
        "{text}"
    );
    assert!(
        text.contains(&format!("\n\n# record 3, byte offset {}\n", first + second)),
        "{text}"
    );
}

#[test]
fn leader_edits_and_deleted_tags() {
    let dir = TempDir::new().unwrap();
    let mut recs = records(3);
    for r in &mut recs {
        r.push(&Field::data(
            tag("949"),
            ' ',
            ' ',
            vec![Subfield::new('a', "local")],
        ));
        r.push(&Field::data(
            tag("901"),
            ' ',
            ' ',
            vec![Subfield::new('a', "local")],
        ));
    }
    let input = write(dir.path(), "in.mrc", &iso(&recs));
    let o = fastmarc(&[
        "convert",
        s(&input),
        "-o",
        "-",
        "--set-leader",
        "17=_",
        "--set-leader",
        "05-07=cas",
        "--delete-tag",
        "9XX",
    ]);
    assert_status(&o, 0);
    let back = read_iso(&o.stdout);
    for (a, b) in records(3).iter().zip(&back) {
        assert_eq!(&b.leader().as_bytes()[5..8], b"cas");
        assert_eq!(b.leader().as_bytes()[17], b' ');
        assert_eq!(
            a.fields().collect::<Vec<_>>(),
            b.fields().collect::<Vec<_>>()
        );
    }
}

// ---- permissive: nothing lost ----------------------------------------------------------------

#[test]
fn a_lying_record_length_mid_file_loses_only_that_record() {
    let dir = TempDir::new().unwrap();
    let mut parts = iso_parts(&records(20));
    // Record 11 says it is 40 bytes longer than it is.
    let len = parts[10].len() + 40;
    parts[10][..5].copy_from_slice(format!("{len:05}").as_bytes());
    let input = write(dir.path(), "lying.mrc", &parts.concat());
    let out = dir.path().join("out.mrc");
    let o = fastmarc(&["convert", "--permissive", s(&input), s(&out)]);
    assert_status(&o, 0);
    let kept = read_iso(&std::fs::read(&out).unwrap());
    let ids: Vec<&str> = kept
        .iter()
        .map(|r| r.get("001").unwrap().data().unwrap())
        .collect();
    let expected: Vec<String> = (0..20)
        .filter(|&i| i != 10)
        .map(|i| format!("rec{i:05}"))
        .collect();
    assert_eq!(ids, expected);
    assert!(
        stderr(&o).ends_with(&format!(
            "fastmarc: {}: 20 records read, 19 written, 1 skipped\n",
            s(&input)
        )),
        "{}",
        stderr(&o)
    );
    // Nothing readable at all: a failure.
    let junk = write(
        dir.path(),
        "junk.mrc",
        b"00050nam  this is not a record at all\x1d",
    );
    let o = fastmarc(&["convert", "--permissive", s(&junk), "-"]);
    assert_status(&o, 1);
    assert!(
        stderr(&o).contains("no record could be read"),
        "{}",
        stderr(&o)
    );
}

// ---- small things ------------------------------------------------------------------------------

#[test]
fn small_things_a_user_trips_on() {
    let dir = TempDir::new().unwrap();
    let o = fastmarc_in(None, &["count"], Some(&sample_bytes()));
    assert_status(&o, 0);
    assert_eq!(stdout(&o), "50\n");
    let o = fastmarc(&["help", "--help"]);
    assert_status(&o, 0);
    assert!(
        stdout(&o).contains("Usage: fastmarc help"),
        "{}",
        stdout(&o)
    );
    let o = fastmarc(&["help", "convert"]);
    assert_status(&o, 0);
    assert!(stdout(&o).contains("--to-encoding"), "{}", stdout(&o));
    let missing = dir.path().join("missing.mrc");
    let o = fastmarc(&["count", s(&missing)]);
    assert_status(&o, 1);
    assert_eq!(
        stderr(&o),
        format!(
            "fastmarc: {}: cannot open: no such file or directory\n",
            s(&missing)
        )
    );
    // split does not overwrite its parts unless told to.
    let input = write(dir.path(), "in.mrc", &iso(&records(4)));
    let split = |extra: &[&str]| {
        let mut args = vec!["split", "in.mrc", "--records", "2"];
        args.extend_from_slice(extra);
        fastmarc_in(Some(dir.path()), &args, None)
    };
    assert_status(&split(&[]), 0);
    assert!(dir.path().join("in-0002.mrc").exists());
    let o = split(&[]);
    assert_status(&o, 1);
    assert!(
        stderr(&o).contains("in-0001.mrc: exists already; --force to overwrite it"),
        "{}",
        stderr(&o)
    );
    assert_status(&split(&["--force"]), 0);
    let _ = input;
    // cat and convert take their output the same way.
    let a = dir.path().join("a.mrc");
    let b = dir.path().join("b.mrc");
    assert_status(&fastmarc(&["cat", s(&input), "-o", s(&a)]), 0);
    assert_status(&fastmarc(&["convert", s(&input), "-o", s(&b)]), 0);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    // The raw commands take --offset and --limit too.
    let o = fastmarc(&["cat", s(&input), "--offset", "1", "--limit", "2"]);
    assert_status(&o, 0);
    assert_eq!(o.stdout, iso(&records(4)[1..3]));
}

#[test]
fn select_keeps_records_by_field_value() {
    let dir = TempDir::new().unwrap();
    let mut recs = records(6);
    for (i, r) in recs.iter_mut().enumerate() {
        let lang = if i % 2 == 0 { "fre" } else { "eng" };
        let mut fixed = Record::with_leader(*r.leader());
        for f in r.fields() {
            if f.tag().as_str() == "008" {
                fixed.push(&Field::control(
                    tag("008"),
                    format!("240101s2024    xx            000 0 {lang} d"),
                ));
            } else {
                fixed.push(&f.to_field());
            }
        }
        *r = fixed;
    }
    let input = write(dir.path(), "in.mrc", &iso(&recs));
    let o = fastmarc(&["count", "--select", "008/35-37=fre", s(&input)]);
    assert_status(&o, 0);
    assert_eq!(stdout(&o), "3\n");
    // Records 1, 2, 4 and 5 have a 650 (i % 3 != 0); both conditions must hold.
    let o = fastmarc(&[
        "convert",
        "--select",
        "008/35-37=fre",
        "--select",
        "650$a~Subject",
        s(&input),
        "-",
    ]);
    assert_status(&o, 0);
    let kept: Vec<String> = read_iso(&o.stdout)
        .iter()
        .map(|r| r.get("001").unwrap().data().unwrap().to_string())
        .collect();
    assert_eq!(kept, ["rec00002", "rec00004"]);
    let o = fastmarc(&["dump", "--select", "!650", s(&input)]);
    assert_eq!(stdout(&o).matches("=LDR").count(), 2);
    let o = fastmarc(&[
        "convert",
        "--permissive",
        "--select",
        "008/35-37=eng",
        s(&input),
        "-",
    ]);
    assert_status(&o, 0);
    assert!(
        stderr(&o).ends_with("6 records read, 3 written, 0 skipped, 3 not selected\n"),
        "{}",
        stderr(&o)
    );
    let o = fastmarc(&["count", "--select", "65", s(&input)]);
    assert_status(&o, 2);
    assert!(stderr(&o).contains("--select \"65\""), "{}", stderr(&o));
}
