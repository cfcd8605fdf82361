#!/usr/bin/env bash
# The public API of each library crate, one item per line, in api/CRATE.txt.
#   bash .ci/api.sh          check: fail when a listing differs from the one checked in
#   bash .ci/api.sh --bless  write the listings (commit them with the API change)
# rustdoc's JSON output is unstable: RUSTC_BOOTSTRAP=1 lets the stable toolchain write it;
# tools/api reads it without pinning a format version.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
mode=${1:-check}
status=0
mkdir -p api
cargo build -q --locked -p tenpay-api-list
for crate in tenpay-sign tenpay-sign-v3 tenpay-xml tenpay-client tenpay-notify tenpay-sim; do
  RUSTC_BOOTSTRAP=1 cargo rustdoc -q --locked -p "$crate" --lib --all-features -- \
    -Z unstable-options --output-format json
  listing=$("$target/debug/tenpay-api-list" "$target/doc/${crate//-/_}.json")
  if [ "$mode" = "--bless" ]; then
    printf '%s\n' "$listing" > "api/$crate.txt"
  elif ! diff -u "api/$crate.txt" <(printf '%s\n' "$listing"); then
    echo "the public API of $crate changed: review the diff above, then run bash .ci/api.sh --bless" >&2
    status=1
  fi
done
exit $status
