//! Field lengths, amounts and what the simulator keeps: a simulator left running stays flat.

use std::time::Duration;

use tenpay_sign::{ApiKey, SignType};
use tenpay_sim::{Error, Limits, MerchantAccount, PayOptions, Refusal, SimHandle, Simulator};

use crate::support::*;

const NOWHERE: &str = "http://127.0.0.1:9/notify";

async fn small_sim(limits: Limits) -> SimHandle {
    Simulator::builder()
        .merchant(MerchantAccount::new(APPID, MCH, key()))
        .time_scale(1000)
        .delivery_timeout(Duration::from_millis(300))
        .limits(limits)
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn field_lengths_and_amount_limits_are_wechats() {
    let sim = sim().await;
    let order = |no: &'static str, attach: &'static str, fee: &'static str| {
        let mut f = order_fields(no, "APP", NOWHERE);
        f.retain(|(k, _)| *k != "attach" && *k != "total_fee");
        f.push(("attach", attach));
        f.push(("total_fee", fee));
        f
    };
    let a127: &'static str = "a".repeat(127).leak();
    let a128: &'static str = "a".repeat(128).leak();
    let big: &'static str = "x".repeat(60_000).leak();
    let ok = call(
        &sim,
        "/pay/unifiedorder",
        &order("LEN1", a127, "1"),
        SignType::Md5,
    )
    .await;
    assert_eq!(ok.get("result_code"), Some("SUCCESS"), "{ok:?}");
    for (no, attach) in [("LEN2", a128), ("LEN3", big)] {
        let m = call(
            &sim,
            "/pay/unifiedorder",
            &order(no, attach, "1"),
            SignType::Md5,
        )
        .await;
        assert_eq!(err_code(&m), Some("PARAM_ERROR"), "{m:?}");
        assert!(m.get("err_code_des").unwrap().contains("attach"), "{m:?}");
    }
    // Nothing of a refused order is kept (no 60 kB attach in memory).
    assert!(sim.order("LEN3").is_err());
    // Amounts are Int: at most 2147483647 fen.
    let m = call(
        &sim,
        "/pay/unifiedorder",
        &order("LEN4", "x", "2147483648"),
        SignType::Md5,
    )
    .await;
    assert_eq!(err_code(&m), Some("PARAM_ERROR"), "{m:?}");
    let m = call(
        &sim,
        "/pay/unifiedorder",
        &order("LEN5", "x", "2147483647"),
        SignType::Md5,
    )
    .await;
    assert_eq!(m.get("result_code"), Some("SUCCESS"), "{m:?}");
    // A refund of u64::MAX fen on a 100-fen order neither overflows nor passes.
    let mut hundred = order("LEN6", "x", "100");
    hundred.retain(|(k, _)| *k != "notify_url");
    hundred.push(("notify_url", NOWHERE));
    call(&sim, "/pay/unifiedorder", &hundred, SignType::Md5).await;
    sim.pay("LEN6", &PayOptions::new()).unwrap();
    // refund_desc is String(80).
    let desc: &'static str = "d".repeat(81).leak();
    for (fee, desc, field) in [
        ("18446744073709551615", "", "refund_fee"),
        ("18446744073709551616", "", "refund_fee"),
        ("101", "", "累计退款金额"),
        ("1", desc, "refund_desc"),
    ] {
        let m = call(
            &sim,
            "/secapi/pay/refund",
            &[
                ("out_trade_no", "LEN6"),
                ("out_refund_no", "R-LEN6"),
                ("total_fee", "100"),
                ("refund_fee", fee),
                ("refund_desc", desc),
            ],
            SignType::Md5,
        )
        .await;
        assert_eq!(err_code(&m), Some("PARAM_ERROR"), "{fee}: {m:?}");
        assert!(m.get("err_code_des").unwrap().contains(field), "{m:?}");
    }
    assert!(sim.order("LEN6").unwrap().refunds.is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn orders_are_capped_oldest_completed_first() {
    let sim = small_sim(Limits::new().orders(3)).await;
    for no in ["CAP-A", "CAP-B", "CAP-C"] {
        call(
            &sim,
            "/pay/unifiedorder",
            &order_fields(no, "APP", NOWHERE),
            SignType::Md5,
        )
        .await;
    }
    sim.close("CAP-B").unwrap();
    // Full: the oldest completed one (B, closed) goes, not the oldest (A, still unpaid).
    call(
        &sim,
        "/pay/unifiedorder",
        &order_fields("CAP-D", "APP", NOWHERE),
        SignType::Md5,
    )
    .await;
    let kept: Vec<String> = sim.orders().into_iter().map(|o| o.out_trade_no).collect();
    assert_eq!(kept, ["CAP-A", "CAP-C", "CAP-D"]);
    // Nothing completed: the oldest goes.
    call(
        &sim,
        "/pay/unifiedorder",
        &order_fields("CAP-E", "APP", NOWHERE),
        SignType::Md5,
    )
    .await;
    let kept: Vec<String> = sim.orders().into_iter().map(|o| o.out_trade_no).collect();
    assert_eq!(kept, ["CAP-C", "CAP-D", "CAP-E"]);
    // An evicted order is gone for the protocol too.
    let m = call(
        &sim,
        "/pay/orderquery",
        &[("out_trade_no", "CAP-A")],
        SignType::Md5,
    )
    .await;
    assert_eq!(err_code(&m), Some("ORDERNOTEXIST"));
    sim.shutdown().await;
}

#[tokio::test]
async fn deliveries_and_faults_are_capped() {
    let sim = small_sim(Limits::new().deliveries(2).faults(1)).await;
    let merchant = MerchantServer::start(&[]).await;
    for no in ["DQ-1", "DQ-2", "DQ-3"] {
        call(
            &sim,
            "/pay/unifiedorder",
            &order_fields(no, "APP", &merchant.url()),
            SignType::Md5,
        )
        .await;
        sim.pay(no, &PayOptions::new()).unwrap();
        assert!(
            eventually(2000, || sim
                .deliveries()
                .iter()
                .any(|d| d.out_trade_no == no && d.acknowledged))
            .await
        );
    }
    let kept: Vec<String> = sim
        .deliveries()
        .into_iter()
        .map(|d| d.out_trade_no)
        .collect();
    assert_eq!(kept, ["DQ-2", "DQ-3"]);
    let fault = tenpay_sim::Fault::next("orderquery", tenpay_sim::FaultKind::SystemError, 1);
    sim.inject(fault.clone()).unwrap();
    match sim.inject(fault) {
        Err(Error::Refused(Refusal::TooManyFaults { limit: 1 })) => {}
        other => panic!("{other:?}"),
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn refusals_are_typed() {
    let sim = sim().await;
    let refused = |r: Result<tenpay_sim::OrderView, Error>| match r {
        Err(Error::Refused(r)) => r,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        refused(sim.pay("NONE", &PayOptions::new())),
        Refusal::UnknownOrder {
            out_trade_no: "NONE".into()
        }
    );
    call(
        &sim,
        "/pay/unifiedorder",
        &order_fields("TY-1", "APP", NOWHERE),
        SignType::Md5,
    )
    .await;
    assert!(matches!(
        refused(sim.pay(
            "TY-1",
            &PayOptions::new().coupon_fee(tenpay_xml::Fen::new(888))
        )),
        Refusal::CouponTooLarge { total_fee: 888 }
    ));
    sim.pay("TY-1", &PayOptions::new()).unwrap();
    let again = refused(sim.pay("TY-1", &PayOptions::new()));
    assert_eq!(
        again,
        Refusal::WrongState {
            out_trade_no: "TY-1".into(),
            state: "SUCCESS",
            expected: "NOTPAY"
        }
    );
    assert_eq!(again.to_string(), "order TY-1 is SUCCESS, not NOTPAY");
    assert!(matches!(
        refused(sim.close("TY-1")),
        Refusal::WrongState { .. }
    ));
    assert!(matches!(
        refused(sim.complete_refund("NO-SUCH-REFUND")),
        Refusal::UnknownRefund { .. }
    ));
    assert!(matches!(
        sim.redeliver(u64::MAX),
        Err(Error::Refused(Refusal::UnknownDelivery { .. }))
    ));
    // Two merchants with the same number: name one.
    let other = ApiKey::new("another-merchant-key-000000000000").unwrap();
    for (mch, appid, key) in [
        (MCH, APPID, key()),
        ("10000200", "wx0000000000000002", other),
    ] {
        let mut m = tenpay_xml::XmlMap::new();
        for (k, v) in order_fields("TWIN", "APP", NOWHERE) {
            m.insert(k, v).unwrap();
        }
        m.insert("appid", appid).unwrap();
        m.insert("mch_id", mch).unwrap();
        m.insert("nonce_str", "n").unwrap();
        m.sign(&key, SignType::Md5).unwrap();
        post(
            &format!("{}/pay/unifiedorder", sim.base_url()),
            m.to_xml().into_bytes(),
        )
        .await;
    }
    assert!(matches!(
        refused(sim.order("TWIN")),
        Refusal::Ambiguous { .. }
    ));
    sim.pay_for("10000200", "TWIN", &PayOptions::new()).unwrap();
    // Over HTTP: 409 with the refusal's kind.
    let (status, body) = post(
        &format!("{}/orders/TY-1/pay", sim.control_url()),
        Vec::new(),
    )
    .await;
    assert_eq!(status, 409);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["refusal"], "wrong_state");
    sim.shutdown().await;
}
