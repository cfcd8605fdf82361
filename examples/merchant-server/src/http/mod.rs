//! The HTTP edge: two listeners that never share a route. [`public`] serves the notify URLs
//! (authenticated by signature) and the app's API (behind [`crate::auth::Authenticate`]);
//! [`admin`] serves the back office (behind the admin token). Both are served by
//! [`serve`], which bounds every connection: per listener, per peer, and with a reserve kept
//! for WeChat Pay's notifications.

pub mod admin;
mod error;
pub mod public;
pub mod throttle;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit};
use axum::response::IntoResponse as _;
use http::StatusCode;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{Semaphore, watch};
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt as _;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

pub use error::ApiError;

use crate::config::HttpLimits;

/// How long a graceful shutdown waits for requests in flight.
const DRAIN: Duration = Duration::from_secs(10);

/// A listener being served.
#[derive(Debug)]
pub struct Serving {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Serving {
    /// The bound address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets requests in flight finish (at most 10 s), and waits.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }

    /// Stops at once, as a crash would: the listener closes and every connection is dropped.
    pub fn kill(self) {
        self.task.abort();
    }
}

/// Counters of the connection limits, for `/metrics`.
#[derive(Debug, Default)]
pub struct EdgeStats {
    /// Connections closed at once: their peer already had its share open.
    pub refused_per_peer: AtomicU64,
    /// Connections closed at once: every slot (and the reserve) was taken.
    pub refused_full: AtomicU64,
    /// Connections served on the reserve (notify routes only).
    pub reserved: AtomicU64,
}

/// What [`serve`] is told beyond the limits.
#[derive(Debug, Clone, Default)]
pub struct Edge {
    /// Peers exempt from the per-peer cap (the trusted proxies: every client comes through
    /// them).
    pub unlimited_peers: Arc<[IpAddr]>,
    /// Paths a connection on the reserve may ask for (the notify URLs); `None`: no reserve.
    pub reserve_prefix: Option<&'static str>,
    /// Counters.
    pub stats: Arc<EdgeStats>,
}

/// Binds `addr` with a listen backlog of `backlog` (the kernel caps it at `somaxconn`).
///
/// # Errors
/// The socket's.
pub fn bind(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}

/// Serves `router` on `listener` within `limits`:
/// - at most `max_connections` open connections, and at most `max_per_peer` from one
///   address; beyond either a connection is closed at once, so that accepting never stops
///   and the kernel's queue never fills;
/// - with `edge.reserve_prefix`, `reserved_connections` more, for requests under that prefix
///   only (the notify URLs: a flood of the app's clients cannot keep WeChat Pay out); any
///   other request on them is a 503, and a silent one is closed within 1 s;
/// - a connection that sends nothing is closed after `first_byte_timeout`;
/// - the headers of each request (the first, and each next one on a kept-alive connection)
///   must arrive within `header_timeout`, the body within `body_timeout`, and the whole
///   request must be answered within `request_timeout` (else 408);
/// - bodies over `max_body_bytes` are refused (413).
///
/// Handlers see the peer's address as [`ConnectInfo<SocketAddr>`].
///
/// # Errors
/// The listener has no local address.
pub fn serve(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    edge: Edge,
) -> std::io::Result<Serving> {
    let addr = listener.local_addr()?;
    let mut router = router
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(RequestBodyTimeoutLayer::new(limits.body_timeout))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ));
    if let Some(prefix) = edge.reserve_prefix {
        router = router.layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| async move {
                let reserved = req.extensions().get::<Reserved>().is_some();
                if reserved && !req.uri().path().starts_with(prefix) {
                    let mut busy =
                        (StatusCode::SERVICE_UNAVAILABLE, "busy; try again\n").into_response();
                    busy.headers_mut()
                        .insert(http::header::RETRY_AFTER, http::HeaderValue::from(1u32));
                    busy.headers_mut().insert(
                        http::header::CONNECTION,
                        http::HeaderValue::from_static("close"),
                    );
                    return busy;
                }
                next.run(req).await
            },
        ));
    }
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, router, limits, edge, stopped));
    Ok(Serving { addr, stop, task })
}

/// Marks a request that came on a reserved connection.
#[derive(Debug, Clone, Copy)]
struct Reserved;

/// Open connections per peer address.
#[derive(Debug, Default)]
struct Peers(Mutex<HashMap<IpAddr, usize>>);

/// One open connection of a peer; released on drop.
struct PeerSlot {
    peers: Arc<Peers>,
    ip: IpAddr,
}

impl Peers {
    fn take(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<PeerSlot> {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = map.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(PeerSlot {
            peers: Arc::clone(self),
            ip,
        })
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut map = self
            .peers
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = map.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    edge: Edge,
    mut stopped: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let reserve = Arc::new(Semaphore::new(if edge.reserve_prefix.is_some() {
        limits.reserved_connections
    } else {
        0
    }));
    let peers = Arc::new(Peers::default());
    // Owned here, so that aborting this task (kill) drops every connection too.
    let mut connections = JoinSet::new();
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors, typically: wait instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopped.changed() => break,
        };
        while connections.try_join_next().is_some() {}
        let peer_slot = if edge.unlimited_peers.contains(&peer.ip()) {
            None
        } else {
            match peers.take(peer.ip(), limits.max_per_peer.max(1)) {
                Some(s) => Some(s),
                None => {
                    edge.stats.refused_per_peer.fetch_add(1, Relaxed);
                    drop(stream);
                    continue;
                }
            }
        };
        let (permit, reserved) = match Arc::clone(&slots).try_acquire_owned() {
            Ok(p) => (p, false),
            Err(_) => match Arc::clone(&reserve).try_acquire_owned() {
                Ok(p) => {
                    edge.stats.reserved.fetch_add(1, Relaxed);
                    (p, true)
                }
                Err(_) => {
                    edge.stats.refused_full.fetch_add(1, Relaxed);
                    drop(stream);
                    continue;
                }
            },
        };
        let router = router.clone();
        let mut stop = stopped.clone();
        connections.spawn(async move {
            let _held = (permit, peer_slot);
            // Nothing allocated for hyper until the first byte arrives. WeChat Pay writes its
            // notification at once: a silent socket gives a reserved slot back within 1 s.
            let first_byte = if reserved {
                limits.first_byte_timeout.min(Duration::from_secs(1))
            } else {
                limits.first_byte_timeout
            };
            match tokio::time::timeout(first_byte, stream.readable()).await {
                Ok(Ok(())) => {}
                _ => return,
            }
            let service = router.map_request(move |mut req: http::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                if reserved {
                    req.extensions_mut().insert(Reserved);
                }
                req
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .max_buf_size(64 * 1024)
                .keep_alive(!reserved)
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(DRAIN, conn).await;
                }
            }
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(DRAIN + Duration::from_secs(1), async {
        while connections.join_next().await.is_some() {}
    })
    .await;
}

/// The order number in a path. One the server could not have made names no order: 404, as
/// for any unknown number.
pub(crate) fn order_no(no: String) -> Result<crate::domain::OrderNo, crate::payments::OpError> {
    crate::domain::OrderNo::new(no).map_err(|_| crate::payments::OpError::UnknownOrder)
}

/// The refund number in a path (see [`order_no`]).
pub(crate) fn refund_no(no: String) -> Result<tenpay_xml::OutRefundNo, crate::payments::OpError> {
    tenpay_xml::OutRefundNo::new(no).map_err(|_| crate::payments::OpError::UnknownRefund)
}
