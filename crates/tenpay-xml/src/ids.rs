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
#[error("{name} must be 1 to {max} characters of {charset}, got {value:?}")]
pub struct IdError {
    name: &'static str,
    max: usize,
    charset: &'static str,
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

/// The characters of the pay family's numbers.
const PAY_CHARSET: &str = "0-9a-zA-Z_-|*@";
/// The money-out family's numbers: letters and digits only.
const ALNUM: &str = "0-9a-zA-Z";

fn check(name: &'static str, max: usize, charset: &'static str, s: &str) -> Result<(), IdError> {
    let extra: &[u8] = if charset == PAY_CHARSET {
        b"_-|*@"
    } else {
        b""
    };
    let ok = !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || extra.contains(&b));
    if ok {
        Ok(())
    } else {
        Err(IdError {
            name,
            max,
            charset,
            value: s.chars().take(70).collect(),
        })
    }
}

macro_rules! merchant_no {
    ($(#[$doc:meta])* $name:ident, $max:literal) => {
        merchant_no!($(#[$doc])* $name, $max, PAY_CHARSET);
    };
    ($(#[$doc:meta])* $name:ident, $max:literal, $charset:ident) => {
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
            #[doc = concat!("[`IdError`] unless it is 1 to ", stringify!($max), " characters of the allowed set (see the type).")]
            pub fn new(s: impl Into<String>) -> Result<Self, IdError> {
                let s = s.into();
                check(stringify!($name), $max, $charset, &s)?;
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

merchant_no!(
    /// A transfer's or bank payment's number (`partner_trade_no`): 1 to 32 letters and digits,
    /// unique for ever. A repeat under the same number is the same payment.
    ///
    /// ```
    /// use tenpay_xml::PartnerTradeNo;
    /// assert!(PartnerTradeNo::new("T20261201000001").is_ok());
    /// assert!(PartnerTradeNo::new("T-1").is_err());
    /// ```
    PartnerTradeNo,
    32,
    ALNUM
);

merchant_no!(
    /// A red packet's number (`mch_billno`): 1 to 28 letters and digits (WeChat Pay
    /// recommends mch_id + yyyyMMdd + 10 digits). A repeat under the same number is the same
    /// packet.
    ///
    /// ```
    /// use tenpay_xml::MchBillno;
    /// assert!(MchBillno::new("10000098201411111234567890").is_ok());
    /// assert!(MchBillno::new("x".repeat(29)).is_err());
    /// ```
    MchBillno,
    28,
    ALNUM
);

merchant_no!(
    /// A product's number in Native payment mode 1 (`product_id`): 1 to 32 characters of
    /// `0-9a-zA-Z_-|*@`. The QR code names it; the scan callback brings it back, and the
    /// merchant prices the order from it.
    ///
    /// ```
    /// use tenpay_xml::ProductId;
    /// assert!(ProductId::new("coffee-large").is_ok());
    /// assert!(ProductId::new("a&b=c").is_err());
    /// ```
    ProductId,
    32
);
