//! The notify service on hyper with an in-memory handler: the load-test target.
//!
//! `cargo run --release -p tenpay-notify --example serve -- 127.0.0.1:18800`, then e.g.
//! `NOTIFY=testdata/bench/pay_notify.xml wrk -t1 -c64 -d10s --latency -s bench/load/notify.lua http://127.0.0.1:18800/`
#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tenpay_notify::{Notification, Notifier, NotifyService, verified};
use tenpay_sign::{ApiKey, Merchant, SignType};

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18800".into());
    let notifier = Notifier::new(&Merchant::new(
        "wx2421b1c4370ec43b",
        "10000100",
        ApiKey::new("192006250b4c09247ec02edce69f6a2d").unwrap(),
        SignType::Md5,
    ));
    let paid = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&paid);
    let service = NotifyService::new(
        notifier,
        verified(move |n: Notification| {
            let counter = Arc::clone(&counter);
            async move {
                if let Notification::Pay(p) = n {
                    // An in-memory "order store": settle against the known amount.
                    p.settle(tenpay_xml::Fen::new(88))
                        .map_err(|e| e.to_string())?;
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                Ok::<(), String>(())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await.unwrap();
    println!("notify service on http://{addr}");
    loop {
        let (stream, _) = listener.accept().await.unwrap();
        let _ = stream.set_nodelay(true);
        let svc = TowerToHyperService::new(service.clone());
        tokio::spawn(
            hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc),
        );
    }
}
