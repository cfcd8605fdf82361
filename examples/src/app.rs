//! The HTTP API: orders for the app, notify endpoints for WeChat Pay.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tenpay_client::{
    Client, CloseOrder, OrderQuery, OutRefundNo, OutTradeNo, Refund as RefundRequest, UnifiedOrder,
};
use tenpay_notify::{Deliveries, Delivery, DeliveryHandler, Notifier, NotifyService};
use tenpay_xml::{Fen, TradeState};

use crate::config::Config;
use crate::db::{Db, Order, Refund};
use crate::notify::now;

/// The `before_commit` hook: gets the out_trade_no; an error rolls the payment back.
pub type BeforeCommit = Arc<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// Hooks for fault-injection tests. Production servers leave them empty.
#[derive(Clone, Default)]
pub struct Hooks {
    /// Called inside the payment transaction just before commit, with the out_trade_no; an
    /// error rolls the transaction back (the notification is then recorded as failed and
    /// WeChat Pay retries).
    pub before_commit: Option<BeforeCommit>,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("before_commit", &self.before_commit.is_some())
            .finish()
    }
}

/// What the handlers share.
#[derive(Clone, Debug)]
pub struct AppState {
    pub(crate) client: Client,
    pub(crate) notifier: Arc<Notifier>,
    pub(crate) db: Db,
    pub(crate) config: Arc<Config>,
    pub(crate) public_base_url: String,
    pub(crate) hooks: Hooks,
}

/// An API error: a status and a JSON body with a reason.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    error: &'static str,
    reason: String,
}

impl ApiError {
    fn new(status: StatusCode, error: &'static str, reason: impl Into<String>) -> Self {
        Self {
            status,
            error,
            reason: reason.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "error": self.error, "reason": self.reason })),
        )
            .into_response()
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> Self {
        tracing::error!(error = %e, "database error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "database",
            "the order store failed; nothing was changed",
        )
    }
}

fn upstream(e: &tenpay_client::Error) -> ApiError {
    ApiError::new(StatusCode::BAD_GATEWAY, "wechat_pay", e.to_string())
}

/// Builds the router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/orders", post(create_order))
        .route("/orders/{out_trade_no}", get(get_order))
        .route("/orders/{out_trade_no}/close", post(close_order))
        .route("/orders/{out_trade_no}/refunds", post(create_refund))
        .route_service("/wechat/notify/pay", notify_service(&state, "pay"))
        .route_service("/wechat/notify/refund", notify_service(&state, "refund"))
        .layer(DefaultBodyLimit::max(64 * 1024))
        .with_state(state)
}

/// The body of `POST /orders`.
#[derive(Debug, Deserialize)]
pub struct CreateOrder {
    /// What is sold (kept locally).
    pub item: String,
    /// The `body` shown to the payer (at most 128 bytes).
    pub description: String,
    /// Amount in fen (integer).
    pub amount_fen: i64,
    /// APP, JSAPI, NATIVE or MWEB.
    pub trade_type: String,
    /// The payer's openid (JSAPI).
    pub openid: Option<String>,
}

async fn create_order(
    State(s): State<AppState>,
    body: Result<Json<CreateOrder>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(req) =
        body.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", e.body_text()))?;
    let bad = |reason: &str| ApiError::new(StatusCode::BAD_REQUEST, "invalid_order", reason);
    if req.item.trim().is_empty() || req.item.len() > 64 {
        return Err(bad("item must be 1 to 64 bytes"));
    }
    if req.description.trim().is_empty() || req.description.len() > 128 {
        return Err(bad(
            "description must be 1 to 128 bytes (WeChat Pay's body limit)",
        ));
    }
    if req.amount_fen <= 0 || req.amount_fen > 10_000_000_000 {
        return Err(bad("amount_fen must be a positive integer number of fen"));
    }
    if !["APP", "JSAPI", "NATIVE", "MWEB"].contains(&req.trade_type.as_str()) {
        return Err(bad("trade_type must be APP, JSAPI, NATIVE or MWEB"));
    }
    if req.trade_type == "JSAPI" && req.openid.as_deref().is_none_or(str::is_empty) {
        return Err(bad("JSAPI orders need the payer's openid"));
    }
    let out_trade_no = format!(
        "{}{}",
        tenpay_xml::BeijingTime::from_unix(now())
            .map(|t| t.to_string())
            .unwrap_or_default(),
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let order = Order {
        out_trade_no: out_trade_no.clone(),
        item: req.item.clone(),
        description: req.description.clone(),
        amount_fen: req.amount_fen,
        trade_type: req.trade_type.clone(),
        openid: req.openid.clone(),
        state: "NEW".into(),
        prepay_id: None,
        transaction_id: None,
        refunded_fen: 0,
        created_at: now(),
        paid_at: None,
    };
    s.db.insert_order(&order).await?;

    let no = OutTradeNo::new(&out_trade_no).map_err(|e| bad(&e.to_string()))?;
    let fee = Fen::new(u64::try_from(req.amount_fen).unwrap_or(0));
    let notify_url = format!("{}/wechat/notify/pay", s.public_base_url);
    let ip = s.config.spbill_create_ip.clone();
    let request = match req.trade_type.as_str() {
        "JSAPI" => UnifiedOrder::jsapi(
            &req.description,
            no,
            fee,
            ip,
            notify_url,
            req.openid.clone().unwrap_or_default(),
        ),
        "NATIVE" => UnifiedOrder::native(&req.description, no, fee, ip, notify_url, &req.item),
        "MWEB" => UnifiedOrder::mweb(
            &req.description,
            no,
            fee,
            ip,
            notify_url,
            r#"{"h5_info":{"type":"Wap","wap_url":"https://example.com","wap_name":"shop"}}"#,
        ),
        _ => UnifiedOrder::app(&req.description, no, fee, ip, notify_url),
    };
    let answer = match s.client.unified_order(&request).await {
        Ok(a) => a,
        Err(e) => {
            s.db.set_prepared(&out_trade_no, None).await?;
            return Err(upstream(&e));
        }
    };
    s.db.set_prepared(&out_trade_no, Some(&answer.prepay_id))
        .await?;
    let pay = match req.trade_type.as_str() {
        "APP" => {
            serde_json::to_value(s.client.app_params(&answer.prepay_id)).unwrap_or(Value::Null)
        }
        "JSAPI" => {
            serde_json::to_value(s.client.jsapi_params(&answer.prepay_id)).unwrap_or(Value::Null)
        }
        "NATIVE" => json!({ "code_url": answer.code_url }),
        _ => json!({ "mweb_url": answer.mweb_url }),
    };
    Ok((
        StatusCode::CREATED,
        Json(
            json!({ "out_trade_no": out_trade_no, "state": "NOTPAY", "trade_type": req.trade_type, "prepay_id": answer.prepay_id, "pay": pay }),
        ),
    ))
}

/// Query of `GET /orders/{out_trade_no}`.
#[derive(Debug, Deserialize)]
pub struct GetOrder {
    /// Ask WeChat Pay (orderquery) before answering.
    #[serde(default)]
    pub refresh: bool,
}

#[derive(Serialize)]
struct OrderView {
    #[serde(flatten)]
    order: Order,
    refunds: Vec<Refund>,
}

async fn load(s: &AppState, no: &str) -> Result<Order, ApiError> {
    s.db.order(no).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_order",
            format!("no order {no}"),
        )
    })
}

async fn get_order(
    State(s): State<AppState>,
    Path(no): Path<String>,
    Query(q): Query<GetOrder>,
) -> Result<Json<Value>, ApiError> {
    let mut order = load(&s, &no).await?;
    if q.refresh && (order.state == "NOTPAY" || order.state == "NEW") {
        let out = OutTradeNo::new(&no)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_order", e.to_string()))?;
        let answer = s
            .client
            .order_query(&OrderQuery::by_out_trade_no(out))
            .await
            .map_err(|e| upstream(&e))?;
        if answer.trade_state == TradeState::Success {
            // The same rule as the notification: the amount must be ours, and only an unpaid
            // order moves.
            if answer.total_fee.map(Fen::get) != u64::try_from(order.amount_fen).ok() {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "amount_mismatch",
                    "WeChat Pay reports another amount for this order",
                ));
            }
            sqlx::query("UPDATE orders SET state = 'PAID', transaction_id = $1, paid_at = $2 WHERE out_trade_no = $3 AND state IN ('NEW', 'NOTPAY')")
                .bind(&answer.transaction_id)
                .bind(now())
                .bind(&no)
                .execute(&s.db.pool)
                .await
                .map_err(crate::db::DbError)?;
            order = load(&s, &no).await?;
        }
    }
    let refunds = s.db.refunds(&no).await?;
    Ok(Json(
        serde_json::to_value(OrderView { order, refunds }).unwrap_or(Value::Null),
    ))
}

async fn close_order(
    State(s): State<AppState>,
    Path(no): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let order = load(&s, &no).await?;
    if !matches!(order.state.as_str(), "NEW" | "NOTPAY" | "PAYERROR") {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "wrong_state",
            format!("order is {}", order.state),
        ));
    }
    let out = OutTradeNo::new(&no)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_order", e.to_string()))?;
    match s.client.close_order(&CloseOrder::new(out)).await {
        Ok(_) => {}
        Err(e) if e.err_code() == Some(&tenpay_client::ErrCode::OrderClosed) => {}
        Err(e) if e.err_code() == Some(&tenpay_client::ErrCode::OrderPaid) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "already_paid",
                "WeChat Pay says the order is paid; refresh it",
            ));
        }
        Err(e) => return Err(upstream(&e)),
    }
    s.db.close(&no).await?;
    Ok(Json(json!({ "out_trade_no": no, "state": "CLOSED" })))
}

/// The body of `POST /orders/{out_trade_no}/refunds`.
#[derive(Debug, Deserialize)]
pub struct CreateRefund {
    /// Amount in fen.
    pub amount_fen: i64,
    /// Your refund number (repeat it to repeat the same refund); generated when absent.
    pub out_refund_no: Option<String>,
    /// Shown to the payer.
    pub reason: Option<String>,
}

async fn create_refund(
    State(s): State<AppState>,
    Path(no): Path<String>,
    body: Result<Json<CreateRefund>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(req) =
        body.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", e.body_text()))?;
    let order = load(&s, &no).await?;
    if req.amount_fen <= 0 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_refund",
            "amount_fen must be a positive integer",
        ));
    }
    let refund_no = req
        .out_refund_no
        .clone()
        .unwrap_or_else(|| format!("R{}", &uuid::Uuid::new_v4().simple().to_string()[..24]));
    let out_refund_no = OutRefundNo::new(&refund_no)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_refund", e.to_string()))?;
    let existing =
        s.db.refunds(&no)
            .await?
            .into_iter()
            .find(|r| r.out_refund_no == refund_no);
    if existing.is_none() {
        let row = Refund {
            out_refund_no: refund_no.clone(),
            out_trade_no: no.clone(),
            amount_fen: req.amount_fen,
            state: "PROCESSING".into(),
            refund_id: None,
        };
        if !s.db.insert_refund(&row, now()).await? {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "not_refundable",
                format!(
                    "order is {} with {} fen refunded or requested of {}",
                    order.state, order.refunded_fen, order.amount_fen
                ),
            ));
        }
    }
    let out = OutTradeNo::new(&no)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_order", e.to_string()))?;
    let mut request = RefundRequest::by_out_trade_no(
        out,
        out_refund_no,
        Fen::new(u64::try_from(order.amount_fen).unwrap_or(0)),
        Fen::new(u64::try_from(req.amount_fen).unwrap_or(0)),
    )
    .notify_url(format!("{}/wechat/notify/refund", s.public_base_url));
    if let Some(reason) = &req.reason {
        request = request.desc(reason);
    }
    match s.client.refund(&request).await {
        Ok(answer) => {
            s.db.set_refund_id(&refund_no, Some(&answer.refund_id))
                .await?;
            Ok((
                StatusCode::CREATED,
                Json(
                    json!({ "out_refund_no": refund_no, "refund_id": answer.refund_id, "state": "PROCESSING" }),
                ),
            ))
        }
        Err(e) if e.is_retryable() => {
            // Unknown outcome: keep PROCESSING; repeating with the same out_refund_no is safe.
            Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                "unknown_outcome",
                format!("{e}; repeat with out_refund_no {refund_no}"),
            ))
        }
        Err(e) => {
            s.db.set_refund_id(&refund_no, None).await?;
            Err(upstream(&e))
        }
    }
}

/// The notify endpoint of `kind`: tenpay-notify's service, with every delivery (refused ones
/// included, for the audit trail) recorded by [`crate::notify::deliver`].
fn notify_service(
    state: &AppState,
    kind: &'static str,
) -> NotifyService<Deliveries<impl DeliveryHandler>> {
    let state = state.clone();
    NotifyService::deliveries((*state.notifier).clone(), move |delivery: Delivery| {
        let state = state.clone();
        async move { crate::notify::deliver(&state, kind, delivery).await }
    })
}

/// A running merchant server.
#[derive(Debug)]
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its state (database, client).
    pub state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// The server's base URL.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The database.
    #[must_use]
    pub fn db(&self) -> &Db {
        &self.state.db
    }

    /// Stops accepting, finishes in-flight requests, and waits.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// Stops at once, as a crash would (in-flight requests are dropped).
    pub fn kill(self) {
        self.task.abort();
    }
}

/// Connects the database, builds the client, binds `config.listen` (port 0 picks one) and serves.
///
/// # Errors
/// Configuration, database or bind failures, as text a person can act on.
pub async fn start(config: Config, hooks: Hooks) -> Result<Running, String> {
    let db = Db::connect(&config.database_url)
        .await
        .map_err(|e| e.to_string())?;
    let mut builder = Client::builder(
        &config.appid,
        &config.mch_id,
        config.api_key.clone(),
        config.sign_type,
    )
    .base_url(&config.wechat_base_url);
    if let Some(identity) = &config.identity {
        builder = builder.identity(identity.clone());
    }
    if let Some(ca) = &config.extra_ca_pem {
        builder = builder.add_root_certificate_pem(ca.clone());
    }
    let client = builder.build().map_err(|e| e.to_string())?;
    let notifier = Notifier::new(
        &config.appid,
        &config.mch_id,
        config.api_key.clone(),
        config.sign_type,
    );
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let public_base_url = config
        .public_base_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let state = AppState {
        client,
        notifier: Arc::new(notifier),
        db,
        config: Arc::new(config),
        public_base_url,
        hooks,
    };
    let app = router(state.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    Ok(Running {
        addr,
        state,
        stop: Some(stop),
        task,
    })
}
