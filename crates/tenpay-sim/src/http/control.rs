//! The control API (documented in `control.md`, published as `tenpay_sim::control`).

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde::Serialize;

use super::Site;
use super::body::{SimBody, respond};
use crate::error::Refusal;
use crate::model::{Fault, PayOptions};

const JSON: &str = "application/json";

/// How many orders and deliveries a snapshot carries (the most recent).
const SNAPSHOT_ROWS: usize = 200;

fn json(status: StatusCode, value: &impl Serialize) -> Response<SimBody> {
    let body = serde_json::to_vec_pretty(value).unwrap_or_else(|_| b"{}".to_vec());
    respond(status, JSON, body)
}

fn error(status: StatusCode, msg: impl Into<String>) -> Response<SimBody> {
    json(status, &serde_json::json!({ "error": msg.into() }))
}

fn refused(r: &Refusal) -> Response<SimBody> {
    let kind = match r {
        Refusal::UnknownOrder { .. } => "unknown_order",
        Refusal::Ambiguous { .. } => "ambiguous",
        Refusal::WrongState { .. } => "wrong_state",
        Refusal::Expired { .. } => "expired",
        Refusal::UnknownRefund { .. } => "unknown_refund",
        Refusal::RefundNotProcessing { .. } => "refund_not_processing",
        Refusal::CouponTooLarge { .. } => "coupon_too_large",
        Refusal::UnknownDelivery { .. } => "unknown_delivery",
        Refusal::TooManyFaults { .. } => "too_many_faults",
        Refusal::Scan { .. } => "scan",
        Refusal::Unavailable { .. } => "unavailable",
    };
    json(
        StatusCode::CONFLICT,
        &serde_json::json!({ "error": r.to_string(), "refusal": kind }),
    )
}

/// A query parameter (no percent-decoding: the values used here are ids and tokens).
pub(crate) fn query(req: &Request<Incoming>, name: &str) -> Option<String> {
    req.uri().query()?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == name).then(|| v.to_owned())
    })
}

#[derive(Serialize)]
struct Snapshot {
    merchants: Vec<crate::model::MerchantView>,
    orders: Vec<crate::model::OrderView>,
    deliveries: Vec<crate::model::DeliveryView>,
    faults: Vec<Fault>,
    calls: std::collections::HashMap<String, u64>,
    time_scale: u32,
    transfers: Vec<crate::TransferView>,
    bank_payments: Vec<crate::BankPaymentView>,
    redpacks: Vec<crate::RedpackView>,
    contracts: Vec<crate::ContractView>,
    signings: Vec<crate::papay::SigningView>,
}

pub(crate) async fn handle(site: &Site, req: Request<Incoming>) -> Response<SimBody> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let segments: Vec<String> = path
        .trim_start_matches("/_sim")
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    if let Some(why) = super::refused_as_cross_site(site, &req) {
        let status = if why.contains("Content-Type") {
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        } else {
            StatusCode::FORBIDDEN
        };
        return error(status, why);
    }
    // The page and its assets hold no data; health says nothing.
    match (&method, segments.as_slice()) {
        (&Method::GET, []) => return super::dashboard::page(),
        (&Method::GET, ["ui", asset]) => return super::dashboard::asset(asset),
        (&Method::GET, ["health"]) => {
            return json(StatusCode::OK, &serde_json::json!({ "ok": true }));
        }
        _ => {}
    }
    if !site.authorized(&req) {
        return error(
            StatusCode::UNAUTHORIZED,
            "this simulator requires its control token (printed at start): Authorization: Bearer TOKEN",
        );
    }
    let mch_id = query(&req, "mch_id");
    let err_code = query(&req, "err_code");
    let openid = query(&req, "openid");
    let body: Bytes = match Limited::new(req.into_body(), 64 * 1024).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return error(StatusCode::PAYLOAD_TOO_LARGE, "body too large"),
    };
    let engine = &site.engine;
    let mch = mch_id.as_deref();
    let result = match (&method, segments.as_slice()) {
        (&Method::GET, ["snapshot"]) => {
            let mut deliveries = engine.outbox.deliveries();
            deliveries.reverse();
            deliveries.truncate(SNAPSHOT_ROWS);
            let state = engine.lock();
            let faults = state.faults().to_vec();
            let calls = state.all_calls();
            drop(state);
            return json(
                StatusCode::OK,
                &Snapshot {
                    merchants: engine.merchant_views(),
                    orders: engine.recent_orders(SNAPSHOT_ROWS),
                    deliveries,
                    faults,
                    calls,
                    time_scale: engine.clock.scale(),
                    transfers: engine.transfer_views(),
                    bank_payments: engine.bank_views(),
                    redpacks: engine.redpack_views(),
                    contracts: engine.contract_views(),
                    signings: engine.signing_views(),
                },
            );
        }
        (&Method::GET, ["orders"]) => return json(StatusCode::OK, &engine.orders()),
        (&Method::GET, ["orders", no]) => engine.order_view(mch, no),
        (&Method::GET, ["orders", no, "qr.svg"]) => {
            return match engine.order_view(mch, no) {
                Ok(o) => match o.code_url {
                    Some(url) => super::dashboard::qr(&url),
                    None => error(StatusCode::NOT_FOUND, format!("order {no} has no code_url")),
                },
                Err(r) => refused(&r),
            };
        }
        (&Method::POST, ["orders", no, "pay"]) => {
            let opts: PayOptions = if body.is_empty() {
                PayOptions::default()
            } else {
                match serde_json::from_slice(&body) {
                    Ok(o) => o,
                    Err(e) => {
                        return error(StatusCode::BAD_REQUEST, format!("bad pay options: {e}"));
                    }
                }
            };
            engine.pay(mch, no, &opts)
        }
        (&Method::POST, ["orders", no, "fail"]) => {
            engine.fail(mch, no, err_code.as_deref().unwrap_or("PAYERROR"))
        }
        (&Method::POST, ["orders", no, "close"]) => engine.close(mch, no),
        (&Method::POST, ["refunds", no, "complete"]) => engine.conclude_refund(mch, no, true),
        (&Method::POST, ["refunds", no, "fail"]) => engine.conclude_refund(mch, no, false),
        (&Method::GET, ["deliveries"]) => return json(StatusCode::OK, &engine.outbox.deliveries()),
        (&Method::GET, ["transfers"]) => return json(StatusCode::OK, &engine.transfer_views()),
        (&Method::GET, ["bank-payments"]) => return json(StatusCode::OK, &engine.bank_views()),
        (&Method::GET, ["redpacks"]) => return json(StatusCode::OK, &engine.redpack_views()),
        (&Method::GET, ["contracts"]) => return json(StatusCode::OK, &engine.contract_views()),
        (&Method::POST, ["signings", code, "sign"]) => {
            let Some(mch) = mch else {
                return error(StatusCode::BAD_REQUEST, "mch_id is required");
            };
            return match engine.sign_contract(
                mch,
                code,
                openid.as_deref().unwrap_or(crate::notify::DEFAULT_OPENID),
            ) {
                Ok(v) => json(StatusCode::OK, &v),
                Err(r) => refused(&r),
            };
        }
        (&Method::POST, ["redpacks", no, "claim"]) => {
            return match engine.claim_redpack(mch, no, openid.as_deref()) {
                Ok(v) => json(StatusCode::OK, &v),
                Err(r) => refused(&r),
            };
        }
        (&Method::POST, ["deliveries", id, "redeliver"]) => {
            let Ok(id) = id.parse::<u64>() else {
                return error(StatusCode::BAD_REQUEST, format!("bad delivery id {id:?}"));
            };
            return match engine.redeliver(id) {
                Ok(()) => json(StatusCode::OK, &serde_json::json!({ "ok": true })),
                Err(r) => refused(&r),
            };
        }
        (&Method::GET, ["calls"]) => return json(StatusCode::OK, &engine.lock().all_calls()),
        (&Method::POST, ["faults"]) => {
            return match serde_json::from_slice::<Fault>(&body) {
                Ok(f) => match engine.lock().add_fault(f) {
                    Ok(()) => json(StatusCode::OK, &serde_json::json!({ "ok": true })),
                    Err(r) => refused(&r),
                },
                Err(e) => error(StatusCode::BAD_REQUEST, format!("bad fault: {e}")),
            };
        }
        (&Method::DELETE, ["faults"]) => {
            engine.lock().clear_faults();
            return json(StatusCode::OK, &serde_json::json!({ "ok": true }));
        }
        _ => {
            return error(
                StatusCode::NOT_FOUND,
                format!("no control operation {method} {path}"),
            );
        }
    };
    match result {
        Ok(view) => json(StatusCode::OK, &view),
        Err(r) => refused(&r),
    }
}
