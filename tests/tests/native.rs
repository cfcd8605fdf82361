//! Native payment mode 1 end to end: the merchant makes a product's signed QR URL and
//! shortens it (`/tools/shorturl`); the simulator's payer scans the short link; the scan
//! callback reaches the merchant's HTTP server, which verifies it (tenpay-notify), prices
//! the product, places a NATIVE order for the payer and answers with the signed prepay id;
//! the payer pays it.
#![allow(clippy::unwrap_used, missing_docs)]

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tenpay_client::{
    Client, Merchant, OrderQuery, OutTradeNo, ShortUrl, TradeState, UnifiedOrder, native_url,
};
use tenpay_notify::{Notifier, ScanAnswer, nack};
use tenpay_sign::{ApiKey, SignType};
use tenpay_sim::{MerchantAccount, PayOptions, Refusal, SimHandle, Simulator};
use tenpay_xml::{Fen, ProductId, XmlMap};

const APPID: &str = "wx2421b1c4370ec43b";
const MCH: &str = "10000100";
const KEY: &str = "192006250b4c09247ec02edce69f6a2d";

/// The merchant's scan callback: verify, price, order, answer. What it saw is kept.
#[derive(Clone)]
struct Shop {
    notifier: Notifier,
    client: Client,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Shop {
    async fn answer(&self, body: &[u8]) -> Vec<u8> {
        let scan = match self.notifier.scan(body) {
            Ok(s) => s,
            Err(e) => {
                self.seen.lock().unwrap().push(format!("refused: {e}"));
                return nack("bad scan callback");
            }
        };
        self.seen
            .lock()
            .unwrap()
            .push(format!("scan {} by {}", scan.product_id(), scan.openid()));
        let nonce = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS";
        let price = match scan.product_id().as_str() {
            "coffee" => Fen::new(1500),
            _ => {
                return self
                    .notifier
                    .scan_reply(&scan, ScanAnswer::Refuse("sold out"), nonce)
                    .unwrap();
            }
        };
        let no = OutTradeNo::new(format!("N{}", self.seen.lock().unwrap().len())).unwrap();
        let order = UnifiedOrder::native(
            "Coffee",
            no,
            price,
            "127.0.0.1",
            "http://127.0.0.1:9/notify",
            scan.product_id().as_str(),
        )
        .scanned_by(scan.openid());
        let placed = self.client.unified_order(&order).await.unwrap();
        self.notifier
            .scan_reply(&scan, ScanAnswer::Prepay(&placed.prepay_id), nonce)
            .unwrap()
    }
}

async fn setup() -> (SimHandle, Client, Arc<Mutex<Vec<String>>>, Merchant) {
    let key = ApiKey::new(KEY).unwrap();
    let merchant = Merchant::new(APPID, MCH, key.clone(), SignType::HmacSha256);
    // The callback URL is known before the simulator starts: bind first, answer later.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sim = Simulator::builder()
        .merchant(
            MerchantAccount::new(APPID, MCH, key)
                .scan_callback_url(format!("http://{addr}/wechat/scan")),
        )
        .start()
        .await
        .unwrap();
    let client = Client::builder(merchant.clone())
        .base_url(sim.base_url())
        .build()
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let shop = Shop {
        notifier: Notifier::new(&merchant),
        client: client.clone(),
        seen: Arc::clone(&seen),
    };
    serve(shop, listener);
    (sim, client, seen, merchant)
}

fn serve(shop: Shop, listener: tokio::net::TcpListener) {
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let shop = shop.clone();
            let svc = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                let shop = shop.clone();
                async move {
                    let body = Limited::new(req.into_body(), 64 * 1024)
                        .collect()
                        .await
                        .map(http_body_util::Collected::to_bytes)
                        .unwrap_or_default();
                    let reply = shop.answer(&body).await;
                    Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from(reply))))
                }
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc),
            );
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scanned_product_code_becomes_a_paid_native_order() {
    let (sim, client, seen, _) = setup().await;
    let long = client.native_url(&ProductId::new("coffee").unwrap());
    assert!(long.starts_with("weixin://wxpay/bizpayurl?appid=wx2421b1c4370ec43b&mch_id=10000100&"));
    // The short link: signed over the raw URL, sent URL-encoded, the same each time.
    let short = client.short_url(&ShortUrl::new(&long)).await.unwrap();
    assert!(
        short.short_url.starts_with("weixin://wxpay/s/"),
        "{short:?}"
    );
    let again = client.short_url(&ShortUrl::new(&long)).await.unwrap();
    assert_eq!(again.short_url, short.short_url);

    let order = sim
        .scan(&short.short_url, "oPayer0000000000000000000001")
        .await
        .unwrap();
    assert_eq!(order.trade_type, "NATIVE");
    assert_eq!(order.total_fee.get(), 1500);
    assert_eq!(order.trade_state, "NOTPAY");
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        ["scan coffee by oPayer0000000000000000000001"]
    );
    sim.pay(&order.out_trade_no, &PayOptions::new()).unwrap();
    let q = client
        .order_query(&OrderQuery::by_out_trade_no(
            OutTradeNo::new(&order.out_trade_no).unwrap(),
        ))
        .await
        .unwrap();
    assert_eq!(q.trade_state, TradeState::Success);
    // The long URL scans as well.
    let second = sim
        .scan(&long, "oPayer0000000000000000000002")
        .await
        .unwrap();
    assert_ne!(second.out_trade_no, order.out_trade_no);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_code_a_refusal_and_a_forged_callback_place_no_order() {
    let (sim, client, seen, merchant) = setup().await;
    let scan_refusal = |r: Result<tenpay_sim::OrderView, tenpay_sim::Error>| match r {
        Err(tenpay_sim::Error::Refused(Refusal::Scan { reason })) => reason,
        other => panic!("expected a scan refusal, got {other:?}"),
    };
    // Another product's URL with its product_id changed: the signature no longer verifies,
    // and the merchant is never called.
    let url = client.native_url(&ProductId::new("coffee").unwrap());
    let forged = url.replace("product_id=coffee", "product_id=caviar");
    let why = scan_refusal(sim.scan(&forged, "oPayer").await);
    assert!(why.contains("signature"), "{why}");
    // Signed with another key: the same.
    let other = Merchant::new(
        APPID,
        MCH,
        ApiKey::new("another-merchant-key-000000000000").unwrap(),
        SignType::Md5,
    );
    let why = scan_refusal(
        sim.scan(
            &native_url(&other, &ProductId::new("coffee").unwrap(), 1, "n"),
            "oPayer",
        )
        .await,
    );
    assert!(why.contains("signature"), "{why}");
    assert!(seen.lock().unwrap().is_empty());
    // The merchant refuses a product it does not sell: a signed FAIL, no order.
    let why = scan_refusal(
        sim.scan(
            &native_url(&merchant, &ProductId::new("sold-out").unwrap(), 1, "n"),
            "oPayer",
        )
        .await,
    );
    assert!(why.contains("sold out"), "{why}");
    assert!(sim.orders().is_empty());
    // An unknown short link.
    let why = scan_refusal(sim.scan("weixin://wxpay/s/nothing", "oPayer").await);
    assert!(why.contains("short link"), "{why}");
    sim.shutdown().await;

    // A callback the merchant receives signed with another key is refused (nack), before
    // any order: tenpay-notify checks the signature, unlike some peers.
    let notifier = Notifier::new(&merchant);
    let mut forged = XmlMap::new();
    for (k, v) in [
        ("appid", APPID),
        ("mch_id", MCH),
        ("openid", "oPayer"),
        ("is_subscribe", "N"),
        ("nonce_str", "n"),
        ("product_id", "coffee"),
    ] {
        forged.insert(k, v).unwrap();
    }
    forged.sign(other.key(), SignType::Md5).unwrap();
    assert!(notifier.scan(forged.to_xml().as_bytes()).is_err());
    forged.remove("sign");
    forged.sign(merchant.key(), SignType::Md5).unwrap();
    assert_eq!(
        notifier
            .scan(forged.to_xml().as_bytes())
            .unwrap()
            .product_id()
            .as_str(),
        "coffee"
    );
}
