//! Throughput of the DMF reader: serial and parallel scans of an in-memory file.

use dmf_format::{ScanMode, scan, scan_parallel};

fn main() {
    divan::main();
}

/// 200,000 real sample lines (20 MB), as one buffer.
fn corpus() -> Vec<u8> {
    let sample = [
        include_str!("../testdata/ssdm1.txt"),
        include_str!("../testdata/ssdm2.txt"),
        include_str!("../testdata/ssdm3.txt"),
    ]
    .concat();
    sample.repeat(200_000 / 30).into_bytes()
}

#[divan::bench]
fn scan_one_core(bencher: divan::Bencher) {
    let data = corpus();
    bencher
        .counter(divan::counter::BytesCount::new(data.len()))
        .bench(|| scan(divan::black_box(&data), ScanMode::FirstError));
}

#[divan::bench]
fn scan_two_cores(bencher: divan::Bencher) {
    let data = corpus();
    bencher
        .counter(divan::counter::BytesCount::new(data.len()))
        .bench(|| scan_parallel(divan::black_box(&data), ScanMode::FirstError, 2));
}

/// The floor: finding the line ends alone.
#[divan::bench]
fn count_lines(bencher: divan::Bencher) {
    let data = corpus();
    bencher
        .counter(divan::counter::BytesCount::new(data.len()))
        .bench(|| memchr::memchr_iter(b'\n', divan::black_box(&data)).count());
}
