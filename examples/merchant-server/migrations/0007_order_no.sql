-- Two numbers, named apart: `order_no` is the business order's number (orders, the order a
-- refund or an anomaly belongs to); `out_trade_no` is only ever a number at WeChat Pay (an
-- attempt's, and the number a delivery or a query named, in notifications). Renamed in
-- place: SQLite 3.25+ and PostgreSQL carry the foreign keys and indexes along.
ALTER TABLE orders RENAME COLUMN out_trade_no TO order_no;
ALTER TABLE refunds RENAME COLUMN out_trade_no TO order_no;
ALTER TABLE anomalies RENAME COLUMN out_trade_no TO order_no;
