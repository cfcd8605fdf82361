//! [`Merchant`]: who a request is from, as a value that signs a request body and reads an
//! answer with no HTTP client. The request half of the sans-IO seam, as `aws-sigv4` is for
//! AWS: [`Client`](crate::Client) holds one, and so can your own HTTP stack.
//!
//! ```
//! use tenpay_client::{Merchant, OrderQuery, OutTradeNo};
//! use tenpay_sign::{ApiKey, SignType};
//!
//! let merchant = Merchant::new(
//!     "wx2421b1c4370ec43b",
//!     "10000100",
//!     ApiKey::new("192006250b4c09247ec02edce69f6a2d")?,
//!     SignType::Md5,
//! );
//! let query = OrderQuery::by_out_trade_no(OutTradeNo::new("20150806125346")?);
//! let body = merchant.sign_with_nonce(&query, "5K8264ILTKCH16CQ2502SI8ZNMTM67VS")?;
//! assert!(body.contains("<mch_id>10000100</mch_id>"));
//! assert!(body.contains("<sign>"));
//! // POST `body` to https://api.mch.weixin.qq.com/pay/orderquery with any HTTP client,
//! // then `merchant.read_answer::<OrderQuery>(&answer_bytes)`.
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use tenpay_sign::{ApiKey, SignType};
use tenpay_xml::XmlMap;

use crate::Error;
use crate::answer::{Answer, Verifier};
use crate::endpoint::{Endpoint, Route};

/// A merchant as WeChat Pay knows it: the appid, the mch_id, the API key, the sign type its
/// requests use, and in service-provider mode the sub-merchant's ids. Cheap to clone; the
/// key is never printed.
#[derive(Clone)]
pub struct Merchant {
    appid: String,
    mch_id: String,
    key: ApiKey,
    sign_type: SignType,
    sub_appid: Option<String>,
    sub_mch_id: Option<String>,
}

impl std::fmt::Debug for Merchant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Merchant")
            .field("appid", &self.appid)
            .field("mch_id", &self.mch_id)
            .field("sign_type", &self.sign_type)
            .field("sub_appid", &self.sub_appid)
            .field("sub_mch_id", &self.sub_mch_id)
            .finish_non_exhaustive()
    }
}

impl Merchant {
    /// The merchant `mch_id` paying through `appid`, signing with `key` and `sign_type`.
    pub fn new(
        appid: impl Into<String>,
        mch_id: impl Into<String>,
        key: ApiKey,
        sign_type: SignType,
    ) -> Self {
        Self {
            appid: appid.into(),
            mch_id: mch_id.into(),
            key,
            sign_type,
            sub_appid: None,
            sub_mch_id: None,
        }
    }

    /// The same merchant acting for a sub-merchant (service-provider mode): requests of the
    /// pay family carry `sub_mch_id` (and `sub_appid`), and answers must name them.
    #[must_use]
    pub fn with_sub_merchant(
        mut self,
        sub_mch_id: impl Into<String>,
        sub_appid: Option<String>,
    ) -> Self {
        self.sub_mch_id = Some(sub_mch_id.into());
        self.sub_appid = sub_appid;
        self
    }

    /// The same merchant through another of its apps (a mini program beside an APP).
    #[must_use]
    pub fn with_appid(mut self, appid: impl Into<String>) -> Self {
        self.appid = appid.into();
        self
    }

    /// The appid.
    #[must_use]
    pub fn appid(&self) -> &str {
        &self.appid
    }

    /// The merchant id.
    #[must_use]
    pub fn mch_id(&self) -> &str {
        &self.mch_id
    }

    /// The sign type requests use unless their route fixes another.
    #[must_use]
    pub fn sign_type(&self) -> SignType {
        self.sign_type
    }

    /// The sub-merchant's mch_id, in service-provider mode.
    #[must_use]
    pub fn sub_mch_id(&self) -> Option<&str> {
        self.sub_mch_id.as_deref()
    }

    /// The sub-merchant's appid, in service-provider mode.
    #[must_use]
    pub fn sub_appid(&self) -> Option<&str> {
        self.sub_appid.as_deref()
    }

    /// The API key.
    #[must_use]
    pub fn key(&self) -> &ApiKey {
        &self.key
    }

    /// What signs the parameters the front end pays with (APP, JSAPI): the sub-merchant's
    /// appid and id in service-provider mode, else the merchant's.
    #[must_use]
    pub fn pay_signer(&self) -> crate::PaySigner {
        crate::PaySigner::new(
            self.sub_appid.as_deref().unwrap_or(&self.appid),
            self.sub_mch_id.as_deref().unwrap_or(&self.mch_id),
            self.key.clone(),
            self.sign_type,
        )
    }

    /// The algorithm a request on `route` is signed with, and its answer must be: the
    /// route's own when it fixes one, else the merchant's.
    #[must_use]
    pub fn sign_type_for(&self, route: &Route<'_>) -> SignType {
        route.sign_type.unwrap_or(self.sign_type)
    }

    /// The signed XML body of `request`, with a fresh random nonce: what to POST to its
    /// route's path.
    ///
    /// # Errors
    /// [`Error::Request`] for a field XML cannot carry.
    pub fn sign<E: Endpoint>(&self, request: &E) -> Result<String, Error> {
        self.sign_with_nonce(request, &crate::client::default_nonce())
    }

    /// [`Merchant::sign`] with a given nonce (for vectors; a nonce must never repeat).
    ///
    /// # Errors
    /// [`Error::Request`] for a field XML cannot carry.
    pub fn sign_with_nonce<E: Endpoint>(&self, request: &E, nonce: &str) -> Result<String, Error> {
        let map = request.to_map().map_err(Error::Request)?;
        let route = E::ROUTE;
        self.sign_map(&route, self.sign_type_for(&route), &self.key, map, nonce)
            .map_err(Error::Request)
    }

    /// The one signing function: the merchant's ids under the route's names (the pay
    /// family's sub-merchant ids too), `nonce_str` where the route has one, `sign_type` for
    /// HMAC-SHA256, and `sign` with `key` (the API key, or the sandbox's).
    pub(crate) fn sign_map(
        &self,
        route: &Route<'_>,
        sign_type: SignType,
        key: &ApiKey,
        mut map: XmlMap,
        nonce: &str,
    ) -> Result<String, tenpay_xml::Error> {
        let fields = route.merchant_fields;
        if let Some(name) = fields.appid {
            map.insert(name, &self.appid)?;
        }
        map.insert(fields.mch_id, &self.mch_id)?;
        if let Some((appid, mch_id)) = fields.again {
            map.insert(appid, &self.appid)?;
            map.insert(mch_id, &self.mch_id)?;
        }
        if fields.sub_merchant {
            if let Some(s) = &self.sub_appid {
                map.insert("sub_appid", s)?;
            }
            if let Some(s) = &self.sub_mch_id {
                map.insert("sub_mch_id", s)?;
            }
        }
        if route.nonce {
            map.insert("nonce_str", nonce)?;
        }
        if matches!(sign_type, SignType::HmacSha256) {
            map.insert("sign_type", SignType::HmacSha256.as_str())?;
        }
        map.sign(key, sign_type)?;
        Ok(map.to_xml())
    }

    /// What answers on `route` are checked against: this merchant (and sub-merchant) under
    /// the route's field names, and the route's sign type.
    #[must_use]
    pub fn verifier(&self, route: &Route<'_>) -> Verifier {
        let v = Verifier::new(&self.appid, &self.mch_id, self.sign_type_for(route));
        let v = match &self.sub_mch_id {
            Some(sub) => v.sub_merchant(sub, self.sub_appid.clone()),
            None => v,
        };
        let (appid, mch_id) = route.merchant_fields.answer_names();
        v.merchant_fields(appid, mch_id)
    }

    /// Verifies and decodes an answer to `E` received by your own HTTP stack: the checks
    /// [`Client::execute`](crate::Client::execute) makes (envelope, `return_code`, the
    /// signature with the request's algorithm, appid and mch_id, `result_code`).
    ///
    /// # Errors
    /// As [`Client::execute`](crate::Client::execute), without the transport errors.
    pub fn read_answer<E: Endpoint>(&self, body: &[u8]) -> Result<E::Response, Error> {
        E::decode(
            &self.verifier(&E::ROUTE),
            &self.key,
            Answer::new(bytes::Bytes::copy_from_slice(body)),
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{CloseOrder, DownloadFundFlow, OutTradeNo};

    fn merchant() -> Merchant {
        Merchant::new(
            "wx2421b1c4370ec43b",
            "10000100",
            ApiKey::new("192006250b4c09247ec02edce69f6a2d").unwrap(),
            SignType::Md5,
        )
    }

    #[test]
    fn a_signed_body_verifies_with_the_key_and_carries_the_route_fields() {
        let m = merchant().with_sub_merchant("1900000109", None);
        let close = CloseOrder::new(OutTradeNo::new("1217752501201407033233368018").unwrap());
        let body = m.sign_with_nonce(&close, "n0nce").unwrap();
        let map = XmlMap::parse(body.as_bytes()).unwrap();
        map.verify(m.key(), SignType::Md5).unwrap();
        assert_eq!(map.get("appid"), Some("wx2421b1c4370ec43b"));
        assert_eq!(map.get("sub_mch_id"), Some("1900000109"));
        assert_eq!(map.get("nonce_str"), Some("n0nce"));
        assert_eq!(
            map.get("sign_type"),
            None,
            "MD5 is the default and not sent"
        );
    }

    #[test]
    fn a_route_that_fixes_hmac_is_signed_with_it_whatever_the_merchant_uses() {
        let m = merchant();
        let route = <DownloadFundFlow as Endpoint>::ROUTE;
        assert_eq!(m.sign_type_for(&route), SignType::HmacSha256);
        assert_eq!(m.verifier(&route).sign_type(), SignType::HmacSha256);
        assert!(
            !format!("{m:?}").contains("192006250b4c"),
            "the key is not printed"
        );
    }
}
