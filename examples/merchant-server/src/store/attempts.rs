//! Orders and their payment attempts: placing, re-paying, the paid transition, failures,
//! closing, and the sweeper's claims.
//!
//! A business order (`orders`) is paid through attempts (`attempts`), each its own
//! `out_trade_no` at WeChat Pay; the first attempt's number is the order's. Every attempt
//! transition also moves the order when the attempt is the order's current one, so an unpaid
//! order's state is its current attempt's; a paid order stays paid whatever its other
//! attempts do.

use sqlx::Row;
use tenpay_xml::{Fen, OutTradeNo};

use super::rows::{self, Attempt, NewOrder, Order};
use super::{
    Evidence, PaymentVerdict, Refusal, Store, StoreError, Tx, in_list, insert_anomaly,
    insert_audit, now, set_verdict,
};
use crate::domain::{
    AttemptState, OrderNo, OrderState, PaymentFacts as Facts, PaymentTransition, money,
};

/// At most this many attempts per order.
pub const MAX_ATTEMPTS: i64 = 20;

/// What asking for a new attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewAttempt {
    /// A new attempt, NEW, now the order's current one.
    Created(Attempt),
    /// No such order.
    UnknownOrder,
    /// The order cannot be paid again (it is paid, or has too many attempts); nothing written.
    Refused(String),
    /// The merchant cancelled the order: final.
    Cancelled,
}

/// What [`Store::cancel_order`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancel {
    /// The order is CANCELLED now.
    Cancelled,
    /// No such order.
    UnknownOrder,
    /// An attempt is still open (one was created meanwhile): close it first.
    OpenAttempt,
    /// The order is paid, or cancelled already; nothing written.
    NotCancellable,
}

/// An attempt the sweeper claimed, with what it decides on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// The attempt's number.
    pub out_trade_no: OutTradeNo,
    /// When it expires (Unix seconds).
    pub expires_at: i64,
    /// Its order is paid, or has a newer current attempt: close it now.
    pub superseded: bool,
}

async fn facts(tx: &mut Tx<'_>, attempt_no: &str) -> Result<Option<Facts>, StoreError> {
    let row = sqlx::query(
        "SELECT a.order_no, o.amount_fen, a.state, a.transaction_id, o.state, o.transaction_id, o.paid_attempt \
         FROM attempts a JOIN orders o ON o.order_no = a.order_no WHERE a.out_trade_no = $1",
    )
    .bind(attempt_no)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|row| {
        Ok(Facts {
            order_no: row.try_get(0)?,
            amount: money::from_db(row.try_get(1)?)?,
            attempt_state: AttemptState::parse(&row.try_get::<String, _>(2)?)?,
            attempt_tx: row.try_get(3)?,
            order_state: OrderState::parse(&row.try_get::<String, _>(4)?)?,
            order_tx: row.try_get(5)?,
            paid_attempt: row.try_get(6)?,
        })
    })
    .transpose()
}

/// Moves an attempt from one of `from` to `to` (keeping a prepay id when given), and its
/// order too when it is the order's current attempt and in one of `from`. Whether the attempt
/// moved.
async fn move_attempt(
    tx: &mut Tx<'_>,
    attempt_no: &str,
    to: AttemptState,
    from: &[AttemptState],
    prepay_id: Option<&str>,
) -> Result<bool, StoreError> {
    let list = in_list(from);
    // The order follows its current attempt while unpaid.
    let order_from: Vec<OrderState> = from.iter().map(|s| s.order_state()).collect();
    let order_list = in_list(&order_from);
    let row = sqlx::query(&format!(
        "UPDATE attempts SET state = $1, prepay_id = COALESCE($2, prepay_id) \
         WHERE out_trade_no = $3 AND state IN ({list}) RETURNING order_no"
    ))
    .bind(to.as_str())
    .bind(prepay_id)
    .bind(attempt_no)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else { return Ok(false) };
    let order_no: String = row.try_get(0)?;
    sqlx::query(&format!(
        "UPDATE orders SET state = $1, prepay_id = COALESCE($2, prepay_id) \
         WHERE order_no = $3 AND attempt = $4 AND state IN ({order_list})"
    ))
    .bind(to.order_state().as_str())
    .bind(prepay_id)
    .bind(&order_no)
    .bind(attempt_no)
    .execute(&mut **tx)
    .await?;
    tracing::info!(
        out_trade_no = attempt_no,
        order_no,
        state = to.as_str(),
        "attempt moved"
    );
    Ok(true)
}

impl Store {
    /// Stores a new order (NEW) and its first attempt, under the order's own number.
    ///
    /// # Errors
    /// The database's (a duplicate `out_trade_no` included).
    pub async fn insert_order(&self, o: &NewOrder) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let t = now();
        sqlx::query(
            "INSERT INTO orders (order_no, user_id, item, description, amount_fen, trade_type, openid, payer_ip, state, created_at, attempt) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(o.order_no.as_str())
        .bind(&o.user_id)
        .bind(&o.item)
        .bind(&o.description)
        .bind(money::to_db(o.amount)?)
        .bind(o.trade_type.as_str())
        .bind(&o.openid)
        .bind(&o.payer_ip)
        .bind(OrderState::New.as_str())
        .bind(t)
        .bind(o.order_no.as_str())
        .execute(&mut *tx)
        .await?;
        let first = o.order_no.first_attempt();
        insert_attempt(&mut tx, &first, &o.order_no, 1, t, o.expires_at).await?;
        tx.commit().await?;
        tracing::info!(out_trade_no = %o.order_no, state = "NEW", "order created");
        Ok(())
    }

    /// A new attempt for an unpaid order (its number: the order's, `-` and the attempt's
    /// sequence number), made the order's current one; the order is NEW again. The caller has
    /// closed the previous attempt, or failed to and leaves it to the sweeper.
    ///
    /// # Errors
    /// The database's.
    pub async fn new_attempt(
        &self,
        order_no: &OrderNo,
        expires_at: i64,
    ) -> Result<NewAttempt, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Locks the order (see `reserve_refund`).
        let found = sqlx::query("UPDATE orders SET state = state WHERE order_no = $1")
            .bind(order_no.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if found == 0 {
            return Ok(NewAttempt::UnknownOrder);
        }
        let row = sqlx::query(
            "SELECT o.state, (SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM attempts WHERE order_no = $1) \
             FROM orders o WHERE o.order_no = $2",
        )
        .bind(order_no.as_str())
        .bind(order_no.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let state = OrderState::parse(&row.try_get::<String, _>(0)?)?;
        let last: i64 = row.try_get(1)?;
        if state.is_paid() {
            return Ok(NewAttempt::Refused(format!("order is {state}")));
        }
        if state == OrderState::Cancelled {
            return Ok(NewAttempt::Cancelled);
        }
        let number = order_no
            .attempt_no(last + 1)
            .filter(|_| last < MAX_ATTEMPTS);
        let Some(number) = number else {
            return Ok(NewAttempt::Refused(format!(
                "order has {last} attempts; place a new order"
            )));
        };
        let t = now();
        insert_attempt(&mut tx, &number, order_no, last + 1, t, expires_at).await?;
        sqlx::query(
            "UPDATE orders SET attempt = $1, state = 'NEW', prepay_id = NULL WHERE order_no = $2",
        )
        .bind(number.as_str())
        .bind(order_no.as_str())
        .execute(&mut *tx)
        .await?;
        let attempt = attempt_in(&mut tx, &number)
            .await?
            .ok_or(sqlx::Error::RowNotFound)?;
        tx.commit().await?;
        tracing::info!(out_trade_no = %number, %order_no, "attempt created");
        Ok(NewAttempt::Created(attempt))
    }

    /// Cancels an order for good: CLOSED / NEW / NOTPAY / PAYERROR / FAILED → CANCELLED, when
    /// none of its attempts can still be paid (the caller closed them at WeChat Pay first).
    ///
    /// # Errors
    /// The database's.
    pub async fn cancel_order(&self, order_no: &OrderNo) -> Result<Cancel, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Locks the order (see `reserve_refund`): a new attempt waits, then sees CANCELLED.
        let found = sqlx::query("UPDATE orders SET state = state WHERE order_no = $1")
            .bind(order_no.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if found == 0 {
            return Ok(Cancel::UnknownOrder);
        }
        let open: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM attempts WHERE order_no = $1 AND state IN ({})",
            in_list(&AttemptState::CLOSABLE)
        ))
        .bind(order_no.as_str())
        .fetch_one(&mut *tx)
        .await?;
        if open > 0 {
            return Ok(Cancel::OpenAttempt);
        }
        let mut from = OrderState::CLOSABLE.to_vec();
        from.extend([OrderState::Closed, OrderState::Failed]);
        let moved = sqlx::query(&format!(
            "UPDATE orders SET state = 'CANCELLED' WHERE order_no = $1 AND state IN ({})",
            in_list(&from)
        ))
        .bind(order_no.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        if moved == 1 {
            tracing::info!(
                order_no = %order_no,
                state = "CANCELLED",
                "order cancelled"
            );
            Ok(Cancel::Cancelled)
        } else {
            Ok(Cancel::NotCancellable)
        }
    }

    /// An attempt's NEW → NOTPAY, with the prepay id.
    ///
    /// # Errors
    /// The database's.
    pub async fn attempt_prepared(
        &self,
        attempt_no: &OutTradeNo,
        prepay_id: &str,
    ) -> Result<(), StoreError> {
        self.move_attempt(
            attempt_no,
            AttemptState::NotPay,
            &[AttemptState::New],
            Some(prepay_id),
        )
        .await
        .map(drop)
    }

    /// An attempt's NEW → FAILED (WeChat Pay refused it for good).
    ///
    /// # Errors
    /// The database's.
    pub async fn attempt_failed(&self, attempt_no: &OutTradeNo) -> Result<(), StoreError> {
        self.move_attempt(attempt_no, AttemptState::Failed, &[AttemptState::New], None)
            .await
            .map(drop)
    }

    /// An attempt's NEW / NOTPAY / PAYERROR → CLOSED (closed at WeChat Pay, or never placed
    /// there); whether it moved.
    ///
    /// # Errors
    /// The database's.
    pub async fn close_attempt(&self, attempt_no: &OutTradeNo) -> Result<bool, StoreError> {
        self.move_attempt(
            attempt_no,
            AttemptState::Closed,
            &AttemptState::CLOSABLE,
            None,
        )
        .await
    }

    async fn move_attempt(
        &self,
        attempt_no: &OutTradeNo,
        to: AttemptState,
        from: &[AttemptState],
        prepay_id: Option<&str>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let moved = move_attempt(&mut tx, attempt_no.as_str(), to, from, prepay_id).await?;
        tx.commit().await?;
        Ok(moved)
    }

    /// One order.
    ///
    /// # Errors
    /// The database's.
    pub async fn order(&self, order_no: &OrderNo) -> Result<Option<Order>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {} FROM orders WHERE order_no = $1",
            rows::ORDER_COLUMNS
        ))
        .bind(order_no.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(rows::order).transpose()
    }

    /// One order, if it belongs to `user_id`.
    ///
    /// # Errors
    /// The database's.
    pub async fn order_of(
        &self,
        user_id: &str,
        order_no: &OrderNo,
    ) -> Result<Option<Order>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {} FROM orders WHERE order_no = $1 AND user_id = $2",
            rows::ORDER_COLUMNS
        ))
        .bind(order_no.as_str())
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(rows::order).transpose()
    }

    /// One attempt, by its number at WeChat Pay.
    ///
    /// # Errors
    /// The database's.
    pub async fn attempt(&self, attempt_no: &OutTradeNo) -> Result<Option<Attempt>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {} FROM attempts WHERE out_trade_no = $1",
            rows::ATTEMPT_COLUMNS
        ))
        .bind(attempt_no.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(rows::attempt).transpose()
    }

    /// An order's attempts, first first.
    ///
    /// # Errors
    /// The database's.
    pub async fn attempts(&self, order_no: &OrderNo) -> Result<Vec<Attempt>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM attempts WHERE order_no = $1 ORDER BY seq",
            rows::ATTEMPT_COLUMNS
        ))
        .bind(order_no.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::attempt).collect()
    }

    /// A verified successful payment of attempt `attempt_no`, with the evidence, in one
    /// transaction: the audit row, the amount check (`settle` gets the order's amount and
    /// returns the transaction id, or refuses), and the one transition to PAID of the attempt
    /// and of its order. A payment the books cannot take is an anomaly, recorded with it: the
    /// attempt was closed (paid after close), or the order is paid by another attempt or
    /// transaction (a second payment).
    ///
    /// `Ok(Err(_))`: refused and rolled back; the caller records the evidence with
    /// [`Store::record_refused`].
    ///
    /// # Errors
    /// The database's (nothing recorded).
    pub async fn record_paid(
        &self,
        evidence: Evidence<'_>,
        attempt_no: &OutTradeNo,
        settle: impl FnOnce(Fen) -> Result<String, Fen>,
    ) -> Result<Result<PaymentVerdict, Refusal>, StoreError> {
        let attempt_no = attempt_no.as_str();
        let via = evidence.kind.paid_via();
        let mut tx = self.pool.begin().await?;
        let audit_id = insert_audit(&mut tx, evidence, "pending", Some(attempt_no)).await?;
        // The attempt's row, then its order's, locked (the order every writer that takes both
        // follows), so that the facts stay what they are read as until the commit.
        let locked = sqlx::query(
            "UPDATE attempts SET state = state WHERE out_trade_no = $1 RETURNING order_no",
        )
        .bind(attempt_no)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(locked) = locked else {
            return Ok(Err(Refusal::UnknownOrder));
        };
        let order_no: String = locked.try_get(0)?;
        sqlx::query("UPDATE orders SET state = state WHERE order_no = $1")
            .bind(&order_no)
            .execute(&mut *tx)
            .await?;
        let Some(f) = facts(&mut tx, attempt_no).await? else {
            return Ok(Err(Refusal::UnknownOrder));
        };
        let transaction_id = match settle(f.amount) {
            Ok(t) => t,
            Err(received) => {
                return Ok(Err(Refusal::AmountMismatch {
                    expected: f.amount,
                    received,
                }));
            }
        };
        let t = now();
        let transition = crate::domain::payment(&f, attempt_no, &transaction_id);
        if matches!(
            transition,
            PaymentTransition::Pay | PaymentTransition::PayAttemptOnly(..)
        ) {
            let moved = sqlx::query(
                "UPDATE attempts SET state = 'PAID', transaction_id = $1, paid_at = $2, paid_via = $3 \
                 WHERE out_trade_no = $4",
            )
            .bind(&transaction_id)
            .bind(t)
            .bind(via)
            .bind(attempt_no)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            debug_assert_eq!(moved, 1, "the attempt's row is locked");
        }
        if transition == PaymentTransition::Pay {
            sqlx::query(
                "UPDATE orders SET state = 'PAID', transaction_id = $1, paid_at = $2, paid_via = $3, paid_attempt = $4 \
                 WHERE order_no = $5",
            )
            .bind(&transaction_id)
            .bind(t)
            .bind(via)
            .bind(attempt_no)
            .bind(&f.order_no)
            .execute(&mut *tx)
            .await?;
        }
        let outcome = match transition {
            PaymentTransition::Pay => Ok(PaymentVerdict::Paid),
            PaymentTransition::Duplicate(state) => Ok(PaymentVerdict::Duplicate(state)),
            PaymentTransition::PayAttemptOnly(kind, detail)
            | PaymentTransition::Anomaly(kind, detail) => Err((kind, detail)),
        };
        let order_no = f.order_no;
        // A payment the books cannot take: recorded for a person, once per transaction.
        let verdict = match outcome {
            Ok(v) => v,
            Err((kind, detail)) => {
                insert_anomaly(&mut tx, kind, &transaction_id, Some(&order_no), &detail).await?;
                PaymentVerdict::Anomaly(kind)
            }
        };
        let text = match &verdict {
            PaymentVerdict::Paid => "paid".to_owned(),
            PaymentVerdict::Duplicate(s) => format!("duplicate: order already {s}"),
            PaymentVerdict::Anomaly(k) => format!("anomaly: {k}"),
        };
        set_verdict(&mut tx, &audit_id, &text).await?;
        tx.commit().await?;
        Ok(Ok(verdict))
    }

    /// A verified failed payment: the attempt (and its order, if current) NEW / NOTPAY →
    /// PAYERROR, with its audit row. Returns the verdict.
    ///
    /// # Errors
    /// The database's (nothing recorded).
    pub async fn record_pay_failure(
        &self,
        evidence: Evidence<'_>,
        attempt_no: &OutTradeNo,
        err_code: &str,
    ) -> Result<String, StoreError> {
        let attempt_no = attempt_no.as_str();
        let mut tx = self.pool.begin().await?;
        let audit_id = insert_audit(&mut tx, evidence, "pending", Some(attempt_no)).await?;
        let moved = move_attempt(
            &mut tx,
            attempt_no,
            AttemptState::PayError,
            &[AttemptState::New, AttemptState::NotPay],
            None,
        )
        .await?;
        let verdict = format!(
            "payment failed: {err_code} ({})",
            if moved { "recorded" } else { "order unchanged" }
        );
        set_verdict(&mut tx, &audit_id, &verdict).await?;
        tx.commit().await?;
        Ok(verdict)
    }

    /// Claims up to `limit` attempts still payable and placed before `placed_before` whose
    /// next look is due, and pushes that look into the future (a lease, growing with each
    /// look: `backoff` × (looks + 1), at most 11 ×). On PostgreSQL the candidates are locked
    /// with SKIP LOCKED, so instances sharing the database claim disjoint rows; SQLite has one
    /// writer at a time. Each claimed attempt comes with what the sweeper decides on, read in
    /// the same statement: when it expires, and whether it is superseded.
    ///
    /// # Errors
    /// The database's.
    pub async fn claim_unpaid(
        &self,
        now: i64,
        placed_before: i64,
        backoff: i64,
        limit: i64,
    ) -> Result<Vec<Claimed>, StoreError> {
        let lock = if self.postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let paid: Vec<OrderState> = [
            OrderState::Paid,
            OrderState::PartiallyRefunded,
            OrderState::Refunded,
        ]
        .to_vec();
        let sql = format!(
            "UPDATE attempts SET sweeps = sweeps + 1, \
             sweep_after = $1 + $3 * (CASE WHEN sweeps >= 10 THEN 11 ELSE sweeps + 1 END) \
             WHERE out_trade_no IN (SELECT out_trade_no FROM attempts \
               WHERE state IN ({}) AND created_at <= $2 AND sweep_after <= $1 \
               ORDER BY sweep_after LIMIT $4{lock}) \
             RETURNING out_trade_no, expires_at, \
               (SELECT CASE WHEN o.state IN ({}) OR COALESCE(o.attempt, '') <> attempts.out_trade_no \
                 THEN 1 ELSE 0 END FROM orders o WHERE o.order_no = attempts.order_no)",
            in_list(&AttemptState::PAYABLE),
            in_list(&paid),
        );
        let rows = [now, placed_before, backoff, limit]
            .into_iter()
            .fold(sqlx::query(&sql), sqlx::query::Query::bind)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Claimed {
                    out_trade_no: OutTradeNo::try_from(r.try_get::<String, _>(0)?)?,
                    expires_at: r.try_get(1)?,
                    superseded: r.try_get::<Option<i64>, _>(2)?.unwrap_or(0) == 1,
                })
            })
            .collect()
    }

    /// Takes an attempt off the sweeper's list (expired, and not closable: a failed one).
    ///
    /// # Errors
    /// The database's.
    pub async fn stop_sweeping(&self, attempt_no: &OutTradeNo) -> Result<(), StoreError> {
        sqlx::query("UPDATE attempts SET sweep_after = $1 WHERE out_trade_no = $2")
            .bind(i64::MAX)
            .bind(attempt_no.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

async fn insert_attempt(
    tx: &mut Tx<'_>,
    attempt_no: &OutTradeNo,
    order_no: &OrderNo,
    seq: i64,
    created_at: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO attempts (out_trade_no, order_no, seq, state, created_at, expires_at) \
         VALUES ($1, $2, $3, 'NEW', $4, $5)",
    )
    .bind(attempt_no.as_str())
    .bind(order_no.as_str())
    .bind(seq)
    .bind(created_at)
    .bind(expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn attempt_in(
    tx: &mut Tx<'_>,
    attempt_no: &OutTradeNo,
) -> Result<Option<Attempt>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {} FROM attempts WHERE out_trade_no = $1",
        rows::ATTEMPT_COLUMNS
    ))
    .bind(attempt_no.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(rows::attempt).transpose()
}
