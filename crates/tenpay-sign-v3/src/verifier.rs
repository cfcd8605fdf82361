//! WeChat Pay's keys, by serial or public key id, and the verification of answers and
//! notifications.

use std::collections::BTreeMap;

use crate::message::{answer_message, check_skew, parse_seconds};
use crate::{KeyId, PlatformCertificate, PublicKey, SCHEME, VerifyError};

/// The names of the headers WeChat Pay signs answers and notifications with.
pub mod header {
    /// Unix seconds of the signature.
    pub const TIMESTAMP: &str = "Wechatpay-Timestamp";
    /// The signature's nonce.
    pub const NONCE: &str = "Wechatpay-Nonce";
    /// The base64 signature.
    pub const SIGNATURE: &str = "Wechatpay-Signature";
    /// The serial of the platform certificate, or the public key id, that signed.
    pub const SERIAL: &str = "Wechatpay-Serial";
    /// The signature scheme (`WECHATPAY2-SHA256-RSA2048`).
    pub const SIGNATURE_TYPE: &str = "Wechatpay-Signature-Type";
    /// The request's `Authorization`.
    pub const AUTHORIZATION: &str = "Authorization";
    /// WeChat Pay's request id, to quote to its support.
    pub const REQUEST_ID: &str = "Request-ID";
}

/// The signature headers of an answer or a notification, borrowed from wherever the caller
/// keeps headers.
///
/// ```
/// use tenpay_sign_v3::SignedHeaders;
/// let h = SignedHeaders::from_fn(|name| match name {
///     "Wechatpay-Timestamp" => Some("1722850421"),
///     "Wechatpay-Nonce" => Some("d824f2e0"),
///     "Wechatpay-Signature" => Some("c2ln"),
///     "Wechatpay-Serial" => Some("PUB_KEY_ID_01"),
///     _ => None,
/// });
/// assert_eq!(h.serial(), Some("PUB_KEY_ID_01"));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignedHeaders<'a> {
    timestamp: Option<&'a str>,
    nonce: Option<&'a str>,
    signature: Option<&'a str>,
    serial: Option<&'a str>,
    signature_type: Option<&'a str>,
}

impl<'a> SignedHeaders<'a> {
    /// Reads the five headers through a lookup by name (exact names as in [`header`];
    /// HTTP header maps match them case-insensitively).
    pub fn from_fn(mut get: impl FnMut(&'static str) -> Option<&'a str>) -> Self {
        let mut one = |name| get(name).map(str::trim).filter(|v| !v.is_empty());
        Self {
            timestamp: one(header::TIMESTAMP),
            nonce: one(header::NONCE),
            signature: one(header::SIGNATURE),
            serial: one(header::SERIAL),
            signature_type: one(header::SIGNATURE_TYPE),
        }
    }

    /// The four headers every signed message has (the signature type is optional on
    /// answers; when present it must be `WECHATPAY2-SHA256-RSA2048`).
    #[must_use]
    pub fn new(timestamp: &'a str, nonce: &'a str, signature: &'a str, serial: &'a str) -> Self {
        Self::from_fn(|name| match name {
            header::TIMESTAMP => Some(timestamp),
            header::NONCE => Some(nonce),
            header::SIGNATURE => Some(signature),
            header::SERIAL => Some(serial),
            _ => None,
        })
    }

    /// The same headers with a signature type.
    #[must_use]
    pub fn with_signature_type(mut self, signature_type: &'a str) -> Self {
        self.signature_type = Some(signature_type).filter(|v| !v.is_empty());
        self
    }

    /// `Wechatpay-Serial`, if present.
    #[must_use]
    pub fn serial(&self) -> Option<&'a str> {
        self.serial
    }

    /// `Wechatpay-Timestamp`, if present.
    #[must_use]
    pub fn timestamp(&self) -> Option<&'a str> {
        self.timestamp
    }

    /// `Wechatpay-Signature`, if present.
    #[must_use]
    pub fn signature(&self) -> Option<&'a str> {
        self.signature
    }
}

#[derive(Debug, Clone)]
enum Held {
    PublicKey(PublicKey),
    Certificate(PlatformCertificate),
}

/// WeChat Pay's keys as a merchant holds them, by name: platform certificates by serial and
/// public keys by `PUB_KEY_ID_…`, both kinds at once during the migration and several
/// certificates during a rotation. A message is checked against the one key its
/// `Wechatpay-Serial` names, never against every key.
///
/// ```
/// use tenpay_sign_v3::{PublicKey, SignedHeaders, Verifier};
/// # let pem = include_str!("../tests/data/wechatpay-java_wechat_pay_public_key.pem");
/// let mut keys = Verifier::new();
/// keys.add_public_key("PUB_KEY_ID_0112345678202405010012345678", PublicKey::from_pem(pem)?)?;
/// let body = br#"{"code_url":"weixin://wxpay/bizpayurl?pr=JyC91EIz1"}"#;
/// let h = SignedHeaders::new(
///     "1722850421",
///     "d824f2e086d3c1df967785d13fcd22ef",
///     "Bde9UqZ7oxIjzxD9k0RuT/tgtVkXh1WSQdNXGwfMyojjSyPCHGXSNDheoKWSeYsFs2ohLWVQFMPrLLvjuvUfl9y+Tubel5hq9uUoIBNkyWUoOyGVYhpnPdeQtOwmbBF6jCE+hi2gKI5l/st8pCw3TRNJ8cLSVj/If7badqwYFJym27gPOkQ3MIi++6rVvzwU/M2jopr8SlD3brVEXmy+Q/Be8UNJ/9ofJRmm7ERgD3hwV3bmwFrH0H+DhOJpp4GaTyPEDPvc06Drq1cgB7XRD1OTEnM+LEDyef23i0Iv+lKPcYxCmqJCVPuD3MBjnGtv0+ReT/uGa2Kc5xwbEK4LRw==",
///     "PUB_KEY_ID_0112345678202405010012345678",
/// );
/// keys.verify(&h, body, 1722850421 + 60)?;
/// assert!(keys.verify(&h, b"{}", 1722850421).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Verifier {
    keys: BTreeMap<KeyId, Held>,
}

impl Verifier {
    /// No keys yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Holds a WeChat Pay public key under its id (`PUB_KEY_ID_…`).
    ///
    /// # Errors
    /// [`KeyError::KeyId`](crate::KeyError::KeyId) when `id` is not a public key id.
    pub fn add_public_key(&mut self, id: &str, key: PublicKey) -> Result<(), crate::KeyError> {
        let id = KeyId::new(id)?;
        if !id.is_public_key_id() {
            return Err(crate::KeyError::KeyId(id.to_string()));
        }
        self.keys.insert(id, Held::PublicKey(key));
        Ok(())
    }

    /// Holds a platform certificate under its serial (replacing one with the same serial).
    /// Returns whether the serial is new.
    pub fn add_certificate(&mut self, cert: PlatformCertificate) -> bool {
        self.keys
            .insert(cert.serial().clone(), Held::Certificate(cert))
            .is_none()
    }

    /// Drops the key with this id; returns whether one was held.
    pub fn remove(&mut self, id: &str) -> bool {
        KeyId::new(id).is_ok_and(|id| self.keys.remove(&id).is_some())
    }

    /// Whether a key with this id is held.
    #[must_use]
    pub fn contains(&self, id: &str) -> bool {
        KeyId::new(id).is_ok_and(|id| self.keys.contains_key(&id))
    }

    /// The ids held, in order.
    pub fn ids(&self) -> impl Iterator<Item = &KeyId> {
        self.keys.keys()
    }

    /// Whether no key is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The public key id, if one is held: requests send it as `Wechatpay-Serial` so that
    /// WeChat Pay signs their answers with the public key (the migration's second
    /// progress bar).
    #[must_use]
    pub fn public_key_id(&self) -> Option<&KeyId> {
        self.keys.keys().find(|id| id.is_public_key_id())
    }

    /// The key to encrypt sensitive fields with, and its id for the request's
    /// `Wechatpay-Serial`: the public key if one is held, otherwise the certificate valid at
    /// `now` that expires last.
    #[must_use]
    pub fn encryption_key(&self, now: u64) -> Option<(&KeyId, &PublicKey)> {
        if let Some((id, Held::PublicKey(k))) =
            self.keys.iter().find(|(id, _)| id.is_public_key_id())
        {
            return Some((id, k));
        }
        self.keys
            .iter()
            .filter_map(|(id, held)| match held {
                Held::Certificate(c) if c.is_valid_at(now) => Some((id, c)),
                _ => None,
            })
            .max_by_key(|(_, c)| c.not_after())
            .map(|(id, c)| (id, c.public_key()))
    }

    /// Verifies an answer or a notification: the headers present, the signature type (if
    /// given) `WECHATPAY2-SHA256-RSA2048`, the timestamp within 300 s of `now` (Unix
    /// seconds), the key named by `Wechatpay-Serial` held (and, for a certificate, valid at
    /// `now`), and the signature over `TIMESTAMP\nNONCE\nBODY\n` with the **raw** body.
    ///
    /// # Errors
    /// One [`VerifyError`] per reason, in the order above; a signature probe is
    /// [`VerifyError::Probe`].
    pub fn verify(
        &self,
        headers: &SignedHeaders<'_>,
        body: &[u8],
        now: u64,
    ) -> Result<(), VerifyError> {
        let timestamp = headers
            .timestamp
            .ok_or(VerifyError::MissingHeader(header::TIMESTAMP))?;
        let nonce = headers
            .nonce
            .ok_or(VerifyError::MissingHeader(header::NONCE))?;
        let signature = headers
            .signature
            .ok_or(VerifyError::MissingHeader(header::SIGNATURE))?;
        let serial = headers
            .serial
            .ok_or(VerifyError::MissingHeader(header::SERIAL))?;
        if let Some(kind) = headers.signature_type
            && kind != SCHEME
        {
            return Err(VerifyError::SignatureType(kind.to_owned()));
        }
        let signed =
            parse_seconds(timestamp).ok_or_else(|| VerifyError::BadTimestamp(timestamp.into()))?;
        check_skew(signed, now)?;
        let key = self.key_at(serial, now)?;
        key.verify(&answer_message(timestamp, nonce, body), signature)
    }

    /// The key a serial names, usable at `now`.
    ///
    /// # Errors
    /// [`VerifyError::UnknownKey`] or [`VerifyError::KeyNotValid`].
    pub fn key_at(&self, serial: &str, now: u64) -> Result<&PublicKey, VerifyError> {
        let unknown = || VerifyError::UnknownKey(serial.to_owned());
        let id = KeyId::new(serial).map_err(|_| unknown())?;
        match self.keys.get(&id).ok_or_else(unknown)? {
            Held::PublicKey(k) => Ok(k),
            Held::Certificate(c) if c.is_valid_at(now) => Ok(c.public_key()),
            Held::Certificate(c) => Err(VerifyError::KeyNotValid {
                serial: id.to_string(),
                now,
                not_before: c.not_before(),
                not_after: c.not_after(),
            }),
        }
    }
}

/// A [`Verifier`] shared by everything that checks WeChat Pay's signatures for one merchant
/// (the client's answers, the notification handler), and updated in place when
/// certificates rotate: readers take the current set without waiting for a writer. Cheap to
/// clone; the clones share the keys.
#[derive(Debug, Clone, Default)]
pub struct KeyRing(std::sync::Arc<std::sync::RwLock<std::sync::Arc<Verifier>>>);

impl KeyRing {
    /// Shares a set of keys.
    #[must_use]
    pub fn new(keys: Verifier) -> Self {
        Self(std::sync::Arc::new(std::sync::RwLock::new(
            std::sync::Arc::new(keys),
        )))
    }

    /// The keys held now.
    #[must_use]
    pub fn current(&self) -> std::sync::Arc<Verifier> {
        std::sync::Arc::clone(
            &self
                .0
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Changes the keys (add a downloaded certificate, drop a retired one); verifications
    /// already running finish with the set they started with.
    pub fn update<R>(&self, change: impl FnOnce(&mut Verifier) -> R) -> R {
        let mut guard = self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut next = Verifier::clone(&guard);
        let out = change(&mut next);
        *guard = std::sync::Arc::new(next);
        out
    }

    /// Verifies with the keys held now (see [`Verifier::verify`]).
    ///
    /// # Errors
    /// Those of [`Verifier::verify`].
    pub fn verify(
        &self,
        headers: &SignedHeaders<'_>,
        body: &[u8],
        now: u64,
    ) -> Result<(), VerifyError> {
        self.current().verify(headers, body, now)
    }
}
