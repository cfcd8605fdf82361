//! Simulator mode (`merchant-server --simulator`, the quickstart and the tests): the server
//! against an in-process `tenpay-sim` with a published test merchant. Never a production
//! setting: the simulator accepts fake payments.

use std::net::SocketAddr;

use tenpay_client::Identity;
use tenpay_sign::{ApiKey, SignType};
use tenpay_sim::{MerchantAccount, SimHandle, Simulator};

use crate::config::{Config, DatabaseUrl, Secret};

/// The simulated merchant's appid.
pub const DEMO_APPID: &str = "wx2421b1c4370ec43b";
/// The simulated merchant's id.
pub const DEMO_MCH_ID: &str = "10000100";
/// The simulated merchant's API key (a published test key, never a real one).
pub const DEMO_KEY: &str = "192006250b4c09247ec02edce69f6a2d";

/// Why simulator mode did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// The simulator did not start.
    #[error("simulator")]
    Simulator(#[source] tenpay_sim::Error),
    /// The simulator has no TLS material (it always has, started by [`start_simulator`]).
    #[error("the simulator started without TLS")]
    NoTls,
    /// A setting is unusable.
    #[error("{0}")]
    Setting(String),
}

/// Starts a simulator for the demo merchant (TLS on, so refunds use a real client
/// certificate). `time_scale` speeds its clock (1000: a 15 s retry takes 15 ms).
///
/// # Errors
/// [`DemoError::Simulator`].
pub async fn start_simulator(time_scale: u32) -> Result<SimHandle, DemoError> {
    let key = ApiKey::new(DEMO_KEY).map_err(|e| DemoError::Setting(e.to_string()))?;
    Simulator::builder()
        .merchant(MerchantAccount::new(DEMO_APPID, DEMO_MCH_ID, key))
        .time_scale(time_scale)
        .tls(true)
        .start()
        .await
        .map_err(DemoError::Simulator)
}

/// The demo catalogue, `catalogue.example.json` beside this crate (JSON, as
/// `CATALOGUE_FILE` holds it).
pub const DEMO_CATALOGUE: &str = include_str!("../catalogue.example.json");

/// A random secret of 64 hex characters.
#[must_use]
pub fn random_secret() -> Secret {
    let s = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    Secret::new(s, 32).unwrap_or_else(|_| unreachable!("64 hex characters"))
}

/// The server's configuration for the demo merchant of a running simulator: both listeners
/// on `127.0.0.1:0`, random admin token and session secret, the given database.
///
/// # Errors
/// [`DemoError`] when the simulator has no TLS material or the URL is unusable.
pub fn config_for(sim: &SimHandle, database_url: &str) -> Result<Config, DemoError> {
    let key = ApiKey::new(DEMO_KEY).map_err(|e| DemoError::Setting(e.to_string()))?;
    let tls = sim.tls().ok_or(DemoError::NoTls)?;
    let identity = tls.identity(DEMO_MCH_ID).ok_or(DemoError::NoTls)?;
    let mut config = Config::new(
        DEMO_APPID,
        DEMO_MCH_ID,
        key,
        random_secret(),
        random_secret(),
    );
    config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    config.admin_listen = SocketAddr::from(([127, 0, 0, 1], 0));
    config.sign_type = SignType::HmacSha256;
    config.wechat_base_url = sim.tls_base_url().ok_or(DemoError::NoTls)?;
    config.extra_ca_pem = Some(tls.ca_pem.clone());
    config.identity = Some(Identity::from_pkcs12(identity.pkcs12.clone()));
    config.database_url = DatabaseUrl::new(database_url).map_err(DemoError::Setting)?;
    config.catalogue = Some(DEMO_CATALOGUE.to_owned());
    // A simulator has no yesterday: reconcile on demand (POST /reconciliations/{date}).
    config.reconcile_hour = None;
    Ok(config)
}
