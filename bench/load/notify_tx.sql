-- The reference server's notify transaction without the server (pgbench -f): the audit row
-- first, the order's facts, the conditional paid transition, the verdict. Orders
-- PGB1..PGB1000000 are made by notify-pg.sh.
\set n random(1, 1000000)
\set rid random(1, 9000000000000000000)
BEGIN;
INSERT INTO notifications (id, kind, received_at, verified, body_len, body_sha256, body, verdict, out_trade_no)
  VALUES ('pgb-' || :rid, 'pay', 0, 1, 900, repeat('a', 64), repeat('x', 900), 'pending', 'PGB' || :n);
SELECT amount_fen, state, transaction_id FROM orders WHERE out_trade_no = 'PGB' || :n;
UPDATE orders SET state = 'PAID', transaction_id = 't' || :n, paid_at = 0, paid_via = 'notification'
  WHERE out_trade_no = 'PGB' || :n AND state IN ('NEW', 'NOTPAY', 'PAYERROR', 'FAILED');
UPDATE notifications SET verdict = 'paid' WHERE id = 'pgb-' || :rid;
COMMIT;
