#!/usr/bin/env bash
# Installs the database servers the store tests run against (DESIGN §8), from PyPI, into a
# virtualenv: target/db-venv (or $XLRS_DB_VENV). Idempotent; takes seconds when present.
#
#   ClickHouse  the real engine, from chdb-core; scripts/clickhouse_server.py serves it over
#               ClickHouse's own HTTP interface.
#   Elasticsearch  osmem-server, an in-memory server of the OpenSearch REST API (a Go binary in
#               the wheel: lib/python3.*/site-packages/osmem_server/bin/osmem-server); the
#               stand-in the Elasticsearch store is tested against.
#
# Tests start their own server on a free port with its own data dir and stop it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${XLRS_DB_VENV:-target/db-venv}
CHDB_CORE=26.9.0
OSMEM_SERVER=0.1.6

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import chdb" 2>/dev/null \
  || [ "$("$venv/bin/python" -m pip show chdb-core 2>/dev/null | sed -n 's/^Version: //p')" != "$CHDB_CORE" ]; then
  echo "installing chdb-core==$CHDB_CORE (the ClickHouse engine) into $venv" >&2
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps "chdb-core==$CHDB_CORE"
fi
if [ "$("$venv/bin/python" -m pip show osmem-server 2>/dev/null | sed -n 's/^Version: //p')" != "$OSMEM_SERVER" ]; then
  echo "installing osmem-server==$OSMEM_SERVER (the Elasticsearch stand-in) into $venv" >&2
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "osmem-server==$OSMEM_SERVER"
fi
echo "database servers ready in $venv" >&2
