#!/usr/bin/env bash
# `tenpay bill parse -` on modern bills of 100k, 1M and 10M rows streamed through standard
# input (made by make_bill.py as they are read): peak RSS and time of the parser alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build -q --release -p tenpay-cli
for n in 100000 1000000 10000000; do
  python3 bench/bills/make_bill.py "$n" /dev/stdout \
    | /usr/bin/time -f "rows=$n  %e s  peak RSS %M KiB" target/release/tenpay bill parse - \
    | tail -1 | cut -c1-60
done
