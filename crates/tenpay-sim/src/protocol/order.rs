//! Orders: unifiedorder, orderquery, closeorder, and what every order family shares (paying,
//! the payment notification's content).

use std::sync::Arc;

use md5::{Digest, Md5};
use tenpay_xml::Fen;

use super::{Engine, Req, Verdict, biz, ok, rules};
use crate::clock::{compact, date, now_unix};
use crate::ids::{random_u64, seq};
use crate::notify::{DEFAULT_OPENID, PayPayload};
use crate::state::{Order, OrderKey, TradeState};

impl Engine {
    pub(super) fn unified_order(self: &Arc<Self>, req: &Req<'_>) -> Verdict {
        let (out_trade_no, total_fee) = match rules::order_fields(req, 5) {
            Ok(v) => v,
            Err(v) => return v,
        };
        let trade_type = req.get("trade_type").unwrap_or_default();
        if !["JSAPI", "NATIVE", "APP", "MWEB"].contains(&trade_type) {
            return biz("PARAM_ERROR", "trade_type参数错误");
        }
        let openid = req.get("openid").or_else(|| req.get("sub_openid"));
        if trade_type == "JSAPI" && openid.is_none() {
            return biz("PARAM_ERROR", "JSAPI支付必须传openid");
        }
        if trade_type == "NATIVE" && req.get("product_id").is_none() {
            return biz("PARAM_ERROR", "NATIVE支付必须传product_id");
        }
        if trade_type == "MWEB" && req.get("scene_info").is_none() {
            return biz("PARAM_ERROR", "MWEB支付必须传scene_info");
        }
        let notify_url = req.get("notify_url").unwrap_or_default();
        if let Err(why) = self.check_notify_url(notify_url) {
            return biz("PARAM_ERROR", why.to_string());
        }
        let fingerprint = fingerprint(req);
        let key = req.order_key(out_trade_no);
        let mut state = self.lock();
        if let Some(existing) = state.order(&key) {
            return match existing.state {
                TradeState::Success | TradeState::Refund => biz("ORDERPAID", "该订单已支付"),
                TradeState::Closed | TradeState::Revoked => biz("ORDERCLOSED", "该订单已关闭"),
                _ if existing.fingerprint != fingerprint => {
                    biz("OUT_TRADE_NO_USED", "商户订单号重复")
                }
                _ => order_answer(existing),
            };
        }
        let now = now_unix();
        let prepay_id = format!("wx{}{:016x}", compact(now), random_u64());
        let code_url = (trade_type == "NATIVE").then(|| {
            format!(
                "weixin://wxpay/bizpayurl?pr={:08x}",
                random_u64() % (1 << 32)
            )
        });
        let mweb_url = (trade_type == "MWEB").then(|| {
            format!(
                "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id={prepay_id}&package={}",
                random_u64() % 10_000_000_000
            )
        });
        let mut order = new_order(req, out_trade_no, total_fee, trade_type, TradeState::NotPay);
        order.fingerprint = fingerprint;
        order.openid = req.get("openid").map(str::to_owned);
        order.sub_openid = req.get("sub_openid").map(str::to_owned);
        order.notify_url = Some(notify_url.to_owned());
        order.prepay_id = Some(prepay_id);
        order.code_url = code_url;
        order.mweb_url = mweb_url;
        order.deposit = req.endpoint == super::Endpoint::DepositUnifiedOrder;
        let answer = order_answer(&order);
        state.insert_order(key, order);
        answer
    }

    pub(crate) fn check_notify_url(&self, url: &str) -> Result<(), NotifyUrlError> {
        let target = crate::notify::Target::parse(url).map_err(NotifyUrlError::Unusable)?;
        if !self.allow_any_notify_url && !target.is_loopback() {
            return Err(NotifyUrlError::NotLoopback { host: target.host });
        }
        Ok(())
    }

    pub(super) fn order_query(&self, req: &Req<'_>) -> Verdict {
        let (key, transaction_id) = match req.order_ref() {
            Ok(r) => r,
            Err(v) => return v,
        };
        let mut state = self.lock();
        let Some(order) = state.find_order(&key, transaction_id) else {
            return biz("ORDERNOTEXIST", "此交易订单号不存在");
        };
        if let Some(v) = super::deposit::route_check(req.endpoint, order) {
            return v;
        }
        let mut f: Vec<(String, String)> = Vec::new();
        let mut put = |k: &str, v: String| f.push((k.to_owned(), v));
        if let Some(d) = &order.device_info {
            put("device_info", d.clone());
        }
        let paid = order.transaction_id.is_some()
            && matches!(order.state, TradeState::Success | TradeState::Refund);
        if paid {
            put("openid", order.payer_openid.clone().unwrap_or_default());
            put("is_subscribe", "N".into());
        }
        put("trade_type", order.trade_type.clone());
        put("trade_state", order.state.as_str().into());
        if paid {
            put("bank_type", "CFT".into());
        }
        put("total_fee", order.total_fee.to_string());
        if let Some(c) = order.consume_fee {
            put("consume_fee", c.to_string());
        }
        put("fee_type", order.fee_type.clone());
        if paid {
            put("cash_fee", order.cash_fee().to_string());
            if !order.coupon_fee.is_zero() {
                put("coupon_fee", order.coupon_fee.to_string());
                put("coupon_count", "1".into());
                put("coupon_type_0", "CASH".into());
                put("coupon_id_0", "2000000000000000001".into());
                put("coupon_fee_0", order.coupon_fee.to_string());
            }
            if let Some(p) = promotion_detail(order) {
                put("promotion_detail", p);
            }
            put(
                "transaction_id",
                order.transaction_id.clone().unwrap_or_default(),
            );
        }
        put("out_trade_no", order.out_trade_no.clone());
        if let Some(a) = &order.attach {
            put("attach", a.clone());
        }
        if let Some(t) = order.time_end {
            put("time_end", compact(t));
        }
        put("trade_state_desc", order.state.desc().into());
        Verdict::Ok(f)
    }

    pub(super) fn close_order(&self, req: &Req<'_>) -> Verdict {
        let key = req.order_key(req.get("out_trade_no").unwrap_or_default());
        let mut state = self.lock();
        let Some(order) = state.order_mut(&key) else {
            return biz("ORDERNOTEXIST", "订单不存在");
        };
        match order.state {
            TradeState::Success | TradeState::Refund => {
                biz("ORDERPAID", "订单已支付，不能发起关单")
            }
            TradeState::Closed | TradeState::Revoked => {
                biz("ORDERCLOSED", "订单已关闭，无需继续关闭")
            }
            TradeState::UserPaying => biz("TRADE_STATE_ERROR", "用户支付中，不能关单"),
            TradeState::NotPay | TradeState::PayError => {
                order.state = TradeState::Closed;
                ok([("result_msg", "OK")])
            }
        }
    }
}

/// An order from a request's common fields; the family sets the rest.
pub(super) fn new_order(
    req: &Req<'_>,
    out_trade_no: &str,
    total_fee: Fen,
    trade_type: &str,
    state: TradeState,
) -> Order {
    let mut order = Order::blank(
        &req.merchant.mch_id,
        &req.merchant.appid,
        out_trade_no,
        trade_type,
        total_fee,
        state,
    );
    order.sub_mch_id.clone_from(&req.sub_mch_id);
    order.sub_appid.clone_from(&req.sub_appid);
    order.fee_type = req.get("fee_type").unwrap_or("CNY").to_owned();
    order.body = req.get("body").unwrap_or_default().to_owned();
    order.attach = req.get("attach").map(str::to_owned);
    order.device_info = req.get("device_info").map(str::to_owned);
    order.sign_type = req.sign_type;
    order.expires_at = req
        .get("time_expire")
        .and_then(|t| t.parse::<tenpay_xml::BeijingTime>().ok())
        .map(|t| t.unix());
    order.profit_sharing = req.get("profit_sharing") == Some("Y");
    order.discount_goods = rules::discount_goods(req);
    order
}

/// A paid single-item discount order's `promotion_detail`: the coupon as one promotion
/// (`SINGLE`, `DISCOUNT`, the merchant's) over its goods; `None` for other orders.
pub(crate) fn promotion_detail(order: &Order) -> Option<String> {
    if order.coupon_fee.is_zero() || order.discount_goods.is_empty() {
        return None;
    }
    let amount = order.coupon_fee.get();
    Some(
        serde_json::json!({ "promotion_detail": [{
            "promotion_id": "109519",
            "name": "单品优惠 (tenpay-sim)",
            "scope": "SINGLE",
            "type": "DISCOUNT",
            "amount": amount,
            "activity_id": "931386",
            "wxpay_contribute": 0,
            "merchant_contribute": amount,
            "other_contribute": 0,
            "goods_detail": order.discount_goods,
        }]})
        .to_string(),
    )
}

/// A digest of everything that defines the order (nonce, sign, time_start and the IP may
/// change between two placements of one order).
fn fingerprint(req: &Req<'_>) -> [u8; 16] {
    let mut fields: Vec<(&str, &str)> = req
        .map
        .iter()
        .filter(|(k, _)| {
            ![
                "nonce_str",
                "sign",
                "sign_type",
                "spbill_create_ip",
                "time_start",
            ]
            .contains(k)
        })
        .collect();
    fields.sort_unstable();
    let mut h = Md5::new();
    for (k, v) in fields {
        h.update(k.as_bytes());
        h.update(b"=");
        h.update(v.as_bytes());
        h.update(b"\n");
    }
    h.finalize().into()
}

pub(super) fn order_answer(order: &Order) -> Verdict {
    let mut f = vec![("trade_type".to_owned(), order.trade_type.clone())];
    if let Some(d) = &order.device_info {
        f.push(("device_info".into(), d.clone()));
    }
    f.push((
        "prepay_id".into(),
        order.prepay_id.clone().unwrap_or_default(),
    ));
    if let Some(u) = &order.code_url {
        f.push(("code_url".into(), u.clone()));
    }
    if let Some(u) = &order.mweb_url {
        f.push(("mweb_url".into(), u.clone()));
    }
    Verdict::Ok(f)
}

pub(super) fn key_of(o: &Order) -> OrderKey {
    (
        o.mch_id.clone(),
        o.sub_mch_id.clone().unwrap_or_default(),
        o.out_trade_no.clone(),
    )
}

pub(super) fn mark_paid(order: &mut Order, payer: Option<String>) {
    order.state = TradeState::Success;
    order.transaction_id = Some(format!(
        "4200000{:03}{}{:08}",
        random_u64() % 1000,
        date(now_unix()),
        seq()
    ));
    order.time_end = Some(now_unix());
    if payer.is_some() {
        order.payer_openid = payer;
    }
    if order.payer_openid.is_none() {
        order.payer_openid = Some(DEFAULT_OPENID.into());
    }
}

/// The payment notification's content for a paid (or failed) order.
pub(super) fn pay_payload(order: &Order, sign_type_field: bool) -> PayPayload {
    let mut p = PayPayload::new(
        order.appid.clone(),
        order.mch_id.clone(),
        order.out_trade_no.clone(),
        order.total_fee,
    );
    p.sub_appid.clone_from(&order.sub_appid);
    p.sub_mch_id.clone_from(&order.sub_mch_id);
    p.device_info.clone_from(&order.device_info);
    p.transaction_id.clone_from(&order.transaction_id);
    p.trade_type.clone_from(&order.trade_type);
    p.coupon_fee = order.coupon_fee;
    p.promotion_detail = promotion_detail(order);
    p.fee_type.clone_from(&order.fee_type);
    if let Some(o) = &order.payer_openid {
        p.openid.clone_from(o);
    }
    p.sub_openid.clone_from(&order.sub_openid);
    p.attach.clone_from(&order.attach);
    p.time_end = order.time_end.unwrap_or_else(now_unix);
    if order.state == TradeState::PayError {
        p.err_code = Some(
            order
                .err_code
                .clone()
                .unwrap_or_else(|| "PAYERROR".to_owned()),
        );
    }
    p.sign_type_field = sign_type_field;
    p.contract_id.clone_from(&order.contract_id);
    p
}

/// Why the simulator refuses a `notify_url` (the answer's `err_code_des`).
#[derive(Debug, thiserror::Error)]
pub(crate) enum NotifyUrlError {
    #[error("notify_url参数错误: {0}")]
    Unusable(&'static str),
    #[error(
        "notify_url参数错误: the simulator delivers only to loopback addresses (got host {host}); \
         enable allow_any_notify_url for a test network"
    )]
    NotLoopback { host: String },
}
