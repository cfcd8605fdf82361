//! Payment attempts (real servers, the simulator, SQLite): an order is paid again through a
//! new `out_trade_no` after its attempt is closed, every attempt carries `time_expire`, two
//! paid attempts are an anomaly, a superseded attempt is closed by the sweeper, and a payment
//! that completes after expiry closed the attempt raises the paid-after-close anomaly.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};
use tenpay_merchant_server::sweeper::SweepConfig;
use tenpay_sim::{Fault, FaultKind, PayOptions};

/// `POST /orders/{no}/attempts` as alice: (status, body).
async fn repay(env: &Env, no: &str) -> (u16, Value) {
    let r = env
        .http
        .post(format!("{}/orders/{no}/attempts", env.server.public_url()))
        .bearer_auth(&env.alice)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn anomalies(env: &Env) -> Vec<Value> {
    env.admin_get("/anomalies")
        .await
        .1
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn wait_anomaly(env: &Env, kind: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(a) = anomalies(env).await.into_iter().find(|a| a["kind"] == kind) {
            return a;
        }
        assert!(Instant::now() < deadline, "no {kind} anomaly");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_is_paid_again_through_a_new_attempt_after_the_first_is_closed() {
    let env = start("repay").await;
    let created = env
        .create(json!({ "item": "fen-500", "amount_fen": 500, "trade_type": "NATIVE" }))
        .await;
    let no = created["order_no"].as_str().unwrap().to_owned();
    assert_eq!(
        created["attempt"],
        no.as_str(),
        "the first attempt is the order's number"
    );
    // time_expire is sent on every attempt (at least WeChat Pay's 5 minutes ahead).
    let first = env.sim.order(&no).unwrap();
    assert!(
        first.expires_at.unwrap() >= unix_now() + 5 * 60,
        "{first:?}"
    );

    let (status, second) = repay(&env, &no).await;
    assert_eq!(status, 201, "{second}");
    let attempt = second["attempt"].as_str().unwrap().to_owned();
    assert_eq!(attempt, format!("{no}-2"));
    assert_eq!(second["order_no"], no.as_str());
    assert!(second["pay"]["code_url"].is_string(), "{second}");
    // The first attempt was closed at WeChat Pay: the payer can no longer pay it.
    assert_eq!(env.sim.order(&no).unwrap().trade_state, "CLOSED");
    assert!(env.sim.pay(&no, &PayOptions::new()).is_err());
    assert!(env.sim.order(&attempt).unwrap().expires_at.is_some());

    env.sim.pay(&attempt, &PayOptions::new()).unwrap();
    let o = env.wait_state(&no, "PAID").await;
    assert_eq!(o["paid_attempt"], attempt.as_str(), "{o}");
    let states: Vec<&str> = o["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["CLOSED", "PAID"], "{o}");
    // The refund names the attempt that was paid.
    let (status, r) = env.refund(&no, json!({ "amount_fen": 200 })).await;
    assert!(status == 201 || status == 202, "{status} {r}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while env.sim_refunded(&attempt) != 200 {
        assert!(
            Instant::now() < deadline,
            "the refund never reached the attempt"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Its evidence (the refund notification, the refundquery that confirmed it) is kept
    // under the number WeChat Pay named, the attempt's, and found through the order.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let audit = env.server.store().audit(Some(&no)).await.unwrap();
        let refund_rows: Vec<_> = audit.iter().filter(|r| r.kind == "refund").collect();
        if !refund_rows.is_empty() {
            for r in refund_rows {
                assert_eq!(r.out_trade_no.as_deref(), Some(attempt.as_str()), "{r:?}");
            }
            break;
        }
        assert!(Instant::now() < deadline, "no refund evidence: {audit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A paid order is not paid again.
    let (status, body) = repay(&env, &no).await;
    assert_eq!(status, 409, "{body}");
    assert!(anomalies(&env).await.is_empty());
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_paid_attempts_of_one_order_are_a_second_payment_anomaly() {
    let env = start("two-paid").await;
    let no = env.new_order(300, "NATIVE").await;
    // closeorder fails (three times: the client retries SYSTEMERROR twice): the first attempt
    // stays open while the second is placed.
    env.sim
        .inject(Fault::next("closeorder", FaultKind::SystemError, 3))
        .unwrap();
    let (status, second) = repay(&env, &no).await;
    assert_eq!(status, 201, "{second}");
    let attempt = second["attempt"].as_str().unwrap().to_owned();
    assert_eq!(env.sim.order(&no).unwrap().trade_state, "NOTPAY");
    // The payer pays both.
    env.sim.pay(&no, &PayOptions::new()).unwrap();
    env.wait_state(&no, "PAID").await;
    env.sim.pay(&attempt, &PayOptions::new()).unwrap();
    let a = wait_anomaly(&env, "SECOND_PAYMENT").await;
    let second_tx = env.sim.order(&attempt).unwrap().transaction_id.unwrap();
    assert_eq!(a["reference"], second_tx.as_str(), "{a}");
    assert_eq!(a["order_no"], no.as_str(), "{a}");
    // The books keep the first payment and count the order once.
    let o = env.order(&no).await;
    assert_eq!(o["state"], "PAID");
    assert_eq!(o["paid_attempt"], no.as_str(), "{o}");
    assert_eq!(o["amount_fen"], 300);
    let states: Vec<&str> = o["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["PAID", "PAID"], "{o}");
    // The same notification again is a duplicate, not a third anomaly.
    let before = anomalies(&env).await.len();
    let delivery = env
        .sim
        .deliveries()
        .into_iter()
        .find(|d| d.out_trade_no == attempt)
        .unwrap();
    env.sim.redeliver(delivery.id).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(anomalies(&env).await.len(), before);
    env.stop().await;
}

fn quick_sweeper(c: &mut tenpay_merchant_server::Config, ttl: Duration) {
    c.sweep = SweepConfig {
        interval: Duration::from_millis(200),
        unpaid_after: Duration::ZERO,
        order_ttl: ttl,
        refund_after: Duration::from_secs(3600),
        batch: 50,
        concurrency: 4,
        backoff: Duration::from_secs(1),
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweeper_closes_a_superseded_attempt_left_open() {
    let env = start_with(&temp_db("superseded"), |c| {
        quick_sweeper(c, Duration::from_secs(3600));
    })
    .await;
    let no = env.new_order(300, "NATIVE").await;
    env.sim
        .inject(Fault::next("closeorder", FaultKind::SystemError, 3))
        .unwrap();
    let (status, second) = repay(&env, &no).await;
    assert_eq!(status, 201, "{second}");
    let attempt = second["attempt"].as_str().unwrap().to_owned();
    // Not expired, but superseded: closed at WeChat Pay and here.
    let deadline = Instant::now() + Duration::from_secs(20);
    while env.sim.order(&no).unwrap().trade_state != "CLOSED" {
        assert!(Instant::now() < deadline, "the first attempt stayed open");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let o = env
        .wait_for(&no, |o| o["attempts"][0]["state"] == "CLOSED")
        .await;
    // The order follows its current attempt, which is still open.
    assert_eq!(o["state"], "NOTPAY", "{o}");
    assert_eq!(env.sim.order(&attempt).unwrap().trade_state, "NOTPAY");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_completing_after_expiry_closed_the_attempt_is_paid_after_close() {
    // Every attempt expires at once here (WeChat Pay's own time_expire is still 6 minutes
    // ahead): the sweeper closes it at WeChat Pay and here.
    let env = start_with(&temp_db("paid-after-close"), |c| {
        quick_sweeper(c, Duration::ZERO);
    })
    .await;
    let no = env.new_order(400, "NATIVE").await;
    env.wait_state(&no, "CLOSED").await;
    assert_eq!(env.sim.order(&no).unwrap().trade_state, "CLOSED");
    // The payment that began before the close completes after it.
    env.sim
        .pay(&no, &PayOptions::new().after_close(true))
        .unwrap();
    let a = wait_anomaly(&env, "PAID_AFTER_CLOSE").await;
    assert_eq!(a["order_no"], no.as_str(), "{a}");
    assert!(
        a["detail"].as_str().unwrap().contains("refund the payer"),
        "{a}"
    );
    // The books do not take the payment: the order stays closed, nothing counted.
    let o = env.order(&no).await;
    assert_eq!(o["state"], "CLOSED", "{o}");
    assert!(o["paid_at"].is_null(), "{o}");
    // The notification was acknowledged (recorded; WeChat Pay need not retry).
    let deadline = Instant::now() + Duration::from_secs(10);
    while !env
        .sim
        .deliveries()
        .iter()
        .any(|d| d.out_trade_no == no && d.acknowledged)
    {
        assert!(Instant::now() < deadline, "not acknowledged");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    env.stop().await;
}

/// A verified payment of another amount for a second attempt is an anomaly of the business
/// order (`order_no`), not of the attempt's number; the audit row keeps the number named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_amount_mismatch_on_a_second_attempt_is_filed_under_its_order() {
    let env = start("mismatch-attempt").await;
    let created = env
        .create(json!({ "item": "fen-500", "amount_fen": 500, "trade_type": "NATIVE" }))
        .await;
    let no = created["order_no"].as_str().unwrap().to_owned();
    let (status, second) = repay(&env, &no).await;
    assert_eq!(status, 201, "{second}");
    let attempt = second["attempt"].as_str().unwrap().to_owned();
    assert_ne!(attempt, no);
    let body = pay_notification(
        &attempt,
        1,
        "4200000000000000000000000077",
        Some(demo_key()),
    );
    let (s, _) = env.notify("pay", body).await;
    assert_eq!(s, 500, "a refused payment is not acknowledged");
    let a = wait_anomaly(&env, "AMOUNT_MISMATCH").await;
    assert_eq!(a["order_no"], no.as_str(), "{a}");
    let audit = env.server.store().audit(Some(&no)).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|r| r.out_trade_no.as_deref() == Some(attempt.as_str())),
        "{audit:?}"
    );
    env.stop().await;
}

/// The app names the trade type; one that is not APP, JSAPI, NATIVE or MWEB is refused
/// before anything is stored or sent, and the stored order carries the typed one back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_trade_type_is_refused_before_anything_is_stored() {
    let env = start("trade-type").await;
    let (status, body) = env
        .create_as(
            &env.alice,
            json!({ "item": "fen-500", "amount_fen": 500, "trade_type": "MICROPAY" }),
        )
        .await;
    assert!((400..500).contains(&status), "{status} {body}");
    assert!(body.to_string().contains("trade_type"), "{body}");
    assert!(env.server.store().audit(None).await.unwrap().is_empty());
    let created = env
        .create(json!({ "item": "fen-500", "amount_fen": 500, "trade_type": "MWEB" }))
        .await;
    assert_eq!(created["trade_type"], "MWEB", "{created}");
    assert!(created["pay"]["mweb_url"].is_string(), "{created}");
    let no = created["order_no"].as_str().unwrap();
    assert_eq!(env.order(no).await["trade_type"], "MWEB");
    env.stop().await;
}
