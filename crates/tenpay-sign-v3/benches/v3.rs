//! API v3 crypto, on the protocol reference's vectors: request signing (V5, a JSAPI order
//! body), answer verification (V7, public-key mode), notification resource decryption (V11).
//! Compare with `openssl speed -seconds 2 rsa2048` in the same sitting
//! (bench/sitting-*.txt at the workspace root).
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use tenpay_sign_v3::{ApiV3Key, PrivateKey, PublicKey, Resource, SignedHeaders, Signer, Verifier};

const BODY: &str = r#"{"appid":"wxd678efh567hg6787","mchid":"1230000109","description":"Image形象店-深圳腾大-QQ公仔","out_trade_no":"1217752501201407033233368018","notify_url":"https://www.weixin.qq.com/wxpay/pay.php","amount":{"total":100,"currency":"CNY"},"payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}"#;
const V7: &str = "Bde9UqZ7oxIjzxD9k0RuT/tgtVkXh1WSQdNXGwfMyojjSyPCHGXSNDheoKWSeYsFs2ohLWVQFMPrLLvjuvUfl9y+Tubel5hq9uUoIBNkyWUoOyGVYhpnPdeQtOwmbBF6jCE+hi2gKI5l/st8pCw3TRNJ8cLSVj/If7badqwYFJym27gPOkQ3MIi++6rVvzwU/M2jopr8SlD3brVEXmy+Q/Be8UNJ/9ofJRmm7ERgD3hwV3bmwFrH0H+DhOJpp4GaTyPEDPvc06Drq1cgB7XRD1OTEnM+LEDyef23i0Iv+lKPcYxCmqJCVPuD3MBjnGtv0+ReT/uGa2Kc5xwbEK4LRw==";
const ID: &str = "PUB_KEY_ID_0112345678202405010012345678";

fn benches(c: &mut Criterion) {
    let key = PrivateKey::from_pem(include_str!(
        "../tests/data/wechatpay-java_merchant_private_key.pem"
    ))
    .expect("key");
    let signer = Signer::new(
        "1230000109",
        "5F1C72E2A8931B72A2E13AF8DEE92471EB397115",
        key,
    )
    .expect("signer");
    c.bench_function("v3 sign request (Authorization for a JSAPI order)", |b| {
        b.iter(|| {
            signer
                .authorization(
                    "POST",
                    "/v3/pay/transactions/jsapi",
                    black_box(1_652_750_623),
                    "eBYqCOxa0QudMnPvVilkTzOg3gHh5Z3u",
                    black_box(BODY.as_bytes()),
                )
                .expect("sign")
        });
    });

    let mut keys = Verifier::new();
    keys.add_public_key(
        ID,
        PublicKey::from_pem(include_str!(
            "../tests/data/wechatpay-java_wechat_pay_public_key.pem"
        ))
        .expect("public key"),
    )
    .expect("id");
    let body = br#"{"code_url":"weixin://wxpay/bizpayurl?pr=JyC91EIz1"}"#;
    let headers = SignedHeaders::new("1722850421", "d824f2e086d3c1df967785d13fcd22ef", V7, ID);
    c.bench_function("v3 verify answer (public-key mode)", |b| {
        b.iter(|| {
            keys.verify(black_box(&headers), black_box(body), 1_722_850_421)
                .expect("verify")
        });
    });

    let note: serde_json::Value = serde_json::from_str(include_str!(
        "../tests/data/computed_notify_transaction_32bytekey.json"
    ))
    .expect("json");
    let resource: Resource = serde_json::from_value(note["resource"].clone()).expect("resource");
    let apiv3 = ApiV3Key::new("a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb").expect("key");
    c.bench_function(
        "v3 decrypt notification resource (AES-256-GCM, 424 B)",
        |b| {
            b.iter(|| apiv3.open(black_box(&resource)).expect("open"));
        },
    );
}

criterion_group!(v3, benches);
criterion_main!(v3);
