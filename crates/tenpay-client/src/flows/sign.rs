//! What the front end pays or signs with: APP and JSAPI parameters, the H5 redirect, the
//! papay signing pages; signed with the merchant's key and the client's nonce and clock.

use tenpay_sign::SignType;
use tenpay_xml::XmlMap;

use crate::papay::signing_fields;
use crate::pay_params::url_encode;
use crate::*;

/// The H5 signing page's rules: the plain pool, HMAC-SHA256, the merchant's ids.
const H5_ENTRUST: Route<'static> =
    Route::new("/papay/h5entrustweb").signed_with(SignType::HmacSha256);

impl Client {
    /// The [`PaySigner`] of this client's merchant (the sub-merchant's appid and id in
    /// service-provider mode).
    #[must_use]
    pub fn pay_signer(&self) -> PaySigner {
        self.merchant().pay_signer()
    }

    /// The signed APP parameters for a prepay id, with a fresh nonce and the clock's time
    /// (see [`PaySigner::app`]).
    ///
    /// ```
    /// use tenpay_client::{Client, Merchant};
    /// use tenpay_sign::{ApiKey, SignType};
    /// // The reference vector (sdk-go TestAPPAPI), with the nonce and clock pinned.
    /// let client = Client::builder(Merchant::new("wx2421b1c4370ec43b", "10000100",
    ///         ApiKey::new("192006250b4c09247ec02edce69f6a2d")?, SignType::Md5))
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
        self.pay_signer().app(prepay_id, &(i.nonce)(), (i.clock)())
    }

    /// The signed JSAPI / mini-program parameters for a prepay id, with a fresh nonce and the
    /// clock's time (see [`PaySigner::jsapi`]).
    #[must_use]
    pub fn jsapi_params(&self, prepay_id: &str) -> JsapiParams {
        let i = &self.inner;
        self.pay_signer()
            .jsapi(prepay_id, &(i.nonce)(), (i.clock)())
    }

    /// The signed URL of a product's QR code (Native mode 1), with a fresh nonce and the
    /// clock's time; see [`native_url`].
    #[must_use]
    pub fn native_url(&self, product_id: &ProductId) -> String {
        let i = &self.inner;
        native_url(self.merchant(), product_id, (i.clock)(), &(i.nonce)())
    }

    /// The H5 payment URL with the page to return to; see [`mweb_url_with_redirect`].
    #[must_use]
    pub fn mweb_url_with_redirect(mweb_url: &str, redirect_url: &str) -> String {
        mweb_url_with_redirect(mweb_url, redirect_url)
    }

    /// The signing fields with this client's ids and clock, for the signing pages.
    fn page_fields(&self, s: &ContractSigning, version: bool) -> Result<XmlMap, Error> {
        let mut m = XmlMap::new();
        m.insert("appid", self.merchant().appid())
            .map_err(Error::Request)?;
        m.insert("mch_id", self.merchant().mch_id())
            .map_err(Error::Request)?;
        signing_fields(&mut m, s, (self.inner.clock)(), version).map_err(Error::Request)?;
        Ok(m)
    }

    fn signed_url(&self, path: &str, mut m: XmlMap, sign_type: SignType) -> Result<String, Error> {
        m.sign(self.merchant().key(), sign_type)
            .map_err(Error::Request)?;
        let query: Vec<String> = m
            .iter()
            .map(|(k, v)| format!("{k}={}", url_encode(v)))
            .collect();
        Ok(format!("{}{path}?{}", self.base(), query.join("&")))
    }

    /// The official-account signing page to open in WeChat's browser (`papay/entrustweb`):
    /// MD5, no nonce; `notify_url` is signed raw and URL-encoded in the query.
    ///
    /// # Errors
    /// [`Error::Request`] for a value XML cannot carry.
    pub fn entrust_web_url(&self, s: &ContractSigning) -> Result<String, Error> {
        let m = self.page_fields(s, true)?;
        self.signed_url("/papay/entrustweb", m, SignType::Md5)
    }

    /// The H5 signing page (`papay/h5entrustweb`, HMAC-SHA256; a product WeChat Pay grants
    /// on request): request it from the server and send the user to its `redirect_url`.
    ///
    /// # Errors
    /// As [`Client::entrust_web_url`].
    pub fn h5_entrust_url(&self, s: &ContractSigning, client_ip: &str) -> Result<String, Error> {
        let mut m = self.page_fields(s, true)?;
        m.insert("clientip", client_ip).map_err(Error::Request)?;
        self.signed_url(H5_ENTRUST.path(), m, SignType::HmacSha256)
    }

    /// Requests the H5 signing page from the server (`papay/h5entrustweb`, the URL of
    /// [`Client::h5_entrust_url`]) and returns where to send the user: its `redirect_url`.
    /// The answer is read as an unsigned claim (its documented fields carry no `sign`):
    /// the envelope, `result_code` and, where present, the merchant's ids. The signing's
    /// outcome arrives as a contract notification.
    ///
    /// # Errors
    /// As [`Client::entrust_web_url`]; [`Error::Transport`] and [`Error::Http`];
    /// [`Error::Protocol`] or [`Error::Business`] for a refusal; [`Error::Decode`] for an
    /// answer without `redirect_url`.
    pub async fn h5_entrust(
        &self,
        s: &ContractSigning,
        client_ip: &str,
    ) -> Result<H5Entrust, Error> {
        let url = self.h5_entrust_url(s, client_ip)?;
        let answer = self
            .get(self.pool_for(&H5_ENTRUST)?, &url, MAX_ANSWER_BYTES)
            .await?;
        let map = self
            .merchant()
            .verifier(&H5_ENTRUST)
            .check_unsigned(&answer)?;
        let mut entrust: H5Entrust = tenpay_xml::from_map(&map).map_err(Error::Decode)?;
        entrust.raw = map;
        Ok(entrust)
    }

    /// The `extraData` for `wx.navigateToMiniProgram` to WeChat Pay's signing mini-program
    /// (`appId: "wxbd687630cd02ce1d"`): MD5, no nonce, no version, `notify_url` raw.
    ///
    /// # Errors
    /// As [`Client::entrust_web_url`].
    pub fn miniprogram_entrust_data(&self, s: &ContractSigning) -> Result<XmlMap, Error> {
        let mut m = self.page_fields(s, false)?;
        m.sign(self.merchant().key(), SignType::Md5)
            .map_err(Error::Request)?;
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_signing_url_signs_raw_values_and_encodes_them_in_the_query() {
        let c = Client::builder(Merchant::new(
            "wx2421b1c4370ec43b",
            "10000100",
            tenpay_sign::ApiKey::new("192006250b4c09247ec02edce69f6a2d").unwrap(),
            SignType::Md5,
        ))
        .clock_fn(|| 1_414_488_825)
        .build()
        .unwrap();
        let s = ContractSigning::new("106", "122", 123, "name1", "www.qq.com/test/papay");
        let url = c.entrust_web_url(&s).unwrap();
        // V2-FAMILIES.md §4.6 (SDKGO's vector).
        assert!(
            url.contains("sign=EB82C3E01B0DB4639921AE07F5A1E68F"),
            "{url}"
        );
        assert!(
            url.contains("notify_url=www.qq.com%2Ftest%2Fpapay"),
            "{url}"
        );
        assert!(url.starts_with("https://api.mch.weixin.qq.com/papay/entrustweb?"));
        let extra = c.miniprogram_entrust_data(&s).unwrap();
        assert!(extra.get("version").is_none());
        assert_eq!(extra.get("notify_url"), Some("www.qq.com/test/papay"));
    }
}
