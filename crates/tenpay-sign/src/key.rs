use core::fmt;
use core::str::FromStr;

use hmac::{Hmac, KeyInit};
use sha2::Sha256;

use crate::Error;

/// The merchant's API key (the `key` set on the merchant platform).
///
/// Any non-empty key is accepted: the platform issues 32 characters, but sandbox keys and
/// long HMAC keys must work too. The key never appears in `Debug` output and has no `Display`.
/// The HMAC-SHA256 key schedule is computed once, when the key is made.
///
/// ```
/// use tenpay_sign::ApiKey;
/// let key = ApiKey::new("192006250b4c09247ec02edce69f6a2d")?;
/// assert_eq!(format!("{key:?}"), "ApiKey(** redacted **)");
/// assert!(ApiKey::new("").is_err());
/// # Ok::<(), tenpay_sign::Error>(())
/// ```
#[derive(Clone)]
pub struct ApiKey {
    secret: Box<str>,
    pub(crate) hmac: Hmac<Sha256>,
}

impl ApiKey {
    /// Makes a key from its text.
    ///
    /// # Errors
    /// [`Error::EmptyKey`] when the key is empty.
    pub fn new(key: impl Into<String>) -> Result<Self, Error> {
        let secret: Box<str> = key.into().into_boxed_str();
        if secret.is_empty() {
            return Err(Error::EmptyKey);
        }
        // HMAC accepts keys of any length (long keys are hashed first), so this cannot fail;
        // the error arm is kept rather than unwrapped.
        let hmac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
            .map_err(|_| Error::EmptyKey)?;
        Ok(Self { secret, hmac })
    }

    /// The key's text, for the few places that need it (deriving the refund-notification
    /// decryption key). Never log it.
    #[must_use]
    pub fn expose_secret(&self) -> &str {
        &self.secret
    }

    /// The length of the key in characters; the platform issues 32-character keys.
    #[must_use]
    pub fn len(&self) -> usize {
        self.secret.chars().count()
    }

    /// Always false: an empty key cannot be made. Present for API symmetry with `len`.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.secret.is_empty()
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(** redacted **)")
    }
}

impl FromStr for ApiKey {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<&str> for ApiKey {
    type Error = Error;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl TryFrom<String> for ApiKey {
    type Error = Error;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}
