use tenpay_sign::{ApiKey, Canonical, SignType};

use crate::error::Error;
use crate::map::XmlMap;

impl XmlMap {
    /// Signs every field but `sign` and sets `sign` (replacing any previous one).
    ///
    /// Put `sign_type` in the map first when the request uses HMAC-SHA256: it is signed like
    /// any other field.
    ///
    /// # Errors
    /// None in practice (names in a map are unique and valid); the signer's errors are passed on.
    pub fn sign(&mut self, key: &ApiKey, sign_type: SignType) -> Result<(), Error> {
        let signature = Canonical::new(self.iter())?.sign(key, sign_type);
        self.insert("sign", signature.as_str())
    }

    /// Verifies the `sign` field over all other fields, unknown ones included, with the given
    /// algorithm (pin it; do not take it from the message).
    ///
    /// # Errors
    /// [`Error::MissingSignature`] when `sign` is absent or empty; [`Error::Sign`] with
    /// [`tenpay_sign::Error::MalformedSignature`] or [`tenpay_sign::Error::Mismatch`].
    pub fn verify(&self, key: &ApiKey, sign_type: SignType) -> Result<(), Error> {
        let received = self
            .get("sign")
            .filter(|s| !s.is_empty())
            .ok_or(Error::MissingSignature)?;
        Canonical::new(self.iter())?.verify(key, sign_type, received)?;
        Ok(())
    }

    /// The canonical string of this message with the key redacted, for diagnosing `SIGNERROR`.
    #[must_use]
    pub fn canonical_string(&self) -> String {
        Canonical::new(self.iter())
            .map(|c| c.to_string())
            .unwrap_or_default()
    }

    /// Reads a `<xml>` message with the default limits ([`crate::Parser`] for others).
    ///
    /// # Errors
    /// See [`crate::Parser::parse`].
    pub fn parse(input: &[u8]) -> Result<Self, Error> {
        crate::Parser::new().parse(input)
    }
}
