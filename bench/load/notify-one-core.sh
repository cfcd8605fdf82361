#!/usr/bin/env bash
# The notify service over HTTP on one core, beside node tenpay's middleware('pay') logic on
# node's http server, pinned the same way (issue 13's speed target):
#  - the server under test on CPU 0 (taskset), wrk on CPU 1, 64 keep-alive connections;
#  - tenpay: `serve` example (NotifyService on hyper), POST of the signed pay notification;
#  - the HTTP bound: the same server answering a request it refuses at once (GET: 405);
#  - node tenpay 2.1.18 (installed into a scratch folder, as shared/bench/peers/run.sh does).
# Env: DURATION (default 10s), ROUNDS (default 2), PEERS (scratch folder).
# Needs wrk, taskset and node. Prints one line per run; quote the ratios of one sitting.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-2}
PEERS=${PEERS:-${TMPDIR:-/tmp}/tenpay-peers}
FIXTURE=testdata/bench/pay_notify.xml
if [ ! -d "$PEERS/node/node_modules/tenpay" ]; then
  mkdir -p "$PEERS/node"
  (cd "$PEERS/node" && npm init -y >/dev/null && npm install -q tenpay@2.1.18 >/dev/null)
fi
cargo build -q --release -p tenpay-notify --example serve
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
taskset -c 0 target/release/examples/serve 127.0.0.1:18800 >/dev/null & pids+=($!)
NODE_PATH="$PEERS/node/node_modules" taskset -c 0 node bench/load/notify_node.js 18801 >/dev/null & pids+=($!)
sleep 1
# Both answer the fixture with SUCCESS before anything is measured.
for port in 18800 18801; do
  curl -sf --data-binary @"$FIXTURE" -H 'Content-Type: text/xml' "http://127.0.0.1:$port/" | grep -q SUCCESS \
    || { echo "server on $port does not acknowledge the fixture" >&2; exit 1; }
done
run() { # name port script
  local out
  out=$(NOTIFY=$FIXTURE taskset -c 1 wrk -t1 -c64 -d"$DURATION" --latency -s "$3" "http://127.0.0.1:$2/")
  printf '%-28s %10s req/s  p50 %8s  p99 %8s  non-2xx %s\n' "$1" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
    "$(awk '$1=="50%" {print $2}' <<<"$out")" \
    "$(awk '$1=="99%" {print $2}' <<<"$out")" \
    "$(awk '/Non-2xx/ {print $NF}' <<<"$out" | grep . || echo 0)"
}
for r in $(seq "$ROUNDS"); do
  echo "== round $r ($(date -u +%FT%TZ))"
  run "tenpay serve, pay notify" 18800 bench/load/notify.lua
  run "tenpay serve, GET (bound)" 18800 bench/load/get.lua
  run "node tenpay, pay notify" 18801 bench/load/notify.lua
done
