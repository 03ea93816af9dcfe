#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: unit tests of each crate and the
# black-box tests in tests/ (which start their own servers on free ports).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)" >&2; exit 2; }

# A fresh checkout builds once: incremental state would only take disk (gigabytes) and time.
if [ "${CI:-}" = true ]; then export CARGO_INCREMENTAL=0; fi

cargo fmt --all -- --check
# Lints: the workspace's own ([workspace.lints] in Cargo.toml) and clippy's, as errors.
cargo clippy --locked --workspace --all-targets -- -D warnings
# Every test binary, built once; the xlrs CLI among them builds the plugins.
cargo test --workspace --locked --no-run
# The plugin tests load real components compiled from plugins/ (WASM toolchain installed here).
BUILD_PLUGINS_CLI="$PWD/target/debug/xlrs" bash scripts/build-plugins.sh
# The store tests start database servers from PyPI (ClickHouse; stand-ins for MongoDB and
# Elasticsearch) on free ports.
bash scripts/databases.sh
cargo test --workspace --locked
# The plugin SDK packages as a crate of its own (with xlrs-xapi, its one dependency in this
# workspace, packaged first as it would be published first).
cargo package --locked --quiet -p xlrs-xapi -p xlrs-plugin-sdk --allow-dirty
# The plugins' pure logic, natively: the edX → xAPI conversion, openedx-compat's quirks and
# xAPI Profile validation, the reactors' logic (the plugins/ workspace, its own target dir).
CARGO_TARGET_DIR=target/plugins-native cargo test --locked --manifest-path plugins/Cargo.toml -p edx-to-xapi -p openedx-compat -p profile-validator -p webhook -p derive-statement
# The HTTP API tests once more on each database store (a database server per test).
TEST_STORE=clickhouse cargo test --locked -p xlrs-tests --test blackbox
TEST_STORE=mongodb cargo test --locked -p xlrs-tests --test blackbox
TEST_STORE=elasticsearch cargo test --locked -p xlrs-tests --test blackbox
# The xAPI resources once more over a backend plugin of contract v0.2 (jsonl-store: the LRS
# applies the xAPI rules over its storage primitives), with erasure and retention.
TEST_STORE=jsonl-store cargo test --locked -p xlrs-tests --test blackbox -- \
  statements_write:: statements_rules:: statements_get:: documents:: documents_params:: \
  documents_rules:: erasure:: retention:: openedx:: aspects:: corpus:: durability:: console::

# The operator console in a real headless browser (Debian's Chromium, playwright-core).
bash scripts/console-tests.sh

# The systemd unit in deploy/: any complaint of systemd-analyze fails the run.
if command -v systemd-analyze >/dev/null; then
  unit_dir=$(mktemp -d)
  sed "s|/usr/local/bin/xlrs|$PWD/target/debug/xlrs|" deploy/xlrs.service > "$unit_dir/xlrs.service"
  complaints=$(systemd-analyze verify "$unit_dir/xlrs.service" 2>&1) || true
  rm -rf "$unit_dir"
  if [ -n "$complaints" ]; then echo "deploy/xlrs.service: $complaints" >&2; exit 1; fi
  echo "deploy/xlrs.service: systemd-analyze verify is clean" >&2
fi

# What the run left on disk (CI's disk is bounded; see bench/RESULTS.md for the record).
du -sh target 2>/dev/null >&2 || true
