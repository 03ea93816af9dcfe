#!/usr/bin/env bash
# Times a copy of N generated statements (default a million) through the data toolbox:
# JSON lines → the embedded store → a JSON-lines file → an LRS over HTTP (an xlrs server
# started here) → read back from that LRS. Prints each step's time and rate.
# Usage: bash bench/copy.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
cargo build --release -p xlrs -p xlrs-bench
xlrs=$PWD/target/release/xlrs
work=$(mktemp -d)
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
export XLRS_DATA_DIR=$work/data XLRS_LOG=warn

step() { # step NAME COMMAND…: runs the command, prints seconds and statements per second
  local name=$1 start end
  shift
  start=$(date +%s.%N)
  "$@"
  end=$(date +%s.%N)
  python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print(f'{sys.argv[3]:<34} {s:8.1f} s {int(sys.argv[4])/s:10.0f} statements/s')" \
    "$start" "$end" "$name" "$n" >&2
}

target/release/xlrs-bench --emit "$n" > "$work/in.jsonl"
echo "$n statements, $(du -h "$work/in.jsonl" | cut -f1) of JSON lines" >&2
step "write --backend sqlite" sh -c "$xlrs write --backend sqlite --chunk-size 1000 < $work/in.jsonl 2>/dev/null"
step "read --backend sqlite" sh -c "$xlrs read --backend sqlite > $work/out.jsonl 2>/dev/null"
step "write --backend fs" sh -c "$xlrs write --backend fs --path $work/files --target copy.jsonl < $work/out.jsonl 2>/dev/null"
test "$(wc -l < "$work/out.jsonl")" -eq "$n" || { echo "read back $(wc -l < "$work/out.jsonl") of $n" >&2; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
XLRS_DATA_DIR=$work/lrs XLRS_LISTEN=127.0.0.1:$port XLRS_ADMIN_USER=admin XLRS_ADMIN_PASSWORD=copy-bench \
  "$xlrs" serve > /dev/null &
server=$!
until curl -sf "http://127.0.0.1:$port/health" > /dev/null; do sleep 0.2; done
export LRS_PASSWORD=copy-bench
url=http://127.0.0.1:$port/xAPI
step "read --backend fs | write --backend lrs" sh -c "$xlrs read --backend fs --path $work/files 2>/dev/null | $xlrs write --backend lrs --url $url --username admin --chunk-size 1000 2>/dev/null"
step "read --backend lrs" sh -c "$xlrs read --backend lrs --url $url --username admin > $work/back.jsonl 2>/dev/null"
test "$(wc -l < "$work/back.jsonl")" -eq "$n" || { echo "the LRS returned $(wc -l < "$work/back.jsonl") of $n" >&2; exit 1; }
echo "every step moved all $n statements" >&2
