//! The back office listener (`ADMIN_LISTEN`, 127.0.0.1 by default): every route needs
//! `Authorization: Bearer <TENPAY_ADMIN_TOKEN>`.
//!
//! | route | what |
//! |---|---|
//! | `GET /orders/{order_no}[?refresh=true]` | any order, with its refunds |
//! | `POST /orders/{order_no}/cancel` | cancel an unpaid order for good (the payer cannot pay it again) |
//! | `POST /orders/{order_no}/refunds` | refund `{amount_fen, out_refund_no?, reason?}`; repeat with the same `out_refund_no` |
//! | `GET /refunds/{out_refund_no}` | one refund |
//! | `POST /refunds/{out_refund_no}/query` | ask WeChat Pay (refundquery) and record the result |
//! | `POST /users/{user_id}/revoke` | refuse every session token of the user issued until now (all instances within 5 s) |
//! | `GET /products/{item}/native_url` | the signed `weixin://wxpay/bizpayurl` to print as the item's QR code (Native mode 1; scans reach `POST /wechat/notify/scan`) |
//! | `GET /anomalies` | what a person must act on (resolved ones with their resolution) |
//! | `POST /anomalies/{kind}/{reference}/resolve` | `{resolution}`: what a person did about it |
//! | `POST /reconciliations/{yyyyMMdd}` | reconcile that day against WeChat Pay's bill now (JSON report) |
//! | `GET /reconciliations/{yyyyMMdd}` | the kept report, JSON; `…/html` as a page |
//! | `GET /metrics` | OpenMetrics text (`prometheus-client`): orders, refunds, notifications, open anomalies, the sweeper, rate limits, connections, WeChat Pay latency |
//! | `GET /healthz`, `GET /readyz` | alive; the database answers (no token needed) |
//! | `GET /audit?order_no=…` | the notifications received, with verdicts |
//!
//! Refund answers: 201 created and accepted, 200 a repeat, 202 outcome unknown (the refund is
//! PROCESSING; it is resolved by the notification or refundquery), 422 refused for good by
//! WeChat Pay (the amount is free again), 409 a conflicting request.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::StatusCode;
use serde::Deserialize;

use super::error::{ApiError, bad_json};
use std::sync::Arc;

use crate::auth::{AdminToken, SharedAuthenticator};
use crate::domain::AnomalyKind;
use crate::payments::{CreateRefund, Payments, SubmissionResult};
use crate::sweeper::SweepStats;

/// The counters `/metrics` shows beside the store's.
#[derive(Debug, Clone)]
pub struct Stats {
    /// The sweeper's.
    pub sweep: Arc<SweepStats>,
    /// The app API's rate limits.
    pub throttle: Arc<super::throttle::Throttle>,
    /// The public listener's connection limits.
    pub edge: Arc<super::EdgeStats>,
}

/// The back office router.
pub fn router(
    payments: Payments,
    token: AdminToken,
    authenticator: SharedAuthenticator,
    stats: Stats,
) -> Router {
    let probes = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .with_state(payments.clone());
    Router::new()
        .route(
            "/metrics",
            get(move |State(p): State<Payments>| metrics(p, stats.clone())),
        )
        .route(
            "/reconciliations/{bill_date}",
            post(run_reconciliation).get(get_reconciliation),
        )
        .route(
            "/reconciliations/{bill_date}/html",
            get(reconciliation_page),
        )
        .route(
            "/anomalies/{kind}/{reference}/resolve",
            post(resolve_anomaly),
        )
        .route("/orders/{order_no}", get(get_order))
        .route("/orders/{order_no}/cancel", post(cancel_order))
        .route("/orders/{order_no}/refunds", post(create_refund))
        .route("/refunds/{out_refund_no}", get(get_refund))
        .route("/refunds/{out_refund_no}/query", post(query_refund))
        .route(
            "/users/{user_id}/revoke",
            post(move |State(p): State<Payments>, Path(user): Path<String>| {
                revoke_user(p, Arc::clone(&authenticator), user)
            }),
        )
        .route("/products/{item}/native_url", get(native_url))
        .route("/anomalies", get(anomalies))
        .route("/audit", get(audit))
        .route_layer(axum::middleware::from_fn_with_state(token, require_token))
        .with_state(payments)
        .merge(probes)
}

async fn readyz(State(p): State<Payments>) -> Response {
    match p.ping().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readyz: the database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the database does not answer\n",
            )
                .into_response()
        }
    }
}

async fn metrics(p: Payments, stats: Stats) -> Result<Response, ApiError> {
    use prometheus_client::metrics::counter::Counter;
    use prometheus_client::metrics::family::Family;
    use prometheus_client::metrics::gauge::Gauge;
    use std::sync::atomic::Ordering::Relaxed;
    let counts = p.counts().await?;
    // A registry per scrape: the store's counts are read now, the counters are the process's.
    let mut registry = prometheus_client::registry::Registry::default();
    let mut by = |name: &str, help: &str, label: &'static str, rows: &[(String, i64)]| {
        let family = Family::<Vec<(&'static str, String)>, Gauge>::default();
        for (value, n) in rows {
            family.get_or_create(&vec![(label, value.clone())]).set(*n);
        }
        registry.register(name, help, family);
    };
    by("tenpay_orders", "Orders by state", "state", &counts.orders);
    by(
        "tenpay_attempts",
        "Payment attempts by state",
        "state",
        &counts.attempts,
    );
    by(
        "tenpay_refunds",
        "Refunds by state",
        "state",
        &counts.refunds,
    );
    by(
        "tenpay_notifications",
        "Notify deliveries by kind and verdict",
        "kind",
        &counts.notifications,
    );
    by(
        "tenpay_open_anomalies",
        "Anomalies not yet resolved, by kind",
        "kind",
        &counts.open_anomalies,
    );
    let sweep = &stats.sweep;
    let edge = &stats.edge;
    for (name, help, value) in [
        ("tenpay_sweeps", "Sweeps run", &sweep.sweeps),
        (
            "tenpay_sweep_orders_queried",
            "Orders queried by the sweeper",
            &sweep.orders_queried,
        ),
        (
            "tenpay_sweep_orders_found_paid",
            "Paid orders found by the sweeper's queries",
            &sweep.orders_found_paid,
        ),
        (
            "tenpay_sweep_orders_closed",
            "Expired orders closed by the sweeper",
            &sweep.orders_closed,
        ),
        (
            "tenpay_sweep_refunds_queried",
            "Refunds queried by the sweeper",
            &sweep.refunds_queried,
        ),
        (
            "tenpay_sweep_errors",
            "Sweeper looks that failed (retried after their lease)",
            &sweep.errors,
        ),
        (
            "tenpay_connections_refused_per_peer",
            "Public connections closed at once: their address had HTTP_MAX_PER_PEER open",
            &edge.refused_per_peer,
        ),
        (
            "tenpay_connections_refused_full",
            "Public connections closed at once: every slot and the notify reserve were taken",
            &edge.refused_full,
        ),
        (
            "tenpay_connections_reserved",
            "Public connections served on the notify reserve",
            &edge.reserved,
        ),
    ] {
        let counter = Counter::<u64>::default();
        counter.inc_by(value.load(Relaxed));
        registry.register(name, help, counter);
    }
    let limited = Family::<Vec<(&'static str, String)>, Counter>::default();
    for (scope, n) in [
        ("user", &stats.throttle.refused_user),
        ("ip", &stats.throttle.refused_ip),
    ] {
        limited
            .get_or_create(&vec![("scope", scope.to_owned())])
            .inc_by(n.load(Relaxed));
    }
    registry.register(
        "tenpay_app_rate_limited",
        "App API calls refused with 429, by the bucket that was empty",
        limited,
    );
    let differences = counts
        .open_anomalies
        .iter()
        .find(|(k, _)| k == AnomalyKind::ReconciliationDifference.as_str())
        .map_or(0, |(_, n)| *n);
    for (name, help, value) in [
        (
            "tenpay_sweep_last_timestamp_seconds",
            "When the last sweep finished (0: never)",
            sweep.last_sweep_at.load(Relaxed),
        ),
        (
            "tenpay_sweep_lag_seconds",
            "Since the last sweep finished (since the server started, before the first)",
            sweep.lag_seconds(),
        ),
        (
            "tenpay_reconciliation_differences",
            "Reconciliation differences not yet resolved",
            differences,
        ),
    ] {
        let gauge = Gauge::<i64>::default();
        gauge.set(value);
        registry.register(name, help, gauge);
    }
    p.latency().register(&mut registry);
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &registry).map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "metrics",
            "the metrics could not be written",
        )
    })?;
    Ok((
        [(
            http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        out,
    )
        .into_response())
}

async fn run_reconciliation(
    State(p): State<Payments>,
    Path(bill_date): Path<String>,
) -> Result<Response, ApiError> {
    let report = crate::reconcile::reconcile(&p, &bill_date).await?;
    Ok(Json(report).into_response())
}

async fn kept_report(p: &Payments, bill_date: &str) -> Result<crate::reconcile::Report, ApiError> {
    crate::reconcile::day(bill_date)?;
    let json = p.kept_reconciliation(bill_date).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_reconciled",
            "this date is not reconciled yet: POST it",
        )
    })?;
    serde_json::from_str(&json).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "bad_report",
            e.to_string(),
        )
    })
}

async fn get_reconciliation(
    State(p): State<Payments>,
    Path(bill_date): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(kept_report(&p, &bill_date).await?).into_response())
}

async fn reconciliation_page(
    State(p): State<Payments>,
    Path(bill_date): Path<String>,
) -> Result<Response, ApiError> {
    let report = kept_report(&p, &bill_date).await?;
    Ok(axum::response::Html(crate::reconcile::html(&report)).into_response())
}

#[derive(Debug, Deserialize)]
struct Resolution {
    resolution: String,
}

async fn resolve_anomaly(
    State(p): State<Payments>,
    Path((kind, reference)): Path<(String, String)>,
    body: Result<Json<Resolution>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(r) = body.map_err(|e| bad_json(&e))?;
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_anomaly",
            "no such unresolved anomaly",
        )
    };
    let kind = AnomalyKind::parse(&kind).map_err(|_| not_found())?;
    if r.resolution.trim().is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "resolution must say what was done",
        ));
    }
    let done = p.resolve_anomaly(kind, &reference, &r.resolution).await?;
    if done {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(not_found())
    }
}

async fn require_token(State(token): State<AdminToken>, req: Request, next: Next) -> Response {
    if token.admits(req.headers()) {
        next.run(req).await
    } else {
        tracing::warn!(
            path = req.uri().path(),
            "back office request without the admin token"
        );
        ApiError::unauthorized().into_response()
    }
}

#[derive(Debug, Deserialize)]
struct Refresh {
    #[serde(default)]
    refresh: bool,
}

async fn get_order(
    State(p): State<Payments>,
    Path(no): Path<String>,
    Query(q): Query<Refresh>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(if q.refresh {
        p.refresh(None, &super::order_no(no)?).await?
    } else {
        p.order(None, &super::order_no(no)?).await?
    }))
}

async fn revoke_user(
    p: Payments,
    authenticator: SharedAuthenticator,
    user: String,
) -> Result<Response, ApiError> {
    let user = crate::auth::UserId::new(user)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid", e))?;
    let before = p.revoke_sessions(authenticator.as_ref(), &user).await?;
    Ok(
        Json(serde_json::json!({ "user_id": user.as_str(), "revoked_before_ms": before }))
            .into_response(),
    )
}

async fn cancel_order(
    State(p): State<Payments>,
    Path(no): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(p.cancel(&super::order_no(no)?).await?))
}

async fn create_refund(
    State(p): State<Payments>,
    Path(no): Path<String>,
    body: Result<Json<CreateRefund>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Json(req) = body.map_err(|e| bad_json(&e))?;
    let outcome = p.refund(&super::order_no(no)?, req).await?;
    let status = match (outcome.submission, outcome.created) {
        (SubmissionResult::Rejected, _) => StatusCode::UNPROCESSABLE_ENTITY,
        (SubmissionResult::Unknown, _) => StatusCode::ACCEPTED,
        (SubmissionResult::Accepted, true) => StatusCode::CREATED,
        _ => StatusCode::OK,
    };
    Ok((status, Json(outcome)))
}

async fn get_refund(
    State(p): State<Payments>,
    Path(no): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(p.refund_record(&super::refund_no(no)?).await?))
}

async fn query_refund(
    State(p): State<Payments>,
    Path(no): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(p.resolve_refund(&super::refund_no(no)?).await?))
}

async fn native_url(
    State(p): State<Payments>,
    Path(item): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let product = tenpay_xml::ProductId::new(item)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid", e.to_string()))?;
    Ok(Json(serde_json::json!({
        "product_id": product.as_str(),
        "native_url": p.native_url(&product),
    })))
}

async fn anomalies(State(p): State<Payments>) -> Result<impl IntoResponse, ApiError> {
    let rows = p.anomalies(1000).await?;
    Ok(Json(rows))
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    order_no: String,
}

async fn audit(
    State(p): State<Payments>,
    Query(q): Query<AuditQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let rows = p.audit(&q.order_no).await?;
    Ok(Json(rows))
}
