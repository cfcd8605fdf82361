//! The back office listener (`ADMIN_LISTEN`, 127.0.0.1 by default): every route needs
//! `Authorization: Bearer <TENPAY_ADMIN_TOKEN>`.
//!
//! | route | what |
//! |---|---|
//! | `GET /orders/{out_trade_no}[?refresh=true]` | any order, with its refunds |
//! | `POST /orders/{out_trade_no}/close` | close an unpaid order |
//! | `POST /orders/{out_trade_no}/refunds` | refund `{amount_fen, out_refund_no?, reason?}`; repeat with the same `out_refund_no` |
//! | `GET /refunds/{out_refund_no}` | one refund |
//! | `POST /refunds/{out_refund_no}/query` | ask WeChat Pay (refundquery) and record the result |
//! | `GET /anomalies` | what a person must act on |
//! | `GET /audit?out_trade_no=…` | the notifications received, with verdicts |
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
use crate::auth::AdminToken;
use crate::payments::{CreateRefund, Payments};

/// The back office router.
pub fn router(payments: Payments, token: AdminToken) -> Router {
    Router::new()
        .route("/orders/{out_trade_no}", get(get_order))
        .route("/orders/{out_trade_no}/close", post(close_order))
        .route("/orders/{out_trade_no}/refunds", post(create_refund))
        .route("/refunds/{out_refund_no}", get(get_refund))
        .route("/refunds/{out_refund_no}/query", post(query_refund))
        .route("/anomalies", get(anomalies))
        .route("/audit", get(audit))
        .route_layer(axum::middleware::from_fn_with_state(token, require_token))
        .with_state(payments)
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
        p.refresh(None, &no).await?
    } else {
        p.order(None, &no).await?
    }))
}

async fn close_order(
    State(p): State<Payments>,
    Path(no): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(p.close(&no).await?))
}

async fn create_refund(
    State(p): State<Payments>,
    Path(no): Path<String>,
    body: Result<Json<CreateRefund>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Json(req) = body.map_err(|e| bad_json(&e))?;
    let outcome = p.refund(&no, req).await?;
    let status = match (outcome.submission, outcome.created) {
        ("rejected", _) => StatusCode::UNPROCESSABLE_ENTITY,
        ("unknown", _) => StatusCode::ACCEPTED,
        ("accepted", true) => StatusCode::CREATED,
        _ => StatusCode::OK,
    };
    Ok((status, Json(outcome)))
}

async fn get_refund(
    State(p): State<Payments>,
    Path(no): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let refund = p
        .store()
        .refund(&no)
        .await
        .map_err(crate::payments::OpError::from)?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "unknown_refund", "no such refund"))?;
    Ok(Json(refund))
}

async fn query_refund(
    State(p): State<Payments>,
    Path(no): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(p.resolve_refund(&no).await?))
}

async fn anomalies(State(p): State<Payments>) -> Result<impl IntoResponse, ApiError> {
    let rows = p
        .store()
        .anomalies(1000)
        .await
        .map_err(crate::payments::OpError::from)?;
    Ok(Json(rows))
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    out_trade_no: String,
}

async fn audit(
    State(p): State<Payments>,
    Query(q): Query<AuditQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let rows = p
        .store()
        .audit(Some(&q.out_trade_no))
        .await
        .map_err(crate::payments::OpError::from)?;
    Ok(Json(rows))
}
