//! Handling the peers' notification fixtures (`shared/bench/peers`): the 24-field pay notify
//! (parse, verify MD5, decode) and the refund notify (parse, decrypt, parse, decode).
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tenpay_notify::Notifier;
use tenpay_sign::{ApiKey, SignType};

fn testdata(path: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../testdata/bench/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let key = ApiKey::new("192006250b4c09247ec02edce69f6a2d").unwrap();
    let notifier = Notifier::new(&tenpay_sign::Merchant::new(
        "wx2421b1c4370ec43b",
        "10000100",
        key,
        SignType::Md5,
    ));
    let pay = testdata("pay_notify.xml");
    let refund = testdata("refund_notify.xml");
    notifier.pay(&pay).unwrap();
    notifier.refund(&refund).unwrap();

    let mut g = c.benchmark_group("notify");
    g.throughput(Throughput::Elements(1));
    g.bench_function("pay_parse_verify_decode", |b| {
        b.iter(|| notifier.pay(black_box(&pay)).unwrap())
    });
    g.bench_function("refund_parse_decrypt_decode", |b| {
        b.iter(|| notifier.refund(black_box(&refund)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
