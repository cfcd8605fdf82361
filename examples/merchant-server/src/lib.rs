//! The reference merchant server: the system a merchant copies into production.
//!
//! It serves three surfaces that never mix: WeChat Pay's notify URLs (public, authenticated by
//! signature), the app's API (public, behind a pluggable [`auth::Authenticate`]), and the back
//! office with refunds (its own listener, an admin token). See `README.md` beside this crate.
//!
//! | module | what lives there |
//! |---|---|
//! | [`config`] | settings from the environment; fails closed |
//! | [`domain`] | order and refund states, the refund rules, checked money (no I/O) |
//! | [`store`] | every SQL statement; migrations in `migrations/` |
//! | [`payments`] | the operations: orders, refunds, notifications; with `records.rs`, the one door to the store for the handlers and the sweeper |
//! | [`http`] | the two listeners, one file per surface, bounded connections |
//! | [`auth`] | session tokens for the app, the admin token |
//! | [`pricing`] | the merchant's prices: the [`pricing::Pricing`] seam, the catalogue file |
//! | [`server`] | start and stop |
//! | [`reconcile`] | the daily reconciliation against the bill |
//! | [`sweeper`] | the background recovery: unpaid attempts queried or closed, refunds resolved |
//! | [`metrics`] | WeChat Pay call latency histograms for `/metrics` |
//! | [`logging`] | `tracing-subscriber`, escaped values |
//! | [`clock`] | the one wall clock |
//! | [`simulator`] | simulator mode for the quickstart and tests |
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = tenpay_merchant_server::Config::from_env()?;
//! let running = tenpay_merchant_server::Server::new(config).start().await?;
//! println!("public: {}\nadmin: {}", running.public_url(), running.admin_url());
//! # Ok(()) }
//! ```

// An application, not a library API: its request and config structs are meant to be built
// with struct literals and matched exhaustively.
#![allow(clippy::exhaustive_structs, clippy::exhaustive_enums)]

pub mod auth;
mod chain;
pub mod clock;
pub mod config;
pub mod domain;
pub mod http;
pub mod logging;
pub mod metrics;
pub mod payments;
pub mod pricing;
pub mod reconcile;
mod records;
pub mod server;
pub mod simulator;
pub mod store;
pub mod sweeper;

pub use config::Config;
pub use server::{Running, Server, StartError};
pub use store::Store;
