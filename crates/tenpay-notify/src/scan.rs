//! Native payment mode 1's scan callback (扫码支付模式一): the payer scanned a product's QR
//! code, and WeChat Pay asks the merchant for an order. Verified like a notification (the
//! merchant its ids name, a signature over every field), but it has no `return_code` and
//! is signed MD5 (every source; it carries no `sign_type`). It carries no amount: the
//! merchant prices the product itself.
//!
//! The answer is not [`ACK`](crate::ACK) but a signed body with the prepay id of the NATIVE
//! order just placed for this payer, or a refusal shown to them
//! ([`Notifier::scan_reply`](crate::Notifier::scan_reply)).

use tenpay_xml::{ProductId, XmlMap};

use crate::Error;

/// A verified scan callback.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScanCallback {
    product_id: ProductId,
    openid: String,
    raw: XmlMap,
}

impl ScanCallback {
    pub(crate) fn from_verified(raw: XmlMap) -> Result<Self, Error> {
        let field = |name: &str| {
            raw.get(name)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| Error::Field(tenpay_xml::Error::MissingField(name.to_owned())))
        };
        let product_id = ProductId::new(field("product_id")?).map_err(|e| {
            Error::Field(tenpay_xml::Error::InvalidValue {
                field: "product_id".into(),
                reason: e.to_string(),
            })
        })?;
        let openid = field("openid")?.to_owned();
        Ok(Self {
            product_id,
            openid,
            raw,
        })
    }

    /// The product the QR code names: price the order from it.
    #[must_use]
    pub fn product_id(&self) -> &ProductId {
        &self.product_id
    }

    /// The payer who scanned: the NATIVE order is placed for them.
    #[must_use]
    pub fn openid(&self) -> &str {
        &self.openid
    }

    /// Whether the payer follows the merchant's official account (`is_subscribe=Y`).
    #[must_use]
    pub fn is_subscribed(&self) -> bool {
        self.raw.get("is_subscribe") == Some("Y")
    }

    /// The appid it names.
    #[must_use]
    pub fn appid(&self) -> &str {
        self.raw.get("appid").unwrap_or_default()
    }

    /// The mch_id it names.
    #[must_use]
    pub fn mch_id(&self) -> &str {
        self.raw.get("mch_id").unwrap_or_default()
    }

    /// Every field, as verified.
    #[must_use]
    pub fn raw(&self) -> &XmlMap {
        &self.raw
    }
}

/// What the merchant answers a scan callback with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScanAnswer<'a> {
    /// The prepay id of the NATIVE order placed for the payer (valid two hours).
    Prepay(&'a str),
    /// No order (sold out, say): `result_code=FAIL`, with this text shown to the payer.
    Refuse(&'a str),
}
