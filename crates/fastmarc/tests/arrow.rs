//! Arrow batches: the nested schema keeps every record exactly, in file order, with the
//! reader's errors; projections; Parquet files.
#![cfg(feature = "parquet")]

mod common;

use common::{pymarc_marc_files, read_slice, sample_file};
use fastmarc::arrow::{ArrowOptions, BatchReader, BatchRecords, Nested};
use fastmarc::iso2709::{record_to_bytes, ReaderOptions, SliceReader};
use fastmarc::{Error, Record};
use std::io::Cursor;
use std::sync::Arc;

fn batches(
    data: &[u8],
    opts: ArrowOptions,
) -> (Vec<arrow_array::RecordBatch>, Vec<Error>, Vec<Error>) {
    let mut reader = BatchReader::new(Cursor::new(data.to_vec()), opts, Nested).unwrap();
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for b in reader.by_ref() {
        match b {
            Ok(b) => out.push(b),
            Err(e) => errors.push(e),
        }
    }
    let skipped = reader.skipped().to_vec();
    (out, errors, skipped)
}

fn rebuilt(batches: &[arrow_array::RecordBatch]) -> Vec<Record> {
    let mut out = Vec::new();
    for b in batches {
        out.extend(BatchRecords::new(b).unwrap().iter().map(Result::unwrap));
    }
    out
}

fn opts(reader: ReaderOptions, threads: usize, batch_bytes: usize) -> ArrowOptions {
    ArrowOptions {
        reader,
        threads: Some(threads),
        batch_bytes: Some(batch_bytes),
        first_offset: 0,
    }
}

/// What the nested schema promises for a record the reader delivers: the same record,
/// written as UTF-8.
fn as_utf8(rec: &Record) -> Vec<u8> {
    record_to_bytes(rec).unwrap()
}

#[test]
fn every_record_of_pymarcs_files_comes_back_the_same() {
    for (name, data) in pymarc_marc_files() {
        for (threads, batch) in [(1, 1 << 20), (2, 700), (2, 1)] {
            let o = opts(ReaderOptions::resyncing(), threads, batch);
            let expected = read_slice(&data, o.reader);
            let (bs, fatal, skipped) = batches(&data, o);
            assert!(fatal.is_empty(), "{name}: {fatal:?}");
            let good: Vec<&Record> = expected.iter().filter_map(|r| r.as_ref().ok()).collect();
            let back = rebuilt(&bs);
            assert_eq!(back.len(), good.len(), "{name}");
            for (a, b) in back.iter().zip(&good) {
                assert_eq!(as_utf8(a), as_utf8(b), "{name}");
            }
            let expected_errors: Vec<_> = expected
                .iter()
                .filter_map(|r| r.as_ref().err())
                .map(|e| (e.record(), e.offset()))
                .collect();
            let got: Vec<_> = skipped.iter().map(|e| (e.record(), e.offset())).collect();
            assert_eq!(got, expected_errors, "{name}: skipped records are listed");
        }
    }
}

#[test]
fn utf8_records_come_back_byte_for_byte() {
    let mut checked = 0;
    let mut files = pymarc_marc_files();
    files.push(("generated".into(), sample_file(100).0));
    for (name, data) in files {
        let o = ReaderOptions::resyncing();
        let mut reader = SliceReader::with_options(&data, o);
        let mut frames = Vec::new();
        while let Some(f) = reader.next_frame() {
            if let Ok((bytes, _, _)) = f {
                let mut rec = Record::new();
                if fastmarc::iso2709::parse_record(bytes, &o.parse, &mut rec).is_ok() {
                    frames.push((bytes.to_vec(), rec));
                }
            }
        }
        let (bs, _, _) = batches(&data, opts(o, 2, 4096));
        let back = rebuilt(&bs);
        assert_eq!(back.len(), frames.len(), "{name}");
        for (rec, (original, parsed)) in back.iter().zip(&frames) {
            // Well-formed UTF-8: the leader says so and the writer gives the same bytes.
            if original[9] == b'a' && as_utf8(parsed) == *original {
                assert_eq!(as_utf8(rec), *original, "{name}");
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "only {checked} UTF-8 records checked");
}

#[test]
fn numbers_and_offsets_are_the_readers() {
    let (data, ranges) = sample_file(300);
    let (bs, _, _) = batches(&data, opts(ReaderOptions::strict(), 2, 2000));
    assert!(bs.len() > 10, "one batch per chunk");
    let mut numbers = Vec::new();
    let mut offsets = Vec::new();
    for b in &bs {
        let n = b.column_by_name("record_number").unwrap();
        let o = b.column_by_name("offset").unwrap();
        use arrow_array::cast::AsArray;
        use arrow_array::types::UInt64Type;
        numbers.extend(n.as_primitive::<UInt64Type>().values().iter().copied());
        offsets.extend(o.as_primitive::<UInt64Type>().values().iter().copied());
    }
    assert_eq!(numbers, (1..=300).collect::<Vec<u64>>());
    assert_eq!(
        offsets,
        ranges.iter().map(|r| r.start as u64).collect::<Vec<_>>()
    );
}

#[test]
fn a_part_of_a_file_counts_offsets_from_where_it_starts() {
    // The input is the part of a file from byte 5,000: offsets, in the column and in the
    // errors, are the file's, while records are numbered from the part's first.
    let (mut data, ranges) = sample_file(40);
    let r = ranges[30].clone();
    data[r.start + 27] = b'x';
    let first = 5_000;
    let o = ArrowOptions {
        first_offset: first,
        ..opts(ReaderOptions::strict(), 2, 3000)
    };
    let (bs, fatal, _) = batches(&data, o);
    let mut offsets = Vec::new();
    for b in &bs {
        use arrow_array::cast::AsArray;
        use arrow_array::types::UInt64Type;
        let o = b.column_by_name("offset").unwrap();
        offsets.extend(o.as_primitive::<UInt64Type>().values().iter().copied());
    }
    let want: Vec<u64> = ranges[..30]
        .iter()
        .map(|r| first + r.start as u64)
        .collect();
    assert_eq!(offsets, want);
    assert_eq!(fatal.len(), 1);
    assert_eq!(fatal[0].record(), Some(30));
    assert_eq!(fatal[0].offset(), Some(first + r.start as u64 + 24));
}

#[test]
fn strict_mode_ends_with_the_error_after_the_records_before_it() {
    let (mut data, ranges) = sample_file(50);
    // Record 21 gets a broken directory entry: a parse error, not a framing one.
    let r = ranges[20].clone();
    data[r.start + 24] = b'x';
    let o = opts(ReaderOptions::strict(), 2, 3000);
    let expected = read_slice(&data, o.reader);
    let (bs, fatal, skipped) = batches(&data, o);
    assert!(skipped.is_empty());
    assert_eq!(rebuilt(&bs).len(), 20);
    assert_eq!(fatal.len(), 1);
    let e = expected.last().unwrap().as_ref().unwrap_err();
    assert_eq!(
        (fatal[0].record(), fatal[0].offset()),
        (e.record(), e.offset())
    );
}

#[test]
fn batches_from_memory_match_batches_from_a_reader() {
    let (data, _) = sample_file(120);
    let (a, _, _) = batches(&data, opts(ReaderOptions::strict(), 2, 5000));
    let shared: fastmarc::parallel::SharedBytes = Arc::new(data.clone());
    let b: Vec<_> =
        BatchReader::from_shared(shared, opts(ReaderOptions::strict(), 2, 5000), Nested)
            .unwrap()
            .map(Result::unwrap)
            .collect();
    // Chunks may be cut differently; the rows are the same.
    assert_eq!(rows_of(&a), rows_of(&b));
}

#[test]
fn left_to_choose_threads_a_reader_takes_fewer_than_its_whole_batches() {
    use fastmarc::arrow::{Layout, Projection};
    let cores = fastmarc::internal::thread_count(None);
    let default = ArrowOptions {
        batch_bytes: Some(1000),
        ..ArrowOptions::default()
    };
    for (len, most) in [(0, 1), (1, 1), (2999, 1), (3000, 2), (3999, 2), (10_500, 9)] {
        let fitted = default.for_input::<Nested>(len);
        assert_eq!(fitted.threads, Some(cores.min(most)), "{len} bytes");
        assert_eq!(fitted.batch_bytes, default.batch_bytes);
    }
    // Without batch_bytes, each layout's own batch size counts.
    let unset = ArrowOptions::default();
    let (nested, projected) = (Nested::BATCH_BYTES as u64, Projection::BATCH_BYTES as u64);
    assert_eq!(
        unset.for_input::<Nested>(3 * nested).threads,
        Some(cores.min(2))
    );
    assert_eq!(unset.for_input::<Projection>(3 * nested).threads, Some(1));
    assert_eq!(
        unset.for_input::<Projection>(3 * projected).threads,
        Some(cores.min(2))
    );
    // A count given is kept, however small the input.
    let given = opts(ReaderOptions::strict(), 3, 1000);
    assert_eq!(given.for_input::<Nested>(10).threads, Some(3));

    // From memory the length is known: a small input is read on one thread, with the same
    // rows as on two.
    let (data, _) = sample_file(120);
    let reader = || -> fastmarc::parallel::SharedBytes { Arc::new(data.clone()) };
    let small = BatchReader::from_shared(reader(), ArrowOptions::default(), Nested).unwrap();
    assert_eq!(small.threads(), 1);
    let one: Vec<_> = small.map(Result::unwrap).collect();
    let two =
        BatchReader::from_shared(reader(), opts(ReaderOptions::strict(), 2, 5000), Nested).unwrap();
    assert_eq!(two.threads(), 2);
    let two: Vec<_> = two.map(Result::unwrap).collect();
    assert_eq!(rows_of(&one), rows_of(&two));
    let many = ArrowOptions {
        batch_bytes: Some(data.len() / 8),
        ..ArrowOptions::default()
    };
    let parallel = BatchReader::from_shared(reader(), many, Nested).unwrap();
    assert_eq!(parallel.threads(), cores.min(7));
    let parallel: Vec<_> = parallel.map(Result::unwrap).collect();
    assert_eq!(rows_of(&parallel), rows_of(&two));
}

/// Every row of `bs` as (number, offset, ISO 2709 bytes).
fn rows_of(bs: &[arrow_array::RecordBatch]) -> Vec<(u64, u64, Vec<u8>)> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::UInt64Type;
    let mut out = Vec::new();
    for b in bs {
        let n = b
            .column_by_name("record_number")
            .unwrap()
            .as_primitive::<UInt64Type>()
            .clone();
        let o = b
            .column_by_name("offset")
            .unwrap()
            .as_primitive::<UInt64Type>()
            .clone();
        for (i, rec) in BatchRecords::new(b).unwrap().iter().enumerate() {
            out.push((n.value(i), o.value(i), as_utf8(&rec.unwrap())));
        }
    }
    out
}

#[test]
fn marc8_records_are_decoded_and_marked_unicode() {
    let data = common::pymarc_file("marc8.dat");
    let (bs, _, _) = batches(&data, opts(ReaderOptions::resyncing(), 1, 1 << 20));
    let leaders = bs[0].column_by_name("leader").unwrap();
    use arrow_array::cast::AsArray;
    for l in leaders.as_string::<i32>().iter() {
        assert_eq!(l.unwrap().as_bytes()[9], b'a');
    }
}

#[test]
fn parquet_files_give_the_records_back_decoded_here_or_on_a_thread() {
    use fastmarc::arrow::parquet::ParquetRecords;
    // Several of the Parquet reader's 1,024-row batches.
    let (data, ranges) = sample_file(2500);
    let (bs, _, _) = batches(&data, opts(ReaderOptions::strict(), 2, 100_000));
    let dir = tempfile_dir();
    let path = dir.join("threads.parquet");
    write_parquet(&bs, &path, None);
    let original: Vec<Vec<u8>> = SliceReader::new(&data)
        .map(|r| as_utf8(&r.unwrap()))
        .collect();
    let cores = fastmarc::internal::thread_count(None);
    for (threads, expected) in [(Some(1), 1), (Some(2), 2), (None, cores.min(2))] {
        let records = ParquetRecords::with_threads(&path, threads).unwrap();
        assert_eq!(records.threads(), expected, "threads {threads:?}");
        let back: Vec<Vec<u8>> = records.map(|r| as_utf8(&r.unwrap())).collect();
        assert!(back == original, "threads {threads:?}");
    }
    // Left to choose, a file of fewer than 2,048 records is decoded by the caller: a
    // thread costs more than it saves there.
    let small = dir.join("small.parquet");
    let (bs, _, _) = batches(
        &data[..ranges[2046].end],
        opts(ReaderOptions::strict(), 1, 1 << 20),
    );
    write_parquet(&bs, &small, None);
    let records = ParquetRecords::with_threads(&small, None).unwrap();
    assert_eq!(records.threads(), 1);
    let back: Vec<Vec<u8>> = records.map(|r| as_utf8(&r.unwrap())).collect();
    assert!(back == original[..2047], "the first 2,047 records");
    // A caller that stops early lets the decoding thread go (dropping does not hang).
    let mut records = ParquetRecords::with_threads(&path, Some(2)).unwrap();
    assert!(records.next().unwrap().is_ok());
    drop(records);
    std::fs::remove_dir_all(dir).unwrap();
}

/// `n` records with a 600-character value each that zstd cannot shrink much: enough
/// text for several Parquet pages.
fn bulky_file(n: usize) -> Vec<u8> {
    use fastmarc::{Field, Subfield, Tag};
    let mut state = 7u64;
    let mut out = Vec::new();
    for i in 0..n {
        let text: String = (0..600)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                char::from(b'a' + (state >> 59) as u8 % 26)
            })
            .collect();
        let mut rec = Record::new();
        rec.push(&Field::control(Tag::new("001").unwrap(), format!("id{i}")));
        rec.push(&Field::data(
            Tag::new("500").unwrap(),
            ' ',
            ' ',
            vec![Subfield::new('a', &text)],
        ));
        out.extend(record_to_bytes(&rec).unwrap());
    }
    out
}

#[test]
fn a_damaged_parquet_file_ends_its_records_with_an_error() {
    use fastmarc::arrow::parquet::ParquetRecords;
    let data = bulky_file(6000);
    let (bs, _, _) = batches(&data, opts(ReaderOptions::strict(), 2, 100_000));
    let dir = tempfile_dir();
    let path = dir.join("damaged.parquet");
    write_parquet(&bs, &path, None);
    // Zero a stretch of the subfield values' later pages (the last and largest column), away
    // from the footer the file is opened by: the first records decode, then it fails.
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.len() * 3 / 4;
    bytes[at..at + 4096].fill(0);
    std::fs::write(&path, &bytes).unwrap();
    for threads in [1, 2] {
        let results: Vec<_> = ParquetRecords::with_threads(&path, Some(threads))
            .unwrap()
            .collect();
        assert!(
            results.len() > 1000,
            "threads {threads}: records before the damage"
        );
        let first_error = results.iter().position(Result::is_err);
        assert_eq!(
            first_error,
            Some(results.len() - 1),
            "threads {threads}: one error, last"
        );
        let e = results.last().unwrap().as_ref().unwrap_err().to_string();
        assert!(e.contains("damaged.parquet"), "{e}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn parquet_columns_are_encoded_for_what_they_hold() {
    use parquet::basic::Encoding;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let (data, _) = sample_file(300);
    let (bs, _, _) = batches(&data, opts(ReaderOptions::strict(), 1, 1 << 20));
    let dir = tempfile_dir();
    let path = dir.join("columns.parquet");
    write_parquet(&bs, &path, None);
    let reader = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    let group = reader.metadata().row_group(0);
    let mut seen = 0;
    for chunk in group.columns() {
        let name = chunk.column_path().string();
        let encodings: Vec<Encoding> = chunk.encodings().collect();
        let dictionary = encodings.contains(&Encoding::RLE_DICTIONARY);
        match name.as_str() {
            "record_number" | "offset" => {
                assert!(encodings.contains(&Encoding::DELTA_BINARY_PACKED), "{name}");
                assert!(!dictionary, "{name}");
                assert!(chunk.statistics().is_some(), "{name}");
            }
            "leader"
            | "control_fields.list.item.value"
            | "data_fields.list.item.subfields.list.item.value" => {
                assert!(!dictionary, "{name}");
                assert!(chunk.statistics().is_none(), "{name}");
            }
            "control_fields.list.item.position" => assert!(chunk.statistics().is_none()),
            _ => assert!(dictionary && chunk.statistics().is_none(), "{name}"),
        }
        seen += 1;
    }
    assert_eq!(seen, 11);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn parquet_row_groups_hold_a_bounded_number_of_records() {
    use common::{raw_record, UTF8_LEADER};
    use fastmarc::arrow::parquet::{ParquetRecords, ROW_GROUP_ROWS};
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let records = ROW_GROUP_ROWS * 2 + 5;
    let one = raw_record(UTF8_LEADER, &[("001", b"x")]);
    let data = one.repeat(records);
    let (bs, _, _) = batches(&data, opts(ReaderOptions::strict(), 1, 1 << 20));
    let dir = tempfile_dir();
    let path = dir.join("row_groups.parquet");
    // Encoded column by column on threads, the file is byte for byte the one-thread file.
    write_parquet(&bs, &path, Some(3));
    let threaded = std::fs::read(&path).unwrap();
    write_parquet(&bs, &path, Some(1));
    assert!(std::fs::read(&path).unwrap() == threaded);
    let reader = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    let rows: Vec<i64> = reader
        .metadata()
        .row_groups()
        .iter()
        .map(|g| g.num_rows())
        .collect();
    let full = ROW_GROUP_ROWS as i64;
    assert_eq!(rows, [full, full, 5]);
    assert_eq!(ParquetRecords::open(&path).unwrap().count(), records);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_parquet_sink_refuses_a_batch_of_another_schema() {
    use common::{raw_record, UTF8_LEADER};
    use fastmarc::arrow::parquet::{compression, ParquetSink};
    use fastmarc::arrow::Projection;
    let (data, _) = sample_file(20);
    let p = Projection::new(&[("title", "245[0]$a[0]")]).unwrap();
    let o = opts(ReaderOptions::strict(), 1, 1 << 20);
    let other = BatchReader::new(Cursor::new(data), o, p)
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    // Enough records before it for the columns to have moved onto their threads.
    let one = raw_record(UTF8_LEADER, &[("001", b"x")]);
    let (good, _, _) = batches(&one.repeat(40_000), o);
    for threads in [1, 2] {
        let schema = fastmarc::arrow::nested_schema();
        let codec = compression("zstd").unwrap();
        let mut sink = ParquetSink::new(Vec::new(), schema, codec, Some(threads)).unwrap();
        for b in &good {
            sink.write(b).unwrap();
        }
        let e = sink.write(&other).unwrap_err().to_string();
        assert!(
            e.contains("encoding a Parquet row group"),
            "{threads} threads: {e}"
        );
        assert!(e.contains("record_number"), "{threads} threads: {e}");
        // Dropped without its footer: the column threads end, nothing hangs.
        drop(sink);
    }
}

/// `batches` (of the nested schema) as a zstd Parquet file at `path`, encoded on
/// `threads` threads (`None`: every core).
fn write_parquet(
    batches: &[arrow_array::RecordBatch],
    path: &std::path::Path,
    threads: Option<usize>,
) {
    use fastmarc::arrow::parquet::{compression, ParquetSink};
    let file = std::fs::File::create(path).unwrap();
    let schema = fastmarc::arrow::nested_schema();
    let mut sink = ParquetSink::new(file, schema, compression("zstd").unwrap(), threads).unwrap();
    for b in batches {
        sink.write(b).unwrap();
    }
    sink.finish().unwrap();
}

/// A folder of this test's own: `cargo test` runs tests as threads of one process, and
/// one test removing a shared folder would pull files from under another.
fn tempfile_dir() -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("fastmarc-arrow-test-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn projections_give_one_column_per_spec() {
    use arrow_array::cast::AsArray;
    use arrow_array::Array;
    use fastmarc::arrow::Projection;
    let (data, _) = sample_file(40);
    let columns = [
        ("id", "001"),
        ("title", "245[0]$a[0]"),
        ("lang", "008/35-37"),
        ("subjects", "6XX$a$v"),
        ("missing", "020[0]$a[0]"),
    ];
    let p = Projection::new(&columns).unwrap();
    let o = opts(ReaderOptions::strict(), 2, 900);
    let bs: Vec<_> = BatchReader::new(Cursor::new(data), o, p)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(bs.len() > 1);
    let mut row = 0;
    for b in &bs {
        let names: Vec<_> = b
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, ["id", "title", "lang", "subjects", "missing"]);
        let id = b.column(0).as_list::<i32>();
        let title = b.column(1).as_string::<i32>();
        let lang = b.column(2).as_list::<i32>();
        let subjects = b.column(3).as_list::<i32>();
        let missing = b.column(4).as_string::<i32>();
        for i in 0..b.num_rows() {
            let strings = |a: arrow_array::ArrayRef| -> Vec<String> {
                a.as_string::<i32>()
                    .iter()
                    .map(|s| s.unwrap().to_string())
                    .collect()
            };
            assert_eq!(strings(id.value(i)), [format!("id{row:04}")]);
            assert!(title.value(i).starts_with(&format!("Title number {row} ")));
            assert_eq!(strings(lang.value(i)), ["eng"]);
            assert_eq!(strings(subjects.value(i)), ["Governesses", "Fiction."]);
            assert!(missing.is_null(i));
            row += 1;
        }
    }
    assert_eq!(row, 40);
}

/// A projection parses only the fields its specs read (subspecs' fields included): its
/// values are those of the specs on the whole record, and a record whose other fields hold
/// text that does not decode is projected, not an error.
#[test]
fn projections_of_pymarcs_files_match_the_specs_on_whole_records() {
    use arrow_array::cast::AsArray;
    use arrow_array::Array;
    use fastmarc::arrow::{Layout, Projection};
    use fastmarc::iso2709::parse_record_fields;
    use fastmarc::Spec;
    let columns = [
        ("leader", "LDR/05-09"),
        ("id", "001"),
        ("lang", "008/35-37"),
        ("title", "245[0]$a[0]"),
        ("subjects", "6XX$a$x"),
        ("lcsh", "650{^2=\\0}$a"),
        ("with_isbn", "245$a{020}"),
        ("fiction", "245$a{650$v~\\Fiction}"),
        ("names", "1..$a"),
        ("notes", "5XX"),
    ];
    let p = Projection::new(&columns).unwrap();
    let specs: Vec<Spec> = columns
        .iter()
        .map(|(_, s)| Spec::parse(s).unwrap())
        .collect();
    let (mut compared, mut rescued) = (0, 0);
    let only = p.only_tags().unwrap();
    for (name, data) in pymarc_marc_files() {
        let reader = ReaderOptions::resyncing();
        // Each framed record parsed whole, and parsed as the projection parses it.
        let (mut parts, mut wholes) = (Vec::new(), Vec::new());
        let mut frames = fastmarc::iso2709::Reader::with_options(Cursor::new(data.clone()), reader);
        while let Some(frame) = frames.next_raw() {
            let Ok(bytes) = frame else { continue };
            let (mut part, mut whole) = (Record::new(), Record::new());
            let partial = parse_record_fields(bytes, &reader.parse, &only, &mut part);
            let full = fastmarc::iso2709::parse_record(bytes, &reader.parse, &mut whole);
            if partial.is_ok() {
                parts.push(part);
                wholes.push(full.is_ok().then_some(whole));
            }
        }
        let projected: Vec<(&Record, Option<&Record>)> = parts
            .iter()
            .zip(wholes.iter().map(Option::as_ref))
            .collect();
        let bs: Vec<_> =
            BatchReader::new(Cursor::new(data.clone()), opts(reader, 2, 700), p.clone())
                .unwrap()
                .map(Result::unwrap)
                .collect();
        let mut row = 0;
        for b in &bs {
            for i in 0..b.num_rows() {
                let (part, whole) = projected[row];
                rescued += usize::from(whole.is_none());
                // Its text is Unicode: leader/09 says so, as in the nested schema.
                let mut reference = whole.unwrap_or(part).clone();
                if reference.encoding() == fastmarc::TextEncoding::Unicode {
                    reference.leader_mut().set(9, b'a');
                }
                for (c, spec) in specs.iter().enumerate() {
                    let column = b.column(c);
                    let got: Vec<String> = if spec.is_single() {
                        let col = column.as_string::<i32>();
                        (!col.is_null(i))
                            .then(|| col.value(i).to_string())
                            .into_iter()
                            .collect()
                    } else {
                        let list = column.as_list::<i32>().value(i);
                        list.as_string::<i32>()
                            .iter()
                            .map(|s| s.unwrap().to_string())
                            .collect()
                    };
                    let want = spec.values(&reference);
                    assert_eq!(got, want, "{name} record {row} column {}", columns[c].0);
                    compared += usize::from(!want.is_empty() && whole.is_some());
                }
                row += 1;
            }
        }
        assert_eq!(row, projected.len(), "{name}");
    }
    assert!(compared > 300, "too few values to compare: {compared}");
    assert!(rescued > 0, "no record had bad text outside the projection");
}

#[test]
fn a_bad_spec_names_its_column_and_character() {
    let e = fastmarc::arrow::Projection::new(&[("ok", "245$a"), ("bad", "24$a")]).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("\"bad\"") && text.contains("character"),
        "{text}"
    );
    let e = fastmarc::arrow::Projection::new(&[("x", "245$a"), ("x", "001")]).unwrap_err();
    assert!(e.to_string().contains("named twice"));
    let none: [(&str, &str); 0] = [];
    let e = fastmarc::arrow::Projection::new(&none).unwrap_err();
    assert!(e.to_string().contains("at least one column"), "{e}");
}

/// Records whose control fields sit after or among their data fields.
fn interleaved() -> Vec<u8> {
    use fastmarc::{Field, Subfield, Tag};
    let control = |t: &str, v: &str| Field::control(Tag::new(t).unwrap(), v);
    let data =
        |t: &str, v: &str| Field::data(Tag::new(t).unwrap(), '1', ' ', vec![Subfield::new('a', v)]);
    let shapes: Vec<Vec<Field>> = vec![
        vec![data("245", "t"), control("001", "a")],
        vec![
            data("100", "x"),
            control("001", "b"),
            data("245", "t"),
            control("005", "c"),
        ],
        vec![
            control("001", "d"),
            data("245", "t"),
            control("008", "e"),
            control("003", "f"),
        ],
        vec![data("245", "t"), data("650", "s")],
        vec![control("008", "g"), control("001", "h")],
    ];
    let mut out = Vec::new();
    for fields in shapes {
        let mut rec = Record::new();
        for f in &fields {
            rec.push(f);
        }
        out.extend(record_to_bytes(&rec).unwrap());
    }
    out
}

#[test]
fn interleaved_control_fields_go_back_in_place() {
    use fastmarc::arrow::parquet::ParquetRecords;
    let data = interleaved();
    let (bs, fatal, _) = batches(&data, opts(ReaderOptions::strict(), 2, 100));
    assert!(fatal.is_empty(), "{fatal:?}");
    let back: Vec<u8> = rebuilt(&bs).iter().flat_map(as_utf8).collect();
    assert_eq!(back, data);

    let dir = tempfile_dir();
    let path = dir.join("interleaved.parquet");
    write_parquet(&bs, &path, None);
    let back: Vec<u8> = ParquetRecords::open(&path)
        .unwrap()
        .flat_map(|r| as_utf8(&r.unwrap()))
        .collect();
    assert_eq!(back, data);
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

#[test]
fn a_parquet_file_damaged_anywhere_ends_its_records_with_an_error_not_a_panic() {
    use fastmarc::arrow::parquet::ParquetRecords;
    let (data, _) = sample_file(30);
    let (bs, _, _) = batches(&data, opts(ReaderOptions::strict(), 1, 100_000));
    let dir = tempfile_dir();
    let good_path = dir.join("sweep.parquet");
    write_parquet(&bs, &good_path, Some(1));
    let good = std::fs::read(&good_path).unwrap();
    let path = dir.join("sweep-damaged.parquet");
    // Twelve bytes with the high bit set make an over-long number wherever the format
    // has one (page headers, levels, the footer), and garbage anywhere else.
    for at in 0..good.len() {
        let mut bytes = good.clone();
        let end = (at + 12).min(bytes.len());
        bytes[at..end].fill(0xFF);
        std::fs::write(&path, &bytes).unwrap();
        // Decoded on the caller's thread, and (for every seventh place) on a thread of its own.
        for threads in [1, 2] {
            if threads == 2 && at % 7 != 0 {
                continue;
            }
            let results: Vec<_> = match ParquetRecords::with_threads(&path, Some(threads)) {
                Ok(records) => records.collect(),
                Err(e) => vec![Err(e)],
            };
            if let Some(first) = results.iter().position(Result::is_err) {
                assert_eq!(
                    first,
                    results.len() - 1,
                    "byte {at}, {threads} threads: one error, last"
                );
                let e = results[first].as_ref().unwrap_err().to_string();
                assert!(e.contains("sweep-damaged.parquet"), "byte {at}: {e}");
            }
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn tags_holding_control_characters_come_back() {
    // The reader takes any ASCII in a directory's tags, as pymarc does; the rows it makes
    // must come back, or a Parquet file written from such a record could not be read.
    let (data, ranges) = sample_file(3);
    let mut data = data;
    let second = ranges[1].start;
    let base: usize = std::str::from_utf8(&data[second + 12..second + 17])
        .unwrap()
        .parse()
        .unwrap();
    let directory = second + 24..second + base - 1;
    let entries: Vec<usize> = directory.clone().step_by(12).collect();
    // A data field's tag (a control field's is "00" and a digit: it would stop being one).
    let datafield = *entries.iter().find(|&&e| data[e] != b'0').unwrap();
    data[datafield + 1] = 0x0f;
    let o = ReaderOptions::resyncing();
    let (bs, errors, skipped) = batches(&data, opts(o, 1, 4096));
    assert!(
        errors.is_empty() && skipped.is_empty(),
        "{errors:?} {skipped:?}"
    );
    let back = rebuilt(&bs);
    assert_eq!(back.len(), 3);
    assert_eq!(as_utf8(&back[1]), data[ranges[1].clone()].to_vec());
}
