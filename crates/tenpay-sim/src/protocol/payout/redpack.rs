//! Cash red packets: `sendredpack`, `sendminiprogramhb` (`sendgroupredpack` is retired and
//! answers so), and `gethbinfo` with its nested `hblist`. Packets are claimed on request
//! (the dashboard's button), and the unclaimed rest is refunded to the operation account 24
//! (scaled) hours after sending.

use tenpay_xml::Fen;

use super::transfer::alnum;
use super::{fen, fingerprint, write};
use crate::clock::{dashed, date, now_unix};
use crate::error::Refusal;
use crate::ids::{random_u64, seq};
use crate::payouts::{Kind, PayoutBook, PayoutKey, Redpack};
use crate::protocol::{Endpoint, Engine, Reply, Req, Verdict, biz, ok};

/// An answer's fields.
type Fields = Vec<(&'static str, String)>;

/// Per user per day (count, fen), per merchant per day (fen), and the default amount range.
const USER_DAY_COUNT: u32 = 10;
const USER_DAY_FEN: u64 = 100_000;
const MERCHANT_DAY_FEN: u64 = 100_000_000;
const MIN_FEN: u64 = 100;
const MAX_FEN: u64 = 20_000;
/// With a `scene_id`, from 0.30 to 4999 yuan.
const SCENE_MIN_FEN: u64 = 30;
const SCENE_MAX_FEN: u64 = 499_900;
/// An unclaimed packet is refunded after this long (protocol seconds, scaled).
const EXPIRY_SECS: u64 = 24 * 3600;

/// Refunds the unclaimed rest of an expired packet into the operation account.
pub(crate) fn expire(
    book: &mut PayoutBook,
    key: &PayoutKey,
    opening: Fen,
    now_ms: u64,
    cap: usize,
) {
    let Some(r) = book.redpacks.get_mut(key) else {
        return;
    };
    if r.shares.is_empty() || now_ms < r.expires_at_ms || r.status == "REFUND" {
        return;
    }
    let rest = r
        .shares
        .drain(..)
        .fold(Fen::ZERO, |a, s| a.checked_add(s).unwrap_or(a));
    r.status = "REFUND";
    r.refund_time = Some(now_unix());
    r.refund_amount = rest;
    let no = r.detail_id.clone();
    book.credit(
        &key.0,
        opening,
        rest,
        ("现金红包退款", &no, now_unix()),
        cap,
    );
}

impl Engine {
    pub(in crate::protocol) fn send_redpack(&self, req: &Req<'_>, mini: bool) -> Verdict {
        let no = req.get("mch_billno").unwrap_or_default();
        if !alnum(no, 28) {
            return biz(
                "PARAM_ERROR",
                "mch_billno参数错误：只能是字母或者数字，不能超过28位",
            );
        }
        let Some(amount) = fen(req, "total_amount") else {
            return biz("PARAM_ERROR", "total_amount字段必填,必须大于0");
        };
        let wecom = req.endpoint == Endpoint::SendWeComRedpack;
        if wecom {
            if let Some(refused) = wecom_check(req) {
                return refused;
            }
        } else if req.get("total_num") != Some("1") {
            return biz("PARAM_ERROR", "total_num必须为1");
        }
        if mini && req.get("notify_way") != Some("MINI_PROGRAM_JSAPI") {
            return biz("PARAM_ERROR", "notify_way必须为MINI_PROGRAM_JSAPI");
        }
        let (min, max) = if req.get("scene_id").is_some() {
            (SCENE_MIN_FEN, SCENE_MAX_FEN)
        } else {
            (MIN_FEN, MAX_FEN)
        };
        let fp = fingerprint(
            req,
            &[
                "wxappid",
                "re_openid",
                "total_amount",
                "total_num",
                "send_name",
                "wishing",
                "act_name",
                "remark",
                "scene_id",
                "agentid",
                "sender_name",
            ],
            &[if mini {
                "mini"
            } else if wecom {
                "wecom"
            } else {
                "normal"
            }],
        );
        let mch_id = req.merchant.mch_id.clone();
        let key = (mch_id.clone(), no.to_owned());
        let mut state = self.lock();
        let cap = state.payout_cap();
        if let Some(r) = state.payouts.redpacks.get(&key) {
            return if r.fingerprint == fp {
                ok(sent(no, r))
            } else {
                biz("FATAL_ERROR", "该商户订单号已使用，且参数不一致")
            };
        }
        if amount.get() < min || amount.get() > max {
            return biz(
                "MONEY_LIMIT",
                "红包金额超出限制：默认1到200元，其他金额请设置scene_id",
            );
        }
        let openid = req.get("re_openid").unwrap_or_default().to_owned();
        let now = now_unix();
        let day = date(now);
        let (user_total, user_count) =
            state
                .payouts
                .received_today(Kind::Redpack, &mch_id, &openid, &day);
        if user_count >= USER_DAY_COUNT {
            return biz("SENDNUM_LIMIT", "该用户今日领取红包个数超过限制");
        }
        if user_total.saturating_add(amount.get()) > USER_DAY_FEN {
            return biz("RCVDAMOUNT_LIMIT", "该用户今日领取金额超过限制");
        }
        if state
            .payouts
            .paid_today(Kind::Redpack, &mch_id, &day)
            .saturating_add(amount.get())
            > MERCHANT_DAY_FEN
        {
            return biz("SENDAMOUNT_LIMIT", "商户今日发放金额超过限制");
        }
        let detail_id = format!("100000000{}{:010}", day, seq() % 10_000_000_000);
        if !state.payouts.debit(
            &mch_id,
            req.merchant.balance,
            amount,
            ("现金红包", &detail_id, now),
            cap,
        ) {
            return biz("NOTENOUGH", "帐号余额不足，请到商户平台充值后再重试");
        }
        let appid = req.get("wxappid").unwrap_or_default().to_owned();
        let r = Redpack {
            fingerprint: fp,
            package: mini.then(|| {
                format!(
                    "sendid={detail_id}&ver=8&sign={:016x}&mchid={mch_id}&appid={appid}",
                    random_u64()
                )
            }),
            openid,
            wishing: req.get("wishing").unwrap_or_default().to_owned(),
            act_name: req.get("act_name").unwrap_or_default().to_owned(),
            remark: req.get("remark").unwrap_or_default().to_owned(),
            amount,
            group: false,
            shares: vec![amount],
            receivers: Vec::new(),
            status: "SENT",
            detail_id,
            sent_at: now,
            expires_at_ms: self.expiry_ms(),
            refund_time: None,
            refund_amount: Fen::ZERO,
        };
        let fields = sent(no, &r);
        state.payouts.redpacks.insert(key.clone(), r);
        state.payouts.placed(Kind::Redpack, key, cap);
        ok(fields)
    }

    /// A packet's record as both queries answer it (refunded first if it has expired): the
    /// fields they share, and the packet.
    fn packet_record(&self, req: &Req<'_>, no: &str) -> Result<(Fields, Redpack), Verdict> {
        let key = (req.merchant.mch_id.clone(), no.to_owned());
        let now_ms = self.clock.elapsed_ms();
        let mut state = self.lock();
        let cap = state.payout_cap();
        expire(&mut state.payouts, &key, req.merchant.balance, now_ms, cap);
        let Some(r) = state.payouts.redpacks.get(&key) else {
            return Err(biz("NOT_FOUND", "指定单号数据不存在"));
        };
        let mut fields = vec![
            ("mch_billno", no.to_owned()),
            ("detail_id", r.detail_id.clone()),
            ("status", r.status.to_owned()),
            ("send_type", "API".to_owned()),
            ("total_amount", r.amount.to_string()),
            ("send_time", dashed(r.sent_at)),
            ("wishing", r.wishing.clone()),
            ("act_name", r.act_name.clone()),
            ("remark", r.remark.clone()),
        ];
        if let Some(t) = r.refund_time {
            fields.push(("refund_time", dashed(t)));
            fields.push(("refund_amount", r.refund_amount.to_string()));
        }
        Ok((fields, r.clone()))
    }

    /// `queryworkwxredpack`: a WeCom packet's record, flat.
    pub(in crate::protocol) fn wecom_redpack_info(&self, req: &Req<'_>) -> Verdict {
        let no = req.get("mch_billno").unwrap_or_default();
        if req.merchant.wecom.as_ref().map(|(c, _)| c.as_str()) != req.get("appid") {
            return biz("PARAM_ERROR", "appid与商户号不匹配");
        }
        let (mut fields, r) = match self.packet_record(req, no) {
            Ok(found) => found,
            Err(v) => return v,
        };
        fields.push(("openid", r.openid.clone()));
        if let Some((_, amount, at)) = r.receivers.first() {
            fields.push(("amount", amount.to_string()));
            fields.push(("rcv_time", dashed(*at)));
        }
        ok(fields)
    }

    fn expiry_ms(&self) -> u64 {
        self.clock.elapsed_ms()
            + u64::try_from(self.clock.scaled(EXPIRY_SECS).as_millis()).unwrap_or(u64::MAX)
    }

    pub(in crate::protocol) fn redpack_info(&self, req: &Req<'_>) -> Verdict {
        let no = req.get("mch_billno").unwrap_or_default();
        if req.get("bill_type") != Some("MCHT") {
            return biz("PARAM_ERROR", "bill_type必须为MCHT");
        }
        let (mut fields, r) = match self.packet_record(req, no) {
            Ok(found) => found,
            Err(v) => return v,
        };
        fields.push((
            "hb_type",
            if r.group { "GROUP" } else { "NORMAL" }.to_owned(),
        ));
        fields.push((
            "total_num",
            (r.receivers.len() + r.shares.len()).to_string(),
        ));
        let mut list = String::new();
        for (openid, amount, at) in &r.receivers {
            list.push_str(&format!(
                "<hbinfo><openid><![CDATA[{openid}]]></openid><amount>{amount}</amount><rcv_time><![CDATA[{}]]></rcv_time></hbinfo>",
                dashed(*at)
            ));
        }
        match write(req, Endpoint::GetHbInfo, ok(fields)) {
            Reply::Xml(x) if !list.is_empty() => Verdict::Reply(Reply::Xml(x.replacen(
                "</xml>",
                &format!("<hblist>{list}</hblist></xml>"),
                1,
            ))),
            other => Verdict::Reply(other),
        }
    }

    /// The simulated user opens a packet (a group packet: the next share, for `openid`).
    pub(crate) fn claim_redpack(
        &self,
        mch_id: Option<&str>,
        mch_billno: &str,
        openid: Option<&str>,
    ) -> Result<crate::payouts::RedpackView, Refusal> {
        let now_ms = self.clock.elapsed_ms();
        let mut state = self.lock();
        let cap = state.payout_cap();
        let keys: Vec<PayoutKey> = state
            .payouts
            .redpacks
            .keys()
            .filter(|(m, n)| n == mch_billno && mch_id.is_none_or(|id| id == m))
            .cloned()
            .collect();
        let key = match keys.as_slice() {
            [k] => k.clone(),
            [] => {
                return Err(Refusal::UnknownOrder {
                    out_trade_no: mch_billno.to_owned(),
                });
            }
            _ => {
                return Err(Refusal::Ambiguous {
                    out_trade_no: mch_billno.to_owned(),
                });
            }
        };
        let opening = self.merchant(&key.0).map_or(Fen::ZERO, |m| m.balance);
        expire(&mut state.payouts, &key, opening, now_ms, cap);
        let Some(r) = state.payouts.redpacks.get_mut(&key) else {
            return Err(Refusal::UnknownOrder {
                out_trade_no: mch_billno.to_owned(),
            });
        };
        if r.shares.is_empty() {
            return Err(Refusal::WrongState {
                out_trade_no: mch_billno.to_owned(),
                state: r.status,
                expected: "SENT",
            });
        }
        let share = r.shares.remove(0);
        let who = openid.map_or_else(|| r.openid.clone(), str::to_owned);
        r.receivers.push((who, share, now_unix()));
        if r.shares.is_empty() {
            r.status = "RECEIVED";
        }
        Ok(r.view(&key))
    }

    /// A group packet as the retired `sendgroupredpack` made them: `num` shares of
    /// `total`, for reading with gethbinfo.
    pub(crate) fn seed_group_redpack(
        &self,
        mch_id: &str,
        mch_billno: &str,
        openid: &str,
        total: Fen,
        num: u32,
    ) -> Result<crate::payouts::RedpackView, Refusal> {
        let merchant = self.merchant(mch_id).ok_or_else(|| Refusal::UnknownOrder {
            out_trade_no: mch_billno.to_owned(),
        })?;
        let num = num.max(1);
        let each = total.get() / u64::from(num);
        let mut shares = vec![Fen::new(each); usize::try_from(num).unwrap_or(1)];
        if let Some(first) = shares.first_mut() {
            *first = Fen::new(total.get() - each * u64::from(num - 1));
        }
        let now = now_unix();
        let detail_id = format!("100000000{}{:010}", date(now), seq() % 10_000_000_000);
        let key = (mch_id.to_owned(), mch_billno.to_owned());
        let mut state = self.lock();
        let cap = state.payout_cap();
        if !state.payouts.debit(
            mch_id,
            merchant.balance,
            total,
            ("现金红包", &detail_id, now),
            cap,
        ) {
            return Err(Refusal::WrongState {
                out_trade_no: mch_billno.to_owned(),
                state: "NOTENOUGH",
                expected: "a funded balance",
            });
        }
        let r = Redpack {
            fingerprint: [0; 16],
            openid: openid.to_owned(),
            wishing: "sim".into(),
            act_name: "sim".into(),
            remark: "sim".into(),
            amount: total,
            group: true,
            shares,
            receivers: Vec::new(),
            status: "SENT",
            detail_id,
            sent_at: now,
            expires_at_ms: self.expiry_ms(),
            refund_time: None,
            refund_amount: Fen::ZERO,
            package: None,
        };
        let view = r.view(&key);
        state.payouts.redpacks.insert(key.clone(), r);
        state.payouts.placed(Kind::Redpack, key, cap);
        Ok(view)
    }
}

/// A WeCom packet's own checks: the merchant pays for this corp, the fields cash packets
/// have and WeCom's do not are absent (a stray one breaks the signature, as at WeChat Pay),
/// one sender, and `workwx_sign` made with the corp's payment secret.
fn wecom_check(req: &Req<'_>) -> Option<Verdict> {
    let Some((corpid, secret)) = &req.merchant.wecom else {
        return Some(biz("NO_AUTH", "商户未开通企业红包权限"));
    };
    if req.get("wxappid") != Some(corpid.as_str()) {
        return Some(biz("PARAM_ERROR", "wxappid与商户号不匹配"));
    }
    if ["total_num", "client_ip", "send_name"]
        .iter()
        .any(|f| req.get(f).is_some())
    {
        return Some(biz("SIGN_ERROR", "签名错误"));
    }
    if req.get("agentid").is_some() == req.get("sender_name").is_some() {
        return Some(biz("PARAM_ERROR", "agentid和sender_name必须且只能填一个"));
    }
    let pairs = [
        "act_name",
        "mch_billno",
        "mch_id",
        "nonce_str",
        "re_openid",
        "total_amount",
        "wxappid",
    ]
    .into_iter()
    .filter_map(|f| req.get(f).filter(|v| !v.is_empty()).map(|v| (f, v)));
    let expected = tenpay_sign::Canonical::new(pairs)
        .map(|c| c.sign_md5_with_secret(secret).as_str().to_owned())
        .unwrap_or_default();
    if req.get("workwx_sign") != Some(expected.as_str()) {
        return Some(biz("SIGN_ERROR", "企业微信签名校验失败"));
    }
    None
}

fn sent(no: &str, r: &Redpack) -> Vec<(&'static str, String)> {
    let mut f = vec![
        ("mch_billno", no.to_owned()),
        ("re_openid", r.openid.clone()),
        ("total_amount", r.amount.to_string()),
        ("send_listid", r.detail_id.clone()),
    ];
    if let Some(p) = &r.package {
        f.push(("package", p.clone()));
    }
    f
}
