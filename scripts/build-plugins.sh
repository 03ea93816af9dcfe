#!/usr/bin/env bash
# Builds every plugin in plugins/ from source into target/plugins/<name>.wasm (components),
# with plugin.toml beside it as <name>.toml where the plugin has one:
# - Rust plugins (the plugins/ workspace) with Debian's Rust and its std source
#   (scripts/install-wasm-toolchain.sh), in their own target dir so they never fight the host
#   build; `xlrs plugin componentize` turns each core module into a component;
# - JavaScript, Python and C plugins with `xlrs plugin build` (toolchains in
#   target/plugin-tools, installed from npm/PyPI on first use; clang and wasi-libc from Debian,
#   by scripts/install-wasm-toolchain.sh);
# - then `xlrs plugin new` output for every language and kind it has a template for, built
#   unchanged into target/plugins/new-<lang>-<kind>.wasm, so the templates stay buildable.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/target/plugins"
guest_target="$root/target/wasm-guests"

bash "$root/scripts/install-wasm-toolchain.sh"
export XLRS_PLUGIN_TOOLCHAINS="$root/target/plugin-tools"

echo "building Rust plugins for wasm32-unknown-unknown…" >&2
(
  cd "$root/plugins"
  # Debian's cargo, not rustup's: only Debian's toolchain has the std source for wasm32 here.
  env RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-22 \
    CARGO_TARGET_DIR="$guest_target" \
    /usr/bin/cargo build --locked --release --target wasm32-unknown-unknown \
      -Zbuild-std=std,panic_abort --workspace --exclude openedx-compat --exclude webhook \
      --exclude derive-statement --exclude anonymize --exclude require-fields \
      --exclude fault-fields --exclude jsonl-store --exclude verb-allowlist-rust
  # jsonl-store's v0.1 form (world `backend`), kept as jsonl-store-v0_1 to show v0.1
  # backends still serve.
  env RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-22 \
    CARGO_TARGET_DIR="$guest_target" \
    /usr/bin/cargo build --locked --release --target wasm32-unknown-unknown \
      -Zbuild-std=std,panic_abort -p jsonl-store --no-default-features
  cp "$guest_target/wasm32-unknown-unknown/release/jsonl_store.wasm" \
    "$guest_target/jsonl_store_v0_1.wasm"
  # Apart: cargo unifies the SDK's features over one build, and the `admission`, `reactor`,
  # `storage` and `fields` features (wit/v0.2) would make every other plugin import the v0.2
  # types too.
  env RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-22 \
    CARGO_TARGET_DIR="$guest_target" \
    /usr/bin/cargo build --locked --release --target wasm32-unknown-unknown \
      -Zbuild-std=std,panic_abort -p openedx-compat -p webhook -p derive-statement -p anonymize \
      -p require-fields -p fault-fields -p jsonl-store -p verb-allowlist-rust
)

# BUILD_PLUGINS_CLI: an xlrs already built (scripts/test.sh passes the one its test build
# made, so the CLI is not built twice). Not XLRS_*: xlrs reads those as its settings.
if [ -n "${BUILD_PLUGINS_CLI:-}" ]; then
  xlrs="$BUILD_PLUGINS_CLI"
else
  echo "building the xlrs CLI (componentize)…" >&2
  cargo build --locked -q -p xlrs --manifest-path "$root/Cargo.toml"
  xlrs="$root/target/debug/xlrs"
fi

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

"$xlrs" plugin componentize "$guest_target/jsonl_store_v0_1.wasm" -o "$out/jsonl-store-v0_1.wasm"

for dir in "$root"/plugins/*/; do
  name=$(basename "$dir")
  [ -f "$dir/Cargo.toml" ] && continue
  echo "building $name with xlrs plugin build…" >&2
  "$xlrs" plugin build "$dir" -o "$out/$name.wasm" >/dev/null
  echo "  $out/$name.wasm ($(stat -c %s "$out/$name.wasm") bytes)" >&2
done

# `xlrs plugin new` output, built unchanged. Rust scaffolds share the plugins' target dir
# (same profile: the std built for wasm32 is reused).
scaffolds="$root/target/scaffolds"
rm -rf "$scaffolds"
mkdir -p "$scaffolds"
for lang in rust js python c; do
  for kind in validator transformer backend admission reactor; do
    [ "$lang" != rust ] && { [ "$kind" = admission ] || [ "$kind" = reactor ]; } && continue
    [ "$kind" = backend ] && [ "$lang" = c ] && continue
    name="new-$lang-$kind"
    "$xlrs" plugin new "$name" --kind "$kind" --lang "$lang" --dir "$scaffolds" >/dev/null 2>&1
    echo "building the $lang $kind template…" >&2
    CARGO_TARGET_DIR="$guest_target" "$xlrs" plugin build "$scaffolds/$name" -o "$out/$name.wasm" >/dev/null
  done
done
