#!/usr/bin/env bash
# unifiedorder on `tenpay sim` under wrk (1 thread, 64 keep-alive connections), then 1M
# distinct orders against the default order cap, with the simulator's RSS (VmRSS, VmHWM).
# Env: DURATION (default 10s), ORDERS_1M (default 1000000). Needs wrk and python3.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-10s}
N=${ORDERS_1M:-1000000}
cargo build -q --release -p tenpay-cli
python3 bench/load/make_orders.py 50000 /tmp/tenpay-orders-50k.txt >/dev/null
python3 bench/load/make_orders.py "$N" /tmp/tenpay-orders-1m.txt >/dev/null
start() {
  target/release/tenpay sim --listen 127.0.0.1:18900 --time-scale 1000 \
    --merchant wx2421b1c4370ec43b:10000100:192006250b4c09247ec02edce69f6a2d "$@" >/dev/null 2>&1 &
  pid=$!
  sleep 1
}
rss() { awk '/VmRSS|VmHWM/ {printf "%s %d MiB  ", $1, $2/1024}' "/proc/$pid/status"; echo; }
echo "== 50k distinct bodies, $DURATION"
start
ORDERS=/tmp/tenpay-orders-50k.txt wrk -t1 -c64 -d"$DURATION" --latency -s bench/load/orders.lua http://127.0.0.1:18900/ \
  | grep -E "Requests/sec|Latency|50%|99%|Non-2xx"
rss
kill "$pid"; wait "$pid" 2>/dev/null || true
echo "== $N distinct orders (default cap: 100,000 orders kept)"
start
secs=$(( N / 25000 + 5 ))
ORDERS=/tmp/tenpay-orders-1m.txt wrk -t1 -c64 -d"${secs}s" -s bench/load/orders.lua http://127.0.0.1:18900/ \
  | grep -E "requests in|Requests/sec" &
wrk_pid=$!
for t in $(seq 10 10 "$secs"); do sleep 10; printf 't=%3ss  ' "$t"; rss; done
wait "$wrk_pid"
rss
curl -s http://127.0.0.1:18900/_sim/orders | grep -c '"out_trade_no"' | sed 's/^/orders kept: /'
kill "$pid"; wait "$pid" 2>/dev/null || true
