//! `promotion_detail`: the discounts applied to a payment (single-item discounts, 单品优惠,
//! and coupons), a JSON document inside one field of micropay, orderquery and refund
//! answers and of the pay notification. Read it with [`promotions`].
//!
//! ```
//! use tenpay_xml::{Fen, XmlMap, promotion};
//! // WxJava's refund fixture for single-item discounts (danpin).
//! let mut m = XmlMap::new();
//! m.insert("promotion_detail", r#"{"promotion_detail":[{"promotion_id":"109519","scope":"SINGLE","type":"DISCOUNT","refund_amount":5,"goods_detail":[{"goods_id":"a_goods1","refund_quantity":7,"price":1,"refund_amount":4},{"goods_id":"a_goods2","refund_quantity":1,"price":2,"refund_amount":1}]}]}"#)?;
//! let p = promotion::promotions(&m)?;
//! assert_eq!(p[0].scope, Some(promotion::PromotionScope::Single));
//! assert_eq!(p[0].refund_amount, Some(Fen::new(5)));
//! assert_eq!(p[0].goods_detail[0].refund_quantity, Some(7));
//! assert!(promotion::promotions(&XmlMap::new())?.is_empty());
//! # Ok::<(), tenpay_xml::Error>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::{Error, Fen, XmlMap};

crate::wire_enum!(
    /// Where a promotion applies (`scope`).
    PromotionScope {
        /// The whole order.
        Global = "GLOBAL",
        /// Single items (单品优惠).
        Single = "SINGLE",
    }
);

crate::wire_enum!(
    /// What kind of promotion (`type`).
    PromotionType {
        /// A prepaid coupon (充值代金券).
        Coupon = "COUPON",
        /// A discount the merchant does not prepay (免充值).
        Discount = "DISCOUNT",
    }
);

/// One promotion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Promotion {
    /// Its id.
    pub promotion_id: String,
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
    /// Where it applies.
    #[serde(default)]
    pub scope: Option<PromotionScope>,
    /// What kind.
    #[serde(default, rename = "type")]
    pub kind: Option<PromotionType>,
    /// How much it took off.
    #[serde(default, with = "crate::fen_json::option")]
    pub amount: Option<Fen>,
    /// The activity.
    #[serde(default)]
    pub activity_id: Option<String>,
    /// WeChat Pay's part.
    #[serde(default, with = "crate::fen_json::option")]
    pub wxpay_contribute: Option<Fen>,
    /// The merchant's part.
    #[serde(default, with = "crate::fen_json::option")]
    pub merchant_contribute: Option<Fen>,
    /// Others' part.
    #[serde(default, with = "crate::fen_json::option")]
    pub other_contribute: Option<Fen>,
    /// In a refund: how much of it is refunded.
    #[serde(default, with = "crate::fen_json::option")]
    pub refund_amount: Option<Fen>,
    /// The goods it applies to.
    #[serde(default)]
    pub goods_detail: Vec<PromotionGoods>,
}

/// A good a promotion applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PromotionGoods {
    /// The merchant's id.
    pub goods_id: String,
    /// WeChat Pay's id.
    #[serde(default)]
    pub wxpay_goods_id: Option<String>,
    /// Its name.
    #[serde(default)]
    pub goods_name: Option<String>,
    /// How many.
    #[serde(default)]
    pub quantity: Option<u32>,
    /// Unit price.
    #[serde(default, with = "crate::fen_json::option")]
    pub price: Option<Fen>,
    /// In a refund: how many are refunded.
    #[serde(default)]
    pub refund_quantity: Option<u32>,
    /// In a refund: how much of it is refunded.
    #[serde(default, with = "crate::fen_json::option")]
    pub refund_amount: Option<Fen>,
}

#[derive(Deserialize)]
struct Document {
    #[serde(default)]
    promotion_detail: Vec<Promotion>,
}

/// The promotions of a verified message's `promotion_detail` field (none without it).
///
/// # Errors
/// [`Error::InvalidValue`] when the field is not the documented JSON.
pub fn promotions(map: &XmlMap) -> Result<Vec<Promotion>, Error> {
    let Some(text) = map.get("promotion_detail").filter(|t| !t.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    serde_json::from_str::<Document>(text)
        .map(|d| d.promotion_detail)
        .map_err(|e| Error::InvalidValue {
            field: "promotion_detail".into(),
            reason: e.to_string(),
        })
}
