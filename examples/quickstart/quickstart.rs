//! The quickstart: one APP order through create, pay, notify, query, refund and refund notify,
//! against an in-process WeChat Pay simulator and the reference merchant server.
//!
//! `cargo run --example quickstart` (add `-- --serve` to keep both running afterwards).

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tenpay_merchant_server::auth::UserId;
use tenpay_merchant_server::{Server, simulator};
use tenpay_sim::PayOptions;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

#[tokio::main]
async fn main() -> Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let serve = std::env::args().any(|a| a == "--serve");
    let db_path = std::env::temp_dir().join(format!("tenpay-quickstart-{}.db", std::process::id()));
    let db_url = format!("sqlite://{}", db_path.display());

    step(
        1,
        "start WeChat Pay (the simulator) and the merchant server on free ports",
    );
    let sim = simulator::start_simulator(1000).await?;
    let config = simulator::config_for(&sim, &db_url)?;
    let admin_token = config.admin_token.expose().to_owned();
    let server = Server::new(config).start().await?;
    println!(
        "   simulator:       {} (TLS {})",
        sim.base_url(),
        sim.tls_base_url().unwrap_or_default()
    );
    println!(
        "   merchant server: public {} (notify URLs, the app's API), admin {} (back office)",
        server.public_url(),
        server.admin_url()
    );
    println!("   orders in {}", db_path.display());
    // The app's user signs in; your login endpoint would issue this token.
    let user = UserId::new("demo-user")?;
    let app_token = server.session_tokens().issue(&user, unix_now() + 3600);
    let http = reqwest::Client::new();
    let base = server.public_url();
    let admin = server.admin_url();

    step(
        2,
        "the app asks the merchant server for an order: POST /orders",
    );
    let created: Value = http
        .post(format!("{base}/orders"))
        .bearer_auth(&app_token)
        // The price is the server's (its catalogue: catalogue.example.json); the app may send
        // the price it showed, and a different one is refused rather than charged.
        .json(&json!({ "item": "vip-month", "amount_fen": 888, "trade_type": "APP" }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let no = created["order_no"]
        .as_str()
        .ok_or("no order_no")?
        .to_owned();
    println!(
        "   the server priced vip-month from its catalogue (catalogue.example.json: 888 fen), stored order {no} and called unifiedorder: prepay_id {}",
        created["prepay_id"]
    );
    println!(
        "   signed APP pay parameters for the WeChat SDK: {}",
        created["pay"]
    );

    step(3, "the user pays in WeChat (the simulator plays the user)");
    sim.pay(&no, &PayOptions::new())?;

    step(
        4,
        "WeChat Pay notifies the merchant server; it verifies, checks the amount, stores, acks",
    );
    let order = match wait_for(&http, &app_token, &format!("{base}/orders/{no}"), |o| {
        o["state"] == "PAID"
    })
    .await
    {
        Ok(o) => o,
        Err(e) => {
            eprintln!("notification attempts: {:#?}", sim.deliveries());
            return Err(e);
        }
    };
    let delivery = sim
        .deliveries()
        .into_iter()
        .find(|d| d.out_trade_no == no)
        .ok_or("no delivery")?;
    println!(
        "   notification delivered in {} attempt(s), acknowledged: {}; order is {} (transaction {})",
        delivery.attempts.len(),
        delivery.acknowledged,
        order["state"],
        order["transaction_id"]
    );

    step(
        5,
        "the app checks the order: GET /orders/{no}?refresh=true (orderquery)",
    );
    let order: Value = http
        .get(format!("{base}/orders/{no}?refresh=true"))
        .bearer_auth(&app_token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    println!(
        "   state {} for {} fen",
        order["state"], order["amount_fen"]
    );

    step(
        6,
        "the back office refunds part of it: POST /orders/{no}/refunds on the admin listener (secapi, client certificate)",
    );
    let refund: Value = http
        .post(format!("{admin}/orders/{no}/refunds"))
        .bearer_auth(&admin_token)
        .json(&json!({ "amount_fen": 300, "reason": "partial refund" }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    println!(
        "   refund {} accepted: refund_id {}",
        refund["out_refund_no"], refund["refund_id"]
    );

    step(
        7,
        "WeChat Pay completes the refund and sends the encrypted refund notification",
    );
    let order = wait_for(&http, &app_token, &format!("{base}/orders/{no}"), |o| {
        o["state"] == "PARTIALLY_REFUNDED"
    })
    .await?;
    println!(
        "   refund {}: {}",
        order["refunds"][0]["out_refund_no"], order["refunds"][0]["state"]
    );

    step(8, "final state");
    println!(
        "   order {no}: {} — paid {} fen, refunded {} fen",
        order["state"], order["amount_fen"], order["refunded_fen"]
    );
    let audit = server.store().audit(Some(&no)).await?;
    for row in &audit {
        println!("   audit: {} notification → {}", row.kind, row.verdict);
    }

    if serve {
        println!("\nBoth keep running (Ctrl-C stops them). Try:");
        println!("  APP='Authorization: Bearer {app_token}'");
        println!("  ADMIN='Authorization: Bearer {admin_token}'");
        println!(
            "  curl -s -XPOST {base}/orders -H \"$APP\" -H 'content-type: application/json' -d '{{\"item\":\"coffee\",\"trade_type\":\"NATIVE\"}}'"
        );
        println!(
            "  curl -s -XPOST {}/orders/OUT_TRADE_NO/pay",
            sim.control_url()
        );
        println!("  curl -s -H \"$APP\" {base}/orders/OUT_TRADE_NO");
        println!(
            "  curl -s -XPOST -H \"$ADMIN\" -H 'content-type: application/json' -d '{{\"amount_fen\":100}}' {admin}/orders/OUT_TRADE_NO/refunds"
        );
        println!("  curl -s -H \"$ADMIN\" {admin}/anomalies");
        println!("  curl -s {}/deliveries", sim.control_url());
        let _ = tokio::signal::ctrl_c().await;
    }
    server.shutdown().await;
    sim.shutdown().await;
    let _ = std::fs::remove_file(&db_path);
    println!("\ndone.");
    Ok(())
}

fn step(n: u32, what: &str) {
    println!("\n{n}. {what}");
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

async fn wait_for(
    http: &reqwest::Client,
    token: &str,
    url: &str,
    done: impl Fn(&Value) -> bool,
) -> Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let v: Value = http
            .get(url)
            .bearer_auth(token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        if done(&v) {
            return Ok(v);
        }
        if Instant::now() > deadline {
            return Err(format!("timed out waiting at {url}: {v}").into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
