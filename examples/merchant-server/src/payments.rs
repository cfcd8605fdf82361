//! The server's operations: each combines the WeChat Pay client with the store, and every
//! surface (the app's API, the back office, the notify URLs) goes through them.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tenpay_client::{
    Client, CloseOrder, ErrCode, OrderQuery, OutRefundNo, OutTradeNo, Refund as RefundCall,
    RefundQuery, UnifiedOrder,
};
use tenpay_notify::{Delivery, Notification, PayNotification, RefundNotification};
use tenpay_xml::{Fen, TradeState, XmlMap};

use crate::auth::UserId;
use crate::domain::{
    AnomalyKind, Answered, AttemptState, OrderNo, OrderState, RefundState, Submission, TradeType,
    classify_submission,
};
use crate::logging::Escaped;
use crate::store::{
    Attempt, Cancel, Evidence, NewAttempt, NewOrder, Order, PaymentVerdict, Refund, RefundReport,
    Refusal, Reservation, Source, Store, StoreError,
};

pub use crate::pricing::MAX_ORDER_FEN;

/// Why an operation did not happen (or did not finish).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpError {
    /// The request is unusable; nothing was stored.
    #[error("{0}")]
    Invalid(String),
    /// The pricing has no price for the item; nothing was stored.
    #[error(transparent)]
    NoPrice(crate::pricing::PriceRefusal),
    /// No such order (or not the caller's).
    #[error("no such order")]
    UnknownOrder,
    /// No such refund.
    #[error("no such refund")]
    UnknownRefund,
    /// The request contradicts what is stored; nothing was changed.
    #[error("{reason}")]
    Conflict {
        /// A short code for programs.
        code: &'static str,
        /// For people.
        reason: String,
    },
    /// WeChat Pay refused or failed.
    #[error("WeChat Pay")]
    Upstream(#[source] tenpay_client::Error),
    /// The store failed; nothing was changed.
    #[error("the order store failed")]
    Store(#[from] StoreError),
}

/// Why a notification was not acknowledged: WeChat Pay sends it again. Logged by
/// `tenpay-notify` with its cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotRecorded {
    /// The store failed; nothing was recorded (the evidence was kept if the store took it).
    #[error("not recorded")]
    Store(#[from] StoreError),
    /// Verified, but the books cannot take it (recorded as refused, an anomaly when it is one).
    #[error("refused: {0}")]
    Refused(Refusal),
    /// A refund notification that refundquery did not confirm.
    #[error("not confirmed by refundquery")]
    NotConfirmed(#[source] OpError),
    /// A kind of notification this server does not handle.
    #[error("a notification this server does not handle")]
    Unhandled,
}

fn conflict(code: &'static str, reason: impl Into<String>) -> OpError {
    OpError::Conflict {
        code,
        reason: reason.into(),
    }
}

/// The body of an order request from the app. The amount and the description come from the
/// server's [`crate::pricing::Pricing`], never from the app.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateOrder {
    /// The product (1 to 32 of `A-Z a-z 0-9 _ - .`; NATIVE's `product_id`), priced by the
    /// server.
    pub item: String,
    /// The price the app showed the payer, in fen. When given and not the server's price, the
    /// order is refused (409 `price_changed`) instead of charging another amount than shown.
    #[serde(default)]
    pub amount_fen: Option<u64>,
    /// APP, JSAPI, NATIVE or MWEB.
    pub trade_type: String,
    /// The payer's openid (JSAPI).
    #[serde(default)]
    pub openid: Option<String>,
}

/// A created order and what the app needs to pay it.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedOrder {
    /// The business order's number.
    pub order_no: OrderNo,
    /// The payment attempt's number at WeChat Pay (the order's own for the first attempt).
    pub attempt: OutTradeNo,
    /// When the attempt expires (Unix seconds).
    pub expires_at: i64,
    /// Its state (NOTPAY).
    pub state: OrderState,
    /// The trade type.
    pub trade_type: TradeType,
    /// WeChat Pay's prepay id.
    pub prepay_id: String,
    /// APP / JSAPI: the signed parameters; NATIVE: `code_url`; MWEB: `mweb_url`.
    pub pay: Value,
}

/// A refund request from the back office.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRefund {
    /// Amount in fen.
    pub amount_fen: u64,
    /// Your refund number (repeat it to repeat the same refund); generated when absent.
    #[serde(default)]
    pub out_refund_no: Option<String>,
    /// Shown to the payer (at most 80 bytes).
    #[serde(default)]
    pub reason: Option<String>,
}

/// What a refund request did.
#[derive(Debug, Clone, Serialize)]
pub struct RefundOutcome {
    /// The refund as stored now.
    #[serde(flatten)]
    pub refund: Refund,
    /// Whether this request created it (otherwise it repeated an earlier one).
    pub created: bool,
    /// What this request's submission did.
    pub submission: SubmissionResult,
    /// What to do next, when something is open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advice: Option<String>,
}

/// What a refund request's submission to WeChat Pay did (`submission` in the answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SubmissionResult {
    /// WeChat Pay accepted it.
    Accepted,
    /// WeChat Pay refused it for good: the refund is closed, its amount free again.
    Rejected,
    /// The outcome is open: the refund stays PROCESSING.
    Unknown,
    /// Not submitted: the refund was already final, or was looked up instead.
    None,
}

/// An order with its refunds.
#[derive(Debug, Clone, Serialize)]
pub struct OrderView {
    /// The order.
    #[serde(flatten)]
    pub order: Order,
    /// Its refunds.
    pub refunds: Vec<Refund>,
    /// Its payment attempts, first first.
    pub attempts: Vec<Attempt>,
}

/// The operations, shared by every surface.
#[derive(Clone)]
pub struct Payments {
    client: Client,
    store: Store,
    public_base_url: String,
    server_ip: String,
    attempt_ttl: std::time::Duration,
    latency: std::sync::Arc<crate::metrics::CallLatency>,
    pricing: crate::pricing::SharedPricing,
}

impl std::fmt::Debug for Payments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payments")
            .field("client", &self.client)
            .field("store", &self.store)
            .field("public_base_url", &self.public_base_url)
            .finish_non_exhaustive()
    }
}

/// The pricing of a server built without one: every item is refused.
fn no_prices(
    _user: &UserId,
    _item: &str,
) -> Result<crate::pricing::Price, crate::pricing::PriceRefusal> {
    Err(crate::pricing::PriceRefusal::NotForSale(
        "this server has no prices (CATALOGUE_FILE)".into(),
    ))
}

/// WeChat Pay refuses a `time_expire` less than 5 minutes ahead; an attempt that expires
/// sooner here is closed by the sweeper before WeChat Pay's own expiry.
const MIN_WIRE_EXPIRY_SECS: i64 = 6 * 60;

use crate::clock::unix_now as now;

fn xml_safe(field: &str, value: &str, max_bytes: usize) -> Result<(), OpError> {
    if value.trim().is_empty() || value.len() > max_bytes {
        return Err(OpError::Invalid(format!(
            "{field} must be 1 to {max_bytes} bytes"
        )));
    }
    if value.chars().any(char::is_control) || XmlMap::new().insert(field, value).is_err() {
        return Err(OpError::Invalid(format!(
            "{field} holds a character WeChat Pay cannot carry"
        )));
    }
    Ok(())
}

impl Payments {
    /// The operations over a client and a store; notify URLs hang off `public_base_url`.
    #[must_use]
    pub fn new(client: Client, store: Store, public_base_url: String, server_ip: String) -> Self {
        Self {
            client,
            store,
            public_base_url,
            server_ip,
            attempt_ttl: std::time::Duration::from_secs(7200),
            latency: std::sync::Arc::default(),
            pricing: std::sync::Arc::new(no_prices),
        }
    }

    /// Where orders take their amount and description from (by default: nowhere, every
    /// order is refused).
    #[must_use]
    pub fn pricing(mut self, pricing: crate::pricing::SharedPricing) -> Self {
        self.pricing = pricing;
        self
    }

    /// How long a payment attempt may be paid (`ORDER_TTL_SECS`): sent as `time_expire`
    /// (at least 6 minutes, WeChat Pay's floor), and the sweeper closes it after.
    #[must_use]
    pub fn attempt_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.attempt_ttl = ttl;
        self
    }

    fn expiry(&self) -> i64 {
        now().saturating_add(i64::try_from(self.attempt_ttl.as_secs()).unwrap_or(i64::MAX / 2))
    }

    /// The client: only [`crate::records`] and the operations here call it.
    #[must_use]
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// WeChat Pay call latency, for `/metrics`.
    #[must_use]
    pub fn latency(&self) -> &crate::metrics::CallLatency {
        &self.latency
    }

    /// The store: only [`crate::records`], the operations here and [`crate::Server::store`]
    /// (for tests that read the books) reach it.
    #[must_use]
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Creates an order for `user` and asks WeChat Pay for it (unifiedorder). `payer_ip` is the
    /// payer's address, sent as `spbill_create_ip` (NATIVE sends the server's).
    ///
    /// # Errors
    /// [`OpError::Invalid`] or [`OpError::NoPrice`] (the pricing has no price for the
    /// item) or [`OpError::Conflict`] (`price_changed`: the app showed another amount), before
    /// anything is stored; [`OpError::Upstream`] when WeChat Pay refused (the order is FAILED)
    /// or did not answer (it stays NEW).
    pub async fn create_order(
        &self,
        user: &UserId,
        req: CreateOrder,
        payer_ip: IpAddr,
    ) -> Result<CreatedOrder, OpError> {
        if !crate::pricing::is_item_name(&req.item) {
            return Err(OpError::Invalid(
                "item must be 1 to 32 of A-Z a-z 0-9 _ - .".into(),
            ));
        }
        let price = self
            .pricing
            .price(user, &req.item)
            .map_err(OpError::NoPrice)?;
        // The pricing is the merchant's code: hold it to the same rules as a catalogue.
        if !(1..=MAX_ORDER_FEN).contains(&price.amount.get())
            || !crate::pricing::is_description(&price.description)
        {
            tracing::error!(item = %req.item, "the pricing returned an unusable price");
            return Err(OpError::NoPrice(crate::pricing::PriceRefusal::NotForSale(
                "this item has no usable price".into(),
            )));
        }
        if let Some(shown) = req.amount_fen.filter(|a| *a != price.amount.get()) {
            return Err(conflict(
                "price_changed",
                format!(
                    "the price of {} is {} fen, not {shown}",
                    req.item,
                    price.amount.get()
                ),
            ));
        }
        let trade_type = TradeType::parse(&req.trade_type).map_err(|_| {
            OpError::Invalid("trade_type must be APP, JSAPI, NATIVE or MWEB".into())
        })?;
        let openid = match (trade_type, req.openid.as_deref()) {
            (TradeType::Jsapi, Some(o)) if !o.is_empty() => {
                xml_safe("openid", o, 128)?;
                Some(o.to_owned())
            }
            (TradeType::Jsapi, _) => {
                return Err(OpError::Invalid(
                    "JSAPI orders need the payer's openid".into(),
                ));
            }
            // Native mode 1: the payer who scanned the product's code.
            (TradeType::Native, Some(o)) if !o.is_empty() => {
                xml_safe("openid", o, 128)?;
                Some(o.to_owned())
            }
            (TradeType::App | TradeType::Native | TradeType::Mweb, _) => None,
        };
        let stamp =
            tenpay_xml::BeijingTime::from_unix(now()).map_or_else(String::new, |t| t.to_string());
        let order_no = OrderNo::new(format!(
            "{stamp}{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        ))
        .map_err(|e| OpError::Invalid(e.to_string()))?;
        let ip = if trade_type == TradeType::Native {
            self.server_ip.clone()
        } else {
            payer_ip.to_string()
        };
        let expires_at = self.expiry();
        self.store
            .insert_order(&NewOrder {
                order_no: order_no.clone(),
                user_id: user.as_str().to_owned(),
                item: req.item,
                description: price.description,
                amount: price.amount,
                trade_type,
                openid,
                payer_ip: ip,
                expires_at,
            })
            .await?;
        let order = self
            .store
            .order(&order_no)
            .await?
            .ok_or(OpError::UnknownOrder)?;
        self.place(&order, &order_no.first_attempt(), expires_at)
            .await
    }

    /// The signed URL of a product's QR code (Native mode 1), with a fresh nonce and the
    /// time: print it (or its `/tools/shorturl` link) as the item's code.
    #[must_use]
    pub fn native_url(&self, product: &tenpay_xml::ProductId) -> String {
        self.client.native_url(product)
    }

    /// Native mode 1: a payer scanned the QR code of the product `scan.product_id()` (a
    /// catalogue item) and WeChat Pay asks for an order. It is created as a NATIVE order for
    /// that payer (the user `wx-{openid}`), priced by the server as any order is.
    ///
    /// # Errors
    /// As [`Payments::create_order`]; [`OpError::Invalid`] for an openid that is no user id.
    pub async fn scan_order(
        &self,
        scan: &tenpay_notify::ScanCallback,
    ) -> Result<CreatedOrder, OpError> {
        let user = UserId::new(format!("wx-{}", scan.openid()))
            .map_err(|e| OpError::Invalid(e.to_owned()))?;
        let req = CreateOrder {
            item: scan.product_id().as_str().to_owned(),
            amount_fen: None,
            trade_type: "NATIVE".to_owned(),
            openid: Some(scan.openid().to_owned()),
        };
        // NATIVE sends the server's address as spbill_create_ip.
        self.create_order(&user, req, IpAddr::from([127, 0, 0, 1]))
            .await
    }

    /// Pays an unpaid order again, through a new attempt (a new `out_trade_no`: WeChat Pay
    /// never takes a changed or closed order under the same number). The current attempt is
    /// closed at WeChat Pay first, so that it cannot be paid as well; when that fails it is
    /// left to the sweeper, and a payment of both is recorded as `SECOND_PAYMENT`.
    ///
    /// # Errors
    /// [`OpError::UnknownOrder`]; [`OpError::Conflict`] when the order is paid (WeChat Pay
    /// may say so only now) or has too many attempts; [`OpError::Upstream`] as for
    /// [`Payments::create_order`].
    pub async fn repay(
        &self,
        owner: Option<&UserId>,
        order_no: &OrderNo,
    ) -> Result<CreatedOrder, OpError> {
        let view = self.order(owner, order_no).await?;
        if view.order.state.is_paid() {
            return Err(conflict(
                "already_paid",
                format!("order is {}", view.order.state),
            ));
        }
        if view.order.state == OrderState::Cancelled {
            return Err(conflict("cancelled", "the merchant cancelled this order"));
        }
        let current = view
            .attempts
            .iter()
            .find(|a| view.order.attempt.as_ref() == Some(&a.out_trade_no));
        if let Some(a) = current.filter(|a| AttemptState::CLOSABLE.contains(&a.state)) {
            match self.close_attempt(&a.out_trade_no).await {
                Ok(()) => {}
                Err(e @ OpError::Conflict { .. }) => {
                    // Paid there: learn it now rather than charging twice.
                    let _ = self.query_attempt(&a.out_trade_no).await;
                    return Err(e);
                }
                Err(e) => tracing::warn!(
                    out_trade_no = %a.out_trade_no,
                    error = %crate::logging::report(&e),
                    "the previous attempt could not be closed; the sweeper closes it"
                ),
            }
        }
        let attempt = match self.store.new_attempt(order_no, self.expiry()).await? {
            NewAttempt::Created(a) => a,
            NewAttempt::UnknownOrder => return Err(OpError::UnknownOrder),
            NewAttempt::Refused(why) => return Err(conflict("not_payable", why)),
            NewAttempt::Cancelled => {
                return Err(conflict("cancelled", "the merchant cancelled this order"));
            }
        };
        self.place(&view.order, &attempt.out_trade_no, attempt.expires_at)
            .await
    }

    /// Places attempt `attempt_no` of `order` at WeChat Pay (unifiedorder, with its
    /// `time_expire`) and returns what the app needs to pay it.
    async fn place(
        &self,
        order: &Order,
        attempt_no: &OutTradeNo,
        expires_at: i64,
    ) -> Result<CreatedOrder, OpError> {
        let no = attempt_no.clone();
        let fee = order.amount;
        let ip = order.payer_ip.clone();
        let notify_url = format!("{}/wechat/notify/pay", self.public_base_url);
        let desc = order.description.as_str();
        let call = match order.trade_type {
            TradeType::Jsapi => UnifiedOrder::jsapi(
                desc,
                no,
                fee,
                ip,
                notify_url,
                order.openid.clone().unwrap_or_default(),
            ),
            TradeType::Native => {
                let call = UnifiedOrder::native(desc, no, fee, ip, notify_url, &order.item);
                match &order.openid {
                    Some(payer) => call.scanned_by(payer),
                    None => call,
                }
            }
            TradeType::Mweb => UnifiedOrder::mweb(
                desc,
                no,
                fee,
                ip,
                notify_url,
                r#"{"h5_info":{"type":"Wap","wap_url":"https://example.com","wap_name":"shop"}}"#,
            ),
            TradeType::App => UnifiedOrder::app(desc, no, fee, ip, notify_url),
        };
        let wire_expiry = expires_at.max(now().saturating_add(MIN_WIRE_EXPIRY_SECS));
        let call = call.time_window(None, tenpay_xml::BeijingTime::from_unix(wire_expiry));
        let answer = match self
            .latency
            .time("unifiedorder", self.client.unified_order(&call))
            .await
        {
            Ok(a) => a,
            Err(e) => {
                // A verified refusal is final; anything else leaves the attempt NEW (WeChat
                // Pay may have it: the sweeper asks).
                if matches!(
                    e,
                    tenpay_client::Error::Business { .. } | tenpay_client::Error::Protocol { .. }
                ) {
                    self.store.attempt_failed(attempt_no).await?;
                }
                return Err(OpError::Upstream(e));
            }
        };
        self.store
            .attempt_prepared(attempt_no, &answer.prepay_id)
            .await?;
        let pay = match order.trade_type {
            TradeType::App => serde_json::to_value(self.client.app_params(&answer.prepay_id)),
            TradeType::Jsapi => serde_json::to_value(self.client.jsapi_params(&answer.prepay_id)),
            TradeType::Native => Ok(json!({ "code_url": answer.code_url })),
            TradeType::Mweb => Ok(json!({ "mweb_url": answer.mweb_url })),
        }
        .unwrap_or(Value::Null);
        Ok(CreatedOrder {
            order_no: order.order_no.clone(),
            attempt: attempt_no.clone(),
            expires_at,
            state: OrderState::NotPay,
            trade_type: order.trade_type,
            prepay_id: answer.prepay_id,
            pay,
        })
    }

    /// An order with its refunds; `owner`: only if it is that user's.
    ///
    /// # Errors
    /// [`OpError::UnknownOrder`]; the store's.
    pub async fn order(
        &self,
        owner: Option<&UserId>,
        order_no: &OrderNo,
    ) -> Result<OrderView, OpError> {
        let order = match owner {
            Some(u) => self.store.order_of(u.as_str(), order_no).await?,
            None => self.store.order(order_no).await?,
        }
        .ok_or(OpError::UnknownOrder)?;
        let refunds = self.store.refunds(order_no).await?;
        let attempts = self.store.attempts(order_no).await?;
        Ok(OrderView {
            order,
            refunds,
            attempts,
        })
    }

    /// Asks WeChat Pay (orderquery) about each unpaid attempt of an order and settles a
    /// payment it reports exactly as a notification would.
    ///
    /// # Errors
    /// As [`Payments::order`]; [`OpError::Upstream`] when a query failed.
    pub async fn refresh(
        &self,
        owner: Option<&UserId>,
        order_no: &OrderNo,
    ) -> Result<OrderView, OpError> {
        let view = self.order(owner, order_no).await?;
        for a in &view.attempts {
            if AttemptState::PAYABLE.contains(&a.state) {
                self.query_attempt(&a.out_trade_no).await?;
            }
        }
        self.order(owner, order_no).await
    }

    /// Asks WeChat Pay (orderquery) about one attempt and settles a payment it reports
    /// exactly as a notification would (a closed attempt's payment is the paid-after-close
    /// anomaly). Whether this query recorded the order as paid.
    ///
    /// # Errors
    /// [`OpError::Upstream`] when the query failed; [`OpError::Conflict`] for a payment of
    /// another amount (recorded as an anomaly); the store's.
    pub async fn query_attempt(&self, attempt_no: &OutTradeNo) -> Result<bool, OpError> {
        let query = OrderQuery::by_out_trade_no(attempt_no.clone());
        let (answer, received) = match self
            .latency
            .time("orderquery", self.client.execute_answered(&query))
            .await
        {
            Ok(a) => a,
            Err(e) if e.err_code() == Some(&ErrCode::OrderNotExist) => return Ok(false),
            Err(e) => return Err(OpError::Upstream(e)),
        };
        if !matches!(answer.trade_state, TradeState::Success | TradeState::Refund) {
            return Ok(false);
        }
        // The bytes WeChat Pay signed, not a re-serialised map.
        let evidence = Evidence {
            kind: Source::OrderQuery,
            body: received.body(),
            verified: true,
        };
        let paid = answer.total_fee.unwrap_or_default();
        let transaction_id = answer.transaction_id.clone().unwrap_or_default();
        let recorded = self
            .store
            .record_paid(evidence, attempt_no, |expected| {
                if expected == paid {
                    Ok(transaction_id)
                } else {
                    Err(paid)
                }
            })
            .await?;
        match recorded {
            Ok(verdict) => {
                tracing::info!(
                    out_trade_no = %attempt_no,
                    ?verdict,
                    "payment found by orderquery"
                );
                Ok(verdict == PaymentVerdict::Paid)
            }
            Err(refusal) => {
                self.refuse_verified(
                    evidence,
                    attempt_no.as_str(),
                    &refusal,
                    answer.transaction_id.as_deref(),
                )
                .await?;
                Err(conflict("amount_mismatch", refusal.to_string()))
            }
        }
    }

    /// Cancels an unpaid order for good (the merchant's decision: out of stock, fraud, a price
    /// error): each of its open attempts is closed at WeChat Pay, then the order is CANCELLED.
    /// The payer cannot pay it again (`POST /orders/{no}/attempts` is a 409); a payment that
    /// still arrives for it is the paid-after-close anomaly. Cancelling a cancelled order
    /// changes nothing.
    ///
    /// # Errors
    /// [`OpError::Conflict`] when it is paid, or WeChat Pay says it is paid;
    /// [`OpError::Upstream`] when an attempt could not be closed (the order is unchanged;
    /// try again).
    pub async fn cancel(&self, order_no: &OrderNo) -> Result<OrderView, OpError> {
        for _ in 0..3 {
            let view = self.order(None, order_no).await?;
            if view.order.state == OrderState::Cancelled {
                return Ok(view);
            }
            if view.order.state.is_paid() {
                return Err(conflict(
                    "wrong_state",
                    format!("order is {}", view.order.state),
                ));
            }
            for a in &view.attempts {
                if AttemptState::CLOSABLE.contains(&a.state) {
                    self.close_attempt(&a.out_trade_no).await?;
                }
            }
            match self.store.cancel_order(order_no).await? {
                Cancel::Cancelled | Cancel::NotCancellable => {
                    return self.order(None, order_no).await;
                }
                Cancel::UnknownOrder => return Err(OpError::UnknownOrder),
                // The payer opened a new attempt meanwhile: close that one too.
                Cancel::OpenAttempt => {}
            }
        }
        Err(conflict(
            "busy",
            "new payment attempts keep being opened; try again",
        ))
    }

    /// Closes one attempt at WeChat Pay (closeorder), then here.
    ///
    /// # Errors
    /// [`OpError::Conflict`] (`already_paid`) when WeChat Pay says it is paid;
    /// [`OpError::Upstream`].
    pub async fn close_attempt(&self, attempt_no: &OutTradeNo) -> Result<(), OpError> {
        let close = CloseOrder::new(attempt_no.clone());
        match self
            .latency
            .time("closeorder", self.client.close_order(&close))
            .await
        {
            Ok(_) => {}
            // Closed there already, or never placed there (unifiedorder never got through):
            // nobody can pay it; close it here.
            Err(e)
                if e.err_code() == Some(&ErrCode::OrderClosed)
                    || e.err_code() == Some(&ErrCode::OrderNotExist) => {}
            Err(e) if e.err_code() == Some(&ErrCode::OrderPaid) => {
                return Err(conflict(
                    "already_paid",
                    "WeChat Pay says the order is paid; refresh it",
                ));
            }
            Err(e) => return Err(OpError::Upstream(e)),
        }
        self.store.close_attempt(attempt_no).await?;
        Ok(())
    }

    /// Refunds part or all of a paid order, or repeats an earlier refund request. The outcome
    /// is never guessed: only a final refusal of the first submission closes the refund;
    /// anything else leaves it PROCESSING until refundquery or the notification says.
    ///
    /// # Errors
    /// [`OpError::Invalid`], [`OpError::UnknownOrder`], [`OpError::Conflict`] (the amount does
    /// not fit, or the `out_refund_no` names another request); the store's.
    pub async fn refund(
        &self,
        order_no: &OrderNo,
        req: CreateRefund,
    ) -> Result<RefundOutcome, OpError> {
        if req.amount_fen == 0 {
            return Err(OpError::Invalid(
                "amount_fen must be a positive number of fen".into(),
            ));
        }
        if let Some(reason) = &req.reason {
            xml_safe("reason", reason, 80)?;
        }
        let out_refund_no =
            OutRefundNo::new(req.out_refund_no.clone().unwrap_or_else(|| {
                format!("R{}", &uuid::Uuid::new_v4().simple().to_string()[..24])
            }))
            .map_err(|e| OpError::Invalid(e.to_string()))?;
        let amount = Fen::new(req.amount_fen);
        let (refund, created) = match self
            .store
            .reserve_refund(order_no, &out_refund_no, amount, req.reason.as_deref())
            .await?
        {
            Reservation::Created(r) => (r, true),
            Reservation::Existing(r) => (r, false),
            Reservation::UnknownOrder => return Err(OpError::UnknownOrder),
            Reservation::Conflict(reason) => return Err(conflict("not_refundable", reason)),
        };
        if refund.state != RefundState::Processing {
            return Ok(RefundOutcome {
                refund,
                created,
                submission: SubmissionResult::None,
                advice: None,
            });
        }
        if refund.refund_id.is_some() {
            // Accepted before: ask instead of submitting again.
            let refund = match self.resolve_refund(&out_refund_no).await {
                Ok(r) => r,
                Err(OpError::Upstream(e)) => {
                    tracing::warn!(%out_refund_no, error = %e, "refundquery failed");
                    refund
                }
                Err(e) => return Err(e),
            };
            return Ok(RefundOutcome {
                refund,
                created,
                submission: SubmissionResult::None,
                advice: None,
            });
        }
        let order = self
            .store
            .order(order_no)
            .await?
            .ok_or(OpError::UnknownOrder)?;
        // WeChat Pay knows the payment by the attempt that paid it.
        let trade_no = order
            .paid_attempt
            .clone()
            .unwrap_or_else(|| order_no.first_attempt());
        let first = self.store.begin_submission(&out_refund_no).await? == 1;
        // Always the stored amount and reason: a repeat is the same request.
        let mut call = RefundCall::by_out_trade_no(
            trade_no,
            out_refund_no.clone(),
            order.amount,
            refund.amount,
        )
        .notify_url(format!("{}/wechat/notify/refund", self.public_base_url));
        if let Some(reason) = &refund.reason {
            call = call.desc(reason);
        }
        let result = self.latency.time("refund", self.client.refund(&call)).await;
        let submission = classify_submission(Answered::from_client(&result), first);
        let (label, advice) = match &submission {
            Submission::Accepted { refund_id } => {
                self.store
                    .refund_accepted(&out_refund_no, refund_id)
                    .await?;
                (SubmissionResult::Accepted, None)
            }
            Submission::Rejected { err_code } => {
                self.store.refund_rejected(&out_refund_no, err_code).await?;
                (
                    SubmissionResult::Rejected,
                    Some(format!(
                        "WeChat Pay refused it ({err_code}); the amount is free again"
                    )),
                )
            }
            Submission::Unknown { why } => {
                self.store.refund_unknown(&out_refund_no, why).await?;
                (
                    SubmissionResult::Unknown,
                    Some(format!(
                        "{why}; the refund stays PROCESSING until the notification or refundquery; repeat it with out_refund_no {out_refund_no}, never a new number"
                    )),
                )
            }
        };
        let refund = self
            .store
            .refund(&out_refund_no)
            .await?
            .ok_or(OpError::UnknownRefund)?;
        Ok(RefundOutcome {
            refund,
            created,
            submission: label,
            advice,
        })
    }

    /// Asks WeChat Pay (refundquery) for a refund's result and records it.
    ///
    /// # Errors
    /// [`OpError::UnknownRefund`]; [`OpError::Upstream`] when the query failed.
    pub async fn resolve_refund(&self, out_refund_no: &OutRefundNo) -> Result<Refund, OpError> {
        let local = self
            .store
            .refund(out_refund_no)
            .await?
            .ok_or(OpError::UnknownRefund)?;
        let (report, body) = self.query_refund(out_refund_no).await?;
        let evidence = Evidence {
            kind: Source::RefundQuery,
            body: body.body(),
            verified: true,
        };
        self.store.record_refund_result(evidence, &report).await?;
        Ok(self.store.refund(out_refund_no).await?.unwrap_or(local))
    }

    async fn query_refund(
        &self,
        out_refund_no: &OutRefundNo,
    ) -> Result<(RefundReport, tenpay_client::Answer), OpError> {
        let query = RefundQuery::by_out_refund_no(out_refund_no.clone());
        let (answer, received) = self
            .latency
            .time("refundquery", self.client.execute_answered(&query))
            .await
            .map_err(OpError::Upstream)?;
        let item = answer
            .refunds
            .iter()
            .find(|r| r.out_refund_no == *out_refund_no)
            .ok_or(OpError::UnknownRefund)?;
        let state = RefundState::from_wire(&item.refund_status).ok_or_else(|| {
            OpError::Invalid(format!("unknown refund_status {}", item.refund_status))
        })?;
        // The answer names the attempt; the books, its order.
        let attempt_no = answer.out_trade_no.clone().unwrap_or_default();
        let attempt = match OutTradeNo::new(attempt_no.as_str()) {
            Ok(no) => self.store.attempt(&no).await?,
            Err(_) => None,
        };
        let order_no = attempt.map_or_else(|| attempt_no.clone(), |a| a.order_no.to_string());
        let report = RefundReport {
            out_refund_no: item.out_refund_no.to_string(),
            out_trade_no: attempt_no,
            order_no,
            refund_id: item.refund_id.clone(),
            refund_fee: item.refund_fee,
            state,
        };
        // The bytes WeChat Pay signed, not a re-serialised map.
        Ok((report, received))
    }

    /// One delivery to the notify URL of `kind` (`pay` or `refund`), verified or refused, as
    /// `tenpay-notify`'s service hands it over. `Ok`: recorded, and the service may
    /// acknowledge it (a refused one is answered with the failure body whatever this says).
    ///
    /// # Errors
    /// Not recorded: the service answers 500 and WeChat Pay retries.
    pub async fn deliver(&self, kind: Source, delivery: Delivery) -> Result<(), NotRecorded> {
        let body = &delivery.body[..];
        match delivery.verdict {
            Err(e) => {
                let why = e.to_string();
                tracing::warn!(kind = kind.as_str(), error = %Escaped(&why), bytes = body.len(), "notification refused");
                let evidence = Evidence {
                    kind,
                    body,
                    verified: false,
                };
                if let Err(e) = self
                    .store
                    .record_refused(evidence, &format!("refused: {e}"), None, None)
                    .await
                {
                    tracing::error!(kind = kind.as_str(), error = %e, "could not store a refused notification");
                }
                Ok(())
            }
            Ok(Notification::Pay(n)) => self.deliver_pay(body, *n).await,
            Ok(Notification::Refund(r)) => self.deliver_refund(body, *r).await,
            Ok(_) => {
                let evidence = Evidence {
                    kind,
                    body,
                    verified: true,
                };
                let verdict = format!("refused: {}", NotRecorded::Unhandled);
                let _ = self
                    .store
                    .record_refused(evidence, &verdict, None, None)
                    .await;
                Err(NotRecorded::Unhandled)
            }
        }
    }

    async fn deliver_pay(&self, body: &[u8], n: PayNotification) -> Result<(), NotRecorded> {
        let evidence = Evidence {
            kind: Source::PayNotification,
            body,
            verified: true,
        };
        let no = n.out_trade_no().clone();
        if !n.is_success() {
            let code = n
                .err_code()
                .map_or_else(|| "?".to_owned(), |c| c.to_string());
            let verdict = self.store.record_pay_failure(evidence, &no, &code).await?;
            tracing::info!(out_trade_no = %no, verdict = %Escaped(&verdict), "pay notification");
            return Ok(());
        }
        let paid = n.total_fee();
        let transaction_id = n.transaction_id().map(str::to_owned);
        let recorded = self
            .store
            .record_paid(evidence, &no, move |expected| {
                n.settle(expected)
                    .map(|s| s.transaction_id.unwrap_or_default())
                    .map_err(|_| paid)
            })
            .await;
        let recorded = match recorded {
            Ok(r) => r,
            Err(e) => {
                let why = crate::logging::report(&e);
                tracing::error!(out_trade_no = %no, error = %Escaped(&why), "pay notification not recorded");
                // Keep the evidence if the database takes it; WeChat Pay retries either way.
                let verdict = format!("not recorded: {why}");
                let _ = self
                    .store
                    .record_refused(evidence, &verdict, Some(no.as_str()), None)
                    .await;
                return Err(NotRecorded::Store(e));
            }
        };
        match recorded {
            Ok(verdict) => {
                match &verdict {
                    PaymentVerdict::Anomaly(kind) => {
                        tracing::error!(out_trade_no = %no, anomaly = kind.as_str(), "pay notification: anomaly recorded, acknowledged")
                    }
                    v => tracing::info!(out_trade_no = %no, verdict = ?v, "pay notification"),
                }
                Ok(())
            }
            Err(refusal) => {
                tracing::warn!(out_trade_no = %no, refusal = %refusal, "pay notification not accepted");
                self.refuse_verified(evidence, no.as_str(), &refusal, transaction_id.as_deref())
                    .await?;
                Err(NotRecorded::Refused(refusal))
            }
        }
    }

    async fn refuse_verified(
        &self,
        evidence: Evidence<'_>,
        attempt_no: &str,
        refusal: &Refusal,
        transaction_id: Option<&str>,
    ) -> Result<(), StoreError> {
        let detail = refusal.to_string();
        let reference = transaction_id.unwrap_or(attempt_no);
        let anomaly = matches!(refusal, Refusal::AmountMismatch { .. }).then_some((
            AnomalyKind::AmountMismatch,
            reference,
            detail.as_str(),
        ));
        let known = !matches!(refusal, Refusal::UnknownOrder);
        self.store
            .record_refused(
                evidence,
                &format!("refused: {refusal}"),
                known.then_some(attempt_no),
                anomaly,
            )
            .await
    }

    /// A refund notification is decrypted with the key, but AES-ECB is unauthenticated: it
    /// is taken as a prompt, and the result recorded is the one a signed refundquery answer
    /// confirms.
    async fn deliver_refund(&self, body: &[u8], r: RefundNotification) -> Result<(), NotRecorded> {
        let evidence = Evidence {
            kind: Source::RefundNotification,
            body,
            verified: true,
        };
        let report = match self.query_refund(&r.out_refund_no).await {
            Ok((report, _)) => report,
            Err(e) => {
                let why = match &e {
                    OpError::Upstream(u) => {
                        format!("refundquery failed: {}", crate::logging::report(u))
                    }
                    other => format!("refundquery: {other}"),
                };
                tracing::warn!(out_refund_no = %r.out_refund_no, why = %Escaped(&why), "refund notification not confirmed");
                let _ = self
                    .store
                    .record_refused(
                        evidence,
                        &format!("not confirmed: {why}"),
                        Some(r.out_trade_no.as_str()),
                        None,
                    )
                    .await;
                return Err(NotRecorded::NotConfirmed(e));
            }
        };
        let verdict = self.store.record_refund_result(evidence, &report).await?;
        tracing::info!(out_refund_no = %report.out_refund_no, verdict = %verdict.verdict, "refund notification");
        Ok(())
    }
}
