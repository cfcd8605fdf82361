#!/usr/bin/env bash
# Installs Chromium and its WebDriver from Debian's packages when missing, and prints the
# chromedriver path (TENPAY_TEST_CHROMEDRIVER) for the dashboard's browser test.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! command -v chromedriver >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1; then
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-noto-cjk >&2
fi
chromium --version >&2
command -v chromedriver
