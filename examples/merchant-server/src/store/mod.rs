//! Storage: every SQL statement of the server, on SQLite (a file) or PostgreSQL (several
//! instances), through sqlx's `Any` driver and one set of migrations (`migrations/`).
//!
//! The rules of the books live here, each once: the paid transition ([`Store::record_paid`]),
//! the refund reservation under the order's amount ([`Store::reserve_refund`]) and the refund
//! result ([`Store::record_refund_result`]). Every write transaction writes first, so that it
//! takes SQLite's write lock (or the order's row lock on PostgreSQL) before it reads.
//! Queries use `$1, $2, …` placeholders, each once and in order, which both backends accept.

mod attempts;
mod rows;

use sha2::{Digest, Sha256};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Row};
use tenpay_xml::{Fen, OutRefundNo};

use crate::config::DatabaseUrl;
use crate::domain::{
    AnomalyKind, AttemptState, OrderNo, OrderState, RefundState, UnknownState, money,
};
pub use attempts::{Cancel, Claimed, MAX_ATTEMPTS, NewAttempt};
pub use rows::{Anomaly, Attempt, AuditRow, NewOrder, Order, Refund};

/// At most this many refunds per order (WeChat Pay's limit).
pub const MAX_REFUNDS_PER_ORDER: i64 = 50;
/// What is kept of a refused delivery's body.
pub const REFUSED_BODY_PREFIX: usize = 1024;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A storage failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed or refused a statement.
    #[error("database")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("database migration")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value is not one the server writes.
    #[error("corrupt row")]
    Corrupt(#[from] UnknownState),
    /// A stored order, attempt or refund number that is not one the server writes.
    #[error("corrupt row: stored number")]
    CorruptNumber(#[from] tenpay_xml::IdError),
    /// An amount out of range (never written by the server).
    #[error("amount out of range")]
    Money(#[from] money::OutOfRange),
    /// The SQLite file could not be created.
    #[error("database file")]
    File(#[from] std::io::Error),
}

/// The connection pool.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    /// PostgreSQL (row locks with SKIP LOCKED) rather than SQLite (one writer at a time).
    postgres: bool,
}

/// Where a report of a payment or refund came from: the audit row's `kind`, and an order's
/// `paid_via`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// WeChat Pay's pay notification (signed).
    PayNotification,
    /// WeChat Pay's refund notification (encrypted; confirmed by refundquery).
    RefundNotification,
    /// An orderquery answer (signed).
    OrderQuery,
    /// A refundquery answer (signed).
    RefundQuery,
}

impl Source {
    /// The name stored in the audit trail: `pay`, `refund`, `orderquery`, `refundquery`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PayNotification => "pay",
            Self::RefundNotification => "refund",
            Self::OrderQuery => "orderquery",
            Self::RefundQuery => "refundquery",
        }
    }

    /// The name stored as a payment's `paid_via`: `notification` or `orderquery`.
    #[must_use]
    pub const fn paid_via(self) -> &'static str {
        match self {
            Self::PayNotification | Self::RefundNotification => "notification",
            Self::OrderQuery | Self::RefundQuery => "orderquery",
        }
    }
}

/// One delivery to a notify URL (or a verified query answer), for the audit trail.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    /// Where it came from.
    pub kind: Source,
    /// The body as received.
    pub body: &'a [u8],
    /// Whether its signature (or decryption) was verified; only then is the body kept whole.
    pub verified: bool,
}

/// What a verified payment did to the books.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentVerdict {
    /// The order moved to PAID (exactly once).
    Paid,
    /// Already paid with the same transaction: acknowledged, nothing changed.
    Duplicate(OrderState),
    /// The payer was charged and the books cannot take it: recorded for a person.
    Anomaly(AnomalyKind),
}

/// Why a verified report was not recorded (the change rolled back; WeChat Pay retries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No such order here.
    UnknownOrder,
    /// The report's amount is not the order's (recorded as an anomaly as well).
    AmountMismatch {
        /// The order's.
        expected: Fen,
        /// The report's.
        received: Fen,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnknownOrder => f.write_str("unknown order"),
            Self::AmountMismatch { expected, received } => {
                write!(
                    f,
                    "amount mismatch: order {expected} fen, paid {received} fen"
                )
            }
        }
    }
}

/// The outcome of a refund request, as [`Store::reserve_refund`] found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// A new refund, PROCESSING, holding its amount.
    Created(Refund),
    /// The same request was made before (same order, amount and reason): this is a repeat.
    Existing(Refund),
    /// No such order.
    UnknownOrder,
    /// Refused; nothing written.
    Conflict(String),
}

/// A refund's result as WeChat Pay reports it (refundquery, verified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundReport {
    /// The refund.
    pub out_refund_no: String,
    /// The number WeChat Pay's answer names: the attempt's `out_trade_no`. The audit row
    /// keeps it, as it keeps the number every delivery names.
    pub out_trade_no: String,
    /// Its business order (that attempt, mapped back).
    pub order_no: String,

    /// WeChat Pay's refund id.
    pub refund_id: String,
    /// The refunded amount.
    pub refund_fee: Fen,
    /// The state.
    pub state: RefundState,
}

/// Row counts for `/metrics`: `(label, count)` pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Orders by state.
    pub orders: Vec<(String, i64)>,
    /// Payment attempts by state.
    pub attempts: Vec<(String, i64)>,
    /// Refunds by state.
    pub refunds: Vec<(String, i64)>,
    /// Notifications by `kind:verified` or `kind:refused`.
    pub notifications: Vec<(String, i64)>,
    /// Unresolved anomalies by kind.
    pub open_anomalies: Vec<(String, i64)>,
}

/// What a refund report did to the books.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundVerdict {
    /// For the audit trail and the log.
    pub verdict: String,
    /// Anomalies recorded with it.
    pub anomalies: Vec<AnomalyKind>,
}

use crate::clock::unix_now as now;

/// `$1, $2, …, $n`.
fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `'A', 'B'` for an SQL `IN` list of states (their stored names: no input reaches it).
fn in_list<S: Copy + Into<&'static str>>(states: &[S]) -> String {
    states
        .iter()
        .map(|s| format!("'{}'", (*s).into()))
        .collect::<Vec<_>>()
        .join(", ")
}

type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

impl Store {
    /// Connects and brings the schema up to date. A SQLite file is created if absent, readable
    /// by its owner only.
    ///
    /// # Errors
    /// The database's.
    pub async fn connect(url: &DatabaseUrl) -> Result<Self, StoreError> {
        install_default_drivers();
        let sqlite = !url.is_postgres();
        let url = if sqlite {
            create_private_sqlite_file(url.expose())?;
            let u = url.expose();
            if u.contains("mode=") {
                u.to_owned()
            } else {
                format!("{u}{}mode=rwc", if u.contains('?') { "&" } else { "?" })
            }
        } else {
            url.expose().to_owned()
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite { 4 } else { 16 })
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect(&url)
            .await?;
        if sqlite {
            sqlx::query("PRAGMA journal_mode=WAL")
                .execute(&pool)
                .await?;
        }
        MIGRATOR.run(&pool).await?;
        Ok(Self {
            pool,
            postgres: !sqlite,
        })
    }

    // ----- payments -----

    /// A delivery that was refused (by verification, or by the books), with an anomaly when
    /// the refusal is one. `named`: the number the delivery named (kept in the audit row);
    /// the anomaly is filed under that attempt's business order.
    ///
    /// # Errors
    /// The database's.
    pub async fn record_refused(
        &self,
        evidence: Evidence<'_>,
        verdict: &str,
        named: Option<&str>,
        anomaly: Option<(AnomalyKind, &str, &str)>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        insert_audit(&mut tx, evidence, verdict, named).await?;
        if let Some((kind, reference, detail)) = anomaly {
            // The delivery names an attempt; the anomaly belongs to its business order.
            let order_no = match named {
                Some(no) => sqlx::query_scalar::<_, String>(
                    "SELECT order_no FROM attempts WHERE out_trade_no = $1",
                )
                .bind(no)
                .fetch_optional(&mut *tx)
                .await?
                .or_else(|| Some(no.to_owned())),
                None => None,
            };
            insert_anomaly(&mut tx, kind, reference, order_no.as_deref(), detail).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes refused deliveries received before `before` (Unix seconds); returns how many.
    ///
    /// # Errors
    /// The database's.
    pub async fn prune_refused(&self, before: i64) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("DELETE FROM notifications WHERE verified = 0 AND received_at < $1")
                .bind(before)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    // ----- sessions -----

    /// Records that `user_id`'s session tokens issued at or before `before_ms` are revoked
    /// (a later revocation replaces an earlier one).
    ///
    /// # Errors
    /// The database's.
    pub async fn revoke_sessions(&self, user_id: &str, before_ms: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO session_revocations (user_id, revoked_before) VALUES ($1, $2) \
             ON CONFLICT (user_id) DO UPDATE SET revoked_before = excluded.revoked_before",
        )
        .bind(user_id)
        .bind(before_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The revocations later than `since_ms` (older ones cover only expired tokens).
    ///
    /// # Errors
    /// The database's.
    pub async fn session_revocations(
        &self,
        since_ms: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT user_id, revoked_before FROM session_revocations WHERE revoked_before > $1",
        )
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    // ----- refunds -----

    /// Reserves a refund of `amount` on a paid order under its amount, or finds the same
    /// request made before. A different request under an existing `out_refund_no` (another
    /// order, amount or reason) is a conflict.
    ///
    /// # Errors
    /// The database's.
    pub async fn reserve_refund(
        &self,
        order_no: &OrderNo,
        out_refund_no: &OutRefundNo,
        amount: Fen,
        reason: Option<&str>,
    ) -> Result<Reservation, StoreError> {
        let (out_trade_no, out_refund_no) = (order_no.as_str(), out_refund_no.as_str());
        let mut tx = self.pool.begin().await?;
        // A no-op write first: it locks the order row (PostgreSQL) or the database (SQLite),
        // so requests for one order are checked one after the other.
        let found = sqlx::query("UPDATE orders SET state = state WHERE order_no = $1")
            .bind(out_trade_no)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if found == 0 {
            return Ok(Reservation::UnknownOrder);
        }
        if let Some(existing) = refund_in(&mut tx, out_refund_no).await? {
            return Ok(same_request(existing, out_trade_no, amount, reason));
        }
        let row = sqlx::query(
            "SELECT o.amount_fen, o.state, \
             (SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM refunds WHERE order_no = $1 AND state <> 'REFUNDCLOSE'), \
             (SELECT COUNT(*) FROM refunds WHERE order_no = $2) \
             FROM orders o WHERE o.order_no = $3",
        )
        .bind(out_trade_no)
        .bind(out_trade_no)
        .bind(out_trade_no)
        .fetch_one(&mut *tx)
        .await?;
        let order_amount = money::from_db(row.try_get(0)?)?;
        let state = OrderState::parse(&row.try_get::<String, _>(1)?)?;
        let held = money::from_db(row.try_get(2)?)?;
        let count: i64 = row.try_get(3)?;
        if !state.is_paid() {
            return Ok(Reservation::Conflict(format!("order is {state}, not paid")));
        }
        if count >= MAX_REFUNDS_PER_ORDER {
            return Ok(Reservation::Conflict(format!(
                "order has {count} refunds, WeChat Pay's limit"
            )));
        }
        let fits = money::add(held, amount).is_ok_and(|total| total <= order_amount);
        if !fits {
            return Ok(Reservation::Conflict(format!(
                "{amount} fen more does not fit: {held} fen of {order_amount} fen refunded or in progress"
            )));
        }
        let t = now();
        let inserted = sqlx::query(
            "INSERT INTO refunds (out_refund_no, order_no, amount_fen, reason, state, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'PROCESSING', $5, $6) ON CONFLICT (out_refund_no) DO NOTHING",
        )
        .bind(out_refund_no)
        .bind(out_trade_no)
        .bind(money::to_db(amount)?)
        .bind(reason)
        .bind(t)
        .bind(t)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        // A refund of another order took the number meanwhile.
        let refund = refund_in(&mut tx, out_refund_no)
            .await?
            .ok_or(sqlx::Error::RowNotFound)?;
        tx.commit().await?;
        if inserted == 0 {
            return Ok(same_request(refund, out_trade_no, amount, reason));
        }
        tracing::info!(
            order_no = out_trade_no,
            out_refund_no,
            amount_fen = amount.get(),
            state = "PROCESSING",
            "refund reserved"
        );
        Ok(Reservation::Created(refund))
    }

    /// Counts a submission to WeChat Pay before it is sent; returns how many there have been,
    /// this one included (1: the first).
    ///
    /// # Errors
    /// The database's.
    pub async fn begin_submission(&self, out_refund_no: &OutRefundNo) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "UPDATE refunds SET submissions = submissions + 1, updated_at = $1 WHERE out_refund_no = $2 RETURNING submissions",
        )
        .bind(now())
        .bind(out_refund_no.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    /// WeChat Pay accepted the refund: its id.
    ///
    /// # Errors
    /// The database's.
    pub async fn refund_accepted(
        &self,
        out_refund_no: &OutRefundNo,
        refund_id: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE refunds SET refund_id = $1, last_error = NULL, updated_at = $2 WHERE out_refund_no = $3")
            .bind(refund_id)
            .bind(now())
            .bind(out_refund_no.as_str())
            .execute(&self.pool)
            .await?;
        tracing::info!(%out_refund_no, refund_id, "refund accepted");
        Ok(())
    }

    /// WeChat Pay refused the first submission for good: PROCESSING → REFUNDCLOSE.
    ///
    /// # Errors
    /// The database's.
    pub async fn refund_rejected(
        &self,
        out_refund_no: &OutRefundNo,
        err_code: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE refunds SET state = 'REFUNDCLOSE', last_error = $1, updated_at = $2 WHERE out_refund_no = $3 AND state = 'PROCESSING'")
            .bind(err_code)
            .bind(now())
            .bind(out_refund_no.as_str())
            .execute(&self.pool)
            .await?;
        tracing::warn!(
            %out_refund_no,
            err_code,
            state = "REFUNDCLOSE",
            "refund rejected"
        );
        Ok(())
    }

    /// The submission's outcome is unknown: the refund stays as it is, with the reason.
    ///
    /// # Errors
    /// The database's.
    pub async fn refund_unknown(
        &self,
        out_refund_no: &OutRefundNo,
        why: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE refunds SET last_error = $1, updated_at = $2 WHERE out_refund_no = $3")
            .bind(why)
            .bind(now())
            .bind(out_refund_no.as_str())
            .execute(&self.pool)
            .await?;
        tracing::warn!(%out_refund_no, why = %crate::logging::Escaped(why), "refund outcome unknown");
        Ok(())
    }

    /// A refund's result as WeChat Pay reports it, with its evidence, in one transaction. A
    /// SUCCESS always wins over a local REFUNDCLOSE and is counted; what contradicts the books
    /// is recorded as an anomaly.
    ///
    /// # Errors
    /// The database's (nothing recorded).
    pub async fn record_refund_result(
        &self,
        evidence: Evidence<'_>,
        report: &RefundReport,
    ) -> Result<RefundVerdict, StoreError> {
        let mut tx = self.pool.begin().await?;
        let audit_id =
            insert_audit(&mut tx, evidence, "pending", Some(&report.out_trade_no)).await?;
        let result = self.apply_refund_report(&mut tx, report).await?;
        set_verdict(&mut tx, &audit_id, &result.verdict).await?;
        tx.commit().await?;
        Ok(result)
    }

    async fn apply_refund_report(
        &self,
        tx: &mut Tx<'_>,
        r: &RefundReport,
    ) -> Result<RefundVerdict, StoreError> {
        let mut anomalies = Vec::new();
        // The caller's transaction has written (the audit row) already, so SQLite's write lock
        // is held; on PostgreSQL the order's row is locked below, before its amounts are read.
        let Some(local) = refund_in(tx, &r.out_refund_no).await? else {
            let detail = format!(
                "WeChat Pay reports refund {} of order {} ({} fen, {}) that this server never made",
                r.out_refund_no, r.order_no, r.refund_fee, r.state
            );
            insert_anomaly(
                tx,
                AnomalyKind::UnknownRefund,
                &r.out_refund_no,
                Some(&r.order_no),
                &detail,
            )
            .await?;
            return Ok(RefundVerdict {
                verdict: "anomaly: UNKNOWN_REFUND".into(),
                anomalies: vec![AnomalyKind::UnknownRefund],
            });
        };
        // An answer without out_trade_no is about our refund's order.
        if !r.order_no.is_empty() && local.order_no.as_str() != r.order_no {
            let detail = format!(
                "refund {} belongs to order {} here, to {} at WeChat Pay",
                r.out_refund_no, local.order_no, r.order_no
            );
            insert_anomaly(
                tx,
                AnomalyKind::UnknownRefund,
                &r.out_refund_no,
                Some(local.order_no.as_str()),
                &detail,
            )
            .await?;
            return Ok(RefundVerdict {
                verdict: "anomaly: UNKNOWN_REFUND".into(),
                anomalies: vec![AnomalyKind::UnknownRefund],
            });
        }
        sqlx::query("UPDATE orders SET state = state WHERE order_no = $1")
            .bind(local.order_no.as_str())
            .execute(&mut **tx)
            .await?;
        // Read again under the lock: another instance may have recorded it meanwhile.
        let local = refund_in(tx, &r.out_refund_no).await?.unwrap_or(local);
        let order = local.order_no.clone();
        let row = sqlx::query("SELECT amount_fen, refunded_fen FROM orders WHERE order_no = $1")
            .bind(order.as_str())
            .fetch_one(&mut **tx)
            .await?;
        let facts = crate::domain::RefundFacts {
            state: local.state,
            amount: local.amount,
            order_amount: money::from_db(row.try_get(0)?)?,
            order_refunded: money::from_db(row.try_get(1)?)?,
        };
        let t = crate::domain::refund(
            facts,
            &r.out_refund_no,
            order.as_str(),
            r.state,
            r.refund_fee,
        )?;
        if let Some(state) = t.state {
            set_refund_state(tx, &r.out_refund_no, state, Some(&r.refund_id)).await?;
        }
        if let Some((refunded, state)) = t.order {
            sqlx::query("UPDATE orders SET refunded_fen = $1, state = $2 WHERE order_no = $3")
                .bind(money::to_db(refunded)?)
                .bind(state.as_str())
                .bind(order.as_str())
                .execute(&mut **tx)
                .await?;
            tracing::info!(
                out_trade_no = %order,
                refunded_fen = refunded.get(),
                state = state.as_str(),
                "order moved"
            );
        }
        for (kind, detail) in &t.anomalies {
            insert_anomaly(tx, *kind, &r.out_refund_no, Some(order.as_str()), detail).await?;
            anomalies.push(*kind);
        }
        let verdict = t.verdict;
        tracing::info!(
            out_trade_no = %order,
            out_refund_no = %r.out_refund_no,
            reported = r.state.as_str(),
            verdict,
            "refund result"
        );
        Ok(RefundVerdict { verdict, anomalies })
    }

    /// One refund.
    ///
    /// # Errors
    /// The database's.
    pub async fn refund(&self, out_refund_no: &OutRefundNo) -> Result<Option<Refund>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {} FROM refunds WHERE out_refund_no = $1",
            rows::REFUND_COLUMNS
        ))
        .bind(out_refund_no.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(rows::refund).transpose()
    }

    /// An order's refunds, oldest first.
    ///
    /// # Errors
    /// The database's.
    pub async fn refunds(&self, order_no: &OrderNo) -> Result<Vec<Refund>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM refunds WHERE order_no = $1 ORDER BY created_at, out_refund_no",
            rows::REFUND_COLUMNS
        ))
        .bind(order_no.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::refund).collect()
    }

    // ----- the audit trail and anomalies -----

    /// The audit trail, oldest first (optionally for one order).
    ///
    /// # Errors
    /// The database's.
    pub async fn audit(&self, out_trade_no: Option<&str>) -> Result<Vec<AuditRow>, StoreError> {
        let rows = match out_trade_no {
            Some(no) => {
                sqlx::query(&format!(
                    "SELECT {} FROM notifications WHERE out_trade_no = $1 \
                     OR out_trade_no IN (SELECT out_trade_no FROM attempts WHERE order_no = $2) ORDER BY id",
                    rows::AUDIT_COLUMNS
                ))
                .bind(no)
                .bind(no)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {} FROM notifications ORDER BY id",
                    rows::AUDIT_COLUMNS
                ))
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(rows::audit).collect()
    }

    /// The anomalies, oldest first (at most `limit`).
    ///
    /// # Errors
    /// The database's.
    pub async fn anomalies(&self, limit: i64) -> Result<Vec<Anomaly>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM anomalies ORDER BY id LIMIT $1",
            rows::ANOMALY_COLUMNS
        ))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::anomaly).collect()
    }

    // ----- reconciliation -----

    /// Attempts paid (`pay`) or refunds that reached SUCCESS in `[from, to)`, in pages:
    /// the time, the number and the amount, after the page that ended with `after` (`None`:
    /// the first page), at most `limit`.
    ///
    /// # Errors
    /// The database's.
    pub async fn settled_page(
        &self,
        pay: bool,
        from: i64,
        to: i64,
        after: Option<&(i64, String)>,
        limit: i64,
    ) -> Result<Vec<(i64, String, i64)>, StoreError> {
        let sql = if pay {
            "SELECT a.paid_at, a.out_trade_no, o.amount_fen FROM attempts a \
             JOIN orders o ON o.order_no = a.order_no \
             WHERE a.paid_at < $1 AND (a.paid_at, a.out_trade_no) > ($2, $3) \
             ORDER BY a.paid_at, a.out_trade_no LIMIT $4"
        } else {
            "SELECT updated_at, out_refund_no, amount_fen FROM refunds WHERE state = 'SUCCESS' \
             AND updated_at < $1 AND (updated_at, out_refund_no) > ($2, $3) \
             ORDER BY updated_at, out_refund_no LIMIT $4"
        };
        self.page(sql, from, to, after, limit).await
    }

    /// How many attempts were paid (`pay`), or refunds reached SUCCESS, in each minute of
    /// `[from, to)`: (minute since `from`, count), for the minutes that have any.
    ///
    /// # Errors
    /// The database's.
    pub async fn settled_per_minute(
        &self,
        pay: bool,
        from: i64,
        to: i64,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let sql = if pay {
            "SELECT (paid_at - $1) / 60, COUNT(*) FROM attempts \
             WHERE paid_at >= $2 AND paid_at < $3 GROUP BY 1"
        } else {
            "SELECT (updated_at - $1) / 60, COUNT(*) FROM refunds \
             WHERE state = 'SUCCESS' AND updated_at >= $2 AND updated_at < $3 GROUP BY 1"
        };
        let rows = sqlx::query(sql)
            .bind(from)
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// One page of `(time, number, amount)` rows in `[from, to)` after `after` (a row-value
    /// comparison, so that the index on `(time, number)` serves each page as a range).
    async fn page(
        &self,
        sql: &str,
        from: i64,
        to: i64,
        after: Option<&(i64, String)>,
        limit: i64,
    ) -> Result<Vec<(i64, String, i64)>, StoreError> {
        // Before the first page: just before `from`, and every number is greater than "".
        let (t, no) = after.map_or((from - 1, ""), |(t, no)| (*t, no.as_str()));
        let rows = sqlx::query(sql)
            .bind(to)
            .bind(t)
            .bind(no)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    /// The attempts among `numbers` (a batch of bill rows): each one's number, order, state,
    /// the order's amount, and when it was paid.
    ///
    /// # Errors
    /// The database's.
    pub async fn attempts_among(
        &self,
        numbers: &[&str],
    ) -> Result<Vec<(String, String, AttemptState, Fen, Option<i64>)>, StoreError> {
        if numbers.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT a.out_trade_no, a.order_no, a.state, o.amount_fen, a.paid_at FROM attempts a \
             JOIN orders o ON o.order_no = a.order_no WHERE a.out_trade_no IN ({})",
            placeholders(numbers.len())
        );
        let rows = numbers
            .iter()
            .fold(sqlx::query(&sql), |q, n| q.bind(*n))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get(0)?,
                    r.try_get(1)?,
                    AttemptState::parse(&r.try_get::<String, _>(2)?)?,
                    money::from_db(r.try_get(3)?)?,
                    r.try_get(4)?,
                ))
            })
            .collect()
    }

    /// How many attempts were paid in `[from, to)`, and how many refunds reached SUCCESS.
    ///
    /// # Errors
    /// The database's.
    pub async fn settled_counts(&self, from: i64, to: i64) -> Result<(u64, u64), StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM attempts WHERE paid_at >= $1 AND paid_at < $2), \
             (SELECT COUNT(*) FROM refunds WHERE state = 'SUCCESS' AND updated_at >= $3 AND updated_at < $4)",
        )
        .bind(from)
        .bind(to)
        .bind(from)
        .bind(to)
        .fetch_one(&self.pool)
        .await?;
        let n = |i: usize| -> Result<u64, StoreError> {
            Ok(u64::try_from(row.try_get::<i64, _>(i)?).unwrap_or(0))
        };
        Ok((n(0)?, n(1)?))
    }

    /// The refunds among `numbers`, for a batch of bill rows.
    ///
    /// # Errors
    /// The database's.
    pub async fn refunds_among(&self, numbers: &[&str]) -> Result<Vec<Refund>, StoreError> {
        if numbers.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {} FROM refunds WHERE out_refund_no IN ({})",
            rows::REFUND_COLUMNS,
            placeholders(numbers.len())
        );
        let rows = numbers
            .iter()
            .fold(sqlx::query(&sql), |q, n| q.bind(*n))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(rows::refund).collect()
    }

    /// Records a reconciliation difference for a person (once per reference).
    ///
    /// # Errors
    /// The database's.
    pub async fn reconciliation_anomaly(
        &self,
        reference: &str,
        out_trade_no: Option<&str>,
        detail: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        insert_anomaly(
            &mut tx,
            AnomalyKind::ReconciliationDifference,
            reference,
            out_trade_no,
            detail,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Keeps a date's report (replacing an earlier run's).
    ///
    /// # Errors
    /// The database's.
    pub async fn save_reconciliation(
        &self,
        bill_date: &str,
        report: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO reconciliations (bill_date, created_at, report) VALUES ($1, $2, $3) \
             ON CONFLICT (bill_date) DO UPDATE SET created_at = $2, report = $3",
        )
        .bind(bill_date)
        .bind(now())
        .bind(report)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A date's report (JSON), if reconciled.
    ///
    /// # Errors
    /// The database's.
    pub async fn reconciliation(&self, bill_date: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT report FROM reconciliations WHERE bill_date = $1")
            .bind(bill_date)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.try_get(0).map_err(StoreError::from))
            .transpose()
    }

    // ----- the sweeper -----

    /// Claims up to `limit` PROCESSING refunds last changed before `changed_before`, as
    /// [`Store::claim_unpaid`] does (the lease is `backoff`).
    ///
    /// # Errors
    /// The database's.
    pub async fn claim_processing_refunds(
        &self,
        now: i64,
        changed_before: i64,
        backoff: i64,
        limit: i64,
    ) -> Result<Vec<OutRefundNo>, StoreError> {
        let lock = if self.postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE refunds SET sweep_after = $1 + $3 \
             WHERE out_refund_no IN (SELECT out_refund_no FROM refunds \
               WHERE state = '{}' AND updated_at <= $2 AND sweep_after <= $1 \
               ORDER BY sweep_after LIMIT $4{lock}) \
             RETURNING out_refund_no",
            RefundState::Processing.as_str()
        );
        self.claim(&sql, [now, changed_before, backoff, limit])
            .await
    }

    /// Runs a claiming `UPDATE … RETURNING out_refund_no` with its four numbers bound as `$1`–`$4`.
    async fn claim(&self, sql: &str, binds: [i64; 4]) -> Result<Vec<OutRefundNo>, StoreError> {
        let rows = binds
            .into_iter()
            .fold(sqlx::query(sql), sqlx::query::Query::bind)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok(OutRefundNo::new(r.try_get::<String, _>(0)?)?))
            .collect()
    }

    /// Marks an anomaly resolved (once: a resolved one is not changed again).
    ///
    /// # Errors
    /// The database's. `Ok(false)`: no such unresolved anomaly.
    pub async fn resolve_anomaly(
        &self,
        kind: AnomalyKind,
        reference: &str,
        resolution: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE anomalies SET resolved_at = $1, resolution = $2 \
             WHERE kind = $3 AND reference = $4 AND resolved_at IS NULL",
        )
        .bind(now())
        .bind(resolution)
        .bind(kind.as_str())
        .bind(reference)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Rows per state (orders, refunds), per verdict (notifications), and open anomalies: what
    /// `/metrics` reports.
    ///
    /// # Errors
    /// The database's.
    pub async fn counts(&self) -> Result<Counts, StoreError> {
        let by = |sql: &'static str| async move {
            let rows = sqlx::query(sql).fetch_all(&self.pool).await?;
            rows.iter()
                .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
                .collect::<Result<Vec<_>, StoreError>>()
        };
        Ok(Counts {
            orders: by("SELECT state, COUNT(*) FROM orders GROUP BY state ORDER BY state").await?,
            attempts: by("SELECT state, COUNT(*) FROM attempts GROUP BY state ORDER BY state").await?,
            refunds: by("SELECT state, COUNT(*) FROM refunds GROUP BY state ORDER BY state").await?,
            notifications: by(
                "SELECT kind || ':' || CASE WHEN verified = 1 THEN 'verified' ELSE 'refused' END, COUNT(*) \
                 FROM notifications GROUP BY kind, verified ORDER BY 1",
            )
            .await?,
            open_anomalies: by(
                "SELECT kind, COUNT(*) FROM anomalies WHERE resolved_at IS NULL GROUP BY kind ORDER BY kind",
            )
            .await?,
        })
    }

    /// Whether the database answers.
    ///
    /// # Errors
    /// The database's.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

fn same_request(
    existing: Refund,
    order_no: &str,
    amount: Fen,
    reason: Option<&str>,
) -> Reservation {
    if existing.order_no.as_str() == order_no
        && existing.amount == amount
        && existing.reason.as_deref() == reason
    {
        Reservation::Existing(existing)
    } else {
        Reservation::Conflict(format!(
            "out_refund_no {} is a refund of {} fen of order {}: repeat it unchanged, or use a new number",
            existing.out_refund_no, existing.amount, existing.order_no
        ))
    }
}

async fn refund_in(tx: &mut Tx<'_>, out_refund_no: &str) -> Result<Option<Refund>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {} FROM refunds WHERE out_refund_no = $1",
        rows::REFUND_COLUMNS
    ))
    .bind(out_refund_no)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(rows::refund).transpose()
}

async fn set_refund_state(
    tx: &mut Tx<'_>,
    out_refund_no: &str,
    state: RefundState,
    refund_id: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE refunds SET state = $1, refund_id = COALESCE($2, refund_id), updated_at = $3 WHERE out_refund_no = $4")
        .bind(state.as_str())
        .bind(refund_id)
        .bind(now())
        .bind(out_refund_no)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Adds `fee` to the order's refunded amount (checked) and sets its paid state; whether it is
/// now refunded beyond its amount.
async fn insert_audit(
    tx: &mut Tx<'_>,
    e: Evidence<'_>,
    verdict: &str,
    out_trade_no: Option<&str>,
) -> Result<String, StoreError> {
    let id = uuid::Uuid::now_v7().to_string();
    let kept = if e.verified {
        e.body
    } else {
        &e.body[..e.body.len().min(REFUSED_BODY_PREFIX)]
    };
    sqlx::query(
        "INSERT INTO notifications (id, kind, received_at, verified, body_len, body_sha256, body, verdict, out_trade_no) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(e.kind.as_str())
    .bind(now())
    .bind(i64::from(e.verified))
    .bind(i64::try_from(e.body.len()).unwrap_or(i64::MAX))
    .bind(hex::encode(Sha256::digest(e.body)))
    .bind(String::from_utf8_lossy(kept).into_owned())
    .bind(verdict)
    .bind(out_trade_no)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

async fn set_verdict(tx: &mut Tx<'_>, id: &str, verdict: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE notifications SET verdict = $1 WHERE id = $2")
        .bind(verdict)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn insert_anomaly(
    tx: &mut Tx<'_>,
    kind: AnomalyKind,
    reference: &str,
    out_trade_no: Option<&str>,
    detail: &str,
) -> Result<(), StoreError> {
    let new = sqlx::query(
        "INSERT INTO anomalies (id, kind, reference, order_no, detail, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (kind, reference) DO NOTHING",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(kind.as_str())
    .bind(reference)
    .bind(out_trade_no)
    .bind(detail)
    .bind(now())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if new == 1 {
        tracing::error!(anomaly = kind.as_str(), out_trade_no, detail = %crate::logging::Escaped(detail), "anomaly recorded: a person must act");
    }
    Ok(())
}

/// Creates the SQLite file (owner read/write only) when it does not exist yet, so that
/// SQLite (which gives its `-wal` and `-shm` files the database's permissions) never makes
/// a world-readable database.
fn create_private_sqlite_file(url: &str) -> Result<(), std::io::Error> {
    let path = url
        .trim_start_matches("sqlite:")
        .trim_start_matches("//")
        .split('?')
        .next()
        .unwrap_or("");
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod migration_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A stored number the server would never write (edited by hand, say) is a corrupt row,
    /// not a value passed on to WeChat Pay.
    #[tokio::test]
    async fn a_stored_number_that_is_not_a_wechat_pay_number_is_a_corrupt_row() {
        install_default_drivers();
        let dir = std::env::temp_dir().join(format!("tenpay-corrupt-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("shop.db").display());
        let store = Store::connect(&DatabaseUrl::new(url).unwrap())
            .await
            .unwrap();
        let no = OrderNo::new("GOOD1").unwrap();
        store
            .insert_order(&NewOrder {
                order_no: no.clone(),
                user_id: "u1".into(),
                item: "coffee".into(),
                description: "Coffee".into(),
                amount: Fen::new(1500),
                trade_type: crate::domain::TradeType::Native,
                openid: None,
                payer_ip: "127.0.0.1".into(),
                expires_at: 400,
            })
            .await
            .unwrap();
        assert_eq!(store.order(&no).await.unwrap().unwrap().order_no, no);
        sqlx::query("UPDATE orders SET attempt = 'has space' WHERE order_no = 'GOOD1'")
            .execute(&store.pool)
            .await
            .unwrap();
        let read = store.order(&no).await;
        assert!(
            matches!(read, Err(StoreError::CorruptNumber(_))),
            "{read:?}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Rows written before `0007_order_no.sql` (orders, attempts, refunds, anomalies under
    /// `out_trade_no`) are read after it under `order_no`.
    #[tokio::test]
    async fn rows_from_before_the_rename_are_read_after_it() {
        install_default_drivers();
        let dir = std::env::temp_dir().join(format!("tenpay-migration-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("shop.db").display());
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .unwrap();
        let before = sqlx::migrate::Migrator {
            migrations: std::borrow::Cow::Owned(
                MIGRATOR
                    .migrations
                    .iter()
                    .filter(|m| m.version < 7)
                    .cloned()
                    .collect(),
            ),
            ..sqlx::migrate::Migrator::DEFAULT
        };
        before.run(&pool).await.unwrap();
        for sql in [
            "INSERT INTO orders (out_trade_no, user_id, item, description, amount_fen, trade_type, \
             payer_ip, state, created_at, attempt) \
             VALUES ('OLD1', 'u1', 'coffee', 'Coffee', 1500, 'NATIVE', '127.0.0.1', 'NOTPAY', 1, 'OLD1')",
            "INSERT INTO attempts (out_trade_no, order_no, seq, state, created_at, expires_at) \
             VALUES ('OLD1', 'OLD1', 1, 'NOTPAY', 1, 400)",
            "INSERT INTO refunds (out_refund_no, out_trade_no, amount_fen, state, created_at, updated_at) \
             VALUES ('R1', 'OLD1', 100, 'PROCESSING', 2, 2)",
            "INSERT INTO anomalies (id, kind, reference, out_trade_no, detail, created_at) \
             VALUES ('a1', 'SECOND_PAYMENT', 'T9', 'OLD1', 'seen', 3)",
        ] {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        pool.close().await;

        let store = Store::connect(&DatabaseUrl::new(url).unwrap())
            .await
            .unwrap();
        let old = OrderNo::new("OLD1").unwrap();
        let order = store.order(&old).await.unwrap().unwrap();
        assert_eq!(
            (order.order_no.as_str(), order.amount.get()),
            ("OLD1", 1500)
        );
        let refunds = store.refunds(&old).await.unwrap();
        assert_eq!(refunds.len(), 1);
        assert_eq!(refunds[0].order_no, old);
        let anomalies = store.anomalies(10).await.unwrap();
        assert_eq!(anomalies[0].order_no.as_deref(), Some("OLD1"));
        assert_eq!(
            store
                .attempt(&old.first_attempt())
                .await
                .unwrap()
                .unwrap()
                .order_no,
            old
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
