#!/usr/bin/env bash
# Installs what builds Rust WebAssembly guests on this kind of machine (DESIGN §8): Debian's own
# Rust with its standard library source (rustup cannot download wasm targets here) and LLVM's
# wasm linker. Does nothing when they are already installed.
set -euo pipefail

have() { [ -x /usr/bin/rustc ] && [ -x /usr/bin/cargo ] && command -v wasm-ld-22 >/dev/null \
  && /usr/bin/rustc --print sysroot >/dev/null 2>&1 \
  && [ -d "$(/usr/bin/rustc --print sysroot)/lib/rustlib/src/rust/library" ]; }

if have; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "install-wasm-toolchain: needs root for apt-get (rustc-web cargo-web rust-web-src lld-22)" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq rustc-web cargo-web rust-web-src lld-22 >/dev/null
have || { echo "install-wasm-toolchain: toolchain still incomplete after install" >&2; exit 1; }
