//! Signing the 12-field unifiedorder fixture (446-byte canonical string), as the peers do
//! (`shared/bench/peers`): MD5 and HMAC-SHA256, and verification of the result.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tenpay_sign::{ApiKey, SignType};

fn fixture() -> Vec<(String, String)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/bench/unifiedorder_params.json"
    );
    let text = std::fs::read_to_string(path).expect("bench fixture");
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&text).expect("json");
    map.into_iter()
        .map(|(k, v)| (k, v.as_str().expect("string").to_owned()))
        .collect()
}

fn bench(c: &mut Criterion) {
    let params = fixture();
    let key = ApiKey::new("192006250b4c09247ec02edce69f6a2d").expect("key");
    let pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let md5 = tenpay_sign::sign(pairs.iter().copied(), &key, SignType::Md5).expect("sign");
    assert_eq!(md5.as_str(), "9347CCAD964CE4885F965F7620F9CC0B");
    let hmac = tenpay_sign::sign(pairs.iter().copied(), &key, SignType::HmacSha256).expect("sign");

    let mut g = c.benchmark_group("sign_unifiedorder");
    g.throughput(Throughput::Elements(1));
    g.bench_function("md5", |b| {
        b.iter(|| tenpay_sign::sign(black_box(&pairs).iter().copied(), &key, SignType::Md5))
    });
    g.bench_function("hmac_sha256", |b| {
        b.iter(|| {
            tenpay_sign::sign(
                black_box(&pairs).iter().copied(),
                &key,
                SignType::HmacSha256,
            )
        })
    });
    g.bench_function("verify_md5", |b| {
        b.iter(|| {
            tenpay_sign::verify(
                black_box(&pairs).iter().copied(),
                &key,
                SignType::Md5,
                md5.as_str(),
            )
        })
    });
    g.bench_function("verify_hmac_sha256", |b| {
        b.iter(|| {
            tenpay_sign::verify(
                black_box(&pairs).iter().copied(),
                &key,
                SignType::HmacSha256,
                hmac.as_str(),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches, raw_benches);

fn raw(c: &mut Criterion) {
    use hmac::{KeyInit, Mac};
    use md5::Digest;
    let data = vec![b'a'; 446];
    c.bench_function("raw_md5_446", |b| {
        b.iter(|| md5::Md5::digest(black_box(&data)))
    });
    let mac =
        <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(b"192006250b4c09247ec02edce69f6a2d")
            .unwrap();
    c.bench_function("raw_hmac_446", |b| {
        b.iter(|| {
            let mut m = mac.clone();
            m.update(black_box(&data));
            m.finalize()
        })
    });
    let params = fixture();
    let pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    // Signing 446 bytes with almost no canonicalisation: one field, `a=<407 bytes>&key=<32
    // bytes>`. Compare with raw_md5_446 (md-5 hashing the bytes alone).
    let long = "x".repeat(407);
    let one = [("a", long.as_str())];
    let k = ApiKey::new("192006250b4c09247ec02edce69f6a2d").unwrap();
    c.bench_function("sign_md5_one_field_446", |b| {
        b.iter(|| tenpay_sign::sign(black_box(one).iter().copied(), &k, SignType::Md5))
    });
    c.bench_function("canonical_only", |b| {
        b.iter(|| tenpay_sign::Canonical::new(black_box(&pairs).iter().copied()))
    });
}
criterion_group!(raw_benches, raw);
