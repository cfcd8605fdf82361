//! Outcomes of calls that move money, computed over every attempt of the call.
//!
//! The client repeats an identical body after an open failure ([`RetryPolicy`](crate::RetryPolicy)),
//! so one call can be several attempts, and the last one's answer alone says nothing certain:
//! a first attempt may be booked and answered `SYSTEMERROR` (or its answer lost), and the
//! repeat then refused `FREQ_LIMIT` or unable to connect. The transport therefore records each
//! attempt's [`Fate`], and a money-moving call ([`MovesMoney`]) is judged over all of them:
//!
//! - [`Outcome::Done`]: WeChat Pay answered success.
//! - [`Refused`] (the `Err` side): nothing was moved, for certain. Only two ways lead there:
//!   no attempt reached WeChat Pay, or the *first* attempt that did was refused with a code
//!   the family documents as final. A refusal of a repeat is never final.
//! - [`Outcome::NumberTaken`]: the number exists with other parameters (`FATAL_ERROR`,
//!   `OUT_TRADE_NO_USED`): its state is unknown; query it, never pay again under a new number.
//! - [`Outcome::Unknown`]: anything else; query with the number, or repeat the identical
//!   request.
//!
//! `Refused` has no public constructor: it exists only where this judgement made it.

use core::fmt;

use crate::Error;
use crate::endpoint::Endpoint;
use tenpay_xml::ErrCode;

/// What became of one attempt to send a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fate {
    /// It never reached WeChat Pay: it could not be built, or no connection could be made.
    NotSent,
    /// It may have been processed: it was sent, and no answer settles it (a timeout, a
    /// dropped connection, HTTP 5xx, a body that is not a message, an answer that fails its
    /// checks, `SYSTEMERROR`).
    MayHaveBeenProcessed,
    /// WeChat Pay answered with a refusal (`return_code=FAIL`, or `result_code=FAIL` with a
    /// code that does not ask for a repeat). Whether the refusal is final is the family's
    /// call ([`MovesMoney::read_code`]), and only for the first attempt that reached it.
    Refused,
    /// WeChat Pay answered success.
    Succeeded,
}

impl Fate {
    /// The fate of one attempt that ended in `result`.
    pub(crate) fn of<R>(result: &Result<R, Error>) -> Self {
        match result {
            Ok(_) => Self::Succeeded,
            Err(Error::Config(_) | Error::NoIdentity { .. } | Error::Request(_)) => Self::NotSent,
            Err(e @ Error::Transport(_)) if e.is_connect() => Self::NotSent,
            Err(Error::Business { err_code, .. }) if !err_code.is_retryable() => Self::Refused,
            Err(Error::Protocol { .. }) => Self::Refused,
            Err(_) => Self::MayHaveBeenProcessed,
        }
    }

    /// Whether WeChat Pay may have acted on the attempt.
    #[must_use]
    pub fn may_have_reached(self) -> bool {
        self != Self::NotSent
    }
}

/// Every attempt of one call (or of one settlement: its sends and resends), in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attempts(Vec<Fate>);

impl Attempts {
    /// Each attempt's fate, first to last.
    #[must_use]
    pub fn fates(&self) -> &[Fate] {
        &self.0
    }

    /// How many attempts were made.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// No attempt was made (the request could not be built, or had no certificate).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many attempts may have reached WeChat Pay.
    #[must_use]
    pub fn reached(&self) -> usize {
        self.0.iter().filter(|f| f.may_have_reached()).count()
    }

    /// Whether an attempt before the last may have reached WeChat Pay: then the last one's
    /// refusal is a refusal of a repeat, and says nothing about the first.
    #[must_use]
    pub fn earlier_may_have_reached(&self) -> bool {
        self.0
            .split_last()
            .is_some_and(|(_, earlier)| earlier.iter().any(|f| f.may_have_reached()))
    }

    pub(crate) fn push(&mut self, fate: Fate) {
        self.0.push(fate);
    }

    pub(crate) fn extend(&mut self, other: Self) {
        self.0.extend(other.0);
    }
}

impl fmt::Display for Attempts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} attempt(s), {} may have reached WeChat Pay",
            self.len(),
            self.reached()
        )
    }
}

/// A call's last result and the fate of each of its attempts, as the transport saw them.
#[derive(Debug)]
pub(crate) struct Sent<R> {
    pub(crate) result: Result<R, Error>,
    pub(crate) attempts: Attempts,
}

impl<R> Sent<R> {
    /// A call that ended before any attempt (the request could not be prepared).
    pub(crate) fn unsent(e: Error) -> Self {
        Self {
            result: Err(e),
            attempts: Attempts::default(),
        }
    }
}

/// How a money-moving family reads a refusal code on the first attempt that reached WeChat
/// Pay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodeReading {
    /// Nothing was moved: the family's documented final refusals (`NOTENOUGH`, …).
    Final,
    /// The number exists with other parameters (`FATAL_ERROR`, `OUT_TRADE_NO_USED`): taken,
    /// its state unknown.
    NumberTaken,
    /// The outcome is open (`SYSTEMERROR`, `PROCESSING`, numeric and unknown codes, …).
    Open,
}

/// A request that moves money (refunds, payment codes and their reversal, money out,
/// profit-sharing splits and returns, papay deductions). Its calls are judged over every
/// attempt ([`Client::execute_money`](crate::Client::execute_money)) and cannot be made with
/// [`Client::execute`](crate::Client::execute), which refuses to compile for an endpoint whose
/// [`Route::moves_money`](crate::Route::moves_money) is `true`.
pub trait MovesMoney: Endpoint {
    /// The merchant's number for the request (`out_refund_no`, `partner_trade_no`, …): what
    /// to query with.
    fn number(&self) -> &str;

    /// How a refusal with `code` reads when it answers the first attempt that reached WeChat
    /// Pay. Default: only configuration codes are final, `FATAL_ERROR` and
    /// `OUT_TRADE_NO_USED` take the number, everything else is open.
    fn read_code(code: &ErrCode) -> CodeReading {
        read_common(code, &[])
    }
}

/// Codes final for every family: the request is malformed or unauthorised, so nothing ran.
const CONFIGURATION: &[&str] = &[
    "PARAM_ERROR",
    "LACK_PARAMS",
    "SIGN_ERROR",
    "SIGNERROR",
    "XML_ERROR",
    "XML_FORMAT_ERROR",
    "CA_ERROR",
    "NO_AUTH",
    "NOAUTH",
    "APPID_NOT_EXIST",
    "MCHID_NOT_EXIST",
    "APPID_MCHID_NOT_MATCH",
];

/// `code` read with the configuration codes and `own` as final, and the two "number taken"
/// codes as such.
pub(crate) fn read_common(code: &ErrCode, own: &[&str]) -> CodeReading {
    let c = code.as_str();
    if c == "FATAL_ERROR" || c == "OUT_TRADE_NO_USED" {
        CodeReading::NumberTaken
    } else if CONFIGURATION.contains(&c) || own.contains(&c) {
        CodeReading::Final
    } else {
        CodeReading::Open
    }
}

/// What a money-moving call did, unless nothing was moved for certain ([`Refused`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome<T> {
    /// WeChat Pay says it is done: refunded, charged, paid, sent, split, accepted (where the
    /// family's result comes later, query it).
    Done(T),
    /// The number exists with other parameters: it is taken and its state is unknown. Query
    /// it; never switch to a new number for the same payment.
    NumberTaken(OutcomeUnknown),
    /// The outcome is open: WeChat Pay may have acted. Query with the number, or repeat the
    /// identical request; never pay again under a new number.
    Unknown(OutcomeUnknown),
}

impl<T> Outcome<T> {
    /// The answer, when done.
    pub fn done(self) -> Option<T> {
        match self {
            Self::Done(t) => Some(t),
            Self::NumberTaken(_) | Self::Unknown(_) => None,
        }
    }

    /// The open outcome, when not done.
    pub fn open(&self) -> Option<&OutcomeUnknown> {
        match self {
            Self::Done(_) => None,
            Self::NumberTaken(u) | Self::Unknown(u) => Some(u),
        }
    }
}

/// A money-moving request whose outcome is open.
#[derive(Debug)]
pub struct OutcomeUnknown {
    number: String,
    cause: Error,
    attempts: Attempts,
}

impl OutcomeUnknown {
    pub(crate) fn new(number: impl Into<String>, cause: Error, attempts: Attempts) -> Self {
        Self {
            number: number.into(),
            cause,
            attempts,
        }
    }

    /// The number to query with.
    #[must_use]
    pub fn number(&self) -> &str {
        &self.number
    }

    /// What the last attempt ended in.
    #[must_use]
    pub fn cause(&self) -> &Error {
        &self.cause
    }

    /// Every attempt's fate.
    #[must_use]
    pub fn attempts(&self) -> &Attempts {
        &self.attempts
    }
}

impl fmt::Display for OutcomeUnknown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the outcome of {} is unknown ({}): query with this number, never pay again under a new one",
            self.number, self.attempts
        )
    }
}

impl std::error::Error for OutcomeUnknown {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.cause)
    }
}

/// Why a money-moving call moved nothing, for certain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefusedBecause {
    /// No attempt reached WeChat Pay (a bad argument, no certificate, no connection).
    NotSent,
    /// The only attempt that reached WeChat Pay was refused with a final code.
    Final,
}

/// A money-moving call that moved nothing, for certain: the number may be used again for
/// the same payment, or the payment retried under a new one. Only the judgement over every
/// attempt makes one.
#[derive(Debug)]
pub struct Refused {
    because: RefusedBecause,
    cause: Error,
    attempts: Attempts,
}

impl Refused {
    /// A call that failed before anything was sent.
    pub(crate) fn not_sent(cause: Error) -> Self {
        Self {
            because: RefusedBecause::NotSent,
            cause,
            attempts: Attempts::default(),
        }
    }

    /// Why nothing was moved.
    #[must_use]
    pub fn because(&self) -> RefusedBecause {
        self.because
    }

    /// The error of the refusing (or unsendable) attempt.
    #[must_use]
    pub fn cause(&self) -> &Error {
        &self.cause
    }

    /// The final refusal's code.
    #[must_use]
    pub fn err_code(&self) -> Option<&ErrCode> {
        self.cause.err_code()
    }

    /// Every attempt's fate: none of them, or only the refused one, reached WeChat Pay.
    #[must_use]
    pub fn attempts(&self) -> &Attempts {
        &self.attempts
    }

    /// The error, for code that handles every failure alike.
    #[must_use]
    pub fn into_cause(self) -> Error {
        self.cause
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.because {
            RefusedBecause::NotSent => f.write_str("nothing was sent"),
            RefusedBecause::Final => f.write_str("refused for good; nothing was moved"),
        }
    }
}

impl std::error::Error for Refused {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.cause)
    }
}

/// The outcome of a money-moving call over all of its attempts, by `read` (the family's
/// reading of a first refusal).
pub(crate) fn judge<T>(
    number: &str,
    sent: Sent<T>,
    read: impl Fn(&ErrCode) -> CodeReading,
) -> Result<Outcome<T>, Refused> {
    let Sent { result, attempts } = sent;
    let e = match result {
        Ok(t) => return Ok(Outcome::Done(t)),
        Err(e) => e,
    };
    let unknown = |e, attempts| Ok(Outcome::Unknown(OutcomeUnknown::new(number, e, attempts)));
    if attempts.earlier_may_have_reached() {
        return unknown(e, attempts);
    }
    let last = attempts.fates().last().copied().unwrap_or(Fate::NotSent);
    match (last, &e) {
        (Fate::NotSent, _) => Err(Refused {
            because: RefusedBecause::NotSent,
            cause: e,
            attempts,
        }),
        (Fate::Refused, Error::Business { err_code, .. }) => match read(err_code) {
            CodeReading::Final => Err(Refused {
                because: RefusedBecause::Final,
                cause: e,
                attempts,
            }),
            CodeReading::NumberTaken => Ok(Outcome::NumberTaken(OutcomeUnknown::new(
                number, e, attempts,
            ))),
            CodeReading::Open => unknown(e, attempts),
        },
        // `return_code=FAIL` is open: red packets answer numeric codes that way.
        _ => unknown(e, attempts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::business;

    fn not_xml() -> Error {
        Error::NotXml {
            reason: "cut".into(),
            excerpt: String::new(),
        }
    }

    fn sent(fates: &[Fate], last: Error) -> Sent<()> {
        Sent {
            result: Err(last),
            attempts: Attempts(fates.to_vec()),
        }
    }

    fn read(code: &ErrCode) -> CodeReading {
        read_common(code, &["NOTENOUGH", "FREQ_LIMIT"])
    }

    #[test]
    fn a_final_code_is_final_only_on_the_first_attempt_that_reached() {
        use Fate::*;
        let r = judge("T1", sent(&[Refused], business("NOTENOUGH")), read);
        assert!(matches!(r, Err(ref x) if x.because() == RefusedBecause::Final));
        let r = judge("T1", sent(&[NotSent, Refused], business("NOTENOUGH")), read);
        assert!(matches!(r, Err(ref x) if x.because() == RefusedBecause::Final));
        for earlier in [MayHaveBeenProcessed, Refused] {
            let r = judge(
                "T1",
                sent(&[earlier, Refused], business("FREQ_LIMIT")),
                read,
            );
            let Ok(Outcome::Unknown(u)) = r else {
                panic!("{earlier:?} then a refusal must be open")
            };
            assert_eq!(u.number(), "T1");
            assert_eq!(u.attempts().reached(), 2);
        }
    }

    #[test]
    fn a_refused_connection_after_an_open_attempt_is_open() {
        use Fate::*;
        // The cause of a NotSent attempt is a connect error; any error stands in for it here.
        let r = judge(
            "T1",
            sent(&[MayHaveBeenProcessed, NotSent], not_xml()),
            read,
        );
        assert!(matches!(r, Ok(Outcome::Unknown(_))));
        let r = judge("T1", sent(&[NotSent, NotSent], not_xml()), read);
        assert!(matches!(r, Err(ref x) if x.because() == RefusedBecause::NotSent));
        let r = judge("T1", Sent::<()>::unsent(not_xml()), read);
        assert!(matches!(r, Err(ref x) if x.attempts().is_empty()));
    }

    #[test]
    fn a_taken_number_and_open_codes() {
        use Fate::*;
        let r = judge("T1", sent(&[Refused], business("FATAL_ERROR")), read);
        assert!(matches!(r, Ok(Outcome::NumberTaken(_))));
        for code in ["SYSTEMERROR", "268458547", "SOMETHING_NEW", "SEND_FAILED"] {
            let r = judge("T1", sent(&[Refused], business(code)), read);
            assert!(matches!(r, Ok(Outcome::Unknown(_))), "{code}");
        }
        let r = judge(
            "T1",
            sent(
                &[Refused],
                Error::Protocol {
                    return_msg: "x".into(),
                },
            ),
            read,
        );
        assert!(matches!(r, Ok(Outcome::Unknown(_))));
        let ok = Sent {
            result: Ok(7),
            attempts: Attempts(vec![MayHaveBeenProcessed, Succeeded]),
        };
        assert!(matches!(judge("T1", ok, read), Ok(Outcome::Done(7))));
    }

    #[test]
    fn each_attempt_has_its_fate() {
        assert_eq!(
            Fate::of::<()>(&Err(business("SYSTEMERROR"))),
            Fate::MayHaveBeenProcessed
        );
        assert_eq!(Fate::of::<()>(&Err(business("NOTENOUGH"))), Fate::Refused);
        assert_eq!(Fate::of::<()>(&Err(not_xml())), Fate::MayHaveBeenProcessed);
        assert_eq!(
            Fate::of::<()>(&Err(Error::Http {
                status: 502,
                excerpt: String::new()
            })),
            Fate::MayHaveBeenProcessed
        );
        assert_eq!(
            Fate::of::<()>(&Err(Error::TooLarge { limit: 1 })),
            Fate::MayHaveBeenProcessed
        );
        assert_eq!(Fate::of(&Ok(())), Fate::Succeeded);
    }
}
