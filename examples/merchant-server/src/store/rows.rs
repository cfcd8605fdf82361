//! The rows the store reads and writes, and their decoding.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use tenpay_xml::{Fen, IdError, OutRefundNo, OutTradeNo};

use super::StoreError;
use crate::domain::{
    AnomalyKind, AttemptState, OrderNo, OrderState, RefundState, TradeType, money,
};

fn fen<S: serde::Serializer>(v: &Fen, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(v.get())
}

/// A new order, as the app asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// The business order's number (its first attempt's `out_trade_no` too).
    pub order_no: OrderNo,
    /// The user who ordered.
    pub user_id: String,
    /// What is sold.
    pub item: String,
    /// The `body` sent to WeChat Pay.
    pub description: String,
    /// The amount.
    pub amount: Fen,
    /// APP, JSAPI, NATIVE or MWEB.
    pub trade_type: TradeType,
    /// The payer (JSAPI).
    pub openid: Option<String>,
    /// The IP sent as `spbill_create_ip`.
    pub payer_ip: String,
    /// When its first attempt expires (Unix seconds; sent as `time_expire`).
    pub expires_at: i64,
}

/// A payment attempt: one `out_trade_no` at WeChat Pay for a business order. Its state is
/// one of NEW, NOTPAY, PAYERROR, FAILED, CLOSED and PAID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// Its number at WeChat Pay (the first attempt's is the order's own).
    pub out_trade_no: OutTradeNo,
    /// The business order.
    pub order_no: OrderNo,
    /// 1 for the first attempt.
    pub seq: i64,
    /// The state.
    pub state: AttemptState,
    /// The prepay id.
    pub prepay_id: Option<String>,
    /// WeChat Pay's transaction id, once paid.
    pub transaction_id: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// When it expires (Unix seconds): the sweeper closes it then.
    pub expires_at: i64,
    /// Unix seconds, once paid.
    pub paid_at: Option<i64>,
    /// How the payment became known: `notification` or `orderquery`.
    pub paid_via: Option<String>,
}

/// An order row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Order {
    /// The business order's number (its first attempt's `out_trade_no` too).
    pub order_no: OrderNo,
    /// The user who ordered.
    pub user_id: String,
    /// What is sold.
    pub item: String,
    /// The `body` sent to WeChat Pay.
    pub description: String,
    /// The amount.
    #[serde(rename = "amount_fen", serialize_with = "fen")]
    pub amount: Fen,
    /// APP, JSAPI, NATIVE or MWEB.
    pub trade_type: TradeType,
    /// The payer (JSAPI).
    pub openid: Option<String>,
    /// The IP sent as `spbill_create_ip`.
    pub payer_ip: String,
    /// The state.
    pub state: OrderState,
    /// The prepay id.
    pub prepay_id: Option<String>,
    /// WeChat Pay's transaction id, once paid.
    pub transaction_id: Option<String>,
    /// Refunded so far (successful refunds).
    #[serde(rename = "refunded_fen", serialize_with = "fen")]
    pub refunded: Fen,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds, once paid.
    pub paid_at: Option<i64>,
    /// How the payment became known: `notification` or `orderquery`.
    pub paid_via: Option<String>,
    /// The attempt being paid now (its `out_trade_no` at WeChat Pay).
    pub attempt: Option<OutTradeNo>,
    /// The attempt that paid it: refunds name this number at WeChat Pay.
    pub paid_attempt: Option<OutTradeNo>,
}

/// A refund row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refund {
    /// The merchant's refund number.
    pub out_refund_no: OutRefundNo,
    /// The business order.
    pub order_no: OrderNo,
    /// The amount asked for.
    #[serde(rename = "amount_fen", serialize_with = "fen")]
    pub amount: Fen,
    /// Shown to the payer.
    pub reason: Option<String>,
    /// The state.
    pub state: RefundState,
    /// WeChat Pay's refund id.
    pub refund_id: Option<String>,
    /// How many times it was submitted to WeChat Pay.
    pub submissions: i64,
    /// The last submission's failure, when it had one.
    pub last_error: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

/// An audit row: one delivery and its verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRow {
    /// `pay`, `refund`, `orderquery`, `refundquery`.
    pub kind: String,
    /// Unix seconds.
    pub received_at: i64,
    /// Whether it was verified (then `body` is whole).
    pub verified: bool,
    /// The body's length.
    pub body_len: i64,
    /// The body's SHA-256, hex.
    pub body_sha256: String,
    /// The body (verified), or its first KiB (refused).
    pub body: String,
    /// What was decided.
    pub verdict: String,
    /// The number the delivery or the answer named: always a number at WeChat Pay (an
    /// attempt's `out_trade_no`), never the business order's, when known.
    pub out_trade_no: Option<String>,
}

/// Something a person must look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Anomaly {
    /// What kind.
    pub kind: AnomalyKind,
    /// What it is about (a transaction id, an out_refund_no).
    pub reference: String,
    /// The business order, when known.
    pub order_no: Option<String>,
    /// What happened and what to do.
    pub detail: String,
    /// Unix seconds.
    pub created_at: i64,
    /// When a person resolved it (Unix seconds), if they have.
    pub resolved_at: Option<i64>,
    /// What they did.
    pub resolution: Option<String>,
}

pub(super) const ORDER_COLUMNS: &str = "order_no, user_id, item, description, amount_fen, trade_type, openid, payer_ip, state, prepay_id, transaction_id, refunded_fen, created_at, paid_at, paid_via, attempt, paid_attempt";
pub(super) const ATTEMPT_COLUMNS: &str = "out_trade_no, order_no, seq, state, prepay_id, transaction_id, created_at, expires_at, paid_at, paid_via";
pub(super) const REFUND_COLUMNS: &str = "out_refund_no, order_no, amount_fen, reason, state, refund_id, submissions, last_error, created_at, updated_at";
pub(super) const AUDIT_COLUMNS: &str =
    "kind, received_at, verified, body_len, body_sha256, body, verdict, out_trade_no";
pub(super) const ANOMALY_COLUMNS: &str =
    "kind, reference, order_no, detail, created_at, resolved_at, resolution";

/// A stored number, checked as it is read: a value the server never writes is corrupt.
fn number<T: TryFrom<String, Error = IdError>>(row: &AnyRow, i: usize) -> Result<T, StoreError> {
    Ok(T::try_from(row.try_get::<String, _>(i)?)?)
}

fn some_number<T: TryFrom<String, Error = IdError>>(
    row: &AnyRow,
    i: usize,
) -> Result<Option<T>, StoreError> {
    row.try_get::<Option<String>, _>(i)?
        .map(T::try_from)
        .transpose()
        .map_err(StoreError::from)
}

pub(super) fn order(row: &AnyRow) -> Result<Order, StoreError> {
    Ok(Order {
        order_no: number(row, 0)?,
        user_id: row.try_get(1)?,
        item: row.try_get(2)?,
        description: row.try_get(3)?,
        amount: money::from_db(row.try_get(4)?)?,
        trade_type: TradeType::parse(&row.try_get::<String, _>(5)?)?,
        openid: row.try_get(6)?,
        payer_ip: row.try_get(7)?,
        state: OrderState::parse(&row.try_get::<String, _>(8)?)?,
        prepay_id: row.try_get(9)?,
        transaction_id: row.try_get(10)?,
        refunded: money::from_db(row.try_get(11)?)?,
        created_at: row.try_get(12)?,
        paid_at: row.try_get(13)?,
        paid_via: row.try_get(14)?,
        attempt: some_number(row, 15)?,
        paid_attempt: some_number(row, 16)?,
    })
}

pub(super) fn attempt(row: &AnyRow) -> Result<Attempt, StoreError> {
    Ok(Attempt {
        out_trade_no: number(row, 0)?,
        order_no: number(row, 1)?,
        seq: row.try_get(2)?,
        state: AttemptState::parse(&row.try_get::<String, _>(3)?)?,
        prepay_id: row.try_get(4)?,
        transaction_id: row.try_get(5)?,
        created_at: row.try_get(6)?,
        expires_at: row.try_get(7)?,
        paid_at: row.try_get(8)?,
        paid_via: row.try_get(9)?,
    })
}

pub(super) fn refund(row: &AnyRow) -> Result<Refund, StoreError> {
    Ok(Refund {
        out_refund_no: number(row, 0)?,
        order_no: number(row, 1)?,
        amount: money::from_db(row.try_get(2)?)?,
        reason: row.try_get(3)?,
        state: RefundState::parse(&row.try_get::<String, _>(4)?)?,
        refund_id: row.try_get(5)?,
        submissions: row.try_get(6)?,
        last_error: row.try_get(7)?,
        created_at: row.try_get(8)?,
        updated_at: row.try_get(9)?,
    })
}

pub(super) fn audit(row: &AnyRow) -> Result<AuditRow, StoreError> {
    Ok(AuditRow {
        kind: row.try_get(0)?,
        received_at: row.try_get(1)?,
        verified: row.try_get::<i64, _>(2)? != 0,
        body_len: row.try_get(3)?,
        body_sha256: row.try_get(4)?,
        body: row.try_get(5)?,
        verdict: row.try_get(6)?,
        out_trade_no: row.try_get(7)?,
    })
}

pub(super) fn anomaly(row: &AnyRow) -> Result<Anomaly, StoreError> {
    Ok(Anomaly {
        kind: AnomalyKind::parse(&row.try_get::<String, _>(0)?)?,
        reference: row.try_get(1)?,
        order_no: row.try_get(2)?,
        detail: row.try_get(3)?,
        created_at: row.try_get(4)?,
        resolved_at: row.try_get(5)?,
        resolution: row.try_get(6)?,
    })
}
