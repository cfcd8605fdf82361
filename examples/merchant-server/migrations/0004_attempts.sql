-- Payment attempts. A business order (orders) is paid through attempts: each has its own
-- out_trade_no at WeChat Pay, which never reuses a closed or expired number, and its own
-- time_expire. The order is paid when one attempt is; a second paid attempt is an anomaly.
-- The first attempt's number is the order's own, so every existing order becomes its own
-- first attempt. The sweeper looks at attempts now (orders.sweep_after and orders.sweeps
-- are no longer used).

CREATE TABLE attempts (
    out_trade_no   TEXT PRIMARY KEY,
    order_no       TEXT NOT NULL REFERENCES orders (out_trade_no),
    seq            BIGINT NOT NULL,
    state          TEXT NOT NULL,
    prepay_id      TEXT,
    transaction_id TEXT,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    paid_at        BIGINT,
    paid_via       TEXT,
    sweep_after    BIGINT NOT NULL DEFAULT 0,
    sweeps         BIGINT NOT NULL DEFAULT 0,
    UNIQUE (order_no, seq)
);
CREATE INDEX attempts_by_sweep ON attempts (state, sweep_after);
CREATE INDEX attempts_by_paid ON attempts (paid_at, out_trade_no);
CREATE INDEX attempts_by_order ON attempts (order_no, seq);

INSERT INTO attempts (out_trade_no, order_no, seq, state, prepay_id, transaction_id,
                      created_at, expires_at, paid_at, paid_via, sweep_after, sweeps)
SELECT out_trade_no, out_trade_no, 1,
       CASE WHEN state IN ('PAID', 'PARTIALLY_REFUNDED', 'REFUNDED') THEN 'PAID' ELSE state END,
       prepay_id, transaction_id, created_at, created_at + 7200, paid_at, paid_via,
       sweep_after, sweeps
FROM orders;

-- The attempt being paid now, and the one that paid the order.
ALTER TABLE orders ADD COLUMN attempt TEXT;
ALTER TABLE orders ADD COLUMN paid_attempt TEXT;
UPDATE orders SET attempt = out_trade_no;
UPDATE orders SET paid_attempt = out_trade_no WHERE paid_at IS NOT NULL;
