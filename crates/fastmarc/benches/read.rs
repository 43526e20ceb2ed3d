//! Reading ISO 2709: the sequential slice reader, the `marc` crate for comparison, and the
//! parallel pipeline with one and two parser threads (handing records on, and as a map
//! visiting each record where it was parsed), all on the same generated records.
//!
//! `cargo bench -p fastmarc --bench read` (about half a minute).

#[path = "../examples/common/fixture.rs"]
mod fixture;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fastmarc::iso2709::{ReaderOptions, SliceReader};
use fastmarc::parallel::{ParallelMap, ParallelOptions, ParallelReader};
use fastmarc::Record;
use std::hint::black_box;
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

const RECORDS: u64 = 5_000;

/// A `Read` over shared bytes, so each pipeline run reads the fixture without copying it
/// first (as it would read a file).
struct SharedCursor {
    data: Arc<Vec<u8>>,
    pos: usize,
}

impl Read for SharedCursor {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let rest = &self.data[self.pos..];
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        Ok(n)
    }
}

/// Touch every field and subfield, so no parsing work goes unused.
fn visit(rec: &Record) -> usize {
    rec.fields()
        .map(|f| match f.data() {
            Some(d) => d.len(),
            None => f.subfields().map(|s| s.value.len()).sum(),
        })
        .sum()
}

fn drain(records: impl Iterator<Item = fastmarc::Result<Record>>) -> usize {
    records
        .map(|r| visit(&r.expect("fixture records are valid")))
        .sum()
}

fn marc_crate(bytes: &[u8]) -> usize {
    let mut total = 0;
    for r in marc::Records::new(bytes) {
        let rec = r.expect("fixture records are valid");
        for f in rec.fields() {
            let data: &[u8] = f.get_data();
            if f.get_tag().0[..2] == *b"00" {
                total += std::str::from_utf8(data).map(str::len).unwrap_or(0);
            } else {
                for s in f.subfields() {
                    let v: &[u8] = s.get_data();
                    total += std::str::from_utf8(v).map(str::len).unwrap_or(0);
                }
            }
        }
    }
    total
}

fn read(c: &mut Criterion) {
    let bytes = Arc::new(fixture::file_bytes(RECORDS, false, 1));
    let mut group = c.benchmark_group("read_utf8");
    group
        .throughput(Throughput::Bytes(bytes.len() as u64))
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));

    group.bench_function("sequential_slice", |b| {
        b.iter(|| {
            drain(SliceReader::with_options(
                black_box(&bytes),
                ReaderOptions::strict(),
            ))
        })
    });
    group.bench_function("marc_crate", |b| b.iter(|| marc_crate(black_box(&bytes))));
    for threads in [1, 2] {
        group.bench_function(format!("pipeline_{threads}_threads"), |b| {
            b.iter(|| {
                let input = SharedCursor {
                    data: bytes.clone(),
                    pos: 0,
                };
                drain(ParallelReader::new(input, ReaderOptions::strict(), Some(threads)).unwrap())
            })
        });
        group.bench_function(format!("map_{threads}_threads"), |b| {
            b.iter(|| {
                let input = SharedCursor {
                    data: bytes.clone(),
                    pos: 0,
                };
                let opts = ParallelOptions::new(ReaderOptions::strict(), Some(threads));
                let map = ParallelMap::new(input, opts, |r| {
                    visit(r.expect("fixture records are valid"))
                });
                map.unwrap().sum::<usize>()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, read);
criterion_main!(benches);
