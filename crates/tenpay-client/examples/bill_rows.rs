//! Parses a trade bill file row by row with `BillReader` and reports rows/s and the process's
//! peak RSS (Linux `VmHWM`): `cargo run --release -p tenpay-client --example bill_rows -- FILE`.
//! `bench/bills/make_bill.py` writes a modern bill of any size.
#![allow(clippy::unwrap_used, missing_docs, clippy::float_arithmetic)]

use std::io::BufReader;
use std::time::Instant;

use tenpay_client::BillReader;

fn main() {
    let path = std::env::args().nth(1).expect("usage: bill_rows FILE");
    let started = Instant::now();
    let file = std::fs::File::open(&path).unwrap();
    let mut reader = BillReader::new(BufReader::with_capacity(256 * 1024, file)).unwrap();
    let (mut rows, mut fen, mut fee) = (0u64, 0u64, 0i64);
    for row in reader.by_ref() {
        let row = row.unwrap();
        rows += 1;
        fen += row.total_fee.map_or(0, |f| f.get());
        fee += row.service_fee.map_or(0, |f| f.get());
    }
    let elapsed = started.elapsed().as_secs_f64();
    let summary = reader.summary().unwrap();
    assert_eq!(summary.count, rows);
    let hwm = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .map(|l| l.split_whitespace().nth(1).unwrap_or("?").to_owned())
        .unwrap_or_else(|| "?".into());
    println!(
        "{rows} rows in {elapsed:.2} s = {:.0} rows/s; settled {fen} fen, fees {fee} (1e-5 yuan); peak RSS {hwm} kB",
        rows as f64 / elapsed
    );
}
