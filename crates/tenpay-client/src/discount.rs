//! Single-item discounts (单品优惠): an order or payment code names its goods in `detail`
//! (with `version=1.0`) so that WeChat Pay can apply a discount to single items; answers and
//! notifications report what was applied in `promotion_detail`
//! ([`tenpay_xml::promotion::promotions`]); a refund of some of the goods names them
//! ([`RefundV2`]) and the query reports their part ([`RefundQueryV2`]).

use serde::Serialize;
use tenpay_xml::Fen;

use crate::endpoint::{endpoint, wrapped_request};
use crate::outcome::{CodeReading, MovesMoney};
use crate::{ErrCode, Refund, RefundQuery, RefundQueryResponse, RefundResponse, Route};

/// The goods of an order, in the discount layout of `detail`.
///
/// ```
/// use tenpay_client::{DiscountDetail, DiscountGoods};
/// use tenpay_xml::Fen;
/// let d = DiscountDetail::new(vec![DiscountGoods::new("a_goods1", 7, Fen::new(1))])
///     .cost_price(Fen::new(608800));
/// assert_eq!(
///     d.to_json(),
///     r#"{"cost_price":608800,"goods_detail":[{"goods_id":"a_goods1","quantity":7,"price":1}]}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DiscountDetail {
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "tenpay_xml::fen_json::option"
    )]
    cost_price: Option<Fen>,
    #[serde(skip_serializing_if = "Option::is_none")]
    receipt_id: Option<String>,
    goods_detail: Vec<DiscountGoods>,
}

impl DiscountDetail {
    /// These goods.
    #[must_use]
    pub fn new(goods: Vec<DiscountGoods>) -> Self {
        Self {
            cost_price: None,
            receipt_id: None,
            goods_detail: goods,
        }
    }

    /// The order's original price.
    #[must_use]
    pub fn cost_price(mut self, price: Fen) -> Self {
        self.cost_price = Some(price);
        self
    }

    /// The ticket's number.
    #[must_use]
    pub fn receipt_id(mut self, id: impl Into<String>) -> Self {
        self.receipt_id = Some(id.into());
        self
    }

    /// The JSON text sent as `detail` (signed as it is).
    #[must_use]
    pub fn to_json(&self) -> String {
        // Plain strings and numbers: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// One good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DiscountGoods {
    goods_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    wxpay_goods_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    goods_name: Option<String>,
    quantity: u32,
    #[serde(with = "tenpay_xml::fen_json")]
    price: Fen,
}

impl DiscountGoods {
    /// `quantity` of the merchant's good `goods_id` at the unit `price`.
    pub fn new(goods_id: impl Into<String>, quantity: u32, price: Fen) -> Self {
        Self {
            goods_id: goods_id.into(),
            wxpay_goods_id: None,
            goods_name: None,
            quantity,
            price,
        }
    }

    /// Its name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.goods_name = Some(name.into());
        self
    }

    /// WeChat Pay's id of it.
    #[must_use]
    pub fn wxpay_goods_id(mut self, id: impl Into<String>) -> Self {
        self.wxpay_goods_id = Some(id.into());
        self
    }
}

/// `/secapi/pay/refundv2` (certificate): a refund of an order paid with single-item
/// discounts, naming the goods refunded ([`RefundV2::goods`]; none for a full refund). Moves
/// money, read as a refund.
#[derive(Debug, Clone)]
pub struct RefundV2(Refund, Option<String>);

impl RefundV2 {
    /// The refund.
    #[must_use]
    pub fn new(refund: Refund) -> Self {
        Self(refund, None)
    }

    /// The goods refunded.
    #[must_use]
    pub fn goods(mut self, detail: &DiscountDetail) -> Self {
        self.1 = Some(detail.to_json());
        self
    }
}

wrapped_request!(
    /// `/pay/refundqueryv2`: by `out_refund_no` or `refund_id` only; the answer's
    /// `promotion_detail` says which goods' discounts were refunded.
    RefundQueryV2(RefundQuery)
);

impl crate::Endpoint for RefundV2 {
    type Response = RefundResponse;
    const ROUTE: Route<'static> = Route::new("/secapi/pay/refundv2")
        .certificate()
        .retry_safe()
        .moving_money();

    fn to_map(&self) -> Result<tenpay_xml::XmlMap, tenpay_xml::Error> {
        let mut map = <Refund as crate::Endpoint>::to_map(&self.0)?;
        if let Some(detail) = &self.1 {
            map.insert("detail", detail)?;
        }
        Ok(map)
    }

    fn out_trade_no(&self) -> Option<&str> {
        <Refund as crate::Endpoint>::out_trade_no(&self.0)
    }

    fn decode(
        verifier: &crate::Verifier,
        key: &tenpay_sign::ApiKey,
        answer: crate::Answer,
    ) -> Result<RefundResponse, crate::Error> {
        <Refund as crate::Endpoint>::decode(verifier, key, answer)
    }
}

/// As a refund's.
impl MovesMoney for RefundV2 {
    fn number(&self) -> &str {
        self.0.number()
    }

    fn read_code(code: &ErrCode) -> CodeReading {
        Refund::read_code(code)
    }
}

endpoint!(RefundQueryV2(RefundQuery) => RefundQueryResponse,
    Route::new("/pay/refundqueryv2").retry_safe(), adds: []);

macro_rules! promotions {
    ($($t:ty),*) => {$(
        impl $t {
            /// The promotions applied (`promotion_detail`; none without it).
            ///
            /// # Errors
            /// [`Error::Decode`](crate::Error::Decode) when the field is not the documented
            /// JSON.
            pub fn promotions(
                &self,
            ) -> Result<Vec<tenpay_xml::promotion::Promotion>, crate::Error> {
                tenpay_xml::promotion::promotions(&self.raw).map_err(crate::Error::Decode)
            }
        }
    )*};
}

promotions!(
    crate::MicropayResponse,
    crate::OrderQueryResponse,
    RefundResponse,
    RefundQueryResponse
);
