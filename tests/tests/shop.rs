//! The reference server as a shop (review t3 #3, #4, #7, #12): the merchant's price, a cancel
//! that is final, limits per user and per peer, and session tokens that end.

mod common;

use common::{init, temp_db, token, unix_now};
use serde_json::{Value, json};
use tenpay_merchant_server::Server;
use tenpay_merchant_server::simulator::{config_for, start_simulator};

/// The demo catalogue prices every order: a 1-fen iPhone is refused, and an order without a
/// shown price is charged the catalogue's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_price_is_the_merchants() {
    init();
    let sim = start_simulator(1000).await.unwrap();
    let config = config_for(&sim, &temp_db("price")).unwrap();
    let server = Server::new(config).start().await.unwrap();
    let http = reqwest::Client::new();
    let alice = token(&server, "alice");
    let create = |body: Value| {
        let (http, url, alice) = (
            http.clone(),
            format!("{}/orders", server.public_url()),
            alice.clone(),
        );
        async move {
            let r = http
                .post(url)
                .bearer_auth(alice)
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    // The app's 1 fen is not the price: refused, nothing stored or sent.
    let (status, v) =
        create(json!({ "item": "iphone-16-pro", "amount_fen": 1, "trade_type": "NATIVE" })).await;
    assert_eq!(status, 409, "{v}");
    assert_eq!(v["error"], "price_changed");
    assert!(v["reason"].as_str().unwrap().contains("799900"), "{v}");
    assert!(sim.orders().is_empty());
    // Without a shown price: the catalogue's amount and description.
    let (status, v) = create(json!({ "item": "iphone-16-pro", "trade_type": "NATIVE" })).await;
    assert_eq!(status, 201, "{v}");
    let no = v["out_trade_no"].as_str().unwrap();
    let at_wechat = sim.order(no).unwrap();
    assert_eq!(at_wechat.total_fee.get(), 799_900);
    let books = server.store().order(no).await.unwrap().unwrap();
    assert_eq!(
        (books.amount.get(), books.description.as_str()),
        (799_900, "iPhone 16 Pro")
    );
    // The shown price, when it is the price.
    let (status, v) =
        create(json!({ "item": "coffee", "amount_fen": 1500, "trade_type": "APP" })).await;
    assert_eq!(status, 201, "{v}");
    // An item the catalogue does not have.
    let (status, v) = create(json!({ "item": "free-lunch", "trade_type": "APP" })).await;
    assert_eq!(
        (status, v["error"].clone()),
        (422, json!("no_price")),
        "{v}"
    );
    assert_eq!(sim.orders().len(), 2);
    server.shutdown().await;
    sim.shutdown().await;
}

/// A server with neither a catalogue nor a pricing does not start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_prices_no_server() {
    init();
    let sim = start_simulator(1000).await.unwrap();
    let mut config = config_for(&sim, &temp_db("noprice")).unwrap();
    config.catalogue = None;
    let e = Server::new(config).start().await.unwrap_err();
    assert!(e.to_string().contains("CATALOGUE_FILE"), "{e}");
    sim.shutdown().await;
    let _ = unix_now();
}
