//! Customs declaration (报关) of paid orders, and the cross-border exchange rate.
//!
//! A declaration is `SUBMITTED` when made and `SUCCESS` from its first query on (the
//! customs office's answer, simplified); `ADD` again answers the declaration as it is,
//! `MODIFY` changes it. The answers carry `sign_type=MD5`, as WeChat Pay's do.

use super::{Engine, Req, Verdict, biz, ok};
use crate::clock::{compact, now_unix};
use crate::ids::seq;
use crate::state::{Declaration, Order, TradeState};

const CUSTOMS: &[&str] = &[
    "GUANGZHOU_ZS",
    "HANGZHOU_ZS",
    "NINGBO",
    "ZHENGZHOU_BS",
    "CHONGQING",
    "SHANGHAI_ZS",
    "SHENZHEN",
    "ZHENGZHOU_ZH_ZS",
    "TIANJIN",
    "ZONGSHU",
];

/// Declarations kept per order (one per customs office and part).
const MAX_DECLARATIONS: usize = 10;

fn declared(order: &Order, d: &Declaration) -> Verdict {
    let mut f = vec![
        ("sign_type", "MD5".to_owned()),
        ("state", d.state.to_owned()),
        (
            "transaction_id",
            order.transaction_id.clone().unwrap_or_default(),
        ),
        ("out_trade_no", order.out_trade_no.clone()),
        ("sub_order_id", d.sub_order_id.clone()),
        ("modify_time", compact(d.modify_time)),
        ("cert_check_result", "UNCHECKED".to_owned()),
    ];
    if let Some(s) = &d.sub_order_no {
        f.push(("sub_order_no", s.clone()));
    }
    ok(f)
}

impl Engine {
    /// `customdeclareorder`: `ADD` or `MODIFY` a paid order's declaration.
    pub(super) fn declare(&self, req: &Req<'_>) -> Verdict {
        let customs = req.get("customs").unwrap_or_default();
        if !CUSTOMS.contains(&customs) {
            return biz("PARAM_ERROR", "customs参数错误");
        }
        let modify = match req.get("action_type").unwrap_or("ADD") {
            "ADD" => false,
            "MODIFY" => true,
            _ => return biz("PARAM_ERROR", "action_type参数错误"),
        };
        let duty = match req.get("duty").map(str::parse::<u64>) {
            None => None,
            Some(Ok(d)) => Some(tenpay_xml::Fen::new(d)),
            Some(Err(_)) => return biz("PARAM_ERROR", "duty参数错误"),
        };
        let key = req.order_key(req.get("out_trade_no").unwrap_or_default());
        let mut state = self.lock();
        let Some(order) = state.order_mut(&key) else {
            return super::fail("交易单信息有误");
        };
        if order.transaction_id.as_deref() != req.get("transaction_id")
            || !matches!(order.state, TradeState::Success | TradeState::Refund)
        {
            return super::fail("交易单信息有误");
        }
        let sub = req.get("sub_order_no").map(str::to_owned);
        let found = order
            .declarations
            .iter()
            .position(|d| d.customs == customs && d.sub_order_no == sub);
        let index = match (found, modify) {
            (Some(i), false) => i,
            (Some(i), true) => {
                let d = &mut order.declarations[i];
                d.mch_customs_no = req.get("mch_customs_no").unwrap_or_default().to_owned();
                d.duty = duty;
                d.state = "SUBMITTED";
                d.modify_time = now_unix();
                i
            }
            (None, true) => return biz("ORDERNOTEXIST", "报关单不存在，请先申报"),
            (None, false) if order.declarations.len() >= MAX_DECLARATIONS => {
                return biz("PARAM_ERROR", "报关次数超过限制");
            }
            (None, false) => {
                let order_fee = match (req.get("transport_fee"), req.get("product_fee")) {
                    (Some(t), Some(p)) => match (t.parse::<u64>(), p.parse::<u64>()) {
                        (Ok(t), Ok(p)) => tenpay_xml::Fen::new(t.saturating_add(p)),
                        _ => return biz("PARAM_ERROR", "transport_fee或product_fee参数错误"),
                    },
                    _ if sub.is_some() => {
                        return biz("PARAM_ERROR", "拆单时transport_fee和product_fee必填");
                    }
                    _ => order.total_fee,
                };
                order.declarations.push(Declaration {
                    customs: customs.to_owned(),
                    mch_customs_no: req.get("mch_customs_no").unwrap_or_default().to_owned(),
                    sub_order_no: sub,
                    sub_order_id: format!("{}{:08}", compact(now_unix()), seq() % 100_000_000),
                    order_fee,
                    duty,
                    state: "SUBMITTED",
                    modify_time: now_unix(),
                });
                order.declarations.len() - 1
            }
        };
        let order = &*order;
        declared(order, &order.declarations[index])
    }

    /// `customdeclarequery`: an order's declarations at one customs office, `…_$n`.
    pub(super) fn declarations(&self, req: &Req<'_>) -> Verdict {
        let (key, transaction_id) = match req.order_ref() {
            Ok(r) => r,
            Err(v) => return v,
        };
        let customs = req.get("customs").unwrap_or_default().to_owned();
        let mut state = self.lock();
        let Some(order) = state.find_order(&key, transaction_id) else {
            return biz("ORDERNOTEXIST", "订单不存在");
        };
        let mut f: Vec<(String, String)> = vec![(
            "transaction_id".into(),
            order.transaction_id.clone().unwrap_or_default(),
        )];
        let mut n = 0;
        for d in order
            .declarations
            .iter_mut()
            .filter(|d| d.customs == customs)
        {
            if d.state == "SUBMITTED" {
                d.state = "SUCCESS";
                d.modify_time = now_unix();
            }
            let mut put = |k: &str, v: String| f.push((format!("{k}_{n}"), v));
            if let Some(s) = &d.sub_order_no {
                put("sub_order_no", s.clone());
            }
            put("sub_order_id", d.sub_order_id.clone());
            put("mch_customs_no", d.mch_customs_no.clone());
            put("customs", d.customs.clone());
            put("fee_type", "CNY".into());
            put("order_fee", d.order_fee.to_string());
            if let Some(duty) = d.duty {
                put("duty", duty.to_string());
            }
            put("state", d.state.into());
            put("modify_time", compact(d.modify_time));
            put("cert_check_result", "UNCHECKED".into());
            n += 1;
        }
        if n == 0 {
            return biz("ORDERNOTEXIST", "报关单不存在");
        }
        f.push(("count".into(), n.to_string()));
        Verdict::Ok(f)
    }

    /// `customdeclareredeclare`: only a declaration that is `SUCCESS` (or `EXCEPT`).
    pub(super) fn redeclare(&self, req: &Req<'_>) -> Verdict {
        let (key, transaction_id) = match req.order_ref() {
            Ok(r) => r,
            Err(v) => return v,
        };
        let customs = req.get("customs").unwrap_or_default();
        let sub = req.get("sub_order_no");
        let mut state = self.lock();
        let Some(order) = state.find_order(&key, transaction_id) else {
            return biz("ORDERNOTEXIST", "订单不存在");
        };
        let Some(i) = order
            .declarations
            .iter()
            .position(|d| d.customs == customs && d.sub_order_no.as_deref() == sub)
        else {
            return biz("ORDERNOTEXIST", "报关单不存在");
        };
        if !matches!(order.declarations[i].state, "SUCCESS" | "EXCEPT") {
            return biz("TRADE_STATE_ERROR", "报关单状态不允许重推");
        }
        order.declarations[i].modify_time = now_unix();
        let order = &*order;
        let d = &order.declarations[i];
        let Verdict::Ok(mut f) = declared(order, d) else {
            return biz("SYSTEMERROR", "系统错误");
        };
        f.push(("explanation".into(), "重推成功".into()));
        Verdict::Ok(f)
    }
}

/// `queryexchagerate`: a fixed rate per currency, × 10⁸ (the current documentation's form),
/// set on the asked date.
pub(super) fn exchange_rate(req: &Req<'_>) -> Verdict {
    let fee_type = req.get("fee_type").unwrap_or_default();
    let rate: u64 = match fee_type {
        "CNY" => 100_000_000,
        "HKD" => 92_000_000,
        "USD" => 720_000_000,
        "EUR" => 780_000_000,
        "GBP" => 910_000_000,
        "JPY" => 4_800_000,
        _ => return biz("PARAM_ERROR", "fee_type参数错误"),
    };
    let date = req.get("date").unwrap_or_default();
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return biz("PARAM_ERROR", "date参数错误");
    }
    ok([
        ("fee_type", fee_type.to_owned()),
        ("rate_time", date.to_owned()),
        ("rate", rate.to_string()),
    ])
}
