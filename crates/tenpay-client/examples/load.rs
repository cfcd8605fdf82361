//! Load run: N concurrent tasks calling unifiedorder against a simulator for a few seconds.
//!
//! `cargo run --release -p tenpay-client --example load -- http://127.0.0.1:PORT [tasks] [seconds]`
//! (start the simulator with `tenpay sim --merchant wx2421b1c4370ec43b:10000100:192006250b4c09247ec02edce69f6a2d`).
#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tenpay_client::{Client, OutTradeNo, UnifiedOrder};
use tenpay_sign::{ApiKey, SignType};
use tenpay_xml::Fen;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = args
        .get(1)
        .cloned()
        .expect("usage: load BASE_URL [tasks] [seconds]");
    let tasks: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(64);
    let secs: u64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(10);
    let key = ApiKey::new("192006250b4c09247ec02edce69f6a2d").unwrap();
    let client = Client::builder(tenpay_client::Merchant::new(
        "wx2421b1c4370ec43b",
        "10000100",
        key,
        SignType::Md5,
    ))
    .base_url(base)
    .build()
    .unwrap();
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let run = std::process::id();
    let started = Instant::now();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let (client, done, errors) = (client.clone(), Arc::clone(&done), Arc::clone(&errors));
        handles.push(tokio::spawn(async move {
            let mut i = 0u64;
            while Instant::now() < deadline {
                let no = OutTradeNo::new(format!("C{run}T{t}N{i}")).unwrap();
                let order = UnifiedOrder::native(
                    "load",
                    no,
                    Fen::new(1),
                    "127.0.0.1",
                    "http://127.0.0.1:9/notify",
                    "P1",
                );
                match client.unified_order(&order).await {
                    Ok(_) => done.fetch_add(1, Ordering::Relaxed),
                    Err(_) => errors.fetch_add(1, Ordering::Relaxed),
                };
                i += 1;
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let elapsed_ms = u64::try_from(started.elapsed().as_millis())
        .unwrap_or(u64::MAX)
        .max(1);
    let ok = done.load(Ordering::Relaxed);
    println!(
        "{{\"tasks\": {tasks}, \"milliseconds\": {elapsed_ms}, \"calls\": {ok}, \"errors\": {}, \"calls_per_s\": {}}}",
        errors.load(Ordering::Relaxed),
        ok * 1000 / elapsed_ms
    );
}
