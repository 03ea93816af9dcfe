#!/usr/bin/env bash
# One xlrs process over a fresh chdb-core engine, loaded by the baseline's load.py (TOTAL
# statements in POSTs of 100 by 8 clients, then 300 GETs by agent), with the CPU seconds the
# engine and xlrs each spent per phase (from /proc/<pid>/stat). Settings pass through the
# environment, e.g. an A/B of the wire compression:
#
#   XLRS_CLICKHOUSE__COMPRESSION=none bash bench/clickhouse-cpu.sh [WRITERS] [BINARY]
#
# (needs target/release/xlrs and scripts/databases.sh's venv; KEEP=1 keeps the data dirs.)
set -uo pipefail
cd "$(dirname "$0")/.."
W=${1:-many}; BIN=${2:-target/release/xlrs}
B=$(mktemp -d); py=target/db-venv/bin/python; port=18399
$py scripts/clickhouse_server.py $B/ch $port > $B/ch.log 2>&1 & ep=$!
for i in $(seq 60); do curl -sf http://127.0.0.1:$port/ping >/dev/null && break; sleep 0.5; done
env XLRS_STORE=clickhouse XLRS_WRITERS=$W XLRS_CLICKHOUSE__URL=http://127.0.0.1:$port XLRS_DATA_DIR=$B/x \
  XLRS_LISTEN=127.0.0.1:8299 XLRS_ADMIN_USER=bench XLRS_ADMIN_PASSWORD=bench-password XLRS_LOG=warn $BIN serve > $B/x.log 2>&1 & xp=$!
for i in $(seq 60); do curl -sf http://127.0.0.1:8299/xAPI/about >/dev/null && break; sleep 0.5; done
cpu() { awk -v hz="$(getconf CLK_TCK)" '{print ($14+$15)/hz}' /proc/$1/stat; }
for ph in post agent; do
  e0=$(cpu $ep); x0=$(cpu $xp)
  python3 ../shared/baseline/load.py --url http://127.0.0.1:8299/xAPI --user bench --password bench-password --total ${TOTAL:-20000} --batch 100 --concurrency 8 --phases $ph --get-requests 300 --json-out $B/$ph.json > $B/$ph.txt 2>&1
  e1=$(cpu $ep); x1=$(cpu $xp)
  python3 - "$B/$ph.json" <<PY
import json,sys
d=json.load(open(sys.argv[1]))
for r in (d if isinstance(d,list) else d.get("phases",[d])):
  print("$ph", r.get("statements_per_s"), r.get("latency_ms"), "wall", r.get("wall_s"), "client_cpu", r.get("client_cpu_s"), r.get("statuses"))
PY
  echo "$ph cpu: engine $(echo "$e1 - $e0" | bc) xlrs $(echo "$x1 - $x0" | bc)"
done
kill $xp; wait $xp 2>/dev/null
echo stop > $B/ch/stop.fifo; wait $ep 2>/dev/null
[ -n "${KEEP:-}" ] && echo $B || rm -rf $B
