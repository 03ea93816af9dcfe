#!/usr/bin/env bash
# What reading a page of scattered statements costs ClickHouse, by granule size of the
# statements table (8192 rows: tables created before 7c525c4; 256: since). One fresh chdb-core
# engine: xlrs stores TOTAL statements (baseline load.py, batches of 100), then the table is
# copied COPIES times over (new ids, later positions) into one table per granule size, and the
# same page is read from each: the newest 100 statements of one generated agent (neighbours
# in the table), then 100 statements spread over the whole table (a learner among tens of
# thousands: each in a granule of its own), RUNS times each, median and min ms.
#
#   bash bench/clickhouse-granules.sh     (needs target/release/xlrs and scripts/databases.sh's venv)
set -euo pipefail
cd "$(dirname "$0")/.."
TOTAL=${TOTAL:-20000} COPIES=${COPIES:-10} RUNS=${RUNS:-20}
B=$(mktemp -d); py=target/db-venv/bin/python; port=18390
$py scripts/clickhouse_server.py $B/ch $port > $B/ch.log 2>&1 & ep=$!
trap 'kill $xp 2>/dev/null; echo stop > $B/ch/stop.fifo; wait $ep; rm -rf $B' EXIT
for i in $(seq 60); do curl -sf http://127.0.0.1:$port/ping >/dev/null && break; sleep 0.5; done
env XLRS_STORE=clickhouse XLRS_CLICKHOUSE__URL=http://127.0.0.1:$port XLRS_DATA_DIR=$B/x \
  XLRS_LISTEN=127.0.0.1:8290 XLRS_ADMIN_USER=bench XLRS_ADMIN_PASSWORD=bench-password \
  XLRS_LOG=warn target/release/xlrs serve > $B/x.log 2>&1 & xp=$!
for i in $(seq 60); do curl -sf http://127.0.0.1:8290/xAPI/about >/dev/null && break; sleep 0.5; done
python3 ../shared/baseline/load.py --url http://127.0.0.1:8290/xAPI --user bench \
  --password bench-password --total "$TOTAL" --batch 100 --concurrency 8 --phases post > $B/load.txt
$py - "$port" "$COPIES" "$RUNS" <<'PY'
import http.client, statistics, sys, time
port, copies, runs = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
c = http.client.HTTPConnection("127.0.0.1", port)
def q(sql):
    c.request("POST", "/?database=xapi", body=sql)
    r = c.getresponse(); body = r.read()
    if r.status != 200:
        raise SystemExit(body.decode())
    return body
for g in (8192, 256):
    q(f"CREATE TABLE g{g} AS xlrs_statements ENGINE = MergeTree ORDER BY (stored, id) "
      f"SETTINGS index_granularity = {g}")
    q(f"INSERT INTO g{g} SELECT s.* REPLACE (generateUUIDv4() AS id, stored + m.n * 1000000000 AS stored) "
      f"FROM xlrs_statements AS s, (SELECT number AS n FROM numbers({copies})) AS m")
    q(f"OPTIMIZE TABLE g{g} FINAL")
rows = int(q("SELECT count() FROM g256"))
agent = "mbox:mailto:learner0042@example.org"
pages = {
    "neighbours": q(f"SELECT arrayStringConcat(groupArray(toString(stored)), ',') FROM (SELECT stored "
                    f"FROM g8192 WHERE has(direct_agents, '{agent}') ORDER BY stored DESC LIMIT 100)"),
    "scattered": q(f"SELECT arrayStringConcat(groupArray(toString(stored)), ',') FROM (SELECT stored "
                   f"FROM g8192 WHERE cityHash64(id) % {rows // 100} = 7 LIMIT 100)"),
}
print(f"{rows} statements; a page of 100 bodies read by position (ms, median / min of {runs})")
for name, positions in pages.items():
    for g in (8192, 256):
        sql = (f"SELECT stored, body FROM g{g} WHERE stored IN ({positions.decode().strip()}) "
               f"ORDER BY stored DESC FORMAT RowBinary")
        times = []
        for _ in range(runs):
            t = time.perf_counter(); q(sql); times.append((time.perf_counter() - t) * 1000)
        print(f"{name:10} granules of {g:4}: {statistics.median(times):6.1f} / {min(times):6.1f}")
PY
