//! The server's states and rules, free of I/O: order and refund states, what a payment or a
//! refund result does to them, and which refund failures are final.

use std::fmt;

use tenpay_client::{Outcome, RefundResponse, Refused, RefusedBecause};
use tenpay_xml::{Fen, IdError, OutTradeNo};

/// A string from the database that is not one of a state's names.
#[derive(Debug, thiserror::Error)]
#[error("unknown {what} {value:?} in the database")]
pub struct UnknownState {
    what: &'static str,
    value: String,
}

macro_rules! states {
    ($(#[$m:meta])* $name:ident ($what:literal) { $($(#[$vm:meta])* $v:ident = $s:literal,)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
        pub enum $name { $($(#[$vm])* #[serde(rename = $s)] $v,)+ }
        impl $name {
            /// The name stored in the database and shown in the API.
            #[must_use]
            pub const fn as_str(self) -> &'static str { match self { $(Self::$v => $s,)+ } }
            /// Parses a stored name.
            ///
            /// # Errors
            /// [`UnknownState`] for any other string.
            pub fn parse(s: &str) -> Result<Self, UnknownState> {
                match s { $($s => Ok(Self::$v),)+ _ => Err(UnknownState { what: $what, value: s.to_owned() }) }
            }
        }
        impl From<$name> for &'static str {
            fn from(s: $name) -> Self { s.as_str() }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

/// A business order's number. It is also its first attempt's `out_trade_no` at WeChat Pay
/// (later attempts are `{order_no}-{seq}`), so it follows [`OutTradeNo`]'s rules; a separate
/// type keeps the two from being passed for each other.
///
/// ```
/// use tenpay_merchant_server::domain::OrderNo;
/// let no = OrderNo::new("20261203071800a1b2c3d4e5f6").unwrap();
/// assert_eq!(no.first_attempt().as_str(), no.as_str());
/// assert!(OrderNo::new("has space").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct OrderNo(OutTradeNo);

impl OrderNo {
    /// Checks and wraps the number.
    ///
    /// # Errors
    /// [`IdError`] unless it is a valid `out_trade_no` (1 to 32 of `0-9a-zA-Z_-|*@`).
    pub fn new(s: impl Into<String>) -> Result<Self, IdError> {
        OutTradeNo::new(s).map(Self)
    }

    /// The number.
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Attempt `seq`'s number at WeChat Pay: the order's own for the first, then
    /// `{order_no}-{seq}`; `None` when that is longer than an `out_trade_no` may be.
    #[must_use]
    pub fn attempt_no(&self, seq: i64) -> Option<OutTradeNo> {
        match seq {
            ..=0 => None,
            1 => Some(self.first_attempt()),
            _ => OutTradeNo::new(format!("{}-{seq}", self.as_str())).ok(),
        }
    }

    /// Its first attempt's number at WeChat Pay: the same characters.
    #[must_use]
    pub fn first_attempt(&self) -> OutTradeNo {
        self.0.clone()
    }
}

impl fmt::Display for OrderNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for OrderNo {
    type Error = IdError;

    fn try_from(s: String) -> Result<Self, IdError> {
        Self::new(s)
    }
}

impl std::str::FromStr for OrderNo {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, IdError> {
        Self::new(s)
    }
}

states!(
    /// How the payer pays an order: the `trade_type` of its unifiedorder, chosen by the app.
    TradeType ("trade type") {
        /// In an app (the signed APP parameters).
        App = "APP",
        /// In a WeChat page or mini-program (the signed JSAPI parameters; needs the openid).
        Jsapi = "JSAPI",
        /// By scanning a QR code (`code_url`).
        Native = "NATIVE",
        /// In a mobile browser (`mweb_url`).
        Mweb = "MWEB",
    }
);

states!(
    /// A business order (paid through attempts, [`AttemptState`]).
    OrderState ("order state") {
        /// Stored; unifiedorder not answered yet (or its outcome unknown).
        New = "NEW",
        /// WeChat Pay has the order (prepay id); the payer has not paid.
        NotPay = "NOTPAY",
        /// WeChat Pay refused the order (a final unifiedorder error).
        Failed = "FAILED",
        /// A failed payment was notified; the payer may try again.
        PayError = "PAYERROR",
        /// Paid.
        Paid = "PAID",
        /// Paid, and part of it refunded.
        PartiallyRefunded = "PARTIALLY_REFUNDED",
        /// Paid and refunded in full.
        Refunded = "REFUNDED",
        /// Its payment attempt expired or was closed before payment; the payer may pay it
        /// again (a new attempt).
        Closed = "CLOSED",
        /// Cancelled by the merchant (the back office): final. No new attempt; a payment that
        /// still arrives is the paid-after-close anomaly, for a refund.
        Cancelled = "CANCELLED",
    }
);

states!(
    /// A payment attempt (one `out_trade_no` at WeChat Pay). While it is its order's current
    /// attempt and unpaid, the order's state follows it ([`AttemptState::order_state`]).
    AttemptState ("attempt state") {
        /// Stored; unifiedorder not answered yet (or its outcome unknown).
        New = "NEW",
        /// WeChat Pay has it (prepay id); the payer has not paid.
        NotPay = "NOTPAY",
        /// WeChat Pay refused it (a final unifiedorder error).
        Failed = "FAILED",
        /// A failed payment was notified; the payer may try again.
        PayError = "PAYERROR",
        /// Paid.
        Paid = "PAID",
        /// Expired, closed, or superseded before payment: WeChat Pay never reuses its number.
        Closed = "CLOSED",
    }
);

impl AttemptState {
    /// States a successful payment may move from (exactly once).
    pub const PAYABLE: [Self; 4] = [Self::New, Self::NotPay, Self::PayError, Self::Failed];
    /// States an attempt can be closed from.
    pub const CLOSABLE: [Self; 3] = [Self::New, Self::NotPay, Self::PayError];

    /// The order's state when this is its current attempt.
    #[must_use]
    pub const fn order_state(self) -> OrderState {
        match self {
            Self::New => OrderState::New,
            Self::NotPay => OrderState::NotPay,
            Self::Failed => OrderState::Failed,
            Self::PayError => OrderState::PayError,
            Self::Paid => OrderState::Paid,
            Self::Closed => OrderState::Closed,
        }
    }
}

states!(
    /// A refund (one `out_refund_no`).
    RefundState ("refund state") {
        /// Submitted, or its outcome is unknown: resolved by the notification or refundquery.
        Processing = "PROCESSING",
        /// Refunded.
        Success = "SUCCESS",
        /// Refunded to an account that refused it (card frozen, …): a person handles it.
        Change = "CHANGE",
        /// Closed: WeChat Pay refused it or closed it; it holds no money.
        RefundClose = "REFUNDCLOSE",
    }
);

states!(
    /// Why an anomaly was recorded.
    AnomalyKind ("anomaly kind") {
        /// A successful payment for an order this server had closed: refund the payer.
        PaidAfterClose = "PAID_AFTER_CLOSE",
        /// A second transaction for an order already paid: refund one of them.
        SecondPayment = "SECOND_PAYMENT",
        /// A verified payment for another amount than the order's.
        AmountMismatch = "AMOUNT_MISMATCH",
        /// A refund closed here that WeChat Pay reports as refunded.
        RefundSucceededAfterClose = "REFUND_SUCCEEDED_AFTER_CLOSE",
        /// A refund WeChat Pay reports for another amount than the books.
        RefundAmountMismatch = "REFUND_AMOUNT_MISMATCH",
        /// Refunds add up to more than the order.
        OverRefunded = "OVER_REFUNDED",
        /// WeChat Pay reports a refund this server never asked for.
        UnknownRefund = "UNKNOWN_REFUND",
        /// A refund in CHANGE: the money did not reach the payer.
        RefundChange = "REFUND_CHANGE",
        /// WeChat Pay closed a refund the books had as refunded.
        RefundClosedAfterSuccess = "REFUND_CLOSED_AFTER_SUCCESS",
        /// The day's bill and the books disagree (reconciliation): see the detail.
        ReconciliationDifference = "RECONCILIATION_DIFFERENCE",
    }
);

impl OrderState {
    /// States a successful payment may move from (exactly once).
    pub const PAYABLE: [Self; 4] = [Self::New, Self::NotPay, Self::PayError, Self::Failed];
    /// States an order can be closed from.
    pub const CLOSABLE: [Self; 3] = [Self::New, Self::NotPay, Self::PayError];

    /// Whether the order was paid (refunded or not).
    #[must_use]
    pub fn is_paid(self) -> bool {
        matches!(self, Self::Paid | Self::PartiallyRefunded | Self::Refunded)
    }

    /// The paid state for `refunded` of `amount`.
    #[must_use]
    pub fn after_refunds(amount: Fen, refunded: Fen) -> Self {
        if refunded.get() == 0 {
            Self::Paid
        } else if refunded.get() < amount.get() {
            Self::PartiallyRefunded
        } else {
            Self::Refunded
        }
    }
}

impl RefundState {
    /// Whether the refund holds part of the order's amount (everything but REFUNDCLOSE).
    #[must_use]
    pub fn holds_money(self) -> bool {
        self != Self::RefundClose
    }

    /// The state of a refund status as WeChat Pay reports it.
    #[must_use]
    pub fn from_wire(status: &tenpay_xml::RefundStatus) -> Option<Self> {
        use tenpay_xml::RefundStatus as W;
        match status {
            W::Success => Some(Self::Success),
            W::Processing => Some(Self::Processing),
            W::Change => Some(Self::Change),
            W::RefundClose => Some(Self::RefundClose),
            _ => None,
        }
    }
}

/// What one submission of a refund to WeChat Pay established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submission {
    /// Accepted: WeChat Pay gave a refund id; the result follows.
    Accepted {
        /// WeChat Pay's refund id.
        refund_id: String,
    },
    /// Refused for good: the refund never happened and holds no money.
    Rejected {
        /// The final `err_code`.
        err_code: String,
    },
    /// Anything else: the refund may or may not exist; refundquery or the notification says.
    Unknown {
        /// What happened, for the operator.
        why: String,
    },
}

/// What the client established about one refund submission, over all of its attempts:
/// the only input [`classify_submission`] needs, so that the rule is tested without a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answered {
    /// WeChat Pay accepted it under this refund id.
    Accepted {
        /// WeChat Pay's refund id.
        refund_id: String,
    },
    /// The client's verdict: refused with a final code, and no other attempt of this
    /// submission may have reached WeChat Pay ([`tenpay_client::RefusedBecause::Final`]).
    RefusedForGood {
        /// The final `err_code`.
        err_code: String,
    },
    /// Anything else: open, a taken number, or nothing sent.
    Open {
        /// What happened, for the operator.
        why: String,
    },
}

impl Answered {
    /// The client's outcome of a refund call, as the rule reads it.
    #[must_use]
    pub fn from_client(result: &Result<Outcome<RefundResponse>, Refused>) -> Self {
        match result {
            Ok(Outcome::Done(answer)) => Self::Accepted {
                refund_id: answer.refund_id.clone(),
            },
            Err(r) if r.because() == RefusedBecause::Final => Self::RefusedForGood {
                err_code: r
                    .err_code()
                    .map_or_else(String::new, |c| c.as_str().to_owned()),
            },
            // Nothing sent: the refund stays PROCESSING; a repeat or refundquery settles it.
            Err(r) => Self::Open {
                why: crate::logging::report(r),
            },
            Ok(Outcome::NumberTaken(u) | Outcome::Unknown(u)) => Self::Open {
                why: crate::logging::report(u),
            },
            Ok(_) => Self::Open {
                why: "an outcome this server does not know".into(),
            },
        }
    }
}

/// Classifies a refund submission. Only a final refusal of the *first* submission, which the
/// client reports as the only attempt that may have reached WeChat Pay, closes a refund: a
/// repeat can be refused (FREQUENCY_LIMITED, or PARAM_ERROR when WeChat Pay remembers other
/// parameters) while the first one succeeded.
#[must_use]
pub fn classify_submission(answered: Answered, first_submission: bool) -> Submission {
    match answered {
        Answered::Accepted { refund_id } => Submission::Accepted { refund_id },
        Answered::RefusedForGood { err_code } if first_submission => {
            Submission::Rejected { err_code }
        }
        Answered::RefusedForGood { err_code } => Submission::Unknown {
            why: format!("a repeat was refused ({err_code}); an earlier submission may stand"),
        },
        Answered::Open { why } => Submission::Unknown { why },
    }
}

/// Money arithmetic in fen for the books: checked, in `i64` as the database stores it.
pub mod money {
    use tenpay_xml::Fen;

    /// An amount that does not fit the books.
    #[derive(Debug, thiserror::Error, PartialEq, Eq)]
    #[error("amount out of range")]
    pub struct OutOfRange;

    /// A stored amount as `Fen` (the database never holds a negative one; a negative value is
    /// corruption).
    ///
    /// # Errors
    /// [`OutOfRange`] for a negative value.
    pub fn from_db(v: i64) -> Result<Fen, OutOfRange> {
        u64::try_from(v).map(Fen::new).map_err(|_| OutOfRange)
    }

    /// `Fen` as the database stores it.
    ///
    /// # Errors
    /// [`OutOfRange`] above `i64::MAX`.
    pub fn to_db(v: Fen) -> Result<i64, OutOfRange> {
        i64::try_from(v.get()).map_err(|_| OutOfRange)
    }

    /// `a + b`.
    ///
    /// # Errors
    /// [`OutOfRange`] on overflow.
    pub fn add(a: Fen, b: Fen) -> Result<Fen, OutOfRange> {
        a.get().checked_add(b.get()).map(Fen::new).ok_or(OutOfRange)
    }
}

/// What the books hold of a payment attempt and its order, read with both rows locked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentFacts {
    /// The business order.
    pub order_no: String,
    /// The order's amount.
    pub amount: Fen,
    /// The attempt's state.
    pub attempt_state: AttemptState,
    /// The transaction that paid the attempt, if one did.
    pub attempt_tx: Option<String>,
    /// The order's state.
    pub order_state: OrderState,
    /// The transaction that paid the order, if one did.
    pub order_tx: Option<String>,
    /// The attempt that paid the order, if one did.
    pub paid_attempt: Option<String>,
}

/// What a verified successful payment (of the order's amount) does to the books.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentTransition {
    /// The attempt and its order become PAID, by this transaction.
    Pay,
    /// The attempt becomes PAID, and its order cannot: the payer was charged for an order
    /// paid by another attempt, or cancelled. The anomaly is recorded with it.
    PayAttemptOnly(AnomalyKind, String),
    /// Nothing moves: the attempt was closed, or is paid by another transaction. The anomaly
    /// is recorded.
    Anomaly(AnomalyKind, String),
    /// Nothing moves: the same transaction again.
    Duplicate(OrderState),
}

/// The one rule for a verified payment of attempt `attempt_no` by `transaction_id`, whose
/// amount the caller checked against `facts.amount`: an open attempt is paid once; its order
/// is paid by the first attempt paid; anything else the payer was charged for is an anomaly
/// for a person, never a silent duplicate.
#[must_use]
pub fn payment(facts: &PaymentFacts, attempt_no: &str, transaction_id: &str) -> PaymentTransition {
    let PaymentFacts {
        order_no, amount, ..
    } = facts;
    if AttemptState::PAYABLE.contains(&facts.attempt_state) {
        // A CLOSED order's current attempt is closed; this one was still open.
        if OrderState::PAYABLE.contains(&facts.order_state)
            || facts.order_state == OrderState::Closed
        {
            return PaymentTransition::Pay;
        }
        if facts.order_state == OrderState::Cancelled {
            return PaymentTransition::PayAttemptOnly(
                AnomalyKind::PaidAfterClose,
                format!(
                    "transaction {transaction_id} paid {amount} fen for attempt {attempt_no} of order {order_no}, which the merchant cancelled: refund the payer"
                ),
            );
        }
        return PaymentTransition::PayAttemptOnly(
            AnomalyKind::SecondPayment,
            format!(
                "order {order_no} is paid by attempt {} (transaction {}) and again by attempt {attempt_no} (transaction {transaction_id}, {amount} fen): refund one",
                facts.paid_attempt.as_deref().unwrap_or("?"),
                facts.order_tx.as_deref().unwrap_or("?"),
            ),
        );
    }
    if facts.attempt_state == AttemptState::Closed {
        return PaymentTransition::Anomaly(
            AnomalyKind::PaidAfterClose,
            format!(
                "transaction {transaction_id} paid {amount} fen for attempt {attempt_no} of order {order_no}, which was closed: refund the payer"
            ),
        );
    }
    if facts.attempt_tx.as_deref() == Some(transaction_id) {
        return PaymentTransition::Duplicate(facts.order_state);
    }
    PaymentTransition::Anomaly(
        AnomalyKind::SecondPayment,
        format!(
            "attempt {attempt_no} of order {order_no} is paid by transaction {} and again by {transaction_id}: refund one",
            facts.attempt_tx.as_deref().unwrap_or("?")
        ),
    )
}

/// What the books hold of a refund and its order, read with the order's row locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefundFacts {
    /// The refund's state here.
    pub state: RefundState,
    /// The amount asked.
    pub amount: Fen,
    /// The order's amount.
    pub order_amount: Fen,
    /// What the order counts as refunded so far.
    pub order_refunded: Fen,
}

/// What a confirmed refund result does to the books.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundTransition {
    /// The refund's new state, when it moves.
    pub state: Option<RefundState>,
    /// The order's new refunded total and state, when the refund is counted.
    pub order: Option<(Fen, OrderState)>,
    /// Anomalies to record with it, each with its detail.
    pub anomalies: Vec<(AnomalyKind, String)>,
    /// For the audit trail and the log.
    pub verdict: String,
}

/// The one rule for a refund result WeChat Pay confirmed (signed refundquery, or a
/// notification it confirmed): a SUCCESS is counted exactly once, whatever the books said
/// (a local REFUNDCLOSE is then an anomaly, and so is another amount than asked, or a total
/// beyond the order); a refund counted as refunded never moves back (an anomaly instead).
///
/// # Errors
/// [`money::OutOfRange`] when the refunded total overflows.
pub fn refund(
    facts: RefundFacts,
    out_refund_no: &str,
    order_no: &str,
    reported: RefundState,
    refund_fee: Fen,
) -> Result<RefundTransition, money::OutOfRange> {
    use RefundState as S;
    let mut t = RefundTransition {
        state: None,
        order: None,
        anomalies: Vec::new(),
        verdict: String::new(),
    };
    match (facts.state, reported) {
        (from, to) if from == to => t.verdict = format!("duplicate: refund already {from}"),
        (_, S::Processing) => {
            t.verdict = format!("refund still processing (here {})", facts.state);
        }
        (from @ (S::Processing | S::RefundClose | S::Change), S::Success) => {
            t.state = Some(S::Success);
            if from == S::RefundClose {
                t.anomalies.push((
                    AnomalyKind::RefundSucceededAfterClose,
                    format!(
                        "refund {out_refund_no} was closed here but WeChat Pay refunded {refund_fee} fen"
                    ),
                ));
            }
            if refund_fee != facts.amount {
                t.anomalies.push((
                    AnomalyKind::RefundAmountMismatch,
                    format!(
                        "refund {out_refund_no} asked {} fen, WeChat Pay refunded {refund_fee} fen (counted)",
                        facts.amount
                    ),
                ));
            }
            let refunded = money::add(facts.order_refunded, refund_fee)?;
            t.order = Some((
                refunded,
                OrderState::after_refunds(facts.order_amount, refunded),
            ));
            if refunded > facts.order_amount {
                t.anomalies.push((
                    AnomalyKind::OverRefunded,
                    format!("order {order_no} is refunded beyond its amount"),
                ));
            }
            t.verdict = "refunded".to_owned();
        }
        (S::Success, to) => {
            t.anomalies.push((
                AnomalyKind::RefundClosedAfterSuccess,
                format!(
                    "refund {out_refund_no} is counted as refunded here; WeChat Pay reports {to}"
                ),
            ));
            t.verdict = format!("anomaly: counted as refunded, WeChat Pay reports {to}");
        }
        (_, S::RefundClose) => {
            t.state = Some(S::RefundClose);
            t.verdict = "refund closed".to_owned();
        }
        (_, S::Change) => {
            t.state = Some(S::Change);
            t.anomalies.push((
                AnomalyKind::RefundChange,
                format!(
                    "refund {out_refund_no} ({refund_fee} fen) did not reach the payer (CHANGE): handle it on the merchant platform"
                ),
            ));
            t.verdict = "refund CHANGE".to_owned();
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_order_number_names_its_attempts_and_refuses_what_wechat_pay_would() {
        let no = OrderNo::new("20261203A1").unwrap();
        assert_eq!(no.attempt_no(1).unwrap().as_str(), "20261203A1");
        assert_eq!(no.attempt_no(2).unwrap().as_str(), "20261203A1-2");
        assert_eq!(no.attempt_no(0), None);
        // 30 characters: "-2" still fits in 32, "-10" does not.
        let long = OrderNo::new("x".repeat(30)).unwrap();
        assert!(long.attempt_no(2).is_some());
        assert_eq!(long.attempt_no(10), None);
        assert!(OrderNo::new("").is_err());
        assert!(OrderNo::new("a b").is_err());
        assert!(OrderNo::new("x".repeat(33)).is_err());
    }

    #[test]
    fn a_trade_type_is_one_of_four_wire_names_and_nothing_else() {
        for t in [
            TradeType::App,
            TradeType::Jsapi,
            TradeType::Native,
            TradeType::Mweb,
        ] {
            assert_eq!(TradeType::parse(t.as_str()).unwrap(), t);
        }
        // What the app sends is matched exactly: no case folding, no MICROPAY here.
        for bad in ["app", "MICROPAY", "", "NATIVE "] {
            assert!(TradeType::parse(bad).is_err(), "{bad:?}");
        }
    }

    fn refused(code: &str) -> Answered {
        Answered::RefusedForGood {
            err_code: code.into(),
        }
    }

    #[test]
    fn only_a_final_refusal_of_the_first_submission_closes_a_refund() {
        assert_eq!(
            classify_submission(refused("NOTENOUGH"), true),
            Submission::Rejected {
                err_code: "NOTENOUGH".into()
            }
        );
        // The same code to a repeat: the first submission may have succeeded.
        assert!(matches!(
            classify_submission(refused("PARAM_ERROR"), false),
            Submission::Unknown { .. }
        ));
        let open = Answered::Open { why: "x".into() };
        assert!(matches!(
            classify_submission(open, true),
            Submission::Unknown { .. }
        ));
        assert_eq!(
            classify_submission(
                Answered::Accepted {
                    refund_id: "5000".into()
                },
                false
            ),
            Submission::Accepted {
                refund_id: "5000".into()
            }
        );
    }

    #[test]
    fn states_round_trip_and_refunds_set_the_paid_state() {
        for s in [
            OrderState::New,
            OrderState::PartiallyRefunded,
            OrderState::Closed,
        ] {
            assert_eq!(OrderState::parse(s.as_str()).unwrap(), s);
        }
        assert!(OrderState::parse("paid").is_err());
        let amount = Fen::new(100);
        assert_eq!(
            OrderState::after_refunds(amount, Fen::new(0)),
            OrderState::Paid
        );
        assert_eq!(
            OrderState::after_refunds(amount, Fen::new(50)),
            OrderState::PartiallyRefunded
        );
        assert_eq!(
            OrderState::after_refunds(amount, Fen::new(100)),
            OrderState::Refunded
        );
    }

    #[test]
    fn money_is_checked() {
        assert_eq!(
            money::add(Fen::new(u64::MAX), Fen::new(1)),
            Err(money::OutOfRange)
        );
        assert_eq!(money::to_db(Fen::new(u64::MAX)), Err(money::OutOfRange));
        assert_eq!(money::from_db(-1), Err(money::OutOfRange));
        assert_eq!(money::to_db(Fen::new(5)).unwrap(), 5);
    }

    fn facts(attempt: AttemptState, order: OrderState) -> PaymentFacts {
        PaymentFacts {
            order_no: "O".into(),
            amount: Fen::new(100),
            attempt_state: attempt,
            attempt_tx: (attempt == AttemptState::Paid).then(|| "T1".into()),
            order_state: order,
            order_tx: order.is_paid().then(|| "T1".into()),
            paid_attempt: order.is_paid().then(|| "O".into()),
        }
    }

    #[test]
    fn a_payment_moves_the_books_once_and_anything_else_is_an_anomaly() {
        use AttemptState as A;
        use OrderState::*;
        use PaymentTransition as T;
        // An open attempt of an unpaid (or expired) order: paid.
        for order in [New, NotPay, PayError, Failed, Closed] {
            assert_eq!(
                payment(&facts(A::NotPay, order), "O-2", "T2"),
                T::Pay,
                "{order}"
            );
        }
        // An open attempt of a paid order: the second payment; of a cancelled one: paid after
        // close. The attempt is paid either way (the money was taken).
        let kind = |t: T| match t {
            T::PayAttemptOnly(k, _) | T::Anomaly(k, _) => Some(k),
            _ => None,
        };
        assert_eq!(
            kind(payment(&facts(A::NotPay, Paid), "O-2", "T2")),
            Some(AnomalyKind::SecondPayment)
        );
        let cancelled = payment(&facts(A::NotPay, Cancelled), "O-2", "T2");
        assert!(
            matches!(&cancelled, T::PayAttemptOnly(AnomalyKind::PaidAfterClose, d) if d.contains("cancelled")),
            "{cancelled:?}"
        );
        // A closed attempt: nothing moves, paid after close.
        assert!(matches!(
            payment(&facts(A::Closed, NotPay), "O", "T2"),
            T::Anomaly(AnomalyKind::PaidAfterClose, _)
        ));
        // The same transaction again: a duplicate, whatever the order became since.
        for order in [Paid, PartiallyRefunded, Refunded] {
            assert_eq!(
                payment(&facts(A::Paid, order), "O", "T1"),
                T::Duplicate(order)
            );
        }
        // Another transaction for a paid attempt.
        assert!(matches!(
            payment(&facts(A::Paid, Paid), "O", "T9"),
            T::Anomaly(AnomalyKind::SecondPayment, d) if d.contains("T1") && d.contains("T9")
        ));
    }

    fn refund_facts(state: RefundState) -> RefundFacts {
        RefundFacts {
            state,
            amount: Fen::new(60),
            order_amount: Fen::new(100),
            order_refunded: Fen::new(30),
        }
    }

    #[test]
    fn a_refund_success_is_counted_once_and_never_undone() {
        use RefundState::*;
        let kinds = |t: &RefundTransition| t.anomalies.iter().map(|(k, _)| *k).collect::<Vec<_>>();
        // PROCESSING → SUCCESS: counted; 30 + 60 of 100 is partly refunded.
        let t = refund(refund_facts(Processing), "R", "O", Success, Fen::new(60)).unwrap();
        assert_eq!(t.state, Some(Success));
        assert_eq!(t.order, Some((Fen::new(90), OrderState::PartiallyRefunded)));
        assert!(t.anomalies.is_empty());
        // The same result again: nothing moves.
        let t = refund(refund_facts(Success), "R", "O", Success, Fen::new(60)).unwrap();
        assert_eq!((t.state, t.order), (None, None));
        assert!(t.verdict.starts_with("duplicate"));
        // Closed here, refunded there, for another amount and beyond the order: counted, with
        // every anomaly.
        let t = refund(refund_facts(RefundClose), "R", "O", Success, Fen::new(80)).unwrap();
        assert_eq!(t.order, Some((Fen::new(110), OrderState::Refunded)));
        assert_eq!(
            kinds(&t),
            [
                AnomalyKind::RefundSucceededAfterClose,
                AnomalyKind::RefundAmountMismatch,
                AnomalyKind::OverRefunded
            ]
        );
        // Counted as refunded, then reported closed: never undone.
        let t = refund(refund_facts(Success), "R", "O", RefundClose, Fen::new(60)).unwrap();
        assert_eq!((t.state, t.order), (None, None));
        assert_eq!(kinds(&t), [AnomalyKind::RefundClosedAfterSuccess]);
        // CHANGE: for a person; still processing: nothing.
        let t = refund(refund_facts(Processing), "R", "O", Change, Fen::new(60)).unwrap();
        assert_eq!(
            (t.state, kinds(&t)),
            (Some(Change), vec![AnomalyKind::RefundChange])
        );
        let t = refund(
            refund_facts(RefundClose),
            "R",
            "O",
            Processing,
            Fen::new(60),
        )
        .unwrap();
        assert_eq!((t.state, t.order), (None, None));
        // An overflowing total is an error, not a wrap.
        let mut f = refund_facts(Processing);
        f.order_refunded = Fen::new(u64::MAX);
        assert!(refund(f, "R", "O", Success, Fen::new(1)).is_err());
    }
}
