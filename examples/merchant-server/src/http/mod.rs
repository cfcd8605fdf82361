//! The HTTP edge: two listeners that never share a route. [`public`] serves the notify URLs
//! (authenticated by signature) and the app's API (behind [`crate::auth::Authenticate`]);
//! [`admin`] serves the back office (behind the admin token). Both are served by
//! [`serve`], which bounds every connection.

pub mod admin;
mod error;
pub mod public;
pub mod throttle;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit};
use http::StatusCode;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
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

/// Serves `router` on `listener` within `limits`:
/// - at most `max_connections` open connections (further ones wait in the kernel's queue);
/// - a connection that sends nothing costs a small task until `header_timeout`, then closes;
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
) -> std::io::Result<Serving> {
    let addr = listener.local_addr()?;
    let router = router
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(RequestBodyTimeoutLayer::new(limits.body_timeout))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ));
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, router, limits, stopped));
    Ok(Serving { addr, stop, task })
}

async fn accept_loop(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    mut stopped: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    // Owned here, so that aborting this task (kill) drops every connection too.
    let mut connections = JoinSet::new();
    loop {
        let permit = tokio::select! {
            p = Arc::clone(&slots).acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = stopped.changed() => break,
        };
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
        let router = router.clone();
        let mut stop = stopped.clone();
        connections.spawn(async move {
            let _permit = permit;
            // Nothing allocated for hyper until the first byte arrives.
            match tokio::time::timeout(limits.header_timeout, stream.readable()).await {
                Ok(Ok(())) => {}
                _ => return,
            }
            let service = router.map_request(move |mut req: http::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .max_buf_size(64 * 1024)
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
