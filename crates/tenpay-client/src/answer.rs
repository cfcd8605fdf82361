//! Answers, without a transport: the raw body ([`Answer`]) and what it is checked against
//! ([`Verifier`]: the merchant's ids, the sub-merchant's, and the sign type the request used).
//!
//! Decoding an answer needs these facts only, not a built HTTP client, so an endpoint can be
//! decoded by anyone with their own HTTP stack:
//!
//! ```
//! use tenpay_client::{Answer, Verifier};
//! use tenpay_sign::{ApiKey, SignType};
//!
//! let key = ApiKey::new("192006250b4c09247ec02edce69f6a2d")?;
//! let verifier = Verifier::new("wx2421b1c4370ec43b", "10000100", SignType::Md5);
//! // An answer that is not signed is refused before anything is read from it.
//! let body = "<xml><return_code>SUCCESS</return_code><result_code>SUCCESS</result_code></xml>";
//! assert!(verifier.verify(&key, &Answer::new(body)).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Rules for answers:
//! - Signed answers (almost every V2 endpoint): [`Verifier::verify`] checks the envelope,
//!   `return_code`, the signature with the request's algorithm, the appid and mch_id (and the
//!   sub-merchant's, in service-provider mode) and `result_code`, and returns every field.
//! - Unsigned answers (bills and fund flows, which are CSV; the money-out family's
//!   transfers and red packets): [`Verifier::check_unsigned`] checks the envelope and the
//!   codes only. Such an answer is a claim, not evidence: confirm an outcome with a signed
//!   query where one exists.
//! - Endpoints that name the merchant with other fields (the money-out family's `mch_appid` /
//!   `mchid`, red packets' `wxappid`): give the names with [`Verifier::merchant_fields`].

use bytes::Bytes;
use tenpay_sign::{ApiKey, SignType};
use tenpay_xml::XmlMap;

use crate::Error;
use crate::error::excerpt;

/// A raw answer body, as received.
#[derive(Debug, Clone)]
pub struct Answer {
    pub(crate) body: Bytes,
    /// The most a compressed body may inflate to.
    pub(crate) inflate_limit: usize,
}

impl Answer {
    /// An answer body received by your own HTTP stack (bills inflate to at most
    /// [`DEFAULT_MAX_BILL_BYTES`](crate::DEFAULT_MAX_BILL_BYTES)).
    pub fn new(body: impl Into<Bytes>) -> Self {
        Self {
            body: body.into(),
            inflate_limit: crate::DEFAULT_MAX_BILL_BYTES,
        }
    }

    /// The body.
    #[must_use]
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

/// What answers are checked against: the merchant, its sub-merchant, and the sign type the
/// request was signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    appid: String,
    mch_id: String,
    sub_appid: Option<String>,
    sub_mch_id: Option<String>,
    sign_type: SignType,
    fields: (&'static str, &'static str),
    result_code: bool,
    /// The answers name sub-merchants as their subject (a bank service provider's
    /// sub-merchant calls): their ids are not the request's, and are not checked.
    about_subs: bool,
}

impl Verifier {
    /// Answers for `appid` / `mch_id`, signed with `sign_type`.
    pub fn new(appid: impl Into<String>, mch_id: impl Into<String>, sign_type: SignType) -> Self {
        Self {
            appid: appid.into(),
            mch_id: mch_id.into(),
            sub_appid: None,
            sub_mch_id: None,
            sign_type,
            fields: ("appid", "mch_id"),
            result_code: true,
            about_subs: false,
        }
    }

    /// Answers that may carry no `result_code` (face pay's authinfo): `return_code=SUCCESS`
    /// and the signature are the success; a `result_code` present must still be `SUCCESS`.
    #[must_use]
    pub fn without_result_code(mut self) -> Self {
        self.result_code = false;
        self
    }

    /// Answers about sub-merchants (`submchmanage`): the sub-merchant ids they carry are
    /// their subject, not checked against the request's.
    #[must_use]
    pub(crate) fn about_sub_merchants(mut self) -> Self {
        self.about_subs = true;
        self
    }

    /// Service-provider mode: answers must be for this sub-merchant (and its appid).
    #[must_use]
    pub fn sub_merchant(
        mut self,
        sub_mch_id: impl Into<String>,
        sub_appid: Option<String>,
    ) -> Self {
        self.sub_mch_id = Some(sub_mch_id.into());
        self.sub_appid = sub_appid;
        self
    }

    /// The same merchant, for answers signed with `sign_type` (an endpoint with its own).
    #[must_use]
    pub fn with_sign_type(&self, sign_type: SignType) -> Self {
        Self {
            sign_type,
            ..self.clone()
        }
    }

    /// The names of the fields that carry the appid and the mch_id (default `appid`,
    /// `mch_id`; the money-out family uses `mch_appid`, `mchid`). An empty appid name: the
    /// endpoint has no appid, and answers are not checked for one.
    #[must_use]
    pub fn merchant_fields(mut self, appid: &'static str, mch_id: &'static str) -> Self {
        self.fields = (appid, mch_id);
        self
    }

    /// The sign type answers are verified with.
    #[must_use]
    pub fn sign_type(&self) -> SignType {
        self.sign_type
    }

    /// Checks a signed answer: envelope, `return_code`, signature, the merchant's (and
    /// sub-merchant's) ids, `result_code`. Returns every field.
    ///
    /// # Errors
    /// [`Error::NotXml`], [`Error::Protocol`], [`Error::BadSignature`],
    /// [`Error::ForeignAnswer`], [`Error::Business`].
    pub fn verify(&self, key: &ApiKey, answer: &Answer) -> Result<XmlMap, Error> {
        self.verify_fields(key, parse_envelope(answer)?)
    }

    /// [`Verifier::verify`] on fields already read and past the envelope check.
    pub(crate) fn verify_fields(&self, key: &ApiKey, map: XmlMap) -> Result<XmlMap, Error> {
        map.verify(key, self.sign_type)
            .map_err(Error::BadSignature)?;
        self.check_ids(&map)?;
        self.check_result(map)
    }

    /// Checks an answer that carries no signature: envelope, `return_code`, the merchant's
    /// ids where present, `result_code`. See the module's rules.
    ///
    /// # Errors
    /// [`Error::NotXml`], [`Error::Protocol`], [`Error::ForeignAnswer`], [`Error::Business`].
    pub fn check_unsigned(&self, answer: &Answer) -> Result<XmlMap, Error> {
        self.check_unsigned_fields(parse_envelope(answer)?)
    }

    /// [`Verifier::check_unsigned`] on fields already read and past the envelope check.
    pub(crate) fn check_unsigned_fields(&self, map: XmlMap) -> Result<XmlMap, Error> {
        for (field, mine) in [(self.fields.0, &self.appid), (self.fields.1, &self.mch_id)] {
            if let Some(v) = map.get(field).filter(|v| v != mine) {
                return Err(foreign(field, Some(v)));
            }
        }
        self.check_result(map)
    }

    /// Verifies, then decodes the fields into `T` with serde.
    ///
    /// # Errors
    /// As [`Verifier::verify`]; [`Error::Decode`].
    pub fn decode<T: serde::de::DeserializeOwned>(
        &self,
        key: &ApiKey,
        answer: &Answer,
    ) -> Result<(T, XmlMap), Error> {
        let map = self.verify(key, answer)?;
        let typed = tenpay_xml::from_map(&map).map_err(Error::Decode)?;
        Ok((typed, map))
    }

    fn check_result(&self, map: XmlMap) -> Result<XmlMap, Error> {
        check_result(map, self.result_code)
    }

    fn check_ids(&self, map: &XmlMap) -> Result<(), Error> {
        for (field, mine) in [(self.fields.0, &self.appid), (self.fields.1, &self.mch_id)] {
            if field.is_empty() {
                // The endpoint names no appid (pay_bank, profitsharingquery, …).
                continue;
            }
            match map.get(field) {
                Some(v) if v == mine => {}
                other => return Err(foreign(field, other)),
            }
        }
        if self.about_subs {
            return Ok(());
        }
        // Service-provider mode: the answer must be for the sub-merchant the request named
        // (and an answer naming a sub-merchant is foreign to a direct merchant).
        let sub_mch_id = map.get("sub_mch_id").filter(|v| !v.is_empty());
        if sub_mch_id != self.sub_mch_id.as_deref() {
            return Err(foreign("sub_mch_id", sub_mch_id));
        }
        if let (Some(got), Some(mine)) = (
            map.get("sub_appid").filter(|v| !v.is_empty()),
            self.sub_appid.as_deref(),
        ) && got != mine
        {
            return Err(foreign("sub_appid", Some(got)));
        }
        Ok(())
    }
}

fn foreign(field: &'static str, v: Option<&str>) -> Error {
    Error::ForeignAnswer {
        field,
        received: v.unwrap_or("").chars().take(64).collect(),
    }
}

fn check_result(map: XmlMap, required: bool) -> Result<XmlMap, Error> {
    let result_code = map.get("result_code");
    if result_code == Some("SUCCESS") || (!required && result_code.is_none()) {
        Ok(map)
    } else {
        Err(Error::Business {
            err_code: map.get("err_code").unwrap_or("").into(),
            err_code_des: map.get("err_code_des").unwrap_or("").to_owned(),
        })
    }
}

/// The envelope and `return_code` (no signature check).
pub(crate) fn parse_envelope(answer: &Answer) -> Result<XmlMap, Error> {
    let map = XmlMap::parse(&answer.body).map_err(|e| not_xml(&e, answer))?;
    envelope(map, answer)
}

/// An answer that is not flat: its fields and its one list of records (see
/// [`tenpay_xml::Parser::parse_records`]), under the root `xml` or, where an endpoint is
/// known to use it too, one of `other_roots`; then the envelope and `return_code`.
pub(crate) fn parse_records(
    answer: &Answer,
    list: Option<&str>,
    item: &str,
    other_roots: &[&str],
) -> Result<(XmlMap, Vec<XmlMap>), Error> {
    let mut read = tenpay_xml::Parser::new().parse_records(&answer.body, list, item);
    if let Err(tenpay_xml::Error::WrongRoot { found, .. }) = &read
        && let Some(root) = other_roots.iter().find(|r| **r == found.as_str())
    {
        read = tenpay_xml::Parser::new()
            .root(*root)
            .parse_records(&answer.body, list, item);
    }
    let (map, items) = read.map_err(|e| not_xml(&e, answer))?;
    Ok((envelope(map, answer)?, items))
}

fn not_xml(e: &tenpay_xml::Error, answer: &Answer) -> Error {
    Error::NotXml {
        reason: e.to_string(),
        excerpt: excerpt(&answer.body),
    }
}

fn envelope(map: XmlMap, answer: &Answer) -> Result<XmlMap, Error> {
    match map.get("return_code") {
        Some("SUCCESS") => Ok(map),
        Some(_) => Err(Error::Protocol {
            return_msg: map
                .get("return_msg")
                .or(map.get("retmsg"))
                .unwrap_or("")
                .to_owned(),
        }),
        None => Err(Error::NotXml {
            reason: "no return_code".into(),
            excerpt: excerpt(&answer.body),
        }),
    }
}
