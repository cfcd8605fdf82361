//! The reference merchant server against the simulator: trade types, refunds, retries, a crash,
//! duplicates under concurrency (SQLite and PostgreSQL), forged notifications.
#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tenpay_examples::demo::{DEMO_APPID, DEMO_KEY, DEMO_MCH_ID, config_for, start_with_simulator};
use tenpay_examples::{Hooks, Running};
use tenpay_sign::{ApiKey, SignType};
use tenpay_sim::{PayOptions, SimHandle};
use tenpay_xml::XmlMap;

fn init() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn temp_db(name: &str) -> String {
    let path = std::env::temp_dir().join(format!("tenpay-e2e-{name}-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    format!("sqlite://{}", path.display())
}

async fn create(http: &reqwest::Client, server: &Running, body: Value) -> Value {
    let r = http
        .post(format!("{}/orders", server.url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    r.json().await.unwrap()
}

/// The simulator (time scale 1000) and a merchant server on a fresh SQLite file.
async fn start_fresh(db_name: &str) -> (SimHandle, Running) {
    start_with_simulator(
        "127.0.0.1:0".parse().unwrap(),
        &temp_db(db_name),
        1000,
        Hooks::default(),
    )
    .await
    .unwrap()
}

/// Creates an order for `amount_fen` and returns its out_trade_no.
async fn new_order(
    http: &reqwest::Client,
    server: &Running,
    amount_fen: i64,
    trade_type: &str,
) -> String {
    let body = json!({ "item": "a", "description": "d", "amount_fen": amount_fen, "trade_type": trade_type });
    create(http, server, body).await["out_trade_no"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn order(http: &reqwest::Client, server: &Running, no: &str) -> Value {
    http.get(format!("{}/orders/{no}", server.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn wait_state(http: &reqwest::Client, server: &Running, no: &str, state: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let o = order(http, server, no).await;
        if o["state"] == state {
            return o;
        }
        assert!(
            Instant::now() < deadline,
            "order {no} never became {state}: {o}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_trade_type_to_paid_and_refunds_to_their_notification() {
    init();
    let (sim, server) = start_fresh("types").await;
    let http = reqwest::Client::new();
    for (tt, openid) in [
        ("APP", None),
        ("JSAPI", Some("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")),
        ("NATIVE", None),
        ("MWEB", None),
    ] {
        let created = create(&http, &server, json!({ "item": "sku-1", "description": "测试商品", "amount_fen": 101, "trade_type": tt, "openid": openid })).await;
        let no = created["out_trade_no"].as_str().unwrap();
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
        sim.pay(no, &PayOptions::new()).unwrap();
        let paid = wait_state(&http, &server, no, "PAID").await;
        assert!(paid["transaction_id"].as_str().is_some());
        // Refund the whole order in two parts.
        for amount in [60, 41] {
            let r = http
                .post(format!("{}/orders/{no}/refunds", server.url()))
                .json(&json!({ "amount_fen": amount }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
        }
        // More than the rest: refused, nothing written.
        let r = http
            .post(format!("{}/orders/{no}/refunds", server.url()))
            .json(&json!({ "amount_fen": 1 }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let o = order(&http, &server, no).await;
            if o["refunded_fen"] == 101 {
                assert_eq!(o["state"], "REFUNDED");
                assert_eq!(o["refunds"].as_array().unwrap().len(), 2);
                break;
            }
            assert!(Instant::now() < deadline, "{o}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    // A refunded order never moves back to paid, even if its notification comes again.
    let no = sim
        .orders()
        .into_iter()
        .find(|o| o.trade_type == "APP")
        .unwrap()
        .out_trade_no;
    let body = sim
        .deliveries()
        .into_iter()
        .find(|d| d.out_trade_no == no && d.kind == tenpay_sim::DeliveryKind::Pay)
        .unwrap()
        .body;
    let r = http
        .post(format!("{}/wechat/notify/pay", server.url()))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(order(&http, &server, &no).await["state"], "REFUNDED");
    // Bad requests: JSON errors with a reason; nothing written.
    for bad in [
        json!({ "item": "x", "description": "d", "amount_fen": 0, "trade_type": "APP" }),
        json!({ "item": "x", "description": "d", "amount_fen": 1, "trade_type": "JSAPI" }),
        json!({ "nope": 1 }),
    ] {
        let r = http
            .post(format!("{}/orders", server.url()))
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let v: Value = r.json().await.unwrap();
        assert!(v["reason"].as_str().is_some_and(|s| !s.is_empty()), "{v}");
    }
    assert_eq!(
        http.get(format!("{}/orders/NOPE", server.url()))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(sim.orders().len(), 4);
    server.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_fails_three_times_then_paid_once_with_four_audit_rows() {
    init();
    let failures = Arc::new(AtomicU32::new(0));
    let f = Arc::clone(&failures);
    let hooks = Hooks {
        before_commit: Some(Arc::new(move |_no: &str| {
            if f.fetch_add(1, Ordering::SeqCst) < 3 {
                Err("database briefly unavailable".into())
            } else {
                Ok(())
            }
        })),
    };
    let (sim, server) = start_with_simulator(
        "127.0.0.1:0".parse().unwrap(),
        &temp_db("retries"),
        1000,
        hooks,
    )
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let no = new_order(&http, &server, 888, "APP").await;
    sim.pay(&no, &PayOptions::new()).unwrap();
    wait_state(&http, &server, &no, "PAID").await;
    let audit = server.db().audit(Some(&no)).await.unwrap();
    let verdicts: Vec<&str> = audit.iter().map(|a| a.verdict.as_str()).collect();
    assert_eq!(verdicts.len(), 4, "{verdicts:?}");
    assert!(
        verdicts[..3]
            .iter()
            .all(|v| v.starts_with("handler failed")),
        "{verdicts:?}"
    );
    assert_eq!(verdicts[3], "paid");
    // The simulator retried on its (scaled) schedule: 15 s, 15 s, 30 s / 1000.
    let d = sim
        .deliveries()
        .into_iter()
        .find(|d| d.out_trade_no == no)
        .unwrap();
    assert_eq!(d.attempts.len(), 4);
    assert!(d.acknowledged);
    assert!(d.attempts[..3].iter().all(|a| a.status == Some(500)));
    server.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_while_a_notification_is_due_then_restart() {
    init();
    let db = temp_db("crash");
    let (sim, server) =
        start_with_simulator("127.0.0.1:0".parse().unwrap(), &db, 1000, Hooks::default())
            .await
            .unwrap();
    let http = reqwest::Client::new();
    let no = new_order(&http, &server, 500, "NATIVE").await;
    let addr = server.addr;
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
    let server = tenpay_examples::start(config_for(&sim, addr, &db).unwrap(), Hooks::default())
        .await
        .unwrap();
    let paid = wait_state(&http, &server, &no, "PAID").await;
    assert_eq!(paid["amount_fen"], 500);
    let d = &sim.deliveries()[0];
    assert!(d.acknowledged);
    assert!(d.attempts.len() >= 4);
    assert!(d.attempts[0].status.is_none());
    server.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_notifications_are_refused_and_audited() {
    init();
    let (sim, server) = start_fresh("forged").await;
    let http = reqwest::Client::new();
    let no = new_order(&http, &server, 10000, "APP").await;
    let forge = |key: Option<&str>, total_fee: &str| {
        let mut m = XmlMap::new();
        for (k, v) in [
            ("return_code", "SUCCESS"),
            ("appid", DEMO_APPID),
            ("mch_id", DEMO_MCH_ID),
            ("nonce_str", "forged0000000000000000000000000"),
            ("result_code", "SUCCESS"),
            ("total_fee", total_fee),
            ("transaction_id", "4200000000000000000000000001"),
            ("out_trade_no", no.as_str()),
            ("trade_type", "APP"),
        ] {
            m.insert(k, v).unwrap();
        }
        if let Some(k) = key {
            m.sign(&ApiKey::new(k).unwrap(), SignType::HmacSha256)
                .unwrap();
        }
        m.to_xml()
    };
    // Unsigned and wrongly signed: refused by verification (400). Signed with our key but for
    // another amount: verified, then refused by the amount check, which rolls the change back
    // (500: not recorded). WeChat Pay retries all three.
    for (body, status) in [
        (forge(None, "10000"), 400),
        (
            forge(Some("another-merchants-key-0000000000"), "10000"),
            400,
        ),
        (forge(Some(DEMO_KEY), "1"), 500),
    ] {
        let r = http
            .post(format!("{}/wechat/notify/pay", server.url()))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status);
        assert!(r.text().await.unwrap().contains("FAIL"));
    }
    assert_eq!(order(&http, &server, &no).await["state"], "NOTPAY");
    let audit = server.db().audit(None).await.unwrap();
    assert_eq!(audit.len(), 3);
    assert!(
        audit.iter().all(|a| a.verdict.starts_with("refused")),
        "{audit:?}"
    );
    assert!(
        audit[2].verdict.contains("amount mismatch"),
        "{:?}",
        audit[2]
    );
    server.shutdown().await;
    sim.shutdown().await;
}

/// 50 concurrent copies of one genuine notification against two server instances sharing one
/// database: one transition, 50 audit rows, 50 success replies.
async fn duplicates_under_concurrency(database_url: &str) {
    init();
    let (sim, a) = start_with_simulator(
        "127.0.0.1:0".parse().unwrap(),
        database_url,
        1000,
        Hooks::default(),
    )
    .await
    .unwrap();
    let b = tenpay_examples::start(
        config_for(&sim, "127.0.0.1:0".parse().unwrap(), database_url).unwrap(),
        Hooks::default(),
    )
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let no = new_order(&http, &a, 1999, "APP").await;
    // The genuine notification, as the simulator signs it, captured from its delivery to A.
    sim.pay(&no, &PayOptions::new()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let body = loop {
        if let Some(d) = sim
            .deliveries()
            .into_iter()
            .find(|d| d.out_trade_no == no && d.acknowledged)
        {
            break d.body;
        }
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let before = a.db().audit(Some(&no)).await.unwrap().len();
    assert_eq!(before, 1);
    let mut tasks = Vec::new();
    for i in 0..50 {
        let url = if i % 2 == 0 { a.url() } else { b.url() };
        let (http, body) = (http.clone(), body.clone());
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
        assert_eq!(&reply[..], tenpay_notify_ack());
    }
    let audit = a.db().audit(Some(&no)).await.unwrap();
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
    assert_eq!(order(&http, &b, &no).await["state"], "PAID");
    a.shutdown().await;
    b.shutdown().await;
    sim.shutdown().await;
}

fn tenpay_notify_ack() -> &'static [u8] {
    b"<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>"
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
    use hyper_util::rt::TokioIo;
    use hyper_util::service::TowerToHyperService;
    use tenpay_notify::{Notification, Notifier, NotifyService};

    init();
    let key = ApiKey::new(DEMO_KEY).unwrap();
    let sim = tenpay_sim::Simulator::builder()
        .merchant(tenpay_sim::Merchant::new(
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
            Notifier::new(DEMO_APPID, DEMO_MCH_ID, key.clone(), st),
            move |n: Notification| {
                let seen = Arc::clone(&seen);
                async move {
                    let what = match n {
                        Notification::Pay(p) => {
                            format!("pay {} {}", p.out_trade_no(), p.total_fee())
                        }
                        Notification::Refund(r) => {
                            format!("refund {} {}", r.out_refund_no, r.refund_fee)
                        }
                        _ => "other".into(),
                    };
                    seen.lock().unwrap().push(what);
                    Ok::<(), String>(())
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        urls.push(format!("http://{}/notify", listener.local_addr().unwrap()));
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let svc = TowerToHyperService::new(service.clone());
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc),
                );
            }
        });
    }
    let tls = sim.tls().unwrap();
    for (i, st) in [SignType::Md5, SignType::HmacSha256]
        .into_iter()
        .enumerate()
    {
        let client = tenpay_client::Client::builder(DEMO_APPID, DEMO_MCH_ID, key.clone(), st)
            .base_url(sim.tls_base_url().unwrap())
            .add_root_certificate_pem(tls.ca_pem.clone())
            .identity(tenpay_client::Identity::from_pkcs12(
                tls.identity(DEMO_MCH_ID).unwrap().pkcs12.clone(),
            ))
            .build()
            .unwrap();
        let no = tenpay_client::OutTradeNo::new(format!("SVC{i}")).unwrap();
        client
            .unified_order(&tenpay_client::UnifiedOrder::native(
                "svc",
                no.clone(),
                tenpay_xml::Fen::new(300 + i as u64),
                "127.0.0.1",
                &urls[i],
                "P",
            ))
            .await
            .unwrap();
        sim.pay(no.as_str(), &PayOptions::new().sign_type_field(i == 1))
            .unwrap();
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
        client.refund(&refund).await.unwrap();
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
            "pay SVC0 300",
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

/// Concurrent refund requests for one order never add up to more than the order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refund_requests_stay_within_the_amount() {
    init();
    let (sim, server) = start_fresh("refund-race").await;
    let http = reqwest::Client::new();
    let no = new_order(&http, &server, 100, "APP").await;
    sim.pay(&no, &PayOptions::new()).unwrap();
    wait_state(&http, &server, &no, "PAID").await;
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (http, url) = (
            http.clone(),
            format!("{}/orders/{no}/refunds", server.url()),
        );
        tasks.push(tokio::spawn(async move {
            http.post(url)
                .json(&json!({ "amount_fen": 30 }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        3,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    assert_eq!(sim.order(&no).unwrap().refunds.len(), 3);
    server.shutdown().await;
    sim.shutdown().await;
}
