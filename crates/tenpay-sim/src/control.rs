//! The control API: JSON over HTTP under `/_sim/`, the same operations as [`crate::SimHandle`].
//!
//! | method and path | does |
//! |---|---|
//! | `GET /_sim/orders` | every order |
//! | `GET /_sim/orders/{out_trade_no}[?mch_id=]` | one order |
//! | `POST /_sim/orders/{out_trade_no}/pay[?mch_id=]` | the user pays (body: [`crate::PayOptions`] as JSON, optional) |
//! | `POST /_sim/orders/{out_trade_no}/fail[?mch_id=&err_code=]` | the payment fails |
//! | `POST /_sim/orders/{out_trade_no}/close[?mch_id=]` | the order is closed |
//! | `GET /_sim/deliveries` | every notification with every attempt |
//! | `GET /_sim/calls` | calls per endpoint |
//! | `POST /_sim/faults` | inject a [`crate::Fault`] (JSON) |
//! | `DELETE /_sim/faults` | clear all faults |

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde::Serialize;

use crate::engine::Engine;
use crate::model::{Fault, PayOptions};
use crate::server::{SimBody, respond};

const JSON: &str = "application/json";

fn json(status: StatusCode, value: &impl Serialize) -> Response<SimBody> {
    let body = serde_json::to_vec_pretty(value).unwrap_or_else(|_| b"{}".to_vec());
    respond(status, JSON, body)
}

fn error(status: StatusCode, msg: impl Into<String>) -> Response<SimBody> {
    json(status, &serde_json::json!({ "error": msg.into() }))
}

fn query(req: &Request<Incoming>, name: &str) -> Option<String> {
    req.uri().query()?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == name).then(|| v.to_owned())
    })
}

pub(crate) async fn handle(engine: Arc<Engine>, req: Request<Incoming>) -> Response<SimBody> {
    let method = req.method().clone();
    let path = req.uri().path().trim_end_matches('/').to_owned();
    let mch_id = query(&req, "mch_id");
    let err_code = query(&req, "err_code");
    let body: Bytes = match Limited::new(req.into_body(), 64 * 1024).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return error(StatusCode::PAYLOAD_TOO_LARGE, "body too large"),
    };
    let segments: Vec<&str> = path
        .trim_start_matches("/_sim")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let mch = mch_id.as_deref();
    let result = match (&method, segments.as_slice()) {
        (&Method::GET, []) | (&Method::GET, ["health"]) => {
            return json(StatusCode::OK, &serde_json::json!({ "ok": true }));
        }
        (&Method::GET, ["orders"]) => return json(StatusCode::OK, &engine.orders()),
        (&Method::GET, ["orders", no]) => engine.order_view(mch, no),
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
        (&Method::GET, ["deliveries"]) => return json(StatusCode::OK, &engine.lock().deliveries),
        (&Method::GET, ["calls"]) => return json(StatusCode::OK, &engine.lock().calls),
        (&Method::POST, ["faults"]) => {
            return match serde_json::from_slice::<Fault>(&body) {
                Ok(f) => {
                    engine.lock().faults.push(f);
                    json(StatusCode::OK, &serde_json::json!({ "ok": true }))
                }
                Err(e) => error(StatusCode::BAD_REQUEST, format!("bad fault: {e}")),
            };
        }
        (&Method::DELETE, ["faults"]) => {
            engine.lock().faults.clear();
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
        Err(e) => error(StatusCode::CONFLICT, e),
    }
}

impl Engine {
    pub(crate) fn orders(&self) -> Vec<crate::model::OrderView> {
        let mut v: Vec<_> = self
            .lock()
            .orders
            .values()
            .map(crate::state::Order::view)
            .collect();
        v.sort_by(|a, b| (&a.mch_id, &a.out_trade_no).cmp(&(&b.mch_id, &b.out_trade_no)));
        v
    }

    pub(crate) fn order_view(
        &self,
        mch_id: Option<&str>,
        out_trade_no: &str,
    ) -> Result<crate::model::OrderView, String> {
        let views: Vec<_> = self
            .orders()
            .into_iter()
            .filter(|o| o.out_trade_no == out_trade_no && mch_id.is_none_or(|m| o.mch_id == m))
            .collect();
        match views.len() {
            0 => Err(format!("no order {out_trade_no}")),
            1 => Ok(views.into_iter().next().ok_or_else(String::new)?),
            _ => Err(format!(
                "several merchants have an order {out_trade_no}: give mch_id"
            )),
        }
    }
}
