//! API v3 end to end: tenpay-client's v3 client and tenpay-notify's v3 service against
//! tenpay-sim's v3 paths over real HTTP: the whole flow (order, pay, notification, refund,
//! refund notification) in certificate mode and in public-key mode, a certificate rotation
//! mid-run, forged / stale / wrong-serial / downgraded / probe notifications refused, and
//! the refund outcome rule under faults.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tenpay_client::v3::{Client, Error, Order, RefundRequest, RefundStatus};
use tenpay_notify::v3::{Event, Notification, Notifier};
use tenpay_notify::{NotifyService, verified};
use tenpay_sign_v3::{ApiV3Key, KeyRing, PrivateKey, PublicKey, Resource, Signer, answer_message};
use tenpay_sim::v3::{
    PUBLIC_KEY_ID, TEST_APIV3_KEY, TEST_MERCHANT_KEY_PEM, TEST_MERCHANT_SERIAL, V3Signing,
};
use tenpay_sim::{Fault, FaultKind, MerchantAccount, PayOptions, SimHandle, Simulator};
use tenpay_xml::{Fen, OutRefundNo, OutTradeNo, TradeState};

const APPID: &str = "wxd678efh567hg6787";
const MCHID: &str = "1230000109";
/// The WeChat Pay side's test key pair of the official SDKs: the simulator's public key.
const WECHAT_KEY: &str = include_str!(
    "../../crates/tenpay-sign-v3/tests/data/wechatpay-java_wechat_pay_private_key.pem"
);

async fn sim(signing: V3Signing) -> SimHandle {
    common::init();
    Simulator::builder()
        .merchant(
            MerchantAccount::new(
                APPID,
                MCHID,
                tenpay_sign::ApiKey::new("192006250b4c09247ec02edce69f6a2d").unwrap(),
            )
            .test_api_v3()
            .v3_signing(signing),
        )
        .time_scale(1000)
        .start()
        .await
        .unwrap()
}

fn signer() -> Signer {
    Signer::new(
        MCHID,
        TEST_MERCHANT_SERIAL,
        PrivateKey::from_pem(TEST_MERCHANT_KEY_PEM).unwrap(),
    )
    .unwrap()
}

fn client(sim: &SimHandle, keys: &KeyRing) -> tenpay_client::v3::ClientBuilder {
    Client::builder(APPID, signer(), ApiV3Key::new(TEST_APIV3_KEY).unwrap())
        .base_url(sim.base_url())
        .keys(keys.clone())
        .retries(3, Duration::from_millis(20))
}

type Seen = Arc<Mutex<Vec<Notification>>>;

/// The v3 notify service on a real listener; returns its URL and what it saw.
async fn notify_endpoint(keys: &KeyRing, expected: Fen) -> (String, Seen) {
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let notifier = Notifier::new(MCHID, ApiV3Key::new(TEST_APIV3_KEY).unwrap(), keys.clone());
    let kept = Arc::clone(&seen);
    let service = NotifyService::new(
        notifier,
        verified(move |n: Notification| {
            let kept = Arc::clone(&kept);
            async move {
                if let Event::Transaction(paid) = &n.event {
                    // The handler settles against the order's own amount.
                    paid.clone().settle(expected).map_err(|e| e.to_string())?;
                }
                kept.lock().unwrap().push(n);
                Ok::<(), String>(())
            }
        }),
    );
    let addr = common::serve_notify(service).await;
    let url = format!("http://{addr}/wechat/v3/notify");
    (url, seen)
}

async fn wait_for(seen: &Seen, n: usize) {
    for _ in 0..400 {
        if seen.lock().unwrap().len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "{n} notifications expected, {} seen",
        seen.lock().unwrap().len()
    );
}

fn no(s: &str) -> OutTradeNo {
    OutTradeNo::new(s).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_flow_in_certificate_mode() {
    let sim = sim(V3Signing::Certificate).await;
    let keys = KeyRing::default();
    let client = client(&sim, &keys).build().unwrap();
    let certs = client.download_certificates().await.unwrap();
    assert_eq!(certs.len(), 1);
    assert!(keys.current().contains(certs[0].serial().as_str()));
    let (url, seen) = notify_endpoint(&keys, Fen::new(888)).await;

    // JSAPI: a prepay id, and pay parameters signed with the merchant's key.
    let order =
        Order::new("tenpay-sim v3 测试", no("V3CERT0001"), Fen::new(888), &url).attach("a=1");
    let prepay = client
        .jsapi(&order, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
        .await
        .unwrap();
    assert!(prepay.prepay_id.starts_with("wx"));
    let again = client
        .jsapi(&order, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
        .await
        .unwrap();
    assert_eq!(again, prepay, "the same order again is the same prepay id");
    let params = client.jsapi_pay(&prepay).unwrap();
    let message = format!(
        "{APPID}\n{}\n{}\n{}\n",
        params.time_stamp, params.nonce_str, params.package
    );
    signer()
        .key()
        .public_key()
        .verify(message.as_bytes(), &params.pay_sign)
        .unwrap();
    let other = Order::new("another", no("V3CERT0001"), Fen::new(1), &url);
    let used = client
        .jsapi(&other, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
        .await
        .unwrap_err();
    assert_eq!(
        used.api().map(|a| (a.status, a.code.as_str())),
        Some((403, "OUT_TRADE_NO_USED"))
    );

    let t = client.query_order(&no("V3CERT0001")).await.unwrap();
    assert_eq!(
        (t.trade_state.clone(), t.total()),
        (TradeState::NotPay, Some(Fen::new(888)))
    );
    assert_eq!(sim.order("V3CERT0001").unwrap().api, "v3");

    // The payer pays; the notification is verified, decrypted and settled by the service.
    sim.pay("V3CERT0001", &PayOptions::default()).unwrap();
    wait_for(&seen, 1).await;
    let n = seen.lock().unwrap()[0].clone();
    assert_eq!(n.event_type, "TRANSACTION.SUCCESS");
    let Event::Transaction(paid) = &n.event else {
        panic!("a payment")
    };
    assert_eq!(paid.transaction().attach.as_deref(), Some("a=1"));
    let paid_tx = client.query_order(&no("V3CERT0001")).await.unwrap();
    assert_eq!(paid_tx.trade_state, TradeState::Success);
    let by_id = client
        .query_transaction(paid_tx.transaction_id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(by_id.out_trade_no.as_str(), "V3CERT0001");
    assert!(
        sim.deliveries()
            .iter()
            .any(|d| d.acknowledged && d.body.contains("encrypt-resource"))
    );

    // Refund 300 of 888; the refund notification follows.
    let refund = client
        .refund(
            &RefundRequest::new(
                no("V3CERT0001"),
                OutRefundNo::new("V3R0001").unwrap(),
                Fen::new(300),
                Fen::new(888),
            )
            .notify_url(&url),
        )
        .await
        .unwrap();
    assert_eq!(refund.status, RefundStatus::Processing);
    wait_for(&seen, 2).await;
    let n = seen.lock().unwrap()[1].clone();
    let Event::Refund(notice) = &n.event else {
        panic!("a refund")
    };
    assert_eq!(
        (
            notice.refund_status.clone(),
            notice.amount.as_ref().and_then(|a| a.refund)
        ),
        (RefundStatus::Success, Some(Fen::new(300)))
    );
    let done = client
        .query_refund(&OutRefundNo::new("V3R0001").unwrap())
        .await
        .unwrap();
    assert_eq!(done.status, RefundStatus::Success);
    let too_much = client
        .refund(&RefundRequest::new(
            no("V3CERT0001"),
            OutRefundNo::new("V3R0002").unwrap(),
            Fen::new(600),
            Fen::new(888),
        ))
        .await
        .unwrap_err();
    assert_eq!(too_much.api().map(|a| a.code.as_str()), Some("NOT_ENOUGH"));

    // Native and close.
    let code_url = client
        .native(&Order::new("扫码", no("V3CERT0002"), Fen::new(1), &url))
        .await
        .unwrap();
    assert!(code_url.starts_with("weixin://wxpay/bizpayurl"));
    client.close_order(&no("V3CERT0002")).await.unwrap();
    assert_eq!(
        client
            .query_order(&no("V3CERT0002"))
            .await
            .unwrap()
            .trade_state,
        TradeState::Closed
    );
    let missing = client.query_order(&no("V3NOSUCH01")).await.unwrap_err();
    assert_eq!(
        missing.api().map(|a| (a.status, a.code.as_str())),
        Some((404, "ORDER_NOT_EXIST"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_key_mode_needs_no_certificate() {
    let sim = sim(V3Signing::PublicKey).await;
    let (id, pem) = sim.v3_public_key();
    assert_eq!(id, PUBLIC_KEY_ID);
    let keys = KeyRing::default();
    let client = client(&sim, &keys)
        .public_key(id, PublicKey::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let none = client.download_certificates().await.unwrap_err();
    assert_eq!(
        none.api().map(|a| (a.status, a.code.as_str())),
        Some((404, "RESOURCE_NOT_EXISTS"))
    );
    // A sensitive field is sealed to the public key, and named by its id.
    let (to, sealed) = client.encrypt_field("张三").unwrap();
    assert_eq!(to.as_str(), PUBLIC_KEY_ID);
    assert_eq!(
        PrivateKey::from_pem(WECHAT_KEY)
            .unwrap()
            .decrypt(&sealed)
            .unwrap(),
        "张三"
    );
    let (url, seen) = notify_endpoint(&keys, Fen::new(100)).await;
    let code_url = client
        .native(&Order::new(
            "公钥模式",
            no("V3PUB00001"),
            Fen::new(100),
            &url,
        ))
        .await
        .unwrap();
    assert!(code_url.starts_with("weixin://"));
    sim.pay("V3PUB00001", &PayOptions::default()).unwrap();
    wait_for(&seen, 1).await;
    assert_eq!(
        client
            .query_order(&no("V3PUB00001"))
            .await
            .unwrap()
            .trade_state,
        TradeState::Success
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_rotation_mid_run() {
    let sim = sim(V3Signing::Certificate).await;
    let keys = KeyRing::default();
    let client = client(&sim, &keys).build().unwrap();
    let old = client.download_certificates().await.unwrap()[0]
        .serial()
        .clone();
    let (url, seen) = notify_endpoint(&keys, Fen::new(5)).await;
    client
        .app(&Order::new("before", no("V3ROT00001"), Fen::new(5), &url))
        .await
        .unwrap();
    sim.pay("V3ROT00001", &PayOptions::default()).unwrap();
    wait_for(&seen, 1).await;

    let new = sim.rotate_platform_certificate().unwrap();
    assert_ne!(new, old.as_str());
    // The next answer is signed with a serial the client has not seen: it downloads the
    // certificates once and verifies.
    client
        .app(&Order::new("after", no("V3ROT00002"), Fen::new(5), &url))
        .await
        .unwrap();
    let held = keys.current();
    assert!(
        held.contains(&new) && held.contains(old.as_str()),
        "both serials held during the rotation"
    );
    // The notify service shares the ring: a notification under the new certificate verifies.
    sim.pay("V3ROT00002", &PayOptions::default()).unwrap();
    wait_for(&seen, 2).await;
}

/// A notification as WeChat Pay's public key would sign it.
fn signed_notification(
    ts: u64,
    serial: &str,
    key: &PrivateKey,
    total: u64,
) -> (String, String, String) {
    let plain = serde_json::json!({
        "mchid": MCHID, "appid": APPID, "out_trade_no": "V3HAND0001", "transaction_id": "4200000001",
        "trade_type": "NATIVE", "trade_state": "SUCCESS", "amount": {"total": total, "currency": "CNY"},
    });
    let apiv3 = ApiV3Key::new(TEST_APIV3_KEY).unwrap();
    let resource = Resource::seal(
        &apiv3,
        "0123456789ab",
        "transaction",
        Some("transaction"),
        plain.to_string().as_bytes(),
    )
    .unwrap();
    let body = serde_json::json!({
        "id": "EV-1", "create_time": "2026-12-03T10:00:00+08:00", "resource_type": "encrypt-resource",
        "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功", "resource": resource,
    })
    .to_string();
    let ts = ts.to_string();
    let signature = key
        .sign(&answer_message(&ts, "n0nce", body.as_bytes()))
        .unwrap();
    let _ = serial;
    (body, ts, signature)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_stale_replayed_wrong_serial_and_downgraded_notifications_are_refused() {
    common::init();
    let wechat = PrivateKey::from_pem(WECHAT_KEY).unwrap();
    let keys = KeyRing::default();
    keys.update(|v| v.add_public_key(PUBLIC_KEY_ID, wechat.public_key()))
        .unwrap();
    let (url, seen) = notify_endpoint(&keys, Fen::new(100)).await;
    let http = reqwest::Client::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let post = |body: String, ts: String, sig: String, serial: &str, kind: &str| {
        http.post(&url)
            .header("Content-Type", "application/json")
            .header("Wechatpay-Timestamp", ts)
            .header("Wechatpay-Nonce", "n0nce")
            .header("Wechatpay-Signature", sig)
            .header("Wechatpay-Serial", serial.to_owned())
            .header("Wechatpay-Signature-Type", kind.to_owned())
            .body(body)
            .send()
    };
    const TYPE: &str = "WECHATPAY2-SHA256-RSA2048";
    let (body, ts, sig) = signed_notification(now, PUBLIC_KEY_ID, &wechat, 100);
    let r = post(body.clone(), ts.clone(), sig.clone(), PUBLIC_KEY_ID, TYPE)
        .await
        .unwrap();
    assert_eq!(r.status(), 204, "genuine");
    // A replay inside the window is a duplicate delivery: acknowledged again (the handler is
    // idempotent on the notification id); outside it, refused as stale.
    let r = post(body.clone(), ts.clone(), sig.clone(), PUBLIC_KEY_ID, TYPE)
        .await
        .unwrap();
    assert_eq!(r.status(), 204, "a duplicate delivery");
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].id, seen[1].id);
    }

    let refused = |status: reqwest::StatusCode| assert_eq!(status, 400);
    let (b, t, s) = signed_notification(now - 301, PUBLIC_KEY_ID, &wechat, 100);
    refused(post(b, t, s, PUBLIC_KEY_ID, TYPE).await.unwrap().status()); // stale / replayed later
    let forger = PrivateKey::from_pem(TEST_MERCHANT_KEY_PEM).unwrap();
    let (b, t, s) = signed_notification(now, PUBLIC_KEY_ID, &forger, 100);
    refused(post(b, t, s, PUBLIC_KEY_ID, TYPE).await.unwrap().status()); // forged
    refused(
        post(
            body.clone(),
            ts.clone(),
            sig.clone(),
            "PUB_KEY_ID_0199999999",
            TYPE,
        )
        .await
        .unwrap()
        .status(),
    ); // wrong serial
    refused(
        post(
            body.clone(),
            ts.clone(),
            sig.clone(),
            PUBLIC_KEY_ID,
            "WECHATPAY2-SHA1-RSA1024",
        )
        .await
        .unwrap()
        .status(),
    ); // downgraded
    refused(
        post(
            body.clone(),
            ts.clone(),
            format!("WECHATPAY/SIGNTEST/{sig}"),
            PUBLIC_KEY_ID,
            TYPE,
        )
        .await
        .unwrap()
        .status(),
    ); // probe
    let tampered = body.replace("支付成功", "支付失败");
    refused(
        post(tampered, ts.clone(), sig.clone(), PUBLIC_KEY_ID, TYPE)
            .await
            .unwrap()
            .status(),
    );
    // Genuine, but for another amount than the order's: the handler's settle refuses, 500,
    // so WeChat Pay keeps retrying and the payment is not booked.
    let (b, t, s) = signed_notification(now, PUBLIC_KEY_ID, &wechat, 1);
    let r = post(b, t, s, PUBLIC_KEY_ID, TYPE).await.unwrap();
    assert_eq!(r.status(), 500);
    let failure: serde_json::Value = r.json().await.unwrap();
    assert_eq!(failure["code"], "FAIL");
    assert_eq!(
        seen.lock().unwrap().len(),
        2,
        "nothing refused reached the handler's books"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_is_never_reported_as_not_refunded_once_an_attempt_may_have_landed() {
    let sim = sim(V3Signing::Certificate).await;
    let keys = KeyRing::default();
    let client = client(&sim, &keys).build().unwrap();
    client.download_certificates().await.unwrap();
    let (url, seen) = notify_endpoint(&keys, Fen::new(1000)).await;
    client
        .native(&Order::new(
            "faults",
            no("V3FAULT001"),
            Fen::new(1000),
            &url,
        ))
        .await
        .unwrap();
    sim.pay("V3FAULT001", &PayOptions::default()).unwrap();
    wait_for(&seen, 1).await;
    let refund = |n: &str, fee: u64| {
        RefundRequest::new(
            no("V3FAULT001"),
            OutRefundNo::new(n).unwrap(),
            Fen::new(fee),
            Fen::new(1000),
        )
    };

    // Applied, then the connection dropped: the repeat finds the same refund, once.
    sim.inject(Fault::next("v3/refunds", FaultKind::Drop, 1))
        .unwrap();
    let r = client.refund(&refund("V3RF01", 100)).await.unwrap();
    assert_eq!(r.out_refund_no.as_str(), "V3RF01");
    // Applied, then SYSTEM_ERROR on every attempt: the lookup by number finds it.
    sim.inject(Fault::next(
        "v3/refunds",
        FaultKind::SystemErrorAfterProcessing,
        4,
    ))
    .unwrap();
    let r = client.refund(&refund("V3RF02", 100)).await.unwrap();
    assert_eq!(r.out_refund_no.as_str(), "V3RF02");
    // An answer that does not verify: repeated, then believed only once it verifies.
    sim.inject(Fault::next("v3/refunds", FaultKind::BadSignature, 1))
        .unwrap();
    client.refund(&refund("V3RF03", 100)).await.unwrap();
    let view = sim.order("V3FAULT001").unwrap();
    assert_eq!(
        view.refunds.len(),
        3,
        "three refunds, none twice: {:?}",
        view.refunds
    );

    // Not applied, but the client cannot know: 500 on every attempt, and the lookup finds
    // nothing yet. In doubt, not "not refunded".
    sim.inject(Fault::next("v3/refunds", FaultKind::Http500, 10))
        .unwrap();
    let e = client.refund(&refund("V3RF04", 100)).await.unwrap_err();
    assert!(matches!(e, Error::InDoubt { .. }), "{e:?}");
    sim.clear_faults();
    // A refusal after an attempt in doubt is in doubt too.
    sim.inject(Fault::next("v3/refunds", FaultKind::Drop, 1))
        .unwrap();
    sim.inject(Fault::next(
        "v3/refunds",
        FaultKind::BusinessError {
            err_code: "NOTENOUGH".into(),
        },
        5,
    ))
    .unwrap();
    let e = client.refund(&refund("V3RF05", 100)).await.unwrap_err();
    assert!(matches!(e, Error::InDoubt { .. }), "{e:?}");
    sim.clear_faults();
    // A definite refusal with no doubt before it is a refusal.
    let e = client.refund(&refund("V3RF06", 5000)).await.unwrap_err();
    assert!(matches!(e, Error::Api(_)), "{e:?}");
    // A bad signature on a query is an error, never a believed answer.
    sim.inject(Fault::next("v3/transactions", FaultKind::BadSignature, 10))
        .unwrap();
    let e = client.query_order(&no("V3FAULT001")).await.unwrap_err();
    assert!(matches!(e, Error::Verify(_)), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_signed_with_another_key_is_refused_with_the_message_checked() {
    let sim = sim(V3Signing::Certificate).await;
    let wrong = Signer::new(
        MCHID,
        TEST_MERCHANT_SERIAL,
        PrivateKey::from_pem(WECHAT_KEY).unwrap(),
    )
    .unwrap();
    let client = Client::builder(APPID, wrong, ApiV3Key::new(TEST_APIV3_KEY).unwrap())
        .base_url(sim.base_url())
        .build()
        .unwrap();
    let e = client.download_certificates().await.unwrap_err();
    let api = e.api().unwrap();
    assert_eq!((api.status, api.code.as_str()), (401, "SIGN_ERROR"));
    let message = api.detail.as_ref().unwrap()["sign_information"]["truncated_sign_message"]
        .as_str()
        .unwrap();
    assert!(message.starts_with("GET\n/v3/certificates\n"), "{message}");
}

fn beijing_today() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let text = tenpay_xml::BeijingDateTime::from_unix(i64::try_from(now).unwrap())
        .unwrap()
        .to_string();
    text[..10].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bills_stream_with_their_hash_checked() {
    let sim = sim(V3Signing::Certificate).await;
    let keys = KeyRing::default();
    let client = client(&sim, &keys).build().unwrap();
    client.download_certificates().await.unwrap();
    let (url, seen) = notify_endpoint(&keys, Fen::new(2500)).await;
    client
        .native(&Order::new("账单", no("V3BILL0001"), Fen::new(2500), &url))
        .await
        .unwrap();
    sim.pay("V3BILL0001", &PayOptions::default()).unwrap();
    wait_for(&seen, 1).await;
    let today = beijing_today();
    for gzip in [false, true] {
        let link = client.trade_bill(&today, "ALL", gzip).await.unwrap();
        assert_eq!(link.hash_type, "SHA1");
        let mut out = Vec::new();
        let n = client.download_bill(&link, &mut out).await.unwrap();
        assert_eq!(n, out.len() as u64);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("V3BILL0001") && text.contains("25.00"),
            "{text}"
        );
        // The link is one-time.
        assert!(
            client
                .download_bill(&link, &mut Vec::new())
                .await
                .unwrap_err()
                .api()
                .is_some()
        );
    }
    let mut link = client.trade_bill(&today, "ALL", false).await.unwrap();
    link.hash_value = "0".repeat(40);
    let e = client
        .download_bill(&link, &mut Vec::new())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::HashMismatch { .. }), "{e:?}");
    link.download_url = "https://evil.example/v3/billdownload/file?token=x".into();
    let e = client
        .download_bill(&link, &mut Vec::new())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Decode(_)), "{e:?}");
    let flow = client.fund_flow_bill(&today, "BASIC", false).await.unwrap();
    let mut out = Vec::new();
    client.download_bill(&flow, &mut out).await.unwrap();
    assert!(!out.is_empty());
    let none = client
        .trade_bill("2001-01-01", "ALL", false)
        .await
        .unwrap_err();
    assert_eq!(
        none.api().map(|a| a.code.as_str()),
        Some("NO_STATEMENT_EXIST")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_provider_pays_and_refunds_for_its_sub_merchant() {
    common::init();
    let sim = Simulator::builder()
        .merchant(
            MerchantAccount::new(
                APPID,
                MCHID,
                tenpay_sign::ApiKey::new("192006250b4c09247ec02edce69f6a2d").unwrap(),
            )
            .sub_merchant("1900000109", Some("wx8888888888888888".into()))
            .test_api_v3(),
        )
        .time_scale(1000)
        .start()
        .await
        .unwrap();
    let keys = KeyRing::default();
    let provider = client(&sim, &keys).build().unwrap();
    provider.download_certificates().await.unwrap();
    let sub = provider.with_sub_merchant("1900000109", Some("wx8888888888888888".into()));
    let (url, seen) = notify_endpoint(&keys, Fen::new(300)).await;

    let prepay = sub
        .jsapi(
            &Order::new("服务商下单", no("V3SP000001"), Fen::new(300), &url),
            "oSubOpenid0001",
        )
        .await
        .unwrap();
    let params = sub.jsapi_pay(&prepay).unwrap();
    assert_eq!(
        params.app_id, "wx8888888888888888",
        "the payer pays under the sub-merchant's appid"
    );
    let t = sub.query_order(&no("V3SP000001")).await.unwrap();
    assert_eq!(
        (t.sp_mchid.as_deref(), t.sub_mchid.as_deref()),
        (Some(MCHID), Some("1900000109"))
    );
    // The provider's own (direct) view does not see the sub-merchant's order.
    let e = provider.query_order(&no("V3SP000001")).await.unwrap_err();
    assert_eq!(e.api().map(|a| a.status), Some(404));

    sim.pay("V3SP000001", &PayOptions::default()).unwrap();
    wait_for(&seen, 1).await;
    let n = seen.lock().unwrap()[0].clone();
    let Event::Transaction(paid) = &n.event else {
        panic!("a payment")
    };
    assert_eq!(paid.transaction().sub_mchid.as_deref(), Some("1900000109"));
    assert_eq!(
        paid.transaction()
            .payer
            .as_ref()
            .and_then(|p| p.sub_openid.as_deref()),
        Some("oSubOpenid0001")
    );

    let r = sub
        .refund(
            &RefundRequest::new(
                no("V3SP000001"),
                OutRefundNo::new("V3SPR001").unwrap(),
                Fen::new(100),
                Fen::new(300),
            )
            .notify_url(&url),
        )
        .await
        .unwrap();
    assert_eq!(r.status, RefundStatus::Processing);
    wait_for(&seen, 2).await;
    assert_eq!(
        sub.query_refund(&OutRefundNo::new("V3SPR001").unwrap())
            .await
            .unwrap()
            .status,
        RefundStatus::Success
    );
    sub.native(&Order::new("扫码", no("V3SP000002"), Fen::new(1), &url))
        .await
        .unwrap();
    sub.close_order(&no("V3SP000002")).await.unwrap();
    assert_eq!(
        sub.query_order(&no("V3SP000002"))
            .await
            .unwrap()
            .trade_state,
        TradeState::Closed
    );

    let stranger = provider.with_sub_merchant("1900000999", None);
    let e = stranger
        .native(&Order::new("x", no("V3SP000003"), Fen::new(1), &url))
        .await
        .unwrap_err();
    assert_eq!(e.api().map(|a| a.code.as_str()), Some("INVALID_REQUEST"));
}
