//! The HTTP edge: the API listener (plain and TLS), the `/_sim/` control API and the
//! dashboard page.

pub(crate) mod control;
mod dashboard;
pub(crate) mod server;

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
