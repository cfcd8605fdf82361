//! What the back office, the sweeper and the reconciliation read and mark, through
//! [`Payments`]: the one door to the store and the client, which none of them holds itself.
//! Each is the store's (or the client's) call, its error an [`OpError`].

use crate::auth::{Authenticate, UserId};
use crate::domain::AnomalyKind;
use crate::payments::{OpError, Payments};
use tenpay_client::{BillOutcome, DownloadBill};
use tenpay_xml::{Fen, OutRefundNo, OutTradeNo};

use crate::domain::AttemptState;
use crate::store::{Anomaly, Attempt, AuditRow, Claimed, Counts, Refund};

impl Payments {
    /// Whether the database answers (`/readyz`).
    ///
    /// # Errors
    /// The store's.
    pub async fn ping(&self) -> Result<(), OpError> {
        Ok(self.store().ping().await?)
    }

    /// Row counts for `/metrics`.
    ///
    /// # Errors
    /// The store's.
    pub async fn counts(&self) -> Result<Counts, OpError> {
        Ok(self.store().counts().await?)
    }

    /// One refund as stored.
    ///
    /// # Errors
    /// [`OpError::UnknownRefund`]; the store's.
    pub async fn refund_record(&self, out_refund_no: &OutRefundNo) -> Result<Refund, OpError> {
        self.store()
            .refund(out_refund_no)
            .await?
            .ok_or(OpError::UnknownRefund)
    }

    /// The latest anomalies, at most `limit`.
    ///
    /// # Errors
    /// The store's.
    pub async fn anomalies(&self, limit: i64) -> Result<Vec<Anomaly>, OpError> {
        Ok(self.store().anomalies(limit).await?)
    }

    /// Records what a person did about an anomaly; `false`: no such unresolved anomaly.
    ///
    /// # Errors
    /// The store's.
    pub async fn resolve_anomaly(
        &self,
        kind: AnomalyKind,
        reference: &str,
        resolution: &str,
    ) -> Result<bool, OpError> {
        Ok(self
            .store()
            .resolve_anomaly(kind, reference, resolution)
            .await?)
    }

    /// The audit trail of one order (its attempts included).
    ///
    /// # Errors
    /// The store's.
    pub async fn audit(&self, order_no: &str) -> Result<Vec<AuditRow>, OpError> {
        Ok(self.store().audit(Some(order_no)).await?)
    }

    /// The kept reconciliation report of a day (JSON), if one was made.
    ///
    /// # Errors
    /// The store's.
    pub async fn kept_reconciliation(&self, bill_date: &str) -> Result<Option<String>, OpError> {
        Ok(self.store().reconciliation(bill_date).await?)
    }

    /// Revokes `user`'s sessions issued until now (see [`crate::auth::revoke`]); the cutoff.
    ///
    /// # Errors
    /// The store's.
    pub async fn revoke_sessions(
        &self,
        authenticator: &dyn Authenticate,
        user: &UserId,
    ) -> Result<i64, OpError> {
        Ok(crate::auth::revoke(self.store(), authenticator, user).await?)
    }

    /// Claims unpaid attempts for the sweeper (see [`crate::store::Store::claim_unpaid`]).
    ///
    /// # Errors
    /// The store's.
    pub async fn claim_unpaid(
        &self,
        now: i64,
        placed_before: i64,
        backoff: i64,
        limit: i64,
    ) -> Result<Vec<Claimed>, OpError> {
        Ok(self
            .store()
            .claim_unpaid(now, placed_before, backoff, limit)
            .await?)
    }

    /// Claims PROCESSING refunds for the sweeper (see
    /// [`crate::store::Store::claim_processing_refunds`]).
    ///
    /// # Errors
    /// The store's.
    pub async fn claim_processing_refunds(
        &self,
        now: i64,
        changed_before: i64,
        backoff: i64,
        limit: i64,
    ) -> Result<Vec<OutRefundNo>, OpError> {
        Ok(self
            .store()
            .claim_processing_refunds(now, changed_before, backoff, limit)
            .await?)
    }

    /// An attempt's state, if it exists.
    ///
    /// # Errors
    /// The store's.
    pub async fn attempt_state(
        &self,
        attempt_no: &OutTradeNo,
    ) -> Result<Option<AttemptState>, OpError> {
        Ok(self.store().attempt(attempt_no).await?.map(|a| a.state))
    }

    /// The sweeper stops looking at an attempt.
    ///
    /// # Errors
    /// The store's.
    pub async fn stop_sweeping(&self, attempt_no: &OutTradeNo) -> Result<(), OpError> {
        Ok(self.store().stop_sweeping(attempt_no).await?)
    }
}

/// What the reconciliation reads and records: the day's settled books in pages and per
/// minute, the rows a bill's batch names, its anomalies and its report; and the bill itself.
impl Payments {
    /// How many payments and refunds the books settled in `[from, to)`.
    ///
    /// # Errors
    /// The store's.
    pub async fn settled_counts(&self, from: i64, to: i64) -> Result<(u64, u64), OpError> {
        Ok(self.store().settled_counts(from, to).await?)
    }

    /// Settlements per minute of `[from, to)` (payments when `pay`, else refunds).
    ///
    /// # Errors
    /// The store's.
    pub async fn settled_per_minute(
        &self,
        pay: bool,
        from: i64,
        to: i64,
    ) -> Result<Vec<(i64, i64)>, OpError> {
        Ok(self.store().settled_per_minute(pay, from, to).await?)
    }

    /// A page of settlements in `[from, to)` after `after`: (time, number, amount in fen).
    ///
    /// # Errors
    /// The store's.
    pub async fn settled_page(
        &self,
        pay: bool,
        from: i64,
        to: i64,
        after: Option<&(i64, String)>,
        limit: i64,
    ) -> Result<Vec<(i64, String, i64)>, OpError> {
        Ok(self
            .store()
            .settled_page(pay, from, to, after, limit)
            .await?)
    }

    /// One attempt as stored.
    ///
    /// # Errors
    /// The store's.
    pub async fn attempt_record(
        &self,
        attempt_no: &OutTradeNo,
    ) -> Result<Option<Attempt>, OpError> {
        Ok(self.store().attempt(attempt_no).await?)
    }

    /// One refund as stored, if there is one.
    ///
    /// # Errors
    /// The store's.
    pub async fn find_refund(
        &self,
        out_refund_no: &OutRefundNo,
    ) -> Result<Option<Refund>, OpError> {
        Ok(self.store().refund(out_refund_no).await?)
    }

    /// The attempts among `numbers`: (attempt, order, state, amount, paid at).
    ///
    /// # Errors
    /// The store's.
    pub async fn attempts_among(
        &self,
        numbers: &[&str],
    ) -> Result<Vec<(String, String, AttemptState, Fen, Option<i64>)>, OpError> {
        Ok(self.store().attempts_among(numbers).await?)
    }

    /// The refunds among `numbers`.
    ///
    /// # Errors
    /// The store's.
    pub async fn refunds_among(&self, numbers: &[&str]) -> Result<Vec<Refund>, OpError> {
        Ok(self.store().refunds_among(numbers).await?)
    }

    /// Records a reconciliation difference as an anomaly (once per reference).
    ///
    /// # Errors
    /// The store's.
    pub async fn reconciliation_anomaly(
        &self,
        reference: &str,
        order_no: Option<&str>,
        detail: &str,
    ) -> Result<(), OpError> {
        Ok(self
            .store()
            .reconciliation_anomaly(reference, order_no, detail)
            .await?)
    }

    /// Keeps a day's report (JSON).
    ///
    /// # Errors
    /// The store's.
    pub async fn save_reconciliation(&self, bill_date: &str, report: &str) -> Result<(), OpError> {
        Ok(self.store().save_reconciliation(bill_date, report).await?)
    }

    /// Streams a bill to `out` (timed as `downloadbill`).
    ///
    /// # Errors
    /// The client's.
    pub async fn download_bill_to<W>(
        &self,
        request: &DownloadBill,
        out: &mut W,
    ) -> Result<BillOutcome<u64>, tenpay_client::Error>
    where
        W: tokio::io::AsyncWrite + Unpin + Send,
    {
        self.latency()
            .time("downloadbill", self.client().download_bill_to(request, out))
            .await
    }
}
