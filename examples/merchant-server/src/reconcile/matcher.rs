//! Matching the bill's rows against the books in bounded memory. Payment rows are looked up
//! in batches (one query per [`BATCH`] rows, up to [`IN_FLIGHT`] batches at once while the
//! bill is read on); refund rows in batches too. What was seen of the day is kept as 16-byte
//! digests (16 MB at a million rows). The books' side of the day ("paid here, not in the
//! bill") is first counted: when the day's count in the books equals what the bill matched,
//! nothing is missing and nothing more is read; otherwise the books are counted per minute,
//! and only the minutes whose counts differ are paged through, each number looked up among
//! the digests.

use std::collections::HashMap;

use tokio::task::JoinSet;

use sha2::{Digest, Sha256};
use tenpay_client::BillRow;
use tenpay_xml::{OutRefundNo, OutTradeNo};

use super::{Difference, Report};
use crate::domain::{AttemptState, RefundState};
use crate::payments::{OpError, Payments};

/// Bill rows looked up per query.
pub(super) const BATCH: usize = 500;
/// Payment batches looked up at once.
pub(super) const IN_FLIGHT: usize = 3;
/// Rows of the books read per page.
const PAGE: i64 = 5_000;
const PAGE_LEN: usize = 5_000;

fn digest(no: &str) -> [u8; 16] {
    let d = Sha256::digest(no.as_bytes());
    let mut out = [0; 16];
    out.copy_from_slice(&d[..16]);
    out
}

/// Payments or refunds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Pay,
    Refund,
}

impl Side {
    fn is_pay(self) -> bool {
        self == Self::Pay
    }
}

/// What the bill matched of the day's books: a digest per number, and a count per minute.
#[derive(Debug, Default)]
struct Seen {
    digests: Vec<[u8; 16]>,
    /// Per minute of the day (1440).
    per_minute: Vec<u32>,
}

impl Seen {
    fn insert(&mut self, day_start: i64, at: i64, no: &str) {
        if self.per_minute.is_empty() {
            self.per_minute = vec![0; 1440];
        }
        if let Some(c) = usize::try_from((at - day_start) / 60)
            .ok()
            .and_then(|m| self.per_minute.get_mut(m))
        {
            *c += 1;
        }
        self.digests.push(digest(no));
    }

    /// Sorts the digests; whether the counts are exact (the bill named no number twice).
    fn finish(&mut self) -> bool {
        let n = self.digests.len();
        self.digests.sort_unstable();
        self.digests.dedup();
        n == self.digests.len()
    }
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

/// A looked-up batch: its rows and what the books have of them.
type Looked = (
    Vec<PayRow>,
    HashMap<String, (String, AttemptState, tenpay_xml::Fen, Option<i64>)>,
);

pub(super) struct Matcher<'a> {
    payments: &'a Payments,
    pub(super) report: Report,
    /// The day, `[start, end)` in Unix seconds.
    day: (i64, i64),
    pays: Vec<PayRow>,
    lookups: JoinSet<Result<Looked, OpError>>,
    refunds: Vec<RefundRow>,
    /// The day's payments and refunds in the books that the bill has.
    seen_pays: Seen,
    seen_refunds: Seen,
}

impl<'a> Matcher<'a> {
    pub(super) fn new(payments: &'a Payments, report: Report, day: (i64, i64)) -> Self {
        Self {
            payments,
            report,
            day,
            pays: Vec::with_capacity(BATCH),
            lookups: JoinSet::new(),
            refunds: Vec::with_capacity(BATCH),
            seen_pays: Seen::default(),
            seen_refunds: Seen::default(),
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
                    self.send_pays();
                    if self.lookups.len() >= IN_FLIGHT {
                        self.receive_pays().await?;
                    }
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

    /// After the last row: the rest of the batches, then the books' side of the day.
    pub(super) async fn finish(mut self) -> Result<Report, OpError> {
        self.send_pays();
        while !self.lookups.is_empty() {
            self.receive_pays().await?;
        }
        self.flush_refunds().await?;
        let (start, end) = self.day;
        let (paid, refunded) = self.payments.settled_counts(start, end).await?;
        let pays = std::mem::take(&mut self.seen_pays);
        self.missing(Side::Pay, pays, paid).await?;
        let refunds = std::mem::take(&mut self.seen_refunds);
        self.missing(Side::Refund, refunds, refunded).await?;
        Ok(self.report)
    }

    /// The day's payments (or refunds) in the books that the bill does not have. `books`: how
    /// many the books have that day. When the bill matched as many, none is missing; otherwise
    /// only the minutes whose counts differ are read.
    async fn missing(&mut self, side: Side, mut seen: Seen, books: u64) -> Result<(), OpError> {
        let exact = seen.finish();
        if exact && books == seen.digests.len() as u64 {
            return Ok(());
        }
        let (start, end) = self.day;
        let payments = self.payments;
        let counts = payments
            .settled_per_minute(side.is_pay(), start, end)
            .await?;
        let date = self.report.bill_date.clone();
        for (minute, n) in counts {
            let i = usize::try_from(minute).unwrap_or(usize::MAX);
            if exact && seen.per_minute.get(i).copied().map(i64::from) == Some(n) {
                continue;
            }
            let from = start + minute * 60;
            let to = (from + 60).min(end);
            let mut after = None;
            loop {
                let page = payments
                    .settled_page(side.is_pay(), from, to, after.as_ref(), PAGE)
                    .await?;
                for (_, no, amount) in &page {
                    if seen.digests.binary_search(&digest(no)).is_err() {
                        self.missing_one(side, no, *amount, &date).await?;
                    }
                }
                match page.last() {
                    Some((t, no, _)) if page.len() == PAGE_LEN => after = Some((*t, no.clone())),
                    _ => break,
                }
            }
        }
        Ok(())
    }

    async fn missing_one(
        &mut self,
        side: Side,
        no: &str,
        amount: i64,
        date: &str,
    ) -> Result<(), OpError> {
        let payments = self.payments;
        let (order, refund_no, note, list, reference) = match side {
            Side::Pay => (
                match OutTradeNo::new(no) {
                    Ok(number) => payments.attempt_record(&number).await?,
                    Err(_) => None,
                }
                .map_or_else(|| no.to_owned(), |a| a.order_no.to_string()),
                None,
                format!("attempt {no} paid here on {date}, not in WeChat Pay's bill"),
                &mut self.report.missing_payments,
                format!("{date}:pay:{no}"),
            ),
            Side::Refund => (
                match OutRefundNo::new(no) {
                    Ok(number) => payments.find_refund(&number).await?,
                    Err(_) => None,
                }
                .map(|r| r.order_no.to_string())
                .unwrap_or_default(),
                Some(no.to_owned()),
                format!("refunded here on {date}, not in WeChat Pay's bill"),
                &mut self.report.missing_refunds,
                format!("{date}:refund:{no}"),
            ),
        };
        let d = Difference {
            order_no: order,
            out_refund_no: refund_no,
            bill_fen: None,
            books_fen: u64::try_from(amount).ok(),
            note,
        };
        flag(self.payments, list, &reference, d).await
    }

    fn in_day(&self, t: Option<i64>) -> bool {
        t.is_some_and(|t| t >= self.day.0 && t < self.day.1)
    }

    /// Starts looking up the payment rows read so far.
    fn send_pays(&mut self) {
        if self.pays.is_empty() {
            return;
        }
        let rows = std::mem::replace(&mut self.pays, Vec::with_capacity(BATCH));
        let payments = self.payments.clone();
        self.lookups.spawn(async move {
            let numbers: Vec<&str> = rows.iter().map(|r| r.no.as_str()).collect();
            let found = payments
                .attempts_among(&numbers)
                .await?
                .into_iter()
                .map(|(no, order_no, state, amount, paid_at)| {
                    (no, (order_no, state, amount, paid_at))
                })
                .collect();
            Ok((rows, found))
        });
    }

    /// Matches the next looked-up batch.
    async fn receive_pays(&mut self) -> Result<(), OpError> {
        let Some(done) = self.lookups.join_next().await else {
            return Ok(());
        };
        let (rows, found) =
            done.map_err(|e| OpError::Invalid(format!("a bill lookup failed: {e}")))??;
        self.match_pays(&rows, &found).await
    }

    async fn match_pays(
        &mut self,
        rows: &[PayRow],
        found: &HashMap<String, (String, AttemptState, tenpay_xml::Fen, Option<i64>)>,
    ) -> Result<(), OpError> {
        let date = self.report.bill_date.clone();
        for PayRow { no, bill } in rows {
            // A number found among the attempts is one the server made (and so valid).
            let (Some((order_no, state, amount, paid_at)), Ok(number)) =
                (found.get(no), OutTradeNo::new(no.as_str()))
            else {
                let d = Difference {
                    order_no: no.clone(),
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
            let order = order_no.clone();
            if let Some(t) = paid_at.filter(|t| self.in_day(Some(*t))) {
                self.seen_pays.insert(self.day.0, t, no);
            }
            match state {
                // Paid here, that day or another (around midnight): the same payment.
                AttemptState::Paid if *bill == books => self.report.matched += 1,
                AttemptState::Paid => {
                    let d = Difference {
                        order_no: order,
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
                AttemptState::Closed => {
                    // The query records PAID_AFTER_CLOSE (once), for a person to refund.
                    let note = match self.payments.query_attempt(&number).await {
                        Ok(_) => format!(
                            "paid in the bill, attempt {no} closed here: PAID_AFTER_CLOSE recorded, refund the payer"
                        ),
                        Err(e) => format!(
                            "paid in the bill, attempt {no} closed here; orderquery failed: {e}"
                        ),
                    };
                    self.report.paid_after_close.push(Difference {
                        order_no: order,
                        out_refund_no: None,
                        bill_fen: *bill,
                        books_fen: books,
                        note,
                    });
                }
                _ => {
                    // Paid in the bill, unpaid here: repaired as the sweeper repairs it.
                    let queried = self.payments.query_attempt(&number).await;
                    let after = self.payments.attempt_record(&number).await?;
                    let now_paid = after
                        .as_ref()
                        .is_some_and(|a| a.state == AttemptState::Paid);
                    if let Some(t) = after
                        .and_then(|a| a.paid_at)
                        .filter(|t| self.in_day(Some(*t)))
                    {
                        self.seen_pays.insert(self.day.0, t, no);
                    }
                    let d = |note: String| Difference {
                        order_no: order.clone(),
                        out_refund_no: None,
                        bill_fen: *bill,
                        books_fen: books,
                        note,
                    };
                    match queried {
                        _ if now_paid && *bill == books => {
                            self.report
                                .repaired
                                .push(d("paid in the bill, unpaid here: settled by orderquery"
                                    .to_owned()))
                        }
                        // orderquery reported another amount than the books': recorded as
                        // AMOUNT_MISMATCH by the query, not settled.
                        Err(OpError::Conflict {
                            code: "amount_mismatch",
                            reason,
                        }) => self.report.amount_mismatches.push(d(format!(
                            "paid in the bill, unpaid here, and not settled: {reason}"
                        ))),
                        other => {
                            let note = match other {
                                _ if now_paid => format!(
                                    "paid in the bill, settled here by orderquery, but the bill's amount for attempt {no} is not the books'"
                                ),
                                Ok(_) => "paid in the bill, but orderquery says unpaid".to_owned(),
                                Err(e) => format!("paid in the bill; orderquery failed: {e}"),
                            };
                            let list = if now_paid {
                                &mut self.report.amount_mismatches
                            } else {
                                &mut self.report.unresolved
                            };
                            flag(self.payments, list, &format!("{date}:unpaid:{no}"), d(note))
                                .await?;
                        }
                    }
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
            .refunds_among(&numbers)
            .await?
            .into_iter()
            .map(|r| (r.out_refund_no.to_string(), r))
            .collect();
        let date = self.report.bill_date.clone();
        for RefundRow {
            no,
            refund_no: rno,
            bill,
        } in &rows
        {
            let local = found.get(rno);
            if let Some(r) =
                local.filter(|r| r.state == RefundState::Success && self.in_day(Some(r.updated_at)))
            {
                self.seen_refunds.insert(self.day.0, r.updated_at, rno);
            }
            let order = local.map_or_else(|| no.clone(), |r| r.order_no.to_string());
            match local {
                Some(r) if r.state == RefundState::Success && *bill == Some(r.amount.get()) => {
                    self.report.matched += 1;
                }
                Some(r) if r.state == RefundState::Success => {
                    let d = Difference {
                        order_no: order,
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
                    let resolved = self.payments.resolve_refund(&r.out_refund_no).await;
                    let d = |note: String| Difference {
                        order_no: order.clone(),
                        out_refund_no: Some(rno.clone()),
                        bill_fen: *bill,
                        books_fen: Some(r.amount.get()),
                        note,
                    };
                    match resolved {
                        Ok(after)
                            if after.state == RefundState::Success
                                && *bill == Some(r.amount.get()) =>
                        {
                            self.report.repaired.push(d(
                                "refunded in the bill, PROCESSING here: resolved by refundquery"
                                    .to_owned(),
                            ));
                        }
                        Ok(after) if after.state == RefundState::Success => {
                            flag(
                                self.payments,
                                &mut self.report.amount_mismatches,
                                &format!("{date}:refund-amount:{rno}"),
                                d("refunded in the bill, resolved by refundquery, but the bill's refund amount is not the books'".to_owned()),
                            )
                            .await?;
                        }
                        other => {
                            let note = match other {
                                Ok(after) => {
                                    format!(
                                        "refunded in the bill; refundquery says {}",
                                        after.state
                                    )
                                }
                                Err(e) => format!("refunded in the bill; refundquery failed: {e}"),
                            };
                            flag(
                                self.payments,
                                &mut self.report.unresolved,
                                &format!("{date}:refund:{rno}"),
                                d(note),
                            )
                            .await?;
                        }
                    }
                }
                other => {
                    let note = match other {
                        Some(r) => format!("refunded in the bill, {} here", r.state),
                        None => "refunded in the bill, no such refund here".into(),
                    };
                    let d = Difference {
                        order_no: order,
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
        .reconciliation_anomaly(reference, Some(&d.order_no), &d.note)
        .await?;
    list.push(d);
    Ok(())
}
