#!/bin/bash
# docker-compose.yml, service db-replica: a streaming replica (hot standby) of the db service. On an empty volume
# it copies the primary with pg_basebackup -R (which writes standby.signal and primary_conninfo), then starts
# PostgreSQL through the image's own entry point, which finds the data folder made and skips initdb.
set -euo pipefail
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    mkdir -p "$PGDATA"
    chown postgres:postgres "$PGDATA"
    chmod 700 "$PGDATA"
    # the primary may still be initialising: try until it answers
    until gosu postgres env PGPASSWORD="$REPLICATION_PASSWORD" pg_basebackup --host="$PRIMARY_HOST" \
            --username="$REPLICATION_USER" --pgdata="$PGDATA" --write-recovery-conf --wal-method=stream \
            --checkpoint=fast; do
        echo "waiting for $PRIMARY_HOST to accept a base backup..."
        rm -rf "${PGDATA:?}"/*
        sleep 2
    done
fi
exec docker-entrypoint.sh "$@"
