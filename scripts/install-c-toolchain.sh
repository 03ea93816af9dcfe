#!/usr/bin/env bash
# Installs what builds C WebAssembly guests (DESIGN §8): clang, LLVM's linker and wasi-libc from
# Debian. Does nothing when they are already installed.
set -euo pipefail

have() { command -v clang >/dev/null && [ -f /usr/lib/wasm32-wasi/libc.a ] \
  && ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a >/dev/null 2>&1; }

if have; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "install-c-toolchain: needs root for apt-get (clang lld wasi-libc libclang-rt-dev-wasm32)" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq clang lld wasi-libc libclang-rt-dev-wasm32 >/dev/null
have || { echo "install-c-toolchain: toolchain still incomplete after install" >&2; exit 1; }
