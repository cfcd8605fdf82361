//! `promotion/transfers` and `gettransferinfo`: transfers to a user's balance, drawn from the
//! operation account, with WeChat Pay's per-user and daily limits.

use super::{fen, fingerprint};
use crate::clock::{dashed, date, now_unix};
use crate::ids::seq;
use crate::payouts::{Kind, Transfer};
use crate::protocol::{Engine, Req, Verdict, biz, ok};

/// Per user per day (fen, count), per merchant per day (fen), per payment (fen): the limits
/// of WeChat Pay's table for new merchants.
const USER_DAY_FEN: u64 = 500_000;
const USER_DAY_COUNT: u32 = 10;
const MERCHANT_DAY_FEN: u64 = 10_000_000;
const MIN_FEN: u64 = 100;
const MAX_FEN: u64 = 10_000_000;

/// Letters and digits, 1 to `max`.
pub(super) fn alnum(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn answer(no: &str, t: &Transfer) -> Verdict {
    ok([
        ("partner_trade_no", no.to_owned()),
        ("payment_no", t.payment_no.clone()),
        ("payment_time", dashed(t.created_at)),
    ])
}

impl Engine {
    pub(in crate::protocol) fn transfer(&self, req: &Req<'_>) -> Verdict {
        let no = req.get("partner_trade_no").unwrap_or_default();
        if !alnum(no, 32) {
            return biz(
                "PARAM_ERROR",
                "partner_trade_no参数错误：只能是字母或者数字，不能超过32位",
            );
        }
        let Some(amount) = fen(req, "amount") else {
            return biz("PARAM_ERROR", "amount字段必填,必须大于0");
        };
        let name = match (req.get("check_name"), req.get("re_user_name")) {
            (Some("NO_CHECK"), _) => None,
            (Some("FORCE_CHECK"), Some(n)) => Some(n.to_owned()),
            (Some("FORCE_CHECK"), None) => {
                return biz("PARAM_ERROR", "re_user_name字段必填（FORCE_CHECK）");
            }
            _ => return biz("PARAM_ERROR", "check_name字段错误：NO_CHECK或FORCE_CHECK"),
        };
        let fp = fingerprint(
            req,
            &[
                "mch_appid",
                "openid",
                "check_name",
                "re_user_name",
                "amount",
                "desc",
            ],
            &[],
        );
        let mch_id = req.merchant.mch_id.clone();
        let key = (mch_id.clone(), no.to_owned());
        let mut state = self.lock();
        let cap = state.payout_cap();
        if let Some(t) = state.payouts.transfers.get(&key) {
            // Re-entry: the same number with the same fields is the same transfer.
            return if t.fingerprint == fp {
                answer(no, t)
            } else {
                biz("FATAL_ERROR", "两次请求参数不一致")
            };
        }
        if amount.get() < MIN_FEN {
            return biz(
                "AMOUNT_LIMIT",
                "付款金额不能小于最低限额，目前最低付款金额为1元",
            );
        }
        if amount.get() > MAX_FEN {
            return biz("AMOUNT_LIMIT", "付款金额超出限制，最高10万元");
        }
        let openid = req.get("openid").unwrap_or_default().to_owned();
        let now = now_unix();
        let day = date(now);
        let (user_total, user_count) =
            state
                .payouts
                .received_today(Kind::Transfer, &mch_id, &openid, &day);
        if user_count >= USER_DAY_COUNT {
            return biz("SENDNUM_LIMIT", "该用户今日付款次数超过限制");
        }
        if user_total.saturating_add(amount.get()) > USER_DAY_FEN {
            return biz("MONEY_LIMIT", "已达到付款给此用户额度上限");
        }
        if state
            .payouts
            .paid_today(Kind::Transfer, &mch_id, &day)
            .saturating_add(amount.get())
            > MERCHANT_DAY_FEN
        {
            return biz("MONEY_LIMIT", "已达到今日付款总额上限");
        }
        let payment_no = format!("10{}{}{:08}", mch_id, day, seq() % 100_000_000);
        if !state.payouts.debit(
            &mch_id,
            req.merchant.balance,
            amount,
            ("企业付款", &payment_no, now),
            cap,
        ) {
            return biz("NOTENOUGH", "余额不足");
        }
        let t = Transfer {
            fingerprint: fp,
            openid,
            amount,
            desc: req.get("desc").unwrap_or_default().to_owned(),
            name,
            payment_no,
            created_at: now,
        };
        let verdict = answer(no, &t);
        state.payouts.transfers.insert(key.clone(), t);
        state.payouts.placed(Kind::Transfer, key, cap);
        verdict
    }

    pub(in crate::protocol) fn transfer_info(&self, req: &Req<'_>) -> Verdict {
        let no = req.get("partner_trade_no").unwrap_or_default();
        let state = self.lock();
        let Some(t) = state
            .payouts
            .transfers
            .get(&(req.merchant.mch_id.clone(), no.to_owned()))
        else {
            return biz("NOT_FOUND", "指定单号数据不存在");
        };
        let mut fields = vec![
            ("partner_trade_no", no.to_owned()),
            ("detail_id", t.payment_no.clone()),
            ("status", "SUCCESS".to_owned()),
            ("openid", t.openid.clone()),
            ("payment_amount", t.amount.to_string()),
            ("transfer_time", dashed(t.created_at)),
            ("payment_time", dashed(t.created_at)),
            ("desc", t.desc.clone()),
        ];
        if let Some(n) = &t.name {
            fields.push(("transfer_name", n.clone()));
        }
        ok(fields)
    }
}
