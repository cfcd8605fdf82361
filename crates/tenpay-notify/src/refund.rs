use aes::Aes256;
use aes::cipher::block_padding::Pkcs7;
use aes::cipher::common::InnerInit;
use aes::cipher::{BlockModeDecrypt, KeyInit};
use base64::Engine as _;
use base64::prelude::BASE64_STANDARD;
use md5::{Digest, Md5};
use serde::Deserialize;
use tenpay_sign::ApiKey;
use tenpay_xml::{BeijingDateTime, Fen, OutRefundNo, OutTradeNo, Parser, RefundStatus, XmlMap};

use crate::Error;

/// A decrypted refund notification (the `<root>` payload of `req_info`).
///
/// # Security
/// Refund notifications carry **no signature**: decrypting `req_info` with the API key is their
/// only authentication, and AES-ECB has no integrity check. Treat the contents as a hint:
/// match them against your own refund records (and `refundquery` when in doubt).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct RefundNotification {
    /// Envelope `appid` (checked).
    #[serde(skip)]
    pub appid: String,
    /// Envelope `mch_id` (checked).
    #[serde(skip)]
    pub mch_id: String,
    /// WeChat Pay's transaction id.
    pub transaction_id: String,
    /// The merchant's order number.
    pub out_trade_no: OutTradeNo,
    /// WeChat Pay's refund id.
    pub refund_id: String,
    /// The merchant's refund number.
    pub out_refund_no: OutRefundNo,
    /// The order amount.
    pub total_fee: Fen,
    /// The settled order amount.
    pub settlement_total_fee: Option<Fen>,
    /// The amount requested for refund.
    pub refund_fee: Fen,
    /// The amount refunded to the payer.
    pub settlement_refund_fee: Option<Fen>,
    /// `SUCCESS`, `CHANGE` or `REFUNDCLOSE`.
    pub refund_status: RefundStatus,
    /// When the refund succeeded (`yyyy-MM-dd HH:mm:ss`, Beijing time).
    pub success_time: Option<BeijingDateTime>,
    /// Where the money went (the protocol's spelling, `accout`).
    pub refund_recv_accout: Option<String>,
    /// Which funds paid the refund.
    pub refund_account: Option<String>,
    /// `API` or `VENDOR_PLATFORM`.
    pub refund_request_source: Option<String>,
    /// Every decrypted field (unknown ones included).
    #[serde(skip)]
    pub raw: XmlMap,
}

/// The AES-256 key for `req_info`: the lowercase hex MD5 of the API key, used as 32 ASCII bytes.
/// Derived once per configuration.
#[derive(Clone)]
pub(crate) struct RefundKey(Aes256);

impl core::fmt::Debug for RefundKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("RefundKey(** redacted **)")
    }
}

impl RefundKey {
    pub(crate) fn derive(key: &ApiKey) -> Self {
        let digest = Md5::digest(key.expose_secret().as_bytes());
        let mut hex = [0u8; 32];
        for (pair, byte) in hex.chunks_exact_mut(2).zip(digest.iter()) {
            pair[0] = b"0123456789abcdef"[usize::from(byte >> 4)];
            pair[1] = b"0123456789abcdef"[usize::from(byte & 0x0f)];
        }
        Self(Aes256::new(&hex.into()))
    }

    /// base64 → AES-256-ECB → strict PKCS#7.
    pub(crate) fn decrypt_bytes(&self, req_info: &str) -> Result<Vec<u8>, Error> {
        let ciphertext = BASE64_STANDARD
            .decode(req_info.trim_ascii())
            .map_err(|_| Error::MalformedReqInfo)?;
        if ciphertext.is_empty() || ciphertext.len() % 16 != 0 {
            return Err(Error::MalformedReqInfo);
        }
        ecb::Decryptor::<Aes256>::inner_init(self.0.clone())
            .decrypt_padded_vec::<Pkcs7>(&ciphertext)
            .map_err(|_| Error::WrongKey)
    }

    /// The `<root>` payload.
    pub(crate) fn decrypt(&self, req_info: &str) -> Result<XmlMap, Error> {
        let plain = self.decrypt_bytes(req_info)?;
        // A wrong key passes the padding check about once in 256 tries; its plaintext is then
        // noise, which the strict reader refuses. Either way it is reported as the wrong key.
        Parser::new()
            .root("root")
            .parse(&plain)
            .map_err(|_| Error::WrongKey)
    }
}

/// Decrypts a refund notification's `req_info` to its plaintext bytes (normally a `<root>`
/// document): base64, then AES-256-ECB keyed with the lowercase hex MD5 of the API key, then
/// strict PKCS#7 unpadding. [`crate::Notifier`] does this and more; this is for tools.
///
/// # Errors
/// [`Error::MalformedReqInfo`] when it is not base64 of whole blocks, [`Error::WrongKey`] when
/// the padding is invalid after decryption.
pub fn decrypt_req_info(key: &ApiKey, req_info: &str) -> Result<Vec<u8>, Error> {
    RefundKey::derive(key).decrypt_bytes(req_info)
}

/// Encrypts a `<root>` payload as WeChat Pay does for `req_info` (for simulators and tests).
#[must_use]
pub fn encrypt_req_info(key: &ApiKey, plaintext: &[u8]) -> String {
    use aes::cipher::BlockModeEncrypt;
    let cipher = RefundKey::derive(key).0;
    let ct = ecb::Encryptor::<Aes256>::inner_init(cipher).encrypt_padded_vec::<Pkcs7>(plaintext);
    BASE64_STANDARD.encode(ct)
}

impl RefundNotification {
    pub(crate) fn from_parts(appid: &str, mch_id: &str, raw: XmlMap) -> Result<Self, Error> {
        let mut n: Self = tenpay_xml::from_map(&raw).map_err(Error::Field)?;
        n.appid = appid.to_owned();
        n.mch_id = mch_id.to_owned();
        n.raw = raw;
        Ok(n)
    }
}
