use tenpay_sign::{ApiKey, SignType};
use tenpay_xml::{Parser, XmlMap};

use crate::refund::RefundKey;
use crate::{Error, PayNotification, RefundNotification};

/// A verified notification.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notification {
    /// A payment result (which may report a failed payment: see [`PayNotification::is_success`]).
    Pay(Box<PayNotification>),
    /// A refund result.
    Refund(Box<RefundNotification>),
}

/// The merchant's notification settings: ids, key and pinned sign type. Build once, share.
#[derive(Debug, Clone)]
pub struct Notifier {
    appid: String,
    mch_id: String,
    sub_mch_id: Option<String>,
    key: ApiKey,
    refund_key: RefundKey,
    sign_type: SignType,
    infer_sign_type: bool,
    parser: Parser,
}

impl Notifier {
    /// A notifier for one merchant, verifying with `sign_type` (the algorithm used at
    /// unifiedorder).
    #[must_use]
    pub fn new(
        appid: impl Into<String>,
        mch_id: impl Into<String>,
        key: ApiKey,
        sign_type: SignType,
    ) -> Self {
        let refund_key = RefundKey::derive(&key);
        Self {
            appid: appid.into(),
            mch_id: mch_id.into(),
            sub_mch_id: None,
            key,
            refund_key,
            sign_type,
            infer_sign_type: false,
            parser: Parser::new(),
        }
    }

    /// Service-provider mode: payment notifications must also name this `sub_mch_id`.
    #[must_use]
    pub fn sub_mch_id(mut self, sub_mch_id: impl Into<String>) -> Self {
        self.sub_mch_id = Some(sub_mch_id.into());
        self
    }

    /// Accept either algorithm, chosen by the signature's length (32 hex: MD5, 64: HMAC-SHA256).
    ///
    /// An explicit opt-in for merchants whose orders use both. It lets MD5 signatures through
    /// even though the merchant also uses HMAC-SHA256; leave it off when you use one algorithm.
    #[must_use]
    pub fn infer_sign_type_from_length(mut self) -> Self {
        self.infer_sign_type = true;
        self
    }

    /// The largest body accepted (64 KiB by default).
    #[must_use]
    pub fn max_body_bytes(mut self, max: usize) -> Self {
        self.parser = self.parser.max_bytes(max);
        self
    }

    /// Verifies a raw notification body: a payment notification when it has no `req_info`,
    /// a refund notification when it has one.
    ///
    /// # Errors
    /// Any [`Error`]: malformed XML, `return_code` not `SUCCESS`, missing or bad signature,
    /// a `sign_type` other than the pinned one, a foreign `appid`/`mch_id`, missing fields, or
    /// a `req_info` that does not decrypt.
    pub fn handle(&self, body: &[u8]) -> Result<Notification, Error> {
        let map = self.parser.parse(body).map_err(Error::Xml)?;
        if map.contains("req_info") {
            self.refund_from(map)
                .map(|r| Notification::Refund(Box::new(r)))
        } else {
            self.pay_from(map).map(|p| Notification::Pay(Box::new(p)))
        }
    }

    /// Verifies a payment notification.
    ///
    /// # Errors
    /// As [`Notifier::handle`].
    pub fn pay(&self, body: &[u8]) -> Result<PayNotification, Error> {
        self.pay_from(self.parser.parse(body).map_err(Error::Xml)?)
    }

    /// Decrypts and checks a refund notification.
    ///
    /// # Errors
    /// As [`Notifier::handle`].
    pub fn refund(&self, body: &[u8]) -> Result<RefundNotification, Error> {
        self.refund_from(self.parser.parse(body).map_err(Error::Xml)?)
    }

    fn pay_from(&self, map: XmlMap) -> Result<PayNotification, Error> {
        // One pass for the envelope fields the checks need.
        let (mut return_code, mut return_msg, mut sign, mut sign_type_field) =
            (None, None, None, None);
        let (mut appid, mut mch_id, mut sub_mch_id) = (None, None, None);
        for (k, v) in &map {
            match k {
                "return_code" => return_code = Some(v),
                "return_msg" => return_msg = Some(v),
                "sign" => sign = Some(v),
                "sign_type" => sign_type_field = Some(v),
                "appid" => appid = Some(v),
                "mch_id" => mch_id = Some(v),
                "sub_mch_id" => sub_mch_id = Some(v),
                _ => {}
            }
        }
        if return_code != Some("SUCCESS") {
            return Err(Error::ReturnFailure {
                return_code: short(return_code.unwrap_or("")),
                return_msg: return_msg.map(short),
            });
        }
        let sign = sign.filter(|s| !s.is_empty()).ok_or(Error::Unsigned)?;
        let sign_type = if self.infer_sign_type {
            SignType::infer_from_signature_len(sign).unwrap_or(self.sign_type)
        } else {
            self.sign_type
        };
        if let Some(claimed) = sign_type_field.filter(|c| *c != sign_type.as_str()) {
            return Err(Error::SignTypeMismatch {
                claimed: short(claimed),
                pinned: sign_type,
            });
        }
        tenpay_sign::Canonical::new(map.iter())
            .and_then(|c| c.verify(&self.key, sign_type, sign))
            .map_err(Error::Signature)?;
        let expect = |field: &'static str, got: Option<&str>, want: &str| match got {
            Some(got) if got == want => Ok(()),
            got => Err(Error::ForeignMerchant {
                field,
                received: short(got.unwrap_or("")),
            }),
        };
        expect("appid", appid, &self.appid)?;
        expect("mch_id", mch_id, &self.mch_id)?;
        if let Some(sub) = &self.sub_mch_id {
            expect("sub_mch_id", sub_mch_id, sub)?;
        }
        PayNotification::from_verified(map)
    }

    fn refund_from(&self, envelope: XmlMap) -> Result<RefundNotification, Error> {
        check_return_code(&envelope)?;
        self.check_merchant(&envelope, false)?;
        let req_info = envelope
            .get("req_info")
            .filter(|s| !s.is_empty())
            .ok_or(Error::MissingReqInfo)?;
        let payload = self.refund_key.decrypt(req_info)?;
        RefundNotification::from_parts(&self.appid, &self.mch_id, payload)
    }

    fn check_merchant(&self, map: &XmlMap, with_sub: bool) -> Result<(), Error> {
        let expect = |field: &'static str, want: &str| match map.get(field) {
            Some(got) if got == want => Ok(()),
            got => Err(Error::ForeignMerchant {
                field,
                received: short(got.unwrap_or("")),
            }),
        };
        expect("appid", &self.appid)?;
        expect("mch_id", &self.mch_id)?;
        match (&self.sub_mch_id, with_sub) {
            (Some(sub), true) => expect("sub_mch_id", sub),
            _ => Ok(()),
        }
    }
}

fn check_return_code(map: &XmlMap) -> Result<(), Error> {
    match map.get("return_code") {
        Some("SUCCESS") => Ok(()),
        code => Err(Error::ReturnFailure {
            return_code: short(code.unwrap_or("")),
            return_msg: map.get("return_msg").map(short),
        }),
    }
}

fn short(s: &str) -> String {
    match s.char_indices().nth(64) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}
