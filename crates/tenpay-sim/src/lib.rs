#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod bill;
pub mod control;
mod crypto;
mod delivery;
mod engine;
mod ids;
mod model;
mod server;
mod state;
mod tls;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use model::{
    Attempt, DeliveryKind, DeliveryView, Fault, FaultKind, Merchant, OrderView, PayOptions,
    RefundView, SubMerchant,
};
pub use tls::{ClientIdentity, TlsMaterial};

/// WeChat Pay's notification retry intervals (seconds), as the simulator uses them before scaling.
pub const RETRY_SCHEDULE_SECS: [u64; 15] = engine::RETRY_SCHEDULE;

/// Why the simulator could not start or an operation was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The TLS material could not be generated.
    #[error("TLS setup: {0}")]
    Tls(String),
    /// No merchant was configured.
    #[error("the simulator needs at least one merchant")]
    NoMerchant,
    /// A control operation was refused (unknown order, wrong state, …).
    #[error("{0}")]
    Refused(String),
}

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
            delivery_timeout: delivery::DEFAULT_TIMEOUT,
            tls: false,
            notify_roots: Vec::new(),
        }
    }
}

/// Configures a simulator.
#[derive(Debug)]
pub struct SimulatorBuilder {
    merchants: Vec<Merchant>,
    scale: u32,
    listen: SocketAddr,
    allow_any_notify_url: bool,
    delivery_timeout: Duration,
    tls: bool,
    notify_roots: Vec<String>,
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

    /// Adds a merchant account.
    #[must_use]
    pub fn merchant(mut self, merchant: Merchant) -> Self {
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

    /// The listen address (default `127.0.0.1:0`, a free port).
    #[must_use]
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
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
    /// [`Error::NoMerchant`], [`Error::Bind`].
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
            Some(tls::generate(&ids).map_err(Error::Tls)?)
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
        let notify_tls = tls::delivery_config(
            generated.as_ref().map(|g| g.material.ca_pem.as_str()),
            &self.notify_roots,
        )
        .map_err(Error::Tls)?;
        let engine = Arc::new(engine::Engine {
            notify_tls,
            tls: generated.as_ref().map(|g| g.material.clone()),
            merchants: self.merchants,
            state: Mutex::new(state::State::default()),
            scale: self.scale,
            allow_any_notify_url: self.allow_any_notify_url,
            started: Instant::now(),
            delivery_timeout: self.delivery_timeout,
        });
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(server::serve(
            listener,
            Arc::clone(&engine),
            None,
            stopped.clone(),
        ));
        let tls_task = match (tls_listener, generated) {
            (Some(l), Some(g)) => Some(tokio::spawn(server::serve(
                l,
                Arc::clone(&engine),
                Some(g.acceptor),
                stopped,
            ))),
            _ => None,
        };
        Ok(SimHandle {
            addr,
            tls_addr,
            engine,
            stop,
            task: Some(task),
            tls_task,
        })
    }
}

/// A running simulator. Dropping it stops the listener; [`SimHandle::shutdown`] also waits.
pub struct SimHandle {
    addr: SocketAddr,
    tls_addr: Option<SocketAddr>,
    tls_task: Option<tokio::task::JoinHandle<()>>,
    engine: Arc<engine::Engine>,
    stop: tokio::sync::watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

impl SimHandle {
    /// The listening address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL to give a client instead of `https://api.mch.weixin.qq.com`.
    #[must_use]
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The TLS listener's base URL (`https://127.0.0.1:PORT`), when started with TLS.
    #[must_use]
    pub fn tls_base_url(&self) -> Option<String> {
        self.tls_addr.map(|a| format!("https://{a}"))
    }

    /// The generated CA and client identities, when started with TLS.
    #[must_use]
    pub fn tls(&self) -> Option<&TlsMaterial> {
        self.engine.tls.as_ref()
    }

    /// The control API's URL.
    #[must_use]
    pub fn control_url(&self) -> String {
        format!("http://{}/_sim", self.addr)
    }

    /// The simulated user pays the order (the only merchant's, or the only one with that
    /// number); the payment notification goes out.
    ///
    /// # Errors
    /// [`Error::Refused`] for an unknown order or one that is not `NOTPAY`.
    pub fn pay(&self, out_trade_no: &str, options: &PayOptions) -> Result<OrderView, Error> {
        self.engine
            .pay(None, out_trade_no, options)
            .map_err(Error::Refused)
    }

    /// As [`SimHandle::pay`], for one merchant's order.
    ///
    /// # Errors
    /// As [`SimHandle::pay`].
    pub fn pay_for(
        &self,
        mch_id: &str,
        out_trade_no: &str,
        options: &PayOptions,
    ) -> Result<OrderView, Error> {
        self.engine
            .pay(Some(mch_id), out_trade_no, options)
            .map_err(Error::Refused)
    }

    /// The payment fails (`PAYERROR` with `err_code`); a `result_code=FAIL` notification goes out.
    ///
    /// # Errors
    /// As [`SimHandle::pay`].
    pub fn fail(&self, out_trade_no: &str, err_code: &str) -> Result<OrderView, Error> {
        self.engine
            .fail(None, out_trade_no, err_code)
            .map_err(Error::Refused)
    }

    /// Closes an unpaid order.
    ///
    /// # Errors
    /// As [`SimHandle::pay`].
    pub fn close(&self, out_trade_no: &str) -> Result<OrderView, Error> {
        self.engine
            .close(None, out_trade_no)
            .map_err(Error::Refused)
    }

    /// Every order.
    #[must_use]
    pub fn orders(&self) -> Vec<OrderView> {
        self.engine.orders()
    }

    /// One order.
    ///
    /// # Errors
    /// [`Error::Refused`] when there is no such order (or several merchants have one).
    pub fn order(&self, out_trade_no: &str) -> Result<OrderView, Error> {
        self.engine
            .order_view(None, out_trade_no)
            .map_err(Error::Refused)
    }

    /// Every notification with every attempt so far.
    #[must_use]
    pub fn deliveries(&self) -> Vec<DeliveryView> {
        self.engine.lock().deliveries.clone()
    }

    /// How many requests reached an endpoint (`unifiedorder`, `refund`, …), faults included.
    #[must_use]
    pub fn calls(&self, endpoint: &str) -> u64 {
        self.engine.lock().calls.get(endpoint).copied().unwrap_or(0)
    }

    /// Injects a fault.
    pub fn inject(&self, fault: Fault) {
        self.engine.lock().faults.push(fault);
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.engine.lock().faults.clear();
    }

    /// Stops listening, lets open connections finish their current request, and waits.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        if let Some(task) = self.tls_task.take() {
            let _ = task.await;
        }
    }
}
