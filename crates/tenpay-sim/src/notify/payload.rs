//! The notification bodies WeChat Pay sends: a signed payment notification, and a refund
//! notification whose `req_info` is encrypted with the merchant's key. Public, so that a tool
//! (the `tenpay notify pay` command) sends exactly what the simulator sends.
//!
//! Written here from the protocol, not shared with `tenpay-notify`, so that a mistake on one
//! side is caught by the other.

use aes::Aes256;
use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockModeEncrypt, KeyInit};
use base64::Engine as _;
use base64::prelude::BASE64_STANDARD;
use tenpay_sign::{ApiKey, SignType};
use tenpay_xml::{Fen, XmlMap};

use crate::clock::{compact, dashed};
use crate::ids::nonce;

/// The openid of the simulated payer when none is given.
pub const DEFAULT_OPENID: &str = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";

/// A payment notification's content, before it is signed.
///
/// ```
/// use tenpay_sign::{ApiKey, SignType};
/// use tenpay_sim::notify::PayPayload;
/// use tenpay_xml::{Fen, XmlMap};
///
/// let key = ApiKey::new("192006250b4c09247ec02edce69f6a2d")?;
/// let body = PayPayload::new("wx2421b1c4370ec43b", "10000100", "T1", Fen::new(888))
///     .transaction_id("4200000001")
///     .sign(&key, SignType::HmacSha256);
/// let received = XmlMap::parse(body.as_bytes())?;
/// received.verify(&key, SignType::HmacSha256)?;
/// assert_eq!(received.get("total_fee"), Some("888"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PayPayload {
    /// The appid.
    pub appid: String,
    /// The merchant id.
    pub mch_id: String,
    /// Service-provider mode: the sub-merchant's appid.
    pub sub_appid: Option<String>,
    /// Service-provider mode: the sub-merchant.
    pub sub_mch_id: Option<String>,
    /// The merchant's device.
    pub device_info: Option<String>,
    /// The merchant's order number.
    pub out_trade_no: String,
    /// WeChat Pay's transaction id (absent for a failed payment).
    pub transaction_id: Option<String>,
    /// `JSAPI`, `NATIVE`, `APP`, `MWEB`, `MICROPAY`.
    pub trade_type: String,
    /// The order's amount.
    pub total_fee: Fen,
    /// The coupon applied (zero: none).
    pub coupon_fee: Fen,
    /// A single-item discount's `promotion_detail` (JSON text), when one applied.
    pub promotion_detail: Option<String>,
    /// The currency.
    pub fee_type: String,
    /// The payer.
    pub openid: String,
    /// Service-provider mode: the payer under the sub-merchant's appid.
    pub sub_openid: Option<String>,
    /// The merchant's data, echoed.
    pub attach: Option<String>,
    /// When it was paid (Unix seconds).
    pub time_end: i64,
    /// A failed payment: `result_code=FAIL` with this `err_code`.
    pub err_code: Option<String>,
    /// Whether to include a `sign_type` field (real notifications vary).
    pub sign_type_field: bool,
    /// A deduction under a papay contract: its id (with `trade_state`, as WeChat Pay's
    /// deduction notifications carry them).
    pub contract_id: Option<String>,
}

impl PayPayload {
    /// A successful NATIVE payment of `total_fee` by the default payer, paid now.
    #[must_use]
    pub fn new(
        appid: impl Into<String>,
        mch_id: impl Into<String>,
        out_trade_no: impl Into<String>,
        total_fee: Fen,
    ) -> Self {
        Self {
            appid: appid.into(),
            mch_id: mch_id.into(),
            sub_appid: None,
            sub_mch_id: None,
            device_info: None,
            out_trade_no: out_trade_no.into(),
            transaction_id: None,
            trade_type: "NATIVE".into(),
            total_fee,
            coupon_fee: Fen::ZERO,
            promotion_detail: None,
            fee_type: "CNY".into(),
            openid: DEFAULT_OPENID.into(),
            sub_openid: None,
            attach: None,
            time_end: crate::clock::now_unix(),
            err_code: None,
            sign_type_field: false,
            contract_id: None,
        }
    }

    /// WeChat Pay's transaction id.
    #[must_use]
    pub fn transaction_id(mut self, id: impl Into<String>) -> Self {
        self.transaction_id = Some(id.into());
        self
    }

    /// The payment failed with `err_code` (`result_code=FAIL`).
    #[must_use]
    pub fn failed(mut self, err_code: impl Into<String>) -> Self {
        self.err_code = Some(err_code.into());
        self
    }

    /// Include a `sign_type` field.
    #[must_use]
    pub fn with_sign_type_field(mut self, yes: bool) -> Self {
        self.sign_type_field = yes;
        self
    }

    /// The signed XML body, with a fresh nonce.
    #[must_use]
    pub fn sign(&self, key: &ApiKey, sign_type: SignType) -> String {
        let mut m = XmlMap::new();
        let mut put = |k: &str, v: &str| {
            let _ = m.insert(k, v);
        };
        put("return_code", "SUCCESS");
        put("return_msg", "OK");
        put("appid", &self.appid);
        put("mch_id", &self.mch_id);
        if let Some(s) = &self.sub_appid {
            put("sub_appid", s);
        }
        if let Some(s) = &self.sub_mch_id {
            put("sub_mch_id", s);
        }
        if let Some(d) = &self.device_info {
            put("device_info", d);
        }
        put("nonce_str", &nonce());
        match &self.err_code {
            Some(code) => {
                put("result_code", "FAIL");
                put("err_code", code);
                put("err_code_des", "支付失败");
            }
            None => put("result_code", "SUCCESS"),
        }
        put("openid", &self.openid);
        put("is_subscribe", "N");
        if let Some(s) = &self.sub_openid {
            put("sub_openid", s);
            put("sub_is_subscribe", "N");
        }
        put("trade_type", &self.trade_type);
        put("bank_type", "CFT");
        put("total_fee", &self.total_fee.to_string());
        put("settlement_total_fee", &self.total_fee.to_string());
        put("fee_type", &self.fee_type);
        let cash = self
            .total_fee
            .checked_sub(self.coupon_fee)
            .unwrap_or(Fen::ZERO);
        put("cash_fee", &cash.to_string());
        if !self.coupon_fee.is_zero() {
            put("coupon_fee", &self.coupon_fee.to_string());
            put("coupon_count", "1");
            put("coupon_type_0", "CASH");
            put("coupon_id_0", "2000000000000000001");
            put("coupon_fee_0", &self.coupon_fee.to_string());
        }
        if let Some(p) = &self.promotion_detail {
            put("promotion_detail", p);
        }
        if let Some(t) = &self.transaction_id {
            put("transaction_id", t);
        }
        put("out_trade_no", &self.out_trade_no);
        if let Some(a) = &self.attach {
            put("attach", a);
        }
        put("time_end", &compact(self.time_end));
        if let Some(c) = &self.contract_id {
            put("contract_id", c);
            put(
                "trade_state",
                if self.err_code.is_some() {
                    "PAY_FAIL"
                } else {
                    "SUCCESS"
                },
            );
        }
        if self.sign_type_field {
            put("sign_type", sign_type.as_str());
        }
        let _ = m.sign(key, sign_type);
        m.to_xml()
    }
}

/// A refund notification's content, before it is encrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefundPayload {
    /// The appid (outside the encrypted part).
    pub appid: String,
    /// The merchant id (outside the encrypted part).
    pub mch_id: String,
    /// WeChat Pay's transaction id.
    pub transaction_id: String,
    /// The merchant's order number.
    pub out_trade_no: String,
    /// WeChat Pay's refund id.
    pub refund_id: String,
    /// The merchant's refund number.
    pub out_refund_no: String,
    /// The order's amount.
    pub total_fee: Fen,
    /// The refund's amount.
    pub refund_fee: Fen,
    /// `SUCCESS`, `CHANGE` or `REFUNDCLOSE`.
    pub refund_status: String,
    /// When it reached that status (Unix seconds).
    pub success_time: i64,
}

impl RefundPayload {
    /// The unsigned envelope with `req_info` encrypted under `key` (AES-256-ECB keyed with the
    /// lowercase hex MD5 of the key, PKCS#7, base64), and a fresh nonce.
    #[must_use]
    pub fn encrypt(&self, key: &ApiKey) -> String {
        let mut root = XmlMap::new();
        let mut put = |k: &str, v: &str| {
            let _ = root.insert(k, v);
        };
        put("transaction_id", &self.transaction_id);
        put("out_trade_no", &self.out_trade_no);
        put("refund_id", &self.refund_id);
        put("out_refund_no", &self.out_refund_no);
        put("total_fee", &self.total_fee.to_string());
        put("settlement_total_fee", &self.total_fee.to_string());
        put("refund_fee", &self.refund_fee.to_string());
        put("settlement_refund_fee", &self.refund_fee.to_string());
        put("refund_status", &self.refund_status);
        put("success_time", &dashed(self.success_time));
        put("refund_recv_accout", "支付用户零钱");
        put("refund_account", "REFUND_SOURCE_UNSETTLED_FUNDS");
        put("refund_request_source", "API");
        let req_info = encrypt_req_info(key, root.to_xml_with_root("root").as_bytes());
        let mut m = XmlMap::new();
        let mut put = |k: &str, v: &str| {
            let _ = m.insert(k, v);
        };
        put("return_code", "SUCCESS");
        put("appid", &self.appid);
        put("mch_id", &self.mch_id);
        put("nonce_str", &nonce());
        put("req_info", &req_info);
        m.to_xml()
    }
}

/// base64(AES-256-ECB(PKCS#7(plaintext))), key = the 32 ASCII bytes of lowercase hex MD5(API key).
fn encrypt_req_info(key: &ApiKey, plaintext: &[u8]) -> String {
    let digest = crate::model::md5_of(key.expose_secret());
    let hex = crate::ids::hex_upper(&digest).to_ascii_lowercase();
    let mut aes_key = [0u8; 32];
    aes_key.copy_from_slice(hex.as_bytes());
    let ct = ecb::Encryptor::<Aes256>::new(&aes_key.into()).encrypt_padded_vec::<Pkcs7>(plaintext);
    BASE64_STANDARD.encode(ct)
}
