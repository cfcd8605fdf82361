//! What the back office and the sweeper read and mark, through [`Payments`]: the one door to
//! the store for the handlers and the sweeper, which never hold the store itself. Each is the
//! store's call, its error an [`OpError`]. (The reconciliation, an operation of its own that
//! reads the store in batches, still does.)

use crate::auth::{Authenticate, UserId};
use crate::domain::AnomalyKind;
use crate::payments::{OpError, Payments};
use crate::store::{Anomaly, AuditRow, Claimed, Counts, Refund};

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
    pub async fn refund_record(&self, out_refund_no: &str) -> Result<Refund, OpError> {
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
    ) -> Result<Vec<String>, OpError> {
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
        attempt_no: &str,
    ) -> Result<Option<crate::domain::OrderState>, OpError> {
        Ok(self.store().attempt(attempt_no).await?.map(|a| a.state))
    }

    /// The sweeper stops looking at an attempt.
    ///
    /// # Errors
    /// The store's.
    pub async fn stop_sweeping(&self, attempt_no: &str) -> Result<(), OpError> {
        Ok(self.store().stop_sweeping(attempt_no).await?)
    }
}
