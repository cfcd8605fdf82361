//! The public listener: WeChat Pay's notify URLs (authenticated by signature, through
//! `tenpay-notify`) and the app's API (every route behind the authenticator). Nothing here
//! moves money out: refunds are on the back office listener only.
//!
//! | route | who | what |
//! |---|---|---|
//! | `POST /wechat/notify/pay`, `POST /wechat/notify/refund` | WeChat Pay | notifications |
//! | `POST /wechat/notify/scan` | WeChat Pay | Native mode 1: a product's code was scanned; answered with a signed prepay id |
//! | `POST /orders` | the app's user | create an order, get the pay parameters |
//! | `GET /orders/{order_no}[?refresh=true]` | the app's user | the caller's own order |
//! | `POST /orders/{order_no}/attempts` | the app's user | pay an unpaid order again |
//!
//! The calls that reach WeChat Pay (creation, attempts, `?refresh=true`) take one call from
//! the user's and the client address's buckets ([`super::throttle`]): 429 with `Retry-After`
//! when either is empty.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use tenpay_notify::{Delivery, Notifier, NotifyService};

use super::error::{ApiError, bad_json};
use super::throttle::Throttle;
use crate::auth::{SharedAuthenticator, UserId};
use crate::payments::{CreateOrder, Payments};
use crate::store::Source;

/// What the public routes share.
#[derive(Clone)]
struct AppState {
    payments: Payments,
    trusted_proxies: Arc<[IpAddr]>,
    throttle: Arc<Throttle>,
}

impl AppState {
    /// The client's address, and one call from its bucket and the user's.
    fn admit(
        &self,
        user: &UserId,
        peer: SocketAddr,
        headers: &HeaderMap,
    ) -> Result<IpAddr, ApiError> {
        let ip = payer_ip(peer, headers, &self.trusted_proxies);
        self.throttle.admit(user, ip).map_err(ApiError::limited)?;
        Ok(ip)
    }
}

/// The public router.
pub fn router(
    payments: Payments,
    notifier: &Notifier,
    authenticator: SharedAuthenticator,
    trusted_proxies: Vec<IpAddr>,
    throttle: Arc<Throttle>,
) -> Router {
    let state = AppState {
        payments: payments.clone(),
        trusted_proxies: trusted_proxies.into(),
        throttle,
    };
    let app = Router::new()
        .route("/orders", post(create_order))
        .route("/orders/{order_no}", get(get_order))
        .route("/orders/{order_no}/attempts", post(repay))
        .route_layer(axum::middleware::from_fn_with_state(
            authenticator,
            authenticate,
        ))
        .with_state(state);
    Router::new()
        .route_service(
            "/wechat/notify/pay",
            notify_service(&payments, notifier, Source::PayNotification),
        )
        .route_service(
            "/wechat/notify/refund",
            notify_service(&payments, notifier, Source::RefundNotification),
        )
        .route(
            "/wechat/notify/scan",
            post(scan).with_state((payments.clone(), notifier.clone())),
        )
        .merge(app)
}

/// Native mode 1's scan callback: verified (signature, merchant), a NATIVE order for the
/// product and the payer, answered with its signed prepay id, or a signed refusal the payer
/// sees (no such product); a callback that does not verify gets `return_code=FAIL`.
async fn scan(
    State((payments, notifier)): State<(Payments, Notifier)>,
    body: axum::body::Bytes,
) -> Response {
    let xml = |bytes: Vec<u8>| {
        (
            [(http::header::CONTENT_TYPE, "text/xml; charset=utf-8")],
            bytes,
        )
            .into_response()
    };
    let scan = match notifier.scan(&body) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "scan callback refused");
            return xml(tenpay_notify::nack("invalid scan callback"));
        }
    };
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let answer = match payments.scan_order(&scan).await {
        Ok(created) => notifier.scan_reply(
            &scan,
            tenpay_notify::ScanAnswer::Prepay(&created.prepay_id),
            &nonce,
        ),
        Err(e) => {
            tracing::info!(product = %scan.product_id(), error = %e, "scanned product refused");
            notifier.scan_reply(
                &scan,
                tenpay_notify::ScanAnswer::Refuse("this product cannot be ordered now"),
                &nonce,
            )
        }
    };
    match answer {
        Ok(bytes) => xml(bytes),
        Err(e) => {
            tracing::error!(error = %e, "scan answer could not be signed");
            xml(tenpay_notify::nack("internal error"))
        }
    }
}

fn notify_service(
    payments: &Payments,
    notifier: &Notifier,
    kind: Source,
) -> NotifyService<impl tenpay_notify::Handler> {
    let payments = payments.clone();
    NotifyService::new(notifier.clone(), move |delivery: Delivery| {
        let payments = payments.clone();
        async move { payments.deliver(kind, delivery).await }
    })
}

async fn authenticate(
    State(auth): State<SharedAuthenticator>,
    mut req: Request,
    next: Next,
) -> Response {
    match auth.authenticate(req.headers()) {
        Some(user) => {
            req.extensions_mut().insert(user);
            next.run(req).await
        }
        None => ApiError::unauthorized().into_response(),
    }
}

/// The payer's address: the peer, or, when the peer is a trusted proxy, the last address in
/// `X-Forwarded-For` that is not one (addresses a client wrote itself come before it).
fn payer_ip(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let mut ip = peer.ip();
    if !trusted.contains(&ip) {
        return ip;
    }
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(h) if trusted.contains(&h) => ip = h,
            Ok(h) => return h,
            Err(_) => return ip,
        }
    }
    ip
}

async fn create_order(
    State(s): State<AppState>,
    Extension(user): Extension<UserId>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<CreateOrder>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let ip = s.admit(&user, peer, &headers)?;
    let Json(req) = body.map_err(|e| bad_json(&e))?;
    let created = s.payments.create_order(&user, req, ip).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `POST /orders/{order_no}/attempts`: pay an unpaid order again (a new attempt).
async fn repay(
    State(s): State<AppState>,
    Extension(user): Extension<UserId>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(no): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    s.admit(&user, peer, &headers)?;
    let created = s.payments.repay(Some(&user), &super::order_no(no)?).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Query of `GET /orders/{order_no}`.
#[derive(Debug, Deserialize)]
struct GetOrder {
    /// Ask WeChat Pay (orderquery) first, when the order is unpaid.
    #[serde(default)]
    refresh: bool,
}

async fn get_order(
    State(s): State<AppState>,
    Extension(user): Extension<UserId>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(no): Path<String>,
    Query(q): Query<GetOrder>,
) -> Result<impl IntoResponse, ApiError> {
    let view = if q.refresh {
        s.admit(&user, peer, &headers)?;
        s.payments
            .refresh(Some(&user), &super::order_no(no)?)
            .await?
    } else {
        s.payments.order(Some(&user), &super::order_no(no)?).await?
    };
    Ok(Json(view))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_payer_ip_comes_from_x_forwarded_for_only_behind_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "6.6.6.6, 203.0.113.7, 10.0.0.2".parse().unwrap(),
        );
        let from_proxy = SocketAddr::new(proxy, 1);
        let trusted = [proxy, "10.0.0.2".parse().unwrap()];
        // Behind two trusted proxies: the first untrusted hop from the right.
        assert_eq!(
            payer_ip(from_proxy, &h, &trusted),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        // A direct client cannot choose its address.
        let direct = SocketAddr::new("198.51.100.9".parse().unwrap(), 1);
        assert_eq!(payer_ip(direct, &h, &trusted), direct.ip());
        // No trusted proxies: the peer.
        assert_eq!(payer_ip(from_proxy, &h, &[]), proxy);
    }
}
