//! Amounts in fen, and the strict decimal reading every integer field shares.

use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, quote};

/// Why a value is not a strict decimal integer (the value quoted, cut to a readable length).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DecimalError {
    #[error("expected an integer, got an empty value")]
    Empty,
    #[error("expected decimal digits only, got {0:?}")]
    NotDigits(String),
    #[error("leading zero in {0:?}")]
    LeadingZero(String),
    #[error("{0:?} is out of range")]
    OutOfRange(String),
}

impl DecimalError {
    /// As the wire error every caller reports (`field` empty when not known).
    pub(crate) fn for_field(self, field: String) -> Error {
        Error::InvalidValue {
            field,
            reason: self.to_string(),
        }
    }
}

/// Parses a non-negative decimal integer strictly: ASCII digits only, no sign, no leading
/// zeros (but `0` itself), no spaces, no overflow.
pub(crate) fn parse_decimal<T: TryFrom<u64>>(s: &str) -> Result<T, DecimalError> {
    let bytes = s.as_bytes();
    if bytes.is_empty() {
        return Err(DecimalError::Empty);
    }
    if !bytes.iter().all(u8::is_ascii_digit) {
        return Err(DecimalError::NotDigits(quote(s)));
    }
    if bytes.len() > 1 && bytes[0] == b'0' {
        return Err(DecimalError::LeadingZero(quote(s)));
    }
    let mut n: u64 = 0;
    for &d in bytes {
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(d - b'0')))
            .ok_or_else(|| DecimalError::OutOfRange(quote(s)))?;
    }
    T::try_from(n).map_err(|_| DecimalError::OutOfRange(quote(s)))
}

/// An amount in fen (0.01 CNY, or the minor unit of `fee_type`): what every `*_fee` field holds.
///
/// Read strictly from its decimal form: `"1.0"`, `"-1"`, `"+1"`, `" 1"`, `"01"`, an empty value and
/// anything over `u64::MAX` are errors. Bills carry yuan strings instead; see [`Fen::from_yuan`].
///
/// ```
/// use tenpay_xml::Fen;
/// assert_eq!("888".parse::<Fen>()?.get(), 888);
/// assert!("8.88".parse::<Fen>().is_err());
/// assert_eq!(Fen::from_yuan("8.88")?, Fen::new(888));
/// assert_eq!(Fen::new(5).to_yuan(), "0.05");
/// # Ok::<(), tenpay_xml::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Fen(u64);

impl Fen {
    /// An amount of `fen` fen.
    #[must_use]
    pub const fn new(fen: u64) -> Self {
        Self(fen)
    }

    /// The amount in fen.
    #[must_use]
    pub const fn get(self) -> u64 {
        self.0
    }

    /// No amount.
    pub const ZERO: Self = Self(0);

    /// The sum, or `None` when it would overflow.
    ///
    /// ```
    /// use tenpay_xml::Fen;
    /// assert_eq!(Fen::new(1).checked_add(Fen::new(2)), Some(Fen::new(3)));
    /// assert_eq!(Fen::new(u64::MAX).checked_add(Fen::new(1)), None);
    /// ```
    #[must_use]
    pub const fn checked_add(self, other: Self) -> Option<Self> {
        match self.0.checked_add(other.0) {
            Some(n) => Some(Self(n)),
            None => None,
        }
    }

    /// The difference, or `None` when `other` is larger.
    ///
    /// ```
    /// use tenpay_xml::Fen;
    /// assert_eq!(Fen::new(3).checked_sub(Fen::new(2)), Some(Fen::new(1)));
    /// assert_eq!(Fen::new(1).checked_sub(Fen::new(2)), None);
    /// ```
    #[must_use]
    pub const fn checked_sub(self, other: Self) -> Option<Self> {
        match self.0.checked_sub(other.0) {
            Some(n) => Some(Self(n)),
            None => None,
        }
    }

    /// Whether the amount is zero.
    #[must_use]
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Reads a yuan amount as bills write it: `8.88`, `0.01`, `8.8`, `8` (at most two decimals,
    /// no sign).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for anything else.
    pub fn from_yuan(s: &str) -> Result<Self, Error> {
        let bad = |reason: &str| Error::InvalidValue {
            field: String::new(),
            reason: format!("{reason}: {:?}", quote(s)),
        };
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        if s.ends_with('.') || frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("not a yuan amount with at most two decimals"));
        }
        let whole: u64 = parse_decimal(whole).map_err(|_| bad("not a yuan amount"))?;
        let mut frac_fen = 0u64;
        for (i, d) in frac.bytes().enumerate() {
            frac_fen += u64::from(d - b'0') * if i == 0 { 10 } else { 1 };
        }
        whole
            .checked_mul(100)
            .and_then(|f| f.checked_add(frac_fen))
            .map(Self)
            .ok_or_else(|| bad("out of range"))
    }

    /// The amount in yuan with two decimals, as bills write it.
    #[must_use]
    pub fn to_yuan(self) -> String {
        format!("{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for Fen {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        parse_decimal(s)
            .map(Self)
            .map_err(|e| e.for_field(String::new()))
    }
}

impl From<Fen> for u64 {
    fn from(f: Fen) -> Self {
        f.0
    }
}

/// `Serialize` / `Deserialize` through `Display` / `FromStr`.
macro_rules! string_serde {
    ($name:ty) => {
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use string_serde;

string_serde!(Fen);
