//! The signed messages and the `Authorization` header.

use core::fmt;

use crate::{KeyError, KeyId, PrivateKey, PublicKey, SignError, VerifyError};

/// The signature scheme of every domestic v3 message.
pub const SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";

/// The request message: `METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n`, where `URL` is the path
/// and query exactly as sent (percent-encoded) and `BODY` the exact bytes sent (empty for
/// `GET`; the `meta` JSON for an upload).
///
/// ```
/// let m = tenpay_sign_v3::request_message("GET", "/v3/certificates", 1624523846, "A1B2C3D4E5F6G7", b"");
/// assert_eq!(m, b"GET\n/v3/certificates\n1624523846\nA1B2C3D4E5F6G7\n\n");
/// ```
#[must_use]
pub fn request_message(
    method: &str,
    url: &str,
    timestamp: u64,
    nonce: &str,
    body: &[u8],
) -> Vec<u8> {
    let ts = timestamp.to_string();
    let mut m =
        Vec::with_capacity(method.len() + url.len() + ts.len() + nonce.len() + body.len() + 5);
    for part in [
        method.as_bytes(),
        url.as_bytes(),
        ts.as_bytes(),
        nonce.as_bytes(),
        body,
    ] {
        m.extend_from_slice(part);
        m.push(b'\n');
    }
    m
}

/// The answer and notification message: `TIMESTAMP\nNONCE\nBODY\n` over the raw body bytes
/// (an empty body, as in a 204, leaves the last line empty).
///
/// ```
/// let m = tenpay_sign_v3::answer_message("1722850421", "d824f2e0", b"{}");
/// assert_eq!(m, b"1722850421\nd824f2e0\n{}\n");
/// ```
#[must_use]
pub fn answer_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(timestamp.len() + nonce.len() + body.len() + 3);
    for part in [timestamp.as_bytes(), nonce.as_bytes(), body] {
        m.extend_from_slice(part);
        m.push(b'\n');
    }
    m
}

/// Checks a nonce: 1 to 32 ASCII letters and digits.
pub(crate) fn check_nonce(nonce: &str) -> Result<(), SignError> {
    if nonce.is_empty() || nonce.len() > 32 || !nonce.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(SignError::Nonce(nonce.to_owned()));
    }
    Ok(())
}

fn check_method(method: &str) -> Result<(), SignError> {
    if method.is_empty() || method.len() > 16 || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(SignError::Method(method.to_owned()));
    }
    Ok(())
}

fn check_url(url: &str) -> Result<(), SignError> {
    if !url.starts_with('/') || url.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(SignError::Url(url.to_owned()));
    }
    Ok(())
}

fn check_mchid(mchid: &str) -> Result<(), KeyError> {
    if mchid.is_empty() || mchid.len() > 32 || !mchid.bytes().all(|b| b.is_ascii_digit()) {
        return Err(KeyError::MerchantId(mchid.to_owned()));
    }
    Ok(())
}

/// A merchant that signs v3 requests: its id, its API certificate's serial and its private
/// key. Cheap to share behind an `Arc`; never prints the key.
///
/// ```
/// use tenpay_sign_v3::{PrivateKey, Signer};
/// # let pem = include_str!("../tests/data/wechatpay-java_merchant_private_key.pem");
/// let key = PrivateKey::from_pem(pem)?;
/// let signer = Signer::new("1234567891", "5F1C72E2A8931B72A2E13AF8DEE92471EB397115", key)?;
/// let auth = signer.authorization(
///     "GET",
///     "/v3/pay/transactions/id/1217752501201407033233368018?mchid=1230000109",
///     1652750623,
///     "eBYqCOxa0QudMnPvVilkTzOg3gHh5Z3u",
///     b"",
/// )?;
/// assert!(auth.to_string().starts_with("WECHATPAY2-SHA256-RSA2048 mchid=\"1234567891\",nonce_str="));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Signer {
    mchid: Box<str>,
    serial: KeyId,
    key: PrivateKey,
}

impl Signer {
    /// A signer for merchant `mchid` whose API certificate has serial `serial`.
    ///
    /// # Errors
    /// [`KeyError::MerchantId`] or [`KeyError::KeyId`].
    pub fn new(mchid: &str, serial: &str, key: PrivateKey) -> Result<Self, KeyError> {
        check_mchid(mchid)?;
        let serial = KeyId::new(serial)?;
        if serial.is_public_key_id() {
            return Err(KeyError::KeyId(serial.to_string()));
        }
        Ok(Self {
            mchid: mchid.into(),
            serial,
            key,
        })
    }

    /// The merchant id.
    #[must_use]
    pub fn mchid(&self) -> &str {
        &self.mchid
    }

    /// The merchant API certificate's serial.
    #[must_use]
    pub fn serial(&self) -> &KeyId {
        &self.serial
    }

    /// The private key (to decrypt sensitive fields, or sign another message kind).
    #[must_use]
    pub fn key(&self) -> &PrivateKey {
        &self.key
    }

    /// Signs a request and returns its `Authorization` header.
    ///
    /// # Errors
    /// [`SignError::Method`], [`SignError::Url`] or [`SignError::Nonce`] for inputs that
    /// cannot be sent, [`SignError::Random`] if the random number generator fails.
    pub fn authorization(
        &self,
        method: &str,
        url: &str,
        timestamp: u64,
        nonce: &str,
        body: &[u8],
    ) -> Result<Authorization, SignError> {
        check_method(method)?;
        check_url(url)?;
        check_nonce(nonce)?;
        let signature = self
            .key
            .sign(&request_message(method, url, timestamp, nonce, body))?;
        Ok(Authorization {
            mchid: self.mchid.clone(),
            nonce: nonce.into(),
            timestamp,
            serial: self.serial.clone(),
            signature: signature.into(),
        })
    }
}

/// A request's `Authorization` header: what the merchant sends, and what WeChat Pay (or the
/// simulator) reads and checks. `Display` writes the header value in the official SDKs'
/// field order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    mchid: Box<str>,
    nonce: Box<str>,
    timestamp: u64,
    serial: KeyId,
    signature: Box<str>,
}

impl fmt::Display for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{SCHEME} mchid=\"{}\",nonce_str=\"{}\",timestamp=\"{}\",serial_no=\"{}\",signature=\"{}\"",
            self.mchid, self.nonce, self.timestamp, self.serial, self.signature
        )
    }
}

impl Authorization {
    /// Reads an `Authorization` header value. The five fields may come in any order (WeChat
    /// Pay accepts any); each exactly once, quoted; nothing else.
    ///
    /// # Errors
    /// [`VerifyError::Authorization`] saying what is wrong.
    pub fn parse(header: &str) -> Result<Self, VerifyError> {
        let bad = |why: &str| VerifyError::Authorization(why.to_owned());
        let rest = header
            .strip_prefix(SCHEME)
            .and_then(|r| r.strip_prefix(' '))
            .ok_or_else(|| bad("the scheme is not WECHATPAY2-SHA256-RSA2048"))?;
        let (mut mchid, mut nonce, mut timestamp, mut serial, mut signature) =
            (None, None, None, None, None);
        for field in rest.split(',') {
            let (name, value) = field
                .trim()
                .split_once('=')
                .ok_or_else(|| bad("a field without ="))?;
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .filter(|v| !v.contains('"'))
                .ok_or_else(|| bad("a value that is not quoted"))?;
            let slot = match name {
                "mchid" => &mut mchid,
                "nonce_str" => &mut nonce,
                "timestamp" => &mut timestamp,
                "serial_no" => &mut serial,
                "signature" => &mut signature,
                _ => return Err(bad("an unknown field")),
            };
            if slot.replace(value).is_some() {
                return Err(bad("a field given twice"));
            }
        }
        fn need<'h>(v: Option<&'h str>, name: &str) -> Result<&'h str, VerifyError> {
            v.ok_or_else(|| VerifyError::Authorization(format!("no {name}")))
        }
        let mchid = need(mchid, "mchid")?;
        check_mchid(mchid).map_err(|e| bad(&e.to_string()))?;
        let nonce = need(nonce, "nonce_str")?;
        check_nonce(nonce).map_err(|e| bad(&e.to_string()))?;
        let timestamp = need(timestamp, "timestamp")?;
        let timestamp = parse_seconds(timestamp).ok_or_else(|| bad("timestamp is not seconds"))?;
        let serial = KeyId::new(need(serial, "serial_no")?).map_err(|e| bad(&e.to_string()))?;
        Ok(Self {
            mchid: mchid.into(),
            nonce: nonce.into(),
            timestamp,
            serial,
            signature: need(signature, "signature")?.into(),
        })
    }

    /// The merchant id.
    #[must_use]
    pub fn mchid(&self) -> &str {
        &self.mchid
    }

    /// The nonce.
    #[must_use]
    pub fn nonce(&self) -> &str {
        &self.nonce
    }

    /// The timestamp, Unix seconds.
    #[must_use]
    pub fn timestamp(&self) -> u64 {
        self.timestamp
    }

    /// The merchant certificate's serial.
    #[must_use]
    pub fn serial(&self) -> &KeyId {
        &self.serial
    }

    /// The base64 signature.
    #[must_use]
    pub fn signature(&self) -> &str {
        &self.signature
    }

    /// Checks the signature over the request with the merchant's public key, and the
    /// timestamp against `now` (the receiving side: WeChat Pay, the simulator).
    ///
    /// # Errors
    /// [`VerifyError::ClockSkew`], then the errors of [`PublicKey::verify`].
    pub fn verify(
        &self,
        key: &PublicKey,
        method: &str,
        url: &str,
        body: &[u8],
        now: u64,
    ) -> Result<(), VerifyError> {
        check_skew(self.timestamp, now)?;
        key.verify(
            &request_message(method, url, self.timestamp, &self.nonce, body),
            &self.signature,
        )
    }
}

/// Decimal seconds, digits only.
pub(crate) fn parse_seconds(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The clock rule: at most [`MAX_CLOCK_SKEW`](crate::MAX_CLOCK_SKEW) seconds either way.
pub(crate) fn check_skew(signed: u64, now: u64) -> Result<(), VerifyError> {
    let skew = signed.abs_diff(now);
    if skew > crate::MAX_CLOCK_SKEW {
        return Err(VerifyError::ClockSkew { signed, now, skew });
    }
    Ok(())
}
