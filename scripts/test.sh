#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: unit tests of each crate and the
# black-box tests in tests/ (which start their own servers on free ports).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)" >&2; exit 2; }

cargo fmt --all -- --check
# The plugin tests load real components compiled from plugins/ (WASM toolchain installed here).
bash scripts/build-plugins.sh
cargo test --workspace --locked
