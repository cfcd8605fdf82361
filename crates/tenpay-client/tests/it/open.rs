//! The open seams: any V2 path through `RawCall`, your own `Endpoint`, and decoding an answer
//! received by your own HTTP stack with a `Verifier` alone.

use serde::{Deserialize, Serialize};
use tenpay_client::{Answer, Endpoint, MerchantExt as _, RawCall, Route, Verifier};
use tenpay_xml::XmlMap;

use super::*;

/// `/pay/closeorder`, modelled outside the crate.
#[derive(Serialize)]
struct MyClose {
    out_trade_no: String,
}

#[derive(Deserialize)]
struct MyCloseAnswer {
    result_code: String,
}

impl Endpoint for MyClose {
    type Response = MyCloseAnswer;
    const ROUTE: Route<'static> = Route::new("/pay/closeorder").retry_safe();
    fn to_map(&self) -> Result<XmlMap, tenpay_xml::Error> {
        tenpay_xml::to_map(self)
    }
    fn decode(v: &Verifier, key: &ApiKey, answer: Answer) -> Result<MyCloseAnswer, Error> {
        Ok(v.decode(key, &answer)?.0)
    }
}

#[tokio::test]
async fn a_custom_endpoint_and_a_raw_call_against_the_simulator() {
    let sim = sim().await;
    let c = client(&sim, SignType::HmacSha256);
    c.unified_order(&order("O1")).await.unwrap();
    c.unified_order(&order("O2")).await.unwrap();
    // A raw call: the verified fields.
    let q = c
        .call(
            &RawCall::new("/pay/orderquery")
                .unwrap()
                .field("out_trade_no", "O1"),
        )
        .await
        .unwrap();
    assert_eq!(q.get("trade_state"), Some("NOTPAY"));
    assert_eq!(q.get("out_trade_no"), Some("O1"));
    // A business refusal is the usual typed error.
    let e = c
        .call(
            &RawCall::new("/pay/orderquery")
                .unwrap()
                .field("out_trade_no", "NOPE"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.err_code(), Some(&ErrCode::OrderNotExist));
    // Your own endpoint type, through execute.
    let closed = c
        .execute(&MyClose {
            out_trade_no: "O1".into(),
        })
        .await
        .unwrap();
    assert_eq!(closed.result_code, "SUCCESS");
    assert_eq!(sim.order("O1").unwrap().trade_state, "CLOSED");
    // Your own HTTP stack: the signed body from the client, the answer decoded with the
    // verifier's facts alone.
    let body = c
        .request_body(&MyClose {
            out_trade_no: "O2".into(),
        })
        .unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let bytes = reqwest::Client::new()
        .post(format!("{}/pay/closeorder", sim.base_url()))
        .body(body)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let verifier = Verifier::new(APPID, MCH, SignType::HmacSha256);
    let answer = MyClose::decode(&verifier, &key(), Answer::new(bytes.clone())).unwrap();
    assert_eq!(answer.result_code, "SUCCESS");
    // The same answer checked against another merchant, or the other algorithm, is refused.
    let other = Verifier::new(APPID, "10000200", SignType::HmacSha256);
    assert!(matches!(
        MyClose::decode(&other, &key(), Answer::new(bytes.clone())),
        Err(Error::ForeignAnswer { .. })
    ));
    let md5 = Verifier::new(APPID, MCH, SignType::Md5);
    assert!(matches!(
        MyClose::decode(&md5, &key(), Answer::new(bytes)),
        Err(Error::BadSignature(_))
    ));
    // A raw secapi call without a certificate sends nothing.
    let bare = Client::builder(merchant(SignType::Md5))
        .base_url(sim.base_url())
        .build()
        .unwrap();
    let calls = sim.calls("refund");
    let e = bare
        .call(
            &RawCall::new("/secapi/pay/refund")
                .unwrap()
                .field("out_trade_no", "O2"),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NoIdentity { .. }), "{e}");
    assert_eq!(sim.calls("refund"), calls);
}

#[tokio::test]
async fn raw_calls_take_only_v2_paths_and_unsigned_answers_when_told() {
    for bad in [
        "pay/orderquery",
        "/pay/../x",
        "//evil.example/x",
        "/pay/q?x=1",
        "https://evil/x",
    ] {
        assert!(matches!(RawCall::new(bad), Err(Error::Config(_))), "{bad}");
    }
    // The money-out family: other field names, no signature on the answer.
    let unsigned = b"<xml><return_code>SUCCESS</return_code><result_code>SUCCESS</result_code>\
        <mch_appid>wx2421b1c4370ec43b</mch_appid><mchid>10000100</mchid><partner_trade_no>T1</partner_trade_no></xml>"
        .to_vec();
    let base = fixed_server(vec![("/mmpaymkttransfers/gettransferinfo", unsigned)]).await;
    let c = Client::builder(merchant(SignType::Md5))
        .base_url(base)
        .build()
        .unwrap();
    let call = RawCall::new("/mmpaymkttransfers/gettransferinfo")
        .unwrap()
        .certificate(false)
        .merchant_fields("mch_appid", "mchid")
        .field("partner_trade_no", "T1");
    // Signed by default: an unsigned answer is refused.
    assert!(matches!(c.call(&call).await, Err(Error::BadSignature(_))));
    let fields = c.call(&call.clone().unsigned_answer()).await.unwrap();
    assert_eq!(fields.get("partner_trade_no"), Some("T1"));
    // An unsigned answer naming another merchant is still foreign.
    let foreign = b"<xml><return_code>SUCCESS</return_code><result_code>SUCCESS</result_code><mchid>10000200</mchid></xml>".to_vec();
    let base = fixed_server(vec![("/mmpaymkttransfers/gettransferinfo", foreign)]).await;
    let c = Client::builder(merchant(SignType::Md5))
        .base_url(base)
        .build()
        .unwrap();
    assert!(matches!(
        c.call(&call.unsigned_answer()).await,
        Err(Error::ForeignAnswer { field: "mchid", .. })
    ));
}

/// The types users hold across tasks are `Send + Sync`.
#[test]
fn public_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Client>();
    check::<tenpay_client::ClientBuilder>();
    check::<Verifier>();
    check::<Answer>();
    check::<RawCall>();
    check::<tenpay_client::PaySigner>();
    check::<tenpay_client::RetryPolicy>();
    check::<Identity>();
    check::<Error>();
}

/// The sans-IO seam end to end: a `Merchant` signs, a hand-written HTTP/1.1 exchange on a
/// bare TCP stream (not tenpay's transport) posts it to the simulator, and the same
/// `Merchant` reads the answer.
#[tokio::test]
async fn a_merchant_signs_and_reads_with_someone_elses_http_client() {
    let sim = sim().await;
    let c = client(&sim, SignType::Md5);
    c.unified_order(&order("OWN1")).await.unwrap();
    let merchant = merchant(SignType::HmacSha256);
    let query = OrderQuery::by_out_trade_no(no("OWN1"));
    let body = merchant.sign(&query).unwrap();
    let authority = sim.base_url().trim_start_matches("http://").to_owned();
    let path = <OrderQuery as Endpoint>::ROUTE.path();
    let answer = post_by_hand(&authority, path, &body).await;
    let record = merchant.read_answer::<OrderQuery>(&answer).unwrap();
    assert_eq!(record.out_trade_no.as_deref(), Some("OWN1"));
    // Another merchant's view of the same bytes is refused: the answer names MCH.
    let other = tenpay_client::Merchant::new(APPID, "10000200", key(), SignType::HmacSha256);
    assert!(matches!(
        other.read_answer::<OrderQuery>(&answer),
        Err(Error::ForeignAnswer { .. })
    ));
}

async fn post_by_hand(authority: &str, path: &str, body: &str) -> Vec<u8> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut tcp = tokio::net::TcpStream::connect(authority).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: text/xml\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(body.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    tcp.read_to_end(&mut received).await.unwrap();
    let split = received.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    assert!(
        received.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&received)
    );
    received[split + 4..].to_vec()
}
