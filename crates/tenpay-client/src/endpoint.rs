//! The endpoint seam: each request type has one [`Route`] (where it is sent and its rules)
//! and knows how to decode its answer.
//!
//! The trait is open: implement it for a request of a V2 endpoint this crate does not model,
//! and call it with [`Client::execute`](crate::Client::execute). For a one-off call without a
//! type, see [`RawCall`](crate::RawCall).
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use tenpay_client::{Answer, Endpoint, Error, Route, Verifier};
//! use tenpay_sign::ApiKey;
//! use tenpay_xml::XmlMap;
//!
//! /// `/pay/closeorder`, modelled by hand.
//! #[derive(Serialize)]
//! struct MyClose {
//!     out_trade_no: String,
//! }
//!
//! #[derive(Deserialize)]
//! struct MyCloseAnswer {
//!     result_code: String,
//! }
//!
//! impl Endpoint for MyClose {
//!     type Response = MyCloseAnswer;
//!     const ROUTE: Route<'static> = Route::new("/pay/closeorder").retry_safe();
//!     fn to_map(&self) -> Result<XmlMap, tenpay_xml::Error> {
//!         tenpay_xml::to_map(self)
//!     }
//!     fn decode(v: &Verifier, key: &ApiKey, answer: Answer) -> Result<MyCloseAnswer, Error> {
//!         // A signed answer: verify, then serde (unsigned ones: `v.check_unsigned`).
//!         Ok(v.decode(key, &answer)?.0)
//!     }
//! }
//! ```

use tenpay_sign::{ApiKey, SignType};
use tenpay_xml::XmlMap;

use crate::Error;
use crate::answer::{Answer, Verifier};

/// How a request names the merchant. The pay family sends `appid` and `mch_id` (and, in
/// service-provider mode, `sub_appid` and `sub_mch_id`); the money-out family has its own
/// names (`mch_appid` / `mchid` for transfers, `wxappid` / `mch_id` for red packets) and some
/// of its endpoints carry no appid at all (`pay_bank`, `getpublickey`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MerchantFields {
    pub(crate) appid: Option<&'static str>,
    pub(crate) mch_id: &'static str,
    pub(crate) sub_merchant: bool,
    /// The same ids sent again under other names (`contractorder`'s `contract_appid` and
    /// `contract_mchid`).
    pub(crate) again: Option<(&'static str, &'static str)>,
}

impl MerchantFields {
    /// `appid`, `mch_id`, and the sub-merchant's fields in service-provider mode.
    pub const PAY: Self = Self {
        appid: Some("appid"),
        mch_id: "mch_id",
        sub_merchant: true,
        again: None,
    };

    /// The appid under `appid` (`None`: not sent) and the mch_id under `mch_id`; no
    /// sub-merchant fields.
    #[must_use]
    pub const fn named(appid: Option<&'static str>, mch_id: &'static str) -> Self {
        Self {
            appid,
            mch_id,
            sub_merchant: false,
            again: None,
        }
    }

    /// The appid and the mch_id also sent under `appid` and `mch_id` (`pay/contractorder`
    /// names the contract's merchant beside the order's).
    #[must_use]
    pub const fn again_as(mut self, appid: &'static str, mch_id: &'static str) -> Self {
        self.again = Some((appid, mch_id));
        self
    }

    /// The field names answers are checked under (an empty appid name: the request has no
    /// appid, and its answer's is not checked).
    pub(crate) fn answer_names(self) -> (&'static str, &'static str) {
        (self.appid.unwrap_or(""), self.mch_id)
    }
}

/// Which WeChat Pay host a route is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Host {
    /// The merchant API (`api.mch.weixin.qq.com`, or the client's base URL): every endpoint
    /// but a few.
    Api,
    /// The risk host (`fraud.mch.weixin.qq.com` in production), where `getpublickey` is:
    /// see [`ClientBuilder::bank_key_url`](crate::ClientBuilder::bank_key_url).
    Risk,
    /// The face-pay host (`payapp.weixin.qq.com` in production), where
    /// `get_wxpayface_authinfo` is; the base URL otherwise (the simulator serves it).
    FacePay,
}

/// Everything about an endpoint but its fields: where it is, how it is signed and sent, and
/// how its outcome is judged. One value per endpoint ([`Endpoint::ROUTE`]), built in a
/// `const` from [`Route::new`] and the rules that differ:
///
/// ```
/// use tenpay_client::{MerchantFields, Route};
/// use tenpay_sign::SignType;
///
/// // `/pay/downloadfundflow`: the certificate, HMAC-SHA256 whatever the merchant uses, a
/// // large answer, safe to repeat.
/// const FUND_FLOW: Route<'static> = Route::new("/pay/downloadfundflow")
///     .certificate()
///     .signed_with(SignType::HmacSha256)
///     .large_answer()
///     .retry_safe();
/// assert!(FUND_FLOW.needs_certificate() && !FUND_FLOW.moves_money());
/// assert_eq!(FUND_FLOW.merchant_fields(), MerchantFields::PAY);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route<'a> {
    pub(crate) path: &'a str,
    pub(crate) host: Host,
    pub(crate) certificate: bool,
    pub(crate) retry_safe: bool,
    pub(crate) sign_type: Option<SignType>,
    pub(crate) large_answer: bool,
    pub(crate) merchant_fields: MerchantFields,
    pub(crate) nonce: bool,
    pub(crate) signed_answer: bool,
    pub(crate) moves_money: bool,
    pub(crate) url_encoded: Option<&'static str>,
    pub(crate) result_code: bool,
    pub(crate) countersign: Option<(&'static str, &'static [&'static str])>,
}

impl<'a> Route<'a> {
    /// The pay family's rules at `path` (e.g. `/pay/orderquery`): the API host, no
    /// certificate, the merchant's sign type, `appid` / `mch_id` and the sub-merchant's ids,
    /// a `nonce_str`, a signed answer of at most [`MAX_ANSWER_BYTES`](crate::MAX_ANSWER_BYTES),
    /// not repeated after an unknown outcome, moving no money.
    #[must_use]
    pub const fn new(path: &'a str) -> Self {
        Self {
            path,
            host: Host::Api,
            certificate: false,
            retry_safe: false,
            sign_type: None,
            large_answer: false,
            merchant_fields: MerchantFields::PAY,
            nonce: true,
            signed_answer: true,
            moves_money: false,
            url_encoded: None,
            result_code: true,
            countersign: None,
        }
    }

    /// The same rules at another path (a [`RawCall`](crate::RawCall)'s, known at run time).
    pub(crate) const fn at<'b>(self, path: &'b str) -> Route<'b> {
        Route {
            path,
            host: self.host,
            certificate: self.certificate,
            retry_safe: self.retry_safe,
            sign_type: self.sign_type,
            large_answer: self.large_answer,
            merchant_fields: self.merchant_fields,
            nonce: self.nonce,
            signed_answer: self.signed_answer,
            moves_money: self.moves_money,
            url_encoded: self.url_encoded,
            result_code: self.result_code,
            countersign: self.countersign,
        }
    }

    /// On another host.
    #[must_use]
    pub const fn host(mut self, host: Host) -> Self {
        self.host = host;
        self
    }

    /// Needs the merchant's client certificate (`/secapi/`, the money-out family).
    #[must_use]
    pub const fn certificate(mut self) -> Self {
        self.certificate = true;
        self
    }

    /// Repeating the identical request after an unknown outcome is safe (queries; calls
    /// that are idempotent under their number).
    #[must_use]
    pub const fn retry_safe(mut self) -> Self {
        self.retry_safe = true;
        self
    }

    /// Signed with `sign_type` whatever the merchant uses (downloadfundflow and profit
    /// sharing take HMAC-SHA256 only, the money-out family MD5 only).
    #[must_use]
    pub const fn signed_with(mut self, sign_type: SignType) -> Self {
        self.sign_type = Some(sign_type);
        self
    }

    /// The answer can be large (bills, fund flows): capped by
    /// [`ClientBuilder::max_bill_bytes`](crate::ClientBuilder::max_bill_bytes).
    #[must_use]
    pub const fn large_answer(mut self) -> Self {
        self.large_answer = true;
        self
    }

    /// The merchant is named with other fields.
    #[must_use]
    pub const fn named(mut self, fields: MerchantFields) -> Self {
        self.merchant_fields = fields;
        self
    }

    /// The request carries no `nonce_str` (papay's contract calls).
    #[must_use]
    pub const fn without_nonce(mut self) -> Self {
        self.nonce = false;
        self
    }

    /// The answers carry no signature (the money-out family): only the envelope, the codes
    /// and the merchant's ids are checked, and an answer is a claim to confirm by a signed
    /// query where one exists.
    #[must_use]
    pub const fn unsigned_answer(mut self) -> Self {
        self.signed_answer = false;
        self
    }

    /// The call moves money: its request implements [`MovesMoney`](crate::MovesMoney) and
    /// is made with [`Client::execute_money`](crate::Client::execute_money), which judges
    /// its outcome over every attempt; [`Client::execute`](crate::Client::execute) does
    /// not compile for it.
    #[must_use]
    pub const fn moving_money(mut self) -> Self {
        self.moves_money = true;
        self
    }

    /// The field `name` is signed as it is and sent URL-encoded (`/tools/shorturl`'s
    /// `long_url`: "签名用原串，传输需URLencode").
    #[must_use]
    pub const fn url_encoded(mut self, name: &'static str) -> Self {
        self.url_encoded = Some(name);
        self
    }

    /// The answers may carry no `result_code` (face pay's authinfo).
    #[must_use]
    pub const fn without_result_code(mut self) -> Self {
        self.result_code = false;
        self
    }

    /// A second signature `name` over `fields` (the merchant's ids and the nonce included),
    /// MD5 with the merchant's WeCom secret (`&secret=`), inserted before `sign`, which then
    /// covers it: WeCom red packets' `workwx_sign`.
    #[must_use]
    pub const fn countersigned(
        mut self,
        name: &'static str,
        fields: &'static [&'static str],
    ) -> Self {
        self.countersign = Some((name, fields));
        self
    }

    /// The production path.
    #[must_use]
    pub const fn path(&self) -> &'a str {
        self.path
    }

    /// The host.
    #[must_use]
    pub const fn on_host(&self) -> Host {
        self.host
    }

    /// Whether the client certificate is needed.
    #[must_use]
    pub const fn needs_certificate(&self) -> bool {
        self.certificate
    }

    /// Whether repeating the identical request after an unknown outcome is safe.
    #[must_use]
    pub const fn is_retry_safe(&self) -> bool {
        self.retry_safe
    }

    /// The algorithm the endpoint requires; `None`: the merchant's.
    #[must_use]
    pub const fn fixed_sign_type(&self) -> Option<SignType> {
        self.sign_type
    }

    /// Whether the answer can be large.
    #[must_use]
    pub const fn has_large_answer(&self) -> bool {
        self.large_answer
    }

    /// How the request and the answer name the merchant.
    #[must_use]
    pub const fn merchant_fields(&self) -> MerchantFields {
        self.merchant_fields
    }

    /// Whether the request carries `nonce_str`.
    #[must_use]
    pub const fn has_nonce(&self) -> bool {
        self.nonce
    }

    /// Whether the answers are signed.
    #[must_use]
    pub const fn has_signed_answer(&self) -> bool {
        self.signed_answer
    }

    /// Whether the call moves money.
    #[must_use]
    pub const fn moves_money(&self) -> bool {
        self.moves_money
    }

    /// Whether the answers carry `result_code`.
    #[must_use]
    pub const fn has_result_code(&self) -> bool {
        self.result_code
    }

    /// The field signed as it is and sent URL-encoded, if any.
    #[must_use]
    pub const fn url_encoded_field(&self) -> Option<&'static str> {
        self.url_encoded
    }
}

/// A V2 endpoint's request: this crate's request types, and yours.
pub trait Endpoint: Send + Sync {
    /// The typed answer.
    type Response;
    /// Where the endpoint is and its rules.
    const ROUTE: Route<'static>;

    /// The request's own fields (the merchant's ids, `nonce_str`, `sign_type` for HMAC and
    /// `sign` are added by [`MerchantExt::sign`](crate::MerchantExt::sign)).
    ///
    /// # Errors
    /// A field XML cannot carry.
    fn to_map(&self) -> Result<XmlMap, tenpay_xml::Error>;

    /// The order the call is about, for tracing.
    fn out_trade_no(&self) -> Option<&str> {
        None
    }

    /// Decodes an answer: with [`Verifier::decode`] or [`Verifier::verify`] when it is signed,
    /// [`Verifier::check_unsigned`] when the route says the answers carry no signature.
    ///
    /// # Errors
    /// See [`Error`].
    fn decode(verifier: &Verifier, key: &ApiKey, answer: Answer) -> Result<Self::Response, Error>;
}

/// `endpoint!(Request => Answer, ROUTE[, trade_no: |r| …][, decode: f])`: the one way this
/// crate implements [`Endpoint`]: the request serialised by serde, the answer decoded by the
/// route (signed or unsigned, then [`Finish`]) unless `decode` names another function.
/// `endpoint!(Wrapper(Inner) => Answer, ROUTE, adds: [(name, value), …])`: another
/// request on its own route, with fields added.
macro_rules! endpoint {
    ($req:ty => $resp:ty, $route:expr $(, trade_no: |$s:ident| $trade_no:expr)?, decode: $decode:expr) => {
        impl $crate::endpoint::Endpoint for $req {
            type Response = $resp;
            const ROUTE: $crate::Route<'static> = $route;

            fn to_map(&self) -> Result<tenpay_xml::XmlMap, tenpay_xml::Error> {
                tenpay_xml::to_map(self)
            }

            $(fn out_trade_no(&self) -> Option<&str> {
                let $s = self;
                $trade_no
            })?

            fn decode(
                verifier: &$crate::Verifier,
                key: &tenpay_sign::ApiKey,
                answer: $crate::Answer,
            ) -> Result<$resp, $crate::Error> {
                $decode(verifier, key, answer)
            }
        }
    };
    // Another family's request on its own route (the deposit family's calls): the inner
    // request's fields plus `adds`, its number, its answer decoding.
    ($req:ident($inner:ty) => $resp:ty, $route:expr, adds: [$(($k:literal, $v:expr)),* $(,)?]) => {
        impl $crate::endpoint::Endpoint for $req {
            type Response = $resp;
            const ROUTE: $crate::Route<'static> = $route;

            fn to_map(&self) -> Result<tenpay_xml::XmlMap, tenpay_xml::Error> {
                #[allow(unused_mut)] // `adds` may be empty
                let mut map = <$inner as $crate::endpoint::Endpoint>::to_map(&self.0)?;
                $(map.insert($k, $v)?;)*
                Ok(map)
            }

            fn out_trade_no(&self) -> Option<&str> {
                <$inner as $crate::endpoint::Endpoint>::out_trade_no(&self.0)
            }

            fn decode(
                verifier: &$crate::Verifier,
                key: &tenpay_sign::ApiKey,
                answer: $crate::Answer,
            ) -> Result<$resp, $crate::Error> {
                <$inner as $crate::endpoint::Endpoint>::decode(verifier, key, answer)
            }
        }
    };
    ($req:ty => $resp:ty, $route:expr $(, trade_no: |$s:ident| $trade_no:expr)?) => {
        $crate::endpoint::endpoint!($req => $resp, $route $(, trade_no: |$s| $trade_no)?,
            decode: $crate::endpoint::decode_by_route::<$req>);
    };
}

/// An answer decoded by its route: verified and decoded when signed, checked and decoded
/// when not; then [`Finish`].
pub(crate) fn decode_by_route<E>(
    verifier: &Verifier,
    key: &ApiKey,
    answer: Answer,
) -> Result<E::Response, Error>
where
    E: Endpoint,
    E::Response: serde::de::DeserializeOwned + Finish,
{
    let map = if E::ROUTE.signed_answer {
        verifier.verify(key, &answer)?
    } else {
        verifier.check_unsigned(&answer)?
    };
    finished(map)
}

/// Checked fields decoded with serde, then [`Finish`]ed.
pub(crate) fn finished<T>(map: XmlMap) -> Result<T, Error>
where
    T: serde::de::DeserializeOwned + Finish,
{
    let mut typed: T = tenpay_xml::from_map(&map).map_err(Error::Decode)?;
    typed.finish(map)?;
    Ok(typed)
}

pub(crate) use endpoint;

/// `wrapped_request!(Name(Inner))`: another family's request on its own route (the deposit
/// calls, face pay's query, refundqueryv2), with `Name::new(inner)`; its `Endpoint` is
/// `endpoint!`'s wrapping form.
macro_rules! wrapped_request {
    ($(#[$doc:meta])* $name:ident($inner:ty)) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name($inner);

        impl $name {
            #[doc = concat!("This [`", stringify!($inner), "`] on ", stringify!($name), "'s route.")]
            #[must_use]
            pub fn new(request: $inner) -> Self {
                Self(request)
            }
        }
    };
}

pub(crate) use wrapped_request;

/// After serde: indexed fields and the raw map.
pub(crate) trait Finish {
    fn finish(&mut self, raw: XmlMap) -> Result<(), Error>;
}

/// `Finish` for answers that only keep the raw fields.
macro_rules! keep_raw {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::endpoint::Finish for $t {
            fn finish(&mut self, raw: tenpay_xml::XmlMap) -> Result<(), $crate::Error> {
                self.raw = raw;
                Ok(())
            }
        }
    )*};
}

pub(crate) use keep_raw;
