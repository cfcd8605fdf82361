#!/usr/bin/env bash
# The reference server's operations at scale (issue 16): the sweeper over N unpaid attempts
# against the simulator, with the simulator's own orderquery rate through the same client as
# the bound; and the reconciliation of an N-row bill against a database holding those orders.
# SQLite and PostgreSQL (POSTGRES_URL, a server that lets the user create databases:
# `.ci/postgres.sh` makes one). Prints one line per run; peak RSS is the process's VmHWM.
#
#   bash bench/ops/run.sh [SWEEP_N] [RECONCILE_N]      (defaults 100000 and 1000000)
set -euo pipefail
cd "$(dirname "$0")/../.."
SWEEP_N=${1:-100000}
RECONCILE_N=${2:-1000000}
PG=${POSTGRES_URL:-postgres://tenpay:tenpay@127.0.0.1:5432/tenpay_test}
cargo build --release -q -p tenpay-merchant-server --example ops_bench
B=target/release/examples/ops_bench
W=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$W"' EXIT
fresh_pg() { # a new database on the PostgreSQL server; prints its URL
  local db="ops_$1_$$_$(date +%s)"
  psql "$PG" -qc "CREATE DATABASE $db" >/dev/null
  echo "${PG%/*}/$db"
}

for c in 8 32; do
  $B sweep "sqlite://$W/sweep-$c.db" "$SWEEP_N" "$c" | sed "s/^/sqlite /"
  $B sweep "$(fresh_pg sweep$c)" "$SWEEP_N" "$c" | sed "s/^/postgres /"
done

port=18091
for kind in sqlite postgres; do
  if [ $kind = sqlite ]; then url="sqlite://$W/reconcile.db"; else url=$(fresh_pg reconcile); fi
  $B reconcile-setup "$url" "$RECONCILE_N" "$W/bill-$kind.gz"
  $B serve-bill "$W/bill-$kind.gz" $port & sleep 0.5
  for run in 1 2; do $B reconcile "$url" $port | sed "s/^/$kind /"; done
  kill %% 2>/dev/null || true; wait 2>/dev/null || true
  port=$((port + 1))
done
