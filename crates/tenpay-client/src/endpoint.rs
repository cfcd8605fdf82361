//! The endpoint seam: each request type knows its path, whether it needs the client
//! certificate, whether repeating it is safe, and how to decode its answer.

use tenpay_sign::{ApiKey, SignType};
use tenpay_xml::XmlMap;

use crate::client::Answer;
use crate::{Client, Error};

mod sealed {
    pub trait Sealed {}
}

pub(crate) use sealed::Sealed;

/// A V2 endpoint's request. Implemented by this crate's request types only.
pub trait Endpoint: Sealed + Send + Sync {
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

    /// The request's own fields (the client adds appid, mch_id, nonce, sign).
    #[doc(hidden)]
    fn to_map(&self) -> Result<XmlMap, tenpay_xml::Error>;

    /// The order the call is about, for tracing.
    #[doc(hidden)]
    fn out_trade_no(&self) -> Option<&str> {
        None
    }

    /// Decodes a verified answer.
    #[doc(hidden)]
    fn decode(client: &Client, key: &ApiKey, answer: Answer) -> Result<Self::Response, Error>;
}

/// The standard decode: verify, then serde into `T`.
pub(crate) fn decode_verified<T: serde::de::DeserializeOwned>(
    client: &Client,
    key: &ApiKey,
    answer: &Answer,
) -> Result<(T, XmlMap), Error> {
    let map = client.verify_answer(key, answer)?;
    let typed = tenpay_xml::from_map(&map).map_err(Error::Decode)?;
    Ok((typed, map))
}

macro_rules! endpoint {
    ($req:ty => $resp:ty, $path:literal, secapi: $secapi:literal, retry: $retry:literal, trade_no: |$s:ident| $trade_no:expr) => {
        impl $crate::endpoint::Sealed for $req {}

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
                client: &$crate::Client,
                key: &tenpay_sign::ApiKey,
                answer: $crate::client::Answer,
            ) -> Result<$resp, $crate::Error> {
                let (mut typed, map): ($resp, tenpay_xml::XmlMap) =
                    $crate::endpoint::decode_verified(client, key, &answer)?;
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
