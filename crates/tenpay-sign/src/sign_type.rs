use core::fmt;
use core::str::FromStr;

use crate::Error;
use crate::error::quote;

/// The signature algorithm, chosen per request with the `sign_type` field.
///
/// Parsing accepts exactly `MD5` and `HMAC-SHA256`; anything else is an error, never a default.
///
/// ```
/// use tenpay_sign::SignType;
/// assert_eq!("HMAC-SHA256".parse::<SignType>().unwrap(), SignType::HmacSha256);
/// assert!("md5".parse::<SignType>().is_err());
/// assert_eq!(SignType::Md5.as_str(), "MD5");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignType {
    /// `MD5`: upper-case hex MD5 of the canonical string with `&key=` appended (32 characters).
    ///
    /// # Security
    /// MD5 is what the protocol defines and what the sandbox requires; prefer
    /// [`SignType::HmacSha256`] for production where the endpoint allows it.
    Md5,
    /// `HMAC-SHA256`: upper-case hex HMAC-SHA256 keyed with the API key (64 characters).
    HmacSha256,
}

impl SignType {
    /// The wire spelling: `MD5` or `HMAC-SHA256`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::HmacSha256 => "HMAC-SHA256",
        }
    }

    /// The number of hex characters a signature of this type has (32 or 64).
    #[must_use]
    pub const fn hex_len(self) -> usize {
        match self {
            Self::Md5 => 32,
            Self::HmacSha256 => 64,
        }
    }

    /// Guesses the algorithm from a signature's length: 32 characters is MD5, 64 is HMAC-SHA256.
    ///
    /// This is an explicit opt-in for merchants who use both algorithms. Prefer pinning the
    /// algorithm you configured: a verifier that lets the message choose accepts MD5 even from a
    /// merchant that moved to HMAC-SHA256.
    ///
    /// ```
    /// use tenpay_sign::SignType;
    /// assert_eq!(SignType::infer_from_signature_len("9A0A8659F005D6984697E2CA0A9CF3B7"), Some(SignType::Md5));
    /// assert_eq!(SignType::infer_from_signature_len("abc"), None);
    /// ```
    #[must_use]
    pub fn infer_from_signature_len(signature: &str) -> Option<Self> {
        match signature.len() {
            32 => Some(Self::Md5),
            64 => Some(Self::HmacSha256),
            _ => None,
        }
    }
}

impl fmt::Display for SignType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SignType {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "MD5" => Ok(Self::Md5),
            "HMAC-SHA256" => Ok(Self::HmacSha256),
            other => Err(Error::UnknownSignType(quote(other))),
        }
    }
}

impl TryFrom<&str> for SignType {
    type Error = Error;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        s.parse()
    }
}
