//! Load run of the notify path end to end, on PostgreSQL with two server instances: HTTP,
//! verification, one transaction with the audit row and the state change.
//!
//! `cargo run --release -p tenpay-merchant-server --example notify_load -- DATABASE_URL [ORDERS] [CONCURRENCY]`
//!
//! Creates ORDERS unpaid orders (default 20000), signs one genuine pay notification for each
//! with the demo key, starts two servers on the database and delivers them with CONCURRENCY
//! (default 64) concurrent deliveries, alternating instances. Prints notifications/s and the
//! latency percentiles, and checks that every order ended PAID exactly once. The bound to
//! compare with is `bench/load/notify-pg.sh` (pgbench running the same transaction).
#![allow(clippy::unwrap_used, missing_docs, clippy::float_arithmetic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tenpay_merchant_server::config::{DatabaseUrl, Secret};
use tenpay_merchant_server::domain::OrderNo;
use tenpay_merchant_server::simulator::{DEMO_APPID, DEMO_KEY, DEMO_MCH_ID, random_secret};
use tenpay_merchant_server::store::NewOrder;
use tenpay_merchant_server::{Config, Server, Store};
use tenpay_sign::{ApiKey, SignType};
use tenpay_xml::{Fen, XmlMap};

fn notification(no: &str, i: usize, key: &ApiKey) -> String {
    let mut m = XmlMap::new();
    let tx = format!("42000{i:023}");
    for (k, v) in [
        ("appid", DEMO_APPID),
        ("bank_type", "CFT"),
        ("cash_fee", "888"),
        ("fee_type", "CNY"),
        ("is_subscribe", "N"),
        ("mch_id", DEMO_MCH_ID),
        ("nonce_str", "5d2b6c2a8db53831f7eda20af46e531c"),
        ("openid", "oUpF8uMEb4qRXf22hE3X68TekukE"),
        ("out_trade_no", no),
        ("result_code", "SUCCESS"),
        ("return_code", "SUCCESS"),
        ("sign_type", "HMAC-SHA256"),
        ("time_end", "20261201120000"),
        ("total_fee", "888"),
        ("trade_type", "APP"),
        ("transaction_id", tx.as_str()),
    ] {
        m.insert(k, v).unwrap();
    }
    m.sign(key, SignType::HmacSha256).unwrap();
    m.to_xml()
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .expect("usage: notify_load DATABASE_URL [ORDERS] [CONCURRENCY]");
    let orders: usize = args.get(2).map_or(20_000, |s| s.parse().unwrap());
    let concurrency: usize = args.get(3).map_or(64, |s| s.parse().unwrap());
    let db = DatabaseUrl::new(url.clone()).unwrap();
    let store = Store::connect(&db).await.unwrap();
    let run = uuid::Uuid::new_v4().simple().to_string();
    let prefix = &run[..10];
    let key = ApiKey::new(DEMO_KEY).unwrap();
    let mut bodies = Vec::with_capacity(orders);
    let setup = Instant::now();
    for i in 0..orders {
        let no = OrderNo::new(format!("L{prefix}{i:08}")).unwrap();
        store
            .insert_order(&NewOrder {
                order_no: no.clone(),
                user_id: "load".into(),
                item: "load".into(),
                description: "load".into(),
                amount: Fen::new(888),
                trade_type: tenpay_merchant_server::domain::TradeType::App,
                openid: None,
                payer_ip: "127.0.0.1".into(),
                expires_at: i64::MAX / 2,
            })
            .await
            .unwrap();
        store
            .attempt_prepared(&no.first_attempt(), "wx0")
            .await
            .unwrap();
        bodies.push(notification(no.as_str(), i, &key));
    }
    eprintln!("{orders} orders in {:.1} s", setup.elapsed().as_secs_f64());
    let mut servers = Vec::new();
    for _ in 0..2 {
        let mut c = Config::new(
            DEMO_APPID,
            DEMO_MCH_ID,
            key.clone(),
            random_secret(),
            random_secret(),
        );
        c.listen = "127.0.0.1:0".parse().unwrap();
        c.admin_listen = "127.0.0.1:0".parse().unwrap();
        c.database_url = db.clone();
        c.wechat_base_url = "http://127.0.0.1:9".into();
        let _: &Secret = &c.admin_token;
        servers.push(Server::new(c).start().await.unwrap());
    }
    let urls: Vec<String> = servers
        .iter()
        .map(|s| format!("{}/wechat/notify/pay", s.public_url()))
        .collect();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let bodies = Arc::new(bodies);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, urls, bodies, next) = (
            http.clone(),
            urls.clone(),
            Arc::clone(&bodies),
            Arc::clone(&next),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= bodies.len() {
                    return latencies;
                }
                let t = Instant::now();
                let r = http
                    .post(&urls[i % 2])
                    .body(bodies[i].clone())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                let _ = r.bytes().await.unwrap();
                latencies.push(t.elapsed());
            }
        }));
    }
    let mut all: Vec<Duration> = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    println!(
        "notify end to end, PostgreSQL, 2 instances, {concurrency} concurrent: {orders} notifications in {:.2} s = {:.0}/s; p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        elapsed.as_secs_f64(),
        orders as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        all.last().unwrap().as_secs_f64() * 1e3,
    );
    let mut paid = 0;
    for i in [0, orders / 2, orders - 1] {
        let o = store
            .order(&OrderNo::new(format!("L{prefix}{i:08}")).unwrap())
            .await
            .unwrap()
            .unwrap();
        paid += usize::from(o.state.as_str() == "PAID");
    }
    assert_eq!(paid, 3, "sampled orders are PAID");
    for s in servers {
        s.shutdown().await;
    }
}
