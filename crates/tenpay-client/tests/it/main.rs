//! tenpay-client against tenpay-sim over 127.0.0.1 (plain HTTP and TLS with client certificates).
#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Duration;

use tenpay_client::{
    AccountType, BillOutcome, BillType, Client, CloseOrder, Direction, DownloadBill,
    DownloadFundFlow, ErrCode, Error, Identity, Micropay, MicropayOutcome, OrderQuery, OutRefundNo,
    OutTradeNo, Outcome, Refund, RefundQuery, RefusedBecause, Reverse, Sandbox, UnifiedOrder,
};
use tenpay_sign::{ApiKey, SignType};
use tenpay_sim::{Fault, FaultKind, MerchantAccount, PayOptions, SimHandle, Simulator};
use tenpay_xml::{Fen, TradeState, TradeType};

const APPID: &str = "wx2421b1c4370ec43b";
const MCH: &str = "10000100";
const KEY: &str = "192006250b4c09247ec02edce69f6a2d";
const NOTIFY: &str = "http://127.0.0.1:9/notify";

mod cross_border;
mod deposit;
mod discount;
mod face;
mod hostile;
mod many;
mod merchant_tools;
mod open;
mod partner;
mod payout;
mod wecom;

fn key() -> ApiKey {
    ApiKey::new(KEY).unwrap()
}

async fn sim() -> SimHandle {
    Simulator::builder()
        .merchant(MerchantAccount::new(APPID, MCH, key()))
        .merchant(MerchantAccount::new(
            "wx0000000000000002",
            "10000200",
            ApiKey::new("another-merchant-key-000000000000").unwrap(),
        ))
        .time_scale(1000)
        .tls(true)
        .start()
        .await
        .unwrap()
}

/// A client over the simulator's TLS listener with the merchant's legacy PKCS#12 identity.
/// The test merchant, signing with `st`.
fn merchant(st: SignType) -> tenpay_client::Merchant {
    tenpay_client::Merchant::new(APPID, MCH, key(), st)
}

fn client(sim: &SimHandle, st: SignType) -> Client {
    tls_builder(sim, st)
        .identity(Identity::from_pkcs12(
            sim.tls().unwrap().identity(MCH).unwrap().pkcs12.clone(),
        ))
        .retries(2, Duration::from_millis(10))
        .build()
        .unwrap()
}

/// A builder for the simulator's TLS listener, trusting its CA (no identity yet).
fn tls_builder(sim: &SimHandle, st: SignType) -> tenpay_client::ClientBuilder {
    Client::builder(merchant(st))
        .base_url(sim.tls_base_url().unwrap())
        .bank_key_url(sim.tls_base_url().unwrap())
        .add_root_certificate_pem(sim.tls().unwrap().ca_pem.clone())
}

/// A refund of `fee` fen on an order of 888 fen.
/// A client with the certificate and fast payment-code polling (5 ms, for 150 ms).
fn micropay_client(sim: &SimHandle) -> Client {
    tls_builder(sim, SignType::Md5)
        .identity(Identity::from_pkcs12(
            sim.tls().unwrap().identity(MCH).unwrap().pkcs12.clone(),
        ))
        .micropay_polling(Duration::from_millis(5), Duration::from_millis(150))
        .build()
        .unwrap()
}

fn refund_of(order: &str, out_refund_no: &str, fee: u64) -> Refund {
    Refund::by_out_trade_no(
        no(order),
        OutRefundNo::new(out_refund_no).unwrap(),
        Fen::new(888),
        Fen::new(fee),
    )
}

fn no(s: &str) -> OutTradeNo {
    OutTradeNo::new(s).unwrap()
}

fn order(n: &str) -> UnifiedOrder {
    UnifiedOrder::app(
        "腾讯充值中心-QQ会员充值",
        no(n),
        Fen::new(888),
        "123.12.12.123",
        NOTIFY,
    )
    .attach("a&b <c>")
}

#[tokio::test]
async fn every_trade_type_query_close() {
    let sim = sim().await;
    for st in [SignType::Md5, SignType::HmacSha256] {
        let c = client(&sim, st);
        let tag = st.hex_len();
        let app = c.unified_order(&order(&format!("A{tag}"))).await.unwrap();
        assert_eq!(app.trade_type, TradeType::App);
        let jsapi = UnifiedOrder::jsapi(
            "b",
            no(&format!("J{tag}")),
            Fen::new(1),
            "127.0.0.1",
            NOTIFY,
            "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
        );
        assert!(
            c.unified_order(&jsapi)
                .await
                .unwrap()
                .prepay_id
                .starts_with("wx")
        );
        let native = UnifiedOrder::native(
            "b",
            no(&format!("N{tag}")),
            Fen::new(1),
            "127.0.0.1",
            NOTIFY,
            "P1",
        );
        assert!(
            c.unified_order(&native)
                .await
                .unwrap()
                .code_url
                .unwrap()
                .starts_with("weixin://")
        );
        let mweb = UnifiedOrder::mweb(
            "b",
            no(&format!("M{tag}")),
            Fen::new(1),
            "127.0.0.1",
            NOTIFY,
            r#"{"h5_info":{"type":"Wap"}}"#,
        );
        assert!(c.unified_order(&mweb).await.unwrap().mweb_url.is_some());

        let q = c
            .order_query(&OrderQuery::by_out_trade_no(no(&format!("A{tag}"))))
            .await
            .unwrap();
        assert_eq!(q.trade_state, TradeState::NotPay);
        sim.pay(
            &format!("A{tag}"),
            &PayOptions::new().coupon_fee(Fen::new(88)),
        )
        .unwrap();
        let q = c
            .order_query(&OrderQuery::by_out_trade_no(no(&format!("A{tag}"))))
            .await
            .unwrap();
        assert_eq!(q.trade_state, TradeState::Success);
        assert_eq!(q.total_fee, Some(Fen::new(888)));
        assert_eq!(q.cash_fee, Some(Fen::new(800)));
        assert_eq!(q.coupons.len(), 1);
        assert_eq!(q.attach.as_deref(), Some("a&b <c>"));
        let by_tid = c
            .order_query(&OrderQuery::by_transaction_id(
                q.transaction_id.clone().unwrap(),
            ))
            .await
            .unwrap();
        assert_eq!(
            by_tid.out_trade_no.as_deref(),
            Some(format!("A{tag}").as_str())
        );

        c.close_order(&CloseOrder::new(no(&format!("N{tag}"))))
            .await
            .unwrap();
        let err = c
            .close_order(&CloseOrder::new(no(&format!("A{tag}"))))
            .await
            .unwrap_err();
        assert_eq!(err.err_code(), Some(&ErrCode::OrderPaid));
    }
}

#[tokio::test]
async fn refunds_over_tls_with_pkcs12_and_pem_identities() {
    let sim = sim().await;
    let c = client(&sim, SignType::HmacSha256);
    c.unified_order(&order("R1")).await.unwrap();
    sim.pay("R1", &PayOptions::new()).unwrap();
    let r = c
        .refund(&refund_of("R1", "RF1", 100))
        .await
        .unwrap()
        .done()
        .unwrap();
    assert_eq!(r.refund_fee, Fen::new(100));

    let tls = sim.tls().unwrap();
    let id = tls.identity(MCH).unwrap();
    let pem = tls_builder(&sim, SignType::Md5)
        .identity(Identity::from_pem(id.cert_pem.clone(), id.key_pem.clone()))
        .build()
        .unwrap();
    pem.refund(&refund_of("R1", "RF2", 50)).await.unwrap();
    let q = pem
        .refund_query(&RefundQuery::by_out_trade_no(no("R1")))
        .await
        .unwrap();
    assert_eq!(q.refunds.len(), 2);
    assert_eq!(q.refunds[1].refund_fee, Fen::new(50));
    let page = pem
        .refund_query(&RefundQuery::by_out_trade_no(no("R1")).offset(1))
        .await
        .unwrap();
    assert_eq!(page.refunds[0].out_refund_no, "RF2");

    // Another merchant's certificate is refused by the server.
    let other = tls.identity("10000200").unwrap();
    let wrong = tls_builder(&sim, SignType::Md5)
        .identity(Identity::from_pkcs12(other.pkcs12.clone()).password("10000200"))
        .build()
        .unwrap();
    // return_code=FAIL is open for a call that moves money: it is not a documented final code.
    let Outcome::Unknown(e) = wrong.refund(&refund_of("R1", "RF3", 1)).await.unwrap() else {
        panic!("a protocol refusal of a refund must be open")
    };
    assert!(matches!(e.cause(), Error::Protocol { .. }), "{e}");

    // Without an identity nothing is sent.
    let calls = sim.calls("refund");
    let bare = Client::builder(merchant(SignType::Md5))
        .base_url(sim.base_url())
        .build()
        .unwrap();
    let e = bare.refund(&refund_of("R1", "RF4", 1)).await.unwrap_err();
    assert!(matches!(e.cause(), Error::NoIdentity { path } if path == "/secapi/pay/refund"));
    assert_eq!(e.because(), RefusedBecause::NotSent);
    assert_eq!(sim.calls("refund"), calls);

    // A wrong PKCS#12 password is a configuration error at build time.
    let e = Client::builder(merchant(SignType::Md5))
        .identity(Identity::from_pkcs12(id.pkcs12.clone()).password("nope"))
        .build()
        .unwrap_err();
    assert!(matches!(e, Error::Config(_)));
}

#[tokio::test]
async fn the_pkcs12_uses_legacy_encryption_openssl3_refuses() {
    // The simulator issues apiclient_cert.p12 like WeChat Pay: PBE-SHA1-RC2-40. OpenSSL 3 without
    // its legacy provider cannot read it; the client above loads it all the same.
    let sim = sim().await;
    let p12 = sim.tls().unwrap().identity(MCH).unwrap().pkcs12.clone();
    // The RC2-40 OID 1.2.840.113549.1.12.1.6 is in the file.
    let oid = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01, 0x06];
    assert!(p12.windows(oid.len()).any(|w| w == oid));
    if let Ok(out) = std::process::Command::new("openssl")
        .arg("version")
        .output()
    {
        let version = String::from_utf8_lossy(&out.stdout).to_string();
        if version.starts_with("OpenSSL 3") {
            let path =
                std::env::temp_dir().join(format!("tenpay-legacy-{}.p12", std::process::id()));
            std::fs::write(&path, &p12).unwrap();
            let status = std::process::Command::new("openssl")
                .args([
                    "pkcs12",
                    "-in",
                    path.to_str().unwrap(),
                    "-passin",
                    "pass:10000100",
                    "-nokeys",
                    "-noout",
                ])
                .env("OPENSSL_CONF", "/dev/null")
                .output()
                .unwrap();
            let _ = std::fs::remove_file(&path);
            assert!(
                !status.status.success(),
                "OpenSSL 3 read the legacy file without -legacy: {version}"
            );
        }
    }
}

#[tokio::test]
async fn error_classes() {
    let sim = sim().await;
    let c = client(&sim, SignType::Md5);
    // result_code=FAIL.
    let e = c
        .order_query(&OrderQuery::by_out_trade_no(no("NONE")))
        .await
        .unwrap_err();
    assert_eq!(e.err_code(), Some(&ErrCode::OrderNotExist));
    // return_code=FAIL (wrong key): not retried.
    let before = sim.calls("orderquery");
    let wrong = Client::builder(tenpay_client::Merchant::new(
        APPID,
        MCH,
        ApiKey::new("wrong-key").unwrap(),
        SignType::Md5,
    ))
    .base_url(sim.base_url())
    .build()
    .unwrap();
    let e = wrong
        .order_query(&OrderQuery::by_out_trade_no(no("X")))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Protocol { return_msg } if return_msg == "签名错误"),
        "{e}"
    );
    assert_eq!(sim.calls("orderquery"), before + 1);
    // A tampered answer signature is refused (and not retried).
    sim.inject(Fault::next("orderquery", FaultKind::BadSignature, 1))
        .unwrap();
    let e = c
        .order_query(&OrderQuery::by_out_trade_no(no("X")))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::BadSignature(_)), "{e}");
    // HTTP 500, an HTML page, a dropped connection, a truncated answer: retried, then reported.
    for (kind, check) in [
        (
            FaultKind::Http500,
            (|e: &Error| matches!(e, Error::Http { status: 500, .. })) as fn(&Error) -> bool,
        ),
        (FaultKind::Html, |e: &Error| {
            matches!(e, Error::NotXml { .. })
        }),
        (FaultKind::Drop, |e: &Error| {
            matches!(e, Error::Transport { .. })
        }),
        (FaultKind::Truncated, |e: &Error| {
            matches!(e, Error::Transport { .. } | Error::NotXml { .. })
        }),
    ] {
        let before = sim.calls("orderquery");
        sim.inject(Fault::next("orderquery", kind.clone(), 3))
            .unwrap();
        let e = c
            .order_query(&OrderQuery::by_out_trade_no(no("X")))
            .await
            .unwrap_err();
        assert!(check(&e), "{kind:?}: {e}");
        assert_eq!(
            sim.calls("orderquery"),
            before + 3,
            "{kind:?}: one call and two retries"
        );
    }
    // SYSTEMERROR once, then the answer: retried transparently.
    sim.inject(Fault::next("orderquery", FaultKind::SystemError, 1))
        .unwrap();
    let e = c
        .order_query(&OrderQuery::by_out_trade_no(no("X")))
        .await
        .unwrap_err();
    assert_eq!(e.err_code(), Some(&ErrCode::OrderNotExist));
    // Timeout.
    let slow = Client::builder(merchant(SignType::Md5))
        .base_url(sim.base_url())
        .timeout(Duration::from_millis(100))
        .retries(0, Duration::ZERO)
        .build()
        .unwrap();
    sim.inject(Fault::next("orderquery", FaultKind::Delay { ms: 400 }, 1))
        .unwrap();
    let e = slow
        .order_query(&OrderQuery::by_out_trade_no(no("X")))
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e}");
    // Nothing secret in any error.
    for e in [
        e,
        Error::Protocol {
            return_msg: "x".into(),
        },
    ] {
        assert!(!format!("{e} {e:?}").contains(KEY));
    }
    assert!(!format!("{c:?}").contains(KEY));
}

#[tokio::test]
async fn a_refund_retried_after_a_dropped_connection_is_refunded_once() {
    let sim = sim().await;
    let c = client(&sim, SignType::Md5);
    c.unified_order(&order("D1")).await.unwrap();
    sim.pay("D1", &PayOptions::new()).unwrap();
    sim.inject(Fault::next("refund", FaultKind::Drop, 1))
        .unwrap();
    let r = c
        .refund(&refund_of("D1", "DR1", 8))
        .await
        .unwrap()
        .done()
        .unwrap();
    assert_eq!(r.out_refund_no, "DR1");
    assert_eq!(sim.calls("refund"), 2);
    assert_eq!(sim.order("D1").unwrap().refunds.len(), 1);
    // Business errors are not retried.
    let before = sim.calls("refund");
    let e = c
        .refund(&Refund::by_out_trade_no(
            no("D1"),
            OutRefundNo::new("DR2").unwrap(),
            Fen::new(1),
            Fen::new(1),
        ))
        .await
        .unwrap_err();
    assert_eq!(e.err_code(), Some(&ErrCode::ParamError));
    assert_eq!(sim.calls("refund"), before + 1);
}

#[tokio::test]
async fn bills() {
    let sim = sim().await;
    let c = client(&sim, SignType::Md5);
    c.unified_order(&order("B1")).await.unwrap();
    sim.pay("B1", &PayOptions::new()).unwrap();
    let today = tenpay_xml::BeijingTime::from_unix(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64,
    )
    .unwrap()
    .to_string()[..8]
        .to_owned();
    for req in [
        DownloadBill::new(&today, BillType::All).unwrap(),
        DownloadBill::new(&today, BillType::Success).unwrap().gzip(),
    ] {
        let BillOutcome::Bill(bill) = c.download_bill(&req).await.unwrap() else {
            panic!("no bill")
        };
        assert_eq!(bill.rows.len(), 1);
        assert_eq!(bill.rows[0].out_trade_no(), Some("B1"));
        assert_eq!(bill.rows[0].total_fee, Some(Fen::new(888)));
        assert_eq!(bill.summary.count, 1);
        assert_eq!(bill.summary.total_fee, Some(Fen::new(888)));
    }
    let none = c
        .download_bill(&DownloadBill::new("20140603", BillType::All).unwrap())
        .await
        .unwrap();
    assert!(matches!(none, BillOutcome::NoBill { .. }));
    assert!(DownloadBill::new("2014-06-03", BillType::All).is_err());
    // The reference bill parses.
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/protocol/downloadbill_all.csv"
    ))
    .unwrap();
    let text: String = text.lines().skip(1).map(|l| format!("{l}\n")).collect();
    let bill = tenpay_client_test_parse(text).await;
    assert_eq!(bill.rows.len(), 2);
    assert_eq!(bill.rows[0].total_fee, Some(Fen::new(1)));
    assert_eq!(bill.summary.count, 2);
    assert_eq!(bill.summary.total_fee, Some(Fen::new(2)));
}

fn beijing_today() -> String {
    tenpay_xml::BeijingTime::from_unix(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64,
    )
    .unwrap()
    .to_string()[..8]
        .to_owned()
}

#[tokio::test]
async fn fund_flow_is_signed_with_hmac_whatever_the_client_uses() {
    let sim = sim().await;
    // An MD5 client: the fund flow goes out with HMAC-SHA256 all the same.
    let c = client(&sim, SignType::Md5);
    c.unified_order(&order("FF1")).await.unwrap();
    sim.pay("FF1", &PayOptions::new()).unwrap();
    c.refund(&refund_of("FF1", "FFR1", 100)).await.unwrap();
    // The simulator completes refunds after 60 s / time scale 1000.
    let mut done = false;
    for _ in 0..100 {
        let q = c
            .refund_query(&RefundQuery::by_out_trade_no(no("FF1")))
            .await
            .unwrap();
        if q.refunds[0].refund_status.as_str() == "SUCCESS" {
            done = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(done, "the refund did not complete");

    let today = beijing_today();
    for req in [
        DownloadFundFlow::new(&today, AccountType::Basic).unwrap(),
        DownloadFundFlow::new(&today, AccountType::Basic)
            .unwrap()
            .gzip(),
    ] {
        let flow = c.download_fund_flow(&req).await.unwrap().bill().unwrap();
        assert_eq!(flow.rows.len(), 2, "{}", flow.text);
        let (paid, refunded) = (&flow.rows[0], &flow.rows[1]);
        assert_eq!(paid.business_name.as_deref(), Some("交易"));
        assert_eq!(paid.direction, Some(Direction::Income));
        assert_eq!(paid.amount, Some(Fen::new(888)));
        assert_eq!(paid.balance, Some(Fen::new(888)));
        assert_eq!(refunded.direction, Some(Direction::Expense));
        assert_eq!(refunded.amount, Some(Fen::new(100)));
        assert_eq!(refunded.balance, Some(Fen::new(788)));
        assert_eq!(refunded.voucher_no.as_deref(), Some("FFR1"));
        assert_eq!(flow.summary.count, 2);
        assert_eq!(flow.summary.income_count, 1);
        assert_eq!(flow.summary.income, Some(Fen::new(888)));
        assert_eq!(flow.summary.expense_count, 1);
        assert_eq!(flow.summary.expense, Some(Fen::new(100)));
    }
    // The fees account pays 0.6% of the payment; the operation account never moves.
    let fees = c
        .download_fund_flow(&DownloadFundFlow::new(&today, AccountType::Fees).unwrap())
        .await
        .unwrap()
        .bill()
        .unwrap();
    assert_eq!(fees.rows.len(), 1);
    assert_eq!(fees.rows[0].amount, Some(Fen::new(5)));
    let none = c
        .download_fund_flow(&DownloadFundFlow::new(&today, AccountType::Operation).unwrap())
        .await
        .unwrap();
    assert!(matches!(none, BillOutcome::NoBill { .. }), "{none:?}");
    assert!(DownloadFundFlow::new("20140231", AccountType::Basic).is_err());

    // What goes on the wire: sign_type=HMAC-SHA256 and an HMAC signature, from an MD5 client.
    let body = c
        .request_body(&DownloadFundFlow::new(&today, AccountType::Basic).unwrap())
        .unwrap();
    let map = tenpay_xml::XmlMap::parse(body.as_bytes()).unwrap();
    assert_eq!(map.get("sign_type"), Some("HMAC-SHA256"));
    assert_eq!(map.get("account_type"), Some("Basic"));
    map.verify(&key(), SignType::HmacSha256).unwrap();

    // It needs the client certificate: without one nothing is sent.
    let calls = sim.calls("downloadfundflow");
    let bare = Client::builder(merchant(SignType::Md5))
        .base_url(sim.base_url())
        .build()
        .unwrap();
    let e = bare
        .download_fund_flow(&DownloadFundFlow::new(&today, AccountType::Basic).unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::NoIdentity { path } if path == "/pay/downloadfundflow"),
        "{e}"
    );
    // The sandbox signs MD5 only: refused before anything is sent.
    let sandbox = tls_builder(&sim, SignType::Md5)
        .identity(Identity::from_pkcs12(
            sim.tls().unwrap().identity(MCH).unwrap().pkcs12.clone(),
        ))
        .sandbox(Sandbox::Current)
        .build()
        .unwrap();
    let e = sandbox
        .download_fund_flow(&DownloadFundFlow::new(&today, AccountType::Basic).unwrap())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Config(_)), "{e}");
    assert_eq!(sim.calls("downloadfundflow"), calls);
}

/// A server on 127.0.0.1 that answers every request with the body chosen by its path.
async fn fixed_server(answers: Vec<(&'static str, Vec<u8>)>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let answers = answers.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = head.split(' ').nth(1).unwrap_or("").to_owned();
                let body = answers
                    .iter()
                    .find(|(p, _)| *p == path)
                    .map(|(_, b)| b.clone())
                    .unwrap_or_default();
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(reply.as_bytes()).await;
                let _ = s.write_all(&body).await;
            });
        }
    });
    format!("http://{addr}")
}

fn fixture(name: &str) -> Vec<u8> {
    let raw = std::fs::read(format!(
        "{}/../../testdata/protocol/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    raw[raw.iter().position(|&b| b == b'\n').unwrap() + 1..].to_vec()
}

async fn tenpay_client_test_parse(text: String) -> tenpay_client::Bill {
    let base = fixed_server(vec![("/pay/downloadbill", text.into_bytes())]).await;
    let c = Client::builder(merchant(SignType::Md5))
        .base_url(base)
        .build()
        .unwrap();
    match c
        .download_bill(&DownloadBill::new("20141110", BillType::All).unwrap())
        .await
        .unwrap()
    {
        BillOutcome::Bill(b) => b,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn reference_fixtures_decode_into_typed_responses() {
    let base = fixed_server(vec![
        (
            "/pay/unifiedorder",
            fixture("unifiedorder_response_app.xml"),
        ),
        (
            "/pay/orderquery",
            fixture("orderquery_response_success.xml"),
        ),
        ("/pay/closeorder", fixture("closeorder_response.xml")),
        ("/secapi/pay/refund", fixture("refund_response.xml")),
        ("/pay/refundquery", fixture("refundquery_response.xml")),
        ("/pay/downloadbill", fixture("downloadbill_error.xml")),
    ])
    .await;
    let id = sim().await.tls().unwrap().identity(MCH).unwrap().clone();
    let c = Client::builder(merchant(SignType::Md5))
        .base_url(base.clone())
        .identity(Identity::from_pem(id.cert_pem, id.key_pem))
        .build()
        .unwrap();
    let u = c.unified_order(&order("F1")).await.unwrap();
    assert_eq!(u.prepay_id, "wx201411101639507cbf6ffd8b0779950874");
    let q = c
        .order_query(&OrderQuery::by_out_trade_no(no("F1")))
        .await
        .unwrap();
    assert_eq!(q.trade_state, TradeState::Success);
    assert!(q.total_fee.is_some());
    let closed = c.close_order(&CloseOrder::new(no("F1"))).await.unwrap();
    assert!(closed.result_msg.is_some());
    let r = c
        .refund(&Refund::by_out_trade_no(
            no("F1"),
            OutRefundNo::new("R").unwrap(),
            Fen::new(1),
            Fen::new(1),
        ))
        .await
        .unwrap()
        .done()
        .unwrap();
    assert!(!r.refund_id.is_empty());
    let rq = c
        .refund_query(&RefundQuery::by_out_trade_no(no("F1")))
        .await
        .unwrap();
    assert_eq!(rq.refunds.len(), 1);
    let e = c
        .download_bill(&DownloadBill::new("20141110", BillType::All).unwrap())
        .await;
    assert!(
        matches!(
            e,
            Ok(BillOutcome::NoBill { .. }) | Err(Error::Protocol { .. })
        ),
        "{e:?}"
    );
    // The same fixtures for another merchant: refused as foreign answers.
    let other = Client::builder(tenpay_client::Merchant::new(
        "wx0000000000000009",
        MCH,
        key(),
        SignType::Md5,
    ))
    .base_url(base)
    .build()
    .unwrap();
    let e = other
        .order_query(&OrderQuery::by_out_trade_no(no("F1")))
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::ForeignAnswer { field: "appid", .. }),
        "{e}"
    );
}

#[tokio::test]
async fn payment_code_helper() {
    let sim = sim().await;
    let c = micropay_client(&sim);
    let pay = |n: &str, code: &str| Micropay::new("刷卡", no(n), Fen::new(1), "127.0.0.1", code);
    assert!(matches!(
        c.pay_with_code(&pay("P1", "134567890123456700"))
            .await
            .unwrap(),
        MicropayOutcome::Paid(_)
    ));
    assert!(matches!(
        c.pay_with_code(&pay("P2", "134567890123456780"))
            .await
            .unwrap(),
        MicropayOutcome::PaidAfterPolling(_)
    ));
    assert!(matches!(
        c.pay_with_code(&pay("P3", "134567890123456785"))
            .await
            .unwrap(),
        MicropayOutcome::Reversed { .. }
    ));
    assert_eq!(sim.order("P3").unwrap().trade_state, "REVOKED");
    assert!(matches!(
        c.pay_with_code(&pay("P4", "134567890123456790"))
            .await
            .unwrap(),
        MicropayOutcome::PaidAfterPolling(_)
    ));
    let e = c
        .pay_with_code(&pay("P5", "134567890123456799"))
        .await
        .unwrap_err();
    assert_eq!(e.err_code(), Some(&ErrCode::AuthCodeExpire));
    assert_eq!(e.because(), RefusedBecause::Final);
    let r = c
        .reverse(&Reverse::new(no("P1")))
        .await
        .unwrap()
        .done()
        .unwrap();
    assert!(!r.recall());
    let openid = c
        .auth_code_to_openid(&tenpay_client::AuthCodeToOpenid::new("134567890123456700"))
        .await
        .unwrap();
    assert!(openid.openid.starts_with("oSim"));
}

#[tokio::test]
async fn sandbox_key_is_fetched_once_and_reused() {
    let sim = sim().await;
    for sandbox in [Sandbox::Current, Sandbox::Legacy] {
        let c = Client::builder(merchant(SignType::Md5))
            .base_url(sim.base_url())
            .sandbox(sandbox)
            .build()
            .unwrap();
        let before = sim.calls("getsignkey");
        for i in 0..3 {
            c.unified_order(&order(&format!("S{i}{sandbox:?}")))
                .await
                .unwrap();
        }
        assert_eq!(sim.calls("getsignkey"), before + 1);
    }
    assert!(
        Client::builder(merchant(SignType::HmacSha256))
            .sandbox(Sandbox::Current)
            .build()
            .is_err()
    );
}

#[tokio::test]
async fn pay_params_reference_vectors_and_mweb() {
    let c = Client::builder(merchant(SignType::Md5))
        .nonce_fn(|| "5K8264ILTKCH16CQ2502SI8ZNMTM67VS".into())
        .clock_fn(|| 1_414_561_699)
        .build()
        .unwrap();
    let p = c.app_params("WX1217752501201407033233368018");
    assert_eq!(p.sign, "C9612FA7A6BA5F51E195D5F9337CA288");
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["package"], "Sign=WXPay");
    let c = Client::builder(merchant(SignType::Md5))
        .nonce_fn(|| "e61463f8efa94090b1f366cccfbbb444".into())
        .clock_fn(|| 1_414_561_699)
        .build()
        .unwrap();
    let j = c.jsapi_params("u802345jgfjsdfgsdg888");
    assert_eq!(j.pay_sign, "A62A01211E36F5D2173A9EE93EBAC56C");
    let json = serde_json::to_value(&j).unwrap();
    assert_eq!(json["appId"], APPID);
    assert_eq!(json["signType"], "MD5");
    assert_eq!(
        Client::mweb_url_with_redirect(
            "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx1&package=1",
            "https://m.example.com/done?o=1"
        ),
        "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx1&package=1&redirect_url=https%3A%2F%2Fm.example.com%2Fdone%3Fo%3D1"
    );
    // The default nonce is 32 hex characters.
    let d = Client::builder(merchant(SignType::HmacSha256))
        .build()
        .unwrap();
    let p = d.jsapi_params("x");
    assert_eq!(p.nonce_str.len(), 32);
    assert!(p.nonce_str.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(p.sign_type, "HMAC-SHA256");
    assert_eq!(p.pay_sign.len(), 64);
}

#[tokio::test]
async fn failover_repeats_safe_requests_on_the_backup_url() {
    let sim = sim().await;
    // The primary refuses connections.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let primary = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let c = Client::builder(merchant(SignType::Md5))
        .base_url(primary)
        .backup_url(sim.base_url())
        .retries(1, Duration::from_millis(1))
        .build()
        .unwrap();
    let e = c
        .order_query(&OrderQuery::by_out_trade_no(no("FO1")))
        .await
        .unwrap_err();
    assert_eq!(
        e.err_code(),
        Some(&ErrCode::OrderNotExist),
        "answered by the backup: {e}"
    );
    assert_eq!(sim.calls("orderquery"), 1);
}

/// Real bills: the modern 27-column layout with a BOM, CRLF, five-decimal fees (negative on
/// refund rows), a product name with a comma and the 7-column summary; errors name the column.
#[tokio::test]
async fn modern_bills_parse_with_exact_fees() {
    let text = "\u{feff}交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\r\n\
`2026-11-30 10:00:00,`wx2421b1c4370ec43b,`10000100,`0,`,`4200000001,`M1,`oU1,`JSAPI,`SUCCESS,`CFT,`CNY,`9.90,`0.00,`0,`0,`0.00,`0.00,`,`,`会员,月卡,`,`0.05940,`0.60%,`9.90,`0.00,`\r\n\
`2026-11-30 11:00:00,`wx2421b1c4370ec43b,`10000100,`0,`,`4200000001,`M1,`oU1,`JSAPI,`REFUND,`CFT,`CNY,`0.00,`0.00,`5000001,`R1,`3.30,`0.00,`ORIGINAL,`SUCCESS,`会员,月卡,`,`-0.01980,`0.60%,`0.00,`3.30,`\r\n\
总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n\
`2,`9.90,`3.30,`0.00,`0.03960,`9.90,`3.30\r\n";
    let bill = tenpay_client_test_parse(text.to_owned()).await;
    assert_eq!(bill.columns.len(), 27);
    assert_eq!(bill.columns[0], "交易时间");
    let (paid, refund) = (&bill.rows[0], &bill.rows[1]);
    assert_eq!(paid.body(), Some("会员,月卡"));
    assert_eq!(paid.total_fee, Some(Fen::new(990)));
    assert_eq!(paid.service_fee, Some(tenpay_xml::Fee::new(5940)));
    assert_eq!(paid.order_fee, Some(Fen::new(990)));
    assert_eq!(refund.refund_fee, Some(Fen::new(330)));
    assert_eq!(refund.service_fee, Some(tenpay_xml::Fee::new(-1980)));
    assert_eq!(refund.apply_refund_fee, Some(Fen::new(330)));
    assert_eq!(bill.summary.count, 2);
    assert_eq!(bill.summary.refund_fee, Some(Fen::new(330)));
    assert_eq!(bill.summary.service_fee, Some(tenpay_xml::Fee::new(3960)));
    assert_eq!(bill.summary.apply_refund_fee, Some(Fen::new(330)));
    // A bad fee names its column.
    let bad = text.replace("`0.05940", "`0.0594x");
    let base = fixed_server(vec![("/pay/downloadbill", bad.into_bytes())]).await;
    let c = Client::builder(merchant(SignType::Md5))
        .base_url(base)
        .build()
        .unwrap();
    let e = c
        .download_bill(&DownloadBill::new("20261130", BillType::All).unwrap())
        .await
        .unwrap_err();
    let cause = std::error::Error::source(&e)
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(cause.contains("手续费"), "{e}: {cause}");
}

/// The simulator's bill of a day with a payment and a refund: the fee is charged on the
/// payment and returned on the refund, exactly.
#[tokio::test]
async fn the_simulators_bill_carries_exact_fees_for_payments_and_refunds() {
    let sim = sim().await;
    let c = client(&sim, SignType::Md5);
    c.unified_order(&order("BF1")).await.unwrap();
    sim.pay("BF1", &PayOptions::new()).unwrap();
    c.refund(&refund_of("BF1", "BFR1", 300)).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while sim.order("BF1").unwrap().refunds[0].refund_status != "SUCCESS" {
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let BillOutcome::Bill(bill) = c
        .download_bill(
            &DownloadBill::new(&beijing_today(), BillType::All)
                .unwrap()
                .gzip(),
        )
        .await
        .unwrap()
    else {
        panic!("no bill")
    };
    assert_eq!(bill.rows.len(), 2);
    // 888 fen at 0.60% = 0.05328 yuan; 300 fen returned = -0.01800 yuan.
    assert_eq!(bill.rows[0].service_fee, Some(tenpay_xml::Fee::new(5328)));
    assert_eq!(bill.rows[1].service_fee, Some(tenpay_xml::Fee::new(-1800)));
    assert_eq!(bill.summary.service_fee, Some(tenpay_xml::Fee::new(3528)));
    assert_eq!(bill.summary.refund_fee, Some(Fen::new(300)));
}

/// Every summary column of every layout has its field (review t3: the 5-column layout with
/// 总企业红包退款金额 lost that total).
#[test]
fn every_summary_layout_maps_every_column() {
    use std::io::Cursor;
    use tenpay_client::BillReader;
    let header = "交易时间,商户订单号,应结订单金额";
    let row = "`2026-11-30 10:00:00,`M1,`1.00";
    for (summary, coupon) in [
        (
            "总交易单数,总交易额,总退款金额,总企业红包退款金额,手续费总金额\n`1,`1.00,`0.50,`0.20,`0.00600",
            20,
        ),
        (
            "总交易单数,总交易额,总退款金额,总代金券或立减优惠退款金额,手续费总金额\n`1,`1.00,`0.50,`0.30,`0.00600",
            30,
        ),
        (
            "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\n`1,`1.00,`0.50,`0.40,`0.00600,`1.20,`0.60",
            40,
        ),
    ] {
        let text = format!("{header}\n{row}\n{summary}\n");
        let mut r = BillReader::new(Cursor::new(text.into_bytes())).unwrap();
        assert_eq!(r.by_ref().count(), 1);
        let s = r.summary().unwrap().clone();
        assert_eq!(s.count, 1);
        assert_eq!(s.total_fee, Some(Fen::new(100)), "{summary}");
        assert_eq!(s.refund_fee, Some(Fen::new(50)), "{summary}");
        assert_eq!(s.coupon_refund_fee, Some(Fen::new(coupon)), "{summary}");
        assert_eq!(s.service_fee.map(|f| f.get()), Some(600), "{summary}");
        if summary.contains("订单总金额,") {
            assert_eq!(s.order_fee, Some(Fen::new(120)));
            assert_eq!(s.apply_refund_fee, Some(Fen::new(60)));
        }
    }
}

/// `BillReader`: row by row from any `BufRead`, every line ending and BOM, bounded lines.
#[test]
fn bill_reader_streams_rows_and_refuses_what_is_not_a_bill() {
    use std::io::Cursor;
    use tenpay_client::BillReader;
    let header = "交易时间,商户订单号,商品名称,应结订单金额,手续费";
    let rows = [
        "`2026-11-30 10:00:00,`M1,`a,b,`1.00,`0.00600",
        "`2026-11-30 10:01:00,`M2,`c,`2.00,`0.01200",
    ];
    let summary = "总交易单数,应结订单总金额,手续费总金额\n`2,`3.00,`0.01800";
    for (bom, eol, last) in [
        ("", "\n", "\n"),
        ("\u{feff}", "\r\n", ""),
        ("\u{feff}", "\n", "\r\n"),
    ] {
        let text = format!(
            "{bom}{header}{eol}{}{eol}{}{eol}{}{last}",
            rows[0],
            rows[1],
            summary.replace('\n', eol)
        );
        let mut r = BillReader::new(Cursor::new(text.into_bytes())).unwrap();
        assert_eq!(r.columns()[0], "交易时间");
        let got: Vec<_> = r.by_ref().collect::<Result<_, _>>().unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].body(), Some("a,b"));
        assert_eq!(got[1].total_fee, Some(Fen::new(200)));
        assert_eq!(got[1].cell("商户订单号"), Some("M2"));
        assert_eq!(
            r.summary().unwrap().service_fee,
            Some(tenpay_xml::Fee::new(1800))
        );
        assert!(r.next().is_none());
    }
    let bad = |text: String| {
        let r = BillReader::new(Cursor::new(text.into_bytes()));
        match r {
            Err(e) => e,
            Ok(mut r) => r.find_map(Result::err).expect("an error"),
        }
    };
    // No summary; a row with another number of cells; a line over 64 KiB; not UTF-8.
    for text in [
        format!("{header}\n{}\n", rows[0]),
        format!("{header}\n`x,`y\n{summary}\n"),
        format!("{header}\n`{}\n", "x".repeat(70 * 1024)),
        String::new(),
    ] {
        let e = bad(text);
        assert!(matches!(e, Error::NotXml { .. }), "{e}");
    }
    let mut latin1 = format!("{header}\n").into_bytes();
    latin1.extend_from_slice(b"`\xe9\n");
    assert!(
        BillReader::new(Cursor::new(latin1))
            .unwrap()
            .next()
            .unwrap()
            .is_err()
    );
}

/// `download_bill_to`: the bill streamed into a writer (plain and gzip), read back with
/// `BillReader`; "no bill" and the size limit as for `download_bill`.
#[tokio::test]
async fn a_bill_streams_into_a_writer_and_reads_back_row_by_row() {
    use tenpay_client::BillReader;
    let sim = sim().await;
    let c = client(&sim, SignType::Md5);
    for n in ["BS1", "BS2", "BS3"] {
        c.unified_order(&order(n)).await.unwrap();
        sim.pay(n, &PayOptions::new()).unwrap();
    }
    let today = beijing_today();
    for req in [
        DownloadBill::new(&today, BillType::All).unwrap(),
        DownloadBill::new(&today, BillType::All).unwrap().gzip(),
    ] {
        let mut file: Vec<u8> = Vec::new();
        let BillOutcome::Bill(written) = c.download_bill_to(&req, &mut file).await.unwrap() else {
            panic!("no bill")
        };
        assert_eq!(written, file.len() as u64);
        let mut reader = BillReader::new(std::io::Cursor::new(file)).unwrap();
        let rows: Vec<_> = reader.by_ref().collect::<Result<_, _>>().unwrap();
        let mut nos: Vec<_> = rows.iter().filter_map(|r| r.out_trade_no()).collect();
        nos.sort_unstable();
        assert_eq!(nos, ["BS1", "BS2", "BS3"]);
        assert_eq!(reader.summary().unwrap().count, 3);
    }
    // No bill for a day without trades.
    let mut sink: Vec<u8> = Vec::new();
    let none = c
        .download_bill_to(
            &DownloadBill::new("20200101", BillType::All).unwrap(),
            &mut sink,
        )
        .await
        .unwrap();
    assert!(matches!(none, BillOutcome::NoBill { .. }), "{none:?}");
    assert!(sink.is_empty());
    // Over the limit: refused, whatever was written stays a partial file for the caller to drop.
    // The streamed cap is its own: the in-memory one does not limit a stream.
    let small = tls_builder(&sim, SignType::Md5)
        .max_streamed_bill_bytes(100)
        .max_bill_bytes(10)
        .build()
        .unwrap();
    let e = small
        .download_bill_to(
            &DownloadBill::new(&today, BillType::All).unwrap().gzip(),
            &mut Vec::new(),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::TooLarge { limit: 100 }), "{e}");
    let in_memory_only = tls_builder(&sim, SignType::Md5)
        .max_bill_bytes(100)
        .build()
        .unwrap();
    let mut all = Vec::new();
    in_memory_only
        .download_bill_to(
            &DownloadBill::new(&today, BillType::All).unwrap().gzip(),
            &mut all,
        )
        .await
        .unwrap();
    assert!(all.len() > 100);
    let e = in_memory_only
        .download_bill(&DownloadBill::new(&today, BillType::All).unwrap())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::TooLarge { limit: 100 }), "{e}");
    assert_eq!(tenpay_client::DEFAULT_MAX_BILL_BYTES, 64 << 20);
    sim.shutdown().await;
}

/// An orderquery SUCCESS counts for a payment-code charge only when it names the same number
/// and amount: a number already paid with another amount is neither claimed nor reversed.
#[tokio::test]
async fn a_payment_code_success_counts_only_for_the_same_number_and_amount() {
    let sim = sim().await;
    let c = micropay_client(&sim);
    let pay = |fen: u64| {
        Micropay::new(
            "刷卡",
            no("PM1"),
            Fen::new(fen),
            "127.0.0.1",
            "134567890123456700",
        )
    };
    assert!(matches!(
        c.pay_with_code(&pay(1)).await.unwrap(),
        MicropayOutcome::Paid(_)
    ));
    // The same number for 2 fen; the answer is lost (SYSTEMERROR): the query finds 1 fen paid.
    sim.inject(Fault::next("micropay", FaultKind::SystemError, 1))
        .unwrap();
    let MicropayOutcome::Unknown(u) = c.pay_with_code(&pay(2)).await.unwrap() else {
        panic!("another amount's payment was claimed")
    };
    assert!(
        matches!(
            u.cause(),
            Error::Mismatch {
                field: "total_fee",
                ..
            }
        ),
        "{:?}",
        u.cause()
    );
    assert_eq!(u.number(), "PM1");
    assert_eq!(sim.calls("reverse"), 0, "not ours to reverse");
    assert_eq!(sim.order("PM1").unwrap().trade_state, "SUCCESS");
}
