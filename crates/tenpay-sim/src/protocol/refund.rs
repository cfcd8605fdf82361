//! Refunds: refund, refundquery, and a refund's outcome (after 60 s, scaled, or from the
//! control API), with its notification.

use std::sync::Arc;

use super::order::key_of;
use super::{Engine, Req, Verdict, biz, ok, rules};
use crate::clock::{compact, dashed, now_unix};
use crate::error::Refusal;
use crate::ids::seq;
use crate::model::DeliveryKind;
use crate::notify::RefundPayload;
use crate::state::{Order, OrderKey, Refund, TradeState};

/// At most this many refunds per order.
const MAX_REFUNDS: usize = 50;

/// Why a refund of a paid order is refused, whichever API asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefundRefusal {
    /// The same `out_refund_no` with another amount.
    AmountChanged,
    /// Fifty refunds already.
    TooMany,
    /// More than what is left to refund.
    TooMuch,
}

impl Engine {
    /// Books a refund of a paid order (or returns the one with this `out_refund_no`, the
    /// same amount): PROCESSING, then SUCCESS a simulated minute later with its
    /// notification. `cap` is what may be refunded in all.
    pub(crate) fn apply_refund(
        self: &Arc<Self>,
        order: &mut Order,
        cap: tenpay_xml::Fen,
        out_refund_no: &str,
        refund_fee: tenpay_xml::Fen,
        notify_url: Option<String>,
    ) -> Result<Refund, RefundRefusal> {
        if let Some(r) = order
            .refunds
            .iter()
            .find(|r| r.out_refund_no == out_refund_no)
        {
            return if r.refund_fee == refund_fee {
                Ok(r.clone())
            } else {
                Err(RefundRefusal::AmountChanged)
            };
        }
        if order.refunds.len() >= MAX_REFUNDS {
            return Err(RefundRefusal::TooMany);
        }
        let fits = order
            .refunded()
            .and_then(|sum| sum.checked_add(refund_fee))
            .is_some_and(|total| total <= cap);
        if !fits {
            return Err(RefundRefusal::TooMuch);
        }
        let refund = Refund {
            out_refund_no: out_refund_no.to_owned(),
            refund_id: format!("50000{}{:010}", compact(now_unix()), seq()),
            refund_fee,
            status: "PROCESSING",
            success_time: None,
            notify_url,
        };
        order.refunds.push(refund.clone());
        order.state = TradeState::Refund;
        let engine = Arc::clone(self);
        let (key, no) = (key_of(order), refund.out_refund_no.clone());
        tokio::spawn(async move {
            tokio::time::sleep(engine.clock.scaled(60)).await;
            let _ = engine.finish_refund(&key, &no, "SUCCESS");
        });
        Ok(refund)
    }

    pub(super) fn refund(self: &Arc<Self>, req: &Req<'_>) -> Verdict {
        let (key, transaction_id) = match req.order_ref() {
            Ok(r) => r,
            Err(v) => return v,
        };
        let out_refund_no = req.get("out_refund_no").unwrap_or_default();
        if !rules::valid_trade_no(out_refund_no, 64) {
            return biz("PARAM_ERROR", "out_refund_no参数格式错误");
        }
        let (Some(total_fee), Some(refund_fee)) = (
            rules::amount(req.get("total_fee")),
            rules::amount(req.get("refund_fee")),
        ) else {
            return biz(
                "PARAM_ERROR",
                "total_fee或refund_fee参数格式错误：必须为正整数，单位为分",
            );
        };
        let mut state = self.lock();
        let Some(order) = state.find_order(&key, transaction_id) else {
            return biz("ORDERNOTEXIST", "订单不存在");
        };
        if !matches!(order.state, TradeState::Success | TradeState::Refund) {
            return biz("TRADE_STATE_ERROR", "订单状态错误");
        }
        if let Some(v) = super::deposit::route_check(req.endpoint, order) {
            return v;
        }
        let cap = match super::deposit::refundable(order) {
            Ok(cap) => cap,
            Err(v) => return v,
        };
        if total_fee != order.total_fee {
            return biz(
                "PARAM_ERROR",
                "订单金额或退款金额与之前请求不一致，请核实后再试",
            );
        }
        let notify_url = req
            .get("notify_url")
            .map(str::to_owned)
            .or_else(|| req.merchant.refund_notify_url.clone());
        let refund = match self.apply_refund(order, cap, out_refund_no, refund_fee, notify_url) {
            Ok(r) => r,
            Err(RefundRefusal::AmountChanged) => {
                return biz("PARAM_ERROR", "同一out_refund_no退款金额要一致");
            }
            Err(RefundRefusal::TooMany) => return biz("PARAM_ERROR", "退款次数超过限制(50次)"),
            Err(RefundRefusal::TooMuch) => return biz("PARAM_ERROR", "累计退款金额大于支付金额"),
        };
        let cash = order.cash_fee();
        ok([
            (
                "transaction_id",
                order.transaction_id.clone().unwrap_or_default(),
            ),
            ("out_trade_no", order.out_trade_no.clone()),
            ("out_refund_no", refund.out_refund_no.clone()),
            ("refund_id", refund.refund_id.clone()),
            ("refund_channel", String::new()),
            ("refund_fee", refund.refund_fee.to_string()),
            ("settlement_refund_fee", refund.refund_fee.to_string()),
            ("total_fee", order.total_fee.to_string()),
            ("settlement_total_fee", order.total_fee.to_string()),
            ("fee_type", order.fee_type.clone()),
            ("cash_fee", cash.to_string()),
            ("cash_refund_fee", refund.refund_fee.min(cash).to_string()),
        ])
    }

    /// PROCESSING → `status` (`SUCCESS`, `CHANGE` or `REFUNDCLOSE`), then the refund
    /// notification to the refund's notify URL, if it has one.
    pub(crate) fn finish_refund(
        self: &Arc<Self>,
        key: &OrderKey,
        out_refund_no: &str,
        status: &'static str,
    ) -> Result<(Order, Refund), Refusal> {
        let mut state = self.lock();
        let order = state.order_mut(key).ok_or_else(|| Refusal::UnknownOrder {
            out_trade_no: key.2.clone(),
        })?;
        let refund = order
            .refunds
            .iter_mut()
            .find(|r| r.out_refund_no == out_refund_no)
            .ok_or_else(|| Refusal::UnknownRefund {
                out_refund_no: out_refund_no.to_owned(),
            })?;
        if refund.status != "PROCESSING" {
            return Err(Refusal::RefundNotProcessing {
                out_refund_no: out_refund_no.to_owned(),
                status: refund.status,
            });
        }
        refund.status = status;
        refund.success_time = Some(now_unix());
        let refund = refund.clone();
        let order = order.clone();
        drop(state);
        if let (Some(url), Some(merchant)) =
            (refund.notify_url.clone(), self.merchant(&order.mch_id))
        {
            let (body, wire) = match &merchant.v3 {
                Some(v3) if order.v3 => (
                    crate::v3::refund_notification(&order, &refund, v3),
                    self.v3_wire(v3.signing),
                ),
                _ => (
                    refund_payload(&order, &refund).encrypt(&merchant.key),
                    crate::notify::Wire::Xml,
                ),
            };
            self.outbox.send(
                DeliveryKind::Refund,
                &order.mch_id,
                &order.out_trade_no,
                url,
                body,
                wire,
            );
        }
        Ok((order, refund))
    }

    pub(super) fn refund_query(&self, req: &Req<'_>) -> Verdict {
        let out_trade_no = req.get("out_trade_no").unwrap_or_default();
        let by = ["refund_id", "out_refund_no", "transaction_id"]
            .iter()
            .find_map(|k| req.get(k).map(|v| (*k, v)));
        if out_trade_no.is_empty() && by.is_none() {
            return Verdict::Protocol("缺少参数out_trade_no".into());
        }
        let offset = match req.get("offset").map(str::parse::<usize>) {
            None => 0,
            Some(Ok(n)) => n,
            Some(Err(_)) => return biz("PARAM_ERROR", "offset参数格式错误"),
        };
        let state = self.lock();
        let mch = &req.merchant.mch_id;
        let sub = req.sub_mch_id.as_deref().unwrap_or_default();
        let mine =
            |o: &&Order| &o.mch_id == mch && o.sub_mch_id.as_deref().unwrap_or_default() == sub;
        let mut orders = state.orders().filter(mine);
        let found = orders.find(|o| match by {
            Some(("refund_id", v)) => o.refunds.iter().any(|r| r.refund_id == v),
            Some(("out_refund_no", v)) => o.refunds.iter().any(|r| r.out_refund_no == v),
            Some((_, v)) => o.transaction_id.as_deref() == Some(v),
            None => o.out_trade_no == out_trade_no,
        });
        let Some(order) = found.filter(|o| !o.refunds.is_empty()) else {
            return biz("REFUNDNOTEXIST", "退款订单查询失败");
        };
        let refunds: Vec<&Refund> = match by {
            Some(("refund_id", v)) => order.refunds.iter().filter(|r| r.refund_id == v).collect(),
            Some(("out_refund_no", v)) => order
                .refunds
                .iter()
                .filter(|r| r.out_refund_no == v)
                .collect(),
            _ => order.refunds.iter().collect(),
        };
        if offset > 0 && offset >= refunds.len() {
            return biz("PARAM_ERROR", "offset超出退款笔数");
        }
        let page: Vec<&&Refund> = refunds.iter().skip(offset).take(10).collect();
        let mut f: Vec<(String, String)> = vec![
            ("total_refund_count".into(), refunds.len().to_string()),
            (
                "transaction_id".into(),
                order.transaction_id.clone().unwrap_or_default(),
            ),
            ("out_trade_no".into(), order.out_trade_no.clone()),
            ("total_fee".into(), order.total_fee.to_string()),
            ("settlement_total_fee".into(), order.total_fee.to_string()),
            ("fee_type".into(), order.fee_type.clone()),
            ("cash_fee".into(), order.cash_fee().to_string()),
            ("refund_count".into(), page.len().to_string()),
        ];
        for (n, r) in page.iter().enumerate() {
            let mut put = |k: &str, v: String| f.push((format!("{k}_{n}"), v));
            put("out_refund_no", r.out_refund_no.clone());
            put("refund_id", r.refund_id.clone());
            put("refund_channel", "ORIGINAL".into());
            put("refund_fee", r.refund_fee.to_string());
            put("settlement_refund_fee", r.refund_fee.to_string());
            put("refund_status", r.status.into());
            put("refund_account", "REFUND_SOURCE_UNSETTLED_FUNDS".into());
            put("refund_recv_accout", "支付用户的零钱".into());
            if let Some(t) = r.success_time {
                put("refund_success_time", dashed(t));
            }
        }
        Verdict::Ok(f)
    }
}

/// The refund notification's content.
fn refund_payload(order: &Order, refund: &Refund) -> RefundPayload {
    RefundPayload {
        appid: order.appid.clone(),
        mch_id: order.mch_id.clone(),
        transaction_id: order.transaction_id.clone().unwrap_or_default(),
        out_trade_no: order.out_trade_no.clone(),
        refund_id: refund.refund_id.clone(),
        out_refund_no: refund.out_refund_no.clone(),
        total_fee: order.total_fee,
        refund_fee: refund.refund_fee,
        refund_status: refund.status.to_owned(),
        success_time: refund.success_time.unwrap_or_else(now_unix),
    }
}
