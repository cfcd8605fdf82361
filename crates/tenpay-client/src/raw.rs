//! [`RawCall`]: any V2 path, without a typed request, answered with the verified fields.

use tenpay_sign::SignType;
use tenpay_xml::XmlMap;

use crate::endpoint::{MerchantFields, Route};
use crate::{ConfigError, Error};

/// A call to a V2 endpoint this crate does not model: the path, the request's own fields, and
/// the endpoint's rules. [`Client::call`](crate::Client::call) adds the merchant's ids, the nonce and the
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
///   outcome is safe (default: no);
/// - [`RawCall::moves_money`]: the call moves money and is made with [`Client::call_money`](crate::Client::call_money),
///   which judges its outcome over every attempt ([`Outcome`](crate::Outcome)); [`Client::call`](crate::Client::call) refuses it.
#[derive(Debug, Clone)]
pub struct RawCall {
    pub(crate) path: String,
    /// The rules (its path unused: `path` is the call's).
    pub(crate) rules: Route<'static>,
    pub(crate) fields: XmlMap,
    pub(crate) money: Option<Money>,
    pub(crate) error: Option<tenpay_xml::Error>,
}

/// A raw call's money rules: where its number is, and which first refusals are final.
#[derive(Debug, Clone)]
pub(crate) struct Money {
    pub(crate) number_field: String,
    pub(crate) final_codes: Vec<String>,
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
            return Err(Error::Config(ConfigError::Path(
                path.chars().take(100).collect(),
            )));
        }
        let certificate = path.starts_with("/secapi/") || path.starts_with("/mmpaymkttransfers/");
        let rules = Route::new("");
        Ok(Self {
            path,
            rules: if certificate {
                rules.certificate()
            } else {
                rules
            },
            fields: XmlMap::new(),
            money: None,
            error: None,
        })
    }

    /// A request field (a field XML cannot carry is reported by [`Client::call`](crate::Client::call)).
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
        self.rules.certificate = needed;
        self
    }

    /// The algorithm the endpoint requires, whatever the client uses.
    #[must_use]
    pub fn sign_type(mut self, sign_type: SignType) -> Self {
        self.rules = self.rules.signed_with(sign_type);
        self
    }

    /// The endpoint's answers carry no signature.
    #[must_use]
    pub fn unsigned_answer(mut self) -> Self {
        self.rules = self.rules.unsigned_answer();
        self
    }

    /// The names of the fields for the appid and the mch_id, in the request and the answer.
    #[must_use]
    pub fn merchant_fields(mut self, appid: &'static str, mch_id: &'static str) -> Self {
        self.rules = self.rules.named(MerchantFields::named(Some(appid), mch_id));
        self
    }

    /// Whether repeating the identical request after an unknown outcome is safe.
    #[must_use]
    pub fn retry_safe(mut self, safe: bool) -> Self {
        self.rules.retry_safe = safe;
        self
    }

    /// The call moves money, under the number in the request field `number_field`; a first
    /// refusal with one of `final_codes` (besides the configuration codes every family shares)
    /// means nothing was moved. Every other refusal, and a refusal of a repeat, is open.
    #[must_use]
    pub fn moves_money(mut self, number_field: &str, final_codes: &[&str]) -> Self {
        self.rules = self.rules.moving_money();
        self.money = Some(Money {
            number_field: number_field.to_owned(),
            final_codes: final_codes.iter().map(|c| (*c).to_owned()).collect(),
        });
        self
    }
}

impl RawCall {
    /// The call's route: its path and rules.
    #[must_use]
    pub fn route(&self) -> Route<'_> {
        self.rules.at(&self.path)
    }
}
