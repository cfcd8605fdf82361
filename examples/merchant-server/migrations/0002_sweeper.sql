-- The sweeper: when each unpaid order and each PROCESSING refund is looked at next (a lease:
-- an instance that claims a row moves it into the future, so no other instance takes it), and
-- how often it was. Anomalies get a resolution.

ALTER TABLE orders ADD COLUMN sweep_after BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN sweeps BIGINT NOT NULL DEFAULT 0;
CREATE INDEX orders_by_sweep ON orders (state, sweep_after);

ALTER TABLE refunds ADD COLUMN sweep_after BIGINT NOT NULL DEFAULT 0;
CREATE INDEX refunds_by_sweep ON refunds (state, sweep_after);

ALTER TABLE anomalies ADD COLUMN resolved_at BIGINT;
ALTER TABLE anomalies ADD COLUMN resolution TEXT;
