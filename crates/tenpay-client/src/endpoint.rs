//! The endpoint seam: each request type knows its path, whether it needs the client
//! certificate, whether repeating it is safe, and how to decode its answer.
//!
//! The trait is open: implement it for a request of a V2 endpoint this crate does not model,
//! and call it with [`Client::execute`](crate::Client::execute). For a one-off call without a
//! type, see [`RawCall`](crate::RawCall).
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use tenpay_client::{Answer, Endpoint, Error, Verifier};
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
//!     const PATH: &'static str = "/pay/closeorder";
//!     const SECAPI: bool = false;
//!     const RETRY_SAFE: bool = true;
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
}

impl MerchantFields {
    /// `appid`, `mch_id`, and the sub-merchant's fields in service-provider mode.
    pub const PAY: Self = Self {
        appid: Some("appid"),
        mch_id: "mch_id",
        sub_merchant: true,
    };

    /// The appid under `appid` (`None`: not sent) and the mch_id under `mch_id`; no
    /// sub-merchant fields.
    #[must_use]
    pub const fn named(appid: Option<&'static str>, mch_id: &'static str) -> Self {
        Self {
            appid,
            mch_id,
            sub_merchant: false,
        }
    }

    /// The field names answers are checked under (an empty appid name: the request has no
    /// appid, and its answer's is not checked).
    pub(crate) fn answer_names(self) -> (&'static str, &'static str) {
        (self.appid.unwrap_or(""), self.mch_id)
    }
}

/// A V2 endpoint's request: this crate's request types, and yours.
pub trait Endpoint: Send + Sync {
    /// The typed answer.
    type Response;
    /// The production path, e.g. `/pay/unifiedorder`.
    const PATH: &'static str;
    /// Whether the endpoint needs the merchant's client certificate (`/secapi/`).
    const SECAPI: bool;
    /// Whether repeating the same request after an unknown outcome is safe.
    const RETRY_SAFE: bool;
    /// The algorithm the endpoint requires whatever the client is configured with
    /// (`/pay/downloadfundflow` takes HMAC-SHA256 only); `None`: the client's.
    const SIGN_TYPE: Option<SignType> = None;
    /// Whether the answer can be large (bills, fund flows: capped by
    /// `ClientBuilder::max_bill_bytes`); otherwise it is capped at `MAX_ANSWER_BYTES`.
    const LARGE_ANSWER: bool = false;
    /// How the request names the merchant (the pay family's `appid` and `mch_id` unless the
    /// endpoint says otherwise).
    const MERCHANT_FIELDS: MerchantFields = MerchantFields::PAY;
    /// Whether the request carries `nonce_str` (papay's contract calls do not).
    const NONCE: bool = true;
    /// Whether the request moves money. Such an endpoint implements
    /// [`MovesMoney`](crate::MovesMoney) and is called with
    /// [`Client::execute_money`](crate::Client::execute_money), which judges its outcome
    /// over every attempt; [`Client::execute`](crate::Client::execute) does not compile for it.
    const MOVES_MONEY: bool = false;

    /// The request's own fields (the client adds appid, mch_id, the sub-merchant's ids,
    /// `nonce_str`, `sign_type` for HMAC, and `sign`).
    ///
    /// # Errors
    /// A field XML cannot carry.
    fn to_map(&self) -> Result<XmlMap, tenpay_xml::Error>;

    /// The order the call is about, for tracing.
    fn out_trade_no(&self) -> Option<&str> {
        None
    }

    /// Decodes an answer: with [`Verifier::decode`] or [`Verifier::verify`] when it is signed,
    /// [`Verifier::check_unsigned`] when the endpoint's answers carry no signature.
    ///
    /// # Errors
    /// See [`Error`].
    fn decode(verifier: &Verifier, key: &ApiKey, answer: Answer) -> Result<Self::Response, Error>;
}

macro_rules! endpoint {
    ($req:ty => $resp:ty, $path:literal, secapi: $secapi:literal, retry: $retry:literal, trade_no: |$s:ident| $trade_no:expr $(, moves_money: $moves:literal)?) => {
        impl $crate::endpoint::Endpoint for $req {
            type Response = $resp;
            const PATH: &'static str = $path;
            const SECAPI: bool = $secapi;
            const RETRY_SAFE: bool = $retry;
            $(const MOVES_MONEY: bool = $moves;)?

            fn to_map(&self) -> Result<tenpay_xml::XmlMap, tenpay_xml::Error> {
                tenpay_xml::to_map(self)
            }

            fn out_trade_no(&self) -> Option<&str> {
                let $s = self;
                $trade_no
            }

            fn decode(
                verifier: &$crate::Verifier,
                key: &tenpay_sign::ApiKey,
                answer: $crate::Answer,
            ) -> Result<$resp, $crate::Error> {
                let (mut typed, map): ($resp, tenpay_xml::XmlMap) =
                    verifier.decode(key, &answer)?;
                <$resp as $crate::endpoint::Finish>::finish(&mut typed, map)?;
                Ok(typed)
            }
        }
    };
}

pub(crate) use endpoint;

/// After serde: indexed fields and the raw map.
pub(crate) trait Finish {
    fn finish(&mut self, raw: XmlMap) -> Result<(), Error>;
}

/// `Finish` for answers that only keep the raw fields.
macro_rules! keep_raw {
    ($t:ty) => {
        impl $crate::endpoint::Finish for $t {
            fn finish(&mut self, raw: tenpay_xml::XmlMap) -> Result<(), $crate::Error> {
                self.raw = raw;
                Ok(())
            }
        }
    };
}

pub(crate) use keep_raw;
