//! Rendering bills: the CSV layout of the reference (backtick-prefixed cells, yuan amounts, summary).

use std::io::Write as _;

use tenpay_xml::Fen;

use crate::clock::dashed as beijing_dashed;
use crate::state::{State, TradeState};

/// The modern (2018+, "免充值券结算") 27-column layout every merchant gets by default.
const HEADER: &str = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";
const SUMMARY: &str =
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额";
/// Real bills start with a UTF-8 byte order mark.
const BOM: &str = "\u{feff}";

fn yuan(fee: Fen) -> String {
    fee.to_yuan()
}

/// A sum of amounts (in u128: no sum of u64 amounts overflows it) as yuan.
fn big_yuan(fen: u128) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

/// The fee of an amount at 0.60%, in hundred-thousandths of a yuan: exactly 6 per fen.
fn fee_units(fee: Fen) -> i128 {
    i128::from(fee.get()) * 6
}

/// A fee with the bill's five decimals, negative when returned.
fn fee_text(units: i128) -> String {
    let sign = if units < 0 { "-" } else { "" };
    let abs = units.unsigned_abs();
    format!("{sign}{}.{:05}", abs / 100_000, abs % 100_000)
}

/// The bill for one Beijing day (`day_start` = its midnight, Unix seconds), or `None` when
/// there is nothing to bill. Payments of the day and refunds of the day, each its own row;
/// a refund returns its share of the fee (a negative 手续费).
pub(crate) fn render(
    state: &State,
    mch_id: &str,
    bill_type: &str,
    day_start: i64,
) -> Option<String> {
    let in_day = |t: Option<i64>| t.is_some_and(|t| t >= day_start && t < day_start + 86_400);
    let mut orders: Vec<_> = state.orders().filter(|o| o.mch_id == mch_id).collect();
    orders.sort_by_key(|o| (o.time_end, o.out_trade_no.clone()));
    let mut rows = Vec::new();
    let (mut count, mut settled, mut refunded, mut fees, mut ordered) =
        (0u64, 0u128, 0u128, 0i128, 0u128);
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
            let fee = fee_units(o.total_fee);
            rows.push(format!(
                "{},`{},`{},`0,`0,`0.00,`0.00,`,`,`{},`{},`{},`0.60%,`{},`0.00,`",
                base(o.time_end.unwrap_or_default(), "SUCCESS"),
                yuan(o.total_fee),
                yuan(o.coupon_fee),
                o.body,
                o.attach.as_deref().unwrap_or(""),
                fee_text(fee),
                yuan(o.total_fee),
            ));
            count += 1;
            settled += u128::from(o.total_fee.get());
            ordered += u128::from(o.total_fee.get());
            fees += fee;
        }
        if bill_type != "SUCCESS" {
            for r in o.refunds.iter().filter(|r| in_day(r.success_time)) {
                let fee = -fee_units(r.refund_fee);
                rows.push(format!(
                    "{},`0.00,`0.00,`{},`{},`{},`0.00,`ORIGINAL,`{},`{},`{},`{},`0.60%,`0.00,`{},`",
                    base(r.success_time.unwrap_or_default(), "REFUND"),
                    r.refund_id,
                    r.out_refund_no,
                    yuan(r.refund_fee),
                    r.status,
                    o.body,
                    o.attach.as_deref().unwrap_or(""),
                    fee_text(fee),
                    yuan(r.refund_fee),
                ));
                count += 1;
                refunded += u128::from(r.refund_fee.get());
                fees += fee;
            }
        }
    }
    let summary = format!(
        "`{count},`{},`{},`0.00,`{},`{},`{}",
        big_yuan(settled),
        big_yuan(refunded),
        fee_text(fees),
        big_yuan(ordered),
        big_yuan(refunded),
    );
    layout(&format!("{BOM}{HEADER}"), rows, SUMMARY, &summary)
}

/// The bill layout shared by trade bills and fund flows: header, rows, summary header,
/// summary row, CRLF line ends; `None` when there are no rows.
fn layout(header: &str, rows: Vec<String>, summary_header: &str, summary: &str) -> Option<String> {
    if rows.is_empty() {
        return None;
    }
    let mut out = String::new();
    for line in std::iter::once(header)
        .chain(rows.iter().map(String::as_str))
        .chain([summary_header, summary])
    {
        out.push_str(line);
        out.push_str("\r\n");
    }
    Some(out)
}

const FUND_FLOW_HEADER: &str = "记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),账户结余(元),资金变更提交申请人,备注,业务凭证号";
const FUND_FLOW_SUMMARY: &str = "资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额";

/// One movement of a fund account.
struct Movement<'a> {
    time: i64,
    /// Within one second: payments, refunds and fees first (by business number), then the
    /// kept movements in the order they happened.
    rank: usize,
    business_no: &'a str,
    name: &'static str,
    income: bool,
    fee: Fen,
    voucher: &'a str,
}

/// The fund flow of one account for one Beijing day, or `None` when nothing moved.
///
/// The simulator's accounts: `Basic` receives each payment (交易, 收入) and pays each
/// successful refund (退款, 支出) and each profit share (分账, 支出; 分账回退, 收入); `Fees` pays the 0.6% service fee of each payment
/// (手续费, 支出); `Operation` is the funded account money out draws from (企业付款,
/// 付款到银行卡, 现金红包 支出; 现金红包退款 收入). Balances run from the simulator's start: `Basic`
/// opens at zero, `Fees` at 1 000 000.00 yuan (a pre-funded fees account; real balances do
/// not go below zero, and neither do these).
pub(crate) fn render_fund_flow(
    state: &State,
    mch_id: &str,
    account: &str,
    day_start: i64,
) -> Option<String> {
    let mut moves: Vec<Movement<'_>> = Vec::new();
    for o in state.orders().filter(|o| o.mch_id == mch_id) {
        let paid = matches!(o.state, TradeState::Success | TradeState::Refund);
        let (Some(transaction_id), Some(time_end), true) = (&o.transaction_id, o.time_end, paid)
        else {
            continue;
        };
        match account {
            "Basic" => {
                moves.push(Movement {
                    rank: 0,
                    time: time_end,
                    business_no: transaction_id,
                    name: "交易",
                    income: true,
                    fee: o.total_fee,
                    voucher: &o.out_trade_no,
                });
                for r in &o.refunds {
                    if let (Some(t), "SUCCESS") = (r.success_time, r.status) {
                        moves.push(Movement {
                            rank: 0,
                            time: t,
                            business_no: &r.refund_id,
                            name: "退款",
                            income: false,
                            fee: r.refund_fee,
                            voucher: &r.out_refund_no,
                        });
                    }
                }
            }
            "Fees" => moves.push(Movement {
                rank: 0,
                time: time_end,
                business_no: transaction_id,
                name: "手续费",
                income: false,
                // 0.6%, rounded half up; 6 × u64::MAX + 500 fits u128, the result fits u64.
                fee: Fen::new(
                    u64::try_from((u128::from(o.total_fee.get()) * 6 + 500) / 1000)
                        .unwrap_or(u64::MAX),
                ),
                voucher: &o.out_trade_no,
            }),
            _ => {}
        }
    }
    // Profit sharing moves the basic account: each share out, each return back in.
    if account == "Basic" {
        for (rank, m) in state
            .sharing
            .movements
            .iter()
            .filter(|m| m.mch_id == mch_id)
            .enumerate()
        {
            moves.push(Movement {
                rank: rank + 1,
                time: m.time,
                business_no: &m.business_no,
                name: m.name,
                income: m.income,
                fee: m.amount,
                voucher: &m.business_no,
            });
        }
    }
    // Money out moves the operation account: transfers, bank payments and red packets out,
    // refunded packets back in.
    let mut opening = 0;
    if account == "Operation" {
        for (rank, m) in state
            .payouts
            .movements
            .iter()
            .filter(|m| m.mch_id == mch_id)
            .enumerate()
        {
            if opening == 0 {
                // The balance before the first kept movement.
                opening = if m.income {
                    m.balance.get().saturating_sub(m.amount.get())
                } else {
                    m.balance.get().saturating_add(m.amount.get())
                };
            }
            moves.push(Movement {
                rank: rank + 1,
                time: m.time,
                business_no: &m.business_no,
                name: m.name,
                income: m.income,
                fee: m.amount,
                voucher: &m.business_no,
            });
        }
    }
    moves.sort_by(|a, b| (a.time, a.rank, a.business_no).cmp(&(b.time, b.rank, b.business_no)));
    // Balances saturate at zero and at u64::MAX fen (documented above: they never go below
    // zero, and no simulated day moves 184 trillion yuan).
    let mut balance: u64 = match account {
        "Fees" => 100_000_000,
        "Operation" => opening,
        _ => 0,
    };
    let mut rows = Vec::new();
    let (mut incomes, mut income, mut expenses, mut expense) = (0u64, 0u128, 0u64, 0u128);
    for (seq, m) in moves.iter().enumerate() {
        balance = if m.income {
            balance.saturating_add(m.fee.get())
        } else {
            balance.saturating_sub(m.fee.get())
        };
        if m.time < day_start || m.time >= day_start + 86_400 {
            continue;
        }
        if m.income {
            incomes += 1;
            income += u128::from(m.fee.get());
        } else {
            expenses += 1;
            expense += u128::from(m.fee.get());
        }
        rows.push(format!(
            "`{},`{},`{}{:010},`{},`{},`{},`{},`{},`system,`,`{}",
            beijing_dashed(m.time),
            m.business_no,
            mch_id,
            seq,
            m.name,
            m.name,
            if m.income { "收入" } else { "支出" },
            yuan(m.fee),
            yuan(Fen::new(balance)),
            m.voucher,
        ));
    }
    let summary = format!(
        "`{},`{incomes},`{},`{expenses},`{}",
        incomes + expenses,
        big_yuan(income),
        big_yuan(expense)
    );
    layout(FUND_FLOW_HEADER, rows, FUND_FLOW_SUMMARY, &summary)
}

pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}
