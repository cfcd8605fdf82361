//! unifiedorder, orderquery, closeorder.

use serde::{Deserialize, Serialize};
use tenpay_xml::{BeijingTime, Currency, Fen, TradeState, TradeType, XmlMap};

use crate::Route;
use crate::endpoint::{Finish, endpoint, keep_raw};
use crate::{Coupon, Error, OutTradeNo};

/// `/pay/unifiedorder`: place an order and get a `prepay_id`.
///
/// The constructors take each trade type's required fields; the rest are setters.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct UnifiedOrder {
    body: String,
    out_trade_no: OutTradeNo,
    total_fee: Fen,
    spbill_create_ip: String,
    notify_url: String,
    trade_type: TradeType,
    openid: Option<String>,
    sub_openid: Option<String>,
    product_id: Option<String>,
    scene_info: Option<String>,
    device_info: Option<String>,
    detail: Option<String>,
    version: Option<&'static str>,
    attach: Option<String>,
    fee_type: Option<Currency>,
    time_start: Option<BeijingTime>,
    time_expire: Option<BeijingTime>,
    goods_tag: Option<String>,
    limit_pay: Option<String>,
    receipt: Option<String>,
    profit_sharing: Option<String>,
}

impl UnifiedOrder {
    fn new(
        trade_type: TradeType,
        body: impl Into<String>,
        out_trade_no: OutTradeNo,
        total_fee: Fen,
        spbill_create_ip: impl Into<String>,
        notify_url: impl Into<String>,
    ) -> Self {
        Self {
            body: body.into(),
            out_trade_no,
            total_fee,
            spbill_create_ip: spbill_create_ip.into(),
            notify_url: notify_url.into(),
            trade_type,
            openid: None,
            sub_openid: None,
            product_id: None,
            scene_info: None,
            device_info: None,
            detail: None,
            version: None,
            attach: None,
            fee_type: None,
            time_start: None,
            time_expire: None,
            goods_tag: None,
            limit_pay: None,
            receipt: None,
            profit_sharing: None,
        }
    }

    /// APP payment.
    pub fn app(
        body: impl Into<String>,
        out_trade_no: OutTradeNo,
        total_fee: Fen,
        client_ip: impl Into<String>,
        notify_url: impl Into<String>,
    ) -> Self {
        Self::new(
            TradeType::App,
            body,
            out_trade_no,
            total_fee,
            client_ip,
            notify_url,
        )
    }

    /// JSAPI / mini-program payment by the payer's `openid` (under your appid).
    pub fn jsapi(
        body: impl Into<String>,
        out_trade_no: OutTradeNo,
        total_fee: Fen,
        client_ip: impl Into<String>,
        notify_url: impl Into<String>,
        openid: impl Into<String>,
    ) -> Self {
        let mut o = Self::new(
            TradeType::Jsapi,
            body,
            out_trade_no,
            total_fee,
            client_ip,
            notify_url,
        );
        o.openid = Some(openid.into());
        o
    }

    /// JSAPI in service-provider mode by the payer's `sub_openid` (under the sub-merchant's appid).
    pub fn jsapi_sub_openid(
        body: impl Into<String>,
        out_trade_no: OutTradeNo,
        total_fee: Fen,
        client_ip: impl Into<String>,
        notify_url: impl Into<String>,
        sub_openid: impl Into<String>,
    ) -> Self {
        let mut o = Self::new(
            TradeType::Jsapi,
            body,
            out_trade_no,
            total_fee,
            client_ip,
            notify_url,
        );
        o.sub_openid = Some(sub_openid.into());
        o
    }

    /// Native (QR code) payment for `product_id`.
    pub fn native(
        body: impl Into<String>,
        out_trade_no: OutTradeNo,
        total_fee: Fen,
        client_ip: impl Into<String>,
        notify_url: impl Into<String>,
        product_id: impl Into<String>,
    ) -> Self {
        let mut o = Self::new(
            TradeType::Native,
            body,
            out_trade_no,
            total_fee,
            client_ip,
            notify_url,
        );
        o.product_id = Some(product_id.into());
        o
    }

    /// Native mode 1: the payer who scanned the product's QR code (the scan callback's
    /// `openid`), sent with the order's `product_id`.
    #[must_use]
    pub fn scanned_by(mut self, openid: impl Into<String>) -> Self {
        self.openid = Some(openid.into());
        self
    }

    /// H5 (MWEB) payment; `scene_info` is the JSON the protocol asks for.
    pub fn mweb(
        body: impl Into<String>,
        out_trade_no: OutTradeNo,
        total_fee: Fen,
        client_ip: impl Into<String>,
        notify_url: impl Into<String>,
        scene_info: impl Into<String>,
    ) -> Self {
        let mut o = Self::new(
            TradeType::Mweb,
            body,
            out_trade_no,
            total_fee,
            client_ip,
            notify_url,
        );
        o.scene_info = Some(scene_info.into());
        o
    }

    /// `attach`: echoed verbatim in the notification (at most 127 characters).
    #[must_use]
    pub fn attach(mut self, attach: impl Into<String>) -> Self {
        self.attach = Some(attach.into());
        self
    }

    /// Single-item discounts (单品优惠): `detail` in the discount layout, with `version=1.0`.
    #[must_use]
    pub fn single_item_discount(mut self, detail: &crate::DiscountDetail) -> Self {
        self.detail = Some(detail.to_json());
        self.version = Some("1.0");
        self
    }

    /// `detail`: the goods detail JSON.
    #[must_use]
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// `device_info`.
    #[must_use]
    pub fn device_info(mut self, device_info: impl Into<String>) -> Self {
        self.device_info = Some(device_info.into());
        self
    }

    /// `fee_type` (CNY by default).
    #[must_use]
    pub fn fee_type(mut self, currency: Currency) -> Self {
        self.fee_type = Some(currency);
        self
    }

    /// `time_start` and `time_expire` (at least 5 minutes apart from now for the expiry).
    #[must_use]
    pub fn time_window(mut self, start: Option<BeijingTime>, expire: Option<BeijingTime>) -> Self {
        self.time_start = start;
        self.time_expire = expire;
        self
    }

    /// `goods_tag`.
    #[must_use]
    pub fn goods_tag(mut self, tag: impl Into<String>) -> Self {
        self.goods_tag = Some(tag.into());
        self
    }

    /// `limit_pay=no_credit`: refuse credit cards.
    #[must_use]
    pub fn no_credit(mut self) -> Self {
        self.limit_pay = Some("no_credit".into());
        self
    }

    /// `receipt=Y`: electronic invoice entry.
    #[must_use]
    pub fn receipt(mut self) -> Self {
        self.receipt = Some("Y".into());
        self
    }

    /// `profit_sharing=Y`.
    #[must_use]
    pub fn profit_sharing(mut self) -> Self {
        self.profit_sharing = Some("Y".into());
        self
    }
}

/// The answer to [`UnifiedOrder`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct UnifiedOrderResponse {
    /// The trade type.
    pub trade_type: TradeType,
    /// The prepay id (valid 2 hours): hand it to the client as pay parameters.
    pub prepay_id: String,
    /// NATIVE: the QR code content.
    pub code_url: Option<String>,
    /// MWEB: the H5 payment page (valid 5 minutes).
    pub mweb_url: Option<String>,
    /// Echoed device_info.
    pub device_info: Option<String>,
    /// Every field of the verified answer.
    #[serde(skip)]
    pub raw: XmlMap,
}

keep_raw!(UnifiedOrderResponse);

endpoint!(UnifiedOrder => UnifiedOrderResponse, Route::new("/pay/unifiedorder").retry_safe(),
    trade_no: |s| Some(s.out_trade_no.as_str()));

/// `/pay/orderquery`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct OrderQuery {
    transaction_id: Option<String>,
    out_trade_no: Option<OutTradeNo>,
}

impl OrderQuery {
    /// By the merchant's order number.
    #[must_use]
    pub fn by_out_trade_no(out_trade_no: OutTradeNo) -> Self {
        Self {
            transaction_id: None,
            out_trade_no: Some(out_trade_no),
        }
    }

    /// By WeChat Pay's transaction id (preferred by the server when both are known).
    #[must_use]
    pub fn by_transaction_id(transaction_id: impl Into<String>) -> Self {
        Self {
            transaction_id: Some(transaction_id.into()),
            out_trade_no: None,
        }
    }
}

/// The answer to [`OrderQuery`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct OrderQueryResponse {
    /// The order's state.
    pub trade_state: TradeState,
    /// Its description.
    pub trade_state_desc: Option<String>,
    /// The merchant's order number.
    pub out_trade_no: Option<String>,
    /// WeChat Pay's transaction id (once paid).
    pub transaction_id: Option<String>,
    /// The payer.
    pub openid: Option<String>,
    /// Follows the official account (`Y`/`N`).
    pub is_subscribe: Option<String>,
    /// Trade type.
    pub trade_type: Option<TradeType>,
    /// Paying bank.
    pub bank_type: Option<String>,
    /// Order amount.
    pub total_fee: Option<Fen>,
    /// Settled amount.
    pub settlement_total_fee: Option<Fen>,
    /// Currency.
    pub fee_type: Option<Currency>,
    /// Cash paid.
    pub cash_fee: Option<Fen>,
    /// Coupons total.
    pub coupon_fee: Option<Fen>,
    /// A deposit order's consumed amount, once consumed (`/deposit/orderquery`).
    pub consume_fee: Option<Fen>,
    /// `attach`, echoed.
    pub attach: Option<String>,
    /// Completion time.
    pub time_end: Option<BeijingTime>,
    /// Device.
    pub device_info: Option<String>,
    /// Coupons (`coupon_*_$n`).
    #[serde(skip)]
    pub coupons: Vec<Coupon>,
    /// Every field of the verified answer.
    #[serde(skip)]
    pub raw: XmlMap,
}

impl Finish for OrderQueryResponse {
    fn finish(&mut self, raw: XmlMap) -> Result<(), Error> {
        self.coupons =
            tenpay_xml::indexed::read(&raw, "coupon_count", "").map_err(Error::Decode)?;
        self.raw = raw;
        Ok(())
    }
}

endpoint!(OrderQuery => OrderQueryResponse, Route::new("/pay/orderquery").retry_safe(),
    trade_no: |s| s.out_trade_no.as_ref().map(OutTradeNo::as_str));

/// `/pay/closeorder`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct CloseOrder {
    out_trade_no: OutTradeNo,
}

impl CloseOrder {
    /// Close this unpaid order.
    #[must_use]
    pub fn new(out_trade_no: OutTradeNo) -> Self {
        Self { out_trade_no }
    }
}

/// The answer to [`CloseOrder`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct CloseOrderResponse {
    /// `result_msg`, when sent.
    pub result_msg: Option<String>,
    /// Every field of the verified answer.
    #[serde(skip)]
    pub raw: XmlMap,
}

keep_raw!(CloseOrderResponse);

endpoint!(CloseOrder => CloseOrderResponse, Route::new("/pay/closeorder").retry_safe(),
    trade_no: |s| Some(s.out_trade_no.as_str()));
