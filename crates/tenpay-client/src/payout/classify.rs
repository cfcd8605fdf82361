//! Which failures of a money-out send leave the outcome open.

use core::fmt;

use crate::Error;

/// What a money-out send did.
#[derive(Debug)]
#[non_exhaustive]
pub enum Payout<T> {
    /// WeChat Pay says it is done: the transfer paid, the packet sent, the bank payment
    /// accepted (its result comes later: query it).
    Done(T),
    /// The outcome is open: WeChat Pay may have paid. Query with the number, or repeat the
    /// identical request ([`Client::settle_payout`](crate::Client) does both); never pay again
    /// under a new number.
    Unknown(OutcomeUnknown),
}

impl<T> Payout<T> {
    /// The answer, when done.
    pub fn done(self) -> Option<T> {
        match self {
            Self::Done(t) => Some(t),
            Self::Unknown(_) => None,
        }
    }
}

/// A money-out request whose outcome is open.
#[derive(Debug)]
pub struct OutcomeUnknown {
    number: String,
    cause: Error,
}

impl OutcomeUnknown {
    pub(crate) fn new(number: impl Into<String>, cause: Error) -> Self {
        Self {
            number: number.into(),
            cause,
        }
    }

    /// The number to query with (`partner_trade_no` or `mch_billno`).
    #[must_use]
    pub fn number(&self) -> &str {
        &self.number
    }

    /// What left it open.
    #[must_use]
    pub fn cause(&self) -> &Error {
        &self.cause
    }
}

impl fmt::Display for OutcomeUnknown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the outcome of {} is unknown ({}): query with this number, never pay again under a new one",
            self.number, self.cause
        )
    }
}

/// The three families, whose error tables differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Redpack,
    Transfer,
    Bank,
}

/// `err_code`s after which this request paid nothing for certain (WeChat Pay's tables,
/// `V2-FAMILIES.md` §1.5, §2, §3). Everything else, unknown codes included, is open.
fn is_final(family: Family, code: &str) -> bool {
    const COMMON: &[&str] = &[
        "NOTENOUGH",
        "FREQ_LIMIT",
        "NO_AUTH",
        "PARAM_ERROR",
        "SIGN_ERROR",
        "XML_ERROR",
        "CA_ERROR",
        "FATAL_ERROR",
        "MONEY_LIMIT",
        "AMOUNT_LIMIT",
        "SENDNUM_LIMIT",
        "OPENID_ERROR",
    ];
    let own: &[&str] = match family {
        // SEND_FAILED: this billno failed for good (a new packet needs a new billno).
        Family::Redpack => &[
            "SEND_FAILED",
            "RCVDAMOUNT_LIMIT",
            "SENDAMOUNT_LIMIT",
            "ILLEGAL_APPID",
            "MSGAPPID_ERROR",
            "ACCEPTMODE_ERROR",
            "API_METHOD_CLOSED",
        ],
        // Not SEND_FAILED: for transfers the doc says to query, the query decides.
        Family::Transfer => &[
            "NAME_MISMATCH",
            "V2_ACCOUNT_SIMPLE_BAN",
            "PARAM_IS_NOT_UTF8",
            "RECV_ACCOUNT_NOT_ALLOWED",
            "PAY_CHANNEL_NOT_ALLOWED",
        ],
        Family::Bank => &[],
    };
    COMMON.contains(&code) || own.contains(&code)
}

/// Whether `e` means the request paid nothing for certain: it was never sent (a bad
/// argument, no certificate, no connection), or WeChat Pay refused it with a final code.
pub(crate) fn paid_nothing(family: Family, e: &Error) -> bool {
    match e {
        Error::Config(_) | Error::NoIdentity { .. } | Error::Request(_) => true,
        Error::Transport(_) => e.is_connect(),
        Error::Business { err_code, .. } => is_final(family, err_code.as_str()),
        _ => false,
    }
}

/// A send's result as a [`Payout`], or the error when nothing was paid for certain.
pub(crate) fn classify<T>(
    family: Family,
    number: &str,
    result: Result<T, Error>,
) -> Result<Payout<T>, Error> {
    match result {
        Ok(t) => Ok(Payout::Done(t)),
        Err(e) if paid_nothing(family, &e) => Err(e),
        Err(e) => Ok(Payout::Unknown(OutcomeUnknown::new(number, e))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrCode;

    fn business(code: &str) -> Error {
        Error::Business {
            err_code: ErrCode::from(code),
            err_code_des: String::new(),
        }
    }

    #[test]
    fn only_documented_final_codes_are_errors() {
        for (family, code, open) in [
            (Family::Transfer, "SYSTEMERROR", true),
            (Family::Transfer, "SEND_FAILED", true),
            (Family::Transfer, "268458547", true),
            (Family::Transfer, "SOMETHING_NEW", true),
            (Family::Transfer, "NOTENOUGH", false),
            (Family::Transfer, "NAME_MISMATCH", false),
            (Family::Redpack, "SEND_FAILED", false),
            (Family::Redpack, "PROCESSING", true),
            (Family::Redpack, "SYSTEMERROR", true),
            (Family::Bank, "SYSTEMERROR", true),
            (Family::Bank, "NOTENOUGH", false),
        ] {
            let r = classify::<()>(family, "T1", Err(business(code)));
            assert_eq!(
                matches!(r, Ok(Payout::Unknown(_))),
                open,
                "{family:?} {code}"
            );
        }
        // Answers that are not XML, and wrong status codes, are open.
        let r = classify::<()>(
            Family::Transfer,
            "T1",
            Err(Error::NotXml {
                reason: "cut".into(),
                excerpt: String::new(),
            }),
        );
        let Ok(Payout::Unknown(u)) = r else {
            panic!("not open")
        };
        assert_eq!(u.number(), "T1");
        assert!(u.to_string().contains("never pay again"));
        assert!(matches!(
            classify(Family::Bank, "B1", Ok(7)),
            Ok(Payout::Done(7))
        ));
    }
}
