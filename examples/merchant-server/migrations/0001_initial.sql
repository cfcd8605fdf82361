-- The reference merchant server's schema. The same SQL runs on SQLite and PostgreSQL: ids
-- are UUIDv7 text made by the server (time-ordered), booleans are 0/1 BIGINTs, money is
-- BIGINT fen, times are Unix seconds.

CREATE TABLE orders (
    out_trade_no   TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL,
    item           TEXT NOT NULL,
    description    TEXT NOT NULL,
    amount_fen     BIGINT NOT NULL CHECK (amount_fen > 0),
    trade_type     TEXT NOT NULL,
    openid         TEXT,
    payer_ip       TEXT NOT NULL,
    state          TEXT NOT NULL,
    prepay_id      TEXT,
    transaction_id TEXT,
    refunded_fen   BIGINT NOT NULL DEFAULT 0 CHECK (refunded_fen >= 0),
    created_at     BIGINT NOT NULL,
    paid_at        BIGINT,
    paid_via       TEXT
);
-- "my orders" for the app; unpaid and refund-pending work for the back office.
CREATE INDEX orders_by_user ON orders (user_id, created_at);
CREATE INDEX orders_by_state ON orders (state, created_at);

CREATE TABLE refunds (
    out_refund_no TEXT PRIMARY KEY,
    out_trade_no  TEXT NOT NULL REFERENCES orders (out_trade_no),
    amount_fen    BIGINT NOT NULL CHECK (amount_fen > 0),
    reason        TEXT,
    state         TEXT NOT NULL,
    refund_id     TEXT,
    submissions   BIGINT NOT NULL DEFAULT 0,
    last_error    TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX refunds_by_order ON refunds (out_trade_no, created_at);
CREATE INDEX refunds_by_state ON refunds (state, updated_at);

-- Every delivery to a notify URL. Verified ones keep their body; refused ones keep its
-- length, SHA-256 and first KiB only, and are pruned after the retention period.
CREATE TABLE notifications (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    received_at  BIGINT NOT NULL,
    verified     BIGINT NOT NULL,
    body_len     BIGINT NOT NULL,
    body_sha256  TEXT NOT NULL,
    body         TEXT NOT NULL,
    verdict      TEXT NOT NULL,
    out_trade_no TEXT
);
CREATE INDEX notifications_by_order ON notifications (out_trade_no, id);
CREATE INDEX notifications_by_verified ON notifications (verified, received_at);

-- What a person must look at: a payer charged for a closed order, a second payment, a refund
-- that contradicts the books. One row per (kind, reference), however often it is seen.
CREATE TABLE anomalies (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    reference    TEXT NOT NULL,
    out_trade_no TEXT,
    detail       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    UNIQUE (kind, reference)
);
CREATE INDEX anomalies_by_created ON anomalies (created_at);
