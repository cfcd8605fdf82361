#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

mod canonical;
mod error;
mod key;
mod merchant;
mod sign_type;
mod signature;

pub use canonical::Canonical;
pub use error::{Error, Malformed};
pub use key::ApiKey;
pub use merchant::Merchant;
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
