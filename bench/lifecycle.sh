#!/usr/bin/env bash
# Retention and erasure figures (issue 25), on one xlrs process over STORE (sqlite, the
# default, or clickhouse on chdb-core from scripts/databases.sh), loaded by the baseline's
# load.py:
#   1. PRELOAD statements (default 50,000) in POSTs of 100 by 8 clients; then a pause until
#      they are older than statements_max_age (45 s);
#   2. ingest alone: INGEST statements (default 20,000), the same way;
#   3. a retention pass (POST /admin/retention) removing the preloaded statements while the
#      same ingest runs again: statements removed per second, and the ingest rate beside 2;
#   4. an erasure of one generated agent (dry run, then the real run), timed by the client.
#
#   bash bench/lifecycle.sh OUT_DIR      (needs target/release/xlrs; STORE=clickhouse also
#                                          scripts/databases.sh's venv)
set -uo pipefail
cd "$(dirname "$0")/.."
BL=${BASELINE:-../shared/baseline}
B=$(mktemp -d)
out=${1:?OUT_DIR}; mkdir -p "$out"
STORE=${STORE:-sqlite}
PRELOAD=${PRELOAD:-50000}
INGEST=${INGEST:-20000}
PW=bench-password
port=8231
engine=()
if [ "$STORE" = clickhouse ]; then
  target/db-venv/bin/python scripts/clickhouse_server.py "$B/ch" 18331 > "$B/ch.log" 2>&1 &
  ch_pid=$!
  for i in $(seq 60); do curl -sf http://127.0.0.1:18331/ping >/dev/null && break; sleep 0.5; done
  engine=(XLRS_CLICKHOUSE__URL=http://127.0.0.1:18331)
fi
env XLRS_STORE=$STORE "${engine[@]}" XLRS_DATA_DIR=$B/x XLRS_LISTEN=127.0.0.1:$port \
  XLRS_ADMIN_USER=bench XLRS_ADMIN_PASSWORD=$PW XLRS_LOG=warn \
  XLRS_LIFECYCLE__STATEMENTS_MAX_AGE=45s XLRS_LIFECYCLE__RETENTION_INTERVAL=1d \
  XLRS_LIFECYCLE__ERASURE_CONFIRM_ABOVE=100000000 \
  target/release/xlrs serve > "$B/xlrs.log" 2>&1 &
xlrs_pid=$!
for i in $(seq 60); do curl -sf http://127.0.0.1:$port/xAPI/about >/dev/null && break; sleep 0.5; done
url=http://127.0.0.1:$port

load() { # total name [more load.py arguments]
  local total=$1 name=$2; shift 2
  python3 $BL/load.py --url $url/xAPI --user bench --password $PW --total "$total" --batch 100 \
    --concurrency 8 --phases post --json-out "$out/$name.json" "$@" > "$out/$name.txt" 2>&1
}
admin() { # method path [json body]: the answer, and its time on stderr
  curl -s -u bench:$PW -X "$1" -H 'Content-Type: application/json' ${3:+-d "$3"} \
    -w '\n%{time_total}\n' "$url$2"
}

load "$PRELOAD" preload
preloaded_at=$(date +%s)
sleep $(( 50 - ($(date +%s) - preloaded_at) ))
load "$INGEST" ingest-alone --seed 2
load "$INGEST" ingest-during-retention --seed 3 &
ingest=$!
admin POST /admin/retention '{"dry_run": false}' > "$out/retention-start.txt"
# Longer than a few seconds, the pass answers 202 and goes on: wait for its report.
for i in $(seq 600); do
  admin GET /admin/status | head -1 | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["retention"]["last_pass"]))' > "$out/retention-last.json"
  grep -q '"took_ms"' "$out/retention-last.json" && break
  sleep 1
done
printf '%s\n0\n' "$(cat "$out/retention-last.json")" > "$out/retention-pass.txt"
wait $ingest
# An agent the last ingest stored statements of.
agent=$(curl -s -u bench:$PW -H 'X-Experience-API-Version: 1.0.3' "$url/xAPI/statements?limit=1" \
  | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["statements"][0]["actor"]))')
admin POST /admin/erasure "{\"agent\": $agent, \"dry_run\": true}" > "$out/erasure-dry-run.txt"
admin POST /admin/erasure "{\"agent\": $agent, \"dry_run\": false}" > "$out/erasure.txt"
kill $xlrs_pid; wait $xlrs_pid 2>/dev/null
if [ "$STORE" = clickhouse ]; then echo stop > "$B/ch/stop.fifo"; wait $ch_pid 2>/dev/null; fi
python3 - "$out" <<'PY'
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
def rate(name):
    return json.loads((out / f"{name}.json").read_text())["phases"][0]["statements_per_s"]
def answer(name):
    body, took = (out / f"{name}.txt").read_text().rsplit("\n", 2)[:2]
    return json.loads(body), float(took)
rp, _ = answer("retention-pass")
dry, _ = answer("erasure-dry-run")
er, took = answer("erasure")
c = er["counts"]
print(f"ingest alone: {rate('ingest-alone')} statements/s; during the retention pass: {rate('ingest-during-retention')} statements/s")
print(f"retention pass: {rp['statements']} statements in {rp['took_ms']} ms = {rp['statements'] * 1000 / max(rp['took_ms'], 1):.0f} statements/s")
print(f"erasure of one agent: {c['statements_removed']} statements removed, {c['statements_pseudonymized']} pseudonymized in {took:.2f} s (dry run listed {dry['counts']['statements_removed']})")
PY
rm -rf "$B"
