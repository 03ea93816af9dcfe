#!/usr/bin/env bash
# Side by side on the ClickHouse engine (chdb-core 26.9, a fresh engine per run, same
# machine): Ralph 5.1 (../shared/baseline/ralph.sh) and xlrs with 1, 2 and 3 processes over
# one engine, all loaded by the baseline's load.py: TOTAL statements (default 20,000) in POSTs
# of 100 by 8 clients (split over the processes), then 300 GETs by agent.
#
#   bash bench/clickhouse-vs-ralph.sh OUT_DIR     (needs target/release/xlrs and
#                                                   scripts/databases.sh's venv)
# Results: OUT_DIR/<name>.txt and .json per load.py run. SKIP_RALPH=1 runs xlrs only.
set -uo pipefail
cd "$(dirname "$0")/.."
BL=${BASELINE:-../shared/baseline}
B=$(mktemp -d)
out=${1:?OUT_DIR}; mkdir -p "$out"
py=target/db-venv/bin/python
TOTAL=${TOTAL:-20000}

load() { # url total concurrency name phases [more load.py arguments]
  local url=$1 total=$2 conc=$3 name=$4 phases=$5; shift 5
  python3 $BL/load.py --url "$url" --user bench --password "${PW:-benchpw}" --total "$total" --batch 100 \
    --concurrency "$conc" --phases "$phases" --get-requests 300 --json-out "$out/$name.json" "$@" \
    > "$out/$name.txt" 2>&1
}

# Ralph
if [ -z "${SKIP_RALPH:-}" ]; then
  url=$(bash $BL/ralph.sh start clickhouse 8201 $B/ralph bench benchpw)
  load "$url" $TOTAL 8 ralph post,agent
  bash $BL/ralph.sh stop $B/ralph >/dev/null 2>&1
fi
# xlrs wants admin passwords of 8 characters or more.
export PW=bench-password

for n in 1 2 3; do
  port=$((18300 + n))
  $py scripts/clickhouse_server.py $B/ch$n $port > $B/ch$n.log 2>&1 &
  chpid=$!
  for i in $(seq 60); do curl -sf http://127.0.0.1:$port/ping >/dev/null && break; sleep 0.5; done
  pids=()
  for p in $(seq $n); do
    XLRS_STORE=clickhouse XLRS_CLICKHOUSE__URL=http://127.0.0.1:$port XLRS_DATA_DIR=$B/x$n-$p \
      XLRS_LISTEN=127.0.0.1:$((8210 + p)) XLRS_ADMIN_USER=bench XLRS_ADMIN_PASSWORD=$PW \
      XLRS_LOG=warn target/release/xlrs serve > $B/x$n-$p.log 2>&1 &
    pids+=($!)
  done
  for p in $(seq $n); do
    for i in $(seq 60); do curl -sf http://127.0.0.1:$((8210 + p))/xAPI/about >/dev/null && break; sleep 0.5; done
  done
  # The load split over the processes, run at once: each gets TOTAL/n statements, 8/n workers
  # (at least 3), as a load balancer would spread 8 clients.
  lp=()
  for p in $(seq $n); do
    c=$(( 8 / n )); [ $c -lt 3 ] && c=3
    # Process 1 gets the default seed (the agent phase draws agents from its pools); the
    # others their own, so no two loaders send the same statements.
    seed=(); [ $p -gt 1 ] && seed=(--seed $p)
    load http://127.0.0.1:$((8210 + p))/xAPI $((TOTAL / n)) $c xlrs-$n-$p post "${seed[@]}" &
    lp+=($!)
  done
  wait "${lp[@]}"
  load http://127.0.0.1:8211/xAPI 0 8 xlrs-$n-agent agent
  kill "${pids[@]}"; wait "${pids[@]}" 2>/dev/null
  echo stop > $B/ch$n/stop.fifo; wait $chpid 2>/dev/null
done
rm -rf "$B"
