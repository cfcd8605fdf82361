//! Daily reconciliation: the day's trade bill against the books, row by row, in bounded
//! memory: the bill is streamed to a temporary file and read back with `BillReader`, its rows
//! are looked up in batches, and only a digest of each number seen is kept (see
//! `matcher.rs`).
//!
//! Bill rows name payment attempts (their `out_trade_no` at WeChat Pay). A payment in the
//! bill that is unpaid here is repaired as the sweeper repairs it (orderquery, the same
//! transition); one for an attempt closed here is the paid-after-close anomaly; a refund in
//! the bill still PROCESSING here is resolved with refundquery; every other difference is
//! recorded as an anomaly for a person (once per reference). The report is kept per date;
//! running a date again recomputes it, repairs nothing twice and records no anomaly twice.

mod html;
mod matcher;

use std::io::BufReader;

use serde::{Deserialize, Serialize};
use tenpay_client::{BillOutcome, BillReader, BillType, DownloadBill};
use tenpay_xml::BeijingTime;

use crate::payments::{OpError, Payments};

/// One difference between the bill and the books.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    /// The business order (for a payment the bill has and the books do not: the bill's
    /// `out_trade_no`).
    pub order_no: String,
    /// The refund, for refund rows.
    pub out_refund_no: Option<String>,
    /// The bill's amount (fen).
    pub bill_fen: Option<u64>,
    /// The books' amount (fen).
    pub books_fen: Option<u64>,
    /// What was done or needs doing.
    pub note: String,
}

/// A day's reconciliation. Every list is either **repaired** (what was done is in each
/// note, nothing left to do) or **needs a person** (each one also an anomaly, counted by
/// [`Report::differences`]):
///
/// | list | kind |
/// |---|---|
/// | `repaired` | repaired: settled by orderquery, or resolved by refundquery, at the bill's amount |
/// | `unresolved` | needs a person: the query that would repair it failed or disagrees with the bill |
/// | `paid_after_close`, `unknown_payments`, `missing_payments`, `amount_mismatches`, `unknown_refunds`, `missing_refunds` | needs a person |
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// `yyyyMMdd`.
    pub bill_date: String,
    /// Detail rows in the bill.
    pub rows: u64,
    /// Rows that agree with the books.
    pub matched: u64,
    /// Paid in the bill and unpaid here, settled by orderquery; refunded in the bill and
    /// PROCESSING here, resolved by refundquery. Each at the bill's amount; nothing to do.
    pub repaired: Vec<Difference>,
    /// In the bill, and the query that would have repaired it failed or says otherwise
    /// (unpaid, not refunded): a person looks.
    #[serde(default)]
    pub unresolved: Vec<Difference>,
    /// Paid in the bill for an attempt closed here: a `PAID_AFTER_CLOSE` anomaly (refund the
    /// payer).
    #[serde(default)]
    pub paid_after_close: Vec<Difference>,
    /// Paid in the bill, unknown here.
    pub unknown_payments: Vec<Difference>,
    /// Paid here that day, not in the bill.
    pub missing_payments: Vec<Difference>,
    /// Another amount in the bill than in the books.
    pub amount_mismatches: Vec<Difference>,
    /// Refunds in the bill the books don't know (or don't have as refunded).
    pub unknown_refunds: Vec<Difference>,
    /// Refunds the books have as refunded that day, not in the bill.
    pub missing_refunds: Vec<Difference>,
    /// The day's service charge (fees), in 0.00001 yuan (the bill's precision).
    pub service_charge: i64,
    /// The day's payments in the bill (fen).
    #[serde(default)]
    pub bill_paid_fen: u64,
    /// The day's refunds in the bill (fen).
    #[serde(default)]
    pub bill_refunded_fen: u64,
    /// Set when WeChat Pay has no bill for the day (`No Bill Exist`).
    pub no_bill: Option<String>,
}

impl Report {
    /// How many differences need a person.
    #[must_use]
    pub fn differences(&self) -> usize {
        self.unknown_payments.len()
            + self.unresolved.len()
            + self.paid_after_close.len()
            + self.missing_payments.len()
            + self.amount_mismatches.len()
            + self.unknown_refunds.len()
            + self.missing_refunds.len()
    }
}

/// The Beijing day `[start, end)` of `yyyyMMdd`, in Unix seconds.
///
/// # Errors
/// [`OpError::Invalid`] for anything but a date.
pub fn day(bill_date: &str) -> Result<(i64, i64), OpError> {
    let t: BeijingTime = format!("{bill_date}000000")
        .parse()
        .ok()
        .filter(|_| bill_date.len() == 8)
        .ok_or_else(|| OpError::Invalid(format!("{bill_date:?} is not a yyyyMMdd date")))?;
    Ok((t.unix(), t.unix() + 86_400))
}

/// Reconciles one day and keeps the report.
///
/// # Errors
/// [`OpError::Invalid`] for a bad date, [`OpError::Upstream`] when the bill cannot be
/// downloaded, the store's.
pub async fn reconcile(payments: &Payments, bill_date: &str) -> Result<Report, OpError> {
    let (start, end) = day(bill_date)?;
    let report = Report {
        bill_date: bill_date.to_owned(),
        ..Report::default()
    };
    // The bill, streamed (inflated) into a temporary file.
    let path = std::env::temp_dir().join(format!(
        "tenpay-bill-{bill_date}-{}-{}.csv",
        std::process::id(),
        uuid::Uuid::now_v7()
    ));
    let request = DownloadBill::new(bill_date, BillType::All)
        .map_err(OpError::Upstream)?
        .gzip();
    let outcome = {
        let mut file = tokio::fs::File::create(&path)
            .await
            .map_err(|e| OpError::Invalid(format!("cannot create {}: {e}", path.display())))?;
        payments.download_bill_to(&request, &mut file).await
    };
    let mut matcher = matcher::Matcher::new(payments, report, (start, end));
    let result = match outcome {
        Err(e) => Err(OpError::Upstream(e)),
        Ok(BillOutcome::NoBill { return_msg, .. }) => {
            matcher.report.no_bill = Some(return_msg);
            Ok(())
        }
        Ok(_) => read(&path, &mut matcher).await,
    };
    let _ = std::fs::remove_file(&path);
    result?;
    let mut report = matcher.finish().await?;
    for list in [
        &mut report.missing_payments,
        &mut report.missing_refunds,
        &mut report.unknown_payments,
        &mut report.paid_after_close,
        &mut report.unknown_refunds,
        &mut report.amount_mismatches,
        &mut report.repaired,
        &mut report.unresolved,
    ] {
        list.sort_by(|a, b| (&a.order_no, &a.out_refund_no).cmp(&(&b.order_no, &b.out_refund_no)));
    }
    let json = serde_json::to_string(&report).map_err(|e| OpError::Invalid(e.to_string()))?;
    payments.save_reconciliation(bill_date, &json).await?;
    tracing::info!(
        bill_date,
        rows = report.rows,
        matched = report.matched,
        differences = report.differences(),
        repaired = report.repaired.len(),
        "reconciled"
    );
    Ok(report)
}

async fn read(path: &std::path::Path, matcher: &mut matcher::Matcher<'_>) -> Result<(), OpError> {
    let bad = |e: tenpay_client::Error| OpError::Upstream(e);
    let file = std::fs::File::open(path)
        .map_err(|e| OpError::Invalid(format!("cannot read {}: {e}", path.display())))?;
    for row in BillReader::new(BufReader::new(file)).map_err(bad)? {
        matcher.row(&row.map_err(bad)?).await?;
    }
    Ok(())
}

/// Reconciles yesterday (Beijing time) once a day, after `hour` o'clock, unless it is kept
/// already; checks every ten minutes. Instances sharing a database may both run it: the run
/// is idempotent (one report per date, one anomaly per reference).
pub(crate) async fn daily(payments: Payments, hour: u8) {
    loop {
        let now = crate::clock::unix_now();
        let beijing_hour = (now + 8 * 3600).rem_euclid(86_400) / 3600;
        if let Some(yesterday) =
            BeijingTime::from_unix(now - 86_400).map(|t| t.to_string()[..8].to_owned())
            && beijing_hour >= i64::from(hour)
        {
            match payments.kept_reconciliation(&yesterday).await {
                Ok(None) => match reconcile(&payments, &yesterday).await {
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(bill_date = %yesterday, error = %e, "daily reconciliation failed; tried again in ten minutes")
                    }
                },
                Ok(Some(_)) => {}
                Err(e) => tracing::warn!(error = %e, "daily reconciliation: the store failed"),
            }
        }
        tokio::time::sleep(std::time::Duration::from_secs(600)).await;
    }
}

pub use html::html;
