#!/usr/bin/env bash
# Runs the official ADL LRS conformance suite against a freshly started xlrs (release build,
# embedded store unless XLRS_STORE says otherwise, its own data dir and port). With
# XLRS_STORE=clickhouse and no XLRS_CLICKHOUSE__URL (mongodb and no XLRS_MONGODB__URI,
# elasticsearch and no XLRS_ELASTICSEARCH__URL), a database server of its own is started (for
# Elasticsearch the in-memory stand-in, osmem-server).
# The suite is not part of this repository:
#   git clone https://github.com/adlnet/lrs-conformance-test-suite "$SUITE" && (cd "$SUITE" && npm install)
# Usage: [SERVER_BIN=path/to/xlrs] scripts/conformance.sh SUITE_DIR [2.0.0|1.0.3] [extra console_runner options...]
set -euo pipefail
cd "$(dirname "$0")/.."

suite=${1:?usage: scripts/conformance.sh SUITE_DIR [2.0.0|1.0.3] [runner options...]}
version=${2:-2.0.0}
shift $(( $# >= 2 ? 2 : 1 ))
suite=$(cd "$suite" && pwd)

# SERVER_BIN: a binary already built (e.g. of another checkout) instead of building this one.
bin=${SERVER_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release --locked -p xlrs
  bin=target/release/xlrs
fi
data=$(mktemp -d)
password=conformance-$(date +%s)
out="$data/server.out"
database=""
trap 'kill $database 2>/dev/null || true; rm -rf "$data"' EXIT
venv=${XLRS_DB_VENV:-target/db-venv}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
if [ "${XLRS_STORE:-sqlite}" = clickhouse ] && [ -z "${XLRS_CLICKHOUSE__URL:-}" ]; then
  bash scripts/databases.sh
  port=$(free_port)
  setsid "$venv/bin/python" scripts/clickhouse_server.py "$data/clickhouse" "$port" \
    </dev/null >/dev/null 2>"$data/clickhouse.err" &
  database=$!
  export XLRS_CLICKHOUSE__URL=http://127.0.0.1:$port
  for _ in $(seq 300); do
    curl -sf "$XLRS_CLICKHOUSE__URL/ping" >/dev/null && break
    sleep 0.1
  done
elif [ "${XLRS_STORE:-sqlite}" = mongodb ] && [ -z "${XLRS_MONGODB__URI:-}" ]; then
  bash scripts/databases.sh
  port=$(free_port)
  mkdir -p "$data/mongodb"
  setsid "$venv/bin/secantusd-py" --host 127.0.0.1 --port "$port" --storage-path "$data/mongodb" \
    --log-level WARNING </dev/null >/dev/null 2>"$data/mongodb.err" &
  database=$!
  export XLRS_MONGODB__URI=mongodb://127.0.0.1:$port
  for _ in $(seq 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
elif [ "${XLRS_STORE:-sqlite}" = elasticsearch ] && [ -z "${XLRS_ELASTICSEARCH__URL:-}" ]; then
  bash scripts/databases.sh
  port=$(free_port)
  osmem=$("$venv/bin/python" -c \
    'import os, osmem_server; print(os.path.join(os.path.dirname(osmem_server.__file__), "bin", "osmem-server"))')
  setsid "$osmem" -addr "127.0.0.1:$port" -no-stdin-watch </dev/null >/dev/null 2>"$data/elasticsearch.err" &
  database=$!
  export XLRS_ELASTICSEARCH__URL=http://127.0.0.1:$port
  for _ in $(seq 300); do
    curl -sf "$XLRS_ELASTICSEARCH__URL/" >/dev/null && break
    sleep 0.1
  done
fi
XLRS_LISTEN=127.0.0.1:0 XLRS_DATA_DIR="$data" XLRS_ADMIN_USER=admin XLRS_ADMIN_PASSWORD="$password" \
  XLRS_LOG=${XLRS_LOG:-warn} "$bin" serve >"$out" 2>"$data/server.err" &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; kill $database 2>/dev/null || true; rm -rf "$data"' EXIT

url=""
for _ in $(seq 100); do
  url=$(sed -n 's/^xlrs listening on //p' "$out")
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { cat "$data/server.err" >&2; echo "the server did not start" >&2; exit 1; }

echo "conformance suite $version against $url/xAPI"
# The plugins it runs with (with XLRS_PLUGINS_DIR set, e.g. openedx-compat), as the server lists them.
echo "plugins: $(curl -s -u "admin:$password" "$url/plugins")"
cd "$suite"
node bin/console_runner.js -e "$url/xAPI" -a -u admin -p "$password" -x "$version" -z "$@"
