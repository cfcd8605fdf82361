//! Daily reconciliation: the day's trade bill against the books, row by row, in bounded
//! memory (the bill is streamed to a temporary file and read back with `BillReader`; the
//! books of the day are held as two maps of numbers and amounts).
//!
//! A payment in the bill that is unpaid here is repaired as the sweeper repairs it
//! (orderquery, the same transition); a refund in the bill still PROCESSING here is resolved
//! with refundquery; every other difference is recorded as an anomaly for a person (once per
//! reference). The report is kept per date; running a date again recomputes it, repairs
//! nothing twice and records no anomaly twice.

use std::collections::HashMap;
use std::io::BufReader;

use serde::{Deserialize, Serialize};
use tenpay_client::{BillOutcome, BillReader, BillType, DownloadBill};
use tenpay_xml::BeijingTime;

use crate::domain::{OrderState, RefundState};
use crate::payments::{OpError, Payments};

/// One difference between the bill and the books.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    /// The order.
    pub out_trade_no: String,
    /// The refund, for refund rows.
    pub out_refund_no: Option<String>,
    /// The bill's amount (fen).
    pub bill_fen: Option<u64>,
    /// The books' amount (fen).
    pub books_fen: Option<u64>,
    /// What was done or needs doing.
    pub note: String,
}

/// A day's reconciliation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// `yyyyMMdd`.
    pub bill_date: String,
    /// Detail rows in the bill.
    pub rows: u64,
    /// Rows that agree with the books.
    pub matched: u64,
    /// Paid in the bill, unpaid here: repaired by orderquery (or an anomaly when that failed).
    pub repaired: Vec<Difference>,
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
    /// The day's service charge, in 0.00001 yuan (the bill's precision).
    pub service_charge: i64,
    /// Set when WeChat Pay has no bill for the day (`No Bill Exist`).
    pub no_bill: Option<String>,
}

impl Report {
    /// How many differences need a person.
    #[must_use]
    pub fn differences(&self) -> usize {
        self.unknown_payments.len()
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

fn fen(f: Option<tenpay_xml::Fen>) -> Option<u64> {
    f.map(tenpay_xml::Fen::get)
}

/// Reconciles one day and keeps the report.
///
/// # Errors
/// [`OpError::Invalid`] for a bad date, [`OpError::Upstream`] when the bill cannot be
/// downloaded, the store's.
pub async fn reconcile(payments: &Payments, bill_date: &str) -> Result<Report, OpError> {
    let (start, end) = day(bill_date)?;
    let mut report = Report {
        bill_date: bill_date.to_owned(),
        ..Report::default()
    };
    let store = payments.store();
    let mut paid: HashMap<String, i64> =
        store.paid_between(start, end).await?.into_iter().collect();
    let mut refunded: HashMap<String, i64> = store
        .refunded_between(start, end)
        .await?
        .into_iter()
        .collect();
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
        payments
            .client()
            .download_bill_to(&request, &mut file)
            .await
    };
    let result = match outcome {
        Err(e) => Err(OpError::Upstream(e)),
        Ok(BillOutcome::NoBill { return_msg, .. }) => {
            report.no_bill = Some(return_msg);
            Ok(())
        }
        Ok(_) => read(payments, &path, &mut report, &mut paid, &mut refunded).await,
    };
    let _ = std::fs::remove_file(&path);
    result?;
    for (no, amount) in paid {
        flag(
            store,
            &mut report.missing_payments,
            &format!("{bill_date}:pay:{no}"),
            Difference {
                out_trade_no: no.clone(),
                out_refund_no: None,
                bill_fen: None,
                books_fen: u64::try_from(amount).ok(),
                note: format!("paid here on {bill_date}, not in WeChat Pay's bill"),
            },
        )
        .await?;
    }
    for (no, amount) in refunded {
        let order = store
            .refund(&no)
            .await?
            .map(|r| r.out_trade_no)
            .unwrap_or_default();
        flag(
            store,
            &mut report.missing_refunds,
            &format!("{bill_date}:refund:{no}"),
            Difference {
                out_trade_no: order.clone(),
                out_refund_no: Some(no.clone()),
                bill_fen: None,
                books_fen: u64::try_from(amount).ok(),
                note: format!("refunded here on {bill_date}, not in WeChat Pay's bill"),
            },
        )
        .await?;
    }
    for list in [
        &mut report.missing_payments,
        &mut report.missing_refunds,
        &mut report.unknown_payments,
        &mut report.unknown_refunds,
        &mut report.amount_mismatches,
        &mut report.repaired,
    ] {
        list.sort_by(|a, b| {
            (&a.out_trade_no, &a.out_refund_no).cmp(&(&b.out_trade_no, &b.out_refund_no))
        });
    }
    let json = serde_json::to_string(&report).map_err(|e| OpError::Invalid(e.to_string()))?;
    store.save_reconciliation(bill_date, &json).await?;
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

async fn read(
    payments: &Payments,
    path: &std::path::Path,
    report: &mut Report,
    paid: &mut HashMap<String, i64>,
    refunded: &mut HashMap<String, i64>,
) -> Result<(), OpError> {
    let bad = |e: tenpay_client::Error| OpError::Upstream(e);
    let file = std::fs::File::open(path)
        .map_err(|e| OpError::Invalid(format!("cannot read {}: {e}", path.display())))?;
    let store = payments.store();
    let date = report.bill_date.clone();
    for row in BillReader::new(BufReader::new(file)).map_err(bad)? {
        let row = row.map_err(bad)?;
        report.rows += 1;
        report.service_charge += row.service_fee.map_or(0, tenpay_xml::Fee::get);
        let Some(no) = row.out_trade_no().map(str::to_owned) else {
            continue;
        };
        let refund_no = row.out_refund_no().filter(|r| *r != "0").map(str::to_owned);
        match refund_no {
            None => {
                let bill = fen(row.order_fee.or(row.total_fee));
                match paid.remove(&no) {
                    Some(books) if bill == u64::try_from(books).ok() => report.matched += 1,
                    Some(books) => {
                        flag(
                            store,
                            &mut report.amount_mismatches,
                            &format!("{date}:amount:{no}"),
                            Difference {
                                out_trade_no: no.clone(),
                                out_refund_no: None,
                                bill_fen: bill,
                                books_fen: u64::try_from(books).ok(),
                                note: "the bill's amount is not the books'".into(),
                            },
                        )
                        .await?;
                    }
                    None => match store.order(&no).await? {
                        None => {
                            flag(
                                store,
                                &mut report.unknown_payments,
                                &format!("{date}:unknown:{no}"),
                                Difference {
                                    out_trade_no: no.clone(),
                                    out_refund_no: None,
                                    bill_fen: bill,
                                    books_fen: None,
                                    note: "paid in the bill, no such order here".into(),
                                },
                            )
                            .await?;
                        }
                        Some(o) if OrderState::PAYABLE.contains(&o.state) => {
                            let note = match payments.refresh(None, &no).await {
                                Ok(v) if !OrderState::PAYABLE.contains(&v.order.state) => {
                                    "paid in the bill, unpaid here: settled by orderquery"
                                        .to_owned()
                                }
                                Ok(_) => "paid in the bill, but orderquery says unpaid".to_owned(),
                                Err(e) => format!("paid in the bill; orderquery failed: {e}"),
                            };
                            if !note.contains("settled") {
                                store
                                    .reconciliation_anomaly(
                                        &format!("{date}:unpaid:{no}"),
                                        Some(&no),
                                        &note,
                                    )
                                    .await?;
                            }
                            report.repaired.push(Difference {
                                out_trade_no: no.clone(),
                                out_refund_no: None,
                                bill_fen: bill,
                                books_fen: Some(o.amount.get()),
                                note,
                            });
                        }
                        // Paid here on another day (around midnight): the same payment.
                        Some(_) => report.matched += 1,
                    },
                }
            }
            Some(rno) => {
                let bill = fen(row.apply_refund_fee.or(row.refund_fee));
                match refunded.remove(&rno) {
                    Some(books) if bill == u64::try_from(books).ok() => report.matched += 1,
                    Some(books) => {
                        flag(
                            store,
                            &mut report.amount_mismatches,
                            &format!("{date}:refund-amount:{rno}"),
                            Difference {
                                out_trade_no: no.clone(),
                                out_refund_no: Some(rno.clone()),
                                bill_fen: bill,
                                books_fen: u64::try_from(books).ok(),
                                note: "the bill's refund amount is not the books'".into(),
                            },
                        )
                        .await?;
                    }
                    None => {
                        match store.refund(&rno).await? {
                            Some(r) if r.state == RefundState::Processing => {
                                let note = match payments.resolve_refund(&rno).await {
                                Ok(r) if r.state == RefundState::Success => "refunded in the bill, PROCESSING here: resolved by refundquery".to_owned(),
                                Ok(r) => format!("refunded in the bill; refundquery says {}", r.state),
                                Err(e) => format!("refunded in the bill; refundquery failed: {e}"),
                            };
                                if !note.contains("resolved") {
                                    store
                                        .reconciliation_anomaly(
                                            &format!("{date}:refund:{rno}"),
                                            Some(&no),
                                            &note,
                                        )
                                        .await?;
                                }
                                report.repaired.push(Difference {
                                    out_trade_no: no.clone(),
                                    out_refund_no: Some(rno.clone()),
                                    bill_fen: bill,
                                    books_fen: Some(r.amount.get()),
                                    note,
                                });
                            }
                            Some(r) if r.state == RefundState::Success => report.matched += 1,
                            other => {
                                let note = match other {
                                    Some(r) => format!("refunded in the bill, {} here", r.state),
                                    None => "refunded in the bill, no such refund here".into(),
                                };
                                store
                                    .reconciliation_anomaly(
                                        &format!("{date}:refund:{rno}"),
                                        Some(&no),
                                        &note,
                                    )
                                    .await?;
                                report.unknown_refunds.push(Difference {
                                    out_trade_no: no.clone(),
                                    out_refund_no: Some(rno.clone()),
                                    bill_fen: bill,
                                    books_fen: None,
                                    note,
                                });
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// Records a difference for a person (an anomaly, once per `reference`) and in the report.
async fn flag(
    store: &crate::store::Store,
    list: &mut Vec<Difference>,
    reference: &str,
    d: Difference,
) -> Result<(), OpError> {
    store
        .reconciliation_anomaly(reference, Some(&d.out_trade_no), &d.note)
        .await?;
    list.push(d);
    Ok(())
}

/// The report as a plain HTML page for the back office: the counts, the differences as a
/// table, links to the orders.
#[must_use]
pub fn html(r: &Report) -> String {
    use std::fmt::Write as _;
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Reconciliation {date}</title>\
         <style>body{{font:14px system-ui,sans-serif;margin:1.5rem}}table{{border-collapse:collapse}}\
         td,th{{border-bottom:1px solid #ddd;padding:.3rem .6rem;text-align:left}}</style></head><body>\
         <h1>Reconciliation {date}</h1><p>{rows} rows in the bill, {matched} matched, {diff} differences, \
         {rep} repaired; service charge {fee} (0.00001 yuan).{nobill}</p>",
        date = esc(&r.bill_date),
        rows = r.rows,
        matched = r.matched,
        diff = r.differences(),
        rep = r.repaired.len(),
        fee = r.service_charge,
        nobill = r
            .no_bill
            .as_deref()
            .map(|m| format!(" No bill: {}.", esc(m)))
            .unwrap_or_default(),
    );
    out.push_str("<table><tr><th>what</th><th>order</th><th>refund</th><th>bill (fen)</th><th>books (fen)</th><th>note</th></tr>");
    for (what, list) in [
        ("repaired", &r.repaired),
        ("unknown payment", &r.unknown_payments),
        ("missing payment", &r.missing_payments),
        ("amount mismatch", &r.amount_mismatches),
        ("unknown refund", &r.unknown_refunds),
        ("missing refund", &r.missing_refunds),
    ] {
        for d in list {
            let no = esc(&d.out_trade_no);
            let _ = write!(
                out,
                "<tr><td>{what}</td><td><a href=\"/orders/{no}\">{no}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(d.out_refund_no.as_deref().unwrap_or("")),
                d.bill_fen.map(|f| f.to_string()).unwrap_or_default(),
                d.books_fen.map(|f| f.to_string()).unwrap_or_default(),
                esc(&d.note),
            );
        }
    }
    out.push_str("</table></body></html>\n");
    out
}

/// Reconciles yesterday (Beijing time) once a day, after `hour` o'clock, unless it is kept
/// already; checks every ten minutes. Instances sharing a database may both run it: the run
/// is idempotent (one report per date, one anomaly per reference).
pub(crate) async fn daily(payments: Payments, hour: u8) {
    loop {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let beijing_hour = (now + 8 * 3600).rem_euclid(86_400) / 3600;
        if let Some(yesterday) =
            BeijingTime::from_unix(now - 86_400).map(|t| t.to_string()[..8].to_owned())
            && beijing_hour >= i64::from(hour)
        {
            match payments.store().reconciliation(&yesterday).await {
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
