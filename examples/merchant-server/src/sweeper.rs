//! The sweeper: WeChat Pay's guidance is that a notification can be lost, so the merchant
//! queries what it has not heard about. On every instance, in the background:
//!
//! - payment attempts still unpaid some minutes after they were placed are queried
//!   (orderquery) and, when paid, settled exactly as a notification would settle them (the
//!   same transition and audit trail, `paid_via = orderquery`); those past their expiry, and
//!   those superseded (a newer attempt exists, or another attempt paid the order), are closed
//!   at WeChat Pay (closeorder) and here;
//! - refunds still PROCESSING (an unknown outcome included) are resolved with refundquery.
//!
//! Each row is claimed with a lease before it is looked at (SKIP LOCKED on PostgreSQL), so
//! instances sharing a database never look at one row at the same time, and a failure
//! (SYSTEMERROR, a timeout, WeChat Pay down) only waits for the lease to run out: nothing is
//! lost, and the lease grows with each look.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use crate::domain::AttemptState;
use crate::payments::{OpError, Payments};
use crate::store::Claimed;

pub use crate::config::SweepConfig;

/// What the sweeper did, for `/metrics`.
#[derive(Debug)]
pub struct SweepStats {
    /// When the stats were made (Unix seconds): the lag's start before the first sweep.
    pub started_at: i64,
    /// Sweeps run.
    pub sweeps: AtomicU64,
    /// Orders queried.
    pub orders_queried: AtomicU64,
    /// Orders found paid by the query.
    pub orders_found_paid: AtomicU64,
    /// Orders closed for being too old.
    pub orders_closed: AtomicU64,
    /// Refunds queried.
    pub refunds_queried: AtomicU64,
    /// Looks that failed (they are retried after their lease).
    pub errors: AtomicU64,
    /// When the last sweep finished (Unix seconds; 0: never).
    pub last_sweep_at: AtomicI64,
}

impl Default for SweepStats {
    fn default() -> Self {
        Self {
            started_at: now(),
            sweeps: AtomicU64::default(),
            orders_queried: AtomicU64::default(),
            orders_found_paid: AtomicU64::default(),
            orders_closed: AtomicU64::default(),
            refunds_queried: AtomicU64::default(),
            errors: AtomicU64::default(),
            last_sweep_at: AtomicI64::default(),
        }
    }
}

impl SweepStats {
    /// Seconds since the last sweep finished (since the stats were made, before the first):
    /// alert when it grows well past the interval.
    #[must_use]
    pub fn lag_seconds(&self) -> i64 {
        let last = self.last_sweep_at.load(Ordering::Relaxed);
        now().saturating_sub(if last == 0 { self.started_at } else { last })
    }
}

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Orders queried.
    pub orders_queried: u64,
    /// Found paid.
    pub orders_found_paid: u64,
    /// Closed.
    pub orders_closed: u64,
    /// Refunds queried.
    pub refunds_queried: u64,
    /// Failed looks.
    pub errors: u64,
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

use crate::clock::unix_now as now;

/// One sweep: claim, look, settle or close; then refunds.
///
/// # Errors
/// The database's, when claiming fails (a failed look is counted, not returned).
pub async fn sweep_once(payments: &Payments, cfg: &SweepConfig) -> Result<SweepReport, OpError> {
    let mut report = SweepReport::default();
    let at = now();
    let claimed = payments
        .claim_unpaid(
            at,
            at.saturating_sub(secs(cfg.unpaid_after)),
            secs(cfg.backoff).max(1),
            i64::from(cfg.batch),
        )
        .await?;
    let limit = Arc::new(tokio::sync::Semaphore::new(
        usize::try_from(cfg.concurrency.max(1)).unwrap_or(1),
    ));
    let mut looks = tokio::task::JoinSet::new();
    for claim in claimed {
        report.orders_queried += 1;
        let (payments, limit) = (payments.clone(), Arc::clone(&limit));
        looks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            look_at_attempt(&payments, &claim, at).await
        });
    }
    while let Some(done) = looks.join_next().await {
        match done {
            Ok(Ok(Look::FoundPaid)) => report.orders_found_paid += 1,
            Ok(Ok(Look::Closed)) => report.orders_closed += 1,
            Ok(Ok(Look::Nothing)) => {}
            Ok(Ok(Look::Failed)) => report.errors += 1,
            Ok(Err(e)) => return Err(e),
            Err(e) => {
                report.errors += 1;
                tracing::error!(error = %e, "sweeper: a look panicked");
            }
        }
    }
    let refunds = payments
        .claim_processing_refunds(
            at,
            at.saturating_sub(secs(cfg.refund_after)),
            secs(cfg.backoff).max(1),
            i64::from(cfg.batch),
        )
        .await?;
    for no in refunds {
        report.refunds_queried += 1;
        if let Err(e) = payments.resolve_refund(&no).await {
            report.errors += 1;
            tracing::warn!(out_refund_no = %no, error = %e, "sweeper: refundquery failed; retried after the lease");
        }
    }
    Ok(report)
}

/// What looking at one attempt did.
enum Look {
    FoundPaid,
    Closed,
    Nothing,
    /// Retried after the lease.
    Failed,
}

/// Queries one claimed attempt; closes it when it is expired or superseded.
async fn look_at_attempt(payments: &Payments, claim: &Claimed, at: i64) -> Result<Look, OpError> {
    let no = &claim.out_trade_no;
    match payments.query_attempt(no).await {
        Ok(true) => {
            tracing::info!(out_trade_no = %no, "sweeper: paid attempt found by query");
            return Ok(Look::FoundPaid);
        }
        Ok(false) => {}
        Err(e) => {
            tracing::warn!(out_trade_no = %no, error = %e, "sweeper: orderquery failed; retried after the lease");
            return Ok(Look::Failed);
        }
    }
    let superseded = claim.superseded;
    if claim.expires_at > at && !superseded {
        return Ok(Look::Nothing);
    }
    // Read again only for the few that are closed: the query may have settled it meanwhile.
    let Some(state) = payments.attempt_state(no).await? else {
        return Ok(Look::Nothing);
    };
    if !AttemptState::PAYABLE.contains(&state) {
        return Ok(Look::Nothing);
    }
    if !AttemptState::CLOSABLE.contains(&state) {
        // Expired and not closable (unifiedorder failed): nothing more to learn.
        payments.stop_sweeping(no).await?;
        return Ok(Look::Nothing);
    }
    match payments.close_attempt(no).await {
        Ok(()) => {
            tracing::info!(out_trade_no = %no, superseded, "sweeper: attempt closed");
            Ok(Look::Closed)
        }
        Err(e) => {
            tracing::warn!(out_trade_no = %no, error = %e, "sweeper: closing failed; retried after the lease");
            Ok(Look::Failed)
        }
    }
}

/// Sweeps every `interval` until the task is aborted.
pub(crate) async fn run(payments: Payments, cfg: SweepConfig, stats: Arc<SweepStats>) {
    loop {
        tokio::time::sleep(cfg.interval).await;
        match sweep_once(&payments, &cfg).await {
            Ok(r) => {
                let add = |c: &AtomicU64, n: u64| c.fetch_add(n, Ordering::Relaxed);
                add(&stats.sweeps, 1);
                add(&stats.orders_queried, r.orders_queried);
                add(&stats.orders_found_paid, r.orders_found_paid);
                add(&stats.orders_closed, r.orders_closed);
                add(&stats.refunds_queried, r.refunds_queried);
                add(&stats.errors, r.errors);
                stats.last_sweep_at.store(now(), Ordering::Relaxed);
            }
            Err(e) => {
                stats.errors.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, "sweeper: claiming failed");
            }
        }
    }
}
