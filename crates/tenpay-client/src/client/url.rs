//! Where requests go: the production and backup domains, and the base URL policy (HTTPS,
//! plain HTTP only for loopback or with an explicit opt-in).

use crate::{ConfigError, Error};

/// Production: `https://api.mch.weixin.qq.com`.
pub const PRODUCTION_URL: &str = "https://api.mch.weixin.qq.com";

/// The backup domain: `https://api2.mch.weixin.qq.com`.
pub const BACKUP_URL: &str = "https://api2.mch.weixin.qq.com";

/// `https://`, or `http://` to a loopback host (or anywhere with the opt-in).
pub(super) fn check_base_url(url: &str, allow_insecure_http: bool) -> Result<(), Error> {
    if url.starts_with("https://") {
        return Ok(());
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(Error::Config(ConfigError::BaseUrl {
            url: url.to_owned(),
        }));
    };
    let authority = rest.split('/').next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback || allow_insecure_http {
        Ok(())
    } else {
        // Plain http would send signed requests (and the certificate's calls) unencrypted.
        Err(Error::Config(ConfigError::BaseUrl {
            url: url.to_owned(),
        }))
    }
}
