//! The simulator's memory: orders, refunds, deliveries, faults.

use std::collections::HashMap;

use tenpay_sign::SignType;

use crate::model::{DeliveryView, Fault, OrderView, RefundView};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TradeState {
    NotPay,
    Success,
    Refund,
    Closed,
    Revoked,
    UserPaying,
    PayError,
}

impl TradeState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::NotPay => "NOTPAY",
            Self::Success => "SUCCESS",
            Self::Refund => "REFUND",
            Self::Closed => "CLOSED",
            Self::Revoked => "REVOKED",
            Self::UserPaying => "USERPAYING",
            Self::PayError => "PAYERROR",
        }
    }

    pub(crate) fn desc(self) -> &'static str {
        match self {
            Self::NotPay => "订单未支付",
            Self::Success => "支付成功",
            Self::Refund => "转入退款",
            Self::Closed => "已关闭",
            Self::Revoked => "已撤销（刷卡支付）",
            Self::UserPaying => "用户支付中",
            Self::PayError => "支付失败",
        }
    }
}

/// What happens to a payment-code order while the user "enters the password".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MicropayPlan {
    None,
    PaidAfterDelay,
    PayingUntilReversed,
}

#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub(crate) mch_id: String,
    pub(crate) appid: String,
    pub(crate) sub_mch_id: Option<String>,
    pub(crate) sub_appid: Option<String>,
    pub(crate) out_trade_no: String,
    pub(crate) fingerprint: String,
    pub(crate) trade_type: String,
    pub(crate) total_fee: u64,
    pub(crate) fee_type: String,
    pub(crate) body: String,
    pub(crate) attach: Option<String>,
    pub(crate) device_info: Option<String>,
    pub(crate) openid: Option<String>,
    pub(crate) sub_openid: Option<String>,
    pub(crate) notify_url: Option<String>,
    pub(crate) sign_type: SignType,
    pub(crate) state: TradeState,
    pub(crate) prepay_id: Option<String>,
    pub(crate) code_url: Option<String>,
    pub(crate) mweb_url: Option<String>,
    pub(crate) transaction_id: Option<String>,
    pub(crate) time_end: Option<i64>,
    pub(crate) payer_openid: Option<String>,
    pub(crate) coupon_fee: u64,
    pub(crate) refunds: Vec<Refund>,
    pub(crate) micropay: MicropayPlan,
    pub(crate) err_code: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Refund {
    pub(crate) out_refund_no: String,
    pub(crate) refund_id: String,
    pub(crate) refund_fee: u64,
    pub(crate) status: &'static str,
    pub(crate) success_time: Option<i64>,
    pub(crate) notify_url: Option<String>,
}

impl Order {
    /// The refunds' total (each fits the order, so the sum cannot overflow; saturating all
    /// the same).
    pub(crate) fn refunded(&self) -> u64 {
        self.refunds
            .iter()
            .fold(0u64, |sum, r| sum.saturating_add(r.refund_fee))
    }

    pub(crate) fn view(&self) -> OrderView {
        OrderView {
            mch_id: self.mch_id.clone(),
            sub_mch_id: self.sub_mch_id.clone(),
            out_trade_no: self.out_trade_no.clone(),
            trade_state: self.state.as_str().to_owned(),
            trade_type: self.trade_type.clone(),
            total_fee: self.total_fee,
            prepay_id: self.prepay_id.clone(),
            transaction_id: self.transaction_id.clone(),
            notify_url: self.notify_url.clone(),
            sign_type: self.sign_type.as_str().to_owned(),
            refunds: self
                .refunds
                .iter()
                .map(|r| RefundView {
                    out_refund_no: r.out_refund_no.clone(),
                    refund_id: r.refund_id.clone(),
                    refund_fee: r.refund_fee,
                    refund_status: r.status.to_owned(),
                })
                .collect(),
        }
    }
}

/// Orders are keyed by (mch_id, sub_mch_id or "", out_trade_no).
pub(crate) type OrderKey = (String, String, String);

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) orders: HashMap<OrderKey, Order>,
    pub(crate) deliveries: Vec<DeliveryView>,
    pub(crate) faults: Vec<Fault>,
    /// Calls per endpoint (every request that reached an endpoint, faults included).
    pub(crate) calls: HashMap<String, u64>,
}

impl State {
    pub(crate) fn find_order(
        &mut self,
        key: &OrderKey,
        transaction_id: Option<&str>,
    ) -> Option<&mut Order> {
        if let Some(tid) = transaction_id.filter(|t| !t.is_empty()) {
            return self.orders.values_mut().find(|o| {
                o.mch_id == key.0
                    && o.sub_mch_id.as_deref().unwrap_or("") == key.1
                    && o.transaction_id.as_deref() == Some(tid)
            });
        }
        self.orders.get_mut(key)
    }

    /// Takes the first matching fault for `endpoint`, consuming one use of a counted fault.
    pub(crate) fn take_fault(&mut self, endpoint: &str) -> Option<crate::model::FaultKind> {
        let roll = crate::ids::random_u64() % 1000;
        let i = self.faults.iter().position(|f| {
            (f.endpoint == endpoint || f.endpoint == "*")
                && match (f.count, f.per_mille) {
                    (Some(c), _) => c > 0,
                    (None, Some(p)) => roll < u64::from(p),
                    (None, None) => true,
                }
        })?;
        let kind = self.faults[i].kind.clone();
        if let Some(c) = self.faults[i].count.as_mut() {
            *c -= 1;
            if *c == 0 {
                self.faults.remove(i);
            }
        }
        Some(kind)
    }
}
