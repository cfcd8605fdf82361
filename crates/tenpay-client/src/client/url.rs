//! Where requests go: the production and backup domains, and the base URL policy (HTTPS,
//! plain HTTP only for loopback or with an explicit opt-in).

use crate::{ConfigError, Error};

/// Production: `https://api.mch.weixin.qq.com`.
pub const PRODUCTION_URL: &str = "https://api.mch.weixin.qq.com";

/// The backup domain: `https://api2.mch.weixin.qq.com`.
pub const BACKUP_URL: &str = "https://api2.mch.weixin.qq.com";

/// Face pay's host in production (`get_wxpayface_authinfo`).
const FACE_PAY_URL: &str = "https://payapp.weixin.qq.com";

/// Where face pay's authinfo goes: its own host when the client talks to production (or
/// its backup), else the base URL (the simulator, a proxy), like every other call.
pub(super) fn face_pay_base(base: &str) -> &str {
    if base == PRODUCTION_URL || base == BACKUP_URL {
        FACE_PAY_URL
    } else {
        base
    }
}

/// `https://`, or `http://` to a loopback host (or anywhere with the opt-in). Parsed by
/// `url` (through reqwest), so a user-info part or an odd port cannot pass for the host.
pub(crate) fn check_base_url(url: &str, allow_insecure_http: bool) -> Result<(), Error> {
    let refused = || {
        Error::Config(ConfigError::BaseUrl {
            url: url.to_owned(),
        })
    };
    let parsed = reqwest::Url::parse(url).map_err(|_| refused())?;
    let host = parsed.host_str().ok_or_else(refused)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => Ok(()),
        // Plain http would send signed requests (and the certificate's calls) unencrypted.
        "http" if loopback || allow_insecure_http => Ok(()),
        _ => Err(refused()),
    }
}

#[cfg(test)]
mod tests {
    use super::{BACKUP_URL, PRODUCTION_URL, check_base_url, face_pay_base};

    #[test]
    fn face_pay_has_its_own_host_in_production_only() {
        assert_eq!(
            face_pay_base(PRODUCTION_URL),
            "https://payapp.weixin.qq.com"
        );
        assert_eq!(face_pay_base(BACKUP_URL), "https://payapp.weixin.qq.com");
        assert_eq!(face_pay_base("http://127.0.0.1:9"), "http://127.0.0.1:9");
    }

    #[test]
    fn plain_http_only_to_this_machine() {
        for ok in [
            "https://api.mch.weixin.qq.com",
            "http://127.0.0.1:8080",
            "http://localhost/",
            "http://[::1]:1",
        ] {
            assert!(check_base_url(ok, false).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.mch.weixin.qq.com",
            "http://127.0.0.1.evil.example",
            "http://localhost.evil.example",
            "ftp://127.0.0.1",
            "127.0.0.1:8080",
            "https://",
        ] {
            assert!(check_base_url(bad, false).is_err(), "{bad}");
        }
        assert!(check_base_url("http://10.0.0.1", true).is_ok());
    }
}
