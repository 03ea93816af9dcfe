#!/usr/bin/env bash
# Installs what builds WebAssembly guests on this kind of machine (DESIGN §8), from Debian:
# - Rust: Debian's own Rust with its standard library source (rustup cannot download wasm
#   targets here) and LLVM's wasm linker;
# - C: clang, lld, wasi-libc and clang's wasm32 runtime.
# (JavaScript and Python toolchains come from npm and PyPI: `xlrs plugin build` installs them.)
# Does nothing when they are already installed.
set -euo pipefail

PACKAGES="rustc-web cargo-web rust-web-src lld-22 clang lld wasi-libc libclang-rt-dev-wasm32"

have_rust() { [ -x /usr/bin/rustc ] && [ -x /usr/bin/cargo ] && command -v wasm-ld-22 >/dev/null \
  && /usr/bin/rustc --print sysroot >/dev/null 2>&1 \
  && [ -d "$(/usr/bin/rustc --print sysroot)/lib/rustlib/src/rust/library" ]; }
have_c() { command -v clang >/dev/null && [ -f /usr/lib/wasm32-wasi/libc.a ] \
  && ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a >/dev/null 2>&1; }
have() { have_rust && have_c; }

if have; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "install-wasm-toolchain: needs root for apt-get ($PACKAGES)" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq $PACKAGES >/dev/null
have || { echo "install-wasm-toolchain: toolchain still incomplete after install" >&2; exit 1; }
