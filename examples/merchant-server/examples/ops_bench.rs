//! Benchmarks of the server's operations (not tests): the sweeper over many unpaid attempts
//! against the simulator, and the daily reconciliation of a large bill. Driven by
//! `bench/ops/run.sh`; each prints one line of figures and the process's peak RSS.
//!
//! ```text
//! ops_bench sweep DATABASE_URL N CONCURRENCY
//!     N unpaid attempts placed at the simulator and in the books; first the bound (N
//!     orderqueries straight from the client, CONCURRENCY at once), then the sweeper
//!     (batches of 1000, CONCURRENCY looks at once) until every attempt was looked at once.
//! ops_bench reconcile-setup DATABASE_URL N BILL.gz
//!     N paid orders today in the books, and the matching bill (gzip) in BILL.gz.
//! ops_bench serve-bill BILL.gz PORT
//!     answers every downloadbill with BILL.gz (run it as its own process).
//! ops_bench reconcile DATABASE_URL PORT
//!     reconciles today against the bill served on PORT.
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    clippy::float_arithmetic,
    clippy::cast_precision_loss,
    clippy::print_stdout
)]

use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use tenpay_client::{Fen, OrderQuery, OutTradeNo, UnifiedOrder};
use tenpay_merchant_server::config::DatabaseUrl;
use tenpay_merchant_server::payments::Payments;
use tenpay_merchant_server::simulator::{DEMO_APPID, DEMO_KEY, DEMO_MCH_ID, config_for};
use tenpay_merchant_server::sweeper::{SweepConfig, sweep_once};
use tenpay_merchant_server::{Config, Server};

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Today in Beijing: `yyyyMMdd` and its first second.
fn today() -> (String, i64) {
    let date = tenpay_xml::BeijingTime::from_unix(now())
        .unwrap()
        .to_string()[..8]
        .to_owned();
    let start = tenpay_merchant_server::reconcile::day(&date).unwrap().0;
    (date, start)
}

/// Inserts `rows` as orders and their first attempts, 500 a statement.
async fn bulk_insert(url: &str, rows: &[(String, i64, &str, Option<i64>)]) {
    install_default_drivers();
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .unwrap();
    let t = now();
    for chunk in rows.chunks(500) {
        let mut tx = pool.begin().await.unwrap();
        for (table, width) in [("orders", 12), ("attempts", 10)] {
            let mut sql = if table == "orders" {
                "INSERT INTO orders (out_trade_no, user_id, item, description, amount_fen, trade_type, payer_ip, state, created_at, paid_at, attempt, paid_attempt) VALUES ".to_owned()
            } else {
                "INSERT INTO attempts (out_trade_no, order_no, seq, state, created_at, expires_at, paid_at, transaction_id, paid_via, sweep_after) VALUES ".to_owned()
            };
            for i in 0..chunk.len() {
                let p: Vec<String> = (1..=width).map(|k| format!("${}", i * width + k)).collect();
                sql.push_str(&format!(
                    "{}({})",
                    if i == 0 { "" } else { "," },
                    p.join(",")
                ));
            }
            let mut q = sqlx::query(&sql);
            for (no, amount, state, paid_at) in chunk {
                let paid = paid_at.is_some();
                if table == "orders" {
                    q = q
                        .bind(no.clone())
                        .bind("bench")
                        .bind("a")
                        .bind("d")
                        .bind(*amount)
                        .bind("NATIVE")
                        .bind("127.0.0.1")
                        .bind(*state)
                        .bind(t)
                        .bind(*paid_at)
                        .bind(no.clone())
                        .bind(paid.then(|| no.clone()));
                } else {
                    q = q
                        .bind(no.clone())
                        .bind(no.clone())
                        .bind(1_i64)
                        .bind(*state)
                        .bind(t)
                        .bind(t + 7200)
                        .bind(*paid_at)
                        .bind(paid.then(|| format!("42{no}")))
                        .bind(paid.then_some("notification"))
                        .bind(0_i64);
                }
            }
            q.execute(&mut *tx).await.unwrap();
        }
        tx.commit().await.unwrap();
    }
}

async fn sweep(url: &str, n: usize, concurrency: usize) {
    let sim = tenpay_sim::Simulator::builder()
        .merchant(tenpay_sim::MerchantAccount::new(
            DEMO_APPID,
            DEMO_MCH_ID,
            tenpay_sign::ApiKey::new(DEMO_KEY).unwrap(),
        ))
        .tls(true)
        .limits(tenpay_sim::Limits::new().orders(n + 1000))
        .start()
        .await
        .unwrap();
    let mut config: Config = config_for(&sim, url).unwrap();
    config.sweep.interval = Duration::ZERO;
    let (store, client) = Server::connect(&config).await.unwrap();
    let run = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let numbers: Vec<String> = (0..n).map(|i| format!("S{run}{i:09}")).collect();
    // Placed at the simulator (concurrently) and in the books.
    let placed = Instant::now();
    let client = Arc::new(client);
    let sem = Arc::new(tokio::sync::Semaphore::new(64));
    let mut set = tokio::task::JoinSet::new();
    for no in &numbers {
        let (client, sem, no) = (Arc::clone(&client), Arc::clone(&sem), no.clone());
        set.spawn(async move {
            let _p = sem.acquire_owned().await.unwrap();
            let call = UnifiedOrder::native(
                "d",
                OutTradeNo::new(no).unwrap(),
                Fen::new(100),
                "127.0.0.1",
                "http://127.0.0.1:9/notify",
                "a",
            );
            client.unified_order(&call).await.unwrap();
        });
    }
    while set.join_next().await.is_some() {}
    let rows: Vec<_> = numbers
        .iter()
        .map(|no| (no.clone(), 100_i64, "NOTPAY", None))
        .collect();
    bulk_insert(config.database_url.expose(), &rows).await;
    eprintln!(
        "{n} attempts placed in {:.1} s",
        placed.elapsed().as_secs_f64()
    );

    // The bound: the simulator's own orderquery rate through the same client.
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let started = Instant::now();
    let before = sim.calls("orderquery");
    for no in &numbers {
        let (client, sem, no) = (Arc::clone(&client), Arc::clone(&sem), no.clone());
        set.spawn(async move {
            let _p = sem.acquire_owned().await.unwrap();
            client
                .order_query(&OrderQuery::by_out_trade_no(OutTradeNo::new(no).unwrap()))
                .await
                .unwrap();
        });
    }
    while set.join_next().await.is_some() {}
    let bound = n as f64 / started.elapsed().as_secs_f64();
    assert_eq!(sim.calls("orderquery") - before, n as u64);

    // The sweeper.
    let payments = Payments::new(
        Arc::unwrap_or_clone(client),
        store,
        "http://127.0.0.1:9".into(),
        "127.0.0.1".into(),
    );
    let cfg = SweepConfig {
        interval: Duration::ZERO,
        unpaid_after: Duration::ZERO,
        order_ttl: Duration::from_secs(7200),
        refund_after: Duration::from_secs(7200),
        batch: 1000,
        concurrency: u32::try_from(concurrency).unwrap(),
        backoff: Duration::from_secs(3600),
    };
    let started = Instant::now();
    let before = sim.calls("orderquery");
    let mut looked = 0;
    while looked < n as u64 {
        let r = sweep_once(&payments, &cfg).await.unwrap();
        assert_eq!(r.errors, 0);
        assert!(r.orders_queried > 0, "the sweeper stopped at {looked}");
        looked += r.orders_queried;
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    assert_eq!(
        sim.calls("orderquery") - before,
        n as u64,
        "an attempt queried twice"
    );
    println!(
        "sweep n={n} concurrency={concurrency} bound={bound:.0}/s sweeper={rate:.0}/s ratio={:.2} peak_rss_mib={:.0}",
        rate / bound,
        peak_rss_mib()
    );
}

fn bill_row(no: &str, yuan: &str, time: &str) -> String {
    format!(
        "`{time},`{DEMO_APPID},`{DEMO_MCH_ID},`0,`,`42{no},`{no},`oBench,`NATIVE,`SUCCESS,`CFT,`CNY,`{yuan},`0.00,`0,`0,`0.00,`0.00,`,`,`d,`,`0.00600,`0.60%,`{yuan},`0.00,`\r\n"
    )
}

async fn reconcile_setup(url: &str, n: usize, bill: &str) {
    let db = DatabaseUrl::new(url).unwrap();
    tenpay_merchant_server::Store::connect(&db).await.unwrap();
    let (_, start) = today();
    let run = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let rows: Vec<_> = (0..n)
        .map(|i| {
            (
                format!("B{run}{i:09}"),
                100_i64,
                "PAID",
                Some(start + (i % 80_000) as i64),
            )
        })
        .collect();
    let started = Instant::now();
    bulk_insert(db.expose(), &rows).await;
    eprintln!(
        "{n} paid orders in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let file = std::fs::File::create(bill).unwrap();
    let mut gz =
        flate2::write::GzEncoder::new(std::io::BufWriter::new(file), flate2::Compression::fast());
    gz.write_all("\u{feff}交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\r\n".as_bytes()).unwrap();
    // OPS_BENCH_MISSING=k leaves k payments out of the bill (the books' side is paged then).
    let missing: usize = std::env::var("OPS_BENCH_MISSING").map_or(0, |v| v.parse().unwrap());
    for (no, _, _, paid_at) in &rows[missing..] {
        let time = tenpay_xml::BeijingDateTime::from_unix(paid_at.unwrap())
            .unwrap()
            .to_string();
        gz.write_all(bill_row(no, "1.00", &time).as_bytes())
            .unwrap();
    }
    let n = n - missing;
    let total = format!("{}.00", n);
    gz.write_all(
        format!(
            "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n`{n},`{total},`0.00,`0.00,`{}.00000,`{total},`0.00\r\n",
            n * 6 / 1000
        )
        .as_bytes(),
    )
    .unwrap();
    gz.finish().unwrap().flush().unwrap();
}

async fn serve_bill(bill: &str, port: u16) {
    let bytes = Arc::new(std::fs::read(bill).unwrap());
    let app = axum::Router::new().fallback(move || {
        let bytes = Arc::clone(&bytes);
        async move {
            (
                [(http::header::CONTENT_TYPE, "application/x-gzip")],
                bytes.as_ref().clone(),
            )
        }
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    axum::serve(listener, app).await.unwrap();
}

async fn reconcile(url: &str, port: u16) {
    let mut config = Config::new(
        DEMO_APPID,
        DEMO_MCH_ID,
        tenpay_sign::ApiKey::new(DEMO_KEY).unwrap(),
        tenpay_merchant_server::simulator::random_secret(),
        tenpay_merchant_server::simulator::random_secret(),
    );
    config.database_url = DatabaseUrl::new(url).unwrap();
    config.wechat_base_url = format!("http://127.0.0.1:{port}");
    let (store, client) = Server::connect(&config).await.unwrap();
    let payments = Payments::new(
        client,
        store,
        "http://127.0.0.1:9".into(),
        "127.0.0.1".into(),
    );
    let (date, _) = today();
    let base_rss = peak_rss_mib();
    let started = Instant::now();
    let report = tenpay_merchant_server::reconcile::reconcile(&payments, &date)
        .await
        .unwrap();
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(report.matched, report.rows, "{:?}", report.no_bill);
    println!(
        "reconcile rows={} matched={} missing_payments={} seconds={secs:.1} rows_per_s={:.0} peak_rss_mib={:.0} rss_before_mib={base_rss:.0}",
        report.rows,
        report.matched,
        report.missing_payments.len(),
        report.rows as f64 / secs,
        peak_rss_mib()
    );
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).expect("see the usage in the source").as_str();
    match arg(1) {
        "sweep" => sweep(arg(2), arg(3).parse().unwrap(), arg(4).parse().unwrap()).await,
        "reconcile-setup" => reconcile_setup(arg(2), arg(3).parse().unwrap(), arg(4)).await,
        "serve-bill" => serve_bill(arg(2), arg(3).parse().unwrap()).await,
        "reconcile" => reconcile(arg(2), arg(3).parse().unwrap()).await,
        other => panic!("unknown command {other}"),
    }
}
