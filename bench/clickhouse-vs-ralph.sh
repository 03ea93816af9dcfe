#!/usr/bin/env bash
# Side by side on the ClickHouse engine (chdb-core 26.9, a fresh engine per run, same
# machine): Ralph 5.1 (../shared/baseline/ralph.sh) and xlrs with 1 process (writers = one and
# many), 2 and 3 processes over one engine, all loaded by the baseline's load.py: TOTAL statements (default 20,000) in POSTs
# of 100 by 8 clients (CONC; split over the processes), then 300 GETs by agent.
#
#   bash bench/clickhouse-vs-ralph.sh OUT_DIR     (needs target/release/xlrs and
#                                                   scripts/databases.sh's venv)
# Results: OUT_DIR/<name>.txt and .json per load.py run, and xlrs-<run>-settings.txt: what
# xlrs chose for settings left unset. SKIP_RALPH=1 runs xlrs only; BIN runs another build of
# xlrs; CONC=N runs both phases with N clients instead of 8 (for processes, split as below).
# STORE=mongodb or STORE=elasticsearch runs xlrs alone over the test stand-ins instead
# (secantusd-py, osmem-server from scripts/databases.sh; Ralph's baseline has no such mode).
# Every engine's data goes under TMPDIR: TMPDIR=$(bash bench/journaled-tmp.sh) puts it on a
# journaled file system (see that script for why).
set -uo pipefail
cd "$(dirname "$0")/.."
BL=${BASELINE:-../shared/baseline}
B=$(mktemp -d)
out=${1:?OUT_DIR}; mkdir -p "$out"
py=target/db-venv/bin/python
TOTAL=${TOTAL:-20000}
CONC=${CONC:-8}
STORE=${STORE:-clickhouse}
[ "$STORE" = clickhouse ] || SKIP_RALPH=1

# A fresh engine of $STORE on port $1, data in $2; sets engine_pid and engine_env.
start_engine() {
  local port=$1 dir=$2
  case $STORE in
    clickhouse)
      $py scripts/clickhouse_server.py "$dir" "$port" > "$dir.log" 2>&1 &
      engine_pid=$!
      engine_env=(XLRS_CLICKHOUSE__URL=http://127.0.0.1:$port)
      for i in $(seq 60); do curl -sf http://127.0.0.1:$port/ping >/dev/null && break; sleep 0.5; done ;;
    mongodb)
      mkdir -p "$dir"
      target/db-venv/bin/secantusd-py --host 127.0.0.1 --port "$port" --storage-path "$dir" \
        --log-level WARNING > "$dir.log" 2>&1 &
      engine_pid=$!
      engine_env=(XLRS_MONGODB__URI=mongodb://127.0.0.1:$port)
      for i in $(seq 120); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.5; done ;;
    elasticsearch)
      local bin; bin=$(ls target/db-venv/lib/python3*/site-packages/osmem_server/bin/osmem-server)
      "$bin" -addr 127.0.0.1:$port -no-stdin-watch > "$dir.log" 2>&1 &
      engine_pid=$!
      engine_env=(XLRS_ELASTICSEARCH__URL=http://127.0.0.1:$port)
      for i in $(seq 60); do curl -sf http://127.0.0.1:$port/ >/dev/null && break; sleep 0.5; done ;;
  esac
}

stop_engine() { # $1: the engine's data dir
  if [ "$STORE" = clickhouse ]; then echo stop > "$1/stop.fifo"; else kill "$engine_pid"; fi
  wait "$engine_pid" 2>/dev/null
}

load() { # url total concurrency name phases [more load.py arguments]
  local url=$1 total=$2 conc=$3 name=$4 phases=$5; shift 5
  python3 $BL/load.py --url "$url" --user bench --password "${PW:-benchpw}" --total "$total" --batch 100 \
    --concurrency "$conc" --phases "$phases" --get-requests 300 --json-out "$out/$name.json" "$@" \
    > "$out/$name.txt" 2>&1
}

# Ralph
if [ -z "${SKIP_RALPH:-}" ]; then
  url=$(bash $BL/ralph.sh start clickhouse 8201 $B/ralph bench benchpw)
  load "$url" $TOTAL $CONC ralph post,agent
  bash $BL/ralph.sh stop $B/ralph >/dev/null 2>&1
fi
# xlrs wants admin passwords of 8 characters or more.
export PW=bench-password

# Runs: processes:writers. `one` reserves positions in memory (one writing process), `many` in
# the database's ledger (any number of processes; README "Several processes over one database").
for run in ${RUNS:-1:one 1:many 2:many 3:many}; do
  n=${run%%:*}; writers=${run#*:}; name=$n-$writers
  port=$((18300 + n))
  start_engine $port $B/ch$name
  pids=()
  for p in $(seq $n); do
    env XLRS_STORE=$STORE XLRS_WRITERS=$writers "${engine_env[@]}" XLRS_DATA_DIR=$B/x$name-$p \
      XLRS_LISTEN=127.0.0.1:$((8210 + p)) XLRS_ADMIN_USER=bench XLRS_ADMIN_PASSWORD=$PW \
      XLRS_LOG=warn "${BIN:-target/release/xlrs}" serve > $B/x$name-$p.log 2>&1 &
    pids+=($!)
  done
  for p in $(seq $n); do
    for i in $(seq 60); do curl -sf http://127.0.0.1:$((8210 + p))/xAPI/about >/dev/null && break; sleep 0.5; done
  done
  # The load split over the processes, run at once: each gets TOTAL/n statements, CONC/n
  # workers (at least 3), as a load balancer would spread CONC clients.
  lp=()
  for p in $(seq $n); do
    c=$(( CONC / n )); [ $c -lt 3 ] && c=3
    # Process 1 gets the default seed (the agent phase draws agents from its pools); the
    # others their own, so no two loaders send the same statements.
    seed=(); [ $p -gt 1 ] && seed=(--seed $p)
    load http://127.0.0.1:$((8210 + p))/xAPI $((TOTAL / n)) $c xlrs-$name-$p post "${seed[@]}" &
    lp+=($!)
  done
  wait "${lp[@]}"
  load http://127.0.0.1:8211/xAPI 0 $CONC xlrs-$name-agent agent
  # What the first process chose where a setting was left unset (e.g. its page queries).
  curl -s -u bench:$PW http://127.0.0.1:8211/metrics | grep -E '^xlrs_clickhouse_page_queries ' \
    > "$out/xlrs-$name-settings.txt" || true
  kill "${pids[@]}"; wait "${pids[@]}" 2>/dev/null
  stop_engine $B/ch$name
done
rm -rf "$B"
