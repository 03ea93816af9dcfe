#!/usr/bin/env bash
# The console's end-to-end tests in a real headless browser: Debian's Chromium (installed with
# apt-get when missing; browser downloads by test tools do not work here) driven by
# playwright-core from npm (pinned in tests/console/package-lock.json). The tests start
# target/debug/xlrs themselves (XLRS_BIN to choose another), and use target/plugins.
# `--screenshots` writes the docs' screenshots (docs/console/) instead.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" != 0 ]; then
    echo "console-tests: Chromium is missing and installing it needs root (apt-get install chromium)" >&2
    exit 2
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi
export CHROMIUM="${CHROMIUM:-$(command -v chromium)}"

(cd tests/console && npm ci --no-audit --no-fund --loglevel=error)
if [ "${1:-}" = --screenshots ]; then
  exec node tests/console/screenshots.mjs
fi
exec node --test --test-concurrency=1 tests/console/
