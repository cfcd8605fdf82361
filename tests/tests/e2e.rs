//! The reference merchant server against the simulator: trade types, refunds, retries after a
//! database fault, a crash, duplicates under concurrency (SQLite and PostgreSQL), forged
//! notifications, anomalies.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{
    Env, demo_key, init, pay_notification, start, start_with, temp_db, temp_db_path, test_prices,
};
use serde_json::{Value, json};
use tenpay_merchant_server::Server;
use tenpay_merchant_server::simulator::{DEMO_APPID, DEMO_KEY, DEMO_MCH_ID, config_for};
use tenpay_sign::{ApiKey, SignType};
use tenpay_sim::PayOptions;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_trade_type_to_paid_and_refunds_to_their_notification() {
    let env = start("types").await;
    for (tt, openid) in [
        ("APP", None),
        ("JSAPI", Some("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")),
        ("NATIVE", None),
        ("MWEB", None),
    ] {
        let created = env
            .create(
                json!({ "item": "fen-101", "amount_fen": 101, "trade_type": tt, "openid": openid }),
            )
            .await;
        let no = created["order_no"].as_str().unwrap();
        match tt {
            "APP" => assert_eq!(created["pay"]["package"], "Sign=WXPay"),
            "JSAPI" => assert!(
                created["pay"]["package"]
                    .as_str()
                    .unwrap()
                    .starts_with("prepay_id=")
            ),
            "NATIVE" => assert!(
                created["pay"]["code_url"]
                    .as_str()
                    .unwrap()
                    .starts_with("weixin://")
            ),
            _ => assert!(
                created["pay"]["mweb_url"]
                    .as_str()
                    .unwrap()
                    .starts_with("https://")
            ),
        }
        env.pay(no).await;
        let paid = env.order(no).await;
        assert!(paid["transaction_id"].as_str().is_some());
        assert_eq!(paid["paid_via"], "notification");
        // Refund the whole order in two parts: partially refunded, then refunded.
        let (status, r) = env.refund(no, json!({ "amount_fen": 60 })).await;
        assert_eq!(status, 201, "{r}");
        env.wait_state(no, "PARTIALLY_REFUNDED").await;
        let (status, r) = env.refund(no, json!({ "amount_fen": 41 })).await;
        assert_eq!(status, 201, "{r}");
        // More than the rest: refused, nothing written.
        let (status, r) = env.refund(no, json!({ "amount_fen": 1 })).await;
        assert_eq!(status, 409, "{r}");
        let o = env.wait_state(no, "REFUNDED").await;
        assert_eq!(o["refunded_fen"], 101);
        assert_eq!(o["refunds"].as_array().unwrap().len(), 2);
        assert_eq!(env.sim_refunded(no), 101);
    }
    // A refunded order never moves back to paid, even if its notification comes again.
    let no = env
        .sim
        .orders()
        .into_iter()
        .find(|o| o.trade_type == "APP")
        .unwrap()
        .out_trade_no;
    let body = env
        .sim
        .deliveries()
        .into_iter()
        .find(|d| d.out_trade_no == no && d.kind == tenpay_sim::DeliveryKind::Pay)
        .unwrap()
        .body;
    assert_eq!(env.notify("pay", body).await.0, 200);
    assert_eq!(env.order(&no).await["state"], "REFUNDED");
    // Bad requests: JSON errors with a reason; nothing written.
    for (bad, expected) in [
        // JSAPI without the payer's openid.
        (json!({ "item": "fen-1", "trade_type": "JSAPI" }), 400),
        (
            json!({ "item": "fen-1", "amount_fen": -5, "trade_type": "APP" }),
            400,
        ),
        (json!({ "item": "fen-1", "trade_type": "CASH" }), 400),
        (json!({ "nope": 1 }), 400),
        // The app may not name the description: the price and the text are the server's.
        (
            json!({ "item": "fen-1", "description": "d", "trade_type": "APP" }),
            400,
        ),
        // A price of 0 from the merchant's own pricing is refused too.
        (json!({ "item": "fen-0", "trade_type": "APP" }), 422),
        (json!({ "item": "no-such-thing", "trade_type": "APP" }), 422),
    ] {
        let (status, v) = env.create_as(&env.alice, bad.clone()).await;
        assert_eq!(status, expected, "{bad} -> {v}");
        assert!(v["reason"].as_str().is_some_and(|s| !s.is_empty()), "{v}");
    }
    assert_eq!(env.admin_get("/orders/NOPE").await.0, 404);
    // A number WeChat Pay could not take (too long, or outside its characters) names no
    // order or refund either: checked at the edge, never sent on.
    let too_long = "9".repeat(33);
    for path in [
        format!("/orders/{too_long}"),
        "/orders/a%20b".to_owned(),
        format!("/refunds/{}", "R".repeat(65)),
    ] {
        let (status, v) = env.admin_get(&path).await;
        assert_eq!(status, 404, "{path} -> {v}");
    }
    for (path, body) in [
        (
            format!("/orders/{too_long}/refunds"),
            json!({ "amount_fen": 1 }),
        ),
        (format!("/orders/{too_long}/cancel"), json!({})),
        (format!("/refunds/{}/query", "R".repeat(65)), json!({})),
    ] {
        let (status, v) = env.admin_post(&path, body).await;
        assert_eq!(status, 404, "{path} -> {v}");
    }
    assert_eq!(env.sim.orders().len(), 4);
    env.stop().await;
}

/// Item 10: a description XML cannot carry (here from the merchant's own pricing) is
/// refused before anything is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_description_xml_cannot_carry_is_refused_and_stores_nothing() {
    let env = start("nul").await;
    for item in ["bad-0", "bad-7", "bad-fffe"] {
        let (status, v) = env
            .create_as(&env.alice, json!({ "item": item, "trade_type": "APP" }))
            .await;
        assert_eq!(status, 422, "{v}");
    }
    assert!(env.sim.orders().is_empty());
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", temp_db_path("nul").display()))
        .await
        .unwrap();
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM orders")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 0, "no FAILED row left behind");
    env.stop().await;
}

/// Item 10: MWEB (and APP, JSAPI) send the payer's IP; X-Forwarded-For only counts from a
/// trusted proxy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_send_the_payers_ip_trusting_only_configured_proxies() {
    let env = start_with(&temp_db("ip"), |c| {
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        c.server_ip = "192.0.2.10".into();
    })
    .await;
    let create = |xff: &'static str, tt: &'static str| {
        let env = &env;
        async move {
            let r = env
                .http
                .post(format!("{}/orders", env.server.public_url()))
                .bearer_auth(&env.alice)
                .header("x-forwarded-for", xff)
                .json(&json!({ "item": "fen-5", "amount_fen": 5, "trade_type": tt }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            let v: Value = r.json().await.unwrap();
            let no = v["order_no"].as_str().unwrap().to_owned();
            env.order(&no).await["payer_ip"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    assert_eq!(create("1.2.3.4, 203.0.113.5", "MWEB").await, "203.0.113.5");
    assert_eq!(create("203.0.113.6", "APP").await, "203.0.113.6");
    // NATIVE: the server's own IP.
    assert_eq!(create("203.0.113.7", "NATIVE").await, "192.0.2.10");
    env.stop().await;
    // Without trusted proxies the header is ignored.
    let env = start("ip-direct").await;
    let r = env
        .http
        .post(format!("{}/orders", env.server.public_url()))
        .bearer_auth(&env.alice)
        .header("x-forwarded-for", "203.0.113.5")
        .json(&json!({ "item": "fen-5", "amount_fen": 5, "trade_type": "MWEB" }))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    let o = env.order(v["order_no"].as_str().unwrap()).await;
    assert_eq!(o["payer_ip"], "127.0.0.1");
    env.stop().await;
}

/// A database fault while a notification is recorded rolls the change back; WeChat Pay's
/// retries then deliver it once. The fault is real: a trigger that makes SQLite refuse the
/// paid transition, installed from outside and dropped after three failed attempts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_fault_rolls_back_and_the_retries_record_the_payment_once() {
    let env = start("retries").await;
    let no = env.new_order(888, "APP").await;
    let pool =
        sqlx::SqlitePool::connect(&format!("sqlite://{}", temp_db_path("retries").display()))
            .await
            .unwrap();
    sqlx::query(
        "CREATE TRIGGER fault BEFORE UPDATE OF state ON orders WHEN NEW.state = 'PAID' \
         BEGIN SELECT RAISE(ABORT, 'injected fault'); END",
    )
    .execute(&pool)
    .await
    .unwrap();
    env.sim.pay(&no, &PayOptions::new()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while env.sim.deliveries()[0].attempts.len() < 3 {
        assert!(Instant::now() < deadline, "{:?}", env.sim.deliveries());
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    sqlx::query("DROP TRIGGER fault")
        .execute(&pool)
        .await
        .unwrap();
    env.wait_state(&no, "PAID").await;
    let audit = env.server.store().audit(Some(&no)).await.unwrap();
    let verdicts: Vec<&str> = audit.iter().map(|a| a.verdict.as_str()).collect();
    assert_eq!(
        verdicts.iter().filter(|v| **v == "paid").count(),
        1,
        "{verdicts:?}"
    );
    assert_eq!(verdicts.last(), Some(&"paid"), "{verdicts:?}");
    let failed = verdicts
        .iter()
        .filter(|v| v.starts_with("not recorded"))
        .count();
    assert!(failed >= 3, "{verdicts:?}");
    let d = env
        .sim
        .deliveries()
        .into_iter()
        .find(|d| d.out_trade_no == no)
        .unwrap();
    assert!(d.acknowledged);
    assert_eq!(d.attempts.len(), failed + 1);
    assert!(d.attempts[..failed].iter().all(|a| a.status == Some(500)));
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_while_a_notification_is_due_then_restart() {
    let db = temp_db("crash");
    let env = start_with(&db, |_| {}).await;
    let no = env.new_order(500, "NATIVE").await;
    let Env {
        sim,
        server,
        mut config,
        http,
        alice: _,
    } = env;
    let addr = server.public_addr();
    server.kill();
    tokio::time::sleep(Duration::from_millis(50)).await;
    sim.pay(&no, &PayOptions::new()).unwrap();
    // Attempts fail while the server is down.
    let deadline = Instant::now() + Duration::from_secs(5);
    while sim.deliveries()[0].attempts.len() < 3 {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(!sim.deliveries()[0].acknowledged);
    // Start again on the same address and database: the next attempt is delivered.
    config.listen = addr;
    let server = Server::new(config.clone())
        .pricing(test_prices)
        .start()
        .await
        .unwrap();
    let env = Env {
        alice: common::token(&server, "alice"),
        sim,
        server,
        config,
        http,
    };
    let paid = env.wait_state(&no, "PAID").await;
    assert_eq!(paid["amount_fen"], 500);
    let d = &env.sim.deliveries()[0];
    assert!(d.acknowledged);
    assert!(d.attempts.len() >= 4);
    assert!(d.attempts[0].status.is_none());
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_notifications_are_refused_and_audited_without_their_bodies() {
    let env = start("forged").await;
    let no = env.new_order(10000, "APP").await;
    // Unsigned and wrongly signed: refused by verification (400). Signed with our key but for
    // another amount: verified, then refused by the amount check and recorded as an anomaly
    // (500: WeChat Pay retries).
    let padded = format!(
        "{}{}",
        pay_notification(&no, 10000, "4200000000000000000000000001", None),
        " ".repeat(4000)
    );
    for (body, status) in [
        (padded, 400),
        (
            pay_notification(
                &no,
                10000,
                "4200000000000000000000000001",
                Some("another-merchants-key-0000000000"),
            ),
            400,
        ),
        (
            pay_notification(&no, 1, "4200000000000000000000000001", Some(DEMO_KEY)),
            500,
        ),
    ] {
        let (s, reply) = env.notify("pay", body).await;
        assert_eq!(s, status);
        assert!(reply.contains("FAIL"));
    }
    assert_eq!(env.order(&no).await["state"], "NOTPAY");
    let audit = env.server.store().audit(None).await.unwrap();
    assert_eq!(audit.len(), 3);
    assert!(
        audit.iter().all(|a| a.verdict.starts_with("refused")),
        "{audit:?}"
    );
    // A refused delivery keeps its length, hash and first KiB only.
    assert!(!audit[0].verified);
    assert!(audit[0].body_len > 4000);
    assert_eq!(audit[0].body.len(), 1024);
    assert_eq!(audit[0].body_sha256.len(), 64);
    assert!(audit[2].verified);
    assert!(
        audit[2].verdict.contains("amount mismatch"),
        "{:?}",
        audit[2]
    );
    let (_, anomalies) = env.admin_get("/anomalies").await;
    assert_eq!(anomalies.as_array().unwrap().len(), 1, "{anomalies}");
    assert_eq!(anomalies[0]["kind"], "AMOUNT_MISMATCH");
    env.stop().await;
}

/// Item 5: 1,000 forged POSTs of 64 KiB grow the database by less than 2 MiB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_forged_notifications_barely_grows_the_database() {
    let env = start("flood").await;
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", temp_db_path("flood").display()))
        .await
        .unwrap();
    let size = || async {
        let (pages,): (i64,) = sqlx::query_as("PRAGMA page_count")
            .fetch_one(&pool)
            .await
            .unwrap();
        let (page,): (i64,) = sqlx::query_as("PRAGMA page_size")
            .fetch_one(&pool)
            .await
            .unwrap();
        pages * page
    };
    let before = size().await;
    let body = format!(
        "<xml><return_code>SUCCESS</return_code><junk>{}</junk></xml>",
        "A".repeat(60 * 1024)
    );
    let sem = Arc::new(tokio::sync::Semaphore::new(32));
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let (http, url, body, sem) = (
            env.http.clone(),
            format!("{}/wechat/notify/pay", env.server.public_url()),
            body.clone(),
            Arc::clone(&sem),
        );
        tasks.push(tokio::spawn(async move {
            let _p = sem.acquire().await.unwrap();
            http.post(url)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 400);
    }
    let grown = size().await - before;
    assert_eq!(env.server.store().audit(None).await.unwrap().len(), 1000);
    assert!(grown < 2 * 1024 * 1024, "grew {grown} bytes");
    env.stop().await;
}

/// Item 6: a payment the books cannot take is recorded as an anomaly (and acknowledged,
/// since it is durably recorded), never as a "duplicate".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_for_a_closed_order_or_a_second_transaction_is_an_anomaly() {
    let env = start("anomalies").await;
    let closed = env.new_order(300, "NATIVE").await;
    let (status, v) = env
        .admin_post(&format!("/orders/{closed}/cancel"), json!({}))
        .await;
    assert_eq!(status, 200, "{v}");
    // The merchant's cancel is final: the order is CANCELLED, its attempt closed, and the
    // payer cannot open a new attempt (review t3 #4).
    assert_eq!(v["state"], "CANCELLED");
    assert_eq!(v["attempts"][0]["state"], "CLOSED");
    let repay = env
        .http
        .post(format!(
            "{}/orders/{closed}/attempts",
            env.server.public_url()
        ))
        .bearer_auth(&env.alice)
        .send()
        .await
        .unwrap();
    assert_eq!(repay.status(), 409);
    let body: Value = repay.json().await.unwrap();
    assert_eq!(body["error"], "cancelled", "{body}");
    assert_eq!(
        env.sim
            .orders()
            .iter()
            .filter(|o| o.out_trade_no.starts_with(&closed))
            .count(),
        1
    );
    // A second cancel changes nothing.
    let (status, again) = env
        .admin_post(&format!("/orders/{closed}/cancel"), json!({}))
        .await;
    assert_eq!((status, again["state"].clone()), (200, json!("CANCELLED")));
    let (status, _) = env
        .notify(
            "pay",
            pay_notification(
                &closed,
                300,
                "4200000000000000000000000077",
                Some(demo_key()),
            ),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(env.order(&closed).await["state"], "CANCELLED");

    let paid = env.new_order(400, "APP").await;
    env.pay(&paid).await;
    let first = env.order(&paid).await["transaction_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = env
        .notify(
            "pay",
            pay_notification(&paid, 400, "4200000000000000000000000088", Some(demo_key())),
        )
        .await;
    assert_eq!(status, 200);
    // The same second transaction again: one anomaly, not two.
    env.notify(
        "pay",
        pay_notification(&paid, 400, "4200000000000000000000000088", Some(demo_key())),
    )
    .await;
    assert_eq!(env.order(&paid).await["transaction_id"], first.as_str());

    let (_, anomalies) = env.admin_get("/anomalies").await;
    let kinds: Vec<&str> = anomalies
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["PAID_AFTER_CLOSE", "SECOND_PAYMENT"], "{anomalies}");
    let audit = env.server.store().audit(Some(&paid)).await.unwrap();
    assert!(
        audit.iter().all(|a| !a.verdict.starts_with("duplicate")),
        "{audit:?}"
    );
    env.stop().await;
}

/// 50 concurrent copies of one genuine notification against two server instances sharing one
/// database: one transition, 50 audit rows, 50 success replies.
async fn duplicates_under_concurrency(database_url: &str) {
    let a = start_with(database_url, |_| {}).await;
    let mut config_b = config_for(&a.sim, database_url).unwrap();
    config_b.session_secret = a.config.session_secret.clone();
    let b = Server::new(config_b)
        .pricing(test_prices)
        .start()
        .await
        .unwrap();
    let no = a.new_order(1999, "APP").await;
    // The genuine notification, as the simulator signs it, captured from its delivery to A.
    a.sim.pay(&no, &PayOptions::new()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let body = loop {
        if let Some(d) = a
            .sim
            .deliveries()
            .into_iter()
            .find(|d| d.out_trade_no == no && d.acknowledged)
        {
            break d.body;
        }
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    assert_eq!(a.server.store().audit(Some(&no)).await.unwrap().len(), 1);
    let mut tasks = Vec::new();
    for i in 0..50 {
        let url = if i % 2 == 0 {
            a.server.public_url()
        } else {
            b.public_url()
        };
        let (http, body) = (a.http.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let r = http
                .post(format!("{url}/wechat/notify/pay"))
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.bytes().await.unwrap())
        }));
    }
    for t in tasks {
        let (status, reply) = t.await.unwrap();
        assert_eq!(status, 200);
        assert_eq!(&reply[..], tenpay_notify::ACK);
    }
    let audit = a.server.store().audit(Some(&no)).await.unwrap();
    assert_eq!(audit.len(), 51);
    assert_eq!(
        audit.iter().filter(|r| r.verdict == "paid").count(),
        1,
        "exactly one transition"
    );
    assert!(
        audit[1..]
            .iter()
            .all(|r| r.verdict.starts_with("duplicate"))
    );
    assert_eq!(a.order(&no).await["state"], "PAID");
    b.shutdown().await;
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_under_concurrency_sqlite() {
    duplicates_under_concurrency(&temp_db("dups")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(tenpay_postgres),
    ignore = "needs PostgreSQL: run `.ci/postgres.sh` and set TENPAY_TEST_POSTGRES_URL to the URL it prints (CI does)"
)]
async fn duplicates_under_concurrency_postgres() {
    let url = std::env::var("TENPAY_TEST_POSTGRES_URL").expect("TENPAY_TEST_POSTGRES_URL");
    duplicates_under_concurrency(&url).await;
}

/// tenpay-notify's tower service, served by hyper, verifies and acknowledges what tenpay-sim
/// delivers (payment and refund notifications, MD5 and HMAC-SHA256 orders).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_notify_service_acknowledges_simulator_deliveries() {
    use tenpay_notify::{Notification, Notifier, NotifyService, verified};

    init();
    let key = ApiKey::new(DEMO_KEY).unwrap();
    let sim = tenpay_sim::Simulator::builder()
        .merchant(tenpay_sim::MerchantAccount::new(
            DEMO_APPID,
            DEMO_MCH_ID,
            key.clone(),
        ))
        .time_scale(1000)
        .tls(true)
        .start()
        .await
        .unwrap();
    let seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut urls = Vec::new();
    for st in [SignType::Md5, SignType::HmacSha256] {
        let seen = Arc::clone(&seen);
        let service = NotifyService::new(
            Notifier::new(&tenpay_sign::Merchant::new(
                DEMO_APPID,
                DEMO_MCH_ID,
                key.clone(),
                st,
            )),
            verified(move |n: Notification| {
                let seen = Arc::clone(&seen);
                async move {
                    let what = match n {
                        Notification::Pay(p) => {
                            let promoted: Vec<String> = p
                                .promotions()
                                .unwrap()
                                .iter()
                                .map(|x| {
                                    format!(" promotion {:?} on {}", x.amount, x.goods_detail.len())
                                })
                                .collect();
                            format!(
                                "pay {} {}{}",
                                p.out_trade_no(),
                                p.total_fee(),
                                promoted.concat()
                            )
                        }
                        Notification::Refund(r) => {
                            format!("refund {} {}", r.out_refund_no, r.refund_fee)
                        }
                        _ => "other".into(),
                    };
                    seen.lock().unwrap().push(what);
                    Ok::<(), String>(())
                }
            }),
        );
        let addr = common::serve_notify(service).await;
        urls.push(format!("http://{addr}/notify"));
    }
    let tls = sim.tls().unwrap();
    for (i, st) in [SignType::Md5, SignType::HmacSha256]
        .into_iter()
        .enumerate()
    {
        let client = tenpay_client::Client::builder(tenpay_client::Merchant::new(
            DEMO_APPID,
            DEMO_MCH_ID,
            key.clone(),
            st,
        ))
        .base_url(sim.tls_base_url().unwrap())
        .add_root_certificate_pem(tls.ca_pem.clone())
        .identity(tenpay_client::Identity::from_pkcs12(
            tls.identity(DEMO_MCH_ID).unwrap().pkcs12.clone(),
        ))
        .build()
        .unwrap();
        let no = tenpay_client::OutTradeNo::new(format!("SVC{i}")).unwrap();
        let order = tenpay_client::UnifiedOrder::native(
            "svc",
            no.clone(),
            tenpay_xml::Fen::new(300 + i as u64),
            "127.0.0.1",
            &urls[i],
            "P",
        );
        // The first a single-item discount order paid with a coupon: a promotion reported.
        let (order, pay) = if i == 0 {
            let goods = tenpay_client::DiscountDetail::new(vec![
                tenpay_client::DiscountGoods::new("g1", 2, tenpay_xml::Fen::new(100)),
                tenpay_client::DiscountGoods::new("g2", 1, tenpay_xml::Fen::new(100)),
            ]);
            (
                order.single_item_discount(&goods),
                PayOptions::new().coupon_fee(tenpay_xml::Fen::new(50)),
            )
        } else {
            (order, PayOptions::new().sign_type_field(true))
        };
        client.unified_order(&order).await.unwrap();
        sim.pay(no.as_str(), &pay).unwrap();
        if i == 0 {
            let paid = client
                .order_query(&tenpay_client::OrderQuery::by_out_trade_no(no.clone()))
                .await
                .unwrap();
            let promotions = paid.promotions().unwrap();
            assert_eq!(promotions.len(), 1);
            assert_eq!(promotions[0].amount, Some(tenpay_xml::Fen::new(50)));
            assert_eq!(promotions[0].goods_detail[0].goods_id, "g1");
            assert_eq!(paid.cash_fee, Some(tenpay_xml::Fen::new(250)));
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while !sim
            .deliveries()
            .iter()
            .any(|d| d.out_trade_no == no.as_str() && d.acknowledged)
        {
            assert!(Instant::now() < deadline, "{:?}", sim.deliveries());
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let refund = tenpay_client::Refund::by_out_trade_no(
            no.clone(),
            tenpay_client::OutRefundNo::new(format!("SVCR{i}")).unwrap(),
            tenpay_xml::Fen::new(300 + i as u64),
            tenpay_xml::Fen::new(100),
        )
        .notify_url(&urls[i]);
        client.refund(&refund).await.unwrap().done().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !sim.deliveries().iter().any(|d| {
            d.out_trade_no == no.as_str()
                && d.kind == tenpay_sim::DeliveryKind::Refund
                && d.acknowledged
        }) {
            assert!(Instant::now() < deadline, "{:?}", sim.deliveries());
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            "pay SVC0 300 promotion Some(Fen(50)) on 2",
            "refund SVCR0 100",
            "pay SVC1 301",
            "refund SVCR1 100"
        ]
    );
    assert!(
        sim.deliveries()
            .iter()
            .all(|d| d.acknowledged && d.attempts.len() == 1)
    );
    sim.shutdown().await;
}
