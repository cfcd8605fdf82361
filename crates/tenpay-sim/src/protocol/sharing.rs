//! Profit sharing from the protocol: receivers, single and multiple splits of a payment
//! placed with `profit_sharing=Y` (at most 30 % of it, only to added receivers), the query,
//! the finish that releases the rest to the merchant, returns from merchant receivers, and
//! the amount still frozen. HMAC-SHA256 only; the basic account's fund flow shows each
//! movement.

use serde::Deserialize;
use tenpay_xml::Fen;

use super::payout::fingerprint;
use super::{Engine, Req, Verdict, biz, ok};
use crate::clock::{compact, now_unix};
use crate::ids::seq;
use crate::sharing::{Return, Share, SharingMovement, SharingOrder};
use crate::state::TradeState;

/// The largest share of a payment that may be split, in ten-thousandths (30 %).
const MAX_RATIO: u64 = 3000;
/// Receivers per request.
const MAX_RECEIVERS: usize = 50;
/// Multiple splits per payment.
const MAX_SPLITS: u32 = 20;
const KINDS: [&str; 4] = [
    "MERCHANT_ID",
    "PERSONAL_WECHATID",
    "PERSONAL_OPENID",
    "PERSONAL_SUB_OPENID",
];

#[derive(Deserialize)]
struct NewReceiver {
    #[serde(rename = "type")]
    kind: String,
    account: String,
    name: Option<String>,
    relation_type: Option<String>,
    custom_relation: Option<String>,
}

#[derive(Deserialize)]
struct ShareIn {
    #[serde(rename = "type")]
    kind: String,
    account: String,
    amount: u64,
    #[serde(default)]
    description: String,
}

fn receiver_json(kind: &str, account: &str) -> String {
    serde_json::json!({ "type": kind, "account": account }).to_string()
}

impl Engine {
    pub(in crate::protocol) fn add_receiver(&self, req: &Req<'_>, add: bool) -> Verdict {
        let text = req.get("receiver").unwrap_or_default();
        let Ok(r) = serde_json::from_str::<NewReceiver>(text) else {
            return Verdict::Protocol("分账接收方格式错误".into());
        };
        if !KINDS.contains(&r.kind.as_str()) || r.account.is_empty() {
            return biz("PARAM_ERROR", "分账接收方类型或账号错误");
        }
        if add {
            if r.kind == "MERCHANT_ID" && r.name.as_deref().is_none_or(str::is_empty) {
                return biz("PARAM_ERROR", "商户类型的分账接收方必须填写商户全称name");
            }
            match r.relation_type.as_deref() {
                None => return biz("PARAM_ERROR", "relation_type字段必填"),
                Some("CUSTOM") if r.custom_relation.as_deref().is_none_or(str::is_empty) => {
                    return biz("PARAM_ERROR", "relation_type为CUSTOM时custom_relation必填");
                }
                _ => {}
            }
        }
        let key = (
            req.merchant.mch_id.clone(),
            r.kind.clone(),
            r.account.clone(),
        );
        let mut state = self.lock();
        if add {
            state.sharing.receivers.insert(key);
        } else {
            state.sharing.receivers.remove(&key);
        }
        ok([("receiver", receiver_json(&r.kind, &r.account))])
    }

    pub(in crate::protocol) fn split(&self, req: &Req<'_>, multi: bool) -> Verdict {
        let tid = req.get("transaction_id").unwrap_or_default().to_owned();
        let no = req.get("out_order_no").unwrap_or_default().to_owned();
        let Ok(list) = serde_json::from_str::<Vec<ShareIn>>(req.get("receivers").unwrap_or(""))
        else {
            return Verdict::Protocol("分账接收方列表格式错误".into());
        };
        if list.is_empty() || list.len() > MAX_RECEIVERS {
            return biz("PARAM_ERROR", "分账接收方数量应为1到50个");
        }
        let fp = fingerprint(
            req,
            &["transaction_id", "receivers"],
            &[if multi { "multi" } else { "single" }],
        );
        let mch_id = req.merchant.mch_id.clone();
        let mut state = self.lock();
        let cap = state.payout_cap();
        if let Some(o) = state.sharing.orders.get(&(mch_id.clone(), no.clone())) {
            return if o.fingerprint == fp {
                ok(accepted(&o.transaction_id, &no, &o.order_id))
            } else {
                biz("PARAM_ERROR", "商户分账单号已使用，且请求参数不一致")
            };
        }
        let key = (mch_id.clone(), String::new(), String::new());
        let Some(order) = state.find_order(&key, Some(&tid)) else {
            return biz("ORDER_NOT_EXIST", "微信订单号不存在");
        };
        if !order.profit_sharing || !matches!(order.state, TradeState::Success | TradeState::Refund)
        {
            return biz("NOT_SHARE_ORDER", "非分账订单不支持分账");
        }
        let total = order.total_fee;
        let frozen = state
            .sharing
            .frozen
            .get(&(mch_id.clone(), tid.clone()))
            .cloned()
            .unwrap_or_default();
        if frozen.finished {
            return biz("INVALID_REQUEST", "该订单已完结分账，不能再分账");
        }
        if multi && frozen.splits >= MAX_SPLITS {
            return biz("INVALID_REQUEST", "该订单分账次数已达上限");
        }
        for s in &list {
            let added = state.sharing.receivers.contains(&(
                mch_id.clone(),
                s.kind.clone(),
                s.account.clone(),
            ));
            if !added {
                return biz(
                    "PARAM_ERROR",
                    format!("分账接收方{}未添加，请先添加分账接收方", s.account),
                );
            }
            if s.amount == 0 {
                return biz("PARAM_ERROR", "分账金额必须大于0");
            }
        }
        let amount: u64 = list.iter().map(|s| s.amount).sum();
        let limit = u64::try_from(u128::from(total.get()) * u128::from(MAX_RATIO) / 10_000)
            .unwrap_or(u64::MAX);
        if frozen.shared.get().saturating_add(amount) > limit {
            return biz(
                "PARAM_ERROR",
                format!(
                    "分账金额超出最大分账比例30%：最多{limit}分，已分{}分",
                    frozen.shared.get()
                ),
            );
        }
        let now = now_unix();
        let order_id = format!("3008450740{}{:08}", compact(now), seq() % 100_000_000);
        for s in &list {
            state.sharing.movement(
                SharingMovement {
                    mch_id: mch_id.clone(),
                    time: now,
                    business_no: order_id.clone(),
                    name: "分账",
                    income: false,
                    amount: Fen::new(s.amount),
                },
                cap,
            );
        }
        let f = state
            .sharing
            .frozen
            .entry((mch_id.clone(), tid.clone()))
            .or_default();
        f.shared = Fen::new(f.shared.get().saturating_add(amount));
        f.splits += 1;
        // A single split ends the order's sharing: the rest goes back to the merchant.
        f.finished = !multi;
        state.sharing.orders.insert(
            (mch_id, no.clone()),
            SharingOrder {
                fingerprint: fp,
                transaction_id: tid.clone(),
                order_id: order_id.clone(),
                kind: if multi { "multi" } else { "single" },
                shares: list
                    .into_iter()
                    .map(|s| Share {
                        kind: s.kind,
                        account: s.account,
                        amount: Fen::new(s.amount),
                        description: s.description,
                    })
                    .collect(),
                finish_time: now,
                released: Fen::ZERO,
                description: String::new(),
                result: match &req.settles {
                    Some((s, reason)) if s == "CLOSED" || s == "PENDING" => {
                        (s.clone(), Some(reason.clone()))
                    }
                    _ => ("SUCCESS".to_owned(), None),
                },
            },
        );
        state.sharing.trim(cap);
        ok(accepted(&tid, &no, &order_id))
    }

    pub(in crate::protocol) fn sharing_query(&self, req: &Req<'_>) -> Verdict {
        let no = req.get("out_order_no").unwrap_or_default();
        let tid = req.get("transaction_id").unwrap_or_default();
        let state = self.lock();
        let Some(o) = state
            .sharing
            .orders
            .get(&(req.merchant.mch_id.clone(), no.to_owned()))
            .filter(|o| o.transaction_id == tid)
        else {
            return biz("ORDER_NOT_EXIST", "分账单不存在");
        };
        let receivers: Vec<serde_json::Value> = o
            .shares
            .iter()
            .map(|s| {
                let mut share = serde_json::json!({
                    "type": s.kind, "account": s.account, "amount": s.amount.get(),
                    "description": s.description, "result": o.result.0,
                });
                if o.result.0 != "PENDING" {
                    share["finish_time"] = compact(o.finish_time).into();
                }
                if let Some(r) = &o.result.1 {
                    share["fail_reason"] = r.as_str().into();
                }
                share
            })
            .collect();
        let status = if o.result.0 == "PENDING" {
            "PROCESSING"
        } else {
            "FINISHED"
        };
        let mut fields = vec![
            ("transaction_id", o.transaction_id.clone()),
            ("out_order_no", no.to_owned()),
            ("order_id", o.order_id.clone()),
            ("status", status.to_owned()),
            ("receivers", serde_json::Value::from(receivers).to_string()),
        ];
        if o.kind == "finish" {
            fields.push(("amount", o.released.to_string()));
            fields.push(("description", o.description.clone()));
        }
        ok(fields)
    }

    pub(in crate::protocol) fn finish_sharing(&self, req: &Req<'_>) -> Verdict {
        let tid = req.get("transaction_id").unwrap_or_default().to_owned();
        let no = req.get("out_order_no").unwrap_or_default().to_owned();
        let mch_id = req.merchant.mch_id.clone();
        let fp = fingerprint(req, &["transaction_id", "description"], &["finish"]);
        let mut state = self.lock();
        let cap = state.payout_cap();
        if let Some(o) = state.sharing.orders.get(&(mch_id.clone(), no.clone())) {
            return if o.fingerprint == fp {
                ok(accepted(&tid, &no, &o.order_id))
            } else {
                biz("PARAM_ERROR", "商户分账单号已使用，且请求参数不一致")
            };
        }
        let key = (mch_id.clone(), String::new(), String::new());
        let Some(order) = state.find_order(&key, Some(&tid)) else {
            return biz("ORDER_NOT_EXIST", "微信订单号不存在");
        };
        if !order.profit_sharing {
            return biz("NOT_SHARE_ORDER", "非分账订单不支持分账");
        }
        let total = order.total_fee;
        let f = state
            .sharing
            .frozen
            .entry((mch_id.clone(), tid.clone()))
            .or_default();
        if f.finished {
            return biz("INVALID_REQUEST", "该订单已完结分账");
        }
        f.finished = true;
        let released = Fen::new(total.get().saturating_sub(f.shared.get()));
        let now = now_unix();
        let order_id = format!("3008450740{}{:08}", compact(now), seq() % 100_000_000);
        state.sharing.orders.insert(
            (mch_id, no.clone()),
            SharingOrder {
                fingerprint: fp,
                transaction_id: tid.clone(),
                order_id: order_id.clone(),
                kind: "finish",
                shares: Vec::new(),
                finish_time: now,
                released,
                description: req.get("description").unwrap_or_default().to_owned(),
                result: ("SUCCESS".to_owned(), None),
            },
        );
        state.sharing.trim(cap);
        ok(accepted(&tid, &no, &order_id))
    }

    pub(in crate::protocol) fn sharing_return(&self, req: &Req<'_>) -> Verdict {
        let no = req.get("out_order_no").unwrap_or_default().to_owned();
        let rno = req.get("out_return_no").unwrap_or_default().to_owned();
        let account = req.get("return_account").unwrap_or_default().to_owned();
        if req.get("return_account_type") != Some("MERCHANT_ID") {
            return biz("PARAM_ERROR", "return_account_type只支持MERCHANT_ID");
        }
        let Some(amount) = super::rules::amount(req.get("return_amount")) else {
            return biz("PARAM_ERROR", "return_amount必须大于0");
        };
        let mch_id = req.merchant.mch_id.clone();
        let fp = fingerprint(
            req,
            &[
                "out_order_no",
                "return_account",
                "return_amount",
                "description",
            ],
            &[],
        );
        let mut state = self.lock();
        let cap = state.payout_cap();
        if let Some(r) = state.sharing.returns.get(&(mch_id.clone(), rno.clone())) {
            return if r.fingerprint == fp {
                ok(returned(&rno, r))
            } else {
                biz("PARAM_ERROR", "商户回退单号已使用，且请求参数不一致")
            };
        }
        if !state
            .sharing
            .orders
            .contains_key(&(mch_id.clone(), no.clone()))
        {
            return biz("ORDER_NOT_EXIST", "分账单不存在");
        }
        if state.sharing.returnable(&mch_id, &no, &account) < amount.get() {
            return biz("PARAM_ERROR", "回退金额超过该接收方的分账金额");
        }
        let now = now_unix();
        let r = Return {
            fingerprint: fp,
            out_order_no: no,
            return_no: format!("4008450740{}{:08}", compact(now), seq() % 100_000_000),
            account,
            amount,
            description: req.get("description").unwrap_or_default().to_owned(),
            finish_time: now,
        };
        state.sharing.movement(
            SharingMovement {
                mch_id: mch_id.clone(),
                time: now,
                business_no: r.return_no.clone(),
                name: "分账回退",
                income: true,
                amount,
            },
            cap,
        );
        let fields = returned(&rno, &r);
        state.sharing.returns.insert((mch_id, rno), r);
        state.sharing.trim(cap);
        ok(fields)
    }

    pub(in crate::protocol) fn sharing_return_query(&self, req: &Req<'_>) -> Verdict {
        let rno = req.get("out_return_no").unwrap_or_default();
        let state = self.lock();
        match state
            .sharing
            .returns
            .get(&(req.merchant.mch_id.clone(), rno.to_owned()))
        {
            Some(r) if Some(r.out_order_no.as_str()) == req.get("out_order_no") => {
                ok(returned(rno, r))
            }
            _ => biz("ORDER_NOT_EXIST", "回退单不存在"),
        }
    }

    pub(in crate::protocol) fn unsplit_amount(&self, req: &Req<'_>) -> Verdict {
        let tid = req.get("transaction_id").unwrap_or_default().to_owned();
        let mch_id = req.merchant.mch_id.clone();
        let mut state = self.lock();
        let key = (mch_id.clone(), String::new(), String::new());
        let Some(order) = state.find_order(&key, Some(&tid)) else {
            return biz("ORDER_NOT_EXIST", "微信订单号不存在");
        };
        let total = order.total_fee;
        let sharing = order.profit_sharing;
        let f = state
            .sharing
            .frozen
            .get(&(mch_id, tid.clone()))
            .cloned()
            .unwrap_or_default();
        let unsplit = if !sharing || f.finished {
            0
        } else {
            total.get().saturating_sub(f.shared.get())
        };
        ok([
            ("transaction_id", tid),
            ("unsplit_amount", unsplit.to_string()),
        ])
    }
}

fn accepted(tid: &str, no: &str, order_id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("transaction_id", tid.to_owned()),
        ("out_order_no", no.to_owned()),
        ("order_id", order_id.to_owned()),
    ]
}

fn returned(rno: &str, r: &Return) -> Vec<(&'static str, String)> {
    vec![
        ("out_order_no", r.out_order_no.clone()),
        ("out_return_no", rno.to_owned()),
        ("return_no", r.return_no.clone()),
        ("return_account_type", "MERCHANT_ID".to_owned()),
        ("return_account", r.account.clone()),
        ("return_amount", r.amount.to_string()),
        ("description", r.description.clone()),
        ("result", "SUCCESS".to_owned()),
        ("finish_time", compact(r.finish_time)),
    ]
}
