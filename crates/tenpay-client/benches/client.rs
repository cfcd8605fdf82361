//! One unifiedorder call without the network: build, sign and serialize the request, then
//! verify and decode a signed answer.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tenpay_client::{Client, OutTradeNo, UnifiedOrder};
use tenpay_sign::{ApiKey, SignType};
use tenpay_xml::{Fen, XmlMap};

fn bench(c: &mut Criterion) {
    let key = ApiKey::new("192006250b4c09247ec02edce69f6a2d").unwrap();
    let mut g = c.benchmark_group("client");
    g.throughput(Throughput::Elements(1));
    for st in [SignType::Md5, SignType::HmacSha256] {
        let client = Client::builder(tenpay_client::Merchant::new(
            "wx2421b1c4370ec43b",
            "10000100",
            key.clone(),
            st,
        ))
        .build()
        .unwrap();
        let mut answer = XmlMap::new();
        for (k, v) in [
            ("return_code", "SUCCESS"),
            ("return_msg", "OK"),
            ("appid", "wx2421b1c4370ec43b"),
            ("mch_id", "10000100"),
            ("nonce_str", "IITRi8Iabbblz1Jc"),
            ("result_code", "SUCCESS"),
            ("prepay_id", "wx201411101639507cbf6ffd8b0779950874"),
            ("trade_type", "NATIVE"),
            ("code_url", "weixin://wxpay/bizpayurl?pr=abcdefg"),
        ] {
            answer.insert(k, v).unwrap();
        }
        answer.sign(&key, st).unwrap();
        let answer = answer.to_xml().into_bytes();
        g.bench_function(format!("unifiedorder_roundtrip_{st}"), |b| {
            b.iter(|| {
                let order = UnifiedOrder::native(
                    "腾讯充值中心-QQ会员充值（包月）",
                    OutTradeNo::new("20150806125346000012345678").unwrap(),
                    Fen::new(888),
                    "123.12.12.123",
                    "https://pay.example.com/wxpay/notify/v2/payment",
                    "P1",
                )
                .attach("深圳分店|order-source=miniapp|campaign=双十一");
                let body = client.request_body(black_box(&order)).unwrap();
                let decoded = client
                    .read_answer::<UnifiedOrder>(black_box(&answer))
                    .unwrap();
                (body, decoded)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
