#!/usr/bin/env bash
# Runs the official ADL LRS conformance suite against a freshly started xlrs (release build,
# embedded store unless XLRS_STORE says otherwise, its own data dir and port). With
# XLRS_STORE=clickhouse and no XLRS_CLICKHOUSE__URL, a ClickHouse server of its own is started;
# with XLRS_STORE=elasticsearch and no XLRS_ELASTICSEARCH__URL, an Elasticsearch stand-in
# (osmem-server, in memory).
# The suite is not part of this repository:
#   git clone https://github.com/adlnet/lrs-conformance-test-suite "$SUITE" && (cd "$SUITE" && npm install)
# Usage: scripts/conformance.sh SUITE_DIR [2.0.0|1.0.3] [extra console_runner options...]
set -euo pipefail
cd "$(dirname "$0")/.."

suite=${1:?usage: scripts/conformance.sh SUITE_DIR [2.0.0|1.0.3] [runner options...]}
version=${2:-2.0.0}
shift $(( $# >= 2 ? 2 : 1 ))
suite=$(cd "$suite" && pwd)

cargo build --release --locked -p xlrs
data=$(mktemp -d)
password=conformance-$(date +%s)
out="$data/server.out"
clickhouse=""
elasticsearch=""
trap 'kill $clickhouse $elasticsearch 2>/dev/null || true; rm -rf "$data"' EXIT
if [ "${XLRS_STORE:-sqlite}" = clickhouse ] && [ -z "${XLRS_CLICKHOUSE__URL:-}" ]; then
  bash scripts/databases.sh
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  setsid "${XLRS_DB_VENV:-target/db-venv}/bin/python" scripts/clickhouse_server.py "$data/clickhouse" "$port" \
    </dev/null >/dev/null 2>"$data/clickhouse.err" &
  clickhouse=$!
  export XLRS_CLICKHOUSE__URL=http://127.0.0.1:$port
  for _ in $(seq 300); do
    curl -sf "$XLRS_CLICKHOUSE__URL/ping" >/dev/null && break
    sleep 0.1
  done
fi
if [ "${XLRS_STORE:-sqlite}" = elasticsearch ] && [ -z "${XLRS_ELASTICSEARCH__URL:-}" ]; then
  bash scripts/databases.sh
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  osmem=$("${XLRS_DB_VENV:-target/db-venv}/bin/python" -c \
    'import os, osmem_server; print(os.path.join(os.path.dirname(osmem_server.__file__), "bin", "osmem-server"))')
  setsid "$osmem" -addr "127.0.0.1:$port" -no-stdin-watch </dev/null >/dev/null 2>"$data/elasticsearch.err" &
  elasticsearch=$!
  export XLRS_ELASTICSEARCH__URL=http://127.0.0.1:$port
  for _ in $(seq 300); do
    curl -sf "$XLRS_ELASTICSEARCH__URL/" >/dev/null && break
    sleep 0.1
  done
fi
XLRS_LISTEN=127.0.0.1:0 XLRS_DATA_DIR="$data" XLRS_ADMIN_USER=admin XLRS_ADMIN_PASSWORD="$password" \
  XLRS_LOG=${XLRS_LOG:-warn} target/release/xlrs serve >"$out" 2>"$data/server.err" &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; kill $clickhouse $elasticsearch 2>/dev/null || true; rm -rf "$data"' EXIT

url=""
for _ in $(seq 100); do
  url=$(sed -n 's/^xlrs listening on //p' "$out")
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { cat "$data/server.err" >&2; echo "the server did not start" >&2; exit 1; }

echo "conformance suite $version against $url/xAPI"
cd "$suite"
node bin/console_runner.js -e "$url/xAPI" -a -u admin -p "$password" -x "$version" -z "$@"
