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
    ($req:ty => $resp:ty, $path:literal, secapi: $secapi:literal, retry: $retry:literal, trade_no: |$s:ident| $trade_no:expr) => {
        impl $crate::endpoint::Endpoint for $req {
            type Response = $resp;
            const PATH: &'static str = $path;
            const SECAPI: bool = $secapi;
            const RETRY_SAFE: bool = $retry;

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
