//! `merchant-server [--config FILE] [--simulator]` serves; `merchant-server [--config FILE]
//! reconcile YYYYMMDD` reconciles one day and exits. See `README.md` beside this crate.
//!
//! Exits 2 with one line naming the variable when the configuration is missing or unusable;
//! the in-process simulator starts only with `--simulator`.

use std::collections::HashMap;
use std::process::ExitCode;

use tenpay_merchant_server::auth::UserId;
use tenpay_merchant_server::config::{self, Config};
use tenpay_merchant_server::{Server, StartError, logging, simulator};

const USAGE: &str = "usage: merchant-server [--config FILE] [--simulator]
       merchant-server [--config FILE] reconcile YYYYMMDD

  --config FILE  read NAME=value lines from FILE (the environment overrides them)
  --simulator    run against an in-process WeChat Pay simulator with a test merchant:
                 fake payments, for development only
  reconcile DATE reconcile that day (Beijing time) against WeChat Pay's bill, keep the
                 report, print it as JSON; exit 0 when nothing needs a person, 1 otherwise

Settings (environment): see examples/merchant-server/README.md.";

fn error_exit(msg: &str) -> ExitCode {
    eprintln!("merchant-server: {msg}");
    ExitCode::from(2)
}

use tenpay_merchant_server::logging::report;

#[tokio::main]
async fn main() -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut config_file = None;
    let mut simulator_mode = false;
    let mut reconcile_date = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--config" => match it.next() {
                Some(f) => config_file = Some(f.clone()),
                None => return error_exit("--config needs a file"),
            },
            "--simulator" => simulator_mode = true,
            "reconcile" => match it.next() {
                Some(d) => reconcile_date = Some(d.clone()),
                None => return error_exit("reconcile needs a date, YYYYMMDD"),
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => return error_exit(&format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let mut vars: HashMap<String, String> = HashMap::new();
    if let Some(path) = &config_file {
        match std::fs::read_to_string(path) {
            Ok(text) => vars = config::parse_lines(&text),
            Err(e) => return error_exit(&format!("--config {path}: {e}")),
        }
    }
    vars.extend(std::env::vars());
    match config::log_format(&vars) {
        Ok(f) => logging::init(f),
        Err(e) => return error_exit(&e.to_string()),
    }

    let (sim, config) = if simulator_mode {
        tracing::warn!("SIMULATOR MODE: payments are fake; never use this in production");
        let sim = match simulator::start_simulator(1).await {
            Ok(s) => s,
            Err(e) => return error_exit(&report(&e)),
        };
        let db = vars
            .get("DATABASE_URL")
            .cloned()
            .unwrap_or_else(|| "sqlite://merchant-simulator.db".into());
        let mut config = match simulator::config_for(&sim, &db) {
            Ok(c) => c,
            Err(e) => return error_exit(&report(&e)),
        };
        if let Err(e) = config::apply_simulator_overrides(&vars, &mut config) {
            return error_exit(&e.to_string());
        }
        (Some(sim), config)
    } else {
        match Config::from_vars(&vars) {
            Ok(c) => (None, c),
            Err(e) => return error_exit(&e.to_string()),
        }
    };
    if let Some(date) = reconcile_date {
        return reconcile(&config, &date).await;
    }
    let admin_token = config.admin_token.clone();
    let running = match Server::new(config).start().await {
        Ok(r) => r,
        // Settings, not faults: exit 2 with one line, as for any other setting.
        Err(
            e @ (StartError::AdminExposed(_) | StartError::NoPricing | StartError::Catalogue(_)),
        ) => {
            return error_exit(&report(&e));
        }
        Err(e) => {
            eprintln!("merchant-server: {}", report(&e));
            return ExitCode::from(1);
        }
    };
    let stopped = stop_signal();
    println!("public: {}", running.public_url());
    println!("admin: {}", running.admin_url());
    if let Some(sim) = &sim {
        println!(
            "simulator: {} (control {})",
            sim.base_url(),
            sim.control_url()
        );
        if vars.contains_key("TENPAY_ADMIN_TOKEN") || vars.contains_key("TENPAY_ADMIN_TOKEN_FILE") {
            println!("admin token: the one TENPAY_ADMIN_TOKEN(_FILE) gives");
        } else {
            println!("admin token: {}", admin_token.expose());
        }
        if let Ok(demo) = UserId::new("demo") {
            let day = tenpay_merchant_server::clock::unix_now() + 86_400;
            println!(
                "app token for user demo: {}",
                running.session_tokens().issue(&demo, day)
            );
        }
    }
    stopped.await;
    tracing::info!("shutting down");
    running.shutdown().await;
    if let Some(sim) = sim {
        sim.shutdown().await;
    }
    ExitCode::SUCCESS
}

/// `reconcile DATE`: the store and the client only (no listeners), one day, the report.
async fn reconcile(config: &Config, date: &str) -> ExitCode {
    if tenpay_merchant_server::reconcile::day(date).is_err() {
        return error_exit(&format!("reconcile: {date:?} is not a YYYYMMDD date"));
    }
    let (store, client) = match Server::connect(config).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("merchant-server: {}", report(&e));
            return ExitCode::from(1);
        }
    };
    let base = config
        .public_base_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.listen));
    let payments = tenpay_merchant_server::payments::Payments::new(
        client,
        store,
        base,
        config.server_ip.clone(),
    )
    .attempt_ttl(config.sweep.order_ttl);
    match tenpay_merchant_server::reconcile::reconcile(&payments, date).await {
        Ok(r) => {
            println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
            if r.differences() == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("merchant-server: reconcile {date}: {e}");
            ExitCode::from(1)
        }
    }
}

/// Ctrl-C, or SIGTERM (what service managers send), listened for from the moment this is
/// called: before the listeners are announced, so a stop sent right after the announcement
/// is a clean stop, not the signal's default death.
fn stop_signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let streams = signal(SignalKind::terminate())
            .and_then(|term| Ok((term, signal(SignalKind::interrupt())?)));
        async move {
            match streams {
                Ok((mut term, mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                }
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
