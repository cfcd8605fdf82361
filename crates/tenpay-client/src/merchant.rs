//! [`Merchant`] (who a request is from) and [`MerchantExt`]: signing a request body and
//! reading an answer with no HTTP client. The request half of the sans-IO seam, as `aws-sigv4` is for
//! AWS: [`Client`](crate::Client) holds one, and so can your own HTTP stack.
//!
//! ```
//! use tenpay_client::{Merchant, MerchantExt, OrderQuery, OutTradeNo};
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

use tenpay_sign::{ApiKey, Canonical, SignType};
use tenpay_xml::XmlMap;

use crate::Error;
use crate::answer::{Answer, Verifier};
use crate::endpoint::{Endpoint, Route};

/// A merchant as WeChat Pay knows it: [`tenpay_sign::Merchant`], the one value the client,
/// the notifier and your own HTTP stack are all given.
pub use tenpay_sign::Merchant;

mod sealed {
    pub trait Sealed {}
    impl Sealed for tenpay_sign::Merchant {}
}

/// What a [`Merchant`] does with the client's endpoint descriptions, with no HTTP client:
/// sign a request body, and verify and decode an answer. Implemented for [`Merchant`] only.
pub trait MerchantExt: sealed::Sealed {
    /// What signs the parameters the front end pays with (APP, JSAPI): the sub-merchant's
    /// appid and id in service-provider mode, else the merchant's.
    #[must_use]
    fn pay_signer(&self) -> crate::PaySigner;

    /// The algorithm a request on `route` is signed with, and its answer must be: the
    /// route's own when it fixes one, else the merchant's.
    #[must_use]
    fn sign_type_for(&self, route: &Route<'_>) -> SignType;

    /// The signed XML body of `request`, with a fresh random nonce: what to POST to its
    /// route's path.
    ///
    /// # Errors
    /// [`Error::Request`] for a field XML cannot carry.
    fn sign<E: Endpoint>(&self, request: &E) -> Result<String, Error>;

    /// [`MerchantExt::sign`] with a given nonce (for vectors; a nonce must never repeat).
    ///
    /// # Errors
    /// [`Error::Request`] for a field XML cannot carry.
    fn sign_with_nonce<E: Endpoint>(&self, request: &E, nonce: &str) -> Result<String, Error>;

    /// What answers on `route` are checked against: this merchant (and sub-merchant) under
    /// the route's field names, and the route's sign type.
    #[must_use]
    fn verifier(&self, route: &Route<'_>) -> Verifier;

    /// Verifies and decodes an answer to `E` received by your own HTTP stack: the checks
    /// [`Client::execute`](crate::Client::execute) makes (envelope, `return_code`, the
    /// signature with the request's algorithm, appid and mch_id, `result_code`).
    ///
    /// # Errors
    /// As [`Client::execute`](crate::Client::execute), without the transport errors.
    fn read_answer<E: Endpoint>(&self, body: &[u8]) -> Result<E::Response, Error>;
}

impl MerchantExt for Merchant {
    fn pay_signer(&self) -> crate::PaySigner {
        crate::PaySigner::new(
            self.sub_appid().unwrap_or(self.appid()),
            self.sub_mch_id().unwrap_or(self.mch_id()),
            self.key().clone(),
            self.sign_type(),
        )
    }

    fn sign_type_for(&self, route: &Route<'_>) -> SignType {
        route.sign_type.unwrap_or(self.sign_type())
    }

    fn sign<E: Endpoint>(&self, request: &E) -> Result<String, Error> {
        self.sign_with_nonce(request, &crate::client::default_nonce())
    }

    fn sign_with_nonce<E: Endpoint>(&self, request: &E, nonce: &str) -> Result<String, Error> {
        let map = request.to_map().map_err(Error::Request)?;
        let route = E::ROUTE;
        sign_map(
            self,
            &route,
            self.sign_type_for(&route),
            self.key(),
            map,
            nonce,
        )
        .map_err(Error::Request)
    }

    fn verifier(&self, route: &Route<'_>) -> Verifier {
        let v = Verifier::new(self.appid(), self.mch_id(), self.sign_type_for(route));
        let v = match self.sub_mch_id() {
            Some(sub) => v.sub_merchant(sub, self.sub_appid().map(str::to_owned)),
            None => v,
        };
        let v = if route.result_code {
            v
        } else {
            v.without_result_code()
        };
        let (appid, mch_id) = route.merchant_fields.answer_names();
        v.merchant_fields(appid, mch_id)
    }

    fn read_answer<E: Endpoint>(&self, body: &[u8]) -> Result<E::Response, Error> {
        E::decode(
            &self.verifier(&E::ROUTE),
            self.key(),
            Answer::new(bytes::Bytes::copy_from_slice(body)),
        )
    }
}

/// The one signing function: `merchant`'s ids under the route's names (the pay family's
/// sub-merchant ids too), `nonce_str` where the route has one, `sign_type` for HMAC-SHA256,
/// a countersignature where the route has one, and `sign` with `key` (the API key, or the
/// sandbox's); then the field the route sends
/// URL-encoded, if any, is encoded (it was signed as it is).
pub(crate) fn sign_map(
    merchant: &Merchant,
    route: &Route<'_>,
    sign_type: SignType,
    key: &ApiKey,
    mut map: XmlMap,
    nonce: &str,
) -> Result<String, tenpay_xml::Error> {
    let fields = route.merchant_fields;
    if let Some(name) = fields.appid {
        map.insert(name, merchant.appid())?;
    }
    map.insert(fields.mch_id, merchant.mch_id())?;
    if let Some((appid, mch_id)) = fields.again {
        map.insert(appid, merchant.appid())?;
        map.insert(mch_id, merchant.mch_id())?;
    }
    if fields.sub_merchant {
        if let Some(s) = merchant.sub_appid() {
            map.insert("sub_appid", s)?;
        }
        if let Some(s) = merchant.sub_mch_id() {
            map.insert("sub_mch_id", s)?;
        }
    }
    if route.nonce {
        map.insert("nonce_str", nonce)?;
    }
    if matches!(sign_type, SignType::HmacSha256) {
        map.insert("sign_type", SignType::HmacSha256.as_str())?;
    }
    if let Some((name, fields)) = route.countersign {
        let secret = merchant
            .wecom_secret()
            .ok_or_else(|| tenpay_xml::Error::InvalidValue {
                field: name.to_owned(),
                reason: "the merchant has no WeCom secret (Merchant::with_wecom_secret)".into(),
            })?;
        let pairs = fields
            .iter()
            .filter_map(|f| map.get(f).filter(|v| !v.is_empty()).map(|v| (*f, v)));
        let second = Canonical::new(pairs)?.sign_md5_with_secret(secret);
        map.insert(name, second.as_str())?;
    }
    map.sign(key, sign_type)?;
    if let Some(name) = route.url_encoded
        && let Some(raw) = map.get(name).map(str::to_owned)
    {
        map.remove(name);
        map.insert(name, &crate::pay_params::url_encode(&raw))?;
    }
    Ok(map.to_xml())
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
    fn shorturl_signs_the_long_url_as_it_is_and_sends_it_url_encoded() {
        let m = merchant();
        let long = "weixin://wxpay/bizpayurl?appid=wx1&product_id=a b";
        let body = m
            .sign_with_nonce(&crate::ShortUrl::new(long), "n0nce")
            .unwrap();
        let mut map = XmlMap::parse(body.as_bytes()).unwrap();
        assert_eq!(
            map.get("long_url"),
            Some("weixin%3A%2F%2Fwxpay%2Fbizpayurl%3Fappid%3Dwx1%26product_id%3Da%20b")
        );
        assert!(
            map.verify(m.key(), SignType::Md5).is_err(),
            "not over the sent text"
        );
        map.remove("long_url");
        map.insert("long_url", long).unwrap();
        map.verify(m.key(), SignType::Md5).unwrap();
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
