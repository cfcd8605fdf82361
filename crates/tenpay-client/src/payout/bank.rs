//! Payments to bank cards (企业付款到银行卡): `pay_bank` and `query_bank`, with the card
//! number and the holder's name encrypted under WeChat Pay's RSA key (`getpublickey`,
//! fetched once per merchant and kept).

use base64::Engine as _;
use rsa::pkcs1::DecodeRsaPublicKey as _;
use rsa::pkcs8::DecodePublicKey as _;
use serde::{Deserialize, Serialize};
use tenpay_sign::{ApiKey, SignType};
use tenpay_xml::{Fen, PartnerTradeNo, XmlMap};

use super::classify::{self, Family};
use super::settle::{Confirm, QueryVerdict, payout_route};
use crate::endpoint::{Endpoint, Host, MerchantFields, Route, endpoint, keep_raw};
use crate::outcome::{CodeReading, MovesMoney, Refused, RefusedBecause};
use crate::{Answer, ConfigError, Error, PRODUCTION_URL, Verifier};
use tenpay_xml::ErrCode;

/// WeChat Pay's RSA public key for `pay_bank`. WeChat Pay serves it as PKCS#1
/// (`BEGIN RSA PUBLIC KEY`); an SPKI key (`BEGIN PUBLIC KEY`) is accepted too.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(rsa::RsaPublicKey);

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use rsa::traits::PublicKeyParts as _;
        write!(f, "PublicKey({} bits)", self.0.n().bits())
    }
}

impl PublicKey {
    /// Reads a PEM key, PKCS#1 or SPKI.
    ///
    /// # Errors
    /// [`ConfigError::PublicKey`] for anything else.
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        let pem = pem.trim();
        rsa::RsaPublicKey::from_pkcs1_pem(pem)
            .or_else(|_| rsa::RsaPublicKey::from_public_key_pem(pem))
            .map(Self)
            .map_err(|e| Error::Config(ConfigError::PublicKey(e.to_string())))
    }

    /// `base64(RSA-OAEP(SHA-1, MGF1-SHA-1)(text))`, as `enc_bank_no` and `enc_true_name`
    /// need. Randomised: encrypting twice gives two ciphertexts.
    ///
    /// # Errors
    /// [`ConfigError::PublicKey`] when the text is too long for the key.
    pub fn encrypt(&self, text: &str) -> Result<String, Error> {
        let padding = rsa::Oaep::new::<sha1::Sha1>();
        let out = self
            .0
            .encrypt(&mut rand_core::OsRng, padding, text.as_bytes())
            .map_err(|e| Error::Config(ConfigError::PublicKey(e.to_string())))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(out))
    }

    /// The key's SHA-256 fingerprint: lowercase hex of SHA-256 over its SPKI DER encoding
    /// (the same whether it was served as PKCS#1 or SPKI). What
    /// [`ClientBuilder::pin_bank_key`](crate::ClientBuilder::pin_bank_key) compares.
    #[must_use]
    pub fn fingerprint(&self) -> String {
        use rsa::pkcs8::EncodePublicKey as _;
        use sha2::Digest as _;
        // Encoding a valid RSA public key as DER cannot fail; an empty digest input would
        // only make a fingerprint no pin matches.
        let der = self
            .0
            .to_public_key_der()
            .map(|d| d.as_bytes().to_vec())
            .unwrap_or_default();
        hex::encode(sha2::Sha256::digest(der))
    }
}

/// Where the bank key comes from, and what it must be: the client's settings.
#[derive(Debug, Clone, Default)]
pub(crate) struct BankKeySource {
    pub(crate) url: Option<String>,
    pub(crate) pin: Option<String>,
    pub(crate) preset: Option<PublicKey>,
}

tenpay_xml::wire_enum!(
    /// `bank_code`: the receiving bank (WeChat Pay's numbers; the rest as `Unknown`).
    BankCode {
        /// 工商银行.
        Icbc = "1002",
        /// 农业银行.
        Abc = "1005",
        /// 建设银行.
        Ccb = "1003",
        /// 中国银行.
        Boc = "1026",
        /// 交通银行.
        Bocom = "1020",
        /// 招商银行.
        Cmb = "1001",
        /// 邮储银行.
        Psbc = "1066",
        /// 民生银行.
        Cmbc = "1006",
        /// 平安银行.
        Pab = "1010",
        /// 中信银行.
        Citic = "1021",
        /// 浦发银行.
        Spdb = "1004",
        /// 兴业银行.
        Cib = "1009",
        /// 光大银行.
        Ceb = "1022",
        /// 广发银行.
        Cgb = "1027",
        /// 华夏银行.
        Hxb = "1025",
        /// 宁波银行.
        Ningbo = "1056",
        /// 北京银行.
        Beijing = "4836",
        /// 上海银行.
        Shanghai = "1024",
        /// 南京银行.
        Nanjing = "1054",
    }
);

tenpay_xml::wire_enum!(
    /// A bank payment's `status` (`query_bank`).
    BankStatus {
        /// Being paid (a reason may say why it waits).
        Processing = "PROCESSING",
        /// Paid.
        Success = "SUCCESS",
        /// Failed: nothing was paid; paying again needs a new number.
        Failed = "FAILED",
        /// The bank returned it after success; amount and fee were refunded.
        BankFail = "BANK_FAIL",
    }
);

/// A payment to a bank card, in clear: [`Client::pay_bank`](crate::Client::pay_bank) encrypts the card number and the
/// name under WeChat Pay's key (once: a repeat sends the same ciphertexts).
#[derive(Clone)]
#[non_exhaustive]
pub struct PayBank {
    pub(crate) partner_trade_no: PartnerTradeNo,
    pub(crate) bank_no: String,
    pub(crate) true_name: String,
    pub(crate) bank_code: BankCode,
    pub(crate) amount: Fen,
    pub(crate) desc: Option<String>,
}

impl std::fmt::Debug for PayBank {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PayBank")
            .field("partner_trade_no", &self.partner_trade_no)
            .field("bank_code", &self.bank_code)
            .field("amount", &self.amount)
            .finish_non_exhaustive()
    }
}

impl PayBank {
    /// Pays `amount` (fen, the fee excluded) to card `bank_no` of `true_name` at `bank_code`.
    #[must_use]
    pub fn new(
        partner_trade_no: PartnerTradeNo,
        bank_no: impl Into<String>,
        true_name: impl Into<String>,
        bank_code: BankCode,
        amount: Fen,
    ) -> Self {
        Self {
            partner_trade_no,
            bank_no: bank_no.into(),
            true_name: true_name.into(),
            bank_code,
            amount,
            desc: None,
        }
    }

    /// `desc` (at most 100 characters).
    #[must_use]
    pub fn desc(mut self, desc: impl Into<String>) -> Self {
        self.desc = Some(desc.into());
        self
    }
}

/// The request as sent: the ciphertexts, made once.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct EncryptedPayBank {
    pub(crate) partner_trade_no: PartnerTradeNo,
    pub(crate) enc_bank_no: String,
    pub(crate) enc_true_name: String,
    pub(crate) bank_code: BankCode,
    pub(crate) amount: Fen,
    pub(crate) desc: Option<String>,
}

/// A bank payment WeChat Pay accepted (an unsigned answer: a claim; the result comes later).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct BankPayment {
    /// The number.
    pub partner_trade_no: String,
    /// WeChat Pay's number.
    pub payment_no: Option<String>,
    /// The amount.
    pub amount: Option<Fen>,
    /// The fee.
    pub cmms_amt: Option<Fen>,
    /// Every field.
    #[serde(skip)]
    pub raw: XmlMap,
}

/// `/mmpaysptrans/query_bank`: a bank payment's record by its number.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct BankQuery {
    partner_trade_no: PartnerTradeNo,
}

impl BankQuery {
    /// The payment `partner_trade_no`.
    #[must_use]
    pub fn new(partner_trade_no: PartnerTradeNo) -> Self {
        Self { partner_trade_no }
    }
}

/// A bank payment's record.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct BankPaymentInfo {
    /// The number.
    pub partner_trade_no: String,
    /// WeChat Pay's number.
    pub payment_no: Option<String>,
    /// The state.
    pub status: BankStatus,
    /// The amount.
    pub amount: Option<Fen>,
    /// The fee.
    pub cmms_amt: Option<Fen>,
    /// MD5 of the card number, as WeChat Pay has it.
    pub bank_no_md5: Option<String>,
    /// MD5 of the holder's name.
    pub true_name_md5: Option<String>,
    /// When it was asked for.
    pub create_time: Option<String>,
    /// When it was paid.
    pub pay_succ_time: Option<String>,
    /// Why it waits or failed.
    pub reason: Option<String>,
    /// Every field.
    #[serde(skip)]
    pub raw: XmlMap,
}

endpoint!(EncryptedPayBank => BankPayment, payout_route("/mmpaysptrans/pay_bank", MerchantFields::named(None, "mch_id")).moving_money());
endpoint!(BankQuery => BankPaymentInfo, payout_route("/mmpaysptrans/query_bank", MerchantFields::named(None, "mch_id")));
keep_raw!(BankPayment, BankPaymentInfo);

impl MovesMoney for EncryptedPayBank {
    fn number(&self) -> &str {
        self.partner_trade_no.as_str()
    }

    fn read_code(code: &ErrCode) -> CodeReading {
        classify::read(Family::Bank, code)
    }
}

impl Confirm for EncryptedPayBank {
    type Query = BankQuery;

    fn query(&self) -> BankQuery {
        BankQuery::new(self.partner_trade_no.clone())
    }

    fn verdict(info: &BankPaymentInfo) -> QueryVerdict {
        match info.status {
            BankStatus::Success => QueryVerdict::Done,
            BankStatus::Failed | BankStatus::BankFail => QueryVerdict::Failed,
            _ => QueryVerdict::Pending,
        }
    }
}

/// Whether a final refusal says WeChat Pay could not decrypt the card number or the name.
/// No code is documented for it; the answers seen name the failure in `err_code_des`
/// (解密失败, "decryption failed"), so that text is what is read, and only on a refusal
/// that is already final (nothing was paid).
pub(crate) fn cannot_decrypt(r: &Refused) -> bool {
    r.because() == RefusedBecause::Final
        && matches!(r.cause(), Error::Business { err_code_des, .. } if err_code_des.contains("解密"))
}

/// The host of `getpublickey` in production.
const FRAUD_URL: &str = "https://fraud.mch.weixin.qq.com";

impl BankKeySource {
    /// Where `getpublickey` is: the URL set, else the production risk host when the client's
    /// base is production (or its backup), else nowhere.
    pub(crate) fn host<'a>(&'a self, base: &str) -> Result<&'a str, Error> {
        match &self.url {
            Some(url) => Ok(url.as_str()),
            None if base == PRODUCTION_URL || base == crate::BACKUP_URL => Ok(FRAUD_URL),
            None => Err(Error::Config(ConfigError::BankKeyHost {
                base: base.to_owned(),
            })),
        }
    }
}

/// `getpublickey` (the risk host, the certificate, MD5 with `sign_type` sent, no appid; an
/// unsigned answer whose `pub_key` is the PEM).
pub(crate) struct GetPublicKey;

impl Endpoint for GetPublicKey {
    type Response = XmlMap;
    const ROUTE: Route<'static> = Route::new("/risk/getpublickey")
        .host(Host::Risk)
        .certificate()
        .retry_safe()
        .signed_with(SignType::Md5)
        .named(MerchantFields::named(None, "mch_id"))
        .unsigned_answer();

    fn to_map(&self) -> Result<XmlMap, tenpay_xml::Error> {
        let mut map = XmlMap::new();
        map.insert("sign_type", SignType::Md5.as_str())?;
        Ok(map)
    }

    fn decode(verifier: &Verifier, _key: &ApiKey, answer: Answer) -> Result<XmlMap, Error> {
        verifier.check_unsigned(&answer)
    }
}
