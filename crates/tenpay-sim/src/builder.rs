//! Configuring and starting a simulator.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::error::Error;
use crate::handle::SimHandle;
use crate::http::Site;
use crate::model::{Limits, MerchantAccount};
use crate::notify::Outbox;
use crate::protocol::Engine;

/// Starts simulators.
#[derive(Debug)]
#[non_exhaustive]
pub struct Simulator;

impl Simulator {
    /// A builder: merchants, time scale, listen address.
    #[must_use]
    pub fn builder() -> SimulatorBuilder {
        SimulatorBuilder {
            merchants: Vec::new(),
            scale: 1,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            allow_any_notify_url: false,
            delivery_timeout: crate::notify::DEFAULT_TIMEOUT,
            tls: false,
            notify_roots: Vec::new(),
            limits: Limits::default(),
            control_token: None,
        }
    }
}

/// Configures a simulator.
#[derive(Debug)]
pub struct SimulatorBuilder {
    merchants: Vec<MerchantAccount>,
    scale: u32,
    listen: SocketAddr,
    allow_any_notify_url: bool,
    delivery_timeout: Duration,
    tls: bool,
    notify_roots: Vec<String>,
    limits: Limits,
    control_token: Option<String>,
}

impl SimulatorBuilder {
    /// Trusts this CA (PEM, one or more certificates) for `https://` notify URLs, on top of
    /// the public web PKI and, with [`Self::tls`], the simulator's own CA.
    #[must_use]
    pub fn notify_root_certificate_pem(mut self, pem: impl Into<String>) -> Self {
        self.notify_roots.push(pem.into());
        self
    }

    /// Also listen with TLS (on another free port of the same host): a CA, a server
    /// certificate and a client identity per merchant are generated at start
    /// ([`SimHandle::tls`]). `/secapi/` calls and `/pay/downloadfundflow` then need the
    /// merchant's client certificate on the TLS listener, as on the real server.
    #[must_use]
    pub fn tls(mut self, enabled: bool) -> Self {
        self.tls = enabled;
        self
    }

    /// Adds a merchant account. Give the simulator test keys only: it is a test server.
    #[must_use]
    pub fn merchant(mut self, merchant: MerchantAccount) -> Self {
        self.merchants.push(merchant);
        self
    }

    /// Divides every simulated delay (notification retries, refund processing, payment-code
    /// waits) by `scale`: 1 is real time, 1000 turns WeChat's 15 s into 15 ms.
    #[must_use]
    pub fn time_scale(mut self, scale: u32) -> Self {
        self.scale = scale.max(1);
        self
    }

    /// The listen address (default `127.0.0.1:0`, a free port). On any address but loopback
    /// the control API requires a token ([`Self::control_token`], or one generated at start:
    /// [`SimHandle::control_token`]).
    #[must_use]
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Requires this token for the control API (`Authorization: Bearer TOKEN`), whatever the
    /// listen address.
    #[must_use]
    pub fn control_token(mut self, token: impl Into<String>) -> Self {
        self.control_token = Some(token.into());
        self
    }

    /// How much the simulator keeps (orders, notifications, faults); see [`Limits`].
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Accept non-loopback `notify_url`s (for a merchant's own test network). Off by default:
    /// the simulator then refuses any other notify_url at unifiedorder.
    #[must_use]
    pub fn allow_any_notify_url(mut self, allow: bool) -> Self {
        self.allow_any_notify_url = allow;
        self
    }

    /// How long a notification attempt waits for the merchant's reply (default 5 s, not scaled).
    #[must_use]
    pub fn delivery_timeout(mut self, timeout: Duration) -> Self {
        self.delivery_timeout = timeout;
        self
    }

    /// Binds and starts serving on the current tokio runtime.
    ///
    /// # Errors
    /// [`Error::NoMerchant`], [`Error::Bind`], [`Error::Tls`].
    pub async fn start(self) -> Result<SimHandle, Error> {
        if self.merchants.is_empty() {
            return Err(Error::NoMerchant);
        }
        let listener = tokio::net::TcpListener::bind(self.listen)
            .await
            .map_err(|source| Error::Bind {
                addr: self.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: self.listen,
            source,
        })?;
        let generated = if self.tls {
            let ids: Vec<String> = self.merchants.iter().map(|m| m.mch_id.clone()).collect();
            Some(crate::tls::generate(&ids).map_err(Error::Tls)?)
        } else {
            None
        };
        let tls_listener = match &generated {
            Some(_) => {
                let at = SocketAddr::new(addr.ip(), 0);
                Some(
                    tokio::net::TcpListener::bind(at)
                        .await
                        .map_err(|source| Error::Bind { addr: at, source })?,
                )
            }
            None => None,
        };
        let tls_addr = match &tls_listener {
            Some(l) => Some(
                l.local_addr()
                    .map_err(|source| Error::Bind { addr, source })?,
            ),
            None => None,
        };
        let notify_tls = crate::tls::delivery_config(
            generated.as_ref().map(|g| g.material.ca_pem.as_str()),
            &self.notify_roots,
        )
        .map_err(Error::Tls)?;
        let clock = Clock::new(self.scale);
        let outbox = Arc::new(Outbox::new(
            clock,
            self.delivery_timeout,
            notify_tls,
            self.limits.deliveries,
        ));
        let engine = Arc::new(Engine::new(
            self.merchants,
            self.limits,
            clock,
            self.allow_any_notify_url,
            generated.as_ref().map(|g| g.material.clone()),
            outbox,
        ));
        let control_token = self
            .control_token
            .or_else(|| (!addr.ip().is_loopback()).then(crate::ids::token));
        if control_token.is_some() && !addr.ip().is_loopback() {
            tracing::warn!(%addr, "tenpay-sim listens beyond loopback: the control API needs its token; give it test keys only");
        }
        let site = Arc::new(Site {
            engine: Arc::clone(&engine),
            control_token: control_token.clone(),
        });
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(crate::http::server::serve(
            listener,
            Arc::clone(&site),
            None,
            stopped.clone(),
        ));
        let tls_task = match (tls_listener, generated) {
            (Some(l), Some(g)) => Some(tokio::spawn(crate::http::server::serve(
                l,
                site,
                Some(g.acceptor),
                stopped,
            ))),
            _ => None,
        };
        Ok(SimHandle::new(
            addr,
            tls_addr,
            engine,
            control_token,
            stop,
            task,
            tls_task,
        ))
    }
}
