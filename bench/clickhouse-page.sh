#!/usr/bin/env bash
# What a page by agent costs the engine: one xlrs process over a fresh chdb-core engine that
# keeps system.query_log, loaded by the baseline's load.py with TOTAL statements (default
# 20,000; POSTs of 100 by 8 clients); the index tables merged (`OPTIMIZE … FINAL`), then 8
# pages by agent (limit 100) through xlrs, one at a time; prints their mean engine CPU, rows
# read and duration, and those of the StatementRefs question asked before each.
#
#   bash bench/clickhouse-page.sh [BINARY]     (needs scripts/databases.sh's venv)
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/xlrs}; TOTAL=${TOTAL:-20000}
B=$(mktemp -d); py=target/db-venv/bin/python; port=18498
CLICKHOUSE_QUERY_LOG=1 $py scripts/clickhouse_server.py $B/ch $port > $B/ch.log 2>&1 & ep=$!
for i in $(seq 60); do curl -sf http://127.0.0.1:$port/ping >/dev/null && break; sleep 0.5; done
env XLRS_STORE=clickhouse XLRS_WRITERS=${WRITERS:-one} XLRS_CLICKHOUSE__URL=http://127.0.0.1:$port \
  XLRS_CLICKHOUSE__COMPRESSION=none XLRS_DATA_DIR=$B/x XLRS_LISTEN=127.0.0.1:8398 \
  XLRS_ADMIN_USER=bench XLRS_ADMIN_PASSWORD=bench-password XLRS_LOG=warn "$BIN" serve > $B/x.log 2>&1 & xp=$!
for i in $(seq 60); do curl -sf http://127.0.0.1:8398/xAPI/about >/dev/null && break; sleep 0.5; done
python3 ../shared/baseline/load.py --url http://127.0.0.1:8398/xAPI --user bench --password bench-password \
  --total "$TOTAL" --batch 100 --concurrency 8 --phases post | grep "post batch" | cut -c1-100
sleep 3  # a pass of the indexer
Q() { curl -s "http://127.0.0.1:$port/" --data-binary "$1"; }
Q "OPTIMIZE TABLE xapi.xlrs_statements_by_agent FINAL"
Q "SYSTEM FLUSH LOGS"; Q "TRUNCATE TABLE system.query_log"
for a in 5 17 33 48 71 99 120 150; do
  agent=$(cd ../shared/baseline && python3 -c "
import gen_statements, json, urllib.parse
ag = gen_statements.agent($a)
print(urllib.parse.quote(json.dumps({'mbox': ag['mbox'], 'objectType': 'Agent'}, separators=(',', ':'))))")
  curl -s -o /dev/null -u bench:bench-password -H "X-Experience-API-Version: 1.0.3" \
    "http://127.0.0.1:8398/xAPI/statements?agent=$agent&limit=100"
done
Q "SYSTEM FLUSH LOGS"
Q "SELECT count() AS pages,
          round(avg((ProfileEvents['UserTimeMicroseconds'] + ProfileEvents['SystemTimeMicroseconds']) / 1000), 1) AS cpu_ms,
          avg(read_rows) AS rows_read, avg(query_duration_ms) AS ms
   FROM system.query_log WHERE type = 'QueryFinish' AND query LIKE '%AS kind%' AND query NOT LIKE '%system.query_log%' FORMAT PrettyCompactMonoBlock"
# and the question whether there are StatementRefs, asked before each page while there are none
Q "SELECT count() AS asked, round(avg((ProfileEvents['UserTimeMicroseconds'] + ProfileEvents['SystemTimeMicroseconds']) / 1000), 1) AS cpu_ms
   FROM system.query_log WHERE type = 'QueryFinish' AND query = 'SELECT count() FROM xlrs_statements_refs' FORMAT PrettyCompactMonoBlock"
kill $xp; wait $xp 2>/dev/null
echo stop > $B/ch/stop.fifo; wait $ep 2>/dev/null
rm -rf "$B"
