#!/usr/bin/env bash
# What pages by agent cost the engine alone and read together (crates/store-clickhouse/src/
# agent_pages.rs): one xlrs process (`writers = "one"`) over a fresh chdb-core engine that keeps
# system.query_log, loaded by the baseline's load.py with TOTAL statements (default 20,000;
# POSTs of 100 by 8 clients); after the index pass, ROUNDS (default 10) rounds of the SQL xlrs
# sends, straight to the engine, with `max_threads = 1` as xlrs sets it: a page of 100 by each
# of 8 agents alone, then the same 8 pages in one query, then 4 and 2 of them. Prints the engine
# CPU, rows read and duration of each form.
#
#   bash bench/clickhouse-pages-together.sh [BINARY]     (needs scripts/databases.sh's venv)
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/xlrs}; TOTAL=${TOTAL:-20000}; ROUNDS=${ROUNDS:-10}
B=$(mktemp -d); py=target/db-venv/bin/python; port=18497
CLICKHOUSE_QUERY_LOG=1 $py scripts/clickhouse_server.py $B/ch $port > $B/ch.log 2>&1 & ep=$!
for i in $(seq 60); do curl -sf http://127.0.0.1:$port/ping >/dev/null && break; sleep 0.5; done
env XLRS_STORE=clickhouse XLRS_WRITERS=one XLRS_CLICKHOUSE__URL=http://127.0.0.1:$port \
  XLRS_CLICKHOUSE__COMPRESSION=none XLRS_DATA_DIR=$B/x XLRS_LISTEN=127.0.0.1:8397 \
  XLRS_ADMIN_USER=bench XLRS_ADMIN_PASSWORD=bench-password XLRS_LOG=warn "$BIN" serve > $B/x.log 2>&1 & xp=$!
for i in $(seq 60); do curl -sf http://127.0.0.1:8397/xAPI/about >/dev/null && break; sleep 0.5; done
python3 ../shared/baseline/load.py --url http://127.0.0.1:8397/xAPI --user bench --password bench-password \
  --total "$TOTAL" --batch 100 --concurrency 8 --phases post | grep "post batch" | cut -c1-100
sleep 3  # the index pass after the load
kill $xp; wait $xp 2>/dev/null
Q() { curl -s "http://127.0.0.1:$port/" --data-binary "$1"; }
T=xapi.xlrs_statements_by_agent
through=$(Q "SELECT max(through) FROM xapi.xlrs_statements_indexed")
# Eight agents spread over the key order (as the load's agents, drawn at random, are).
mapfile -t agents < <(Q "SELECT agent FROM (SELECT DISTINCT agent FROM $T WHERE direct = 1 ORDER BY agent)
                          WHERE rowNumberInAllBlocks() % 23 = 5 LIMIT 8")
Q "SELECT count() AS index_rows, count(DISTINCT _part) AS parts FROM $T FORMAT PrettyCompactMonoBlock"
alone() { # the SQL of one page (query.rs, agent_page_sql without a tail)
  echo "SELECT stored, body, toUInt8(1) AS kind, toUInt64(0) AS windowed FROM $T WHERE agent = '$1' AND direct = 1 AND stored <= $through ORDER BY stored DESC, written DESC LIMIT 1 BY stored LIMIT 101 SETTINGS max_threads = 1 FORMAT Null"
}
together() { # the SQL of the pages of agents $@ read together (agent_pages.rs, together_sql)
  local pages="" a
  for a in "$@"; do pages="$pages${pages:+ OR }(agent = '$a')"; done
  echo "SELECT agent, stored, body FROM (SELECT agent, stored, body FROM $T WHERE direct = 1 AND stored <= $through AND ($pages) ORDER BY agent, stored, written DESC LIMIT 1 BY agent, stored) ORDER BY agent, stored DESC LIMIT 101 BY agent SETTINGS max_threads = 1 FORMAT Null"
}
Q "SYSTEM FLUSH LOGS"; Q "TRUNCATE TABLE system.query_log"
for r in $(seq "$ROUNDS"); do
  for a in "${agents[@]}"; do Q "$(alone "$a") /* alone */"; done
  Q "$(together "${agents[@]}") /* together_8 */"
  Q "$(together "${agents[@]:0:4}") /* together_4 */"
  Q "$(together "${agents[@]:0:2}") /* together_2 */"
done
Q "SYSTEM FLUSH LOGS"
Q "SELECT extract(query, '/\\* (\\w+) \\*/') AS form, count() AS queries,
          round(avg((ProfileEvents['UserTimeMicroseconds'] + ProfileEvents['SystemTimeMicroseconds']) / 1000), 2) AS cpu_ms,
          avg(read_rows) AS rows_read, round(avg(query_duration_ms), 1) AS ms
   FROM system.query_log WHERE type = 'QueryFinish' AND query LIKE '%/* %' AND query NOT LIKE '%query_log%'
   GROUP BY form ORDER BY form FORMAT PrettyCompactMonoBlock"
echo stop > $B/ch/stop.fifo; wait $ep 2>/dev/null
rm -rf "$B"
