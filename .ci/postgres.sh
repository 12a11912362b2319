# Sourced by .ci/run and .ci/fuzz: a fresh PostgreSQL database for one run.
# Needs a server on $PG_HOST:$PG_PORT where $PG_USER may log in without a password and
# create databases.

PG_HOST=127.0.0.1
PG_PORT=5432
PG_USER=postgres

psql_admin() {
    PGCONNECT_TIMEOUT=10 psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres \
        -X -q -v ON_ERROR_STOP=1 "$@"
}

# Creates a database named `<prefix>_<time>_<pid>` and sets PG_DB and PG_URL. The caller
# drops it with pg_drop_database (in its EXIT trap).
pg_fresh_database() {
    if ! command -v psql >/dev/null 2>&1; then
        echo "error: psql not found. The PostgreSQL steps need the PostgreSQL client and a" >&2
        echo "server on $PG_HOST:$PG_PORT (Debian: apt-get install postgresql)." >&2
        exit 1
    fi
    PG_DB="${1}_$(date +%s)_$$"
    if ! psql_admin -c "CREATE DATABASE $PG_DB"; then
        echo "error: could not create database $PG_DB as $PG_USER on $PG_HOST:$PG_PORT." >&2
        echo "Is PostgreSQL running and does it trust local connections? To start it on a" >&2
        echo "Debian machine: pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start" >&2
        exit 1
    fi
    PG_URL="postgres://$PG_USER@$PG_HOST:$PG_PORT/$PG_DB"
}

pg_drop_database() {
    psql_admin -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" \
        || echo "warning: could not drop database $PG_DB" >&2
}
