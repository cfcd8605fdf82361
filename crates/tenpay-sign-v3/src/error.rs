//! The errors of this crate, one enum per question a caller asks.

/// A key, a certificate or an identifier could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The text is not the PEM kind expected (the label names what was wanted).
    #[error("not a PEM {wanted}: {detail}")]
    Pem {
        /// What was wanted: `PRIVATE KEY`, `PUBLIC KEY` or `CERTIFICATE`.
        wanted: &'static str,
        /// What the PEM reader said.
        detail: String,
    },
    /// The key is not an RSA key this protocol can use (WeChat Pay issues RSA 2048).
    #[error("not a usable RSA key: {0}")]
    Rsa(String),
    /// The certificate could not be read.
    #[error("not a usable X.509 certificate: {0}")]
    Certificate(String),
    /// A merchant id (`mchid`) is 1 to 32 ASCII digits.
    #[error("a merchant id is 1 to 32 digits, not {0:?}")]
    MerchantId(String),
    /// A certificate serial is hexadecimal; a public key id is `PUB_KEY_ID_` and letters or
    /// digits. Either at most 64 characters.
    #[error("a certificate serial is hex digits and a public key id is PUB_KEY_ID_…, not {0:?}")]
    KeyId(String),
    /// An APIv3 key is exactly 32 bytes (the 32 characters set on the merchant platform).
    #[error("an APIv3 key is 32 bytes, this one is {0}")]
    ApiV3KeyLength(usize),
}

/// A message could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// A nonce is 1 to 32 ASCII letters and digits (it is quoted into a header).
    #[error("a nonce is 1 to 32 ASCII letters and digits, not {0:?}")]
    Nonce(String),
    /// The method is an upper-case HTTP method token.
    #[error("not an HTTP method: {0:?}")]
    Method(String),
    /// The URL is the path and query as sent: it starts with `/` and has no spaces or
    /// control characters.
    #[error("the signed URL is the path and query as sent (\"/v3/…\"), not {0:?}")]
    Url(String),
    /// The system's random number generator failed (RSA signing blinds with random numbers;
    /// RSA-OAEP pads with them).
    #[error("the system random number generator failed")]
    Random,
    /// The text is too long for one RSA-OAEP block under this key (at most 214 bytes for
    /// RSA 2048).
    #[error("{0} bytes is too long for one RSA-OAEP block")]
    TooLong(usize),
}

/// An answer, a notification or a merchant's request failed verification. Each kind is its
/// own variant, so that a caller can log a probe differently from an attack.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// A header the signature needs is missing or empty.
    #[error("the {0} header is missing or empty")]
    MissingHeader(&'static str),
    /// `Wechatpay-Timestamp` is not a decimal number of seconds.
    #[error("Wechatpay-Timestamp is not Unix seconds: {0:?}")]
    BadTimestamp(String),
    /// The timestamp is more than [`MAX_CLOCK_SKEW`](crate::MAX_CLOCK_SKEW) seconds from
    /// now: stale, replayed later, or one of the clocks is wrong.
    #[error(
        "signed at {signed}, {skew} s from now ({now}): more than 300 s (stale or replayed, or a clock is wrong)"
    )]
    ClockSkew {
        /// The signed timestamp.
        signed: u64,
        /// The verifier's now.
        now: u64,
        /// The distance between them in seconds.
        skew: u64,
    },
    /// No key with this serial or public key id is held. A platform certificate this
    /// verifier has not seen yet: download the certificates once, then verify again.
    #[error("no WeChat Pay key with serial or id {0:?} is held")]
    UnknownKey(String),
    /// The key for this serial is a certificate outside its validity at the given time.
    #[error(
        "the platform certificate {serial} is not valid at {now} (valid {not_before}..{not_after})"
    )]
    KeyNotValid {
        /// The certificate's serial.
        serial: String,
        /// The verifier's now.
        now: u64,
        /// Start of validity, Unix seconds.
        not_before: i64,
        /// End of validity, Unix seconds.
        not_after: i64,
    },
    /// The signature type is not `WECHATPAY2-SHA256-RSA2048` (a downgrade, or another API's
    /// message).
    #[error("signature type {0:?} is not WECHATPAY2-SHA256-RSA2048")]
    SignatureType(String),
    /// A signature probe (`WECHATPAY/SIGNTEST/…`): WeChat Pay checking that the merchant
    /// verifies. Refuse it like any bad signature, but it is not an attack.
    #[error("a WeChat Pay signature probe (WECHATPAY/SIGNTEST/): refused, as it must be")]
    Probe,
    /// The signature is not base64 of the key's length.
    #[error("the signature is not base64 of an RSA signature")]
    MalformedSignature,
    /// The signature is well formed but does not match the message under the key.
    #[error(
        "the signature does not match the message (signed by another key, or the body was changed)"
    )]
    Mismatch,
    /// A request's `Authorization` header could not be read.
    #[error("not a WECHATPAY2-SHA256-RSA2048 Authorization header: {0}")]
    Authorization(String),
}

/// An encrypted resource, certificate or field could not be decrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecryptError {
    /// The algorithm is not `AEAD_AES_256_GCM`.
    #[error("algorithm {0:?} is not AEAD_AES_256_GCM")]
    Algorithm(String),
    /// The nonce is not 12 bytes.
    #[error("an AES-GCM nonce is 12 bytes, this one is {0}")]
    Nonce(usize),
    /// The ciphertext is not base64.
    #[error("the ciphertext is not base64")]
    Base64,
    /// The authentication tag does not match: another APIv3 key (the API v2 key, or the
    /// key of another merchant), another associated data, or a changed ciphertext.
    #[error("the authentication tag does not match (wrong APIv3 key, or the resource was changed)")]
    Tag,
    /// RSA-OAEP decryption failed: not encrypted to this merchant key.
    #[error("RSA-OAEP decryption failed (not encrypted to this key)")]
    Oaep,
    /// The plaintext is not UTF-8.
    #[error("the plaintext is not UTF-8")]
    Utf8,
}
