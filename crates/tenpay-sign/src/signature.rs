use core::fmt;

use subtle::ConstantTimeEq;

use crate::SignType;
use crate::error::{Error, Malformed};

/// A signature: upper-case hex of the length its algorithm produces.
///
/// Made by signing ([`crate::Canonical::sign`]) or by parsing received text with
/// [`Signature::parse`], which checks the characters and the length for the algorithm.
/// Equality is constant-time over the bytes (and also compares the algorithm).
///
/// ```
/// use tenpay_sign::{Signature, SignType};
/// let sig = Signature::parse("9A0A8659F005D6984697E2CA0A9CF3B7", SignType::Md5)?;
/// assert_eq!(sig.as_str(), "9A0A8659F005D6984697E2CA0A9CF3B7");
/// assert!(Signature::parse("9a0a8659f005d6984697e2ca0a9cf3b7", SignType::Md5).is_err());
/// # Ok::<(), tenpay_sign::Error>(())
/// ```
#[derive(Clone)]
pub struct Signature {
    sign_type: SignType,
    hex: [u8; 64],
}

impl Signature {
    pub(crate) fn from_digest(sign_type: SignType, digest: &[u8]) -> Self {
        let mut hex = [0u8; 64];
        let len = (digest.len() * 2).min(hex.len());
        // Digests are 16 or 32 bytes, so the slice always has the exact length `hex` needs.
        if hex::encode_to_slice(&digest[..len / 2], &mut hex[..len]).is_ok() {
            hex[..len].make_ascii_uppercase();
        }
        Self { sign_type, hex }
    }

    /// Parses a received signature for the given algorithm.
    ///
    /// # Errors
    /// [`Error::MalformedSignature`] when the text is empty, has the wrong length for the
    /// algorithm, is lower-case hex, or has a character that is not a hex digit.
    pub fn parse(text: &str, sign_type: SignType) -> Result<Self, Error> {
        let malformed = |reason| Error::MalformedSignature { sign_type, reason };
        let bytes = text.as_bytes();
        if bytes.is_empty() {
            return Err(malformed(Malformed::Empty));
        }
        if bytes.len() != sign_type.hex_len() {
            return Err(malformed(Malformed::WrongLength {
                expected: sign_type.hex_len(),
                actual: text.chars().count(),
            }));
        }
        let mut lower = false;
        for &b in bytes {
            match b {
                b'0'..=b'9' | b'A'..=b'F' => {}
                b'a'..=b'f' => lower = true,
                _ => return Err(malformed(Malformed::NotHex)),
            }
        }
        if lower {
            return Err(malformed(Malformed::LowerCase));
        }
        let mut hex = [0u8; 64];
        hex[..bytes.len()].copy_from_slice(bytes);
        Ok(Self { sign_type, hex })
    }

    /// The algorithm that made (or is claimed to have made) this signature.
    #[must_use]
    pub fn sign_type(&self) -> SignType {
        self.sign_type
    }

    /// The upper-case hex text, as it goes on the wire.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever stored.
        core::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    fn as_bytes(&self) -> &[u8] {
        &self.hex[..self.sign_type.hex_len()]
    }
}

impl PartialEq for Signature {
    fn eq(&self, other: &Self) -> bool {
        // The bytes are compared in constant time. The algorithm needs no comparison of its
        // own: it fixes the length (32 or 64 hex digits), and slices of different lengths are
        // unequal (their lengths are public).
        bool::from(self.as_bytes().ct_eq(other.as_bytes()))
    }
}

impl Eq for Signature {}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signature")
            .field("sign_type", &self.sign_type)
            .field("hex", &self.as_str())
            .finish()
    }
}
