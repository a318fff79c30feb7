#!/bin/sh
# Create (once) and start a PostgreSQL cluster of our own for benchmarks/fault.py to restart,
# so the fault test never restarts the shared server on 5432 that test suites use.
# Debian's postgresql-common tools; trust auth for postgres on the socket and on 127.0.0.1.
#   sh benchmarks/fault-cluster.sh [VERSION] [NAME] [PORT]      (defaults: newest, fault, 5433)
set -eu
VERSION=${1:-$(ls /usr/lib/postgresql | sort -n | tail -1)}
NAME=${2:-fault}
PORT=${3:-5433}
if ! pg_lsclusters -h | awk '{print $1 "/" $2}' | grep -qx "$VERSION/$NAME"; then
    pg_createcluster "$VERSION" "$NAME" --port "$PORT" >/dev/null
    HBA=/etc/postgresql/$VERSION/$NAME/pg_hba.conf
    sed -i -e 's/^\(local\s\+all\s\+\(postgres\|all\)\s\+\)\S\+/\1trust/' \
           -e 's/^\(host\s\+all\s\+all\s\+127\.0\.0\.1\/32\s\+\)\S\+/\1trust/' "$HBA"
fi
if ! pg_lsclusters -h | awk '{print $1 "/" $2 " " $4}' | grep -qx "$VERSION/$NAME online"; then
    pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$NAME" start
fi
echo "postgresql://postgres@127.0.0.1:$PORT/postgres"
