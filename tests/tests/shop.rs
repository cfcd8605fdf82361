//! The reference server as a shop (review t3 #3, #4, #7, #12): the merchant's price, a cancel
//! that is final, limits per user and per peer, and session tokens that end.

mod common;

use common::{init, start_with, temp_db, token, unix_now};
use serde_json::{Value, json};
use tenpay_merchant_server::Server;
use tenpay_merchant_server::http::throttle::Rate;
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
    let no = v["order_no"].as_str().unwrap();
    let at_wechat = sim.order(no).unwrap();
    assert_eq!(at_wechat.total_fee.get(), 799_900);
    let number = tenpay_merchant_server::domain::OrderNo::new(no).unwrap();
    let books = server.store().order(&number).await.unwrap().unwrap();
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

/// One user, then one address, runs out of calls that reach WeChat Pay: 429 with
/// `Retry-After`, counted in `/metrics`; other users and addresses are not affected, and the
/// refused calls reach neither the store nor WeChat Pay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_user_starves_the_rest() {
    let env = start_with(&temp_db("rate"), |c| {
        c.rate_limits.per_user = Rate::new(1, 3);
        c.rate_limits.per_ip = Rate::new(1, 8);
    })
    .await;
    let order = json!({ "item": "fen-100", "trade_type": "NATIVE" });
    let post = |t: String| {
        let (http, url, body) = (
            env.http.clone(),
            format!("{}/orders", env.server.public_url()),
            order.clone(),
        );
        async move {
            http.post(url)
                .bearer_auth(t)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(post(env.alice.clone()).await.status().as_u16());
    }
    assert_eq!(statuses, [201, 201, 201]);
    let limited = post(env.alice.clone()).await;
    assert_eq!(limited.status(), 429);
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["error"], "rate_limited", "{body}");
    // Attempts and ?refresh=true draw from the same bucket.
    let no = env.sim.orders()[0].out_trade_no.clone();
    let r = env
        .http
        .post(format!("{}/orders/{no}/attempts", env.server.public_url()))
        .bearer_auth(&env.alice)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let r = env
        .http
        .get(format!(
            "{}/orders/{no}?refresh=true",
            env.server.public_url()
        ))
        .bearer_auth(&env.alice)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    // Reading without asking WeChat Pay is not limited.
    let r = env
        .http
        .get(format!("{}/orders/{no}", env.server.public_url()))
        .bearer_auth(&env.alice)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Other users from the same address, until the address's bucket (8) is empty too: every
    // call from it counts, alice's refused ones included (3 + 3 + 2).
    let mut others = Vec::new();
    for i in 0..4 {
        others.push(
            post(token(&env.server, &format!("user{i}")))
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(others, [201, 201, 429, 429]);
    assert_eq!(
        env.sim.orders().len(),
        5,
        "refused calls never reached WeChat Pay"
    );
    let metrics = env.metrics().await;
    assert!(
        metrics.contains("tenpay_app_rate_limited_total{scope=\"user\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tenpay_app_rate_limited_total{scope=\"ip\"} 2"),
        "{metrics}"
    );
    env.stop().await;
}

/// Session tokens end (review t3 #12): a token claiming a longer life than the maximum is
/// refused, and revoking a user in the back office refuses their earlier tokens on every
/// instance sharing the database, while a token issued afterwards is good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_tokens_have_a_maximum_lifetime_and_can_be_revoked_on_every_instance() {
    let env = start_with(&temp_db("sessions"), |c| {
        c.session_max_lifetime = std::time::Duration::from_secs(3600);
    })
    .await;
    let second = Server::new(env.config.clone())
        .pricing(common::test_prices)
        .start()
        .await
        .unwrap();
    let get = |base: String, t: String| {
        let http = env.http.clone();
        async move {
            http.get(format!("{base}/orders/NONE"))
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let (a, b) = (env.server.public_url(), second.public_url());
    let mallory = tenpay_merchant_server::auth::UserId::new("mallory").unwrap();
    // The review's token, good until the year 292277026596.
    let forever = env.server.session_tokens().issue(&mallory, i64::MAX);
    assert_eq!(get(a.clone(), forever).await, 401);
    let too_long = env
        .server
        .session_tokens()
        .issue(&mallory, unix_now() + 3601 + 5);
    assert_eq!(get(a.clone(), too_long).await, 401);
    let good = env
        .server
        .session_tokens()
        .issue(&mallory, unix_now() + 3000);
    // 404: authenticated, and the order does not exist.
    assert_eq!(get(a.clone(), good.clone()).await, 404);
    assert_eq!(get(b.clone(), good.clone()).await, 404);
    let alices = env.alice.clone();
    let (status, v) = env.admin_post("/users/mallory/revoke", json!({})).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        get(a.clone(), good.clone()).await,
        401,
        "refused at once here"
    );
    let started = std::time::Instant::now();
    while get(b.clone(), good.clone()).await != 401 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the other instance never learned of the revocation"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Other users keep their sessions; mallory signs in again.
    assert_eq!(get(a.clone(), alices).await, 404);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let again = env
        .server
        .session_tokens()
        .issue(&mallory, unix_now() + 3000);
    assert_eq!(get(b.clone(), again.clone()).await, 404);
    // A restarted instance reads the revocation before its first request.
    second.shutdown().await;
    let third = Server::new(env.config.clone())
        .pricing(common::test_prices)
        .start()
        .await
        .unwrap();
    assert_eq!(get(third.public_url(), good).await, 401);
    assert_eq!(get(third.public_url(), again).await, 404);
    // A token padded with spaces is not the token.
    let padded = env
        .http
        .get(format!("{}/metrics", env.server.admin_url()))
        .header("authorization", format!("Bearer  {} ", env.admin_token()))
        .send()
        .await
        .unwrap();
    assert_eq!(padded.status(), 401);
    third.shutdown().await;
    env.stop().await;
}

/// Native mode 1 at the reference server: the back office gives an item's signed QR URL; a
/// scan callback (as WeChat Pay posts it) becomes a NATIVE order for that payer at the
/// server's price, answered with the signed prepay id; a product the server does not sell is
/// refused in a signed answer; a forged callback gets FAIL and places nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scanned_product_becomes_a_native_order_at_the_servers_price() {
    use tenpay_sign::{ApiKey, SignType};
    use tenpay_xml::XmlMap;
    let env = start_with(&temp_db("scan"), |_| {}).await;
    let (status, v) = env.admin_get("/products/fen-1234/native_url").await;
    assert_eq!(status, 200, "{v}");
    let url = v["native_url"].as_str().unwrap();
    assert!(url.starts_with("weixin://wxpay/bizpayurl?") && url.contains("product_id=fen-1234"));

    let key = ApiKey::new(common::demo_key()).unwrap();
    let callback = |product: &str, key: &ApiKey| {
        let mut m = XmlMap::new();
        for (k, v) in [
            ("appid", tenpay_merchant_server::simulator::DEMO_APPID),
            ("mch_id", tenpay_merchant_server::simulator::DEMO_MCH_ID),
            ("openid", "oScanner00000000000000000001"),
            ("is_subscribe", "N"),
            ("nonce_str", "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"),
            ("product_id", product),
        ] {
            m.insert(k, v).unwrap();
        }
        m.sign(key, SignType::Md5).unwrap();
        m.to_xml()
    };
    let (status, reply) = env.notify("scan", callback("fen-1234", &key)).await;
    assert_eq!(status, 200);
    let reply = XmlMap::parse(reply.as_bytes()).unwrap();
    reply.verify(&key, SignType::Md5).unwrap();
    assert_eq!(reply.get("result_code"), Some("SUCCESS"), "{reply:?}");
    let prepay_id = reply.get("prepay_id").unwrap();
    let at_wechat = env
        .sim
        .orders()
        .into_iter()
        .find(|o| o.prepay_id.as_deref() == Some(prepay_id))
        .unwrap();
    assert_eq!(
        (at_wechat.trade_type.as_str(), at_wechat.total_fee.get()),
        ("NATIVE", 1234)
    );
    env.pay(&at_wechat.out_trade_no).await;

    let (_, refused) = env.notify("scan", callback("no-such-thing", &key)).await;
    let refused = XmlMap::parse(refused.as_bytes()).unwrap();
    refused.verify(&key, SignType::Md5).unwrap();
    assert_eq!(refused.get("result_code"), Some("FAIL"));
    let other = ApiKey::new("another-merchant-key-000000000000").unwrap();
    let (_, forged) = env.notify("scan", callback("fen-1", &other)).await;
    assert!(forged.contains("FAIL"), "{forged}");
    assert_eq!(
        env.sim.orders().len(),
        1,
        "only the real scan placed an order"
    );
    env.stop().await;
}
