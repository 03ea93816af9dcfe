#!/usr/bin/env bash
# What the ClickHouse engine does from the end of a batch load through a GET-by-agent phase:
# one xlrs process over a fresh chdb-core engine that keeps system.query_log and part_log,
# loaded by the baseline's load.py (TOTAL statements, default 20,000, in POSTs of 100 by 8
# clients), then GETS pages by agent (default 300) by a new load.py, as
# bench/clickhouse-vs-ralph.sh runs them. Prints, from the moment the load ended: the pages
# started per 250 ms (their mean duration and engine CPU), each page (rows read, whether it
# read past the index), the inserts after the load (the index pass), and the merges.
#
#   bash bench/clickhouse-timeline.sh [BINARY]     (WRITERS, TOTAL, GETS from the environment;
#                                                   CONC: clients, 8 by default;
#                                                   REFS=1: a statement voided before the GETs;
#                                                   PHASE=verb: GETs by verb instead)
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/xlrs}; TOTAL=${TOTAL:-20000}; W=${WRITERS:-one}
B=$(mktemp -d); py=target/db-venv/bin/python; port=18499
CLICKHOUSE_QUERY_LOG=1 $py scripts/clickhouse_server.py $B/ch $port > $B/ch.log 2>&1 & ep=$!
for i in $(seq 60); do curl -sf http://127.0.0.1:$port/ping >/dev/null && break; sleep 0.5; done
env XLRS_STORE=clickhouse XLRS_WRITERS=$W XLRS_CLICKHOUSE__URL=http://127.0.0.1:$port XLRS_DATA_DIR=$B/x \
  XLRS_CLICKHOUSE__COMPRESSION=none XLRS_LISTEN=127.0.0.1:8399 XLRS_ADMIN_USER=bench \
  XLRS_ADMIN_PASSWORD=bench-password XLRS_LOG=warn "$BIN" serve > $B/x.log 2>&1 & xp=$!
for i in $(seq 60); do curl -sf http://127.0.0.1:8399/xAPI/about >/dev/null && break; sleep 0.5; done
Q() { curl -s "http://127.0.0.1:$port/" --data-binary "$1"; }
L() { python3 ../shared/baseline/load.py --url http://127.0.0.1:8399/xAPI --user bench \
  --password bench-password --concurrency ${CONC:-8} "$@"; }
L --total "$TOTAL" --batch 100 --phases post | grep -E "post batch"
if [ -n "${REFS:-}" ]; then
  # A database where a statement has voided another: pages need the voided set and the
  # StatementRef rule's part.
  X() { curl -s -u bench:bench-password -H "X-Experience-API-Version: 1.0.3" "$@"; }
  target=$(X "http://127.0.0.1:8399/xAPI/statements?limit=1" | python3 -c "import json,sys; print(json.load(sys.stdin)['statements'][0]['id'])")
  X -o /dev/null -H "Content-Type: application/json" "http://127.0.0.1:8399/xAPI/statements" --data-binary \
    "{\"actor\": {\"mbox\": \"mailto:admin@example.org\"}, \"verb\": {\"id\": \"http://adlnet.gov/expapi/verbs/voided\"}, \"object\": {\"objectType\": \"StatementRef\", \"id\": \"$target\"}}"
fi
t0=$(date +%s.%N)
L --phases "${PHASE:-agent}" --get-requests "${GETS:-300}" | grep -E "get filtered"
sleep 1; Q "SYSTEM FLUSH LOGS"
# Offsets are ms from the end of the load; queries of the last 3 s of the load on.
at="(toUnixTimestamp64Micro(query_start_time_microseconds) - toInt64($t0 * 1e6))"
since="query_start_time_microseconds > fromUnixTimestamp64Micro(toInt64(($t0 - 3) * 1e6))"
cpu="(ProfileEvents['UserTimeMicroseconds'] + ProfileEvents['SystemTimeMicroseconds'])"
page="query LIKE '%AS kind%'"
Q "SELECT intDiv($at, 250000) * 250 AS ms, countIf($page) AS pages,
     round(avgIf(query_duration_ms, $page), 1) AS page_ms, round(sumIf($cpu, $page) / 1e3) AS page_cpu_ms,
     countIf(query LIKE 'INSERT%') AS inserts, round(sumIf($cpu, query LIKE 'INSERT%') / 1e3) AS insert_cpu_ms
   FROM system.query_log WHERE type = 'QueryFinish' AND query NOT LIKE '%system.%' AND $since
   GROUP BY ms ORDER BY ms FORMAT PrettyCompactMonoBlock"
Q "SELECT round($at / 1000) AS ms, query_duration_ms AS dur_ms, round($cpu / 1e3, 1) AS cpu_ms, read_rows,
     position(query, 'UNION ALL') > 0 AS past_index, ProfileEvents['SelectedParts'] AS parts
   FROM system.query_log WHERE type = 'QueryFinish' AND $page AND $since
   ORDER BY query_start_time_microseconds LIMIT ${PAGES:-80} FORMAT PrettyCompactMonoBlock"
Q "SELECT round($at / 1000) AS ms, query_duration_ms AS dur_ms, round($cpu / 1e3, 1) AS cpu_ms, written_rows,
     substring(query, 1, 50) AS insert
   FROM system.query_log WHERE type = 'QueryFinish' AND query LIKE 'INSERT%' AND $at > -100000 AND $since
   ORDER BY query_start_time_microseconds FORMAT PrettyCompactMonoBlock"
Q "SELECT intDiv(toUnixTimestamp64Micro(event_time_microseconds) - toInt64($t0 * 1e6), 250000) * 250 AS ms,
     table, count() AS merges, round(sum(ProfileEvents['UserTimeMicroseconds'] + ProfileEvents['SystemTimeMicroseconds']) / 1e3) AS cpu_ms, sum(rows) AS rows
   FROM system.part_log WHERE database != 'system' AND event_type = 'MergeParts'
     AND event_time_microseconds > fromUnixTimestamp64Micro(toInt64(($t0 - 1) * 1e6))
   GROUP BY ms, table ORDER BY ms, table FORMAT PrettyCompactMonoBlock"
[ -n "${QUERIES:-}" ] && Q "SELECT substring(normalizeQuery(query), 1, 100) AS q, count() AS n, round(sum($cpu) / 1e3) AS cpu_ms FROM system.query_log WHERE type = 'QueryFinish' AND $at > 0 AND $since GROUP BY q ORDER BY cpu_ms DESC FORMAT PrettyCompactMonoBlock"
kill $xp; wait $xp 2>/dev/null
echo stop > $B/ch/stop.fifo; wait $ep 2>/dev/null
rm -rf "$B"
