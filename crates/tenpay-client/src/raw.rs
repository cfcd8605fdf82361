//! [`RawCall`]: any V2 path, without a typed request, answered with the verified fields.

use tenpay_sign::SignType;
use tenpay_xml::XmlMap;

use crate::client::Route;
use crate::endpoint::MerchantFields;
use crate::{Client, Error};

/// A call to a V2 endpoint this crate does not model: the path, the request's own fields, and
/// the endpoint's rules. [`Client::call`] adds the merchant's ids, the nonce and the
/// signature, and returns the answer's fields once checked.
///
/// ```no_run
/// # async fn run(client: tenpay_client::Client) -> Result<(), tenpay_client::Error> {
/// use tenpay_client::RawCall;
/// let answer = client
///     .call(&RawCall::new("/pay/orderquery")?.field("out_trade_no", "20150806125346"))
///     .await?;
/// println!("{:?}", answer.get("trade_state"));
/// # Ok(()) }
/// ```
///
/// The rules default to those of most V2 endpoints; set what differs:
/// - [`RawCall::certificate`]: whether the endpoint needs the client certificate (default:
///   the path starts with `/secapi/` or `/mmpaymkttransfers/`);
/// - [`RawCall::sign_type`]: an algorithm the endpoint requires whatever the client uses;
/// - [`RawCall::unsigned_answer`]: the endpoint's answers carry no signature (transfers, red
///   packets): then only the envelope and the codes are checked, and the answer is a claim to
///   confirm with a signed query where one exists;
/// - [`RawCall::merchant_fields`]: other names for the appid and mch_id fields (the money-out
///   family's `mch_appid` / `mchid`);
/// - [`RawCall::retry_safe`]: whether repeating the identical request after an unknown
///   outcome is safe (default: no).
#[derive(Debug, Clone)]
pub struct RawCall {
    path: String,
    fields: XmlMap,
    secapi: bool,
    retry_safe: bool,
    sign_type: Option<SignType>,
    signed_answer: bool,
    merchant_fields: MerchantFields,
    error: Option<tenpay_xml::Error>,
}

impl RawCall {
    /// A call to `path` (`/` and then letters, digits, `_`, `-`, `.` and `/`).
    ///
    /// # Errors
    /// [`Error::Config`] for another path (a query, a host, `..`).
    pub fn new(path: impl Into<String>) -> Result<Self, Error> {
        let path = path.into();
        let ok = path.starts_with('/')
            && !path.contains("..")
            && !path.contains("//")
            && path
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/_-.".contains(&b));
        if !ok {
            return Err(Error::Config(crate::ConfigError::Path(
                path.chars().take(100).collect(),
            )));
        }
        let secapi = path.starts_with("/secapi/") || path.starts_with("/mmpaymkttransfers/");
        Ok(Self {
            path,
            fields: XmlMap::new(),
            secapi,
            retry_safe: false,
            sign_type: None,
            signed_answer: true,
            merchant_fields: MerchantFields::PAY,
            error: None,
        })
    }

    /// A request field (a field XML cannot carry is reported by [`Client::call`]).
    #[must_use]
    pub fn field(mut self, name: &str, value: &str) -> Self {
        if let Err(e) = self.fields.insert(name, value)
            && self.error.is_none()
        {
            self.error = Some(e);
        }
        self
    }

    /// Whether the endpoint needs the client certificate.
    #[must_use]
    pub fn certificate(mut self, needed: bool) -> Self {
        self.secapi = needed;
        self
    }

    /// The algorithm the endpoint requires, whatever the client uses.
    #[must_use]
    pub fn sign_type(mut self, sign_type: SignType) -> Self {
        self.sign_type = Some(sign_type);
        self
    }

    /// The endpoint's answers carry no signature.
    #[must_use]
    pub fn unsigned_answer(mut self) -> Self {
        self.signed_answer = false;
        self
    }

    /// The names of the fields for the appid and the mch_id, in the request and the answer.
    #[must_use]
    pub fn merchant_fields(mut self, appid: &'static str, mch_id: &'static str) -> Self {
        self.merchant_fields = MerchantFields::named(Some(appid), mch_id);
        self
    }

    /// Whether repeating the identical request after an unknown outcome is safe.
    #[must_use]
    pub fn retry_safe(mut self, safe: bool) -> Self {
        self.retry_safe = safe;
        self
    }
}

impl Client {
    /// Calls any V2 path (see [`RawCall`]): signs, sends, checks the answer by the call's
    /// rules, and returns every field of it.
    ///
    /// # Errors
    /// See [`Error`]; [`Error::Request`] for a field XML cannot carry (nothing sent).
    pub async fn call(&self, call: &RawCall) -> Result<XmlMap, Error> {
        if let Some(e) = &call.error {
            return Err(Error::Request(e.clone()));
        }
        let route = Route {
            path: &call.path,
            secapi: call.secapi,
            retry_safe: call.retry_safe,
            large_answer: false,
            sign_type: self.resolve_sign_type(call.sign_type, &call.path)?,
            merchant_fields: call.merchant_fields,
            nonce: true,
        };
        let signed = call.signed_answer;
        self.send(&route, call.fields.clone(), |verifier, key, answer| {
            if signed {
                verifier.verify(key, &answer)
            } else {
                verifier.check_unsigned(&answer)
            }
        })
        .await
    }
}
