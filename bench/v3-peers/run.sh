#!/usr/bin/env bash
# API v3 peers in one sitting with openssl's RSA bound and tenpay's criterion bench:
# wechatpay-axios-plugin (npm) and wechatpayv3 (PyPI), installed into $PEERS.
set -euo pipefail
cd "$(dirname "$0")"
PEERS=${PEERS:-${TMPDIR:-/tmp}/tenpay-v3-peers}
DATA=$(cd ../../crates/tenpay-sign-v3/tests/data && pwd)
mkdir -p "$PEERS"
[ -d "$PEERS/node/node_modules/wechatpay-axios-plugin" ] || (mkdir -p "$PEERS/node" && cd "$PEERS/node" && npm init -y >/dev/null && npm install -q wechatpay-axios-plugin@0.9.6 >/dev/null)
[ -x "$PEERS/venv/bin/python" ] || (python3 -m venv "$PEERS/venv" && "$PEERS/venv/bin/pip" install -q wechatpayv3==2.0.4)
echo "== openssl speed rsa2048"; openssl speed -seconds 3 rsa2048 2>/dev/null | tail -2
echo "== wechatpay-axios-plugin 0.9.6 (node $(node --version))"; NODE_PATH="$PEERS/node/node_modules" node bench_axios.js "$DATA"
echo "== wechatpayv3 2.0.4 (python)"; "$PEERS/venv/bin/python" bench_wechatpayv3.py "$DATA"
echo "== tenpay-sign-v3 (criterion)"; (cd ../.. && cargo bench -q -p tenpay-sign-v3 --bench v3 -- --warm-up-time 1 --measurement-time 5 2>/dev/null | grep -E "^v3|time:")
