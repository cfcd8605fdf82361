//! Why the simulator could not start, or refused a control operation.

use std::net::SocketAddr;

/// Why the simulator could not start or an operation was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The TLS material could not be generated, or a notify root certificate is unusable.
    #[error("TLS setup failed")]
    Tls(#[source] crate::tls::TlsError),
    /// No merchant was configured.
    #[error("the simulator needs at least one merchant")]
    NoMerchant,
    /// A control operation was refused: see the [`Refusal`] for which and why.
    #[error(transparent)]
    Refused(#[from] Refusal),
}

/// Why a control operation (pay, fail, close, a refund's outcome, redeliver, a fault) was
/// refused: a test can tell an unknown order from one in the wrong state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// No order has this number (for this merchant, when one was named).
    #[error("no order {out_trade_no}")]
    UnknownOrder {
        /// The number asked for.
        out_trade_no: String,
    },
    /// Several merchants have an order with this number: name the merchant.
    #[error("several merchants have an order {out_trade_no}: give mch_id")]
    Ambiguous {
        /// The number asked for.
        out_trade_no: String,
    },
    /// The order is not in a state the operation applies to.
    #[error("order {out_trade_no} is {state}, not {expected}")]
    WrongState {
        /// The order.
        out_trade_no: String,
        /// Its state (`SUCCESS`, `CLOSED`, …).
        state: &'static str,
        /// The states the operation needs.
        expected: &'static str,
    },
    /// The order's `time_expire` has passed: the payer can no longer pay it.
    #[error("order {out_trade_no} expired at {time_expire}")]
    Expired {
        /// The order.
        out_trade_no: String,
        /// Its `time_expire` (`yyyyMMddHHmmss`, Beijing time).
        time_expire: String,
    },
    /// No refund has this number.
    #[error("no refund {out_refund_no}")]
    UnknownRefund {
        /// The number asked for.
        out_refund_no: String,
    },
    /// The refund has already reached its outcome.
    #[error("refund {out_refund_no} is {status}, not PROCESSING")]
    RefundNotProcessing {
        /// The refund.
        out_refund_no: String,
        /// Its status.
        status: &'static str,
    },
    /// The coupon would not leave a positive cash amount.
    #[error("coupon_fee must be less than total_fee ({total_fee} fen)")]
    CouponTooLarge {
        /// The order's amount.
        total_fee: u64,
    },
    /// No delivery has this id (or it was pruned).
    #[error("no delivery {id}")]
    UnknownDelivery {
        /// The id asked for.
        id: u64,
    },
    /// A scanned product QR code (Native mode 1) placed no order: the URL is not a signed
    /// product URL of a configured merchant, the merchant has no scan callback URL, or its
    /// answer was not a signed prepay id of a NATIVE order for this payer.
    #[error("the scan placed no order: {reason}")]
    Scan {
        /// What went wrong, for the test's message.
        reason: String,
    },
    /// The simulator could not make something it needed (a new platform key).
    #[error("the simulator could not make {what}")]
    Unavailable {
        /// What.
        what: &'static str,
    },
    /// The fault list is full.
    #[error("at most {limit} faults can be set at once")]
    TooManyFaults {
        /// The limit.
        limit: usize,
    },
}
