//! Simulator mode: with no real credentials, run against an in-process `tenpay-sim`.

use std::net::SocketAddr;

use tenpay_client::Identity;
use tenpay_sign::{ApiKey, SignType};
use tenpay_sim::{Merchant, SimHandle, Simulator};

use crate::{Config, Hooks, Running};

/// The simulated merchant's appid.
pub const DEMO_APPID: &str = "wx2421b1c4370ec43b";
/// The simulated merchant's id.
pub const DEMO_MCH_ID: &str = "10000100";
/// The simulated merchant's API key (a published test key, never a real one).
pub const DEMO_KEY: &str = "192006250b4c09247ec02edce69f6a2d";

/// Starts a simulator (TLS on, so refunds use a real client certificate) and the merchant
/// server pointed at it. `time_scale` speeds the simulator's clock (1000: a 15 s retry takes 15 ms).
///
/// # Errors
/// As text, when either cannot start.
pub async fn start_with_simulator(
    listen: SocketAddr,
    database_url: &str,
    time_scale: u32,
    hooks: Hooks,
) -> Result<(SimHandle, Running), String> {
    let key = ApiKey::new(DEMO_KEY).map_err(|e| e.to_string())?;
    let sim = Simulator::builder()
        .merchant(Merchant::new(DEMO_APPID, DEMO_MCH_ID, key))
        .time_scale(time_scale)
        .tls(true)
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let config = config_for(&sim, listen, database_url)?;
    // The simulator delivers to the public base URL; here that is the server itself.
    let server = crate::start(config, hooks).await?;
    Ok((sim, server))
}

/// The merchant server's configuration for the demo merchant of a running simulator.
///
/// # Errors
/// As text, when the simulator has no TLS material.
pub fn config_for(
    sim: &SimHandle,
    listen: SocketAddr,
    database_url: &str,
) -> Result<Config, String> {
    let key = ApiKey::new(DEMO_KEY).map_err(|e| e.to_string())?;
    let tls = sim.tls().ok_or("the simulator started without TLS")?;
    let identity = tls
        .identity(DEMO_MCH_ID)
        .ok_or("no client identity for the demo merchant")?;
    let mut config = Config::new(DEMO_APPID, DEMO_MCH_ID, key, listen);
    config.sign_type = SignType::HmacSha256;
    config.wechat_base_url = sim.tls_base_url().ok_or("no TLS listener")?;
    config.extra_ca_pem = Some(tls.ca_pem.clone());
    config.identity = Some(Identity::from_pkcs12(identity.pkcs12.clone()));
    config.database_url = database_url.to_owned();
    Ok(config)
}
