//! Storage: one schema, one set of queries, on SQLite (a file, created at start) or
//! PostgreSQL (several instances behind a load balancer), through sqlx's `Any` driver.
//!
//! Queries use `$1, $2, …` placeholders, each once and in order, which both backends accept.
//! Only the schema differs (the audit table's id column).

use serde::Serialize;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Row};

/// A storage failure.
#[derive(Debug, thiserror::Error)]
#[error("database: {0}")]
pub struct DbError(#[from] pub sqlx::Error);

/// Which database the URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// The connection pool.
#[derive(Debug, Clone)]
pub struct Db {
    pub(crate) pool: AnyPool,
    backend: Backend,
}

/// An order row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Order {
    /// The merchant's order number.
    pub out_trade_no: String,
    /// What is sold.
    pub item: String,
    /// The `body` sent to WeChat Pay.
    pub description: String,
    /// Amount in fen.
    pub amount_fen: i64,
    /// APP, JSAPI, NATIVE or MWEB.
    pub trade_type: String,
    /// The payer (JSAPI).
    pub openid: Option<String>,
    /// NEW, NOTPAY, PAID, PAYERROR, CLOSED, REFUNDED or FAILED.
    pub state: String,
    /// The prepay id.
    pub prepay_id: Option<String>,
    /// WeChat Pay's transaction id, once paid.
    pub transaction_id: Option<String>,
    /// Refunded so far, in fen (successful refunds).
    pub refunded_fen: i64,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds, once paid.
    pub paid_at: Option<i64>,
}

/// A refund row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refund {
    /// The merchant's refund number.
    pub out_refund_no: String,
    /// The order.
    pub out_trade_no: String,
    /// Amount in fen.
    pub amount_fen: i64,
    /// PROCESSING, SUCCESS, CHANGE or REFUNDCLOSE.
    pub state: String,
    /// WeChat Pay's refund id.
    pub refund_id: Option<String>,
}

/// An audit row: one raw notification and its verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRow {
    /// `pay` or `refund`.
    pub kind: String,
    /// The raw body.
    pub body: String,
    /// What was decided.
    pub verdict: String,
    /// The order, when known.
    pub out_trade_no: Option<String>,
}

const ORDER_COLUMNS: &str = "out_trade_no, item, description, amount_fen, trade_type, openid, state, prepay_id, transaction_id, refunded_fen, created_at, paid_at";

fn order_from(row: &sqlx::any::AnyRow) -> Result<Order, sqlx::Error> {
    Ok(Order {
        out_trade_no: row.try_get(0)?,
        item: row.try_get(1)?,
        description: row.try_get(2)?,
        amount_fen: row.try_get(3)?,
        trade_type: row.try_get(4)?,
        openid: row.try_get(5)?,
        state: row.try_get(6)?,
        prepay_id: row.try_get(7)?,
        transaction_id: row.try_get(8)?,
        refunded_fen: row.try_get(9)?,
        created_at: row.try_get(10)?,
        paid_at: row.try_get(11)?,
    })
}

impl Db {
    /// Connects and creates the schema when missing. A SQLite file is created if absent.
    ///
    /// # Errors
    /// The database's.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        install_default_drivers();
        let backend = if url.starts_with("postgres") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { "&" } else { "?" })
            }
            _ => url.to_owned(),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 16 })
            .connect(&url)
            .await?;
        let db = Self { pool, backend };
        db.migrate().await?;
        Ok(db)
    }

    /// The backend.
    #[must_use]
    pub fn backend(&self) -> Backend {
        self.backend
    }

    async fn migrate(&self) -> Result<(), DbError> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA journal_mode=WAL")
                .execute(&self.pool)
                .await?;
        }
        let id = match self.backend {
            Backend::Sqlite => "id INTEGER PRIMARY KEY AUTOINCREMENT",
            Backend::Postgres => "id BIGSERIAL PRIMARY KEY",
        };
        for ddl in [
            "CREATE TABLE IF NOT EXISTS orders (out_trade_no TEXT PRIMARY KEY, item TEXT NOT NULL, description TEXT NOT NULL, \
             amount_fen BIGINT NOT NULL, trade_type TEXT NOT NULL, openid TEXT, state TEXT NOT NULL, prepay_id TEXT, \
             transaction_id TEXT, refunded_fen BIGINT NOT NULL DEFAULT 0, created_at BIGINT NOT NULL, paid_at BIGINT)"
                .to_owned(),
            "CREATE TABLE IF NOT EXISTS refunds (out_refund_no TEXT PRIMARY KEY, out_trade_no TEXT NOT NULL, \
             amount_fen BIGINT NOT NULL, state TEXT NOT NULL, refund_id TEXT, created_at BIGINT NOT NULL)"
                .to_owned(),
            format!(
                "CREATE TABLE IF NOT EXISTS notifications ({id}, kind TEXT NOT NULL, received_at BIGINT NOT NULL, \
                 body TEXT NOT NULL, verdict TEXT NOT NULL, out_trade_no TEXT)"
            ),
        ] {
            sqlx::query(&ddl).execute(&self.pool).await?;
        }
        Ok(())
    }

    /// Stores a new order (state NEW).
    ///
    /// # Errors
    /// The database's.
    pub async fn insert_order(&self, o: &Order) -> Result<(), DbError> {
        sqlx::query(&format!("INSERT INTO orders ({ORDER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"))
            .bind(&o.out_trade_no)
            .bind(&o.item)
            .bind(&o.description)
            .bind(o.amount_fen)
            .bind(&o.trade_type)
            .bind(&o.openid)
            .bind(&o.state)
            .bind(&o.prepay_id)
            .bind(&o.transaction_id)
            .bind(o.refunded_fen)
            .bind(o.created_at)
            .bind(o.paid_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// NEW → NOTPAY with the prepay id, or NEW → FAILED.
    ///
    /// # Errors
    /// The database's.
    pub async fn set_prepared(
        &self,
        out_trade_no: &str,
        prepay_id: Option<&str>,
    ) -> Result<(), DbError> {
        let state = if prepay_id.is_some() {
            "NOTPAY"
        } else {
            "FAILED"
        };
        sqlx::query("UPDATE orders SET state = $1, prepay_id = $2 WHERE out_trade_no = $3 AND state = 'NEW'")
            .bind(state)
            .bind(prepay_id)
            .bind(out_trade_no)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// One order.
    ///
    /// # Errors
    /// The database's.
    pub async fn order(&self, out_trade_no: &str) -> Result<Option<Order>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE out_trade_no = $1"
        ))
        .bind(out_trade_no)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(order_from).transpose()?)
    }

    /// NOTPAY (or NEW) → CLOSED; returns whether it changed.
    ///
    /// # Errors
    /// The database's.
    pub async fn close(&self, out_trade_no: &str) -> Result<bool, DbError> {
        let r = sqlx::query("UPDATE orders SET state = 'CLOSED' WHERE out_trade_no = $1 AND state IN ('NEW', 'NOTPAY', 'PAYERROR')")
            .bind(out_trade_no)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Stores a refund request (PROCESSING) if the order can still refund `amount`; returns
    /// `Ok(false)` when it cannot (nothing written).
    ///
    /// # Errors
    /// The database's.
    pub async fn insert_refund(&self, r: &Refund, created_at: i64) -> Result<bool, DbError> {
        let mut tx = self.pool.begin().await?;
        // A no-op write first: it locks the order row (PostgreSQL) or the database (SQLite), so
        // concurrent refund requests for one order are checked one after the other.
        sqlx::query("UPDATE orders SET state = state WHERE out_trade_no = $1")
            .bind(&r.out_trade_no)
            .execute(&mut *tx)
            .await?;
        // Requested-but-not-failed refunds count against the order amount.
        let row = sqlx::query(
            "SELECT o.amount_fen, (SELECT COALESCE(SUM(amount_fen), 0) FROM refunds WHERE out_trade_no = $1 AND state <> 'REFUNDCLOSE'), o.state \
             FROM orders o WHERE o.out_trade_no = $2",
        )
        .bind(&r.out_trade_no)
        .bind(&r.out_trade_no)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(false) };
        let (amount, requested, state): (i64, i64, String) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        if !(state == "PAID" || state == "REFUNDED") || requested + r.amount_fen > amount {
            return Ok(false);
        }
        sqlx::query("INSERT INTO refunds (out_refund_no, out_trade_no, amount_fen, state, refund_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&r.out_refund_no)
            .bind(&r.out_trade_no)
            .bind(r.amount_fen)
            .bind(&r.state)
            .bind(&r.refund_id)
            .bind(created_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Records WeChat Pay's refund id (or the refund's failure).
    ///
    /// # Errors
    /// The database's.
    pub async fn set_refund_id(
        &self,
        out_refund_no: &str,
        refund_id: Option<&str>,
    ) -> Result<(), DbError> {
        let state = if refund_id.is_some() {
            "PROCESSING"
        } else {
            "REFUNDCLOSE"
        };
        sqlx::query("UPDATE refunds SET refund_id = $1, state = $2 WHERE out_refund_no = $3 AND state = 'PROCESSING'")
            .bind(refund_id)
            .bind(state)
            .bind(out_refund_no)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// An order's refunds.
    ///
    /// # Errors
    /// The database's.
    pub async fn refunds(&self, out_trade_no: &str) -> Result<Vec<Refund>, DbError> {
        let rows = sqlx::query("SELECT out_refund_no, out_trade_no, amount_fen, state, refund_id FROM refunds WHERE out_trade_no = $1 ORDER BY created_at, out_refund_no")
            .bind(out_trade_no)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Refund {
                    out_refund_no: r.try_get(0)?,
                    out_trade_no: r.try_get(1)?,
                    amount_fen: r.try_get(2)?,
                    state: r.try_get(3)?,
                    refund_id: r.try_get(4)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(DbError)
    }

    /// The audit trail, oldest first (optionally for one order).
    ///
    /// # Errors
    /// The database's.
    pub async fn audit(&self, out_trade_no: Option<&str>) -> Result<Vec<AuditRow>, DbError> {
        let rows = match out_trade_no {
            Some(no) => {
                sqlx::query("SELECT kind, body, verdict, out_trade_no FROM notifications WHERE out_trade_no = $1 ORDER BY id")
                    .bind(no)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => sqlx::query("SELECT kind, body, verdict, out_trade_no FROM notifications ORDER BY id").fetch_all(&self.pool).await?,
        };
        rows.iter()
            .map(|r| {
                Ok(AuditRow {
                    kind: r.try_get(0)?,
                    body: r.try_get(1)?,
                    verdict: r.try_get(2)?,
                    out_trade_no: r.try_get(3)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(DbError)
    }
}
