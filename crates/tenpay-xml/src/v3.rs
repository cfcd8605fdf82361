//! The JSON vocabulary of WeChat Pay API v3 that the client's answers and the notifications
//! share: a payment (`Transaction`: the order query's answer and the payment notification's
//! plaintext are the same object), a refund (the refund call's and query's answer) and a
//! refund notification's plaintext. Amounts are integer fen (`Fen`), as on the wire.
//!
//! Unknown fields are ignored here; the raw JSON stays available where these are made.

use serde::{Deserialize, Serialize};

use crate::{Fen, OutRefundNo, OutTradeNo, TradeState, TradeType, fen_json};

crate::wire_enum!(
    /// A v3 refund's `status` (`refund_status` in its notification).
    RefundStatus {
        /// The money is back with the payer.
        Success = "SUCCESS",
        /// The refund was closed.
        Closed = "CLOSED",
        /// Being processed.
        Processing = "PROCESSING",
        /// Abnormal: the payer's card or balance could not take it; see the merchant
        /// platform, or apply for the abnormal refund.
        Abnormal = "ABNORMAL",
    }
);

/// The payer of a transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Payer {
    /// The payer's openid under `appid` (direct merchants).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openid: Option<String>,
    /// Under `sp_appid` (service providers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_openid: Option<String>,
    /// Under `sub_appid` (service providers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_openid: Option<String>,
}

/// A transaction's amounts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TransactionAmount {
    /// The order's total, fen.
    #[serde(
        default,
        with = "fen_json::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub total: Option<Fen>,
    /// What the payer paid, fen (the total less promotions).
    #[serde(
        default,
        with = "fen_json::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub payer_total: Option<Fen>,
    /// The order's currency (`CNY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// The payer's currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_currency: Option<String>,
}

/// A payment as v3 describes it: the answer of the order queries and the plaintext of a
/// `TRANSACTION.*` notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Transaction {
    /// The appid (direct merchants).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    /// The merchant id (direct merchants).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mchid: Option<String>,
    /// The service provider's appid (partner mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_appid: Option<String>,
    /// The service provider's merchant id (partner mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_mchid: Option<String>,
    /// The sub-merchant's appid (partner mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_appid: Option<String>,
    /// The sub-merchant's id (partner mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_mchid: Option<String>,
    /// The merchant's order number.
    pub out_trade_no: OutTradeNo,
    /// WeChat Pay's transaction id (absent until paid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// `JSAPI`, `NATIVE`, `APP`, `MWEB`, `MICROPAY`, `FACEPAY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_type: Option<TradeType>,
    /// The state: `SUCCESS`, `NOTPAY`, `CLOSED`, `REFUND`, …
    pub trade_state: TradeState,
    /// The state in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_state_desc: Option<String>,
    /// The payer's bank (`OTHERS`, `CMC`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_type: Option<String>,
    /// The merchant's `attach`, echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach: Option<String>,
    /// When it was paid (RFC 3339, `+08:00`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_time: Option<String>,
    /// The payer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<Payer>,
    /// The amounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<TransactionAmount>,
}

impl Transaction {
    /// The order's total, fen, if given.
    #[must_use]
    pub fn total(&self) -> Option<Fen> {
        self.amount.as_ref().and_then(|a| a.total)
    }

    /// The merchant the payment belongs to: `mchid`, or `sp_mchid` in partner mode.
    #[must_use]
    pub fn merchant(&self) -> Option<&str> {
        self.mchid.as_deref().or(self.sp_mchid.as_deref())
    }
}

/// A refund's amounts (the refund call's and query's answer).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RefundAmount {
    /// The original order's total, fen.
    #[serde(
        default,
        with = "fen_json::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub total: Option<Fen>,
    /// This refund, fen.
    #[serde(
        default,
        with = "fen_json::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub refund: Option<Fen>,
    /// What the payer paid, fen.
    #[serde(
        default,
        with = "fen_json::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub payer_total: Option<Fen>,
    /// What goes back to the payer, fen.
    #[serde(
        default,
        with = "fen_json::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub payer_refund: Option<Fen>,
    /// The currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// A refund: the answer of `POST /v3/refund/domestic/refunds` and of its query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Refund {
    /// WeChat Pay's refund id.
    pub refund_id: String,
    /// The merchant's refund number.
    pub out_refund_no: OutRefundNo,
    /// The payment's transaction id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// The payment's order number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_trade_no: Option<OutTradeNo>,
    /// `ORIGINAL`, `BALANCE`, `OTHER_BALANCE`, `OTHER_BANKCARD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Where the money went back to, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_received_account: Option<String>,
    /// When it succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_time: Option<String>,
    /// When it was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<String>,
    /// The status.
    pub status: RefundStatus,
    /// The amounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<RefundAmount>,
}

/// The plaintext of a `REFUND.*` notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RefundNotice {
    /// The merchant id (direct merchants).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mchid: Option<String>,
    /// The service provider's merchant id (partner mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_mchid: Option<String>,
    /// The sub-merchant's id (partner mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_mchid: Option<String>,
    /// The payment's order number.
    pub out_trade_no: OutTradeNo,
    /// The payment's transaction id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// The merchant's refund number.
    pub out_refund_no: OutRefundNo,
    /// WeChat Pay's refund id.
    pub refund_id: String,
    /// The status: `SUCCESS`, `CLOSED` or `ABNORMAL`.
    pub refund_status: RefundStatus,
    /// When it succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_time: Option<String>,
    /// Where the money went back to, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_received_account: Option<String>,
    /// The amounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<RefundAmount>,
}

impl RefundNotice {
    /// The merchant the refund belongs to: `mchid`, or `sp_mchid` in partner mode.
    #[must_use]
    pub fn merchant(&self) -> Option<&str> {
        self.mchid.as_deref().or(self.sp_mchid.as_deref())
    }
}
