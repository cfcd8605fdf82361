//! Matching the bill's rows against the books in bounded memory: rows are looked up in
//! batches (one query per [`BATCH`] rows), and what was seen is kept as a sorted list of
//! 16-byte digests, so that the books' side of the day ("paid here, not in the bill") can be
//! paged through afterwards. At a million rows that list is 16 MB.

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use tenpay_client::BillRow;

use super::{Difference, Report};
use crate::domain::{OrderState, RefundState};
use crate::payments::{OpError, Payments};

/// Bill rows looked up per query.
pub(super) const BATCH: usize = 500;
/// Rows of the books read per page.
const PAGE: i64 = 5_000;

fn digest(no: &str) -> [u8; 16] {
    let d = Sha256::digest(no.as_bytes());
    let mut out = [0; 16];
    out.copy_from_slice(&d[..16]);
    out
}

struct PayRow {
    no: String,
    bill: Option<u64>,
}

struct RefundRow {
    no: String,
    refund_no: String,
    bill: Option<u64>,
}

pub(super) struct Matcher<'a> {
    payments: &'a Payments,
    pub(super) report: Report,
    pays: Vec<PayRow>,
    refunds: Vec<RefundRow>,
    seen_pays: Vec<[u8; 16]>,
    seen_refunds: Vec<[u8; 16]>,
}

impl<'a> Matcher<'a> {
    pub(super) fn new(payments: &'a Payments, report: Report) -> Self {
        Self {
            payments,
            report,
            pays: Vec::with_capacity(BATCH),
            refunds: Vec::with_capacity(BATCH),
            seen_pays: Vec::new(),
            seen_refunds: Vec::new(),
        }
    }

    /// One detail row of the bill.
    pub(super) async fn row(&mut self, row: &BillRow) -> Result<(), OpError> {
        self.report.rows += 1;
        self.report.service_charge += row.service_fee.map_or(0, tenpay_xml::Fee::get);
        let Some(no) = row.out_trade_no() else {
            return Ok(());
        };
        match row.out_refund_no().filter(|r| *r != "0") {
            None => {
                let bill = row.order_fee.or(row.total_fee).map(tenpay_xml::Fen::get);
                self.report.bill_paid_fen += bill.unwrap_or(0);
                self.pays.push(PayRow {
                    no: no.to_owned(),
                    bill,
                });
                if self.pays.len() >= BATCH {
                    self.flush_pays().await?;
                }
            }
            Some(rno) => {
                let bill = row
                    .apply_refund_fee
                    .or(row.refund_fee)
                    .map(tenpay_xml::Fen::get);
                self.report.bill_refunded_fen += bill.unwrap_or(0);
                self.refunds.push(RefundRow {
                    no: no.to_owned(),
                    refund_no: rno.to_owned(),
                    bill,
                });
                if self.refunds.len() >= BATCH {
                    self.flush_refunds().await?;
                }
            }
        }
        Ok(())
    }

    /// After the last row: the rest of the batches, then the books' side of `[start, end)`.
    pub(super) async fn finish(mut self, start: i64, end: i64) -> Result<Report, OpError> {
        self.flush_pays().await?;
        self.flush_refunds().await?;
        self.seen_pays.sort_unstable();
        self.seen_refunds.sort_unstable();
        let store = self.payments.store();
        let date = self.report.bill_date.clone();
        let mut after = None;
        loop {
            let page = store.paid_page(start, end, after.as_ref(), PAGE).await?;
            for (_, no, amount) in &page {
                if self.seen_pays.binary_search(&digest(no)).is_err() {
                    let order = store
                        .attempt(no)
                        .await?
                        .map_or_else(|| no.clone(), |a| a.order_no);
                    let d = Difference {
                        out_trade_no: order,
                        out_refund_no: None,
                        bill_fen: None,
                        books_fen: u64::try_from(*amount).ok(),
                        note: format!("attempt {no} paid here on {date}, not in WeChat Pay's bill"),
                    };
                    flag(
                        self.payments,
                        &mut self.report.missing_payments,
                        &format!("{date}:pay:{no}"),
                        d,
                    )
                    .await?;
                }
            }
            match page.last() {
                Some((t, no, _)) if page.len() == usize::try_from(PAGE).unwrap_or(usize::MAX) => {
                    after = Some((*t, no.clone()));
                }
                _ => break,
            }
        }
        let mut after = None;
        loop {
            let page = store
                .refunded_page(start, end, after.as_ref(), PAGE)
                .await?;
            for (_, rno, amount) in &page {
                if self.seen_refunds.binary_search(&digest(rno)).is_err() {
                    let order = store
                        .refund(rno)
                        .await?
                        .map(|r| r.out_trade_no)
                        .unwrap_or_default();
                    let d = Difference {
                        out_trade_no: order,
                        out_refund_no: Some(rno.clone()),
                        bill_fen: None,
                        books_fen: u64::try_from(*amount).ok(),
                        note: format!("refunded here on {date}, not in WeChat Pay's bill"),
                    };
                    flag(
                        self.payments,
                        &mut self.report.missing_refunds,
                        &format!("{date}:refund:{rno}"),
                        d,
                    )
                    .await?;
                }
            }
            match page.last() {
                Some((t, no, _)) if page.len() == usize::try_from(PAGE).unwrap_or(usize::MAX) => {
                    after = Some((*t, no.clone()));
                }
                _ => break,
            }
        }
        Ok(self.report)
    }

    async fn flush_pays(&mut self) -> Result<(), OpError> {
        if self.pays.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.pays);
        let numbers: Vec<&str> = rows.iter().map(|r| r.no.as_str()).collect();
        let found: HashMap<String, _> = self
            .payments
            .store()
            .attempts_among(&numbers)
            .await?
            .into_iter()
            .map(|(a, amount)| (a.out_trade_no.clone(), (a, amount)))
            .collect();
        let date = self.report.bill_date.clone();
        for PayRow { no, bill } in &rows {
            let Some((attempt, amount)) = found.get(no) else {
                let d = Difference {
                    out_trade_no: no.clone(),
                    out_refund_no: None,
                    bill_fen: *bill,
                    books_fen: None,
                    note: "paid in the bill, no such order here".into(),
                };
                flag(
                    self.payments,
                    &mut self.report.unknown_payments,
                    &format!("{date}:unknown:{no}"),
                    d,
                )
                .await?;
                continue;
            };
            let books = Some(amount.get());
            let order = attempt.order_no.clone();
            self.seen_pays.push(digest(no));
            match attempt.state {
                // Paid here, that day or another (around midnight): the same payment.
                OrderState::Paid if *bill == books => self.report.matched += 1,
                OrderState::Paid => {
                    let d = Difference {
                        out_trade_no: order,
                        out_refund_no: None,
                        bill_fen: *bill,
                        books_fen: books,
                        note: format!("the bill's amount for attempt {no} is not the books'"),
                    };
                    flag(
                        self.payments,
                        &mut self.report.amount_mismatches,
                        &format!("{date}:amount:{no}"),
                        d,
                    )
                    .await?;
                }
                OrderState::Closed => {
                    // The query records PAID_AFTER_CLOSE (once), for a person to refund.
                    let note = match self.payments.query_attempt(no).await {
                        Ok(_) => format!(
                            "paid in the bill, attempt {no} closed here: PAID_AFTER_CLOSE recorded, refund the payer"
                        ),
                        Err(e) => format!(
                            "paid in the bill, attempt {no} closed here; orderquery failed: {e}"
                        ),
                    };
                    self.report.paid_after_close.push(Difference {
                        out_trade_no: order,
                        out_refund_no: None,
                        bill_fen: *bill,
                        books_fen: books,
                        note,
                    });
                }
                _ => {
                    // Paid in the bill, unpaid here: repaired as the sweeper repairs it.
                    let queried = self.payments.query_attempt(no).await;
                    let now_paid = matches!(
                        self.payments.store().attempt(no).await?,
                        Some(a) if a.state == OrderState::Paid
                    );
                    let note = match queried {
                        _ if now_paid => {
                            "paid in the bill, unpaid here: settled by orderquery".to_owned()
                        }
                        Ok(_) => "paid in the bill, but orderquery says unpaid".to_owned(),
                        Err(e) => format!("paid in the bill; orderquery failed: {e}"),
                    };
                    if !now_paid {
                        self.payments
                            .store()
                            .reconciliation_anomaly(
                                &format!("{date}:unpaid:{no}"),
                                Some(&order),
                                &note,
                            )
                            .await?;
                    }
                    self.report.repaired.push(Difference {
                        out_trade_no: order,
                        out_refund_no: None,
                        bill_fen: *bill,
                        books_fen: books,
                        note,
                    });
                }
            }
        }
        Ok(())
    }

    async fn flush_refunds(&mut self) -> Result<(), OpError> {
        if self.refunds.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.refunds);
        let numbers: Vec<&str> = rows.iter().map(|r| r.refund_no.as_str()).collect();
        let found: HashMap<String, _> = self
            .payments
            .store()
            .refunds_among(&numbers)
            .await?
            .into_iter()
            .map(|r| (r.out_refund_no.clone(), r))
            .collect();
        let date = self.report.bill_date.clone();
        for RefundRow {
            no,
            refund_no: rno,
            bill,
        } in &rows
        {
            let local = found.get(rno);
            if local.is_some() {
                self.seen_refunds.push(digest(rno));
            }
            let order = local.map_or_else(|| no.clone(), |r| r.out_trade_no.clone());
            match local {
                Some(r) if r.state == RefundState::Success && *bill == Some(r.amount.get()) => {
                    self.report.matched += 1;
                }
                Some(r) if r.state == RefundState::Success => {
                    let d = Difference {
                        out_trade_no: order,
                        out_refund_no: Some(rno.clone()),
                        bill_fen: *bill,
                        books_fen: Some(r.amount.get()),
                        note: "the bill's refund amount is not the books'".into(),
                    };
                    flag(
                        self.payments,
                        &mut self.report.amount_mismatches,
                        &format!("{date}:refund-amount:{rno}"),
                        d,
                    )
                    .await?;
                }
                Some(r) if r.state == RefundState::Processing => {
                    let note = match self.payments.resolve_refund(rno).await {
                        Ok(r) if r.state == RefundState::Success => {
                            "refunded in the bill, PROCESSING here: resolved by refundquery"
                                .to_owned()
                        }
                        Ok(r) => format!("refunded in the bill; refundquery says {}", r.state),
                        Err(e) => format!("refunded in the bill; refundquery failed: {e}"),
                    };
                    if !note.contains("resolved") {
                        self.payments
                            .store()
                            .reconciliation_anomaly(
                                &format!("{date}:refund:{rno}"),
                                Some(&order),
                                &note,
                            )
                            .await?;
                    }
                    self.report.repaired.push(Difference {
                        out_trade_no: order,
                        out_refund_no: Some(rno.clone()),
                        bill_fen: *bill,
                        books_fen: Some(r.amount.get()),
                        note,
                    });
                }
                other => {
                    let note = match other {
                        Some(r) => format!("refunded in the bill, {} here", r.state),
                        None => "refunded in the bill, no such refund here".into(),
                    };
                    let d = Difference {
                        out_trade_no: order,
                        out_refund_no: Some(rno.clone()),
                        bill_fen: *bill,
                        books_fen: None,
                        note,
                    };
                    flag(
                        self.payments,
                        &mut self.report.unknown_refunds,
                        &format!("{date}:refund:{rno}"),
                        d,
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }
}

/// Records a difference for a person (an anomaly, once per `reference`) and in the report.
async fn flag(
    payments: &Payments,
    list: &mut Vec<Difference>,
    reference: &str,
    d: Difference,
) -> Result<(), OpError> {
    payments
        .store()
        .reconciliation_anomaly(reference, Some(&d.out_trade_no), &d.note)
        .await?;
    list.push(d);
    Ok(())
}
