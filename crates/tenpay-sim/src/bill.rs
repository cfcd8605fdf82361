//! Bills: the CSV layout of the reference (backtick-prefixed cells, yuan amounts, summary).

use std::io::Write as _;

use tenpay_xml::Fen;

use crate::engine::beijing_dashed;
use crate::state::{State, TradeState};

const HEADER: &str = "交易时间,公众账号ID,商户号,子商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,总金额,代金券或立减优惠金额,微信退款单号,商户退款单号,退款金额,代金券或立减优惠退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率";
const SUMMARY: &str = "总交易单数,总交易额,总退款金额,总代金券或立减优惠退款金额,手续费总金额";

fn yuan(fen: u64) -> String {
    Fen::new(fen).to_yuan()
}

/// The bill for one Beijing day (`day_start` = its midnight, Unix seconds), or `None` when
/// there is nothing to bill.
pub(crate) fn render(
    state: &State,
    mch_id: &str,
    bill_type: &str,
    day_start: i64,
) -> Option<String> {
    let in_day = |t: Option<i64>| t.is_some_and(|t| t >= day_start && t < day_start + 86_400);
    let mut orders: Vec<_> = state
        .orders
        .values()
        .filter(|o| o.mch_id == mch_id)
        .collect();
    orders.sort_by_key(|o| (o.time_end, o.out_trade_no.clone()));
    let mut rows = Vec::new();
    let (mut count, mut total, mut refunded, mut fees) = (0u64, 0u64, 0u64, 0u64);
    for o in &orders {
        let paid = matches!(o.state, TradeState::Success | TradeState::Refund)
            && o.transaction_id.is_some();
        let base = |time: i64, state: &str| {
            format!(
                "`{},`{},`{},`{},`{},`{},`{},`{},`{},`{},`CFT,`{}",
                beijing_dashed(time),
                o.appid,
                o.mch_id,
                o.sub_mch_id.as_deref().unwrap_or("0"),
                o.device_info.as_deref().unwrap_or(""),
                o.transaction_id.as_deref().unwrap_or(""),
                o.out_trade_no,
                o.payer_openid.as_deref().unwrap_or(""),
                o.trade_type,
                state,
                o.fee_type
            )
        };
        if paid && in_day(o.time_end) && bill_type != "REFUND" && bill_type != "RECHARGE_REFUND" {
            let fee = (o.total_fee * 6 + 500) / 1000;
            rows.push(format!(
                "{},`{},`{},`0,`,`0.00,`0.00,`,`,`{},`{},`{},`0.60%",
                base(o.time_end.unwrap_or_default(), "SUCCESS"),
                yuan(o.total_fee),
                yuan(o.coupon_fee),
                o.body,
                o.attach.as_deref().unwrap_or(""),
                yuan(fee)
            ));
            count += 1;
            total += o.total_fee;
            fees += fee;
        }
        if bill_type != "SUCCESS" {
            for r in o.refunds.iter().filter(|r| in_day(r.success_time)) {
                rows.push(format!(
                    "{},`{},`{},`{},`{},`{},`0.00,`ORIGINAL,`{},`{},`{},`0.00,`0.60%",
                    base(r.success_time.unwrap_or_default(), "REFUND"),
                    yuan(o.total_fee),
                    yuan(0),
                    r.refund_id,
                    r.out_refund_no,
                    yuan(r.refund_fee),
                    r.status,
                    o.body,
                    o.attach.as_deref().unwrap_or("")
                ));
                count += 1;
                refunded += r.refund_fee;
            }
        }
    }
    if rows.is_empty() {
        return None;
    }
    let mut out = String::new();
    out.push_str(HEADER);
    out.push_str("\r\n");
    for r in rows {
        out.push_str(&r);
        out.push_str("\r\n");
    }
    out.push_str(SUMMARY);
    out.push_str("\r\n");
    out.push_str(&format!(
        "`{count},`{},`{},`0.00,`{}\r\n",
        yuan(total),
        yuan(refunded),
        yuan(fees)
    ));
    Some(out)
}

pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}
