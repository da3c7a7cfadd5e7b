#!/usr/bin/env bash
# Starts and stops the project's own Postgres and Redis, on their own ports, under .data/.
# Nothing here touches a system-wide database: a newcomer's machine stays as it was.
#
#   scripts/stack.sh up     install what is missing (apt-get, as root), start both, print the URLs
#   scripts/stack.sh down   stop both
#   scripts/stack.sh env    print DATABASE_URL and REDIS_URL as shell exports
#
# When DATABASE_URL and REDIS_URL are both set, the stack is not started and those are used.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
data="${STACK_DATA:-$root/.data}"
# Ports below the kernel's ephemeral range (32768 and up), so a busy client's outgoing
# connections can never be holding them when the stack starts.
pg_port="${STACK_PG_PORT:-15432}"
redis_port="${STACK_REDIS_PORT:-16379}"
pg_dir="$data/postgres"
redis_dir="$data/redis"
db_name="storefront"

log() { printf '[stack] %s\n' "$*" >&2; }

find_pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  command -v pg_ctl >/dev/null 2>&1 && { dirname "$(command -v pg_ctl)"; return 0; }
  return 1
}

install_missing() {
  local need=()
  find_pg_bin >/dev/null || need+=(postgresql postgresql-contrib)
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  command -v psql >/dev/null 2>&1 || need+=(postgresql-client)
  [ ${#need[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    log "missing: ${need[*]}; install them (e.g. sudo apt-get install ${need[*]}) or set DATABASE_URL and REDIS_URL"
    exit 1
  fi
  log "installing ${need[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

# as_pg runs a command as the postgres user when we are root, because Postgres refuses to run as root.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
  else
    "$@"
  fi
}

pg_up() {
  local bin; bin="$(find_pg_bin)"
  mkdir -p "$pg_dir"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir "$pg_dir" --shell /bin/sh postgres
    chown -R postgres "$pg_dir"
    chmod 0700 "$pg_dir"
    # postgres must be able to reach the data folder through every parent directory.
    # The data folder itself must stay 0700: Postgres refuses to start otherwise.
    local p; p="$(dirname "$pg_dir")"
    while [ "$p" != "/" ]; do chmod o+x "$p" 2>/dev/null || true; p="$(dirname "$p")"; done
  fi
  if [ ! -f "$pg_dir/PG_VERSION" ]; then
    log "initialising Postgres in $pg_dir"
    as_pg "$bin/initdb" -D "$pg_dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if as_pg "$bin/pg_ctl" -D "$pg_dir" status >/dev/null 2>&1; then
    log "Postgres already running on port $pg_port"
  else
    # fsync off: this instance holds development and test data only, and tests create many databases.
    as_pg "$bin/pg_ctl" -D "$pg_dir" -l "$pg_dir/server.log" -w -t 60 start \
      -o "-p $pg_port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400 -c shared_buffers=256MB" >/dev/null
    log "Postgres started on port $pg_port"
  fi
  if ! psql -h 127.0.0.1 -p "$pg_port" -U postgres -tAc "select 1 from pg_database where datname='$db_name'" | grep -q 1; then
    psql -h 127.0.0.1 -p "$pg_port" -U postgres -qc "create database $db_name" >/dev/null
  fi
}

redis_up() {
  mkdir -p "$redis_dir"
  if redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
    log "Redis already running on port $redis_port"
    return
  fi
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$redis_dir" --daemonize yes \
    --pidfile "$redis_dir/redis.pid" --logfile "$redis_dir/redis.log" \
    --appendonly yes --save "" >/dev/null
  for _ in $(seq 1 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  log "Redis started on port $redis_port"
}

print_env() {
  echo "export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:$pg_port/$db_name?sslmode=disable}"
  echo "export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:$redis_port/0}"
}

case "${1:-up}" in
  up)
    if [ -n "${DATABASE_URL:-}" ] && [ -n "${REDIS_URL:-}" ]; then
      log "using DATABASE_URL and REDIS_URL from the environment; nothing started"
    else
      install_missing
      [ -z "${DATABASE_URL:-}" ] && pg_up
      [ -z "${REDIS_URL:-}" ] && redis_up
    fi
    print_env
    ;;
  down)
    if bin="$(find_pg_bin)" && [ -f "$pg_dir/PG_VERSION" ]; then
      as_pg "$bin/pg_ctl" -D "$pg_dir" -m fast stop >/dev/null 2>&1 && log "Postgres stopped" || true
    fi
    redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 && log "Redis stopped" || true
    ;;
  env)
    print_env
    ;;
  *)
    echo "usage: $0 up|down|env" >&2; exit 2 ;;
esac
