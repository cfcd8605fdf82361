//! Validated identifiers.

use core::fmt;
use core::str::FromStr;

use serde::Serialize;

use crate::Error;

macro_rules! trade_no {
    ($(#[$doc:meta])* $name:ident, $max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Checks and wraps the number.
            ///
            /// # Errors
            #[doc = concat!("[`Error::Config`] ([`ConfigError::Id`](crate::ConfigError::Id)) unless it is 1 to ", stringify!($max), " characters of `0-9a-zA-Z_-|*@`.")]
            pub fn new(s: impl Into<String>) -> Result<Self, Error> {
                let s = s.into();
                if s.is_empty() || s.len() > $max || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-|*@".contains(&b)) {
                    return Err(Error::Config(crate::ConfigError::Id {
                        name: stringify!($name),
                        max: $max,
                        value: s.chars().take(70).collect(),
                    }));
                }
                Ok(Self(s))
            }

            /// The number.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = Error;

            fn from_str(s: &str) -> Result<Self, Error> {
                Self::new(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = Error;

            fn try_from(s: &str) -> Result<Self, Error> {
                Self::new(s)
            }
        }
    };
}

trade_no!(
    /// The merchant's order number: 1 to 32 characters of `0-9a-zA-Z_-|*@`.
    ///
    /// ```
    /// use tenpay_client::OutTradeNo;
    /// assert!(OutTradeNo::new("20150806125346").is_ok());
    /// assert!(OutTradeNo::new("has space").is_err());
    /// assert!(OutTradeNo::new("x".repeat(33)).is_err());
    /// ```
    OutTradeNo,
    32
);

trade_no!(
    /// The merchant's refund number: 1 to 64 characters of `0-9a-zA-Z_-|*@`.
    OutRefundNo,
    64
);
