//! What the end-to-end tests share: the simulator and a merchant server on a fresh database,
//! an app user's and the back office's HTTP calls.
#![allow(dead_code, clippy::unwrap_used, unreachable_pub)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tenpay_merchant_server::auth::UserId;
use tenpay_merchant_server::pricing::{Price, PriceRefusal};
use tenpay_merchant_server::simulator::{
    DEMO_APPID, DEMO_KEY, DEMO_MCH_ID, config_for, start_simulator,
};
use tenpay_merchant_server::{Config, Running, Server};
use tenpay_sign::{ApiKey, SignType};
use tenpay_sim::SimHandle;
use tenpay_xml::XmlMap;

pub fn init() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub fn temp_db(name: &str) -> String {
    let path = temp_db_path(name);
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(format!("{}-wal", path.display()));
    let _ = std::fs::remove_file(format!("{}-shm", path.display()));
    format!("sqlite://{}", path.display())
}

pub fn temp_db_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("tenpay-e2e-{name}-{}.db", std::process::id()))
}

/// The simulator, a server, and the tokens to call it.
pub struct Env {
    pub sim: SimHandle,
    pub server: Running,
    pub config: Config,
    pub http: reqwest::Client,
    /// The app user `alice`'s token.
    pub alice: String,
}

/// The simulator (time scale 1000) and a server on `database_url`, with `tweak` applied to
/// its configuration.
pub async fn start_with(database_url: &str, tweak: impl FnOnce(&mut Config)) -> Env {
    init();
    let sim = start_simulator(1000).await.unwrap();
    let mut config = config_for(&sim, database_url).unwrap();
    // The tests make many calls as one user from one address; shop.rs tests the limits.
    let wide = tenpay_merchant_server::http::throttle::Rate::new(1_000_000, 1_000_000);
    config.rate_limits.per_user = wide;
    config.rate_limits.per_ip = wide;
    tweak(&mut config);
    let server = Server::new(config.clone())
        .pricing(test_prices)
        .start()
        .await
        .unwrap();
    let alice = token(&server, "alice");
    Env {
        sim,
        server,
        config,
        http: reqwest::Client::new(),
        alice,
    }
}

pub async fn start(db_name: &str) -> Env {
    start_with(&temp_db(db_name), |_| {}).await
}

/// The tests' prices: item `fen-N` costs N fen; `bad-H` costs 5 fen with a description that
/// holds the character U+H (which the server must refuse); anything else is unknown.
pub fn test_prices(_: &UserId, item: &str) -> Result<Price, PriceRefusal> {
    if let Some(n) = item.strip_prefix("fen-").and_then(|n| n.parse().ok()) {
        return Ok(Price {
            amount: tenpay_xml::Fen::new(n),
            description: format!("测试商品 {n}"),
        });
    }
    let bad = item
        .strip_prefix("bad-")
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .and_then(char::from_u32);
    if let Some(c) = bad {
        return Ok(Price {
            amount: tenpay_xml::Fen::new(5),
            description: format!("bad{c}char"),
        });
    }
    Err(PriceRefusal::UnknownItem(item.to_owned()))
}

pub fn token(server: &Running, user: &str) -> String {
    server
        .session_tokens()
        .issue(&UserId::new(user).unwrap(), unix_now() + 3600)
}

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

impl Env {
    pub fn admin_token(&self) -> &str {
        self.config.admin_token.expose()
    }

    /// `POST /orders` as `token`'s user: (status, body).
    pub async fn create_as(&self, token: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/orders", self.server.public_url()))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// `POST /orders` as alice; asserts 201.
    pub async fn create(&self, body: Value) -> Value {
        let (status, v) = self.create_as(&self.alice.clone(), body).await;
        assert_eq!(status, 201, "{v}");
        v
    }

    /// Creates an order as alice and returns its out_trade_no.
    pub async fn new_order(&self, amount_fen: u64, trade_type: &str) -> String {
        let body = json!({ "item": format!("fen-{amount_fen}"), "amount_fen": amount_fen, "trade_type": trade_type });
        self.create(body).await["order_no"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The order as the back office sees it.
    pub async fn order(&self, no: &str) -> Value {
        self.admin_get(&format!("/orders/{no}")).await.1
    }

    /// The back office's `/metrics` text.
    pub async fn metrics(&self) -> String {
        self.http
            .get(format!("{}/metrics", self.server.admin_url()))
            .bearer_auth(self.admin_token())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub async fn admin_get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.server.admin_url()))
            .bearer_auth(self.admin_token())
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    pub async fn admin_post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.server.admin_url()))
            .bearer_auth(self.admin_token())
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// `POST /orders/{no}/refunds` on the back office: (status, body).
    pub async fn refund(&self, no: &str, body: Value) -> (u16, Value) {
        self.admin_post(&format!("/orders/{no}/refunds"), body)
            .await
    }

    /// `n` identical refund requests at once on the back office; their statuses.
    pub async fn refunds_at_once(&self, no: &str, body: Value, n: usize) -> Vec<u16> {
        let url = format!("{}/orders/{no}/refunds", self.server.admin_url());
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let (http, token, url, body) = (
                    self.http.clone(),
                    self.admin_token().to_owned(),
                    url.clone(),
                    body.clone(),
                );
                tokio::spawn(async move {
                    let r = http.post(url).bearer_auth(token).json(&body).send().await;
                    r.unwrap().status().as_u16()
                })
            })
            .collect();
        let mut statuses = Vec::with_capacity(n);
        for t in tasks {
            statuses.push(t.await.unwrap());
        }
        statuses
    }

    pub async fn wait_state(&self, no: &str, state: &str) -> Value {
        self.wait_for(no, |o| o["state"] == state).await
    }

    pub async fn wait_for(&self, no: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let o = self.order(no).await;
            if done(&o) {
                return o;
            }
            assert!(Instant::now() < deadline, "order {no} never got there: {o}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub async fn pay(&self, no: &str) {
        self.sim.pay(no, &tenpay_sim::PayOptions::new()).unwrap();
        self.wait_state(no, "PAID").await;
    }

    /// POSTs a body to a notify URL: (status, reply).
    pub async fn notify(&self, kind: &str, body: String) -> (u16, String) {
        let r = self
            .http
            .post(format!("{}/wechat/notify/{kind}", self.server.public_url()))
            .body(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// The sum of the simulator's SUCCESS refunds of an order.
    pub fn sim_refunded(&self, no: &str) -> u64 {
        self.sim
            .order(no)
            .unwrap()
            .refunds
            .iter()
            .filter(|r| r.refund_status == "SUCCESS")
            .map(|r| r.refund_fee.get())
            .sum()
    }

    pub async fn stop(self) {
        self.server.shutdown().await;
        self.sim.shutdown().await;
    }
}

/// A pay notification for `no`, signed with `key` (the merchant's: as WeChat Pay signs it),
/// or unsigned.
pub fn pay_notification(
    no: &str,
    total_fee: u64,
    transaction_id: &str,
    key: Option<&str>,
) -> String {
    let mut m = XmlMap::new();
    let fee = total_fee.to_string();
    for (k, v) in [
        ("return_code", "SUCCESS"),
        ("appid", DEMO_APPID),
        ("mch_id", DEMO_MCH_ID),
        ("nonce_str", "forged0000000000000000000000000"),
        ("result_code", "SUCCESS"),
        ("total_fee", fee.as_str()),
        ("transaction_id", transaction_id),
        ("out_trade_no", no),
        ("trade_type", "APP"),
        ("sign_type", "HMAC-SHA256"),
    ] {
        m.insert(k, v).unwrap();
    }
    if let Some(k) = key {
        m.sign(&ApiKey::new(k).unwrap(), SignType::HmacSha256)
            .unwrap();
    }
    m.to_xml()
}

pub fn demo_key() -> &'static str {
    DEMO_KEY
}

/// The faults that leave an answer open: what the randomized fault-sequence tests draw from,
/// with the codes each adds.
pub fn open_faults() -> Vec<tenpay_sim::FaultKind> {
    use tenpay_sim::FaultKind::*;
    vec![
        SystemError,
        SystemErrorAfterProcessing,
        Drop,
        Http500,
        Html,
        Truncated,
        BadSignature,
    ]
}

/// A `result_code=FAIL` fault with `code`.
pub fn business(code: &str) -> tenpay_sim::FaultKind {
    tenpay_sim::FaultKind::BusinessError {
        err_code: code.into(),
    }
}

/// Serves a notify service (V2's or v3's) on a fresh loopback port with hyper: its address.
pub async fn serve_notify<H, V>(service: tenpay_notify::NotifyService<H, V>) -> std::net::SocketAddr
where
    V: tenpay_notify::Verify,
    H: tenpay_notify::Handler<tenpay_notify::Delivery<V::Notification, V::Error>>,
{
    use hyper_util::rt::TokioIo;
    use hyper_util::service::TowerToHyperService;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
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
    addr
}
