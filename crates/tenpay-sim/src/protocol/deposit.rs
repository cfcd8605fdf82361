//! Deposits (押金): a payment code freezes a deposit (`/deposit/micropay`, handled with the
//! payment codes), `/deposit/consume` settles part of it and unfreezes the rest, and
//! `/deposit/refund` refunds from what was consumed. The deposit calls take deposit orders
//! only, and a deposit order is reversed and refunded through them only.

use super::{Endpoint, Engine, Req, Verdict, biz, ok, rules};
use crate::state::{Order, TradeState};

/// Whether a deposit call meets a deposit order and a plain call a plain one: `Some` is the
/// refusal.
pub(super) fn route_check(endpoint: Endpoint, order: &Order) -> Option<Verdict> {
    let deposit_call = matches!(
        endpoint,
        Endpoint::DepositOrderQuery
            | Endpoint::DepositReverse
            | Endpoint::DepositConsume
            | Endpoint::DepositRefund
            | Endpoint::DepositRefundQuery
    );
    match (deposit_call, order.deposit) {
        (true, false) => Some(biz("ORDERNOTEXIST", "押金订单不存在")),
        (false, true) if matches!(endpoint, Endpoint::Reverse | Endpoint::Refund) => {
            Some(biz("TRADE_STATE_ERROR", "押金订单请使用押金接口"))
        }
        _ => None,
    }
}

/// The most that can be refunded of an order: a deposit's consumed amount, else its amount.
pub(super) fn refundable(order: &Order) -> Result<tenpay_xml::Fen, Verdict> {
    if !order.deposit {
        return Ok(order.total_fee);
    }
    order
        .consume_fee
        .ok_or_else(|| biz("TRADE_STATE_ERROR", "押金未消费，不能退款"))
}

impl Engine {
    /// `/deposit/consume`: once per deposit; the same request again gets the same answer.
    pub(super) fn consume(&self, req: &Req<'_>) -> Verdict {
        let (key, transaction_id) = match req.order_ref() {
            Ok(r) => r,
            Err(v) => return v,
        };
        let (Some(total_fee), Some(consume_fee)) = (
            rules::amount(req.get("total_fee")),
            rules::amount(req.get("consume_fee")),
        ) else {
            return biz(
                "PARAM_ERROR",
                "total_fee或consume_fee参数格式错误：必须为正整数，单位为分",
            );
        };
        let mut state = self.lock();
        let Some(order) = state.find_order(&key, transaction_id) else {
            return biz("ORDERNOTEXIST", "订单不存在");
        };
        if let Some(v) = route_check(req.endpoint, order) {
            return v;
        }
        if total_fee != order.total_fee {
            return biz("PARAM_ERROR", "total_fee与押金金额不一致");
        }
        if consume_fee > order.total_fee {
            return biz("PARAM_ERROR", "消费金额不能大于押金金额");
        }
        match (order.state, order.consume_fee) {
            (TradeState::Success | TradeState::Refund, Some(done)) if done == consume_fee => {}
            (TradeState::Success | TradeState::Refund, Some(_)) => {
                return biz("TRADE_STATE_ERROR", "押金已消费");
            }
            (TradeState::Success, None) => order.consume_fee = Some(consume_fee),
            _ => return biz("TRADE_STATE_ERROR", "订单状态错误"),
        }
        ok([
            (
                "transaction_id",
                order.transaction_id.clone().unwrap_or_default(),
            ),
            ("out_trade_no", order.out_trade_no.clone()),
            ("total_fee", order.total_fee.to_string()),
            ("consume_fee", consume_fee.to_string()),
            ("fee_type", order.fee_type.clone()),
        ])
    }
}
