#!/usr/bin/env bash
# What issue 24's new plugin paths cost batch ingest: batch-100 POSTs by xlrs-bench (8 clients,
# DURATION s, embedded store) against one xlrs process with
#   none      no plugin,
#   profile-cmi5   plugins/profile-validator with ADL's cmi5 profile (scope declared: the
#             generated statements do not declare it, so the cost is the call and the profile's
#             parse per batch; all are stored),
#   profile-video  the same with ADL's Video profile, which the generated statements (shaped
#             as Open edX sends video events) declare: every template they match is checked,
#             and most batches are refused (400) for rules Open edX's statements break,
#   require-fields  plugins/require-fields checking `verb.id`: a v0.2 field validator reading
#             one field per statement, the work of a verb allow-list,
#   reactor   a forwarding target plugin:derive-statement (a reactor called with every stored
#             batch from the durable queue; its verb never matches, so it derives nothing),
#   anonymize-v01  plugins/anonymize built as a v0.1 transformer (whole statements in and out;
#             built here into target/plugins/anonymize-v0_1.wasm when missing),
#   anonymize-v02  plugins/anonymize as shipped: a v0.2 field transformer (reads /actor,
#             answers a merge patch),
#   anonymize-before  another build of it, named by ANONYMIZE_BEFORE (e.g. an older commit's),
#   jsonl     plugins/jsonl-store as the statement store (XLRS_STORE=jsonl-store; JSONL_WASM
#             names another build of it, e.g. an older one, to compare): contract v0.2,
#             world `storage` (the host applies the xAPI rules over its primitives),
#   jsonl-v01 its v0.1 form (world `backend`: it applies the rules itself),
#   jsonl-js, jsonl-py  the JavaScript and Python storage templates (`xlrs plugin new --kind
#             backend`, built by scripts/build-plugins.sh) as the store,
#   verbs-py  plugins/verb-allowlist (Python, v0.2: CPython in the component) allowing the
#             generated statements' verbs,
#   verbs-rust  plugins/verb-allowlist-rust (the same check in Rust, a v0.2 field validator)
#             allowing the generated statements' verbs,
# each ROUNDS times, alternating, so drift hits every setup alike. SETUPS picks setups;
# REACTOR_BATCH sets the reactor target's batch_size (default 100). PHASES (default `batch`)
# and PRELOAD (statements stored before GET phases) are passed to xlrs-bench.
#
#   bash bench/plugins-v02.sh OUT_DIR   (needs target/release/{xlrs,xlrs-bench} and
#                                        target/plugins/ from scripts/build-plugins.sh)
set -uo pipefail
cd "$(dirname "$0")/.."
if [[ " ${SETUPS:-} " == *" anonymize-v01 "* ]] && [ ! -f target/plugins/anonymize-v0_1.wasm ]; then
  (cd plugins && env RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-22 CARGO_TARGET_DIR=../target/wasm-guests-v01 \
    /usr/bin/cargo build --locked --release --target wasm32-unknown-unknown \
    -Zbuild-std=std,panic_abort -p anonymize --no-default-features --features v0_1) || exit 1
  target/release/xlrs plugin componentize \
    target/wasm-guests-v01/wasm32-unknown-unknown/release/anonymize.wasm \
    -o target/plugins/anonymize-v0_1.wasm || exit 1
fi
out=${1:?OUT_DIR}; mkdir -p "$out"
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-2}
SETUPS=${SETUPS:-none anonymize-v01 anonymize-v02 require-fields verbs-py profile-cmi5 profile-video reactor}
PW=bench-password
port=8241

serve() { # setup data_dir: starts xlrs serve with the setup's plugins; prints its pid
  local setup=$1 dir=$2 env=()
  mkdir -p "$dir/plugins"
  case $setup in
    profile-*)
      mkdir -p "$dir/plugins/profile-validator" "$dir/plugin-data/profiles"
      cp target/plugins/profile-validator.wasm "$dir/plugins/profile-validator/"
      cp plugins/profile-validator/plugin.toml "$dir/plugins/profile-validator/"
      cp "tests/data/profiles/${setup#profile-}.jsonld" "$dir/plugin-data/profiles/" ;;
    require-fields)
      mkdir -p "$dir/plugins/require-fields"
      cp target/plugins/require-fields.wasm "$dir/plugins/require-fields/"
      printf 'kind = "validator"\n[config]\nfields = "verb.id"\n' > "$dir/plugins/require-fields/plugin.toml" ;;
    anonymize-v01|anonymize-v02|anonymize-before)
      local file=target/plugins/anonymize.wasm
      [ $setup = anonymize-v01 ] && file=target/plugins/anonymize-v0_1.wasm
      [ $setup = anonymize-before ] && file=${ANONYMIZE_BEFORE:?another build of anonymize.wasm}
      mkdir -p "$dir/plugins/anonymize"
      cp "$file" "$dir/plugins/anonymize/anonymize.wasm"
      printf 'kind = "transformer"\n[config]\nsalt = "bench"\n' > "$dir/plugins/anonymize/plugin.toml" ;;
    jsonl|jsonl-v01|jsonl-js|jsonl-py)
      local wasm=${JSONL_WASM:-target/plugins/jsonl-store.wasm}
      case $setup in
        jsonl-v01) wasm=target/plugins/jsonl-store-v0_1.wasm ;;
        jsonl-js) wasm=target/plugins/new-js-backend.wasm ;;
        jsonl-py) wasm=target/plugins/new-python-backend.wasm ;;
      esac
      mkdir -p "$dir/plugins/jsonl-store"
      cp "$wasm" "$dir/plugins/jsonl-store/jsonl-store.wasm"
      printf 'kind = "backend"\n[capabilities]\ndir = "jsonl"\n[limits]\nmemory_mb = 512\ntimeout_ms = 10000\n' \
        > "$dir/plugins/jsonl-store/plugin.toml"
      env=(XLRS_STORE=jsonl-store) ;;
    verbs-py|verbs-rust)
      local plugin=verb-allowlist
      [ $setup = verbs-rust ] && plugin=verb-allowlist-rust
      mkdir -p "$dir/plugins/$plugin"
      cp target/plugins/$plugin.wasm "$dir/plugins/$plugin/"
      printf 'kind = "validator"\n[limits]\nmemory_mb = 256\ntimeout_ms = 5000\n[config]\nverbs = "%s"\n' \
        "$(sed -n 's/^ *("\(http[^"]*\)".*/\1/p' bench/src/statements.rs | paste -sd,)" \
        > "$dir/plugins/$plugin/plugin.toml" ;;
    reactor)
      mkdir -p "$dir/plugins/derive-statement"
      cp target/plugins/derive-statement.wasm "$dir/plugins/derive-statement/"
      printf 'kind = "reactor"\n[config]\nwhen_verb = "http://example.org/never"\nthen_verb = "http://example.org/derived"\n' \
        > "$dir/plugins/derive-statement/plugin.toml"
      env=(XLRS_FORWARDING="[{\"url\": \"plugin:derive-statement\", \"batch_size\": ${REACTOR_BATCH:-100}}]") ;;
  esac
  env "${env[@]}" XLRS_DATA_DIR=$dir XLRS_LISTEN=127.0.0.1:$port XLRS_ADMIN_USER=admin \
    XLRS_ADMIN_PASSWORD=$PW XLRS_LOG=warn target/release/xlrs serve > "$dir.log" 2>&1 &
  echo $!
}

cpu_ticks() { # pid: the process's user + system CPU so far, in clock ticks
  awk '{print $14 + $15}' "/proc/$1/stat"
}

thread_cpu() { # pid: CPU ns so far of the process's threads, a line per kind of thread
  # (plugin: the plugin threads; async: tokio's threads, its async workers and blocking pool
  # alike by name; store: the store's threads), from
  # the scheduler's own count (schedstat): the ticks of /proc/<pid>/stat miss most of the
  # short bursts plugin threads run in
  for t in /proc/$1/task/*; do
    echo "$(cat "$t/comm" 2>/dev/null)	$(cut -d' ' -f1 "$t/schedstat" 2>/dev/null)"
  done | awk -F'\t' '{n = $1
      k = n ~ /^xlrs-plugin-[0-9]/ ? "plugin" : n ~ /^tokio-rt-worker/ ? "async" : n ~ /^xlrs-sqlite/ ? "store" : "other"
      t[k] += $2} END {for (k in t) print k, t[k]}'
}

for round in $(seq "$ROUNDS"); do
  for setup in $SETUPS; do
    dir=$(mktemp -d)/x
    pid=$(serve $setup "$dir")
    for i in $(seq 120); do curl -sf http://127.0.0.1:$port/xAPI/about >/dev/null && break; sleep 0.5; done
    # A plugin compiles when it loads: wait until /plugins shows it serving.
    for i in $(seq 120); do
      curl -s -u admin:$PW http://127.0.0.1:$port/plugins | grep -q '"serving":false' || break; sleep 0.5
    done
    before=$(cpu_ticks $pid)
    thread_cpu $pid > "$out/$setup-$round.threads-before"
    target/release/xlrs-bench --url http://127.0.0.1:$port --password $PW --phases "${PHASES:-batch}" \
      --preload "${PRELOAD:-100000}" --duration-secs "$DURATION" > "$out/$setup-$round.txt" 2>&1
    # The server's CPU per statement stored (the load tool shares the cores, so this is the
    # steadier figure of what a setup costs): ticks of 1/$(getconf CLK_TCK) s.
    echo "$before $(cpu_ticks $pid) $(getconf CLK_TCK)" > "$out/$setup-$round.cpu"
    thread_cpu $pid > "$out/$setup-$round.threads-after"
    # Where each plugin's calls ran: on the request's thread (`inline`), and how many ran past
    # its budget and were made again on a plugin thread (`handed_over`).
    curl -s -u admin:$PW http://127.0.0.1:$port/plugins > "$out/$setup-$round.plugins"
    if [ $setup = reactor ]; then
      curl -s http://127.0.0.1:$port/metrics | grep -E '^xlrs_forward(ed_total|ing_waiting|ing_lag_seconds)' \
        > "$out/$setup-$round.metrics"
    fi
    kill $pid; wait $pid 2>/dev/null
    rm -rf "$(dirname "$dir")"
  done
done
for f in "$out"/*.txt; do
  row=$(grep "batch-100 POST" "$f" | head -1)
  printf '%s: %s\n' "$(basename "$f" .txt)" "$row"
  # Statements stored in the batch phase: requests × 100.
  n=$(awk -F'|' '{print $3 * 100}' <<< "$row")
  # Server CPU µs per statement over the run.
  awk -v n="${n:-0}" '{if (n > 0) printf "  server CPU: %.1f µs per statement\n", ($2 - $1) / $3 * 1e6 / n}' \
    "${f%.txt}.cpu"
  # The same by kind of thread: what the plugin threads cost, and what the rest does more.
  if [ -f "${f%.txt}.threads-after" ]; then
    awk -v n="${n:-0}" 'NR == FNR {b[$1] = $2; next}
      n > 0 {printf "%s %.1f, ", $1, ($2 - b[$1]) / 1e3 / n; all += $2 - b[$1]}
      END {if (n > 0) printf "all %.1f", all / 1e3 / n}' \
      "${f%.txt}.threads-before" "${f%.txt}.threads-after" | sed 's/, $//; s/^/    µs per statement by thread: /'
    echo
  fi
  grep -i "GET by agent\|get-agent" "$f" | head -1
  [ -s "${f%.txt}.plugins" ] && python3 -c 'import json, sys
for p in json.load(open(sys.argv[1]))["plugins"]:
    print("  %s: inline %s, handed over %s of %s calls" % (p["name"], p.get("inline"), p.get("handed_over"), p.get("calls")))' "${f%.txt}.plugins"
done
