//! Payment codes: micropay with its scenarios, reverse, authcodetoopenid.

use std::sync::Arc;

use super::order::{mark_paid, new_order};
use super::{Endpoint, Engine, Req, Verdict, biz, ok, rules};
use crate::clock::compact;
use crate::state::{MicropayPlan, Order, TradeState};

impl Engine {
    pub(super) fn micropay(self: &Arc<Self>, req: &Req<'_>) -> Verdict {
        let (out_trade_no, total_fee) = match rules::order_fields(req, 1) {
            Ok(v) => v,
            Err(v) => return v,
        };
        let deposit = matches!(
            req.endpoint,
            Endpoint::DepositMicropay | Endpoint::DepositFacePay
        );
        if deposit && req.get("deposit") != Some("Y") {
            return biz("PARAM_ERROR", "deposit参数错误，押金支付请传Y");
        }
        let face = matches!(req.endpoint, Endpoint::FacePay | Endpoint::DepositFacePay);
        let code = req
            .get(if face { "face_code" } else { "auth_code" })
            .unwrap_or_default();
        // A face code is opaque: paid at once, unless it is written like a payment code
        // (then its last two digits choose the scenario, as for payment codes). The face
        // SDK's own flow sends it to micropay as `auth_code`: one the SDK gave
        // (`SimHandle::face_code`) pays one order at once, by its payer. One lock for the
        // code's lookup and its use.
        let mut state = self.lock();
        let face_code = if face {
            None
        } else {
            state
                .face_codes
                .iter()
                .position(|f| f.code == code && f.paid.as_deref().is_none_or(|n| n == out_trade_no))
        };
        let scenario = match scenario(code) {
            None if face || face_code.is_some() => Some(Scenario::PaidAtOnce),
            s => s,
        };
        let Some(scenario) = scenario else {
            return biz("AUTH_CODE_INVALID", "付款码无效，请重新扫码");
        };
        let key = req.order_key(out_trade_no);
        if let Some(existing) = state.order(&key) {
            return match existing.state {
                TradeState::Success | TradeState::Refund => answer(existing),
                TradeState::UserPaying => biz("USERPAYING", "需要用户输入支付密码"),
                TradeState::Revoked => biz("ORDERREVERSED", "订单已撤销"),
                _ => biz("ORDERCLOSED", "订单已关闭"),
            };
        }
        if scenario == Scenario::Expired {
            return biz("AUTHCODEEXPIRE", "二维码已过期，请用户在微信上刷新后再试");
        }
        let mut order = new_order(
            req,
            out_trade_no,
            total_fee,
            if face { "FACEPAY" } else { "MICROPAY" },
            TradeState::UserPaying,
        );
        order.payer_openid = Some(match (req.get("openid"), face_code) {
            (Some(o), _) if face => o.to_owned(),
            // Found under this lock: still there.
            (_, Some(at)) => state.face_codes.get_mut(at).map_or_else(
                || openid_for_code(code),
                |f| {
                    f.paid = Some(out_trade_no.to_owned());
                    f.openid.clone()
                },
            ),
            _ => openid_for_code(code),
        });
        order.deposit = deposit;
        let verdict = match scenario {
            Scenario::PaidAtOnce | Scenario::SystemError => {
                mark_paid(&mut order, None);
                if scenario == Scenario::SystemError {
                    biz("SYSTEMERROR", "系统超时，请查询订单")
                } else {
                    answer(&order)
                }
            }
            Scenario::PaidAfterDelay => {
                order.micropay = MicropayPlan::PaidAfterDelay;
                let engine = Arc::clone(self);
                let key = key.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(engine.clock.scaled(10)).await;
                    let mut state = engine.lock();
                    if let Some(o) = state
                        .order_mut(&key)
                        .filter(|o| o.state == TradeState::UserPaying)
                    {
                        mark_paid(o, None);
                    }
                });
                biz("USERPAYING", "需要用户输入支付密码")
            }
            Scenario::PayingUntilReversed => {
                order.micropay = MicropayPlan::PayingUntilReversed;
                biz("USERPAYING", "需要用户输入支付密码")
            }
            Scenario::Expired => biz("AUTHCODEEXPIRE", "二维码已过期"),
        };
        state.insert_order(key, order);
        verdict
    }

    pub(super) fn reverse(&self, req: &Req<'_>) -> Verdict {
        let (key, transaction_id) = match req.order_ref() {
            Ok(r) => r,
            Err(v) => return v,
        };
        let mut state = self.lock();
        let Some(order) = state.find_order(&key, transaction_id) else {
            return biz("ORDERNOTEXIST", "订单不存在");
        };
        if !matches!(order.trade_type.as_str(), "MICROPAY" | "FACEPAY") {
            return biz("TRADE_STATE_ERROR", "只能撤销刷卡支付订单");
        }
        if order.state == TradeState::Refund {
            return biz("TRADE_STATE_ERROR", "订单已退款，不能撤销");
        }
        if let Some(v) = super::deposit::route_check(req.endpoint, order) {
            return v;
        }
        if order.consume_fee.is_some() {
            return biz("TRADE_STATE_ERROR", "押金已消费，不能撤销");
        }
        // Reversing a paid order refunds it; reversing an unpaid one cancels it.
        order.state = TradeState::Revoked;
        ok([("recall", "N")])
    }
}

fn answer(order: &Order) -> Verdict {
    let promotion = super::order::promotion_detail(order).map(|p| ("promotion_detail", p));
    ok([
        ("openid", order.payer_openid.clone().unwrap_or_default()),
        ("is_subscribe", "N".into()),
        ("trade_type", order.trade_type.clone()),
        ("bank_type", "CFT".into()),
        ("fee_type", order.fee_type.clone()),
        ("total_fee", order.total_fee.to_string()),
        ("cash_fee_type", "CNY".into()),
        ("cash_fee", order.cash_fee().to_string()),
        (
            "transaction_id",
            order.transaction_id.clone().unwrap_or_default(),
        ),
        ("out_trade_no", order.out_trade_no.clone()),
        ("time_end", order.time_end.map(compact).unwrap_or_default()),
    ]
    .into_iter()
    .chain(promotion))
}

/// `/face/get_wxpayface_authinfo`: a credential valid one hour. The answer carries no
/// `result_code`, as the real one does not.
pub(super) fn face_auth_info(req: &Req<'_>) -> Verdict {
    let mut m = tenpay_xml::XmlMap::new();
    let authinfo = format!("SIMAUTH{}", crate::ids::nonce());
    for (k, v) in [
        ("return_code", "SUCCESS"),
        ("return_msg", "OK"),
        ("appid", req.merchant.appid.as_str()),
        ("mch_id", req.merchant.mch_id.as_str()),
        ("nonce_str", crate::ids::nonce().as_str()),
        ("authinfo", authinfo.as_str()),
        ("expires_in", "3600"),
    ] {
        let _ = m.insert(k, v);
    }
    if let Some(s) = &req.sub_mch_id {
        let _ = m.insert("sub_mch_id", s);
    }
    if let Some(s) = &req.sub_appid {
        let _ = m.insert("sub_appid", s);
    }
    let _ = m.sign(req.key(), req.sign_type);
    Verdict::Reply(super::Reply::Xml(m.to_xml()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    PaidAtOnce,
    PaidAfterDelay,
    PayingUntilReversed,
    SystemError,
    Expired,
}

/// Payment codes are 18 digits starting 10–15; the last two digits choose what happens:
/// 00–79 paid at once, 80–84 USERPAYING then paid after 10 s (scaled), 85–89 USERPAYING until
/// reversed, 90–94 SYSTEMERROR (but paid), 95–99 AUTHCODEEXPIRE.
fn scenario(code: &str) -> Option<Scenario> {
    let b = code.as_bytes();
    if b.len() != 18
        || !b.iter().all(u8::is_ascii_digit)
        || b[0] != b'1'
        || !(b'0'..=b'5').contains(&b[1])
    {
        return None;
    }
    let last = u32::from(b[16] - b'0') * 10 + u32::from(b[17] - b'0');
    Some(match last {
        0..=79 => Scenario::PaidAtOnce,
        80..=84 => Scenario::PaidAfterDelay,
        85..=89 => Scenario::PayingUntilReversed,
        90..=94 => Scenario::SystemError,
        _ => Scenario::Expired,
    })
}

fn openid_for_code(code: &str) -> String {
    format!("oSim{}", &code[code.len().saturating_sub(12)..])
}

impl Engine {
    /// Issues a face code for `openid` (see `SimHandle::face_code`).
    pub(crate) fn face_code(&self, openid: &str) -> String {
        let code = format!("face{}", crate::ids::token());
        let mut state = self.lock();
        if state.face_codes.len() >= crate::state::MAX_FACE_CODES {
            state.face_codes.pop_front();
        }
        state.face_codes.push_back(crate::state::FaceCode {
            code: code.clone(),
            openid: openid.to_owned(),
            paid: None,
        });
        code
    }
}

pub(super) fn auth_code_to_openid(req: &Req<'_>) -> Verdict {
    let code = req.get("auth_code").unwrap_or_default();
    match scenario(code) {
        Some(Scenario::Expired) => biz("AUTHCODEEXPIRE", "二维码已过期"),
        Some(_) => ok([("openid", openid_for_code(code))]),
        None => biz("AUTH_CODE_INVALID", "付款码无效"),
    }
}
