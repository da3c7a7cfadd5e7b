#!/usr/bin/env bash
# Starts the scale-out stack beside the local one (scripts/stack.sh): a Redis Cluster of three
# masters and a streaming replica of the local Postgres, all on loopback under .data/.
#
#   scripts/cluster.sh up     start both (the local stack must be up), print their URLs as exports
#   scripts/cluster.sh down   stop both
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
data="${STACK_DATA:-$root/.data}"
pg_port="${STACK_PG_PORT:-15432}"
replica_port="${STACK_REPLICA_PORT:-15433}"
cluster_ports=(${STACK_CLUSTER_PORTS:-17001 17002 17003})
replica_dir="$data/postgres-replica"
cluster_dir="$data/redis-cluster"

log() { printf '[cluster] %s\n' "$*" >&2; }

find_pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }; done
  dirname "$(command -v pg_ctl)"
}

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; else "$@"; fi
}

redis_cluster_up() {
  local p
  for p in "${cluster_ports[@]}"; do
    mkdir -p "$cluster_dir/$p"
    if ! redis-cli -p "$p" ping >/dev/null 2>&1; then
      redis-server --port "$p" --bind 127.0.0.1 --dir "$cluster_dir/$p" --daemonize yes \
        --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 3000 \
        --appendonly no --save "" --pidfile "$cluster_dir/$p/redis.pid" --logfile "$cluster_dir/$p/redis.log" >/dev/null
    fi
  done
  for p in "${cluster_ports[@]}"; do
    for _ in $(seq 1 50); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
  done
  if ! redis-cli -p "${cluster_ports[0]}" cluster info | grep -q 'cluster_state:ok'; then
    local addrs=()
    for p in "${cluster_ports[@]}"; do addrs+=("127.0.0.1:$p"); done
    redis-cli --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes >/dev/null
    for _ in $(seq 1 100); do
      redis-cli -p "${cluster_ports[0]}" cluster info | grep -q 'cluster_state:ok' && break; sleep 0.1
    done
    log "Redis Cluster created on ports ${cluster_ports[*]}"
  else
    log "Redis Cluster already running on ports ${cluster_ports[*]}"
  fi
}

# replica_streaming is true when the replica runs and receives WAL from the primary.
replica_streaming() {
  [ "$(psql -h 127.0.0.1 -p "$replica_port" -U postgres -tAc "select status from pg_stat_wal_receiver" 2>/dev/null)" = "streaming" ]
}

pg_replica_up() {
  local bin; bin="$(find_pg_bin)"
  if as_pg "$bin/pg_ctl" -D "$replica_dir" status >/dev/null 2>&1; then
    for _ in $(seq 1 20); do replica_streaming && break; sleep 0.25; done
    if replica_streaming; then
      log "Postgres replica already running on port $replica_port"
      return
    fi
    as_pg "$bin/pg_ctl" -D "$replica_dir" -m fast stop >/dev/null 2>&1 || true
  fi
  # A replica that was stopped has usually fallen behind further than the WAL the primary keeps
  # (no replication slot holds it: a forgotten slot would fill the disk), so it is cloned afresh.
  # That takes seconds for a development database.
  rm -rf "$replica_dir"
  mkdir -p "$replica_dir"
  [ "$(id -u)" -eq 0 ] && chown postgres "$replica_dir"
  chmod 700 "$replica_dir"
  # -R writes standby.signal and the primary's connection info: the copy starts as a streaming replica.
  as_pg "$bin/pg_basebackup" -h 127.0.0.1 -p "$pg_port" -U postgres -D "$replica_dir" -R -X stream -c fast >/dev/null
  log "Postgres replica cloned into $replica_dir"
  as_pg "$bin/pg_ctl" -D "$replica_dir" -l "$replica_dir/server.log" -w -t 60 start \
    -o "-p $replica_port -k /tmp -c listen_addresses=127.0.0.1 -c hot_standby=on -c max_connections=400" >/dev/null
  for _ in $(seq 1 100); do replica_streaming && break; sleep 0.1; done
  replica_streaming || { log "Postgres replica on port $replica_port does not stream; see $replica_dir/server.log"; exit 1; }
  log "Postgres replica started on port $replica_port"
}

case "${1:-up}" in
  up)
    redis_cluster_up
    pg_replica_up
    list=""
    for p in "${cluster_ports[@]}"; do list="${list:+$list,}redis://127.0.0.1:$p"; done
    echo "export REDIS_CLUSTER_URL=$list"
    echo "export DATABASE_REPLICA_URL=postgres://postgres@127.0.0.1:$replica_port/storefront?sslmode=disable"
    ;;
  down)
    for p in "${cluster_ports[@]}"; do redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true; done
    rm -rf "$cluster_dir"
    if [ -f "$replica_dir/PG_VERSION" ]; then
      as_pg "$(find_pg_bin)/pg_ctl" -D "$replica_dir" -m fast stop >/dev/null 2>&1 || true
      rm -rf "$replica_dir"
    fi
    log "stopped"
    ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
