//! The refund record: one refund of an order as WeChat Pay reports it.

use serde::Deserialize;

use crate::{BeijingDateTime, Fen, OutRefundNo, RefundCoupon, RefundStatus};

/// One refund of an order: a refundquery answer's `_$n` fields.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct RefundItem {
    /// The merchant's refund number.
    pub out_refund_no: OutRefundNo,
    /// WeChat Pay's refund id.
    pub refund_id: String,
    /// Channel (`ORIGINAL`, `BALANCE`, …).
    pub refund_channel: Option<String>,
    /// Amount.
    pub refund_fee: Fen,
    /// Settled amount.
    pub settlement_refund_fee: Option<Fen>,
    /// Status.
    pub refund_status: RefundStatus,
    /// Funds used.
    pub refund_account: Option<String>,
    /// Where the money went (protocol spelling).
    pub refund_recv_accout: Option<String>,
    /// When it succeeded (`yyyy-MM-dd HH:mm:ss`, Beijing time).
    pub refund_success_time: Option<BeijingDateTime>,
    /// Coupons refunded (`coupon_refund_*_$n_$m`); the decoder of the answer fills them in.
    #[serde(skip)]
    pub coupons: Vec<RefundCoupon>,
}
