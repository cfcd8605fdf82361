//! Field rules: lengths, the merchant's numbers, amounts, times, with the errors WeChat Pay
//! gives.

use tenpay_xml::{BeijingTime, Fen};

use super::{Req, Verdict, biz};
use crate::clock::now_unix;

/// Single-item discounts: `version` is `1.0` or absent, and with it `detail` must be the
/// discount layout (`goods_detail` with each good's `goods_id`, `quantity` and `price`).
pub(super) fn single_item_discount(req: &Req<'_>) -> Option<Verdict> {
    use super::Endpoint;
    if !matches!(
        req.endpoint,
        Endpoint::UnifiedOrder
            | Endpoint::Micropay
            | Endpoint::DepositMicropay
            | Endpoint::DepositUnifiedOrder
    ) {
        return None;
    }
    match req.get("version") {
        None => return None,
        Some("1.0") => {}
        Some(_) => return Some(biz("PARAM_ERROR", "version参数错误，仅支持1.0")),
    }
    let Some(detail) = req.get("detail") else {
        return Some(biz("PARAM_ERROR", "单品优惠订单detail必填"));
    };
    let goods_ok = serde_json::from_str::<serde_json::Value>(detail)
        .ok()
        .and_then(|d| d.get("goods_detail").and_then(|g| g.as_array()).cloned())
        .is_some_and(|goods| {
            !goods.is_empty()
                && goods.iter().all(|g| {
                    g.get("goods_id").is_some_and(serde_json::Value::is_string)
                        && g.get("quantity").is_some_and(serde_json::Value::is_u64)
                        && g.get("price").is_some_and(serde_json::Value::is_u64)
                })
        });
    (!goods_ok).then(|| biz("PARAM_ERROR", "detail参数格式错误"))
}

/// A single-item discount order's goods (`version=1.0`; [`single_item_discount`] checked
/// the `detail`); none for other orders.
pub(super) fn discount_goods(req: &Req<'_>) -> Vec<crate::state::DiscountGood> {
    if req.get("version") != Some("1.0") {
        return Vec::new();
    }
    let detail = req
        .get("detail")
        .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok());
    let goods = detail
        .as_ref()
        .and_then(|d| d.get("goods_detail"))
        .and_then(serde_json::Value::as_array);
    goods
        .into_iter()
        .flatten()
        .filter_map(|g| {
            Some(crate::state::DiscountGood {
                goods_id: g.get("goods_id")?.as_str()?.to_owned(),
                quantity: g.get("quantity")?.as_u64()?,
                price: g.get("price")?.as_u64()?,
            })
        })
        .collect()
}

/// The longest value (in bytes) WeChat Pay accepts for each field, from the protocol's field
/// tables. `spbill_create_ip` is String(16) for IPv4; 64 leaves room for IPv6.
const MAX_LEN: &[(&str, usize)] = &[
    ("body", 128),
    ("attach", 127),
    ("detail", 6000),
    ("device_info", 32),
    ("notify_url", 256),
    ("product_id", 32),
    ("long_url", 512),
    ("goods_tag", 32),
    ("limit_pay", 32),
    ("openid", 128),
    ("sub_openid", 128),
    ("scene_info", 256),
    ("spbill_create_ip", 64),
    ("refund_desc", 80),
    ("auth_code", 128),
    ("transaction_id", 32),
    ("refund_id", 32),
    ("fee_type", 16),
    ("refund_fee_type", 16),
    ("op_user_id", 32),
    // Money out.
    ("send_name", 32),
    ("re_openid", 32),
    ("wishing", 128),
    ("act_name", 32),
    ("remark", 256),
    ("scene_id", 32),
    ("risk_info", 128),
    ("client_ip", 15),
    ("desc", 300),
    ("re_user_name", 64),
    ("enc_bank_no", 1024),
    ("enc_true_name", 1024),
    ("bank_code", 64),
];

/// The largest amount: the protocol's amounts are `Int` (32-bit).
pub(crate) const MAX_FEE: Fen = Fen::new(2_147_483_647);

/// The first field of the request longer than WeChat Pay allows, as WeChat answers it.
pub(crate) fn lengths(req: &Req<'_>) -> Option<Verdict> {
    MAX_LEN.iter().find_map(|&(name, max)| {
        req.get(name).filter(|v| v.len() > max).map(|_| {
            biz(
                "PARAM_ERROR",
                format!("{name}参数长度有误：不能超过{max}字节"),
            )
        })
    })
}

/// out_trade_no (and out_refund_no): `0-9a-zA-Z_-|*@`, at most `max` characters.
pub(crate) fn valid_trade_no(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-|*@".contains(&b))
}

/// A positive amount no larger than [`MAX_FEE`].
pub(crate) fn amount(value: Option<&str>) -> Option<Fen> {
    value?
        .parse::<Fen>()
        .ok()
        .filter(|f| !f.is_zero() && *f <= MAX_FEE)
}

/// Field rules shared by unifiedorder and micropay; `Ok((out_trade_no, total_fee))`.
pub(crate) fn order_fields<'r>(
    req: &'r Req<'_>,
    min_expire_minutes: i64,
) -> Result<(&'r str, Fen), Verdict> {
    let out_trade_no = req.get("out_trade_no").unwrap_or_default();
    if !valid_trade_no(out_trade_no, 32) {
        return Err(biz(
            "PARAM_ERROR",
            "out_trade_no参数格式错误：最长32位，只能是数字、大小写字母_-|*@",
        ));
    }
    let Some(total_fee) = amount(req.get("total_fee")) else {
        return Err(biz(
            "PARAM_ERROR",
            "total_fee参数格式错误：必须为正整数，单位为分，不超过2147483647",
        ));
    };
    if let Some(expire) = req.get("time_expire") {
        let Ok(t) = expire.parse::<BeijingTime>() else {
            return Err(biz("PARAM_ERROR", "time_expire参数格式错误"));
        };
        if t.unix() < now_unix() + min_expire_minutes * 60 {
            return Err(biz(
                "PARAM_ERROR",
                "time_expire时间过短，刷卡至少1分钟，其他5分钟",
            ));
        }
    }
    Ok((out_trade_no, total_fee))
}
