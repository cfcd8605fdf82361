//! Coupons: those used in a payment, and those refunded with a refund.

use serde::Deserialize;

use crate::Fen;

crate::wire_enum!(
    /// `coupon_type_$n`: whether the coupon was paid for (recharge) or given.
    CouponType {
        /// A recharge coupon: the merchant is settled for it.
        Cash = "CASH",
        /// A free coupon: it is deducted from what the merchant is settled.
        NoCash = "NO_CASH",
    }
);

/// One coupon used in a payment (`coupon_id_$n`, `coupon_fee_$n`, `coupon_type_$n`), in
/// orderquery answers and payment notifications alike.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Coupon {
    /// The coupon id.
    pub coupon_id: String,
    /// Its amount.
    pub coupon_fee: Fen,
    /// `CASH` or `NO_CASH` (absent on old answers).
    pub coupon_type: Option<CouponType>,
}

impl Coupon {
    /// A coupon (for simulators and tests; answers are decoded).
    #[must_use]
    pub fn new(
        coupon_id: impl Into<String>,
        coupon_fee: Fen,
        coupon_type: Option<CouponType>,
    ) -> Self {
        Self {
            coupon_id: coupon_id.into(),
            coupon_fee,
            coupon_type,
        }
    }
}

/// One coupon refunded in a refund (`coupon_refund_id_$n_$m`, `coupon_refund_fee_$n_$m`,
/// `coupon_type_$n_$m`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct RefundCoupon {
    /// The coupon id.
    pub coupon_refund_id: String,
    /// The refunded amount of it.
    pub coupon_refund_fee: Fen,
    /// `CASH` or `NO_CASH`.
    pub coupon_type: Option<CouponType>,
}
