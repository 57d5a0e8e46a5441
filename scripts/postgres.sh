#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the tests and prints its URL; `scripts/postgres.sh stop DIR`
# stops it. The server lives in a temporary folder, listens on 127.0.0.1 only, trusts local
# connections (nothing but the tests can reach it) and runs as the `postgres` user when started by
# root (PostgreSQL refuses to run as root).
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "PostgreSQL is not installed (Debian package postgresql)" >&2; exit 1; }
# From /: the `postgres` user may not enter the caller's folder (a fresh clone under a private /tmp dir).
as() { if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }

if [ "${1:-}" = stop ]; then
  as "$bin/pg_ctl" -D "$2/data" -m fast stop >/dev/null
  rm -rf "$2"
  exit 0
fi

dir=$(mktemp -d /tmp/pbgdpl-pg.XXXXXX)
chmod 755 "$dir"
[ "$(id -u)" = 0 ] && chown postgres "$dir"
# A free port: the first one from 54329 that nothing listens on.
port=54329
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
as "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
as "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200" start >/dev/null
echo "$dir postgres://postgres@127.0.0.1:$port/postgres"
