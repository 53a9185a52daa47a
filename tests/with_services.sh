#!/usr/bin/env bash
# Run a command against throwaway PostgreSQL and Redis servers on loopback.
#
# Both are started from their binaries (Debian's `postgresql` and `redis-server`
# packages) in a temporary directory on free ports, exported to the command as
# DATABASE_URL and CELERY_BROKER_URL, and stopped afterwards, also on failure.
set -euo pipefail

pg_bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
redis_server=${REDIS_SERVER:-$(command -v redis-server || true)}
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ] || [ -z "$redis_server" ]; then
  echo "with_services: needs PostgreSQL and Redis binaries (apt-get install postgresql redis-server)" >&2
  exit 2
fi

workdir=$(mktemp -d "${TMPDIR:-/tmp}/groupdesk-services.XXXXXX")
chmod 755 "$workdir"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pg_port=$(free_port)
redis_port=$(free_port)

# PostgreSQL refuses to run as root: run it as an unprivileged owner of its directory.
as_pg=()
if [ "$(id -u)" = 0 ]; then
  pg_user=$(id -u postgres >/dev/null 2>&1 && echo postgres || echo nobody)
  as_pg=(runuser -u "$pg_user" --)
  mkdir -p "$workdir/pg"
  chown "$pg_user" "$workdir/pg"
fi

cleanup() {
  status=$?
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$workdir/pg/data" -m immediate stop >/dev/null 2>&1 || true
  [ -f "$workdir/redis.pid" ] && kill "$(cat "$workdir/redis.pid")" 2>/dev/null || true
  if [ "$status" != 0 ]; then
    echo "with_services: exit $status; last PostgreSQL log lines:" >&2
    tail -n 20 "$workdir/pg/postgres.log" >&2 2>/dev/null || true
  fi
  rm -rf "$workdir"
  exit "$status"
}
trap cleanup EXIT INT TERM

# Tests run faster without durability; fault tests that crash PostgreSQL (GROUPDESK_DURABLE_PG=1)
# need it, or a commit acknowledged just before the crash would be lost by the test setup itself.
pg_opts="-h 127.0.0.1 -p $pg_port -k $workdir/pg -c max_connections=200"
if [ -z "${GROUPDESK_DURABLE_PG:-}" ]; then
  pg_opts="$pg_opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
fi
"${as_pg[@]}" "$pg_bin/initdb" -D "$workdir/pg/data" -U postgres -A trust -E UTF8 --no-sync >/dev/null
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$workdir/pg/data" -l "$workdir/pg/postgres.log" -w -t 60 -o "$pg_opts" \
  start >/dev/null
"$redis_server" --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --daemonize yes --pidfile "$workdir/redis.pid" --dir "$workdir" --logfile "$workdir/redis.log"

export DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/groupdesk"
export CELERY_BROKER_URL="redis://127.0.0.1:$redis_port/0"
export GROUPDESK_TEST_SERVICES=1
# For fault tests (bench/harness.py) that stop and start the servers.
export GROUPDESK_PG_CTL="${as_pg[*]} $pg_bin/pg_ctl -D $workdir/pg/data -l $workdir/pg/postgres.log"
export GROUPDESK_PG_OPTS="$pg_opts"
export GROUPDESK_REDIS_START="$redis_server --port $redis_port --bind 127.0.0.1 --save '' --appendonly no --daemonize yes --pidfile $workdir/redis.pid --dir $workdir --logfile $workdir/redis.log"
export GROUPDESK_REDIS_PIDFILE="$workdir/redis.pid"
echo "with_services: PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port"
"$@"
