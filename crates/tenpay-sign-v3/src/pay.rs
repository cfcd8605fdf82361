//! The parameters a payer's device needs to pay a v3 prepay id, signed with the merchant's
//! private key (`paySign`, `sign`).

use crate::message::check_nonce;
use crate::{SignError, Signer};

/// What `wx.requestPayment` (mini-program), `WeixinJSBridge` `getBrandWCPayRequest`
/// (JSAPI) take: serialise it as JSON for the page. `paySign` is RSA over
/// `appId\ntimeStamp\nnonceStr\npackage\n`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct JsapiPay {
    /// The appid the payer's openid belongs to.
    pub app_id: String,
    /// Unix seconds, as a string.
    pub time_stamp: String,
    /// The nonce.
    pub nonce_str: String,
    /// `prepay_id=…`.
    pub package: String,
    /// Always `RSA`.
    pub sign_type: &'static str,
    /// The signature.
    pub pay_sign: String,
}

/// What the WeChat open SDK's `PayReq` takes in an app: `sign` is RSA over
/// `appid\ntimestamp\nnoncestr\nprepayid\n` (the bare prepay id).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct AppPay {
    /// The app's appid.
    pub appid: String,
    /// The merchant id.
    pub partnerid: String,
    /// The prepay id.
    pub prepayid: String,
    /// Always `Sign=WXPay`.
    pub package: &'static str,
    /// The nonce.
    pub noncestr: String,
    /// Unix seconds, as a string.
    pub timestamp: String,
    /// The signature.
    pub sign: String,
}

fn lines(parts: [&str; 4]) -> Vec<u8> {
    let mut m = Vec::new();
    for p in parts {
        m.extend_from_slice(p.as_bytes());
        m.push(b'\n');
    }
    m
}

impl Signer {
    /// Signs JSAPI / mini-program pay parameters for a prepay id.
    ///
    /// # Errors
    /// [`SignError::Nonce`], [`SignError::Random`].
    pub fn jsapi_pay(
        &self,
        appid: &str,
        prepay_id: &str,
        timestamp: u64,
        nonce: &str,
    ) -> Result<JsapiPay, SignError> {
        check_nonce(nonce)?;
        let ts = timestamp.to_string();
        let package = format!("prepay_id={prepay_id}");
        let pay_sign = self.key().sign(&lines([appid, &ts, nonce, &package]))?;
        Ok(JsapiPay {
            app_id: appid.to_owned(),
            time_stamp: ts,
            nonce_str: nonce.to_owned(),
            package,
            sign_type: "RSA",
            pay_sign,
        })
    }

    /// Signs APP pay parameters for a prepay id.
    ///
    /// # Errors
    /// [`SignError::Nonce`], [`SignError::Random`].
    pub fn app_pay(
        &self,
        appid: &str,
        prepay_id: &str,
        timestamp: u64,
        nonce: &str,
    ) -> Result<AppPay, SignError> {
        check_nonce(nonce)?;
        let ts = timestamp.to_string();
        let sign = self.key().sign(&lines([appid, &ts, nonce, prepay_id]))?;
        Ok(AppPay {
            appid: appid.to_owned(),
            partnerid: self.mchid().to_owned(),
            prepayid: prepay_id.to_owned(),
            package: "Sign=WXPay",
            noncestr: nonce.to_owned(),
            timestamp: ts,
            sign,
        })
    }
}
