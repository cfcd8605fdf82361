//! Bills: download a trade bill or a fund flow, and parse bills into JSON Lines, streamed
//! (constant memory whatever the bill's size).

use std::io::{BufRead, BufReader, IsTerminal as _, Read, Write};
use std::path::PathBuf;

use clap::Subcommand;
use tenpay_client::{
    AccountType, BillOutcome, BillReader, BillRow, BillSummary, BillType, DownloadBill,
    DownloadFundFlow, Fen, FundFlowReader, FundFlowRow, FundFlowSummary,
};

use crate::input::{Failure, bad_input, report};
use crate::ops::{OutputArgs, failure, runtime};
use crate::profile::{MerchantArgs, Profile};

#[derive(Debug, Subcommand)]
pub(crate) enum BillCommand {
    /// downloadbill: the trade bill of one day, to a file or standard output.
    #[command(
        after_help = "Examples:\n  tenpay bill download --date 20261130 -o 20261130.csv\n  tenpay bill download --date 20261130 --type REFUND --gzip --json | jq .out_refund_no"
    )]
    Download {
        /// The day, yyyyMMdd (Beijing time).
        #[arg(long)]
        date: String,
        /// ALL, SUCCESS, REFUND or RECHARGE_REFUND.
        #[arg(long = "type", default_value = "ALL")]
        bill_type: String,
        /// Ask WeChat Pay for gzip: the file is written as sent (gzip); `bill parse` reads it.
        #[arg(long)]
        gzip: bool,
        /// Write here instead of standard output (removed again if the download fails).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// The largest bill accepted, in bytes (inflated; default 1 GiB).
        #[arg(long, value_name = "BYTES")]
        max_bytes: Option<u64>,
    },
    /// Parse a bill (plain or gzip, `-` for standard input) into JSON Lines: one object per
    /// row, then {"summary": …}.
    #[command(
        after_help = "Amounts are integers in fen; service_charge counts 0.00001 yuan (negative on refunds).\nExample:\n  tenpay bill parse 20261130.csv.gz | tail -1"
    )]
    Parse {
        /// The bill file, or - for standard input.
        #[arg(default_value = "-")]
        file: String,
        /// The largest bill read, in bytes (inflated, for a gzip file): a small gzip file can
        /// inflate to gigabytes.
        #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_PARSE_BYTES)]
        max_bytes: u64,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum FundFlowCommand {
    /// downloadfundflow (HMAC-SHA256, client certificate): one account's fund flow of one day.
    #[command(
        after_help = "Example:\n  tenpay fundflow download --date 20261130 --account Basic -o basic.csv"
    )]
    Download {
        /// The day, yyyyMMdd (Beijing time).
        #[arg(long)]
        date: String,
        /// Basic, Operation or Fees.
        #[arg(long, default_value = "Basic")]
        account: String,
        /// Ask WeChat Pay for gzip.
        #[arg(long)]
        gzip: bool,
        /// Write here instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Parse a fund flow (plain or gzip, `-` for standard input) into JSON Lines: one object
    /// per movement, then {"summary": …}.
    #[command(
        after_help = "Amounts are integers in fen.\nExample:\n  tenpay fundflow parse basic.csv | jq -c 'select(.direction == \"支出\")'"
    )]
    Parse {
        /// The fund flow file, or - for standard input.
        #[arg(default_value = "-")]
        file: String,
        /// The largest fund flow read, in bytes (inflated, for a gzip file).
        #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_PARSE_BYTES)]
        max_bytes: u64,
    },
}

/// A writer that counts what passes through it (bytes and rows) and shows the counts on a
/// terminal.
struct Progress<W> {
    inner: W,
    bytes: u64,
    rows: u64,
    shown: u64,
    show: bool,
}

impl<W: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Progress<W> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let poll = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        if let std::task::Poll::Ready(Ok(n)) = &poll {
            self.bytes += *n as u64;
            self.rows += buf[..*n].iter().filter(|&&b| b == b'\n').count() as u64;
            if self.show && self.bytes - self.shown >= 1 << 20 {
                self.shown = self.bytes;
                eprint!("\rtenpay: {} MiB, {} lines", self.bytes >> 20, self.rows);
            }
        }
        poll
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

pub(crate) fn bill(
    cmd: BillCommand,
    merchant: &MerchantArgs,
    out: OutputArgs,
) -> Result<u8, Failure> {
    match cmd {
        BillCommand::Parse { file, max_bytes } => parse(&file, max_bytes),
        BillCommand::Download {
            date,
            bill_type,
            gzip,
            output,
            max_bytes,
        } => {
            let mut builder = Profile::resolve(merchant)?.builder()?;
            if let Some(max) = max_bytes {
                builder = builder.max_streamed_bill_bytes(max);
            }
            let client = builder.build().map_err(|e| bad_input(report(&e)))?;
            let mut req = DownloadBill::new(&date, BillType::from(bill_type.as_str()))
                .map_err(|e| bad_input(report(&e)))?;
            if gzip {
                req = req.gzip();
            }
            // With --json the bill goes through a temporary file, then out as rows.
            let tmp = out.json.then(|| {
                std::env::temp_dir().join(format!("tenpay-bill-{}.csv", std::process::id()))
            });
            let target = tmp.clone().or(output.clone());
            let result = runtime()?.block_on(async {
                let show = std::io::stderr().is_terminal();
                let written = match &target {
                    Some(path) => {
                        let file = tokio::fs::File::create(path).await.map_err(|e| {
                            bad_input(format!("cannot create {}: {e}", path.display()))
                        })?;
                        let mut w = Progress {
                            inner: file,
                            bytes: 0,
                            rows: 0,
                            shown: 0,
                            show,
                        };
                        client.download_bill_raw_to(&req, &mut w).await
                    }
                    None => {
                        let mut w = Progress {
                            inner: tokio::io::stdout(),
                            bytes: 0,
                            rows: 0,
                            shown: 0,
                            show: false,
                        };
                        client.download_bill_raw_to(&req, &mut w).await
                    }
                };
                if show {
                    eprint!("\r");
                }
                written.map_err(|e| failure(&e))
            });
            let outcome = match result {
                Ok(o) => o,
                Err(f) => {
                    // Nothing half-written is left behind.
                    if let Some(t) = &target {
                        let _ = std::fs::remove_file(t);
                    }
                    return Err(f);
                }
            };
            match outcome {
                BillOutcome::NoBill {
                    return_msg,
                    error_code,
                } => {
                    eprintln!(
                        "tenpay: no bill for {date}: {return_msg}{}",
                        error_code.map(|c| format!(" ({c})")).unwrap_or_default()
                    );
                    Ok(1)
                }
                BillOutcome::Bill(bytes) => {
                    if let Some(t) = &tmp {
                        let code = parse(&t.display().to_string(), u64::MAX);
                        let _ = std::fs::remove_file(t);
                        return code;
                    }
                    if let Some(path) = &output {
                        eprintln!("tenpay: {bytes} bytes written to {}", path.display());
                    }
                    Ok(0)
                }
                _ => Ok(1),
            }
        }
    }
}

pub(crate) fn fund_flow(
    cmd: FundFlowCommand,
    merchant: &MerchantArgs,
    out: OutputArgs,
) -> Result<u8, Failure> {
    let (date, account, gzip, output) = match cmd {
        FundFlowCommand::Parse { file, max_bytes } => return parse_fund_flow(&file, max_bytes),
        FundFlowCommand::Download {
            date,
            account,
            gzip,
            output,
        } => (date, account, gzip, output),
    };
    let client = Profile::resolve(merchant)?.client()?;
    let mut req = DownloadFundFlow::new(&date, AccountType::from(account.as_str()))
        .map_err(|e| bad_input(report(&e)))?;
    if gzip {
        req = req.gzip();
    }
    let outcome = runtime()?
        .block_on(client.download_fund_flow(&req))
        .map_err(|e| failure(&e))?;
    let flow = match outcome {
        BillOutcome::Bill(f) => f,
        BillOutcome::NoBill { return_msg, .. } => {
            eprintln!("tenpay: no fund flow for {date}: {return_msg}");
            return Ok(1);
        }
        _ => return Ok(1),
    };
    let mut sink: Box<dyn Write> = match &output {
        Some(p) => Box::new(
            std::fs::File::create(p)
                .map_err(|e| bad_input(format!("cannot create {}: {e}", p.display())))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let write_err = |e: std::io::Error| bad_input(format!("cannot write: {e}"));
    if out.json {
        for row in &flow.rows {
            writeln!(sink, "{}", fund_flow_json(row)).map_err(write_err)?;
        }
        writeln!(
            sink,
            "{}",
            serde_json::json!({ "summary": fund_flow_summary_json(&flow.summary) })
        )
        .map_err(write_err)?;
    } else {
        sink.write_all(flow.text.as_bytes()).map_err(write_err)?;
    }
    Ok(0)
}

/// The JSON key of each text column, by the bill's column names (old and modern layouts).
const TEXT: &[(&str, &[&str])] = &[
    ("trade_time", &["交易时间"]),
    ("appid", &["公众账号ID"]),
    ("mch_id", &["商户号"]),
    ("sub_mch_id", &["特约商户号", "子商户号"]),
    ("device_info", &["设备号"]),
    ("transaction_id", &["微信订单号"]),
    ("out_trade_no", &["商户订单号"]),
    ("openid", &["用户标识"]),
    ("trade_type", &["交易类型"]),
    ("trade_state", &["交易状态"]),
    ("bank_type", &["付款银行"]),
    ("fee_type", &["货币种类"]),
    ("refund_id", &["微信退款单号"]),
    ("out_refund_no", &["商户退款单号"]),
    ("refund_channel", &["退款类型"]),
    ("refund_status", &["退款状态"]),
    ("body", &["商品名称"]),
    ("attach", &["商户数据包"]),
    ("rate", &["费率"]),
    ("rate_remark", &["费率备注"]),
];

/// An amount of a row, typed by `BillRow` or read from a column it has no field for.
#[derive(Clone, Copy)]
enum Amount {
    Total,
    Coupon,
    Refund,
    CouponRefund(usize),
    ServiceCharge,
    Order,
    ApplyRefund,
}

/// The amount columns, by key, with their names in every layout.
const AMOUNTS: &[(&str, &[&str])] = &[
    ("settlement_total_fee", &["总金额", "应结订单金额"]),
    (
        "coupon_fee",
        &["企业红包金额", "代金券金额", "代金券或立减优惠金额"],
    ),
    ("settlement_refund_fee", &["退款金额"]),
    (
        "coupon_refund_fee",
        &[
            "充值券退款金额",
            "企业红包退款金额",
            "代金券或立减优惠退款金额",
        ],
    ),
    ("service_charge", &["手续费", "返还手续费"]),
    ("total_fee", &["订单金额"]),
    ("refund_fee", &["申请退款金额"]),
];

/// Which keys a bill's rows have, and where: worked out once from the header.
struct Plan {
    text: Vec<(&'static str, usize)>,
    amounts: Vec<(&'static str, Amount)>,
}

impl Plan {
    fn new(columns: &[String]) -> Self {
        let find = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| columns.iter().position(|c| c == n))
        };
        let text = TEXT
            .iter()
            .filter_map(|(key, names)| find(names).map(|i| (*key, i)))
            .collect();
        let amounts = AMOUNTS
            .iter()
            .enumerate()
            .filter_map(|(n, (key, names))| {
                let at = find(names)?;
                Some((
                    *key,
                    match n {
                        0 => Amount::Total,
                        1 => Amount::Coupon,
                        2 => Amount::Refund,
                        3 => Amount::CouponRefund(at),
                        4 => Amount::ServiceCharge,
                        5 => Amount::Order,
                        _ => Amount::ApplyRefund,
                    },
                ))
            })
            .collect();
        Self { text, amounts }
    }

    /// One row as a JSON object, written straight out (no intermediate value).
    fn write(&self, out: &mut impl Write, row: &BillRow) -> std::io::Result<()> {
        let cells: Vec<&str> = row.cells().map(|(_, v)| v).collect();
        out.write_all(b"{")?;
        let mut first = true;
        let mut key = |out: &mut dyn Write, k: &str| -> std::io::Result<()> {
            if !std::mem::take(&mut first) {
                out.write_all(b",")?;
            }
            write!(out, "\"{k}\":")
        };
        for (k, i) in &self.text {
            key(out, k)?;
            serde_json::to_writer(&mut *out, cells.get(*i).copied().unwrap_or_default())?;
        }
        for (k, a) in &self.amounts {
            key(out, k)?;
            let fen = match a {
                Amount::Total => row.total_fee,
                Amount::Coupon => row.coupon_fee,
                Amount::Refund => row.refund_fee,
                Amount::CouponRefund(i) => cells.get(*i).and_then(|c| Fen::from_yuan(c).ok()),
                Amount::Order => row.order_fee,
                Amount::ApplyRefund => row.apply_refund_fee,
                Amount::ServiceCharge => {
                    match row.service_fee {
                        Some(f) => write!(out, "{}", f.get())?,
                        None => out.write_all(b"null")?,
                    }
                    continue;
                }
            };
            match fen {
                Some(f) => write!(out, "{}", f.get())?,
                None => out.write_all(b"null")?,
            }
        }
        out.write_all(b"}\n")
    }
}

fn summary_json(s: &BillSummary) -> serde_json::Value {
    let mut obj = serde_json::Map::new();
    obj.insert("total_count".into(), s.count.into());
    let mut put = |k: &str, v: Option<Fen>| {
        if let Some(v) = v {
            obj.insert(k.into(), v.get().into());
        }
    };
    put("settlement_total_fee", s.total_fee);
    put("settlement_refund_fee", s.refund_fee);
    put("coupon_refund_fee", s.coupon_refund_fee);
    put("total_fee", s.order_fee);
    put("refund_fee", s.apply_refund_fee);
    if let Some(f) = s.service_fee {
        obj.insert("service_charge".into(), f.get().into());
    }
    serde_json::Value::Object(obj)
}

/// Plain or gzip (by its magic bytes), from a file or standard input.
/// The default of `bill parse --max-bytes` and `fundflow parse --max-bytes` (1 GiB, as the
/// client's streamed download).
const DEFAULT_MAX_PARSE_BYTES: u64 = tenpay_client::DEFAULT_MAX_STREAMED_BILL_BYTES;

/// A reader that fails (instead of ending) once more than `max` bytes passed through it: a
/// truncated bill would read as "no summary", which says nothing of the cause.
struct Capped<R> {
    inner: R,
    left: u64,
    max: u64,
}

impl<R: BufRead> Capped<R> {
    fn too_large(&self) -> std::io::Error {
        std::io::Error::other(format!("larger than {} bytes (--max-bytes)", self.max))
    }
}

impl<R: BufRead> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = {
            let available = self.fill_buf()?;
            let n = available.len().min(buf.len());
            buf[..n].copy_from_slice(&available[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Capped<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.left == 0 && !self.inner.fill_buf()?.is_empty() {
            return Err(self.too_large());
        }
        let left = usize::try_from(self.left).unwrap_or(usize::MAX);
        let buf = self.inner.fill_buf()?;
        Ok(&buf[..buf.len().min(left)])
    }

    fn consume(&mut self, amt: usize) {
        self.inner.consume(amt);
        self.left = self.left.saturating_sub(amt as u64);
    }
}

fn open(file: &str, max: u64) -> Result<Box<dyn BufRead>, Failure> {
    let raw: Box<dyn Read> = if file == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(
            std::fs::File::open(file).map_err(|e| bad_input(format!("cannot read {file}: {e}")))?,
        )
    };
    let mut input = BufReader::with_capacity(1 << 16, raw);
    let magic = input
        .fill_buf()
        .map_err(|e| bad_input(format!("cannot read {file}: {e}")))?;
    let inner: Box<dyn BufRead> = if magic.starts_with(&[0x1f, 0x8b]) {
        Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::bufread::MultiGzDecoder::new(input),
        ))
    } else {
        Box::new(input)
    };
    Ok(Box::new(Capped {
        inner,
        left: max,
        max,
    }))
}

fn parse(file: &str, max: u64) -> Result<u8, Failure> {
    let mut reader = BillReader::new(open(file, max)?).map_err(|e| bad_input(report(&e)))?;
    let plan = Plan::new(reader.columns());
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let write_err = |e: std::io::Error| bad_input(format!("cannot write: {e}"));
    for row in reader.by_ref() {
        let row = row.map_err(|e| bad_input(report(&e)))?;
        plan.write(&mut out, &row).map_err(write_err)?;
    }
    let summary = reader
        .summary()
        .map_or(serde_json::Value::Null, summary_json);
    writeln!(out, "{}", serde_json::json!({ "summary": summary })).map_err(write_err)?;
    out.flush().map_err(write_err)?;
    Ok(0)
}

fn fund_flow_json(row: &FundFlowRow) -> serde_json::Value {
    let mut obj = serde_json::Map::new();
    let mut text = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            obj.insert(k.into(), v.clone().into());
        }
    };
    text("booked_at", &row.booked_at);
    text("business_no", &row.business_no);
    text("flow_no", &row.flow_no);
    text("business_name", &row.business_name);
    text("business_type", &row.business_type);
    text("applicant", &row.applicant);
    text("remark", &row.remark);
    text("voucher_no", &row.voucher_no);
    if let Some(d) = &row.direction {
        obj.insert("direction".into(), d.as_str().into());
    }
    for (k, v) in [("amount", row.amount), ("balance", row.balance)] {
        if let Some(v) = v {
            obj.insert(k.into(), v.get().into());
        }
    }
    serde_json::Value::Object(obj)
}

fn fund_flow_summary_json(s: &FundFlowSummary) -> serde_json::Value {
    let mut obj = serde_json::Map::new();
    obj.insert("total_count".into(), s.count.into());
    obj.insert("income_count".into(), s.income_count.into());
    obj.insert("expense_count".into(), s.expense_count.into());
    for (k, v) in [("income", s.income), ("expense", s.expense)] {
        if let Some(v) = v {
            obj.insert(k.into(), v.get().into());
        }
    }
    serde_json::Value::Object(obj)
}

fn parse_fund_flow(file: &str, max: u64) -> Result<u8, Failure> {
    let mut reader = FundFlowReader::new(open(file, max)?).map_err(|e| bad_input(report(&e)))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let write_err = |e: std::io::Error| bad_input(format!("cannot write: {e}"));
    for row in reader.by_ref() {
        let row = row.map_err(|e| bad_input(report(&e)))?;
        writeln!(out, "{}", fund_flow_json(&row)).map_err(write_err)?;
    }
    let summary = reader
        .summary()
        .map_or(serde_json::Value::Null, fund_flow_summary_json);
    writeln!(out, "{}", serde_json::json!({ "summary": summary })).map_err(write_err)?;
    out.flush().map_err(write_err)?;
    Ok(0)
}
