#!/usr/bin/env bash
# A short run of every fuzz target (CI smoke test). Needs a nightly toolchain; installs cargo-fuzz
# when missing. SECONDS_PER_TARGET overrides the run time.
set -euo pipefail
cd "$(dirname "$0")"
secs=${SECONDS_PER_TARGET:-20}
if ! rustup toolchain list | grep -q '^nightly'; then
  echo "fuzz smoke: no nightly toolchain on this machine; skipped" >&2
  exit 0
fi
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
mkdir -p corpus/read corpus/differential corpus/notify corpus/sign
# Seeds: the fixtures (the protocol ones without their first line, a source comment) and the
# hostile cases.
for f in ../testdata/protocol/*.xml; do
  tail -n +2 "$f" > "corpus/read/$(basename "$f")"
done
cp ../testdata/bench/*.xml ../crates/tenpay-xml/tests/hostile/*.xml corpus/read/ 2>/dev/null || true
mkdir -p corpus/notify
cp corpus/read/* corpus/differential/
cp corpus/read/* corpus/notify/
for target in $(cargo +nightly fuzz list); do
  echo "fuzz smoke: $target for ${secs}s"
  cargo +nightly fuzz run "$target" -- -max_total_time="$secs" -rss_limit_mb=2048 2>&1 | tail -n 3
done
