//! Signing for WeChat Pay's merchant API V2: the canonical string, MD5 and HMAC-SHA256,
//! and constant-time verification.
//!
//! This crate is pure: no I/O, no XML, no async, no clock and no randomness. Nonces and
//! timestamps are inputs, never made here. It serves HTTP clients, notification handlers,
//! batch jobs and mobile back ends building client pay parameters alike.
//!
//! # The rule
//! Take every parameter of the message, drop `sign` and every empty value, sort by name
//! (byte order), join `name=value` with `&` over the raw UTF-8 values (no URL-encoding, no
//! trimming), append `&key=API_KEY`, then hash: MD5, or HMAC-SHA256 keyed with the API key.
//! The result is upper-case hex.
//!
//! ```
//! use tenpay_sign::{ApiKey, SignType};
//!
//! let key = ApiKey::new("192006250b4c09247ec02edce69f6a2d")?;
//! let params = [
//!     ("appid", "wxd930ea5d5a258f4f"),
//!     ("mch_id", "10000100"),
//!     ("device_info", "1000"),
//!     ("body", "test"),
//!     ("nonce_str", "ibuaiVcKdpRxkhJA"),
//! ];
//! let md5 = tenpay_sign::sign(params, &key, SignType::Md5)?;
//! assert_eq!(md5.as_str(), "9A0A8659F005D6984697E2CA0A9CF3B7");
//!
//! let hmac = tenpay_sign::sign(params, &key, SignType::HmacSha256)?;
//! assert_eq!(hmac.as_str(), "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6");
//!
//! // Verification is constant-time and tells a malformed signature from a wrong one.
//! tenpay_sign::verify(params, &key, SignType::Md5, "9A0A8659F005D6984697E2CA0A9CF3B7")?;
//! let wrong = tenpay_sign::verify(params, &key, SignType::Md5, "0A0A8659F005D6984697E2CA0A9CF3B7");
//! assert_eq!(wrong, Err(tenpay_sign::Error::Mismatch));
//! # Ok::<(), tenpay_sign::Error>(())
//! ```
//!
//! # Security
//! MD5 with an appended key is weak by modern standards; it is what the protocol defines (and
//! the only algorithm the sandbox takes). Pin the algorithm your merchant account uses rather
//! than taking it from a received message: [`SignType::infer_from_signature_len`] exists only
//! for merchants that deliberately accept both.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

mod canonical;
mod error;
mod key;
mod sign_type;
mod signature;

pub use canonical::Canonical;
pub use error::{Error, Malformed};
pub use key::ApiKey;
pub use sign_type::SignType;
pub use signature::Signature;

/// Signs a message given as name/value pairs in any order.
///
/// Shorthand for [`Canonical::new`] followed by [`Canonical::sign`].
///
/// # Errors
/// [`Error::DuplicateField`] or [`Error::InvalidFieldName`] when the pairs do not form a message.
pub fn sign<I, K, V>(pairs: I, key: &ApiKey, sign_type: SignType) -> Result<Signature, Error>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    Ok(Canonical::new(pairs)?.sign(key, sign_type))
}

/// Verifies a received signature over a message given as name/value pairs in any order
/// (the `sign` pair itself, if among them, is ignored).
///
/// # Errors
/// [`Error::MalformedSignature`] when `received` is not a well-formed signature of `sign_type`,
/// [`Error::Mismatch`] when it is well formed but wrong, and the errors of [`Canonical::new`].
pub fn verify<I, K, V>(
    pairs: I,
    key: &ApiKey,
    sign_type: SignType,
    received: &str,
) -> Result<(), Error>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    Canonical::new(pairs)?.verify(key, sign_type, received)
}
