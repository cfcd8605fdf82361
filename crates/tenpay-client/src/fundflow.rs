//! downloadfundflow: the movements of one of the merchant's fund accounts on one day.

use std::collections::BTreeMap;
use std::io::BufRead;

use serde::Serialize;
use tenpay_sign::{ApiKey, SignType};
use tenpay_xml::{Fen, XmlMap};

use crate::answer::{Answer, Verifier};
use crate::bill::{BillOutcome, read_text};
use crate::table::{Row, TableLines, malformed, yuan};
use crate::{Endpoint, Error, Route};

tenpay_xml::wire_enum!(
    /// `account_type`: which fund account.
    AccountType {
        /// 基本账户: payments in, refunds out.
        Basic = "Basic",
        /// 运营账户.
        Operation = "Operation",
        /// 手续费账户.
        Fees = "Fees",
    }
);

/// `/pay/downloadfundflow`: one day of a fund account (needs the client certificate; signed
/// with HMAC-SHA256 whatever the client's algorithm, as the endpoint takes nothing else).
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct DownloadFundFlow {
    bill_date: String,
    account_type: AccountType,
    tar_type: Option<&'static str>,
}

impl DownloadFundFlow {
    /// The fund flow of `account_type` on `bill_date` (`yyyyMMdd`).
    ///
    /// # Errors
    /// [`Error::Config`] when the date is not 8 digits of a real day.
    pub fn new(bill_date: &str, account_type: AccountType) -> Result<Self, Error> {
        crate::bill::check_bill_date(bill_date)?;
        Ok(Self {
            bill_date: bill_date.to_owned(),
            account_type,
            tar_type: None,
        })
    }

    /// Ask for it gzip-compressed (decompressed by the client).
    #[must_use]
    pub fn gzip(mut self) -> Self {
        self.tar_type = Some("GZIP");
        self
    }
}

/// A fund flow: its rows and its summary.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FundFlow {
    /// The column names, in order.
    pub columns: Vec<String>,
    /// One row per movement of money.
    pub rows: Vec<FundFlowRow>,
    /// The summary row.
    pub summary: FundFlowSummary,
    /// The text as received (decompressed).
    pub text: String,
}

tenpay_xml::wire_enum!(
    /// 收支类型: which way the money moved.
    Direction {
        /// 收入: into the account.
        Income = "收入",
        /// 支出: out of the account.
        Expense = "支出",
    }
);

/// One movement. Amounts are converted from yuan to fen; every column is also in `cells`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct FundFlowRow {
    /// 记账时间 (`yyyy-MM-dd HH:mm:ss`).
    pub booked_at: Option<String>,
    /// 微信支付业务单号: the transaction_id or refund_id the movement belongs to.
    pub business_no: Option<String>,
    /// 资金流水单号.
    pub flow_no: Option<String>,
    /// 业务名称, e.g. 交易, 退款.
    pub business_name: Option<String>,
    /// 业务类型.
    pub business_type: Option<String>,
    /// 收支类型.
    pub direction: Option<Direction>,
    /// 收支金额(元).
    pub amount: Option<Fen>,
    /// 账户结余(元): the balance after this movement.
    pub balance: Option<Fen>,
    /// 资金变更提交申请人.
    pub applicant: Option<String>,
    /// 备注.
    pub remark: Option<String>,
    /// 业务凭证号: for refunds, the merchant's out_refund_no.
    pub voucher_no: Option<String>,
    /// Every cell by column name.
    pub cells: BTreeMap<String, String>,
}

/// The fund flow's summary row.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct FundFlowSummary {
    /// 资金流水总笔数.
    pub count: u64,
    /// 收入笔数.
    pub income_count: u64,
    /// 收入金额.
    pub income: Option<Fen>,
    /// 支出笔数.
    pub expense_count: u64,
    /// 支出金额.
    pub expense: Option<Fen>,
    /// Every cell by column name.
    pub cells: BTreeMap<String, String>,
}

impl Endpoint for DownloadFundFlow {
    type Response = BillOutcome<FundFlow>;
    const ROUTE: Route<'static> = Route::new("/pay/downloadfundflow")
        .certificate()
        .retry_safe()
        .large_answer()
        .signed_with(SignType::HmacSha256)
        .unsigned_answer();

    fn to_map(&self) -> Result<XmlMap, tenpay_xml::Error> {
        tenpay_xml::to_map(self)
    }

    fn decode(
        _verifier: &Verifier,
        _key: &ApiKey,
        answer: Answer,
    ) -> Result<BillOutcome<FundFlow>, Error> {
        read_text(answer)?.try_map(parse_fund_flow)
    }
}

/// The cell of the first of `names` present (headers are written with ASCII or full-width
/// parentheses).
fn cell<'a>(cells: &'a BTreeMap<String, String>, names: &[&str]) -> Option<&'a String> {
    names.iter().find_map(|n| cells.get(*n))
}

fn count(cells: &BTreeMap<String, String>, name: &str) -> Result<u64, Error> {
    cells
        .get(name)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| malformed(&format!("summary {name}")))
}

/// Reads a fund flow row by row from any `BufRead`, in constant memory, like
/// [`BillReader`](crate::BillReader): the header once, one [`FundFlowRow`] per item, then the
/// summary ([`FundFlowReader::summary`], once the rows are read).
///
/// ```
/// use tenpay_client::FundFlowReader;
/// let text = "\u{feff}记账时间,微信支付业务单号,收支类型,收支金额(元),账户结余(元)\r\n\
///             `2026-11-30 10:00:00,`4200001,`收入,`8.88,`8.88\r\n\
///             资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额\r\n`1,`1,`8.88,`0,`0.00\r\n";
/// let mut reader = FundFlowReader::new(text.as_bytes())?;
/// let rows: Vec<_> = reader.by_ref().collect::<Result<_, _>>()?;
/// assert_eq!(rows[0].amount.map(|f| f.get()), Some(888));
/// assert_eq!(reader.summary().map(|s| s.income_count), Some(1));
/// # Ok::<(), tenpay_client::Error>(())
/// ```
#[derive(Debug)]
pub struct FundFlowReader<R> {
    lines: TableLines<R>,
    summary: Option<FundFlowSummary>,
}

impl<R: BufRead> FundFlowReader<R> {
    /// Reads the header.
    ///
    /// # Errors
    /// An empty input, a line over 64 KiB, text that is not UTF-8.
    pub fn new(input: R) -> Result<Self, Error> {
        Ok(Self {
            lines: TableLines::new(input)?,
            summary: None,
        })
    }

    /// The column names, in order.
    #[must_use]
    pub fn columns(&self) -> &[String] {
        &self.lines.columns
    }

    /// The summary, once every row has been read.
    #[must_use]
    pub fn summary(&self) -> Option<&FundFlowSummary> {
        self.summary.as_ref()
    }
}

impl<R: BufRead> Iterator for FundFlowReader<R> {
    type Item = Result<FundFlowRow, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.lines.next_row()? {
            Ok(Row::Cells(values)) => {
                let cells = self.lines.columns.iter().cloned().zip(values).collect();
                Some(fund_flow_row(cells))
            }
            Ok(Row::Summary(cells)) => match fund_flow_summary(cells) {
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

fn fund_flow_row(cells: BTreeMap<String, String>) -> Result<FundFlowRow, Error> {
    let get = |k: &str| cells.get(k).filter(|v| !v.is_empty()).cloned();
    let direction = get("收支类型").map(|d| Direction::from(d.as_str()));
    Ok(FundFlowRow {
        booked_at: get("记账时间"),
        business_no: get("微信支付业务单号"),
        flow_no: get("资金流水单号"),
        business_name: get("业务名称"),
        business_type: get("业务类型"),
        direction,
        amount: yuan(cell(&cells, &["收支金额(元)", "收支金额（元）"]))?,
        balance: yuan(cell(&cells, &["账户结余(元)", "账户结余（元）"]))?,
        applicant: get("资金变更提交申请人"),
        remark: get("备注"),
        voucher_no: get("业务凭证号"),
        cells,
    })
}

fn fund_flow_summary(cells: BTreeMap<String, String>) -> Result<FundFlowSummary, Error> {
    Ok(FundFlowSummary {
        count: count(&cells, "资金流水总笔数")?,
        income_count: count(&cells, "收入笔数")?,
        income: yuan(cells.get("收入金额"))?,
        expense_count: count(&cells, "支出笔数")?,
        expense: yuan(cells.get("支出金额"))?,
        cells,
    })
}

/// Parses the fund flow text (the trade bill's layout with its own columns).
pub(crate) fn parse_fund_flow(text: String) -> Result<FundFlow, Error> {
    let mut reader = FundFlowReader::new(text.as_bytes())?;
    let rows = reader.by_ref().collect::<Result<Vec<_>, _>>()?;
    let columns = reader.columns().to_vec();
    let summary = reader
        .summary()
        .cloned()
        .ok_or_else(|| malformed("no summary"))?;
    Ok(FundFlow {
        columns,
        rows,
        summary,
        text,
    })
}
