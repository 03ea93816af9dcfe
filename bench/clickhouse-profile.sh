#!/usr/bin/env bash
# Where the engine's work goes during a batch load: one xlrs process over a fresh chdb-core
# engine that keeps system.query_log and system.part_log, loaded by the baseline's load.py
# (TOTAL statements, default 20,000, in POSTs of 100 by 8 clients); prints the POST figures,
# the CPU seconds of the engine and of xlrs (from /proc/<pid>/stat), the engine's CPU per kind of
# query, and its merges per table.
#
#   bash bench/clickhouse-profile.sh [WRITERS] [TOTAL] [BINARY]
#
# (needs target/release/xlrs and scripts/databases.sh's venv; settings pass through the
# environment, e.g. XLRS_CLICKHOUSE__COMPRESSION=none; GETS=300 then profiles as many pages by
# agent on their own; CONC=N loads with N clients instead of 8.)
set -uo pipefail
cd "$(dirname "$0")/.."
W=${1:-one}; TOTAL=${2:-20000}; BIN=${3:-target/release/xlrs}
B=$(mktemp -d); py=target/db-venv/bin/python; port=18398
CLICKHOUSE_QUERY_LOG=1 $py scripts/clickhouse_server.py $B/ch $port > $B/ch.log 2>&1 & ep=$!
for i in $(seq 60); do curl -sf http://127.0.0.1:$port/ping >/dev/null && break; sleep 0.5; done
env XLRS_STORE=clickhouse XLRS_WRITERS=$W XLRS_CLICKHOUSE__URL=http://127.0.0.1:$port XLRS_DATA_DIR=$B/x \
  XLRS_LISTEN=127.0.0.1:8298 XLRS_ADMIN_USER=bench XLRS_ADMIN_PASSWORD=bench-password XLRS_LOG=warn $BIN serve > $B/x.log 2>&1 & xp=$!
for i in $(seq 60); do curl -sf http://127.0.0.1:8298/xAPI/about >/dev/null && break; sleep 0.5; done
Q() { curl -s "http://127.0.0.1:$port/" --data-binary "$1"; }
sleep 1; Q "SYSTEM FLUSH LOGS"; Q "TRUNCATE TABLE system.part_log"
cpu() { awk -v hz="$(getconf CLK_TCK)" '{print ($14+$15)/hz}' /proc/$1/stat; }
# Runs load.py with arguments $2.. (its output in $B/$1.txt), then prints its figures, the CPU
# of the engine and of xlrs meanwhile, and the engine's CPU per kind of query.
profiled() {
  local name=$1; shift
  Q "SYSTEM FLUSH LOGS"; Q "TRUNCATE TABLE system.query_log"
  e0=$(cpu $ep); x0=$(cpu $xp)
  python3 ../shared/baseline/load.py --url http://127.0.0.1:8298/xAPI --user bench --password bench-password \
    --concurrency ${CONC:-8} "$@" > $B/$name.txt 2>&1
  e1=$(cpu $ep); x1=$(cpu $xp)
  grep -E "post batch|get filtered" $B/$name.txt
  echo "CPU s: engine $(echo "$e1 - $e0" | bc), xlrs $(echo "$x1 - $x0" | bc)"
  Q "SYSTEM FLUSH LOGS"
  Q "SELECT substring(replaceRegexpAll(normalizeQuery(query), '\\s+', ' '), 1, 90) AS query, count() AS n,
            round(sum(ProfileEvents['UserTimeMicroseconds'] + ProfileEvents['SystemTimeMicroseconds']) / 1e6, 3) AS cpu_s,
            round(avg(query_duration_ms), 1) AS avg_ms, sum(read_rows) AS rows_read
     FROM system.query_log WHERE type = 'QueryFinish' AND query NOT LIKE '%system.%'
     GROUP BY query ORDER BY cpu_s DESC LIMIT 12 FORMAT PrettyCompactMonoBlock"
}
profiled load --total "$TOTAL" --batch 100 --phases post
Q "SELECT table, event_type, count() AS n,
          round(sum(ProfileEvents['UserTimeMicroseconds'] + ProfileEvents['SystemTimeMicroseconds']) / 1e6, 3) AS cpu_s,
          formatReadableSize(sum(size_in_bytes)) AS bytes, sum(rows) AS rows
   FROM system.part_log WHERE event_type IN ('NewPart', 'MergeParts') AND database != 'system'
   GROUP BY table, event_type ORDER BY cpu_s DESC FORMAT PrettyCompactMonoBlock"
# Then GETS pages by agent (limit 100) by 8 clients, profiled on their own.
[ -n "${GETS:-}" ] && profiled get --phases agent --get-requests "$GETS"
kill $xp; wait $xp 2>/dev/null
echo stop > $B/ch/stop.fifo; wait $ep 2>/dev/null
[ -n "${KEEP:-}" ] && echo "kept $B" || rm -rf "$B"
