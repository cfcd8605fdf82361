//! Reading the 24-field pay notify (1172 bytes) into the map, and writing the unifiedorder
//! request, on the peers' fixtures (`shared/bench/peers`).
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tenpay_sign::{ApiKey, SignType};
use tenpay_xml::XmlMap;

fn testdata(path: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../testdata/bench/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let notify = testdata("pay_notify.xml");
    assert_eq!(notify.len(), 1172);
    let key = ApiKey::new("192006250b4c09247ec02edce69f6a2d").unwrap();

    let params: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&testdata("unifiedorder_params.json")).unwrap();
    let mut request = XmlMap::new();
    for (k, v) in &params {
        request.insert(k, v.as_str().unwrap()).unwrap();
    }
    request.sign(&key, SignType::Md5).unwrap();

    let mut g = c.benchmark_group("xml");
    g.throughput(Throughput::Elements(1));
    g.bench_function("read_pay_notify", |b| {
        b.iter(|| XmlMap::parse(black_box(&notify)).unwrap())
    });
    g.bench_function("read_and_verify_pay_notify", |b| {
        b.iter(|| {
            XmlMap::parse(black_box(&notify))
                .unwrap()
                .verify(&key, SignType::Md5)
                .unwrap()
        })
    });
    g.bench_function("write_unifiedorder", |b| {
        b.iter(|| black_box(&request).to_xml())
    });
    g.bench_function("quick_xml_events_pay_notify", |b| {
        b.iter(|| {
            let mut r = quick_xml::Reader::from_reader(black_box(notify.as_slice()));
            let mut n = 0usize;
            loop {
                match r.read_event() {
                    Ok(quick_xml::events::Event::Eof) | Err(_) => break,
                    Ok(_) => n += 1,
                }
            }
            n
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
