//! RSA keys: the merchant's private key, WeChat Pay's public keys and platform certificates,
//! and the ids that name them.

use core::fmt;

use std::sync::Arc;

use aws_lc_rs::encoding::{AsDer as _, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{
    OAEP_SHA1_MGF1SHA1, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey,
    PublicEncryptingKey,
};
use aws_lc_rs::signature::{self, RsaKeyPair};
use base64::Engine as _;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, SubjectPublicKeyInfoDer};
use x509_parser::prelude::{FromDer as _, X509Certificate};
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::{DecryptError, KeyError, SignError, VerifyError};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The name of a WeChat Pay key: a platform certificate's serial (upper-case hex, as
/// `Wechatpay-Serial` carries it) or a WeChat Pay public key id (`PUB_KEY_ID_…`). The
/// merchant's own certificate serial, sent in `Authorization`, is a `KeyId` too.
///
/// ```
/// use tenpay_sign_v3::KeyId;
/// assert_eq!(KeyId::new("5dea10ef55877e3c")?.as_str(), "5DEA10EF55877E3C");
/// assert!(KeyId::new("PUB_KEY_ID_0112345678202405010012345678").is_ok());
/// assert!(KeyId::new("5DEA\"x").is_err());
/// # Ok::<(), tenpay_sign_v3::KeyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(Box<str>);

/// The prefix of a WeChat Pay public key id.
pub const PUBLIC_KEY_ID_PREFIX: &str = "PUB_KEY_ID_";

impl KeyId {
    /// Checks an id: hex digits (upper-cased here) for a certificate serial, or
    /// `PUB_KEY_ID_` followed by letters and digits; at most 64 characters.
    ///
    /// # Errors
    /// [`KeyError::KeyId`] for anything else.
    pub fn new(id: &str) -> Result<Self, KeyError> {
        let bad = || KeyError::KeyId(id.to_owned());
        if id.is_empty() || id.len() > 64 {
            return Err(bad());
        }
        if let Some(rest) = id.strip_prefix(PUBLIC_KEY_ID_PREFIX) {
            if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(bad());
            }
            return Ok(Self(id.into()));
        }
        if !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        Ok(Self(id.to_ascii_uppercase().into()))
    }

    /// The id as sent on the wire.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is a WeChat Pay public key id rather than a certificate serial.
    #[must_use]
    pub fn is_public_key_id(&self) -> bool {
        self.0.starts_with(PUBLIC_KEY_ID_PREFIX)
    }

    /// A certificate's serial from its DER integer bytes: upper-case hex without leading
    /// zeros, as WeChat Pay writes it (`5DEA10EF…`).
    fn from_serial_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let mut hex = String::with_capacity(bytes.len() * 2);
        for b in bytes {
            hex.push_str(&format!("{b:02X}"));
        }
        let trimmed = hex.trim_start_matches('0');
        Self::new(if trimmed.is_empty() { "0" } else { trimmed })
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The merchant's API private key (`apiclient_key.pem`): signs requests and client pay
/// parameters, and decrypts the sensitive fields WeChat Pay encrypts to the merchant.
///
/// Never printed: `Debug` shows only its size.
pub struct PrivateKey {
    signing: RsaKeyPair,
    decrypting: OaepPrivateDecryptingKey,
    public: PublicKey,
    random: aws_lc_rs::rand::SystemRandom,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PrivateKey({} bits, ** redacted **)",
            self.signing.public_modulus_len() * 8
        )
    }
}

impl PrivateKey {
    /// Reads a PEM private key: PKCS#8 (`BEGIN PRIVATE KEY`, what the merchant platform's
    /// certificate tool writes) or PKCS#1 (`BEGIN RSA PRIVATE KEY`).
    ///
    /// # Errors
    /// [`KeyError::Pem`] when the text holds no private key, [`KeyError::Rsa`] when the key
    /// is not an RSA key of 2048 to 4096 bits.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let der = PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|e| KeyError::Pem {
            wanted: "PRIVATE KEY",
            detail: e.to_string(),
        })?;
        match der {
            PrivateKeyDer::Pkcs8(k) => Self::from_pkcs8_der(k.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(k) => {
                let pair = RsaKeyPair::from_der(k.secret_pkcs1_der())
                    .map_err(|e| KeyError::Rsa(e.to_string()))?;
                let pkcs8: Pkcs8V1Der<'static> =
                    pair.as_der().map_err(|e| KeyError::Rsa(e.to_string()))?;
                Self::from_pkcs8_der(pkcs8.as_ref())
            }
            _ => Err(KeyError::Rsa("an EC key; WeChat Pay keys are RSA".into())),
        }
    }

    /// Reads a PKCS#8 DER private key.
    ///
    /// # Errors
    /// [`KeyError::Rsa`] when it is not an RSA key of 2048 to 4096 bits.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let rejected = |e: aws_lc_rs::error::KeyRejected| KeyError::Rsa(e.to_string());
        let signing = RsaKeyPair::from_pkcs8(der).map_err(rejected)?;
        let private = PrivateDecryptingKey::from_pkcs8(der).map_err(rejected)?;
        let spki: PublicKeyX509Der<'static> = private
            .public_key()
            .as_der()
            .map_err(|e| KeyError::Rsa(e.to_string()))?;
        let public = PublicKey::from_spki_der(spki.as_ref())?;
        let decrypting =
            OaepPrivateDecryptingKey::new(private).map_err(|e| KeyError::Rsa(e.to_string()))?;
        Ok(Self {
            signing,
            decrypting,
            public,
            random: aws_lc_rs::rand::SystemRandom::new(),
        })
    }

    /// `base64(RSASSA-PKCS1-v1_5(SHA-256, key, message))`: the signature every v3 message
    /// carries (requests, `paySign`). Deterministic: the same message always gives the same
    /// signature.
    ///
    /// # Errors
    /// [`SignError::Random`] if the system's random number generator fails (the signing is
    /// blinded).
    pub fn sign(&self, message: &[u8]) -> Result<String, SignError> {
        let mut out = vec![0u8; self.signing.public_modulus_len()];
        self.signing
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &self.random,
                message,
                &mut out,
            )
            .map_err(|_| SignError::Random)?;
        Ok(B64.encode(out))
    }

    /// The public half, as WeChat Pay (or the simulator) holds it from the merchant's
    /// certificate.
    #[must_use]
    pub fn public_key(&self) -> PublicKey {
        self.public.clone()
    }

    /// Decrypts a sensitive field WeChat Pay encrypted to the merchant:
    /// `RSA-OAEP(SHA-1, MGF1-SHA-1)` of the base64 text.
    ///
    /// AWS-LC's RSA-OAEP decryption, constant-time.
    ///
    /// # Errors
    /// [`DecryptError::Base64`], [`DecryptError::Oaep`] or [`DecryptError::Utf8`].
    pub fn decrypt(&self, ciphertext: &str) -> Result<String, DecryptError> {
        let bytes = B64
            .decode(ciphertext.trim())
            .map_err(|_| DecryptError::Base64)?;
        let mut out = vec![0u8; self.decrypting.min_output_size()];
        let plain = self
            .decrypting
            .decrypt(&OAEP_SHA1_MGF1SHA1, &bytes, &mut out, None)
            .map_err(|_| DecryptError::Oaep)?;
        String::from_utf8(plain.to_vec()).map_err(|_| DecryptError::Utf8)
    }
}

/// A WeChat Pay RSA public key: a public key (`pub_key.pem`, named by a `PUB_KEY_ID_…`) or
/// a platform certificate's key. Verifies signatures and encrypts sensitive fields.
#[derive(Clone)]
pub struct PublicKey {
    /// SPKI DER: the key's identity (equality, PEM).
    spki: Arc<[u8]>,
    /// Parsed once, verified with many times.
    verifying: signature::ParsedPublicKey,
    oaep: Arc<OaepPublicEncryptingKey>,
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki == other.spki
    }
}

impl Eq for PublicKey {}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({} bits)", self.oaep.key_size_bits())
    }
}

impl PublicKey {
    /// Reads a PEM public key, SPKI (`BEGIN PUBLIC KEY`, what the merchant platform
    /// downloads).
    ///
    /// # Errors
    /// [`KeyError::Pem`] or [`KeyError::Rsa`].
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let der =
            SubjectPublicKeyInfoDer::from_pem_slice(pem.as_bytes()).map_err(|e| KeyError::Pem {
                wanted: "PUBLIC KEY",
                detail: e.to_string(),
            })?;
        Self::from_spki_der(der.as_ref())
    }

    /// Reads an SPKI DER public key.
    ///
    /// # Errors
    /// [`KeyError::Rsa`].
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        let (_, spki) =
            SubjectPublicKeyInfo::from_der(der).map_err(|e| KeyError::Rsa(e.to_string()))?;
        Self::from_spki(&spki, der)
    }

    fn from_spki(spki: &SubjectPublicKeyInfo<'_>, der: &[u8]) -> Result<Self, KeyError> {
        if spki.algorithm.algorithm != x509_parser::oid_registry::OID_PKCS1_RSAENCRYPTION {
            return Err(KeyError::Rsa(format!(
                "algorithm {} is not rsaEncryption",
                spki.algorithm.algorithm
            )));
        }
        let pkcs1: &[u8] = &spki.subject_public_key.data;
        let rejected = |e: aws_lc_rs::error::KeyRejected| KeyError::Rsa(e.to_string());
        let encrypting = PublicEncryptingKey::from_der(der).map_err(rejected)?;
        let bits = encrypting.key_size_bits();
        if !(2048..=4096).contains(&bits) {
            return Err(KeyError::Rsa(format!("{bits} bits; 2048 to 4096 are used")));
        }
        let verifying =
            signature::ParsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, pkcs1)
                .map_err(|e| KeyError::Rsa(e.to_string()))?;
        let oaep =
            OaepPublicEncryptingKey::new(encrypting).map_err(|e| KeyError::Rsa(e.to_string()))?;
        Ok(Self {
            spki: der.into(),
            verifying,
            oaep: Arc::new(oaep),
        })
    }

    /// The key as PEM (`BEGIN PUBLIC KEY`, SPKI), as the merchant platform hands it out.
    #[must_use]
    pub fn to_pem(&self) -> String {
        let b64 = B64.encode(&self.spki);
        let mut out = String::from("-----BEGIN PUBLIC KEY-----\n");
        for line in b64.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(line));
            out.push('\n');
        }
        out.push_str("-----END PUBLIC KEY-----\n");
        out
    }

    /// Checks `base64(RSASSA-PKCS1-v1_5(SHA-256))` over a message.
    ///
    /// # Errors
    /// [`VerifyError::Probe`] for a `WECHATPAY/SIGNTEST/` probe,
    /// [`VerifyError::MalformedSignature`] when it is not base64 of the key's length,
    /// [`VerifyError::Mismatch`] when it is well formed but wrong.
    pub fn verify(&self, message: &[u8], signature: &str) -> Result<(), VerifyError> {
        if signature.starts_with(PROBE_PREFIX) {
            return Err(VerifyError::Probe);
        }
        let sig = B64
            .decode(signature.trim())
            .map_err(|_| VerifyError::MalformedSignature)?;
        if sig.len() != self.oaep.key_size_bytes() {
            return Err(VerifyError::MalformedSignature);
        }
        self.verifying
            .verify_sig(message, &sig)
            .map_err(|_| VerifyError::Mismatch)
    }

    /// Encrypts a sensitive field (a name, an id number, a bank account):
    /// `base64(RSA-OAEP(SHA-1, MGF1-SHA-1)(text))`. Randomised. The request that carries it
    /// must name this key in its `Wechatpay-Serial` header.
    ///
    /// # Errors
    /// [`SignError::TooLong`] past one block (214 bytes for RSA 2048), [`SignError::Random`]
    /// if the random number generator fails.
    pub fn encrypt(&self, text: &str) -> Result<String, SignError> {
        if text.len() > self.oaep.max_plaintext_size(&OAEP_SHA1_MGF1SHA1) {
            return Err(SignError::TooLong(text.len()));
        }
        let mut out = vec![0u8; self.oaep.ciphertext_size()];
        let sealed = self
            .oaep
            .encrypt(&OAEP_SHA1_MGF1SHA1, text.as_bytes(), &mut out, None)
            .map_err(|_| SignError::Random)?;
        Ok(B64.encode(sealed))
    }
}

/// The prefix of WeChat Pay's signature probes.
pub const PROBE_PREFIX: &str = "WECHATPAY/SIGNTEST/";

/// A WeChat Pay platform certificate: its serial, its validity and its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformCertificate {
    serial: KeyId,
    not_before: i64,
    not_after: i64,
    key: PublicKey,
}

impl PlatformCertificate {
    /// Reads a PEM certificate (`BEGIN CERTIFICATE`), as `/v3/certificates` delivers it
    /// (decrypted) or the merchant platform downloads it.
    ///
    /// # Errors
    /// [`KeyError::Pem`], [`KeyError::Certificate`] or [`KeyError::Rsa`].
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let der = CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|e| KeyError::Pem {
            wanted: "CERTIFICATE",
            detail: e.to_string(),
        })?;
        Self::from_der(der.as_ref())
    }

    /// Reads a DER certificate.
    ///
    /// # Errors
    /// [`KeyError::Certificate`] or [`KeyError::Rsa`].
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        let (_, cert) =
            X509Certificate::from_der(der).map_err(|e| KeyError::Certificate(e.to_string()))?;
        let serial = KeyId::from_serial_bytes(cert.raw_serial())?;
        let validity = cert.validity();
        Ok(Self {
            serial,
            not_before: validity.not_before.timestamp(),
            not_after: validity.not_after.timestamp(),
            key: PublicKey::from_spki(cert.public_key(), cert.public_key().raw)?,
        })
    }

    /// The serial, as `Wechatpay-Serial` names it.
    #[must_use]
    pub fn serial(&self) -> &KeyId {
        &self.serial
    }

    /// Start of validity, Unix seconds.
    #[must_use]
    pub fn not_before(&self) -> i64 {
        self.not_before
    }

    /// End of validity, Unix seconds.
    #[must_use]
    pub fn not_after(&self) -> i64 {
        self.not_after
    }

    /// Whether the certificate is valid at `now` (Unix seconds).
    #[must_use]
    pub fn is_valid_at(&self, now: u64) -> bool {
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        self.not_before <= now && now <= self.not_after
    }

    /// The certificate's public key.
    #[must_use]
    pub fn public_key(&self) -> &PublicKey {
        &self.key
    }
}
