//! The notify service over real HTTP on 127.0.0.1 (hyper server, raw HTTP/1.1 client).
#![allow(clippy::unwrap_used, missing_docs)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tenpay_notify::{Delivery, Handler, Notification, Notifier, NotifyService, verified};
use tenpay_sign::{ApiKey, SignType};
use tenpay_xml::XmlMap;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const KEY: &str = "192006250b4c09247ec02edce69f6a2d";

fn notifier() -> Notifier {
    Notifier::new(&tenpay_sign::Merchant::new(
        "wx2421b1c4370ec43b",
        "10000100",
        ApiKey::new(KEY).unwrap(),
        SignType::Md5,
    ))
}

fn signed_notify(out_trade_no: &str) -> Vec<u8> {
    let mut m = XmlMap::new();
    for (k, v) in [
        ("return_code", "SUCCESS"),
        ("appid", "wx2421b1c4370ec43b"),
        ("mch_id", "10000100"),
        ("nonce_str", "abc"),
        ("result_code", "SUCCESS"),
        ("total_fee", "100"),
        ("out_trade_no", out_trade_no),
    ] {
        m.insert(k, v).unwrap();
    }
    m.sign(&ApiKey::new(KEY).unwrap(), SignType::Md5).unwrap();
    m.to_xml().into_bytes()
}

async fn serve<H: Handler>(service: NotifyService<H>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let svc = TowerToHyperService::new(service.clone());
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc),
            );
        }
    });
    addr
}

/// Sends one request and returns (status, body).
async fn send(
    addr: SocketAddr,
    method: &str,
    body: &[u8],
    content_length: Option<usize>,
) -> (u16, Vec<u8>) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let len = content_length.unwrap_or(body.len());
    let head = format!(
        "{method} /notify HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    // A server that refuses early may close before reading all of it.
    let _ = s.write_all(body).await;
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    let text = String::from_utf8_lossy(&out);
    let status = text.split(' ').nth(1).unwrap().parse().unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    (status, out[split..].to_vec())
}

#[tokio::test]
async fn acks_only_after_the_handler_succeeds() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let audit_rows = Arc::new(AtomicUsize::new(0));
    let seen2 = Arc::clone(&seen);
    let rows = Arc::clone(&audit_rows);
    let service = NotifyService::new(
        notifier(),
        verified(move |n: Notification| {
            let seen = Arc::clone(&seen2);
            async move {
                let Notification::Pay(p) = n else {
                    return Err("unexpected refund".to_owned());
                };
                match p.out_trade_no().as_str() {
                    "fail" => Err("database is down".to_owned()),
                    "panic" => panic!("handler bug"),
                    _ => {
                        seen.lock().unwrap().push(p.out_trade_no().to_owned());
                        Ok(())
                    }
                }
            }
        }),
    )
    .audit(move |a| {
        assert!(!a.body.is_empty());
        rows.fetch_add(1, Ordering::SeqCst);
    });
    let addr = serve(service).await;

    let (status, body) = send(addr, "POST", &signed_notify("T1"), None).await;
    assert_eq!(status, 200);
    assert_eq!(body, tenpay_notify::ACK);
    assert_eq!(*seen.lock().unwrap(), ["T1"]);

    let (status, body) = send(addr, "POST", &signed_notify("fail"), None).await;
    assert_eq!(status, 500);
    assert!(String::from_utf8_lossy(&body).contains("FAIL"));

    let (status, body) = send(addr, "POST", &signed_notify("panic"), None).await;
    assert_eq!(status, 500);
    assert!(String::from_utf8_lossy(&body).contains("FAIL"));

    // The server keeps serving after a handler panic.
    let (status, _) = send(addr, "POST", &signed_notify("T2"), None).await;
    assert_eq!(status, 200);
    assert_eq!(*seen.lock().unwrap(), ["T1", "T2"]);

    // Forged: refused, handler not called, still audited.
    let mut forged = String::from_utf8(signed_notify("T3")).unwrap();
    forged = forged.replace("<total_fee>100</total_fee>", "<total_fee>1</total_fee>");
    let (status, body) = send(addr, "POST", forged.as_bytes(), None).await;
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("FAIL"));
    assert_eq!(seen.lock().unwrap().len(), 2);
    assert_eq!(audit_rows.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn method_and_size_limits() {
    let called = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&called);
    let service = NotifyService::new(
        notifier(),
        verified(move |_n: Notification| {
            c.fetch_add(1, Ordering::SeqCst);
            async { Ok::<(), String>(()) }
        }),
    )
    .max_body_bytes(1024);
    let addr = serve(service).await;

    let (status, _) = send(addr, "GET", b"", None).await;
    assert_eq!(status, 405);
    // Declared too large: refused before reading.
    let (status, _) = send(addr, "POST", b"<xml>", Some(10 * 1024 * 1024)).await;
    assert_eq!(status, 413);
    // Actually too large with a matching length.
    let big = vec![b'x'; 4096];
    let (status, _) = send(addr, "POST", &big, None).await;
    assert_eq!(status, 413);
    assert_eq!(called.load(Ordering::SeqCst), 0);
    let (status, _) = send(addr, "POST", &signed_notify("ok"), None).await;
    assert_eq!(status, 200);
    assert_eq!(called.load(Ordering::SeqCst), 1);
}

/// The deliveries handler sees every body with its verdict; refused ones are answered 400
/// whatever it returns, verified ones are acknowledged only after `Ok`.
#[tokio::test]
async fn deliveries_see_refused_bodies_too() {
    // (body length, out_trade_no or why it was refused) per delivery.
    type Seen = Vec<(usize, Result<String, String>)>;
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let log = Arc::clone(&seen);
    let service = NotifyService::new(notifier(), move |d: Delivery| {
        let log = Arc::clone(&log);
        async move {
            let verdict = match &d.verdict {
                Ok(Notification::Pay(p)) => Ok(p.out_trade_no().to_string()),
                Ok(_) => Ok("another kind".to_owned()),
                Err(e) => Err(e.to_string()),
            };
            let name = verdict.clone().unwrap_or_default();
            log.lock().unwrap().push((d.body.len(), verdict));
            match name.as_str() {
                "fail" => Err("database is down".to_owned()),
                "panic" => panic!("handler bug"),
                _ if d.verdict.is_err() && d.body.starts_with(b"<xml><boom") => {
                    panic!("handler bug on a refused body")
                }
                _ if d.verdict.is_err() => Err("could not store the refusal".to_owned()),
                _ => Ok(()),
            }
        }
    });
    let addr = serve(service).await;

    let genuine = signed_notify("D1");
    let (status, body) = send(addr, "POST", &genuine, None).await;
    assert_eq!((status, body.as_slice()), (200, tenpay_notify::ACK));

    let forged = String::from_utf8(signed_notify("D2"))
        .unwrap()
        .replace("<total_fee>100</total_fee>", "<total_fee>1</total_fee>");
    let (status, body) = send(addr, "POST", forged.as_bytes(), None).await;
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("FAIL"));

    let (status, _) = send(addr, "POST", &signed_notify("fail"), None).await;
    assert_eq!(status, 500);
    let (status, _) = send(addr, "POST", &signed_notify("panic"), None).await;
    assert_eq!(status, 500);
    let (status, _) = send(addr, "POST", b"<xml><boom>1</boom></xml>", None).await;
    assert_eq!(status, 400);

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 5);
    assert_eq!(seen[0], (genuine.len(), Ok("D1".to_owned())));
    assert_eq!(seen[1].0, forged.len());
    assert!(
        seen[1].1.as_ref().is_err_and(|e| e.contains("signature")),
        "{:?}",
        seen[1]
    );
    assert!(seen[4].1.is_err());
}
