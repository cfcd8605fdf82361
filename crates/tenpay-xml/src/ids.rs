//! The merchant's own numbers, validated: what the merchant chooses and WeChat Pay checks.

use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

/// A merchant number of the wrong form: empty, too long, or a character outside
/// `0-9a-zA-Z_-|*@`.
///
/// ```
/// use tenpay_xml::{IdError, OutTradeNo};
/// let err: IdError = OutTradeNo::new("has space").unwrap_err();
/// assert_eq!(err.name(), "OutTradeNo");
/// assert_eq!(err.to_string(), r#"OutTradeNo must be 1 to 32 characters of 0-9a-zA-Z_-|*@, got "has space""#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name} must be 1 to {max} characters of 0-9a-zA-Z_-|*@, got {value:?}")]
pub struct IdError {
    name: &'static str,
    max: usize,
    value: String,
}

impl IdError {
    /// The id's type (`OutTradeNo`, `OutRefundNo`).
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Its longest allowed length.
    #[must_use]
    pub fn max_len(&self) -> usize {
        self.max
    }

    /// The refused value (its first 70 characters).
    #[must_use]
    pub fn value(&self) -> &str {
        &self.value
    }
}

fn check(name: &'static str, max: usize, s: &str) -> Result<(), IdError> {
    let ok = !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-|*@".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(IdError {
            name,
            max,
            value: s.chars().take(70).collect(),
        })
    }
}

macro_rules! merchant_no {
    ($(#[$doc:meta])* $name:ident, $max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            #[doc = concat!("The longest ", stringify!($name), " WeChat Pay accepts.")]
            pub const MAX_LEN: usize = $max;

            /// Checks and wraps the number.
            ///
            /// # Errors
            #[doc = concat!("[`IdError`] unless it is 1 to ", stringify!($max), " characters of `0-9a-zA-Z_-|*@`.")]
            pub fn new(s: impl Into<String>) -> Result<Self, IdError> {
                let s = s.into();
                check(stringify!($name), $max, &s)?;
                Ok(Self(s))
            }

            /// The number.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The number, owned.
            #[must_use]
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl FromStr for $name {
            type Err = IdError;

            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::new(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = IdError;

            fn try_from(s: &str) -> Result<Self, IdError> {
                Self::new(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;

            fn try_from(s: String) -> Result<Self, IdError> {
                Self::new(s)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::new(s.into_owned()).map_err(serde::de::Error::custom)
            }
        }
    };
}

merchant_no!(
    /// The merchant's order number (`out_trade_no`): 1 to 32 characters of `0-9a-zA-Z_-|*@`.
    ///
    /// ```
    /// use tenpay_xml::OutTradeNo;
    /// assert!(OutTradeNo::new("20150806125346").is_ok());
    /// assert!(OutTradeNo::new("has space").is_err());
    /// assert!(OutTradeNo::new("x".repeat(33)).is_err());
    /// ```
    OutTradeNo,
    32
);

merchant_no!(
    /// The merchant's refund number (`out_refund_no`): 1 to 64 characters of `0-9a-zA-Z_-|*@`.
    OutRefundNo,
    64
);
