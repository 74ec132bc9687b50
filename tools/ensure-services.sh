#!/usr/bin/env bash
# Make sure the services the tests talk to are running: PostgreSQL (>= 15) on 127.0.0.1:5432 and
# Redis on 127.0.0.1:6379. Installs them from Debian's packages only when missing, starts them
# only when they are not answering. Safe to run repeatedly.
set -euo pipefail

PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
REDIS_PORT=${REDIS_PORT:-6379}

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
apt_install() {
    if [ "$apt_updated" -eq 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

pg_ready() { pg_isready -q -h "$PGHOST" -p "$PGPORT" 2>/dev/null; }
redis_ready() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; }

# PostgreSQL
if ! command -v pg_isready >/dev/null 2>&1 || ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    if ! pg_ready 2>/dev/null; then
        echo "ensure-services: installing PostgreSQL from Debian's packages"
        apt_install postgresql postgresql-contrib
    fi
fi
if ! pg_ready; then
    echo "ensure-services: starting PostgreSQL"
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    conf=/etc/postgresql/$version/main
    # Tests connect as postgres over TCP without a password, like the CI machine (trust auth).
    if ! grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$conf/pg_hba.conf"; then
        as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\nlocal all all trust' "$conf/pg_hba.conf"
    fi
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || as_root pg_ctlcluster "$version" main start
    for _ in $(seq 1 30); do pg_ready && break; sleep 1; done
fi
pg_ready || { echo "ensure-services: PostgreSQL is not answering on $PGHOST:$PGPORT" >&2; exit 1; }
# plpgsql_check: `nox -s check` checks the hand-written PL/pgSQL against the generated tables.
pg_version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
if [ -n "$pg_version" ] && [ ! -e "/usr/share/postgresql/$pg_version/extension/plpgsql_check.control" ]; then
    echo "ensure-services: installing plpgsql_check from Debian's packages"
    apt_install "postgresql-$pg_version-plpgsql-check"
fi

# Tools the test suites drive as independent oracles and fault targets: real audio encoders and
# decoders (ffmpeg, lame, sox, flac, libsndfile), a transaction-mode pooler (pgbouncer) and
# redis-sentinel. Installed from Debian's packages only when one is missing.
missing=()
for tool in ffmpeg lame sox flac pgbouncer redis-sentinel; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[ -e /usr/lib/x86_64-linux-gnu/libsndfile.so.1 ] || ls /usr/lib/*/libsndfile.so.1 >/dev/null 2>&1 || missing+=(libsndfile1)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "ensure-services: installing ${missing[*]} from Debian's packages"
    pkgs=()
    for tool in "${missing[@]}"; do
        case "$tool" in
            sox) pkgs+=(sox libsox-fmt-all) ;;
            *) pkgs+=("$tool") ;;
        esac
    done
    apt_install "${pkgs[@]}"
fi
# The pgbouncer package starts a system instance on 6432; the tests start their own.

# Redis
if ! command -v redis-server >/dev/null 2>&1; then
    echo "ensure-services: installing Redis from Debian's packages"
    apt_install redis-server
fi
if ! redis_ready; then
    echo "ensure-services: starting Redis"
    mkdir -p /tmp/videogen-redis
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
        --dir /tmp/videogen-redis --logfile /tmp/videogen-redis/redis.log
    for _ in $(seq 1 30); do redis_ready && break; sleep 0.5; done
fi
redis_ready || { echo "ensure-services: Redis is not answering on 127.0.0.1:$REDIS_PORT" >&2; exit 1; }
echo "ensure-services: PostgreSQL and Redis are up; encoders, pgbouncer and redis-sentinel installed"
