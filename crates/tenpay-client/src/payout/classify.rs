//! Which refusals of a money-out send are final: each family's table.

use tenpay_xml::ErrCode;

use crate::outcome::{CodeReading, read_common};

/// The three families, whose error tables differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Redpack,
    Transfer,
    Bank,
}

/// How a first refusal with `code` reads for `family` (WeChat Pay's tables, `V2-FAMILIES.md`
/// §1.5, §2, §3): the configuration codes and these are final, `FATAL_ERROR` takes the
/// number, everything else (unknown codes included) is open.
pub(crate) fn read(family: Family, code: &ErrCode) -> CodeReading {
    const COMMON: &[&str] = &[
        "NOTENOUGH",
        "FREQ_LIMIT",
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
    match read_common(code, own) {
        CodeReading::Open if COMMON.contains(&code.as_str()) => CodeReading::Final,
        reading => reading,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_documented_final_codes_are_final() {
        for (family, code, reading) in [
            (Family::Transfer, "SYSTEMERROR", CodeReading::Open),
            (Family::Transfer, "SEND_FAILED", CodeReading::Open),
            (Family::Transfer, "268458547", CodeReading::Open),
            (Family::Transfer, "SOMETHING_NEW", CodeReading::Open),
            (Family::Transfer, "NOTENOUGH", CodeReading::Final),
            (Family::Transfer, "NAME_MISMATCH", CodeReading::Final),
            (Family::Transfer, "FATAL_ERROR", CodeReading::NumberTaken),
            (Family::Redpack, "SEND_FAILED", CodeReading::Final),
            (Family::Redpack, "PROCESSING", CodeReading::Open),
            (Family::Redpack, "SYSTEMERROR", CodeReading::Open),
            (Family::Redpack, "FATAL_ERROR", CodeReading::NumberTaken),
            (Family::Bank, "SYSTEMERROR", CodeReading::Open),
            (Family::Bank, "NOTENOUGH", CodeReading::Final),
            (Family::Bank, "PARAM_ERROR", CodeReading::Final),
        ] {
            assert_eq!(
                read(family, &ErrCode::from(code)),
                reading,
                "{family:?} {code}"
            );
        }
    }
}
