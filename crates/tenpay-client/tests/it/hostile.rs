//! The client against hostile servers on 127.0.0.1: oversized and endless answers, gzip
//! bombs, redirects, plain HTTP, and answers that leave a payment-code charge in doubt.

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

/// A server that answers every request with `head` and then `body` (repeated `repeat`
/// times, for endless answers), counting requests.
async fn raw_server(head: String, body: Vec<u8>, repeat: usize) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            counter.fetch_add(1, Ordering::SeqCst);
            let (head, body) = (head.clone(), body.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let _ = s.read(&mut buf).await;
                if s.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                for _ in 0..repeat {
                    if s.write_all(&body).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (format!("http://{addr}"), hits)
}

fn plain(base: &str) -> Client {
    Client::builder(merchant(SignType::Md5))
        .base_url(base)
        .retries(2, Duration::from_millis(1))
        .build()
        .unwrap()
}

#[tokio::test]
async fn an_oversized_answer_is_refused_unread_and_not_retried() {
    // Declared 1.5 GiB: refused on the header.
    let (base, hits) = raw_server(
        "HTTP/1.1 200 OK\r\nContent-Length: 1610612736\r\n\r\n".into(),
        vec![b'x'; 64 * 1024],
        16,
    )
    .await;
    let e = plain(&base)
        .order_query(&OrderQuery::by_out_trade_no(no("H1")))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::TooLarge { .. }), "{e}");
    assert!(!e.is_retryable());
    assert_eq!(hits.load(Ordering::SeqCst), 1, "not downloaded again");
    // Undeclared and endless (chunked): cut at the cap while streaming.
    let chunk = {
        let data = vec![b'<'; 32 * 1024];
        let mut c = format!("{:x}\r\n", data.len()).into_bytes();
        c.extend_from_slice(&data);
        c.extend_from_slice(b"\r\n");
        c
    };
    let (base, hits) = raw_server(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".into(),
        chunk,
        100_000,
    )
    .await;
    let e = plain(&base)
        .order_query(&OrderQuery::by_out_trade_no(no("H2")))
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::TooLarge { limit } if limit == tenpay_client::MAX_ANSWER_BYTES),
        "{e}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

fn gzip(members: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in members {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(m).unwrap();
        out.extend(enc.finish().unwrap());
    }
    out
}

fn reference_bill() -> String {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/protocol/downloadbill_all.csv"
    ))
    .unwrap();
    text.lines().skip(1).map(|l| format!("{l}\n")).collect()
}

async fn bill_from(body: Vec<u8>, max: usize) -> Result<BillOutcome, Error> {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let (base, _) = raw_server(head, body, 1).await;
    Client::builder(merchant(SignType::Md5))
        .base_url(base)
        .max_bill_bytes(max)
        .build()
        .unwrap()
        .download_bill(&DownloadBill::new("20141110", BillType::All).unwrap().gzip())
        .await
}

#[tokio::test]
async fn a_gzip_bill_inflates_through_the_limit_and_every_member_is_read() {
    // 64 MiB of zeros in about 64 KiB: refused at the 1 MiB limit.
    let bomb = gzip(&[&vec![0u8; 64 * 1024 * 1024]]);
    assert!(bomb.len() < 200 * 1024);
    let e = bill_from(bomb, 1024 * 1024).await.unwrap_err();
    assert!(matches!(e, Error::TooLarge { limit: 1_048_576 }), "{e}");
    // A bill written as two gzip members reads whole.
    let text = reference_bill();
    let (a, b) = text.as_bytes().split_at(text.len() / 2);
    match bill_from(gzip(&[a, b]), 1024 * 1024).await.unwrap() {
        BillOutcome::Bill(bill) => {
            assert_eq!(bill.rows.len(), 2);
            assert_eq!(bill.summary.count, 2);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let (elsewhere, elsewhere_hits) = raw_server(
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".into(),
        Vec::new(),
        1,
    )
    .await;
    let head = format!(
        "HTTP/1.1 307 Temporary Redirect\r\nLocation: {elsewhere}/pay/orderquery\r\nContent-Length: 0\r\n\r\n"
    );
    let (base, _) = raw_server(head, Vec::new(), 1).await;
    let e = plain(&base)
        .order_query(&OrderQuery::by_out_trade_no(no("H3")))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Http { status: 307, .. }), "{e}");
    assert_eq!(
        elsewhere_hits.load(Ordering::SeqCst),
        0,
        "the signed body went nowhere else"
    );
}

#[test]
fn plain_http_is_refused_except_for_loopback_or_with_the_opt_in() {
    let build = |url: &str, opt_in: bool| {
        Client::builder(merchant(SignType::Md5))
            .base_url(url)
            .allow_insecure_http(opt_in)
            .build()
    };
    for refused in [
        "http://api.mch.weixin.qq.com",
        "http://10.0.0.5:8080",
        "ftp://x",
        "api.mch.weixin.qq.com",
    ] {
        assert!(
            matches!(build(refused, false), Err(Error::Config(_))),
            "{refused}"
        );
    }
    for accepted in [
        "https://api.mch.weixin.qq.com",
        "http://127.0.0.1:1",
        "http://localhost:2",
        "http://[::1]:3",
        "http://127.1.2.3",
    ] {
        assert!(build(accepted, false).is_ok(), "{accepted}");
    }
    assert!(build("http://10.0.0.5:8080", true).is_ok());
    let backup = Client::builder(merchant(SignType::Md5))
        .base_url("https://api.mch.weixin.qq.com")
        .backup_url("http://api2.mch.weixin.qq.com")
        .build();
    assert!(matches!(backup, Err(Error::Config(_))));
}

/// After micropay reached the server, an answer that does not verify is "in doubt": the
/// helper queries (and would reverse) instead of returning an error that invites a rescan.
#[tokio::test]
async fn a_micropay_answer_that_does_not_verify_is_queried_not_final() {
    let sim = sim().await;
    let c = micropay_client(&sim);
    for (n, kind) in [
        ("HD1", FaultKind::BadSignature),
        ("HD2", FaultKind::Truncated),
    ] {
        sim.inject(Fault::next("micropay", kind, 1)).unwrap();
        let outcome = c
            .pay_with_code(&Micropay::new(
                "刷卡",
                no(n),
                Fen::new(1),
                "127.0.0.1",
                "134567890123456700",
            ))
            .await
            .unwrap();
        assert!(
            matches!(outcome, MicropayOutcome::PaidAfterPolling(_)),
            "{n}: {outcome:?}"
        );
        assert_eq!(sim.order(n).unwrap().trade_state, "SUCCESS");
    }
}

fn signed_answer(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut m = tenpay_xml::XmlMap::new();
    for (k, v) in fields {
        m.insert(k, v).unwrap();
    }
    m.sign(&key(), SignType::Md5).unwrap();
    m.to_xml().into_bytes()
}

/// A genuinely signed answer for another sub-merchant (or naming one, to a direct merchant)
/// is foreign.
#[tokio::test]
async fn answers_for_another_sub_merchant_are_foreign() {
    let answer = |sub: &str| {
        let mut fields = vec![
            ("return_code", "SUCCESS"),
            ("result_code", "SUCCESS"),
            ("appid", APPID),
            ("mch_id", MCH),
            ("nonce_str", "n"),
            ("out_trade_no", "S1"),
            ("trade_state", "NOTPAY"),
        ];
        if !sub.is_empty() {
            fields.push(("sub_mch_id", sub));
        }
        signed_answer(&fields)
    };
    let provider = |base: String| {
        Client::builder(merchant(SignType::Md5).with_sub_merchant("1900000109", None))
            .base_url(base)
            .build()
            .unwrap()
    };
    let query = OrderQuery::by_out_trade_no(no("S1"));
    // (the answer's sub_mch_id, a provider's client?, accepted?)
    for (sub, as_provider, accepted) in [
        ("1900000110", true, false),
        ("", true, false),
        ("1900000109", true, true),
        ("1900000109", false, false),
    ] {
        let base = fixed_server(vec![("/pay/orderquery", answer(sub))]).await;
        let c = if as_provider {
            provider(base)
        } else {
            plain(&base)
        };
        match c.order_query(&query).await {
            Ok(_) => assert!(accepted, "{sub} {as_provider}"),
            Err(e) => {
                assert!(!accepted, "{sub} {as_provider}: {e}");
                assert!(
                    matches!(
                        e,
                        Error::ForeignAnswer {
                            field: "sub_mch_id",
                            ..
                        }
                    ),
                    "{e}"
                );
            }
        }
    }
}

/// Errors display their own layer; the cause is their `source()`, never printed twice.
#[tokio::test]
async fn errors_do_not_print_their_cause_twice() {
    let bad_sig = signed_answer(&[("return_code", "SUCCESS")]);
    let mut tampered = String::from_utf8(bad_sig).unwrap();
    tampered = tampered.replace("</xml>", "<extra>1</extra></xml>");
    let base = fixed_server(vec![("/pay/orderquery", tampered.into_bytes())]).await;
    let e = plain(&base)
        .order_query(&OrderQuery::by_out_trade_no(no("E1")))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::BadSignature(_)), "{e}");
    let source = std::error::Error::source(&e).expect("a cause").to_string();
    assert!(!e.to_string().contains(&source), "{e} repeats {source}");
}

/// Configuration errors are typed and keep their causes; transport errors keep reqwest's.
#[tokio::test]
async fn configuration_and_transport_errors_are_typed_with_their_causes() {
    use tenpay_client::ConfigError;
    let e = Client::builder(merchant(SignType::Md5))
        .base_url("http://10.1.2.3")
        .build()
        .unwrap_err();
    assert!(
        matches!(e, Error::Config(ConfigError::BaseUrl { ref url }) if url == "http://10.1.2.3"),
        "{e}"
    );
    let missing = std::env::temp_dir().join("tenpay-no-such-cert.p12");
    let e = Identity::from_pkcs12_file(&missing).unwrap_err();
    match &e {
        Error::Config(ConfigError::Read { path, source }) => {
            assert_eq!(path, &missing);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("{other:?}"),
    }
    assert!(std::error::Error::source(&e).is_some());
    let e = OutTradeNo::new("no spaces").unwrap_err();
    assert_eq!(
        (e.name(), e.max_len(), e.value()),
        ("OutTradeNo", 32, "no spaces")
    );
    // Through `?` in a client function it becomes a configuration error with the same text.
    let e = Error::from(e);
    assert!(matches!(&e, Error::Config(ConfigError::Id(_))), "{e:?}");
    assert!(
        e.to_string()
            .contains("OutTradeNo must be 1 to 32 characters"),
        "{e}"
    );
    // Nothing listens on port 9 of loopback: a connect error, retryable, with reqwest's cause.
    let c = Client::builder(merchant(SignType::Md5))
        .base_url("http://127.0.0.1:9")
        .retries(0, Duration::ZERO)
        .build()
        .unwrap();
    let e = c
        .order_query(&OrderQuery::by_out_trade_no(no("T1")))
        .await
        .unwrap_err();
    assert!(
        e.is_connect() && e.is_retryable() && !e.is_timeout(),
        "{e:?}"
    );
    assert!(std::error::Error::source(&e).is_some());
}

/// `execute_answered` hands back the bytes as received (here with CDATA, a comment-free
/// but re-ordered, indented body that a re-serialised map would not reproduce), and they are
/// the bytes whose signature verified.
#[tokio::test]
async fn an_answered_call_keeps_the_bytes_it_verified() {
    let signed = signed_answer(&[
        ("return_code", "SUCCESS"),
        ("result_code", "SUCCESS"),
        ("appid", APPID),
        ("mch_id", MCH),
        ("trade_state", "NOTPAY"),
        ("out_trade_no", "KEPT1"),
    ]);
    let map = tenpay_xml::XmlMap::parse(&signed).unwrap();
    // The same fields, written as WeChat Pay writes them: CDATA, newlines, another order.
    let mut body = String::from("<xml>\n");
    for (k, v) in map.iter().collect::<Vec<_>>().into_iter().rev() {
        body.push_str(&format!("  <{k}><![CDATA[{v}]]></{k}>\n"));
    }
    body.push_str("</xml>");
    assert_ne!(body.as_bytes(), map.to_xml().as_bytes());
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let (base, _) = raw_server(head, body.clone().into_bytes(), 1).await;
    let (record, received) = plain(&base)
        .execute_answered(&OrderQuery::by_out_trade_no(no("KEPT1")))
        .await
        .unwrap();
    assert_eq!(record.out_trade_no.as_deref(), Some("KEPT1"));
    assert_eq!(received.body(), body.as_bytes());
}
