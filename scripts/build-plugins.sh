#!/usr/bin/env bash
# Builds every plugin in plugins/ from source into target/plugins/<name>.wasm (components),
# with plugin.toml beside it where the plugin has one. Rust guests build with Debian's Rust and
# its std source (scripts/install-wasm-toolchain.sh), in their own target dir so they never
# fight the host build; `xlrs plugin componentize` turns each core module into a component.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/target/plugins"
guest_target="$root/target/wasm-guests"

bash "$root/scripts/install-wasm-toolchain.sh"

echo "building Rust plugins for wasm32-unknown-unknown…" >&2
(
  cd "$root/plugins"
  # Debian's cargo, not rustup's: only Debian's toolchain has the std source for wasm32 here.
  env RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-22 \
    CARGO_TARGET_DIR="$guest_target" \
    /usr/bin/cargo build --locked --release --target wasm32-unknown-unknown \
      -Zbuild-std=std,panic_abort
)

echo "building the xlrs CLI (componentize)…" >&2
cargo build --locked -q -p xlrs --manifest-path "$root/Cargo.toml"
xlrs="$root/target/debug/xlrs"

mkdir -p "$out"
for manifest in "$root"/plugins/*/Cargo.toml; do
  dir=$(dirname "$manifest")
  name=$(basename "$dir")
  module="$guest_target/wasm32-unknown-unknown/release/${name//-/_}.wasm"
  [ -f "$module" ] || { echo "missing $module" >&2; exit 1; }
  "$xlrs" plugin componentize "$module" -o "$out/$name.wasm"
  if [ -f "$dir/plugin.toml" ]; then cp "$dir/plugin.toml" "$out/$name.toml"; fi
  echo "  $out/$name.wasm ($(stat -c %s "$out/$name.wasm") bytes)" >&2
done
