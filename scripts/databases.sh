#!/usr/bin/env bash
# Installs the database servers the store tests run against (DESIGN §8), from PyPI, into a
# virtualenv: target/db-venv (or $XLRS_DB_VENV). Idempotent; takes seconds when present.
#
#   ClickHouse     the real engine, from chdb-core; scripts/clickhouse_server.py serves it over
#                  ClickHouse's own HTTP interface.
#   MongoDB        SecantusDB, a MongoDB-wire-compatible server (the official server cannot be
#                  installed here); pymongo, with which tests write data as Ralph does.
#   Elasticsearch  osmem-server, an in-memory server of the OpenSearch REST API (a Go binary in
#                  the wheel: lib/python3.*/site-packages/osmem_server/bin/osmem-server).
#   S3             moto's server (an S3-compatible endpoint in memory), for the toolbox's s3
#                  backend.
#
# Tests start their own server on a free port with its own data dir and stop it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${XLRS_DB_VENV:-target/db-venv}
CHDB_CORE=26.9.0
SECANTUSDB=0.7.0b3
PYMONGO=4.20.0
OSMEM_SERVER=0.1.6
MOTO=5.2.5

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
# The version of a package in the venv ("" when missing).
installed() { "$venv/bin/python" -m pip show "$1" 2>/dev/null | sed -n 's/^Version: //p'; }
pip_install() { "$venv/bin/python" -m pip install -q --disable-pip-version-check "$@"; }

if ! "$venv/bin/python" -c "import chdb" 2>/dev/null || [ "$(installed chdb-core)" != "$CHDB_CORE" ]; then
  echo "installing chdb-core==$CHDB_CORE (the ClickHouse engine) into $venv" >&2
  pip_install --no-deps "chdb-core==$CHDB_CORE"
fi
if [ "$(installed SecantusDB)" != "$SECANTUSDB" ] || [ "$(installed pymongo)" != "$PYMONGO" ]; then
  echo "installing SecantusDB==$SECANTUSDB (MongoDB wire protocol) and pymongo==$PYMONGO into $venv" >&2
  pip_install "SecantusDB==$SECANTUSDB" "pymongo==$PYMONGO"
fi
if [ "$(installed osmem-server)" != "$OSMEM_SERVER" ]; then
  echo "installing osmem-server==$OSMEM_SERVER (the Elasticsearch stand-in) into $venv" >&2
  pip_install "osmem-server==$OSMEM_SERVER"
fi
if [ "$(installed moto)" != "$MOTO" ]; then
  echo "installing moto[server]==$MOTO (an S3-compatible server) into $venv" >&2
  pip_install "moto[server]==$MOTO"
fi
echo "database servers ready in $venv" >&2
