//! The HTTP edge: the API listener (plain and TLS), the `/_sim/` control API and the
//! dashboard page.

mod body;
pub(crate) mod control;
mod dashboard;
pub(crate) mod server;
mod signing;

use std::sync::Arc;

use crate::protocol::Engine;

/// What every connection serves: the engine, and the control token when one is required.
pub(crate) struct Site {
    pub(crate) engine: Arc<Engine>,
    pub(crate) control_token: Option<String>,
}

impl Site {
    /// Whether a control request carries the token (always, when none is required):
    /// `Authorization: Bearer TOKEN`, `X-Sim-Token: TOKEN` or `?token=TOKEN`, compared in
    /// constant time.
    pub(crate) fn authorized(&self, req: &http::Request<hyper::body::Incoming>) -> bool {
        let Some(expected) = &self.control_token else {
            return true;
        };
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
        let given = header("authorization")
            .and_then(|v| v.strip_prefix("Bearer "))
            .or_else(|| header("x-sim-token"))
            .map(str::to_owned)
            .or_else(|| control::query(req, "token"));
        given.is_some_and(|g| {
            use subtle::ConstantTimeEq as _;
            bool::from(g.as_bytes().ct_eq(expected.as_bytes()))
        })
    }
}

/// Whether `host` (a `Host` header, or the host of an `Origin`) names this machine: `localhost`
/// (or a name under it), a 127/8 address or `[::1]`, with or without a port.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split_once(']').map_or(rest, |(h, _)| h)
    } else {
        host.rsplit_once(':')
            .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
            .map_or(host, |(h, _)| h)
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Why a control request from a web page is refused, if it is: on a loopback listener
/// without a token, `Host` must name this machine (against DNS rebinding); an `Origin` must
/// be this machine's (against a foreign page's "simple" request); a control `POST` must be
/// `application/json` (which a foreign page cannot send without a CORS preflight, which is
/// never answered).
pub(crate) fn refused_as_cross_site(
    site: &Site,
    req: &http::Request<hyper::body::Incoming>,
) -> Option<&'static str> {
    let header = |name: http::header::HeaderName| {
        req.headers()
            .get(name)
            .map(|v| v.to_str().unwrap_or("\u{fffd}"))
    };
    if site.control_token.is_none() && !header(http::header::HOST).is_some_and(is_loopback_host) {
        return Some(
            "the control API answers only a Host of this machine (localhost, 127.0.0.1, [::1])",
        );
    }
    if let Some(origin) = header(http::header::ORIGIN) {
        let host = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"));
        if !host.is_some_and(is_loopback_host) {
            return Some("the control API refuses requests from another site's page (Origin)");
        }
    }
    if req.method() == http::Method::POST {
        let json = header(http::header::CONTENT_TYPE).is_some_and(|ct| {
            ct.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
        });
        if !json {
            return Some("control POSTs must be Content-Type: application/json");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::is_loopback_host;

    #[test]
    fn loopback_hosts() {
        for yes in [
            "localhost",
            "localhost:8080",
            "LOCALHOST.",
            "a.localhost",
            "127.0.0.1:1",
            "127.9.9.9",
            "[::1]:80",
            "[::1]",
        ] {
            assert!(is_loopback_host(yes), "{yes}");
        }
        for no in [
            "",
            "rebind.evil.example",
            "localhost.evil.example",
            "10.0.0.1",
            "[::2]:80",
            "127.0.0.1.evil",
            "evil:127.0.0.1",
        ] {
            assert!(!is_loopback_host(no), "{no}");
        }
    }
}
