//! tenpay-sim over real HTTP on 127.0.0.1, with requests built by hand from the reference.
#![allow(clippy::unwrap_used, missing_docs, unreachable_pub)]

mod bounds;
mod control;
mod support;

use std::time::Duration;

use support::*;
use tenpay_sign::{ApiKey, SignType};
use tenpay_sim::{DeliveryKind, Fault, FaultKind, PayOptions};
use tenpay_xml::XmlMap;

const NOWHERE: &str = "http://127.0.0.1:9/notify";

#[tokio::test]
async fn protocol_errors_are_unsigned_return_code_fail() {
    let sim = sim().await;
    let url = format!("{}/pay/unifiedorder", sim.base_url());
    let fail = |reply: &[u8]| {
        let m = XmlMap::parse(reply).unwrap();
        assert_eq!(m.get("return_code"), Some("FAIL"));
        assert!(!m.contains("sign"));
        m.get("return_msg").unwrap().to_owned()
    };
    let (_, r) = http("GET", &url, Vec::new()).await.unwrap();
    assert_eq!(fail(&r), "请使用post方法");
    assert_eq!(fail(&post(&url, Vec::new()).await.1), "post数据为空");
    assert_eq!(
        fail(&post(&url, b"<xml><a>".to_vec()).await.1),
        "XML格式错误"
    );
    assert!(fail(&post(&url, b"<xml><a>\xb2\xe2</a></xml>".to_vec()).await.1).contains("UTF-8"));
    let order = order_fields("T1", "NATIVE", NOWHERE);
    // Missing required field (signed correctly).
    let no_body: Vec<_> = order
        .iter()
        .copied()
        .filter(|(k, _)| *k != "body")
        .collect();
    assert_eq!(
        fail(&post(&url, body(&no_body, SignType::Md5, &key())).await.1),
        "缺少参数body"
    );
    // Bad signature, either algorithm.
    for st in [SignType::Md5, SignType::HmacSha256] {
        let wrong = ApiKey::new("wrong-key").unwrap();
        assert_eq!(
            fail(&post(&url, body(&order, st, &wrong)).await.1),
            "签名错误"
        );
    }
    // Unknown mch_id; appid not bound to mch_id.
    let mut m = XmlMap::parse(&body(&order, SignType::Md5, &key())).unwrap();
    m.insert("mch_id", "99999").unwrap();
    m.sign(&key(), SignType::Md5).unwrap();
    assert!(fail(&post(&url, m.to_xml().into_bytes()).await.1).contains("mch_id"));
    m.insert("mch_id", MCH).unwrap();
    m.insert("appid", "wx0000000000000002").unwrap();
    m.sign(&key(), SignType::Md5).unwrap();
    assert_eq!(
        fail(&post(&url, m.to_xml().into_bytes()).await.1),
        "appid和mch_id不匹配"
    );
    // A sign_type that is not exactly MD5 or HMAC-SHA256.
    let mut m = XmlMap::parse(&body(&order, SignType::Md5, &key())).unwrap();
    m.insert("sign_type", "md5").unwrap();
    assert_eq!(
        fail(&post(&url, m.to_xml().into_bytes()).await.1),
        "sign_type参数错误"
    );
    // Unknown path.
    let (status, _) = post(&format!("{}/pay/nothing", sim.base_url()), Vec::new()).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn unifiedorder_rules_and_idempotency() {
    let sim = sim().await;
    for st in [SignType::Md5, SignType::HmacSha256] {
        for tt in ["JSAPI", "NATIVE", "APP", "MWEB"] {
            let no = format!("{tt}{}", st.hex_len());
            let m = call(
                &sim,
                "/pay/unifiedorder",
                &order_fields(&no, tt, NOWHERE),
                st,
            )
            .await;
            assert_eq!(m.get("result_code"), Some("SUCCESS"), "{m:?}");
            assert_eq!(m.get("trade_type"), Some(tt));
            assert!(m.get("prepay_id").unwrap().starts_with("wx"));
            assert_eq!(m.contains("code_url"), tt == "NATIVE");
            assert_eq!(m.contains("mweb_url"), tt == "MWEB");
            // Same parameters, new nonce: the same prepay_id.
            let again = call(
                &sim,
                "/pay/unifiedorder",
                &order_fields(&no, tt, NOWHERE),
                st,
            )
            .await;
            assert_eq!(again.get("prepay_id"), m.get("prepay_id"));
        }
    }
    // Changed amount: OUT_TRADE_NO_USED (signed business failure).
    let mut changed = order_fields("APP32", "APP", NOWHERE);
    changed[2] = ("total_fee", "1");
    let m = call(&sim, "/pay/unifiedorder", &changed, SignType::Md5).await;
    assert_eq!(m.get("result_code"), Some("FAIL"));
    assert_eq!(err_code(&m), Some("OUT_TRADE_NO_USED"));

    let rule = |field: &'static str, value: &'static str| {
        let mut f = order_fields("R1", "APP", NOWHERE);
        f.retain(|(k, _)| *k != field);
        f.push((field, value));
        f
    };
    for (field, value) in [
        ("out_trade_no", "has space"),
        ("out_trade_no", "123456789012345678901234567890123"),
        ("total_fee", "0"),
        ("total_fee", "1.00"),
        ("total_fee", "-1"),
        ("time_expire", "20200101000000"),
        ("notify_url", "http://pay.example.com/notify"),
        ("notify_url", "ftp://127.0.0.1/x"),
        (
            "body",
            "这是一个非常长的商品描述这是一个非常长的商品描述这是一个非常长的商品描述这是一个非常长的商品描述这是一个非常长的商品描述",
        ),
    ] {
        let m = call(
            &sim,
            "/pay/unifiedorder",
            &rule(field, value),
            SignType::Md5,
        )
        .await;
        assert_eq!(err_code(&m), Some("PARAM_ERROR"), "{field}={value}: {m:?}");
    }
    for tt in ["JSAPI", "NATIVE", "MWEB"] {
        let mut f = order_fields("R2", tt, NOWHERE);
        f.pop(); // the trade type's required field
        let m = call(&sim, "/pay/unifiedorder", &f, SignType::Md5).await;
        assert_eq!(err_code(&m), Some("PARAM_ERROR"), "{tt}");
    }
    let fixture = XmlMap::parse(&fixture("unifiedorder_response_app.xml")).unwrap();
    let ours = call(
        &sim,
        "/pay/unifiedorder",
        &order_fields("FIELDS", "APP", NOWHERE),
        SignType::Md5,
    )
    .await;
    assert_same_names(&fixture, &ours);
}

fn fixture(name: &str) -> Vec<u8> {
    let raw = std::fs::read(format!(
        "{}/../../testdata/protocol/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    raw[raw.iter().position(|&b| b == b'\n').unwrap() + 1..].to_vec()
}

/// The simulator answers with (at least) the fields the real server's answer has.
fn assert_same_names(fixture: &XmlMap, ours: &XmlMap) {
    for (name, _) in fixture {
        assert!(ours.contains(name), "missing {name}: {ours:?}");
    }
}

#[tokio::test]
async fn order_state_machine_query_close_and_field_sets() {
    let sim = sim().await;
    let merchant = MerchantServer::start(&[]).await;
    let url = merchant.url();
    call(
        &sim,
        "/pay/unifiedorder",
        &order_fields("Q1", "JSAPI", &url),
        SignType::Md5,
    )
    .await;
    let q = call(
        &sim,
        "/pay/orderquery",
        &[("out_trade_no", "Q1")],
        SignType::Md5,
    )
    .await;
    assert_eq!(q.get("trade_state"), Some("NOTPAY"));
    assert_eq!(
        md5_err_code(&sim, "/pay/orderquery", &[("out_trade_no", "NOPE")])
            .await
            .as_deref(),
        Some("ORDERNOTEXIST")
    );

    sim.pay("Q1", &PayOptions::default()).unwrap();
    let q = call(
        &sim,
        "/pay/orderquery",
        &[("out_trade_no", "Q1")],
        SignType::Md5,
    )
    .await;
    assert_eq!(q.get("trade_state"), Some("SUCCESS"));
    assert_eq!(q.get("total_fee"), Some("888"));
    assert_same_names(
        &XmlMap::parse(&fixture("orderquery_response_success.xml")).unwrap(),
        &q,
    );
    let by_tid = call(
        &sim,
        "/pay/orderquery",
        &[("transaction_id", q.get("transaction_id").unwrap())],
        SignType::Md5,
    )
    .await;
    assert_eq!(by_tid.get("out_trade_no"), Some("Q1"));
    // Paid: closeorder says ORDERPAID; unifiedorder again says ORDERPAID.
    assert_eq!(
        md5_err_code(&sim, "/pay/closeorder", &[("out_trade_no", "Q1")])
            .await
            .as_deref(),
        Some("ORDERPAID")
    );
    assert_eq!(
        md5_err_code(
            &sim,
            "/pay/unifiedorder",
            &order_fields("Q1", "JSAPI", &url)
        )
        .await
        .as_deref(),
        Some("ORDERPAID")
    );

    call(
        &sim,
        "/pay/unifiedorder",
        &order_fields("C1", "NATIVE", &url),
        SignType::Md5,
    )
    .await;
    let closed = call(
        &sim,
        "/pay/closeorder",
        &[("out_trade_no", "C1")],
        SignType::Md5,
    )
    .await;
    assert_eq!(closed.get("result_code"), Some("SUCCESS"));
    assert_same_names(
        &XmlMap::parse(&fixture("closeorder_response.xml")).unwrap(),
        &closed,
    );
    assert_eq!(
        md5_err_code(&sim, "/pay/closeorder", &[("out_trade_no", "C1")])
            .await
            .as_deref(),
        Some("ORDERCLOSED")
    );
    assert_eq!(
        md5_err_code(&sim, "/pay/closeorder", &[("out_trade_no", "NONE")])
            .await
            .as_deref(),
        Some("ORDERNOTEXIST")
    );
    assert_eq!(
        md5_err_code(
            &sim,
            "/pay/unifiedorder",
            &order_fields("C1", "NATIVE", &url)
        )
        .await
        .as_deref(),
        Some("ORDERCLOSED")
    );
    assert!(sim.pay("C1", &PayOptions::default()).is_err());
    assert_eq!(sim.order("C1").unwrap().trade_state, "CLOSED");

    // Control API over HTTP: fail an order.
    call(
        &sim,
        "/pay/unifiedorder",
        &order_fields("F1", "APP", &url),
        SignType::Md5,
    )
    .await;
    let (status, _) = post(
        &format!("{}/orders/F1/fail?err_code=NOTENOUGH", sim.control_url()),
        Vec::new(),
    )
    .await;
    assert_eq!(status, 200);
    let q = call(
        &sim,
        "/pay/orderquery",
        &[("out_trade_no", "F1")],
        SignType::Md5,
    )
    .await;
    assert_eq!(q.get("trade_state"), Some("PAYERROR"));
}

#[tokio::test]
async fn pay_notification_is_signed_with_the_orders_algorithm_and_verifies() {
    let sim = sim().await;
    let merchant = MerchantServer::start(&[]).await;
    for (no, st, field) in [
        ("N1", SignType::Md5, false),
        ("N2", SignType::HmacSha256, true),
    ] {
        call(
            &sim,
            "/pay/unifiedorder",
            &order_fields(no, "APP", &merchant.url()),
            st,
        )
        .await;
        sim.pay(
            no,
            &PayOptions::new()
                .coupon_fee(tenpay_xml::Fen::new(88))
                .sign_type_field(field),
        )
        .unwrap();
    }
    assert!(
        eventually(2000, || sim
            .deliveries()
            .iter()
            .filter(|d| d.acknowledged)
            .count()
            == 2)
        .await
    );
    let received = merchant.received.lock().unwrap().clone();
    for (body, st) in received.iter().zip([SignType::Md5, SignType::HmacSha256]) {
        // Verified by tenpay-notify, an independent implementation of the merchant side.
        let n = tenpay_notify::Notifier::new(&tenpay_sign::Merchant::new(APPID, MCH, key(), st));
        let tenpay_notify::Notification::Pay(p) = n.handle(body).unwrap() else {
            panic!()
        };
        assert_eq!(p.total_fee().get(), 888);
        assert_eq!(p.cash_fee().unwrap().get(), 800);
        assert_eq!(p.coupons().len(), 1);
        let m = XmlMap::parse(body).unwrap();
        assert_eq!(m.contains("sign_type"), st == SignType::HmacSha256);
    }
}

async fn sim_with_scale(scale: u32) -> tenpay_sim::SimHandle {
    tenpay_sim::Simulator::builder()
        .merchant(tenpay_sim::MerchantAccount::new(APPID, MCH, key()))
        .time_scale(scale)
        .delivery_timeout(Duration::from_millis(500))
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn retries_follow_the_schedule_and_judge_the_ack() {
    // Scale 100: 15 s becomes 150 ms.
    let sim = sim_with_scale(100).await;
    // FAIL body, HTML, HTTP 500, a reply slower than the timeout, then an ack.
    let merchant = MerchantServer::start(&[
        Answer::Fail,
        Answer::Html,
        Answer::Status500,
        Answer::Slow(800),
    ])
    .await;
    call(
        &sim,
        "/pay/unifiedorder",
        &order_fields("R1", "NATIVE", &merchant.url()),
        SignType::Md5,
    )
    .await;
    sim.pay("R1", &PayOptions::default()).unwrap();
    assert!(
        eventually(10_000, || sim
            .deliveries()
            .first()
            .is_some_and(|d| d.acknowledged))
        .await,
        "{:?}",
        sim.deliveries()
    );
    let d = &sim.deliveries()[0];
    assert_eq!(d.kind, DeliveryKind::Pay);
    let outcomes: Vec<(Option<u16>, bool)> = d
        .attempts
        .iter()
        .map(|a| (a.status, a.acknowledged))
        .collect();
    assert_eq!(
        outcomes,
        [
            (Some(200), false),
            (Some(200), false),
            (Some(500), false),
            (None, false),
            (Some(200), true)
        ]
    );
    assert!(
        d.attempts[3].outcome.contains("no reply"),
        "{:?}",
        d.attempts[3]
    );
    // Gaps follow 15 s, 15 s, 30 s, 3 min divided by 100 (plus the 500 ms timeout of attempt 4).
    let at: Vec<u64> = d.attempts.iter().map(|a| a.at_ms).collect();
    let gaps: Vec<u64> = at.windows(2).map(|w| w[1] - w[0]).collect();
    for (gap, expected) in gaps.iter().zip([150u64, 150, 300, 1800 + 500]) {
        assert!(*gap >= expected && *gap < expected + 400, "gaps {gaps:?}");
    }
}

#[tokio::test]
async fn the_whole_schedule_then_abandoned() {
    // Scale 20000: the 24 h schedule takes about 4.3 s.
    let sim = sim_with_scale(20_000).await;
    let merchant = MerchantServer::start(&[Answer::Status500; 16]).await;
    call(
        &sim,
        "/pay/unifiedorder",
        &order_fields("W1", "APP", &merchant.url()),
        SignType::Md5,
    )
    .await;
    sim.pay("W1", &PayOptions::default()).unwrap();
    assert!(
        eventually(20_000, || sim.deliveries()[0].abandoned).await,
        "{:?}",
        sim.deliveries()
    );
    let d = &sim.deliveries()[0];
    assert_eq!(d.attempts.len(), 16);
    assert!(!d.acknowledged);
    let at: Vec<u64> = d.attempts.iter().map(|a| a.at_ms).collect();
    for (w, secs) in at.windows(2).zip(tenpay_sim::RETRY_SCHEDULE_SECS) {
        assert!(w[1] - w[0] >= secs * 1000 / 20_000, "attempts at {at:?}");
    }
    assert_eq!(merchant.received.lock().unwrap().len(), 16);
}

#[tokio::test]
async fn a_merchant_that_comes_back_gets_the_next_attempt() {
    let sim = sim().await;
    // Reserve a port, then close it: the merchant is down.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let url = format!("http://{addr}/notify");
    call(
        &sim,
        "/pay/unifiedorder",
        &order_fields("D1", "APP", &url),
        SignType::Md5,
    )
    .await;
    sim.pay("D1", &PayOptions::default()).unwrap();
    assert!(eventually(2000, || sim.deliveries()[0].attempts.len() >= 2).await);
    // The merchant comes back on the same port.
    let merchant = MerchantServer::serve(tokio::net::TcpListener::bind(addr).await.unwrap(), &[]);
    assert!(
        eventually(3000, || sim.deliveries()[0].acknowledged).await,
        "{:?}",
        sim.deliveries()
    );
    assert_eq!(merchant.received.lock().unwrap().len(), 1);
    assert!(sim.deliveries()[0].attempts.len() >= 3);
    assert!(sim.deliveries()[0].attempts[0].status.is_none());
}

#[tokio::test]
async fn refunds_partial_idempotent_bounded_and_notified() {
    let sim = sim().await;
    let merchant = MerchantServer::start(&[]).await;
    call(
        &sim,
        "/pay/unifiedorder",
        &order_fields("P1", "APP", &merchant.url()),
        SignType::Md5,
    )
    .await;
    let refund = |no: &'static str, fee: &'static str| {
        vec![
            ("out_trade_no", "P1"),
            ("out_refund_no", no),
            ("total_fee", "888"),
            ("refund_fee", fee),
            ("notify_url", ""),
        ]
    };
    // Not paid yet.
    assert_eq!(
        md5_err_code(&sim, "/secapi/pay/refund", &refund("RF1", "100"))
            .await
            .as_deref(),
        Some("TRADE_STATE_ERROR")
    );
    sim.pay("P1", &PayOptions::default()).unwrap();
    let mut with_url = refund("RF1", "100");
    let url = merchant.url();
    with_url[4] = ("notify_url", &url);
    let r1 = call(&sim, "/secapi/pay/refund", &with_url, SignType::Md5).await;
    assert_eq!(r1.get("result_code"), Some("SUCCESS"), "{r1:?}");
    assert_same_names(
        &XmlMap::parse(&fixture("refund_response.xml")).unwrap(),
        &r1,
    );
    // The same out_refund_no again is the same refund.
    let again = call(&sim, "/secapi/pay/refund", &with_url, SignType::Md5).await;
    assert_eq!(again.get("refund_id"), r1.get("refund_id"));
    assert_eq!(sim.order("P1").unwrap().refunds.len(), 1);
    // The same number with another amount, a wrong total, more than refundable: refused.
    assert_eq!(
        md5_err_code(&sim, "/secapi/pay/refund", &refund("RF1", "101"))
            .await
            .as_deref(),
        Some("PARAM_ERROR")
    );
    let mut wrong_total = refund("RF2", "1");
    wrong_total[2] = ("total_fee", "1");
    assert_eq!(
        md5_err_code(&sim, "/secapi/pay/refund", &wrong_total)
            .await
            .as_deref(),
        Some("PARAM_ERROR")
    );
    assert_eq!(
        md5_err_code(&sim, "/secapi/pay/refund", &refund("RF3", "789"))
            .await
            .as_deref(),
        Some("PARAM_ERROR")
    );
    // An amount that overflows the refunded total is refused, not wrapped (or a panic).
    assert_eq!(
        md5_err_code(
            &sim,
            "/secapi/pay/refund",
            &refund("RF4", "18446744073709551615")
        )
        .await
        .as_deref(),
        Some("PARAM_ERROR")
    );
    assert_eq!(sim.order("P1").unwrap().refunds.len(), 1);
    call(
        &sim,
        "/secapi/pay/refund",
        &refund("RF4", "788"),
        SignType::Md5,
    )
    .await;
    assert_eq!(sim.order("P1").unwrap().trade_state, "REFUND");
    // PROCESSING then SUCCESS (60 s / 1000), and the refund notification decrypts with the key.
    assert!(
        eventually(3000, || sim
            .order("P1")
            .unwrap()
            .refunds
            .iter()
            .all(|r| r.refund_status == "SUCCESS"))
        .await
    );
    assert!(
        eventually(3000, || sim
            .deliveries()
            .iter()
            .any(|d| d.kind == DeliveryKind::Refund && d.acknowledged))
        .await
    );
    let body = merchant.received.lock().unwrap().last().unwrap().clone();
    let n = tenpay_notify::Notifier::new(&tenpay_sign::Merchant::new(
        APPID,
        MCH,
        key(),
        SignType::Md5,
    ));
    let tenpay_notify::Notification::Refund(r) = n.handle(&body).unwrap() else {
        panic!()
    };
    assert_eq!(r.out_refund_no, "RF1");
    assert_eq!(r.refund_fee.get(), 100);
    assert!(!XmlMap::parse(&body).unwrap().contains("sign"));

    // refundquery with paging and the indexed fields.
    let q = call(
        &sim,
        "/pay/refundquery",
        &[("out_trade_no", "P1")],
        SignType::Md5,
    )
    .await;
    assert_eq!(q.get("refund_count"), Some("2"));
    assert_eq!(q.get("out_refund_no_1"), Some("RF4"));
    assert_eq!(q.get("refund_status_0"), Some("SUCCESS"));
    assert_same_names(
        &XmlMap::parse(&fixture("refundquery_response.xml")).unwrap(),
        &q,
    );
    let page = call(
        &sim,
        "/pay/refundquery",
        &[("out_trade_no", "P1"), ("offset", "1")],
        SignType::Md5,
    )
    .await;
    assert_eq!(page.get("out_refund_no_0"), Some("RF4"));
    assert_eq!(
        md5_err_code(
            &sim,
            "/pay/refundquery",
            &[("out_trade_no", "P1"), ("offset", "5")]
        )
        .await
        .as_deref(),
        Some("PARAM_ERROR")
    );
    assert_eq!(
        md5_err_code(&sim, "/pay/refundquery", &[("out_refund_no", "NOPE")])
            .await
            .as_deref(),
        Some("REFUNDNOTEXIST")
    );
}

#[tokio::test]
async fn at_most_fifty_refunds() {
    let sim = sim().await;
    call(
        &sim,
        "/pay/unifiedorder",
        &order_fields("M50", "APP", NOWHERE),
        SignType::Md5,
    )
    .await;
    sim.pay("M50", &PayOptions::default()).unwrap();
    for i in 0..51 {
        let no = format!("R{i}");
        let m = call(
            &sim,
            "/secapi/pay/refund",
            &[
                ("out_trade_no", "M50"),
                ("out_refund_no", &no),
                ("total_fee", "888"),
                ("refund_fee", "1"),
            ],
            SignType::Md5,
        )
        .await;
        assert_eq!(
            m.get("result_code"),
            Some(if i < 50 { "SUCCESS" } else { "FAIL" }),
            "refund {i}"
        );
    }
}

#[tokio::test]
async fn micropay_scenarios_reverse_and_authcode() {
    let sim = sim().await;
    let pay = |no: &'static str, code: &'static str| {
        vec![
            ("body", "刷卡"),
            ("out_trade_no", no),
            ("total_fee", "1"),
            ("spbill_create_ip", "127.0.0.1"),
            ("auth_code", code),
        ]
    };
    let m = call(
        &sim,
        "/pay/micropay",
        &pay("MP1", "134567890123456700"),
        SignType::Md5,
    )
    .await;
    assert_eq!(m.get("result_code"), Some("SUCCESS"));
    assert_eq!(m.get("trade_type"), Some("MICROPAY"));
    let m = call(
        &sim,
        "/pay/micropay",
        &pay("MP2", "134567890123456780"),
        SignType::Md5,
    )
    .await;
    assert_eq!(err_code(&m), Some("USERPAYING"));
    assert!(eventually(2000, || sim.order("MP2").unwrap().trade_state == "SUCCESS").await);
    let m = call(
        &sim,
        "/pay/micropay",
        &pay("MP3", "134567890123456785"),
        SignType::Md5,
    )
    .await;
    assert_eq!(err_code(&m), Some("USERPAYING"));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(sim.order("MP3").unwrap().trade_state, "USERPAYING");
    let r = call(
        &sim,
        "/secapi/pay/reverse",
        &[("out_trade_no", "MP3")],
        SignType::Md5,
    )
    .await;
    assert_eq!(r.get("recall"), Some("N"));
    assert_eq!(sim.order("MP3").unwrap().trade_state, "REVOKED");
    let m = call(
        &sim,
        "/pay/micropay",
        &pay("MP4", "134567890123456790"),
        SignType::Md5,
    )
    .await;
    assert_eq!(err_code(&m), Some("SYSTEMERROR"));
    assert_eq!(sim.order("MP4").unwrap().trade_state, "SUCCESS");
    assert_eq!(
        md5_err_code(&sim, "/pay/micropay", &pay("MP5", "134567890123456799"))
            .await
            .as_deref(),
        Some("AUTHCODEEXPIRE")
    );
    assert_eq!(
        md5_err_code(&sim, "/pay/micropay", &pay("MP6", "994567890123456700"))
            .await
            .as_deref(),
        Some("AUTH_CODE_INVALID")
    );
    let o = call(
        &sim,
        "/tools/authcodetoopenid",
        &[("auth_code", "134567890123456700")],
        SignType::Md5,
    )
    .await;
    assert!(o.get("openid").unwrap().starts_with("oSim"));
    // time_expire for micropay: at least one minute.
    let mut short = pay("MP7", "134567890123456700");
    let soon = tenpay_xml::BeijingTime::from_unix(now() + 30)
        .unwrap()
        .to_string();
    short.push(("time_expire", &soon));
    assert_eq!(
        md5_err_code(&sim, "/pay/micropay", &short).await.as_deref(),
        Some("PARAM_ERROR")
    );
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn bills_csv_gzip_and_no_bill() {
    let sim = sim().await;
    call(
        &sim,
        "/pay/unifiedorder",
        &order_fields("B1", "APP", NOWHERE),
        SignType::Md5,
    )
    .await;
    sim.pay("B1", &PayOptions::default()).unwrap();
    let today = tenpay_xml::BeijingTime::from_unix(now())
        .unwrap()
        .to_string()[..8]
        .to_owned();
    let url = format!("{}/pay/downloadbill", sim.base_url());
    let (_, csv) = post(
        &url,
        body(
            &[("bill_date", &today), ("bill_type", "ALL")],
            SignType::Md5,
            &key(),
        ),
    )
    .await;
    let csv = String::from_utf8(csv).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    // The modern layout: a BOM, 27 columns, fees with five decimals.
    assert!(lines[0].starts_with("\u{feff}交易时间,公众账号ID,商户号,特约商户号"));
    assert_eq!(lines[0].split(',').count(), 27);
    assert_eq!(lines[1].split(",`").count(), 27);
    assert!(lines[1].contains("`0.05328,`0.60%"), "{}", lines[1]);
    assert!(lines[1].starts_with('`') && lines[1].contains("`B1,") && lines[1].contains("`8.88,"));
    assert!(lines[2].starts_with("总交易单数"));
    assert_eq!(lines[3], "`1,`8.88,`0.00,`0.00,`0.05328,`8.88,`0.00");
    let (_, gz) = post(
        &url,
        body(
            &[("bill_date", &today), ("tar_type", "GZIP")],
            SignType::Md5,
            &key(),
        ),
    )
    .await;
    let mut unzipped = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(gz.as_slice()),
        &mut unzipped,
    )
    .unwrap();
    assert_eq!(unzipped, csv);
    let (_, none) = post(
        &url,
        body(&[("bill_date", "20140603")], SignType::Md5, &key()),
    )
    .await;
    let m = XmlMap::parse(&none).unwrap();
    assert_eq!(m.get("return_msg"), Some("No Bill Exist"));
    assert_eq!(m.get("error_code"), Some("20002"));
}

#[tokio::test]
async fn fund_flow_hmac_only_with_running_balances() {
    let sim = sim().await;
    for (no, fee) in [("FF1", "100"), ("FF2", "250")] {
        let mut fields = order_fields(no, "APP", NOWHERE);
        fields.retain(|(k, _)| *k != "total_fee");
        fields.push(("total_fee", fee));
        call(&sim, "/pay/unifiedorder", &fields, SignType::HmacSha256).await;
        sim.pay(no, &PayOptions::default()).unwrap();
    }
    let today = tenpay_xml::BeijingTime::from_unix(now())
        .unwrap()
        .to_string()[..8]
        .to_owned();
    let url = format!("{}/pay/downloadfundflow", sim.base_url());
    let ask = |account: &'static str, st: SignType| {
        let today = today.clone();
        let url = url.clone();
        async move {
            let fields = [("bill_date", today.as_str()), ("account_type", account)];
            post(&url, body(&fields, st, &key())).await.1
        }
    };
    let csv = String::from_utf8(ask("Basic", SignType::HmacSha256).await).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 5, "{csv}");
    assert!(lines[0].starts_with("记账时间,微信支付业务单号,资金流水单号"));
    // Both payments land in the same second, in either order; the balance runs over them.
    let first = if lines[1].ends_with("`FF1") {
        ",`交易,`交易,`收入,`1.00,`1.00,"
    } else {
        ",`交易,`交易,`收入,`2.50,`2.50,"
    };
    assert!(lines[1].contains(first), "{csv}");
    assert!(lines[2].contains(",`交易,`交易,`收入,"), "{csv}");
    assert!(lines[2].contains(",`3.50,`system,"), "{csv}");
    assert!(lines[3].starts_with("资金流水总笔数"));
    assert_eq!(lines[4], "`2,`2,`3.50,`0,`0.00");

    // MD5 is refused with a protocol error; so is an unknown account.
    let m = XmlMap::parse(&ask("Basic", SignType::Md5).await).unwrap();
    assert_eq!(m.get("return_code"), Some("FAIL"));
    assert!(
        m.get("return_msg").unwrap().contains("HMAC-SHA256"),
        "{m:?}"
    );
    let m = XmlMap::parse(&ask("Savings", SignType::HmacSha256).await).unwrap();
    assert_eq!(m.get("error_code"), Some("20001"), "{m:?}");
    let m = XmlMap::parse(&ask("Operation", SignType::HmacSha256).await).unwrap();
    assert_eq!(m.get("return_msg"), Some("No Bill Exist"));
    let (_, missing) = post(
        &url,
        body(&[("bill_date", &today)], SignType::HmacSha256, &key()),
    )
    .await;
    let m = XmlMap::parse(&missing).unwrap();
    assert_eq!(m.get("return_msg"), Some("缺少参数account_type"));
}

#[tokio::test]
async fn sandbox_key_and_prefixes() {
    let sim = sim().await;
    let mut req = XmlMap::new();
    req.insert("mch_id", MCH).unwrap();
    req.insert("nonce_str", "abc").unwrap();
    req.sign(&key(), SignType::Md5).unwrap();
    let mut sandbox_key = None;
    for path in [
        "/sandboxnew/pay/getsignkey",
        "/xdc/apiv2getsignkey/sign/getsignkey",
    ] {
        let (_, r) = post(
            &format!("{}{path}", sim.base_url()),
            req.to_xml().into_bytes(),
        )
        .await;
        let m = XmlMap::parse(&r).unwrap();
        assert_eq!(m.get("return_code"), Some("SUCCESS"));
        let k = m.get("sandbox_signkey").unwrap().to_owned();
        assert_eq!(k.len(), 32);
        sandbox_key = Some(k);
    }
    let sandbox_key = ApiKey::new(sandbox_key.unwrap()).unwrap();
    for prefix in ["/sandboxnew", "/xdc/apiv2sandbox"] {
        let url = format!("{}{prefix}/pay/unifiedorder", sim.base_url());
        let no = format!("S{}", prefix.len());
        let (_, r) = post(
            &url,
            body(
                &order_fields(&no, "APP", NOWHERE),
                SignType::Md5,
                &sandbox_key,
            ),
        )
        .await;
        let m = XmlMap::parse(&r).unwrap();
        assert_eq!(m.get("result_code"), Some("SUCCESS"), "{m:?}");
        m.verify(&sandbox_key, SignType::Md5).unwrap();
        // The real key, or HMAC, is refused in the sandbox.
        let (_, r) = post(
            &url,
            body(&order_fields(&no, "APP", NOWHERE), SignType::Md5, &key()),
        )
        .await;
        assert_eq!(
            XmlMap::parse(&r).unwrap().get("return_msg"),
            Some("签名错误")
        );
        let (_, r) = post(
            &url,
            body(
                &order_fields(&no, "APP", NOWHERE),
                SignType::HmacSha256,
                &sandbox_key,
            ),
        )
        .await;
        assert_eq!(XmlMap::parse(&r).unwrap().get("return_code"), Some("FAIL"));
    }
}

#[tokio::test]
async fn faults_on_demand() {
    let sim = sim().await;
    let url = format!("{}/pay/orderquery", sim.base_url());
    let q = || body(&[("out_trade_no", "X")], SignType::Md5, &key());
    sim.inject(Fault::next("orderquery", FaultKind::SystemError, 1))
        .unwrap();
    assert_eq!(
        md5_err_code(&sim, "/pay/orderquery", &[("out_trade_no", "X")])
            .await
            .as_deref(),
        Some("SYSTEMERROR")
    );
    assert_eq!(
        md5_err_code(&sim, "/pay/orderquery", &[("out_trade_no", "X")])
            .await
            .as_deref(),
        Some("ORDERNOTEXIST")
    );
    sim.inject(Fault::next("orderquery", FaultKind::Http500, 1))
        .unwrap();
    assert_eq!(post(&url, q()).await.0, 500);
    sim.inject(Fault::next("orderquery", FaultKind::Html, 1))
        .unwrap();
    let (status, html) = post(&url, q()).await;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&html).contains("<html>"));
    sim.inject(Fault::next("orderquery", FaultKind::BadSignature, 1))
        .unwrap();
    let (_, bad) = post(&url, q()).await;
    assert!(
        XmlMap::parse(&bad)
            .unwrap()
            .verify(&key(), SignType::Md5)
            .is_err()
    );
    sim.inject(Fault::next("orderquery", FaultKind::Drop, 1))
        .unwrap();
    assert!(http("POST", &url, q()).await.is_err());
    sim.inject(Fault::next("orderquery", FaultKind::Truncated, 1))
        .unwrap();
    assert!(http("POST", &url, q()).await.is_err());
    sim.inject(Fault::next("*", FaultKind::Delay { ms: 100 }, 1))
        .unwrap();
    let start = std::time::Instant::now();
    post(&url, q()).await;
    assert!(start.elapsed() >= Duration::from_millis(100));
    sim.inject(Fault::next(
        "orderquery",
        FaultKind::BusinessError {
            err_code: "NOTENOUGH".into(),
        },
        1,
    ))
    .unwrap();
    assert_eq!(
        md5_err_code(&sim, "/pay/orderquery", &[("out_trade_no", "X")])
            .await
            .as_deref(),
        Some("NOTENOUGH")
    );
    // Counted calls include faulted ones.
    assert_eq!(sim.calls("orderquery"), 9);
    // The control API takes faults as JSON.
    let (status, _) = post(
        &format!("{}/faults", sim.control_url()),
        br#"{"endpoint":"orderquery","kind":"http500","count":1}"#.to_vec(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(post(&url, q()).await.0, 500);
    // A refund retried after a dropped connection is refunded once.
    call(
        &sim,
        "/pay/unifiedorder",
        &order_fields("DR", "APP", NOWHERE),
        SignType::Md5,
    )
    .await;
    sim.pay("DR", &PayOptions::default()).unwrap();
    sim.inject(Fault::next("refund", FaultKind::Drop, 1))
        .unwrap();
    let refund = [
        ("out_trade_no", "DR"),
        ("out_refund_no", "DR1"),
        ("total_fee", "888"),
        ("refund_fee", "8"),
    ];
    assert!(
        http(
            "POST",
            &format!("{}/secapi/pay/refund", sim.base_url()),
            body(&refund, SignType::Md5, &key())
        )
        .await
        .is_err()
    );
    let m = call(&sim, "/secapi/pay/refund", &refund, SignType::Md5).await;
    assert_eq!(m.get("result_code"), Some("SUCCESS"));
    assert_eq!(sim.order("DR").unwrap().refunds.len(), 1);
}

#[tokio::test]
async fn service_provider_sub_merchants() {
    let sim = sim().await;
    let mut f = order_fields("SP1", "APP", NOWHERE);
    f.push(("sub_mch_id", "1900000109"));
    let m = call(&sim, "/pay/unifiedorder", &f, SignType::Md5).await;
    assert_eq!(m.get("sub_mch_id"), Some("1900000109"));
    let mut bad = order_fields("SP2", "APP", NOWHERE);
    bad.push(("sub_mch_id", "42"));
    let (_, r) = post(
        &format!("{}/pay/unifiedorder", sim.base_url()),
        body(&bad, SignType::Md5, &key()),
    )
    .await;
    assert_eq!(XmlMap::parse(&r).unwrap().get("return_code"), Some("FAIL"));
}

#[tokio::test]
async fn control_api_lists_orders_and_deliveries() {
    let sim = sim().await;
    call(
        &sim,
        "/pay/unifiedorder",
        &order_fields("L1", "APP", NOWHERE),
        SignType::Md5,
    )
    .await;
    let (status, body) = http("GET", &format!("{}/orders", sim.control_url()), Vec::new())
        .await
        .unwrap();
    assert_eq!(status, 200);
    let orders: Vec<tenpay_sim::OrderView> = serde_json::from_slice(&body).unwrap();
    assert_eq!(orders[0].out_trade_no, "L1");
    let (status, _) = post(
        &format!("{}/orders/L1/pay", sim.control_url()),
        br#"{"openid":"oX"}"#.to_vec(),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = post(&format!("{}/orders/L1/pay", sim.control_url()), Vec::new()).await;
    assert_eq!(status, 409);
    assert!(eventually(1000, || !sim.deliveries().is_empty()).await);
    let (_, body) = http(
        "GET",
        &format!("{}/deliveries", sim.control_url()),
        Vec::new(),
    )
    .await
    .unwrap();
    let deliveries: Vec<tenpay_sim::DeliveryView> = serde_json::from_slice(&body).unwrap();
    assert_eq!(deliveries[0].out_trade_no, "L1");
    sim.shutdown().await;
}

#[tokio::test]
async fn probabilistic_faults() {
    let sim = sim().await;
    // per_mille 1000: every call; per_mille 0: none; both leave the fault in place.
    sim.inject(Fault::sometimes(
        "authcodetoopenid",
        FaultKind::SystemError,
        1000,
    ))
    .unwrap();
    for _ in 0..5 {
        let m = call(
            &sim,
            "/tools/authcodetoopenid",
            &[("auth_code", "134567890123456700")],
            SignType::Md5,
        )
        .await;
        assert_eq!(err_code(&m), Some("SYSTEMERROR"));
    }
    sim.clear_faults();
    sim.inject(Fault::sometimes(
        "authcodetoopenid",
        FaultKind::SystemError,
        0,
    ))
    .unwrap();
    for _ in 0..5 {
        let m = call(
            &sim,
            "/tools/authcodetoopenid",
            &[("auth_code", "134567890123456700")],
            SignType::Md5,
        )
        .await;
        assert_eq!(m.get("result_code"), Some("SUCCESS"));
    }
    // About half at 500 per mille.
    sim.clear_faults();
    sim.inject(Fault::sometimes(
        "authcodetoopenid",
        FaultKind::SystemError,
        500,
    ))
    .unwrap();
    let mut failed = 0;
    for _ in 0..200 {
        let m = call(
            &sim,
            "/tools/authcodetoopenid",
            &[("auth_code", "134567890123456700")],
            SignType::Md5,
        )
        .await;
        failed += usize::from(m.get("result_code") == Some("FAIL"));
    }
    assert!(
        (40..=160).contains(&failed),
        "{failed} of 200 failed at 50%"
    );
}

/// A merchant notify endpoint over TLS on 127.0.0.1 that acknowledges everything.
async fn https_ack_server(cert_pem: &str, key_pem: &str) -> std::net::SocketAddr {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let service = hyper::service::service_fn(|_req| async {
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(
                        http_body_util::Full::new(bytes::Bytes::from_static(
                            b"<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>",
                        )),
                    ))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    addr
}

async fn pay_with_notify_url(sim: &tenpay_sim::SimHandle, no: &str, url: &str) {
    call(
        sim,
        "/pay/unifiedorder",
        &order_fields(no, "APP", url),
        SignType::Md5,
    )
    .await;
    sim.pay(no, &PayOptions::default()).unwrap();
}

#[tokio::test]
async fn https_notify_urls_are_delivered_over_tls() {
    let builder = || {
        tenpay_sim::Simulator::builder()
            .merchant(tenpay_sim::MerchantAccount::new(APPID, MCH, key()))
            .time_scale(1000)
            .delivery_timeout(Duration::from_millis(500))
    };
    // The simulator's own certificate (127.0.0.1, localhost) serves the merchant's endpoint;
    // the simulator trusts its own CA.
    let sim = builder().tls(true).start().await.unwrap();
    let tls = sim.tls().unwrap().clone();
    let addr = https_ack_server(&tls.server_cert_pem, &tls.server_key_pem).await;
    let url = format!("https://127.0.0.1:{}/notify", addr.port());
    pay_with_notify_url(&sim, "H1", &url).await;
    let acked = |sim: &tenpay_sim::SimHandle, no: &str| {
        sim.deliveries()
            .iter()
            .any(|d| d.out_trade_no == no && d.acknowledged)
    };
    assert!(eventually(3000, || acked(&sim, "H1")).await);

    // A simulator without that CA fails the handshake, records why, and does not count it
    // as acknowledged...
    let other = builder().start().await.unwrap();
    pay_with_notify_url(&other, "H2", &url).await;
    assert!(
        eventually(3000, || other
            .deliveries()
            .iter()
            .any(|d| d.out_trade_no == "H2" && !d.attempts.is_empty()))
        .await
    );
    let d = other
        .deliveries()
        .into_iter()
        .find(|d| d.out_trade_no == "H2")
        .unwrap();
    assert!(!d.acknowledged);
    assert!(d.attempts[0].outcome.contains("TLS"), "{:?}", d.attempts[0]);

    // ...until told to trust it.
    let trusting = builder()
        .notify_root_certificate_pem(tls.ca_pem.clone())
        .start()
        .await
        .unwrap();
    pay_with_notify_url(&trusting, "H3", &url).await;
    assert!(eventually(3000, || acked(&trusting, "H3")).await);

    // A root that is not a certificate is refused at start.
    let bad = builder()
        .notify_root_certificate_pem("not a certificate")
        .start()
        .await;
    assert!(matches!(bad, Err(tenpay_sim::Error::Tls(_))), "{bad:?}");
}
