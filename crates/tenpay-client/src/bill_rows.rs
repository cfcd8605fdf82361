//! Trade bill rows, read one at a time: [`BillReader`] parses any `BufRead` (a file you
//! downloaded, a decompressing reader) in constant memory; every row shares one header.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::Arc;

use tenpay_xml::{Fee, Fen};

use crate::Error;
use crate::table::{Row, TableLines, column_error, fee_in, yuan_in};

/// The text columns a row names by meaning, resolved once per bill from the header (layouts
/// renamed columns over the years).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    TradeTime,
    Appid,
    MchId,
    TransactionId,
    OutTradeNo,
    Openid,
    TradeType,
    TradeState,
    RefundId,
    OutRefundNo,
    RefundStatus,
    Body,
    Attach,
    Rate,
}

const TEXT_COLUMNS: [(Col, &str); 14] = [
    (Col::TradeTime, "交易时间"),
    (Col::Appid, "公众账号ID"),
    (Col::MchId, "商户号"),
    (Col::TransactionId, "微信订单号"),
    (Col::OutTradeNo, "商户订单号"),
    (Col::Openid, "用户标识"),
    (Col::TradeType, "交易类型"),
    (Col::TradeState, "交易状态"),
    (Col::RefundId, "微信退款单号"),
    (Col::OutRefundNo, "商户退款单号"),
    (Col::RefundStatus, "退款状态"),
    (Col::Body, "商品名称"),
    (Col::Attach, "商户数据包"),
    (Col::Rate, "费率"),
];

/// A bill's header, shared by its rows.
#[derive(Debug, PartialEq, Eq)]
struct Layout {
    columns: Vec<String>,
    text: [Option<usize>; TEXT_COLUMNS.len()],
}

impl Layout {
    fn new(columns: Vec<String>) -> Self {
        let text = TEXT_COLUMNS.map(|(_, name)| columns.iter().position(|c| c == name));
        Self { columns, text }
    }

    fn position(&self, names: &[&str]) -> Option<(usize, &str)> {
        names.iter().find_map(|n| {
            self.columns
                .iter()
                .position(|c| c == n)
                .map(|i| (i, self.columns[i].as_str()))
        })
    }
}

/// One bill row: the amounts typed (yuan converted to fen, fees at five decimals), every cell
/// by its column, and the common text columns by meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BillRow {
    /// 总金额 (older layout) or 应结订单金额.
    pub total_fee: Option<Fen>,
    /// 代金券或立减优惠金额, 代金券金额 or 企业红包金额.
    pub coupon_fee: Option<Fen>,
    /// 退款金额.
    pub refund_fee: Option<Fen>,
    /// 手续费 (返还手续费 in RECHARGE_REFUND bills): five decimals, negative when returned.
    pub service_fee: Option<Fee>,
    /// 订单金额 (modern layout).
    pub order_fee: Option<Fen>,
    /// 申请退款金额 (modern layout).
    pub apply_refund_fee: Option<Fen>,
    layout: Arc<Layout>,
    cells: Vec<String>,
}

macro_rules! text_columns {
    ($($(#[$m:meta])* $name:ident => $col:ident,)+) => {
        $(
            $(#[$m])*
            #[must_use]
            pub fn $name(&self) -> Option<&str> {
                self.text(Col::$col)
            }
        )+
    };
}

impl BillRow {
    fn text(&self, col: Col) -> Option<&str> {
        let i = TEXT_COLUMNS.iter().position(|(c, _)| *c == col)?;
        let at = self.layout.text[i]?;
        self.cells
            .get(at)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    text_columns!(
        /// 交易时间 (`yyyy-MM-dd HH:mm:ss`).
        trade_time => TradeTime,
        /// 公众账号ID.
        appid => Appid,
        /// 商户号.
        mch_id => MchId,
        /// 微信订单号.
        transaction_id => TransactionId,
        /// 商户订单号.
        out_trade_no => OutTradeNo,
        /// 用户标识.
        openid => Openid,
        /// 交易类型.
        trade_type => TradeType,
        /// 交易状态 (`SUCCESS`, `REFUND`, …).
        trade_state => TradeState,
        /// 微信退款单号 (`0` on payment rows).
        refund_id => RefundId,
        /// 商户退款单号 (`0` on payment rows).
        out_refund_no => OutRefundNo,
        /// 退款状态.
        refund_status => RefundStatus,
        /// 商品名称.
        body => Body,
        /// 商户数据包.
        attach => Attach,
        /// 费率 (`0.60%`).
        rate => Rate,
    );

    /// The cell of a column by its (Chinese) name, as written (empty cells included).
    #[must_use]
    pub fn cell(&self, column: &str) -> Option<&str> {
        let i = self.layout.columns.iter().position(|c| c == column)?;
        self.cells.get(i).map(String::as_str)
    }

    /// Every `(column, cell)`, in the header's order.
    pub fn cells(&self) -> impl Iterator<Item = (&str, &str)> {
        self.layout
            .columns
            .iter()
            .map(String::as_str)
            .zip(self.cells.iter().map(String::as_str))
    }

    fn new(layout: &Arc<Layout>, cells: Vec<String>) -> Result<Self, Error> {
        let yuan = |names: &[&str]| -> Result<Option<Fen>, Error> {
            match layout.position(names) {
                Some((i, name)) => parse_cell(&cells[i], name, Fen::from_yuan),
                None => Ok(None),
            }
        };
        let fee = match layout.position(&["手续费", "返还手续费"]) {
            Some((i, name)) => parse_cell(&cells[i], name, Fee::from_yuan)?,
            None => None,
        };
        Ok(Self {
            total_fee: yuan(&["总金额", "应结订单金额"])?,
            coupon_fee: yuan(&["代金券或立减优惠金额", "代金券金额", "企业红包金额"])?,
            refund_fee: yuan(&["退款金额"])?,
            service_fee: fee,
            order_fee: yuan(&["订单金额"])?,
            apply_refund_fee: yuan(&["申请退款金额"])?,
            layout: Arc::clone(layout),
            cells,
        })
    }
}

fn parse_cell<T>(
    cell: &str,
    column: &str,
    parse: impl Fn(&str) -> Result<T, tenpay_xml::Error>,
) -> Result<Option<T>, Error> {
    if cell.is_empty() {
        return Ok(None);
    }
    parse(cell)
        .map(Some)
        .map_err(|e| column_error(column, &e.to_string()))
}

/// Reads a trade bill row by row from any `BufRead`, in constant memory: the header once
/// (a leading UTF-8 BOM skipped), then one [`BillRow`] per item, then the summary
/// ([`BillReader::summary`], once the rows are read). CRLF or LF, with or without a final
/// newline; lines over 64 KiB are an error.
///
/// ```
/// use tenpay_client::BillReader;
/// let text = "\u{feff}交易时间,商户订单号,应结订单金额,手续费\r\n\
///             `2026-11-30 10:00:00,`M1,`9.90,`0.05940\r\n\
///             总交易单数,应结订单总金额,手续费总金额\r\n`1,`9.90,`0.05940\r\n";
/// let mut reader = BillReader::new(text.as_bytes())?;
/// let rows: Vec<_> = reader.by_ref().collect::<Result<_, _>>()?;
/// assert_eq!(rows[0].out_trade_no(), Some("M1"));
/// assert_eq!(rows[0].service_fee.map(|f| f.get()), Some(5940));
/// assert_eq!(reader.summary().map(|s| s.count), Some(1));
/// # Ok::<(), tenpay_client::Error>(())
/// ```
#[derive(Debug)]
pub struct BillReader<R> {
    lines: TableLines<R>,
    layout: Arc<Layout>,
    summary: Option<BillSummary>,
}

impl<R: BufRead> BillReader<R> {
    /// Reads the header.
    ///
    /// # Errors
    /// An empty input, a line over 64 KiB, text that is not UTF-8.
    pub fn new(input: R) -> Result<Self, Error> {
        let lines = TableLines::new(input)?;
        let layout = Arc::new(Layout::new(lines.columns.clone()));
        Ok(Self {
            lines,
            layout,
            summary: None,
        })
    }

    /// The column names, in order.
    #[must_use]
    pub fn columns(&self) -> &[String] {
        &self.layout.columns
    }

    /// The summary, once every row has been read.
    #[must_use]
    pub fn summary(&self) -> Option<&BillSummary> {
        self.summary.as_ref()
    }
}

impl<R: BufRead> Iterator for BillReader<R> {
    type Item = Result<BillRow, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.lines.next_row()? {
            Ok(Row::Cells(values)) => Some(BillRow::new(&self.layout, values)),
            Ok(Row::Summary(cells)) => match summary_from(cells) {
                Ok(s) => {
                    self.summary = Some(s);
                    None
                }
                Err(e) => Some(Err(e)),
            },
            Err(e) => Some(Err(e)),
        }
    }
}

/// The bill's summary row.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct BillSummary {
    /// 总交易单数.
    pub count: u64,
    /// 总交易额 (or 应结订单总金额).
    ///
    /// Every summary column of the three layouts WeChat Pay has used maps to a field here:
    /// `总交易单数,总交易额,总退款金额,总代金券或立减优惠退款金额,手续费总金额`, the same with
    /// `总企业红包退款金额`, and `总交易单数,应结订单总金额,退款总金额,充值券退款总金额,
    /// 手续费总金额,订单总金额,申请退款总金额`; every cell is also in [`BillSummary::cells`].
    pub total_fee: Option<Fen>,
    /// 总退款金额.
    pub refund_fee: Option<Fen>,
    /// 总代金券或立减优惠退款金额 (older: 总企业红包退款金额; modern: 充值券退款总金额).
    pub coupon_refund_fee: Option<Fen>,
    /// 手续费总金额: five decimals, negative when more was returned than charged.
    pub service_fee: Option<Fee>,
    /// 订单总金额 (modern layout).
    pub order_fee: Option<Fen>,
    /// 申请退款总金额 (modern layout).
    pub apply_refund_fee: Option<Fen>,
    /// Every cell by column name.
    pub cells: BTreeMap<String, String>,
}

/// The typed summary of a trade bill's summary cells.
pub(crate) fn summary_from(cells: BTreeMap<String, String>) -> Result<BillSummary, Error> {
    Ok(BillSummary {
        count: cells
            .get("总交易单数")
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| column_error("总交易单数", "not a count"))?,
        total_fee: yuan_in(&cells, &["总交易额", "应结订单总金额"])?,
        refund_fee: yuan_in(&cells, &["总退款金额", "退款总金额"])?,
        coupon_refund_fee: yuan_in(
            &cells,
            &[
                "总代金券或立减优惠退款金额",
                "总企业红包退款金额",
                "充值券退款总金额",
            ],
        )?,
        service_fee: fee_in(&cells, &["手续费总金额"])?,
        order_fee: yuan_in(&cells, &["订单总金额"])?,
        apply_refund_fee: yuan_in(&cells, &["申请退款总金额"])?,
        cells,
    })
}
