use std::collections::BTreeMap;

use serde::Deserialize;
use tenpay_xml::{BeijingTime, Currency, Fen, TradeType, XmlMap};

use crate::Error;

/// A verified payment notification: its signature checked with the merchant's pinned
/// algorithm over every received field, and its `appid` / `mch_id` the merchant's own.
///
/// Use `out_trade_no` (or `transaction_id`) to find the order, then [`settle`](Self::settle)
/// with the order's own amount: that is the only way to obtain a [`SettledPayment`].
///
/// # Which amount
/// - `total_fee` is the order amount the payer was charged for, coupons included: it must
///   equal the amount the merchant sent to unifiedorder, and it is what `settle` compares.
/// - `cash_fee` is what the payer paid in cash (total minus coupons).
/// - `settlement_total_fee` is what the merchant is settled (total minus non-recharge coupons);
///   use it for bookkeeping, not for the check.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct PayNotification {
    /// The merchant's appid (checked).
    pub appid: String,
    /// The merchant id (checked).
    pub mch_id: String,
    /// Service-provider mode: the sub-merchant's appid.
    pub sub_appid: Option<String>,
    /// Service-provider mode: the sub-merchant id (checked when configured).
    pub sub_mch_id: Option<String>,
    /// Device number given at unifiedorder.
    pub device_info: Option<String>,
    /// The server's nonce.
    pub nonce_str: String,
    /// `SUCCESS`, or `FAIL` for a payment that failed (see [`Self::is_success`]).
    pub result_code: String,
    /// Error code when the payment failed.
    pub err_code: Option<String>,
    /// Error description when the payment failed.
    pub err_code_des: Option<String>,
    /// The payer's openid under `appid`.
    pub openid: Option<String>,
    /// Whether the payer follows the official account (`Y`/`N`).
    pub is_subscribe: Option<String>,
    /// Service-provider mode: the payer's openid under `sub_appid`.
    pub sub_openid: Option<String>,
    /// Service-provider mode: whether the payer follows the sub-merchant's account.
    pub sub_is_subscribe: Option<String>,
    /// The trade type.
    pub trade_type: Option<TradeType>,
    /// The paying bank (e.g. `CFT`, `CMC`).
    pub bank_type: Option<String>,
    /// The order amount, coupons included: compare it (via [`Self::settle`]).
    pub total_fee: Fen,
    /// The settled amount (total minus non-recharge coupons).
    pub settlement_total_fee: Option<Fen>,
    /// The order currency (CNY when absent).
    pub fee_type: Option<Currency>,
    /// What the payer paid in cash.
    pub cash_fee: Option<Fen>,
    /// The cash currency.
    pub cash_fee_type: Option<Currency>,
    /// The total of the coupons used.
    pub coupon_fee: Option<Fen>,
    /// WeChat Pay's transaction id.
    pub transaction_id: Option<String>,
    /// The merchant's order number: look the order up with it.
    pub out_trade_no: String,
    /// The merchant's `attach`, echoed verbatim.
    pub attach: Option<String>,
    /// When the payment completed (Beijing time).
    pub time_end: Option<BeijingTime>,
    /// Single-product discount details (JSON text).
    pub promotion_detail: Option<String>,
    /// The coupons used (`coupon_*_$n`).
    #[serde(skip)]
    pub coupons: Vec<Coupon>,
    /// Every field received, as signed (unknown ones included).
    #[serde(skip)]
    pub raw: XmlMap,
}

/// One coupon used in a payment (`coupon_type_$n`, `coupon_id_$n`, `coupon_fee_$n`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Coupon {
    /// The coupon id.
    pub coupon_id: String,
    /// `CASH` or `NO_CASH`.
    pub coupon_type: Option<String>,
    /// The coupon's amount.
    pub coupon_fee: Fen,
}

/// A payment whose amount the merchant confirmed: mark the order paid with this.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SettledPayment {
    /// The merchant's order number.
    pub out_trade_no: String,
    /// WeChat Pay's transaction id.
    pub transaction_id: Option<String>,
    /// The confirmed amount.
    pub total_fee: Fen,
    /// The verified notification it came from.
    pub notification: PayNotification,
}

impl PayNotification {
    pub(crate) fn from_verified(raw: XmlMap) -> Result<Self, Error> {
        let mut n: Self = tenpay_xml::from_map(&raw).map_err(Error::Field)?;
        n.coupons = tenpay_xml::indexed::read(&raw, "coupon_count", "").map_err(Error::Field)?;
        n.raw = raw;
        Ok(n)
    }

    /// Whether the notification reports a successful payment (`result_code=SUCCESS`).
    #[must_use]
    pub fn is_success(&self) -> bool {
        self.result_code == "SUCCESS"
    }

    /// Confirms the payment against the merchant's own amount for the order.
    ///
    /// # Errors
    /// [`Error::PaymentFailed`] for a failed payment, [`Error::AmountMismatch`] (carrying both
    /// amounts) when `total_fee` differs from `expected`.
    pub fn settle(self, expected: Fen) -> Result<SettledPayment, Error> {
        if !self.is_success() {
            return Err(Error::PaymentFailed {
                err_code: self.err_code,
            });
        }
        if self.total_fee != expected {
            return Err(Error::AmountMismatch {
                expected,
                received: self.total_fee,
            });
        }
        Ok(SettledPayment {
            out_trade_no: self.out_trade_no.clone(),
            transaction_id: self.transaction_id.clone(),
            total_fee: self.total_fee,
            notification: self,
        })
    }

    /// Every received field not described above.
    #[must_use]
    pub fn unknown_fields(&self) -> BTreeMap<&str, &str> {
        const KNOWN: &[&str] = &[
            "return_code",
            "return_msg",
            "appid",
            "mch_id",
            "sub_appid",
            "sub_mch_id",
            "device_info",
            "nonce_str",
            "sign",
            "sign_type",
            "result_code",
            "err_code",
            "err_code_des",
            "openid",
            "is_subscribe",
            "sub_openid",
            "sub_is_subscribe",
            "trade_type",
            "bank_type",
            "total_fee",
            "settlement_total_fee",
            "fee_type",
            "cash_fee",
            "cash_fee_type",
            "coupon_fee",
            "coupon_count",
            "transaction_id",
            "out_trade_no",
            "attach",
            "time_end",
            "promotion_detail",
        ];
        self.raw
            .iter()
            .filter(|(k, _)| {
                !KNOWN.contains(k)
                    && !["coupon_type_", "coupon_id_", "coupon_fee_"]
                        .iter()
                        .any(|p| k.starts_with(p))
            })
            .collect()
    }
}
