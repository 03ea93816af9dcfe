#!/usr/bin/env bash
# Where xlrs's own CPU goes during a ClickHouse batch load: `xlrs serve` started under
# `perf record --call-graph dwarf` (attaching to a running server with -p hung on this
# machine) over a fresh chdb-core engine, loaded by the baseline's load.py (TOTAL statements,
# default 60,000, in POSTs of 100 by 8 clients); prints the POST figures and, per function,
# the share of samples whose stack holds it.
#
#   bash bench/clickhouse-perf.sh OUT_PREFIX [WRITERS] [TOTAL] [BINARY]
#
# (needs perf, target/release/xlrs built with debug info (the release profile has it) and
# scripts/databases.sh's venv; writes OUT_PREFIX.data and OUT_PREFIX.top.)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?OUT_PREFIX}; W=${2:-one}; TOTAL=${3:-60000}; BIN=${4:-target/release/xlrs}
B=$(mktemp -d); py=target/db-venv/bin/python; port=18395; listen=127.0.0.1:8295
$py scripts/clickhouse_server.py "$B/ch" $port > "$B/ch.log" 2>&1 & ep=$!
for _ in $(seq 60); do curl -sf http://127.0.0.1:$port/ping >/dev/null && break; sleep 0.5; done
env XLRS_STORE=clickhouse XLRS_WRITERS="$W" XLRS_CLICKHOUSE__COMPRESSION=none \
  XLRS_CLICKHOUSE__URL=http://127.0.0.1:$port XLRS_DATA_DIR="$B/x" XLRS_LISTEN=$listen \
  XLRS_ADMIN_USER=bench XLRS_ADMIN_PASSWORD=bench-password XLRS_LOG=warn \
  perf record -F 299 --call-graph dwarf,32768 -o "$OUT.data" -- "$BIN" serve > "$B/x.log" 2>&1 & pp=$!
for _ in $(seq 60); do curl -sf http://$listen/xAPI/about >/dev/null && break; sleep 0.5; done
python3 ../shared/baseline/load.py --url http://$listen/xAPI --user bench --password bench-password \
  --total "$TOTAL" --batch 100 --concurrency 8 --phases post > "$B/load.txt" 2>&1
grep "post batch" "$B/load.txt"
pkill -INT -f "$BIN serve"; wait $pp
echo stop > "$B/ch/stop.fifo"; wait $ep 2>/dev/null
perf script -i "$OUT.data" 2>/dev/null | python3 -c '
import collections, re, sys
stacks = sys.stdin.read().split("\n\n")
total, held = 0, collections.Counter()
name = re.compile(r"((?:xlrs_[a-z_]+|clickhouse|serde_json|sha2|argon2|hyper)::[A-Za-z0-9_:]+)")
for s in stacks:
    lines = [l.strip() for l in s.strip().split("\n") if l.strip()]
    if len(lines) < 2:
        continue
    total += 1
    held.update({re.sub(r"::h[0-9a-f]{16}$", "", m)[:100] for l in lines[1:] for m in name.findall(l)})
print(f"{total} samples")
for f, n in held.most_common(40):
    print(f"{100 * n / total:5.1f} %  {f}")
' | tee "$OUT.top"
rm -rf "$B"
