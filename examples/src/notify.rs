//! The notify endpoints: tenpay-notify's `NotifyService` verifies each delivery and hands it,
//! refused or not, to [`deliver`], which in one database transaction stores the raw
//! notification with its verdict, confirms the amount against the stored order, and moves the
//! order exactly once. The service sends the success reply only after `deliver` returned `Ok`,
//! that is after the commit; it answers 400 to refused deliveries and 500 when `deliver` fails,
//! and WeChat Pay retries both.

use sqlx::Row;
use tenpay_notify::{Delivery, Notification, PayNotification, RefundNotification};
use tenpay_xml::Fen;

use crate::app::AppState;
use crate::db::DbError;

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A verdict that is not an acknowledgement: recorded in its own transaction (the attempted
/// change was rolled back), then answered with the failure body so WeChat Pay retries.
struct Refusal {
    verdict: String,
}

impl From<DbError> for Refusal {
    fn from(e: DbError) -> Self {
        Self {
            verdict: format!("not recorded: {e}"),
        }
    }
}

impl From<sqlx::Error> for Refusal {
    fn from(e: sqlx::Error) -> Self {
        DbError(e).into()
    }
}

/// The audit row, inserted first in the notification's transaction (in SQLite this takes the
/// write lock at once); its verdict is set before commit.
async fn pending_audit_row(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    kind: &str,
    raw: &str,
    out_trade_no: &str,
) -> Result<i64, Refusal> {
    let row = sqlx::query("INSERT INTO notifications (kind, received_at, body, verdict, out_trade_no) VALUES ($1, $2, $3, $4, $5) RETURNING id")
        .bind(kind)
        .bind(now())
        .bind(raw)
        .bind("pending")
        .bind(out_trade_no)
        .fetch_one(&mut **tx)
        .await?;
    Ok(row.try_get(0)?)
}

/// Sets the pending audit row's verdict and commits the notification's transaction.
async fn commit_with_verdict(
    mut tx: sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
    verdict: String,
) -> Result<String, Refusal> {
    sqlx::query("UPDATE notifications SET verdict = $1 WHERE id = $2")
        .bind(&verdict)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(verdict)
}

async fn audit_only(
    state: &AppState,
    kind: &str,
    raw: &str,
    verdict: &str,
    out_trade_no: Option<&str>,
) {
    let result = sqlx::query("INSERT INTO notifications (kind, received_at, body, verdict, out_trade_no) VALUES ($1, $2, $3, $4, $5)")
        .bind(kind)
        .bind(now())
        .bind(raw)
        .bind(verdict)
        .bind(out_trade_no)
        .execute(&state.db.pool)
        .await;
    if let Err(e) = result {
        tracing::error!(error = %e, kind, "could not store a notification in the audit trail");
    }
}

/// One delivery to the notify URL of `kind` (`pay` or `refund`: the audit row's kind when the
/// delivery is refused; a verified one is recorded by its own kind). `Ok` when the
/// notification is recorded and may be acknowledged.
pub(crate) async fn deliver(
    state: &AppState,
    kind: &str,
    delivery: Delivery,
) -> Result<(), String> {
    let raw = String::from_utf8_lossy(&delivery.body);
    let (kind, out_trade_no, recorded) = match delivery.verdict {
        Err(e) => {
            tracing::warn!(error = %e, kind, "notification refused");
            audit_only(state, kind, &raw, &format!("refused: {e}"), None).await;
            // The service answers a refused delivery with the failure body whatever this says.
            return Ok(());
        }
        Ok(Notification::Pay(n)) => {
            let no = n.out_trade_no().to_owned();
            ("pay", no, record_payment(state, &raw, *n).await)
        }
        Ok(Notification::Refund(r)) => {
            let no = r.out_trade_no.clone();
            ("refund", no, record_refund(state, &raw, *r).await)
        }
        Ok(other) => {
            let verdict = format!("refused: a notification this server does not handle: {other:?}");
            audit_only(state, kind, &raw, &verdict, None).await;
            return Err(verdict);
        }
    };
    match recorded {
        Ok(verdict) => {
            tracing::info!(out_trade_no, verdict, kind, "notification recorded");
            Ok(())
        }
        Err(refusal) => {
            tracing::warn!(
                out_trade_no,
                verdict = refusal.verdict,
                kind,
                "notification not accepted"
            );
            audit_only(state, kind, &raw, &refusal.verdict, Some(&out_trade_no)).await;
            Err(refusal.verdict)
        }
    }
}

async fn record_payment(
    state: &AppState,
    raw: &str,
    n: PayNotification,
) -> Result<String, Refusal> {
    let mut tx = state.db.pool.begin().await?;
    let id = pending_audit_row(&mut tx, "pay", raw, n.out_trade_no()).await?;
    let row = sqlx::query("SELECT amount_fen, state FROM orders WHERE out_trade_no = $1")
        .bind(n.out_trade_no())
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else {
        return Err(Refusal {
            verdict: "refused: unknown order".into(),
        });
    };
    let (amount, order_state): (i64, String) = (row.try_get(0)?, row.try_get(1)?);
    let verdict = if n.is_success() {
        let expected = Fen::new(u64::try_from(amount).unwrap_or(0));
        let settled = n.settle(expected).map_err(|e| Refusal {
            verdict: format!("refused: {e}"),
        })?;
        if let Some(hook) = &state.hooks.before_commit {
            hook(&settled.out_trade_no).map_err(|e| Refusal {
                verdict: format!("handler failed: {e}"),
            })?;
        }
        // Exactly once: only an unpaid order moves; a refunded one never moves back.
        let moved = sqlx::query(
            "UPDATE orders SET state = 'PAID', transaction_id = $1, paid_at = $2 WHERE out_trade_no = $3 AND state IN ('NEW', 'NOTPAY', 'PAYERROR')",
        )
        .bind(&settled.transaction_id)
        .bind(now())
        .bind(&settled.out_trade_no)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved == 1 {
            "paid".to_owned()
        } else {
            format!("duplicate: order already {order_state}")
        }
    } else {
        let moved = sqlx::query("UPDATE orders SET state = 'PAYERROR' WHERE out_trade_no = $1 AND state IN ('NEW', 'NOTPAY')")
            .bind(n.out_trade_no())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        format!(
            "payment failed: {} ({})",
            n.err_code().unwrap_or("?"),
            if moved == 1 {
                "recorded"
            } else {
                "order unchanged"
            }
        )
    };
    commit_with_verdict(tx, id, verdict).await
}

async fn record_refund(
    state: &AppState,
    raw: &str,
    r: RefundNotification,
) -> Result<String, Refusal> {
    let mut tx = state.db.pool.begin().await?;
    let id = pending_audit_row(&mut tx, "refund", raw, &r.out_trade_no).await?;
    let row =
        sqlx::query("SELECT amount_fen, state, out_trade_no FROM refunds WHERE out_refund_no = $1")
            .bind(&r.out_refund_no)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(row) = row else {
        return Err(Refusal {
            verdict: "refused: unknown refund".into(),
        });
    };
    let (amount, refund_state, order): (i64, String, String) =
        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    // Refund notifications are unsigned: decrypting with the key is their only authentication,
    // so they are also checked against our own record.
    if order != r.out_trade_no || u64::try_from(amount).ok() != Some(r.refund_fee.get()) {
        return Err(Refusal {
            verdict: "refused: does not match our refund record".into(),
        });
    }
    let status = r.refund_status.as_str();
    let moved = sqlx::query("UPDATE refunds SET state = $1, refund_id = $2 WHERE out_refund_no = $3 AND state = 'PROCESSING'")
        .bind(status)
        .bind(&r.refund_id)
        .bind(&r.out_refund_no)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let verdict = if moved == 1 && status == "SUCCESS" {
        sqlx::query("UPDATE orders SET refunded_fen = refunded_fen + $1, state = 'REFUNDED' WHERE out_trade_no = $2")
            .bind(amount)
            .bind(&order)
            .execute(&mut *tx)
            .await?;
        "refunded".to_owned()
    } else if moved == 1 {
        format!("refund {status}")
    } else {
        format!("duplicate: refund already {refund_state}")
    };
    commit_with_verdict(tx, id, verdict).await
}
