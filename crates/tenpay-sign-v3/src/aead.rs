//! `AEAD_AES_256_GCM` under the APIv3 key: notification resources and downloaded
//! certificates.

use core::fmt;

use base64::Engine as _;
use std::sync::Arc;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

use crate::{DecryptError, KeyError};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The algorithm name resources carry.
pub const AEAD_AES_256_GCM: &str = "AEAD_AES_256_GCM";

/// The APIv3 key: the 32 characters set on the merchant platform, used as they are (not hex
/// or base64 decoded). Not the API v2 key. Never printed.
///
/// ```
/// use tenpay_sign_v3::ApiV3Key;
/// let key = ApiV3Key::new("a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb")?;
/// let sealed = key.encrypt("uluk4a9R25RW", "associatedData", b"message")?;
/// assert_eq!(sealed, "ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI=");
/// assert_eq!(key.decrypt("uluk4a9R25RW", "associatedData", &sealed)?, b"message");
/// assert_eq!(format!("{key:?}"), "ApiV3Key(** redacted **)");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ApiV3Key {
    key: Arc<LessSafeKey>,
}

impl fmt::Debug for ApiV3Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiV3Key(** redacted **)")
    }
}

impl ApiV3Key {
    /// Makes the key from its text.
    ///
    /// # Errors
    /// [`KeyError::ApiV3KeyLength`] unless it is 32 bytes.
    pub fn new(key: &str) -> Result<Self, KeyError> {
        let unbound = UnboundKey::new(&AES_256_GCM, key.as_bytes())
            .map_err(|_| KeyError::ApiV3KeyLength(key.len()))?;
        Ok(Self {
            key: Arc::new(LessSafeKey::new(unbound)),
        })
    }

    /// Decrypts `base64(ciphertext ‖ 16-byte tag)` with its nonce (12 characters) and
    /// associated data (empty when absent).
    ///
    /// # Errors
    /// [`DecryptError::Nonce`], [`DecryptError::Base64`] or [`DecryptError::Tag`].
    pub fn decrypt(
        &self,
        nonce: &str,
        associated_data: &str,
        ciphertext: &str,
    ) -> Result<Vec<u8>, DecryptError> {
        let nonce = Nonce::try_assume_unique_for_key(nonce.as_bytes())
            .map_err(|_| DecryptError::Nonce(nonce.len()))?;
        let mut bytes = B64.decode(ciphertext).map_err(|_| DecryptError::Base64)?;
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(associated_data.as_bytes()), &mut bytes)
            .map_err(|_| DecryptError::Tag)?;
        let len = plain.len();
        bytes.truncate(len);
        Ok(bytes)
    }

    /// Encrypts as WeChat Pay does (the simulator's side; tests): `base64(ciphertext ‖ tag)`.
    /// The nonce must never repeat under one key.
    ///
    /// # Errors
    /// [`DecryptError::Nonce`] unless the nonce is 12 bytes.
    pub fn encrypt(
        &self,
        nonce: &str,
        associated_data: &str,
        plaintext: &[u8],
    ) -> Result<String, DecryptError> {
        let n = Nonce::try_assume_unique_for_key(nonce.as_bytes())
            .map_err(|_| DecryptError::Nonce(nonce.len()))?;
        let mut bytes = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(n, Aad::from(associated_data.as_bytes()), &mut bytes)
            .map_err(|_| DecryptError::Nonce(nonce.len()))?;
        Ok(B64.encode(bytes))
    }

    /// Opens an encrypted resource (a notification's `resource`, a certificate's
    /// `encrypt_certificate`), checking its algorithm, to UTF-8 text.
    ///
    /// # Errors
    /// [`DecryptError::Algorithm`], then those of [`decrypt`](Self::decrypt), and
    /// [`DecryptError::Utf8`].
    pub fn open(&self, resource: &Resource) -> Result<String, DecryptError> {
        if resource.algorithm != AEAD_AES_256_GCM {
            return Err(DecryptError::Algorithm(resource.algorithm.clone()));
        }
        let plain = self.decrypt(
            &resource.nonce,
            resource.associated_data.as_deref().unwrap_or(""),
            &resource.ciphertext,
        )?;
        String::from_utf8(plain).map_err(|_| DecryptError::Utf8)
    }
}

/// An encrypted resource as v3 JSON carries it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[non_exhaustive]
pub struct Resource {
    /// `AEAD_AES_256_GCM`.
    pub algorithm: String,
    /// `base64(ciphertext ‖ tag)`.
    pub ciphertext: String,
    /// The associated data (`transaction`, `refund`, `certificate`…), absent for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub associated_data: Option<String>,
    /// The 12-character nonce.
    pub nonce: String,
    /// The plaintext's kind (`transaction`, `refund`…), on notifications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_type: Option<String>,
}

impl Resource {
    /// Seals a plaintext into a resource (the simulator's side; tests).
    ///
    /// # Errors
    /// [`DecryptError::Nonce`] unless the nonce is 12 bytes.
    pub fn seal(
        key: &ApiV3Key,
        nonce: &str,
        associated_data: &str,
        original_type: Option<&str>,
        plaintext: &[u8],
    ) -> Result<Self, DecryptError> {
        Ok(Self {
            algorithm: AEAD_AES_256_GCM.to_owned(),
            ciphertext: key.encrypt(nonce, associated_data, plaintext)?,
            associated_data: Some(associated_data.to_owned()),
            nonce: nonce.to_owned(),
            original_type: original_type.map(str::to_owned),
        })
    }
}
