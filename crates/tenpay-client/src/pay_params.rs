//! Client-side pay parameters: what the app, the web page or the mini program needs to open
//! WeChat's cashier after unifiedorder. Signed with the merchant's key and sign type.

use serde::Serialize;
use tenpay_sign::{ApiKey, Canonical, SignType};

/// APP: the fields for the WeChat SDK's `PayReq` (all lower-case; `sign` covers the other six).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AppParams {
    /// The appid (the sub-merchant's in service-provider mode when it has one).
    pub appid: String,
    /// The mch_id (sub_mch_id in service-provider mode).
    pub partnerid: String,
    /// The prepay id.
    pub prepayid: String,
    /// Always `Sign=WXPay`.
    pub package: String,
    /// A fresh nonce.
    pub noncestr: String,
    /// Unix seconds, 10 digits.
    pub timestamp: String,
    /// The signature.
    pub sign: String,
}

/// JSAPI and mini program: the fields for `WeixinJSBridge` / `wx.requestPayment`
/// (camelCase; `paySign` covers the other five, `signType` included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct JsapiParams {
    /// The appid (sub_appid in service-provider mode when set).
    #[serde(rename = "appId")]
    pub app_id: String,
    /// Unix seconds.
    #[serde(rename = "timeStamp")]
    pub time_stamp: String,
    /// A fresh nonce.
    #[serde(rename = "nonceStr")]
    pub nonce_str: String,
    /// `prepay_id=…`.
    pub package: String,
    /// `MD5` or `HMAC-SHA256`.
    #[serde(rename = "signType")]
    pub sign_type: String,
    /// The signature.
    #[serde(rename = "paySign")]
    pub pay_sign: String,
}

/// Signs client-side pay parameters: pure signing, no client and no I/O (a mobile back end or
/// a batch job can use it alone). The nonce and the timestamp are inputs.
///
/// ```
/// use tenpay_client::PaySigner;
/// use tenpay_sign::{ApiKey, SignType};
/// // The reference vector (sdk-go TestAPPAPI).
/// let signer = PaySigner::new("wx2421b1c4370ec43b", "10000100",
///     ApiKey::new("192006250b4c09247ec02edce69f6a2d")?, SignType::Md5);
/// let p = signer.app("WX1217752501201407033233368018", "5K8264ILTKCH16CQ2502SI8ZNMTM67VS", 1414561699);
/// assert_eq!(p.sign, "C9612FA7A6BA5F51E195D5F9337CA288");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct PaySigner {
    appid: String,
    partnerid: String,
    key: ApiKey,
    sign_type: SignType,
}

impl PaySigner {
    /// Parameters for `appid` (the sub-merchant's appid in service-provider mode, when it has
    /// one) and `partnerid` (the mch_id, or the sub_mch_id), signed with the merchant's key.
    pub fn new(
        appid: impl Into<String>,
        partnerid: impl Into<String>,
        key: ApiKey,
        sign_type: SignType,
    ) -> Self {
        Self {
            appid: appid.into(),
            partnerid: partnerid.into(),
            key,
            sign_type,
        }
    }

    /// The APP parameters for a prepay id.
    #[must_use]
    pub fn app(&self, prepay_id: &str, noncestr: &str, timestamp: i64) -> AppParams {
        let timestamp = timestamp.to_string();
        let pairs = [
            ("appid", self.appid.as_str()),
            ("partnerid", self.partnerid.as_str()),
            ("prepayid", prepay_id),
            ("package", "Sign=WXPay"),
            ("noncestr", noncestr),
            ("timestamp", timestamp.as_str()),
        ];
        let sign = self.sign_pairs(&pairs);
        AppParams {
            appid: self.appid.clone(),
            partnerid: self.partnerid.clone(),
            prepayid: prepay_id.to_owned(),
            package: "Sign=WXPay".into(),
            noncestr: noncestr.to_owned(),
            timestamp,
            sign,
        }
    }

    /// The JSAPI / mini-program parameters for a prepay id.
    ///
    /// ```
    /// use tenpay_client::PaySigner;
    /// use tenpay_sign::{ApiKey, SignType};
    /// // The reference vector (sdk-go TestJSAPI).
    /// let signer = PaySigner::new("wx2421b1c4370ec43b", "10000100",
    ///     ApiKey::new("192006250b4c09247ec02edce69f6a2d")?, SignType::Md5);
    /// let p = signer.jsapi("u802345jgfjsdfgsdg888", "e61463f8efa94090b1f366cccfbbb444", 1414561699);
    /// assert_eq!(p.pay_sign, "A62A01211E36F5D2173A9EE93EBAC56C");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn jsapi(&self, prepay_id: &str, nonce_str: &str, time_stamp: i64) -> JsapiParams {
        let time_stamp = time_stamp.to_string();
        let package = format!("prepay_id={prepay_id}");
        let sign_type = self.sign_type.as_str().to_owned();
        let pairs = [
            ("appId", self.appid.as_str()),
            ("timeStamp", time_stamp.as_str()),
            ("nonceStr", nonce_str),
            ("package", package.as_str()),
            ("signType", sign_type.as_str()),
        ];
        let pay_sign = self.sign_pairs(&pairs);
        JsapiParams {
            app_id: self.appid.clone(),
            time_stamp,
            nonce_str: nonce_str.to_owned(),
            package,
            sign_type,
            pay_sign,
        }
    }

    fn sign_pairs(&self, pairs: &[(&str, &str)]) -> String {
        // Names are fixed and distinct, so the canonical form always exists.
        Canonical::new(pairs.iter().copied())
            .map(|c| c.sign(&self.key, self.sign_type).as_str().to_owned())
            .unwrap_or_default()
    }
}

/// The H5 payment URL with the page to return to (URL-encoded into `redirect_url`).
#[must_use]
pub fn mweb_url_with_redirect(mweb_url: &str, redirect_url: &str) -> String {
    let mut out = String::with_capacity(mweb_url.len() + redirect_url.len() * 3 + 14);
    out.push_str(mweb_url);
    out.push_str(if mweb_url.contains('?') {
        "&redirect_url="
    } else {
        "?redirect_url="
    });
    out.extend(percent_encoding::utf8_percent_encode(redirect_url, QUERY));
    out
}

/// Percent-encoding for a URL's query values, and for a field a route sends URL-encoded:
/// RFC 3986's unreserved characters (`A-Z a-z 0-9 - _ . ~`) are kept.
pub(crate) fn url_encode(v: &str) -> String {
    percent_encoding::utf8_percent_encode(v, QUERY).to_string()
}

const QUERY: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
