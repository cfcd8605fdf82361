use std::sync::Arc;

use tenpay_sign::{ApiKey, Merchant, SignType};
use tenpay_xml::{Parser, XmlMap};

use crate::refund::RefundKey;
use crate::{
    ContractNotification, Error, PayNotification, RefundNotification, ScanAnswer, ScanCallback,
};

/// What a signed message looks like, for [`Notifier::verify_signed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// A payment notification: `return_code`, appid, mch_id (and sub_mch_id), the
    /// merchant's sign type.
    Pay,
    /// A contract notification: as a payment's, but it may carry no appid.
    Contract,
    /// A scan callback: no `return_code`, signed MD5.
    Scan,
}

/// A verified notification.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notification {
    /// A payment result (which may report a failed payment: see [`PayNotification::is_success`]).
    Pay(Box<PayNotification>),
    /// A refund result.
    Refund(Box<RefundNotification>),
    /// A withholding contract signed or terminated (papay).
    Contract(Box<ContractNotification>),
}

/// One merchant's notification settings: ids, key and pinned sign type.
#[derive(Debug, Clone)]
struct Keys {
    appid: String,
    mch_id: String,
    sub_mch_id: Option<String>,
    key: ApiKey,
    refund_key: RefundKey,
    sign_type: SignType,
}

impl Keys {
    fn new(merchant: &Merchant) -> Self {
        Self {
            refund_key: RefundKey::derive(merchant.key()),
            appid: merchant.appid().to_owned(),
            mch_id: merchant.mch_id().to_owned(),
            sub_mch_id: merchant.sub_mch_id().map(str::to_owned),
            key: merchant.key().clone(),
            sign_type: merchant.sign_type(),
        }
    }
}

/// Verifies notifications for one [`Merchant`] (the value `tenpay-client` signs for), or for
/// a set of them behind one notify URL (several apps, several mch_ids, a provider's
/// sub-merchants): each with its ids, key and pinned sign type. A notification is routed to
/// the merchant its `appid`, `mch_id` (and `sub_mch_id`, for a merchant
/// [with a sub-merchant](Merchant::with_sub_merchant)) name and verified with that merchant's
/// key only; one naming no configured merchant is refused. Build once, share.
///
/// ```
/// use tenpay_notify::Notifier;
/// use tenpay_sign::{ApiKey, Merchant, SignType};
/// let shop = Merchant::new("wx2421b1c4370ec43b", "10000100",
///     ApiKey::new("192006250b4c09247ec02edce69f6a2d")?, SignType::HmacSha256);
/// let provider = Merchant::new("wx0000000000000002", "10000200",
///     ApiKey::new("another-merchant-key-000000000000")?, SignType::Md5)
///     .with_sub_merchant("1900000109", None);
/// let notifier = Notifier::new(&shop).merchant(&provider);
/// assert!(notifier.handle(b"<xml><return_code>SUCCESS</return_code></xml>").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Notifier {
    merchants: Arc<[Keys]>,
    infer_sign_type: bool,
    parser: Parser,
}

impl Notifier {
    /// A notifier for one merchant, verifying with its sign type (the algorithm used at
    /// unifiedorder).
    #[must_use]
    pub fn new(merchant: &Merchant) -> Self {
        Self {
            merchants: Arc::from([Keys::new(merchant)]),
            infer_sign_type: false,
            parser: Parser::new(),
        }
    }

    /// One more merchant behind the same notify URL (a provider serving several
    /// sub-merchants adds itself once per sub-merchant).
    #[must_use]
    pub fn merchant(self, merchant: &Merchant) -> Self {
        let mut all = self.merchants.to_vec();
        all.push(Keys::new(merchant));
        Self {
            merchants: all.into(),
            ..self
        }
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

    /// The largest message the parser accepts (64 KiB by default). The HTTP body the service
    /// reads has its own limit, [`NotifyService::max_body_bytes`](crate::NotifyService::max_body_bytes).
    #[must_use]
    pub fn max_message_bytes(mut self, max: usize) -> Self {
        self.parser = self.parser.max_bytes(max);
        self
    }

    /// Verifies a raw notification body: a payment notification when it has no `req_info`,
    /// a refund notification when it has one.
    ///
    /// # Errors
    /// Any [`Error`]: malformed XML, `return_code` not `SUCCESS`, missing or bad signature,
    /// a `sign_type` other than the pinned one, an `appid`/`mch_id` of no configured
    /// merchant, missing fields, or a `req_info` that does not decrypt.
    pub fn handle(&self, body: &[u8]) -> Result<Notification, Error> {
        let map = self.parser.parse(body).map_err(Error::Xml)?;
        if map.contains("req_info") {
            self.refund_from(map)
                .map(|r| Notification::Refund(Box::new(r)))
        } else if map.contains("change_type") && !map.contains("transaction_id") {
            self.contract_from(map)
                .map(|c| Notification::Contract(Box::new(c)))
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

    /// Verifies a contract notification (papay: signed or terminated).
    ///
    /// # Errors
    /// As [`Notifier::handle`].
    pub fn contract(&self, body: &[u8]) -> Result<ContractNotification, Error> {
        self.contract_from(self.parser.parse(body).map_err(Error::Xml)?)
    }

    /// Verifies a scan callback (Native mode 1: a payer scanned a product's QR code): the
    /// merchant its appid and mch_id name, an MD5 signature over every field. Place a
    /// NATIVE order for [`ScanCallback::openid`] priced from [`ScanCallback::product_id`],
    /// then answer with [`Notifier::scan_reply`].
    ///
    /// # Errors
    /// As [`Notifier::handle`]; [`Error::Field`] without a valid `product_id` or `openid`.
    pub fn scan(&self, body: &[u8]) -> Result<ScanCallback, Error> {
        let map = self.parser.parse(body).map_err(Error::Xml)?;
        self.verify_signed(&map, Shape::Scan)?;
        ScanCallback::from_verified(map)
    }

    /// The signed answer to a verified scan callback, with `nonce_str` (fresh for each
    /// answer): `return_code=SUCCESS`, the merchant's appid and mch_id, and the prepay id
    /// with `result_code=SUCCESS`, or `result_code=FAIL` with the text shown to the payer;
    /// signed MD5 with the key of the merchant the callback named. A callback that failed
    /// verification is answered with [`nack`](crate::nack) instead.
    ///
    /// ```
    /// use tenpay_notify::{Notifier, ScanAnswer};
    /// use tenpay_sign::{ApiKey, Merchant, SignType};
    /// use tenpay_xml::XmlMap;
    ///
    /// let key = ApiKey::new("192006250b4c09247ec02edce69f6a2d")?;
    /// let notifier = Notifier::new(&Merchant::new("wx2421b1c4370ec43b", "10000100",
    ///     key.clone(), SignType::Md5));
    /// let mut callback = XmlMap::new();
    /// for (k, v) in [("appid", "wx2421b1c4370ec43b"), ("mch_id", "10000100"),
    ///     ("openid", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"), ("is_subscribe", "N"),
    ///     ("nonce_str", "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"), ("product_id", "1")] {
    ///     callback.insert(k, v)?;
    /// }
    /// callback.sign(&key, SignType::Md5)?;
    /// let scan = notifier.scan(callback.to_xml().as_bytes())?;
    /// assert_eq!(scan.product_id().as_str(), "1");
    /// let reply = notifier.scan_reply(&scan,
    ///     ScanAnswer::Prepay("wx201410272009395522657a690389285100"),
    ///     "5K8264ILTKCH16CQ2502SI8ZNMTM67VS")?;
    /// let reply = XmlMap::parse(&reply)?;
    /// assert_eq!(reply.get("sign"), Some("069B60E5A34DA281BEBCE648D08F3DE6"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::ForeignMerchant`] for a callback naming no configured merchant (one this
    /// notifier did not verify); [`Error::Field`] for a text XML cannot carry.
    pub fn scan_reply(
        &self,
        scan: &ScanCallback,
        answer: ScanAnswer<'_>,
        nonce_str: &str,
    ) -> Result<Vec<u8>, Error> {
        let merchant = self.route(Some(scan.appid()), Some(scan.mch_id()), None, false)?;
        let mut m = XmlMap::new();
        let mut put = |k: &str, v: &str| m.insert(k, v).map_err(Error::Field);
        put("return_code", "SUCCESS")?;
        put("appid", &merchant.appid)?;
        put("mch_id", &merchant.mch_id)?;
        put("nonce_str", nonce_str)?;
        match answer {
            ScanAnswer::Prepay(prepay_id) => {
                put("prepay_id", prepay_id)?;
                put("result_code", "SUCCESS")?;
            }
            ScanAnswer::Refuse(text) => {
                put("result_code", "FAIL")?;
                put("err_code_des", text)?;
            }
        }
        m.sign(&merchant.key, SignType::Md5).map_err(Error::Field)?;
        Ok(m.to_xml().into_bytes())
    }

    /// Decrypts and checks a refund notification.
    ///
    /// # Errors
    /// As [`Notifier::handle`].
    pub fn refund(&self, body: &[u8]) -> Result<RefundNotification, Error> {
        self.refund_from(self.parser.parse(body).map_err(Error::Xml)?)
    }

    /// The merchant `appid` / `mch_id` (and `sub_mch_id`) name: one configured with that
    /// sub-merchant first, else one configured without any. The error names the first field
    /// that matches no merchant.
    fn route(
        &self,
        appid: Option<&str>,
        mch_id: Option<&str>,
        sub_mch_id: Option<&str>,
        with_sub: bool,
    ) -> Result<&Keys, Error> {
        let foreign = |field: &'static str, got: Option<&str>| Error::ForeignMerchant {
            field,
            received: short(got.unwrap_or("")),
        };
        // No allocation: this runs for every notification.
        let (mut appid_seen, mut mch_seen, mut without_sub) = (false, false, None);
        for m in self.merchants.iter() {
            if Some(m.appid.as_str()) != appid {
                continue;
            }
            appid_seen = true;
            if Some(m.mch_id.as_str()) != mch_id {
                continue;
            }
            mch_seen = true;
            match m.sub_mch_id.as_deref() {
                _ if !with_sub => return Ok(m),
                Some(sub) if Some(sub) == sub_mch_id => return Ok(m),
                None if without_sub.is_none() => without_sub = Some(m),
                _ => {}
            }
        }
        match without_sub {
            Some(m) => Ok(m),
            None if !appid_seen => Err(foreign("appid", appid)),
            None if !mch_seen => Err(foreign("mch_id", mch_id)),
            None => Err(foreign("sub_mch_id", sub_mch_id)),
        }
    }

    fn pay_from(&self, map: XmlMap) -> Result<PayNotification, Error> {
        self.verify_signed(&map, Shape::Pay)?;
        PayNotification::from_verified(map)
    }

    fn contract_from(&self, map: XmlMap) -> Result<ContractNotification, Error> {
        self.verify_signed(&map, Shape::Contract)?;
        ContractNotification::from_verified(map)
    }

    /// The checks of a signed message: `return_code` (not in a scan callback), the merchant
    /// its ids name (a contract notification may carry no appid: then its mch_id alone),
    /// the pinned sign type (MD5 for a scan callback), the signature over every field.
    fn verify_signed(&self, map: &XmlMap, shape: Shape) -> Result<(), Error> {
        let appid_optional = shape == Shape::Contract;
        // One pass for the envelope fields the checks need.
        let (mut return_code, mut return_msg, mut sign, mut sign_type_field) =
            (None, None, None, None);
        let (mut appid, mut mch_id, mut sub_mch_id) = (None, None, None);
        for (k, v) in map {
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
        if shape != Shape::Scan && return_code != Some("SUCCESS") {
            return Err(Error::ReturnFailure {
                return_code: short(return_code.unwrap_or("")),
                return_msg: return_msg.map(short),
            });
        }
        let sign = sign.filter(|s| !s.is_empty()).ok_or(Error::Unsigned)?;
        // The ids only choose whose key verifies; nothing is trusted before the signature.
        let merchant = match appid {
            None if appid_optional => self
                .merchants
                .iter()
                .find(|m| Some(m.mch_id.as_str()) == mch_id)
                .ok_or_else(|| Error::ForeignMerchant {
                    field: "mch_id",
                    received: short(mch_id.unwrap_or("")),
                })?,
            _ => self.route(appid, mch_id, sub_mch_id, shape == Shape::Pay)?,
        };
        let sign_type = if shape == Shape::Scan {
            SignType::Md5
        } else if self.infer_sign_type {
            SignType::infer_from_signature_len(sign).unwrap_or(merchant.sign_type)
        } else {
            merchant.sign_type
        };
        if let Some(claimed) = sign_type_field.filter(|c| *c != sign_type.as_str()) {
            return Err(Error::SignTypeMismatch {
                claimed: short(claimed),
                pinned: sign_type,
            });
        }
        tenpay_sign::Canonical::new(map.iter())
            .and_then(|c| c.verify(&merchant.key, sign_type, sign))
            .map_err(Error::Signature)
    }

    fn refund_from(&self, envelope: XmlMap) -> Result<RefundNotification, Error> {
        check_return_code(&envelope)?;
        let merchant = self.route(envelope.get("appid"), envelope.get("mch_id"), None, false)?;
        let req_info = envelope
            .get("req_info")
            .filter(|s| !s.is_empty())
            .ok_or(Error::MissingReqInfo)?;
        let payload = merchant.refund_key.decrypt(req_info)?;
        RefundNotification::from_parts(&merchant.appid, &merchant.mch_id, payload)
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
