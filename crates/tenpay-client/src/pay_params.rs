//! Client-side pay parameters: what the app, the web page or the mini program needs to open
//! WeChat's cashier after unifiedorder. Signed with the merchant's key and sign type.

use serde::Serialize;
use tenpay_sign::Canonical;

use crate::Client;

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

impl Client {
    /// The signed APP parameters for a prepay id.
    ///
    /// ```
    /// use tenpay_client::Client;
    /// use tenpay_sign::{ApiKey, SignType};
    /// // The reference vector (sdk-go TestAPPAPI), with the nonce and clock pinned.
    /// let client = Client::builder("wx2421b1c4370ec43b", "10000100",
    ///         ApiKey::new("192006250b4c09247ec02edce69f6a2d")?, SignType::Md5)
    ///     .nonce_fn(|| "5K8264ILTKCH16CQ2502SI8ZNMTM67VS".into())
    ///     .clock_fn(|| 1414561699)
    ///     .build()?;
    /// let p = client.app_params("WX1217752501201407033233368018");
    /// assert_eq!(p.sign, "C9612FA7A6BA5F51E195D5F9337CA288");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn app_params(&self, prepay_id: &str) -> AppParams {
        let i = &self.inner;
        let appid = i.sub_appid.clone().unwrap_or_else(|| i.appid.clone());
        let partnerid = i.sub_mch_id.clone().unwrap_or_else(|| i.mch_id.clone());
        let noncestr = (i.nonce)();
        let timestamp = (i.clock)().to_string();
        let pairs = [
            ("appid", appid.as_str()),
            ("partnerid", partnerid.as_str()),
            ("prepayid", prepay_id),
            ("package", "Sign=WXPay"),
            ("noncestr", noncestr.as_str()),
            ("timestamp", timestamp.as_str()),
        ];
        let sign = self.sign_pairs(&pairs);
        AppParams {
            appid,
            partnerid,
            prepayid: prepay_id.to_owned(),
            package: "Sign=WXPay".into(),
            noncestr,
            timestamp,
            sign,
        }
    }

    /// The signed JSAPI / mini-program parameters for a prepay id.
    ///
    /// ```
    /// use tenpay_client::Client;
    /// use tenpay_sign::{ApiKey, SignType};
    /// // The reference vector (sdk-go TestJSAPI).
    /// let client = Client::builder("wx2421b1c4370ec43b", "10000100",
    ///         ApiKey::new("192006250b4c09247ec02edce69f6a2d")?, SignType::Md5)
    ///     .nonce_fn(|| "e61463f8efa94090b1f366cccfbbb444".into())
    ///     .clock_fn(|| 1414561699)
    ///     .build()?;
    /// let p = client.jsapi_params("u802345jgfjsdfgsdg888");
    /// assert_eq!(p.package, "prepay_id=u802345jgfjsdfgsdg888");
    /// assert_eq!(p.pay_sign, "A62A01211E36F5D2173A9EE93EBAC56C");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn jsapi_params(&self, prepay_id: &str) -> JsapiParams {
        let i = &self.inner;
        let app_id = i.sub_appid.clone().unwrap_or_else(|| i.appid.clone());
        let time_stamp = (i.clock)().to_string();
        let nonce_str = (i.nonce)();
        let package = format!("prepay_id={prepay_id}");
        let sign_type = i.sign_type.as_str().to_owned();
        let pairs = [
            ("appId", app_id.as_str()),
            ("timeStamp", time_stamp.as_str()),
            ("nonceStr", nonce_str.as_str()),
            ("package", package.as_str()),
            ("signType", sign_type.as_str()),
        ];
        let pay_sign = self.sign_pairs(&pairs);
        JsapiParams {
            app_id,
            time_stamp,
            nonce_str,
            package,
            sign_type,
            pay_sign,
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
        for b in redirect_url.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }

    fn sign_pairs(&self, pairs: &[(&str, &str)]) -> String {
        // Names are fixed and distinct, so the canonical form always exists.
        Canonical::new(pairs.iter().copied())
            .map(|c| {
                c.sign(&self.inner.key, self.inner.sign_type)
                    .as_str()
                    .to_owned()
            })
            .unwrap_or_default()
    }
}
