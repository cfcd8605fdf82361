//! The reference merchant server.
//!
//! `cargo run -p tenpay-examples --bin merchant-server [-- --config FILE]`: with `TENPAY_API_KEY`
//! (and the rest of the variables in `config`) it talks to WeChat Pay; without, it starts an
//! in-process simulator and talks to that.

use std::process::ExitCode;

use tenpay_examples::{Config, Hooks, demo};

#[tokio::main]
async fn main() -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().collect();
    let config = match args
        .iter()
        .position(|a| a == "--config")
        .and_then(|i| args.get(i + 1))
    {
        Some(path) => Config::from_file(std::path::Path::new(path)),
        None => Config::from_env(),
    };
    let (sim, server) = match config {
        Ok(Some(config)) => match tenpay_examples::start(config, Hooks::default()).await {
            Ok(server) => (None, server),
            Err(e) => return fail(&e),
        },
        Ok(None) => {
            let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:8080".into());
            let Ok(listen) = listen.parse() else {
                return fail("LISTEN is not an address");
            };
            let db =
                std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://merchant.db".into());
            match demo::start_with_simulator(listen, &db, 1, Hooks::default()).await {
                Ok((sim, server)) => {
                    println!(
                        "no TENPAY_API_KEY: using an in-process WeChat Pay simulator at {}",
                        sim.base_url()
                    );
                    (Some(sim), server)
                }
                Err(e) => return fail(&e),
            }
        }
        Err(e) => return fail(&e.to_string()),
    };
    println!("merchant server on {}", server.url());
    let _ = tokio::signal::ctrl_c().await;
    server.shutdown().await;
    if let Some(sim) = sim {
        sim.shutdown().await;
    }
    ExitCode::SUCCESS
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("merchant-server: {msg}");
    ExitCode::from(1)
}
