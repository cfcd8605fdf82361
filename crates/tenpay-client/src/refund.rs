//! refund and refundquery.

use serde::{Deserialize, Serialize};
use tenpay_xml::{Currency, Fen, XmlMap};

use crate::Route;
use crate::endpoint::{Finish, endpoint, keep_raw};
use crate::outcome::{CodeReading, MovesMoney, read_common};
use crate::{ErrCode, Error, OutRefundNo, OutTradeNo, RefundItem};

/// `/secapi/pay/refund` (client certificate required). Repeating it with the same
/// `out_refund_no` is the same refund, so the client retries it after unknown outcomes.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Refund {
    transaction_id: Option<String>,
    out_trade_no: Option<OutTradeNo>,
    out_refund_no: OutRefundNo,
    total_fee: Fen,
    refund_fee: Fen,
    refund_fee_type: Option<Currency>,
    refund_desc: Option<String>,
    refund_account: Option<String>,
    notify_url: Option<String>,
}

impl Refund {
    /// Refund `refund_fee` of the order `out_trade_no` (whose amount is `total_fee`).
    #[must_use]
    pub fn by_out_trade_no(
        out_trade_no: OutTradeNo,
        out_refund_no: OutRefundNo,
        total_fee: Fen,
        refund_fee: Fen,
    ) -> Self {
        Self::with(
            None,
            Some(out_trade_no),
            out_refund_no,
            total_fee,
            refund_fee,
        )
    }

    fn with(
        transaction_id: Option<String>,
        out_trade_no: Option<OutTradeNo>,
        out_refund_no: OutRefundNo,
        total_fee: Fen,
        refund_fee: Fen,
    ) -> Self {
        Self {
            transaction_id,
            out_trade_no,
            out_refund_no,
            total_fee,
            refund_fee,
            refund_fee_type: None,
            refund_desc: None,
            refund_account: None,
            notify_url: None,
        }
    }

    /// As [`Refund::by_out_trade_no`], by WeChat Pay's transaction id.
    #[must_use]
    pub fn by_transaction_id(
        transaction_id: impl Into<String>,
        out_refund_no: OutRefundNo,
        total_fee: Fen,
        refund_fee: Fen,
    ) -> Self {
        Self::with(
            Some(transaction_id.into()),
            None,
            out_refund_no,
            total_fee,
            refund_fee,
        )
    }

    /// `refund_desc` (shown to the payer, at most 80 characters).
    #[must_use]
    pub fn desc(mut self, desc: impl Into<String>) -> Self {
        self.refund_desc = Some(desc.into());
        self
    }

    /// `notify_url` for this refund's notification.
    #[must_use]
    pub fn notify_url(mut self, url: impl Into<String>) -> Self {
        self.notify_url = Some(url.into());
        self
    }

    /// `refund_account` (`REFUND_SOURCE_UNSETTLED_FUNDS` or `REFUND_SOURCE_RECHARGE_FUNDS`).
    #[must_use]
    pub fn account(mut self, account: impl Into<String>) -> Self {
        self.refund_account = Some(account.into());
        self
    }
}

/// The answer to [`Refund`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct RefundResponse {
    /// WeChat Pay's transaction id.
    pub transaction_id: Option<String>,
    /// The merchant's order number.
    pub out_trade_no: Option<String>,
    /// The merchant's refund number.
    pub out_refund_no: String,
    /// WeChat Pay's refund id.
    pub refund_id: String,
    /// Refunded amount.
    pub refund_fee: Fen,
    /// Settled refund amount.
    pub settlement_refund_fee: Option<Fen>,
    /// Order amount.
    pub total_fee: Option<Fen>,
    /// Cash paid.
    pub cash_fee: Option<Fen>,
    /// Cash refunded.
    pub cash_refund_fee: Option<Fen>,
    /// Every field of the verified answer.
    #[serde(skip)]
    pub raw: XmlMap,
}

keep_raw!(RefundResponse);

endpoint!(Refund => RefundResponse, Route::new("/secapi/pay/refund").certificate().retry_safe().moving_money(),
    trade_no: |s| s.out_trade_no.as_ref().map(OutTradeNo::as_str));

impl MovesMoney for Refund {
    fn number(&self) -> &str {
        self.out_refund_no.as_str()
    }

    /// Final on a first attempt (`V2-PROTOCOL.md` §3.2): the balance, the order's age or
    /// state, a wrong order, and configuration codes. `SYSTEMERROR`, `BIZERR_NEED_RETRY`,
    /// the rate limits (`FREQUENCY_LIMITED`, `INVALID_REQ_TOO_MUCH`) and unknown codes are
    /// open.
    fn read_code(code: &ErrCode) -> CodeReading {
        read_common(
            code,
            &[
                "NOTENOUGH",
                "TRADE_OVERDUE",
                "USER_ACCOUNT_ABNORMAL",
                "ORDERNOTEXIST",
                "TRADE_STATE_ERROR",
                "INVALID_TRANSACTIONID",
                "ERROR",
            ],
        )
    }
}

/// `/pay/refundquery`: the first 10 refunds from `offset`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RefundQuery {
    refund_id: Option<String>,
    out_refund_no: Option<OutRefundNo>,
    transaction_id: Option<String>,
    out_trade_no: Option<OutTradeNo>,
    offset: Option<u32>,
}

impl RefundQuery {
    fn empty() -> Self {
        Self {
            refund_id: None,
            out_refund_no: None,
            transaction_id: None,
            out_trade_no: None,
            offset: None,
        }
    }

    /// The refunds of an order.
    #[must_use]
    pub fn by_out_trade_no(out_trade_no: OutTradeNo) -> Self {
        Self {
            out_trade_no: Some(out_trade_no),
            ..Self::empty()
        }
    }

    /// The refunds of a transaction.
    #[must_use]
    pub fn by_transaction_id(transaction_id: impl Into<String>) -> Self {
        Self {
            transaction_id: Some(transaction_id.into()),
            ..Self::empty()
        }
    }

    /// One refund by the merchant's refund number.
    #[must_use]
    pub fn by_out_refund_no(out_refund_no: OutRefundNo) -> Self {
        Self {
            out_refund_no: Some(out_refund_no),
            ..Self::empty()
        }
    }

    /// One refund by WeChat Pay's refund id.
    #[must_use]
    pub fn by_refund_id(refund_id: impl Into<String>) -> Self {
        Self {
            refund_id: Some(refund_id.into()),
            ..Self::empty()
        }
    }

    /// Page: skip this many refunds (the answer holds at most 10).
    #[must_use]
    pub fn offset(mut self, offset: u32) -> Self {
        self.offset = Some(offset);
        self
    }
}

/// The answer to [`RefundQuery`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct RefundQueryResponse {
    /// All refunds of the order (for paging).
    pub total_refund_count: Option<u32>,
    /// WeChat Pay's transaction id.
    pub transaction_id: Option<String>,
    /// The merchant's order number.
    pub out_trade_no: Option<String>,
    /// Order amount.
    pub total_fee: Option<Fen>,
    /// Cash paid.
    pub cash_fee: Option<Fen>,
    /// The refunds in this page.
    #[serde(skip)]
    pub refunds: Vec<RefundItem>,
    /// Every field of the verified answer.
    #[serde(skip)]
    pub raw: XmlMap,
}

impl Finish for RefundQueryResponse {
    fn finish(&mut self, raw: XmlMap) -> Result<(), Error> {
        let mut refunds: Vec<RefundItem> =
            tenpay_xml::indexed::read(&raw, "refund_count", "").map_err(Error::Decode)?;
        for (n, r) in refunds.iter_mut().enumerate() {
            r.coupons = tenpay_xml::indexed::read(
                &raw,
                &format!("coupon_refund_count_{n}"),
                &format!("_{n}"),
            )
            .map_err(Error::Decode)?;
        }
        self.refunds = refunds;
        self.raw = raw;
        Ok(())
    }
}

endpoint!(RefundQuery => RefundQueryResponse, Route::new("/pay/refundquery").retry_safe(),
    trade_no: |s| s.out_trade_no.as_ref().map(OutTradeNo::as_str));
