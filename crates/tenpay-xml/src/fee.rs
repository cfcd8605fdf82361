//! [`Fee`]: a fee at the bill's precision, five decimals of a yuan.

use std::fmt;

use crate::error::{Error, quote};

/// A fee as bills write it: signed, exact, in hundred-thousandths of a yuan (0.00001 CNY).
///
/// Modern trade bills write 手续费 and 手续费总金额 with five decimals (`0.05940`), negative on
/// refund rows where the fee is returned (`-0.02000`); older ones write `0` or two decimals.
/// A fee is not an amount in fen, so it has its own type (never a float).
///
/// ```
/// use tenpay_xml::Fee;
/// let fee = Fee::from_yuan("0.05940")?;
/// assert_eq!(fee.get(), 5940);
/// assert_eq!(Fee::from_yuan("-0.02")?.to_yuan(), "-0.02000");
/// assert_eq!(fee.checked_add(Fee::from_yuan("-0.0594")?), Some(Fee::new(0)));
/// assert!(Fee::from_yuan("0.000001").is_err());
/// # Ok::<(), tenpay_xml::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Fee(i64);

/// Hundred-thousandths of a yuan in one yuan.
const PER_YUAN: i64 = 100_000;

impl Fee {
    /// A fee of `hundred_thousandths` of a yuan.
    #[must_use]
    pub const fn new(hundred_thousandths: i64) -> Self {
        Self(hundred_thousandths)
    }

    /// The fee in hundred-thousandths of a yuan.
    #[must_use]
    pub const fn get(self) -> i64 {
        self.0
    }

    /// Reads a fee as bills write it: an optional `-`, digits, and at most five decimals
    /// (`0`, `6.00`, `0.05940`, `-0.02000`).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for anything else, or out of range.
    pub fn from_yuan(s: &str) -> Result<Self, Error> {
        let bad = |reason: &str| Error::InvalidValue {
            field: String::new(),
            reason: format!("{reason}: {:?}", quote(s)),
        };
        let (negative, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || !all_digits(whole)
            || !all_digits(frac)
            || frac.len() > 5
            || digits.ends_with('.')
        {
            return Err(bad("not a fee in yuan with at most five decimals"));
        }
        let whole: i64 = whole.parse().map_err(|_| bad("out of range"))?;
        let mut units = 0i64;
        for (i, d) in frac.bytes().enumerate() {
            units += i64::from(d - b'0') * 10i64.pow(4 - u32::try_from(i).unwrap_or(4));
        }
        let value = whole
            .checked_mul(PER_YUAN)
            .and_then(|w| w.checked_add(units))
            .ok_or_else(|| bad("out of range"))?;
        Ok(Self(if negative { -value } else { value }))
    }

    /// The fee in yuan with five decimals, as modern bills write it.
    #[must_use]
    pub fn to_yuan(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let per = PER_YUAN.unsigned_abs();
        format!("{sign}{}.{:05}", abs / per, abs % per)
    }

    /// `self + other`, `None` on overflow.
    #[must_use]
    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Self)
    }
}

impl fmt::Display for Fee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_yuan())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::Fee;

    #[test]
    fn every_layout_of_a_fee_reads_exactly() {
        for (text, units) in [
            ("0", 0),
            ("0.00", 0),
            ("6.00", 600_000),
            ("0.05940", 5940),
            ("0.0594", 5940),
            ("-0.02000", -2000),
            ("-0.00001", -1),
            ("12345.67891", 1_234_567_891),
        ] {
            assert_eq!(Fee::from_yuan(text).unwrap().get(), units, "{text}");
        }
        for bad in [
            "",
            "-",
            ".5",
            "1.",
            "1.000001",
            "+1",
            "1e3",
            " 1",
            "1,00",
            "--1",
            "0x1",
            "99999999999999999999",
        ] {
            assert!(Fee::from_yuan(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn fees_print_with_five_decimals_and_their_sign() {
        assert_eq!(Fee::new(5940).to_yuan(), "0.05940");
        assert_eq!(Fee::new(-2000).to_yuan(), "-0.02000");
        assert_eq!(Fee::new(i64::MIN).to_yuan(), "-92233720368547.75808");
        assert_eq!(
            Fee::from_yuan(&Fee::new(-123_456).to_string()).unwrap(),
            Fee::new(-123_456)
        );
        assert_eq!(Fee::new(i64::MAX).checked_add(Fee::new(1)), None);
    }
}
