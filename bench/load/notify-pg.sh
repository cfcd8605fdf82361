#!/usr/bin/env bash
# The notify path on PostgreSQL in one sitting: the bound (pgbench running the server's
# notify transaction, 64 clients) and the server end to end (two instances, 64 concurrent
# deliveries). Usage: bench/load/notify-pg.sh [postgres-url]  (default: .ci/postgres.sh's)
set -euo pipefail
cd "$(dirname "$0")/../.."
url=${1:-$(bash .ci/postgres.sh)}
cargo build -q --release -p tenpay-merchant-server --example notify_load
# Schema (migrations) and a first small run, so the tables exist.
target/release/examples/notify_load "$url" 1000 8 >/dev/null
psql -q "$url" -c "DELETE FROM notifications WHERE out_trade_no LIKE 'PGB%'; DELETE FROM orders WHERE out_trade_no LIKE 'PGB%';
  INSERT INTO orders (out_trade_no, user_id, item, description, amount_fen, trade_type, payer_ip, state, created_at)
  SELECT 'PGB' || g, 'load', 'load', 'load', 888, 'APP', '127.0.0.1', 'NOTPAY', 0 FROM generate_series(1, 1000000) g;"
psql -q "$url" -c "VACUUM ANALYZE orders"
# 64 clients as the load has; 32 as the two servers' pools (16 connections each) have.
for clients in 64 32; do
  echo "== bound: pgbench, the same transaction, $clients clients, 20 s"
  pgbench -n -c "$clients" -j 2 -T 20 -P 5 -f bench/load/notify_tx.sql "$url" 2>&1 | grep -E "tps|latency|failed|error"
done
echo "== tenpay-merchant-server: two instances, 64 concurrent deliveries"
target/release/examples/notify_load "$url" 30000 64
