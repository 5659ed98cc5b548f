#!/bin/bash
# docker-compose.yml, service db: run once by the postgres image when it initialises an empty volume
# (/docker-entrypoint-initdb.d). Creates the role the replicas stream the WAL with, and lets it connect for
# replication (pg_hba's "all" does not cover replication connections). wal_level is "replica" by default.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v user="$REPLICATION_USER" -v password="$REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE :"user" WITH REPLICATION LOGIN PASSWORD :'password';
SQL
echo "host replication $REPLICATION_USER all scram-sha-256" >> "$PGDATA/pg_hba.conf"
