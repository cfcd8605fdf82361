//! The control operations: what the simulated user, bank and WeChat Pay do on request (the
//! user pays, the payment fails, a refund reaches its outcome, a notification is sent again),
//! each refused with a typed [`Refusal`].

use std::sync::Arc;

use super::Engine;
use super::order::{key_of, mark_paid, pay_payload};
use crate::clock::now_unix;
use crate::error::Refusal;
use crate::model::{DeliveryKind, MerchantView, OrderView, PayOptions};
use crate::state::{Order, State, TradeState};

impl Engine {
    /// The simulated user pays an order, and the notification goes out.
    pub(crate) fn pay(
        self: &Arc<Self>,
        mch_id: Option<&str>,
        out_trade_no: &str,
        opts: &PayOptions,
    ) -> Result<OrderView, Refusal> {
        let sign_type_field = opts.sign_type_field.unwrap_or(false);
        let late = opts.after_close.unwrap_or(false);
        self.conclude(mch_id, out_trade_no, sign_type_field, late, |order| {
            let coupon = opts.coupon_fee.unwrap_or_default();
            if !coupon.is_zero() && coupon >= order.total_fee {
                return Err(Refusal::CouponTooLarge {
                    total_fee: order.total_fee.get(),
                });
            }
            let payer = opts.openid.clone().or_else(|| order.openid.clone());
            mark_paid(order, payer);
            order.coupon_fee = coupon;
            Ok(())
        })
    }

    /// The payment fails (`PAYERROR`), and a `result_code=FAIL` notification goes out.
    pub(crate) fn fail(
        self: &Arc<Self>,
        mch_id: Option<&str>,
        out_trade_no: &str,
        err_code: &str,
    ) -> Result<OrderView, Refusal> {
        self.conclude(mch_id, out_trade_no, false, false, |order| {
            order.state = TradeState::PayError;
            order.err_code = Some(err_code.to_owned());
            Ok(())
        })
    }

    /// Ends a NOTPAY order (before its `time_expire`) with `outcome` (paid or failed), then
    /// sends its payment notification to the order's notify_url. `late`: a CLOSED or expired
    /// order too (a payment that began before the close).
    fn conclude(
        self: &Arc<Self>,
        mch_id: Option<&str>,
        out_trade_no: &str,
        sign_type_field: bool,
        late: bool,
        outcome: impl FnOnce(&mut Order) -> Result<(), Refusal>,
    ) -> Result<OrderView, Refusal> {
        let mut state = self.lock();
        let order = find(&mut state, mch_id, out_trade_no)?;
        let open = order.state == TradeState::NotPay || (late && order.state == TradeState::Closed);
        if !open {
            return Err(Refusal::WrongState {
                out_trade_no: out_trade_no.to_owned(),
                state: order.state.as_str(),
                expected: if late { "NOTPAY or CLOSED" } else { "NOTPAY" },
            });
        }
        if let Some(at) = order.expires_at.filter(|at| *at <= now_unix() && !late) {
            return Err(Refusal::Expired {
                out_trade_no: out_trade_no.to_owned(),
                time_expire: crate::clock::compact(at),
            });
        }
        outcome(order)?;
        let order = order.clone();
        drop(state);
        if let (Some(url), Some(merchant)) =
            (order.notify_url.clone(), self.merchant(&order.mch_id))
        {
            let (body, wire) = match &merchant.v3 {
                Some(v3) if order.v3 => (
                    crate::v3::transaction_notification(&order, v3),
                    self.v3_wire(v3.signing),
                ),
                _ => (
                    pay_payload(&order, sign_type_field).sign(&merchant.key, order.sign_type),
                    crate::notify::Wire::Xml,
                ),
            };
            self.outbox.send(
                DeliveryKind::Pay,
                &order.mch_id,
                &order.out_trade_no,
                url,
                body,
                wire,
            );
        }
        // Pay and sign: the payment signs the contract the order carried.
        if order.state == TradeState::Success {
            let waiting = self
                .lock()
                .papay
                .on_pay
                .remove(&(order.mch_id.clone(), order.out_trade_no.clone()));
            if let Some(code) = waiting {
                let payer = order.payer_openid.clone().unwrap_or_default();
                let _ = self.sign_contract(&order.mch_id, &code, &payer);
            }
        }
        Ok(order.view())
    }

    /// Closes an unpaid order.
    pub(crate) fn close(
        &self,
        mch_id: Option<&str>,
        out_trade_no: &str,
    ) -> Result<OrderView, Refusal> {
        let mut state = self.lock();
        let order = find(&mut state, mch_id, out_trade_no)?;
        if !matches!(
            order.state,
            TradeState::NotPay | TradeState::PayError | TradeState::UserPaying
        ) {
            return Err(Refusal::WrongState {
                out_trade_no: out_trade_no.to_owned(),
                state: order.state.as_str(),
                expected: "NOTPAY, PAYERROR or USERPAYING",
            });
        }
        order.state = TradeState::Closed;
        Ok(order.view())
    }

    /// A PROCESSING refund succeeds (`SUCCESS`) or fails (`CHANGE`: the money could not be
    /// returned) now, and its notification goes out.
    pub(crate) fn conclude_refund(
        self: &Arc<Self>,
        mch_id: Option<&str>,
        out_refund_no: &str,
        success: bool,
    ) -> Result<OrderView, Refusal> {
        let key = {
            let state = self.lock();
            let mut found = state.orders().filter(|o| {
                mch_id.is_none_or(|m| o.mch_id == m)
                    && o.refunds.iter().any(|r| r.out_refund_no == out_refund_no)
            });
            let order = found.next().ok_or_else(|| Refusal::UnknownRefund {
                out_refund_no: out_refund_no.to_owned(),
            })?;
            if found.next().is_some() {
                return Err(Refusal::Ambiguous {
                    out_trade_no: order.out_trade_no.clone(),
                });
            }
            key_of(order)
        };
        let status = if success { "SUCCESS" } else { "CHANGE" };
        let (order, _) = self.finish_refund(&key, out_refund_no, status)?;
        Ok(order.view())
    }

    /// Sends a notification again now.
    pub(crate) fn redeliver(&self, id: u64) -> Result<(), Refusal> {
        self.outbox.redeliver(id)
    }

    /// Every order, by merchant and number.
    pub(crate) fn orders(&self) -> Vec<OrderView> {
        let mut v: Vec<_> = self.lock().orders().map(Order::view).collect();
        v.sort_by(|a, b| (&a.mch_id, &a.out_trade_no).cmp(&(&b.mch_id, &b.out_trade_no)));
        v
    }

    /// The most recent orders first, at most `n`.
    pub(crate) fn recent_orders(&self, n: usize) -> Vec<OrderView> {
        let mut v: Vec<_> = self.lock().orders().map(Order::view).collect();
        v.sort_by(|a, b| (b.created_at, &b.out_trade_no).cmp(&(a.created_at, &a.out_trade_no)));
        v.truncate(n);
        v
    }

    /// One order.
    pub(crate) fn order_view(
        &self,
        mch_id: Option<&str>,
        out_trade_no: &str,
    ) -> Result<OrderView, Refusal> {
        let mut state = self.lock();
        find(&mut state, mch_id, out_trade_no).map(|o| o.view())
    }

    /// The merchants, without their keys.
    pub(crate) fn merchant_views(&self) -> Vec<MerchantView> {
        self.merchants
            .iter()
            .map(|m| MerchantView {
                appid: m.appid.clone(),
                mch_id: m.mch_id.clone(),
                sub_mch_ids: m.subs.iter().map(|s| s.sub_mch_id.clone()).collect(),
            })
            .collect()
    }
}

/// The order a control operation names: by number, and by merchant when several have it.
fn find<'s>(
    state: &'s mut State,
    mch_id: Option<&str>,
    out_trade_no: &str,
) -> Result<&'s mut Order, Refusal> {
    let mut matches = state
        .orders_mut()
        .filter(|o| o.out_trade_no == out_trade_no && mch_id.is_none_or(|m| o.mch_id == m));
    let first = matches.next().ok_or_else(|| Refusal::UnknownOrder {
        out_trade_no: out_trade_no.to_owned(),
    })?;
    if matches.next().is_some() {
        return Err(Refusal::Ambiguous {
            out_trade_no: out_trade_no.to_owned(),
        });
    }
    Ok(first)
}
