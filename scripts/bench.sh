#!/usr/bin/env bash
# The load benchmark behind `make bench`: a large catalog on its own database, the server and the
# plain-HTTP floor (cmd/floor) on their own ports, and cmd/loadgen driving them, RUNS times over.
# Each run writes its JSON lines to bench-results/<stamp>/run-N.jsonl; the medians over the runs
# are printed at the end and written to bench-results/<stamp>/summary.json.
#
# The server trusts X-Forwarded-For from loopback (TRUSTED_PROXIES), so the ten thousand
# subscribers can come from distinct client addresses, as in a real store, without tripping the
# per-address websocket cap.
#
# The database storefront_bench is created for each run from a template (storefront_bench_tpl,
# built once: migrated, seeded with BENCH_PRODUCTS products and BENCH_USERS users), so every run
# starts from the same stock and `make run`'s database is never touched. Redis keys live under a
# prefix of their own per run and are deleted afterwards.
#
# Knobs (environment): RUNS (3), BENCH_DURATION (20s), BENCH_WARMUP (5s), BENCH_SLICE (2s: how
# long each side of a pair runs before the other takes its turn), MIX_VUS (64),
# PRODUCT_RATE (1000), CART_RATE (500), CHECKOUT_RATE (200), SUBS (10000), BENCH_PRODUCTS (10000),
# OVERHEAD_RATE (200), BENCH_USERS (1000), SERVER_PORT (18080), FLOOR_PORT (18081),
# SETTLE_MAX (30: seconds to wait for a quiet machine before each step), SETTLE_BUSY (15: the
# CPU busy percentage counted as quiet), BENCH_RESEED=1 rebuilds the template,
# SKIP="subs checkout …" leaves steps out (mix product cart checkout subs). The server serves
# pprof on PPROF_ADDR (127.0.0.1:6061): the subscription run asks it for collections before
# reading memory, and it is there to profile a run.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
log() { printf '[bench] %s\n' "$*" >&2; }

eval "$(scripts/stack.sh up)"

runs="${RUNS:-3}"
duration="${BENCH_DURATION:-20s}"
warmup="${BENCH_WARMUP:-5s}"
slice="${BENCH_SLICE:-2s}"
mix_vus="${MIX_VUS:-64}"
product_rate="${PRODUCT_RATE:-1000}"
overhead_rate="${OVERHEAD_RATE:-200}"
cart_rate="${CART_RATE:-500}"
checkout_rate="${CHECKOUT_RATE:-200}"
subs="${SUBS:-10000}"
products="${BENCH_PRODUCTS:-10000}"
users="${BENCH_USERS:-1000}"
server_port="${SERVER_PORT:-18080}"
pprof_addr="${PPROF_ADDR:-127.0.0.1:6061}"
floor_port="${FLOOR_PORT:-18081}"
skip=" ${SKIP:-} "

db="storefront_bench"
tpl="storefront_bench_tpl"
# The stack's URL with another database name in its path.
db_url() { sed -E "s#/[^/?]+(\\?|\$)#/$1\\1#" <<<"$DATABASE_URL"; }
admin_url="$(db_url postgres)"
bench_url="$(db_url "$db")"
tpl_url="$(db_url "$tpl")"
psql_admin() { psql "$admin_url" -qAtX -v ON_ERROR_STOP=1 "$@"; }

log "building the server, the floor and the load generator"
go build -o bin/server . && go build -o bin/floor ./cmd/floor && go build -o bin/loadgen ./cmd/loadgen

# The template is rebuilt when missing, asked for, or made by other migrations, seed code or sizes.
fingerprint="$( (cat migrations/*.sql seed/*.go; echo "$products $users") | sha1sum | cut -c1-16)"
current="$(psql_admin -c "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$tpl'")"
if [ "${BENCH_RESEED:-0}" = 1 ] || [ "$current" != "$fingerprint" ]; then
  log "building the template database $tpl ($products products, $users users); this takes a while once"
  psql_admin -c "DROP DATABASE IF EXISTS $tpl"
  psql_admin -c "CREATE DATABASE $tpl"
  DATABASE_URL="$tpl_url" bin/server migrate >/dev/null
  DATABASE_URL="$tpl_url" bin/server seed -products "$products" -users "$users" >/dev/null
  # The stock every run starts from, for the consistency check after the checkouts.
  psql "$tpl_url" -qAtX -v ON_ERROR_STOP=1 \
    -c "CREATE TABLE bench_stock_before AS SELECT product_id, on_hand FROM inventory" \
    -c "VACUUM ANALYZE"
  psql_admin -c "COMMENT ON DATABASE $tpl IS '$fingerprint'"
fi

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
out="bench-results/$stamp"
mkdir -p "$out"
# 10,000 websockets need as many descriptors in the server and in the load generator.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
log "results in $out; open files limit $(ulimit -n); load average $(cut -d' ' -f1-3 /proc/loadavg)"

pids=()
stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap stop_all EXIT

# cpu_busy prints the percentage of all CPUs' time spent busy over the next second.
cpu_busy() {
  local _ u n s i w q sq st t1 i1
  read -r _ u n s i w q sq st _ </proc/stat
  t1=$((u + n + s + i + w + q + sq + st)) i1=$((i + w))
  sleep 1
  read -r _ u n s i w q sq st _ </proc/stat
  local total=$((u + n + s + i + w + q + sq + st - t1))
  echo $((100 * (total - (i + w - i1)) / (total > 0 ? total : 1)))
}

# settle waits, up to SETTLE_MAX seconds, until the machine is quiet: the previous step's
# leftovers (a server's exit, the dropped database's files, autovacuum after the writes) would
# otherwise fall on whichever side of a pair runs next. Load from outside the benchmark may
# never settle; the wait then ends and says so.
settle() {
  local busy=100 waited=0
  while ((waited < ${SETTLE_MAX:-30})); do
    busy="$(cpu_busy)"
    ((busy <= ${SETTLE_BUSY:-15})) && return 0
    waited=$((waited + 1))
  done
  log "the machine is still ${busy}% busy after ${waited}s; going on"
}

wait_ready() {
  for _ in $(seq 1 100); do
    curl -fsS "$1" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  log "$1 did not answer"; return 1
}

for run in $(seq 1 "$runs"); do
  file="$out/run-$run.jsonl"
  prefix="bench:$stamp:$run:"
  log "run $run/$runs: fresh $db from $tpl"
  psql_admin -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db TEMPLATE $tpl" -c "CHECKPOINT"

  env_common=(DATABASE_URL="$bench_url" REDIS_URL="$REDIS_URL" REDIS_PREFIX="$prefix" APP_ENV=development
    RATE_LIMIT=off JWT_SECRET="bench-only-secret-0123456789abcdef0123456789" ACCESS_TOKEN_TTL=1h
    CART_GUEST_TTL=1h TRUSTED_PROXIES=127.0.0.1/32 METRICS_TOKEN= DATABASE_REPLICA_URL=)
  env "${env_common[@]}" PORT="$server_port" PPROF=on PPROF_ADDR="$pprof_addr" \
    bin/server serve >"$out/server-$run.log" 2>&1 &
  pids+=($!)
  env "${env_common[@]}" PORT="$floor_port" bin/floor >"$out/floor-$run.log" 2>&1 &
  pids+=($!)
  wait_ready "http://127.0.0.1:$server_port/readyz"
  wait_ready "http://127.0.0.1:$floor_port/healthz"

  lg=(bin/loadgen -url "http://127.0.0.1:$server_port" -floor-url "http://127.0.0.1:$floor_port"
    -duration "$duration" -warmup "$warmup" -users "$users" -catalog "$products" -out "$file")
  # Each pair at the target rate, then at a low rate where neither side queues, so the ratio
  # there is the GraphQL layer's own cost rather than the queue of whichever saturates first.
  # The pairs run first, on the fresh database: after the mix's writes, autovacuum and the
  # checkpoint would fall on whichever side ran next. Within a pair the two sides take turns
  # (-target both: BENCH_SLICE each, BENCH_DURATION of measured time each), as one after the
  # other the side that ran first came out worse, whichever it was.
  pair() { # op rate
    settle
    "${lg[@]}" -mode rate -op "$1" -rate "$2" -target both -slice "$slice"
  }
  if [[ "$skip" != *" product "* ]]; then
    pair product "$product_rate"
    pair product "$overhead_rate"
  fi
  if [[ "$skip" != *" cart "* ]]; then
    pair cartAdd "$cart_rate"
    pair cartAdd "$overhead_rate"
  fi
  if [[ "$skip" != *" mix "* ]]; then
    settle
    "${lg[@]}" -mode mix -vus "$mix_vus"
  fi
  if [[ "$skip" != *" checkout "* ]]; then
    settle
    "${lg[@]}" -mode rate -op checkout -rate "$checkout_rate"
    # Stock after the checkouts: what was sold left on_hand, what is unpaid is reserved, and
    # nothing sold more than it had.
    psql "$bench_url" -qAtX -v ON_ERROR_STOP=1 >>"$file" <<'SQL'
WITH sold AS (
  SELECT ol.product_id,
         sum(ol.quantity) FILTER (WHERE o.status IN ('PAID', 'SHIPPED', 'DELIVERED')) AS sold,
         sum(ol.quantity) FILTER (WHERE o.status = 'PENDING_PAYMENT') AS held
  FROM order_lines ol JOIN orders o ON o.id = ol.order_id
  GROUP BY ol.product_id)
SELECT row_to_json(c) FROM (
  SELECT 'stock' AS check,
    count(*) FILTER (WHERE i.on_hand <> b.on_hand - coalesce(s.sold, 0)) AS on_hand_mismatch,
    count(*) FILTER (WHERE i.reserved <> coalesce(s.held, 0)) AS reserved_mismatch,
    count(*) FILTER (WHERE i.available < 0) AS negative_available,
    count(*) FILTER (WHERE coalesce(s.sold, 0) + coalesce(s.held, 0) > b.on_hand) AS oversold,
    count(*) FILTER (WHERE i.available = 0) AS sold_out_products,
    coalesce(sum(s.sold), 0) AS units_sold,
    (SELECT count(*) FROM orders WHERE status = 'PAID') AS paid_orders
  FROM inventory i JOIN bench_stock_before b USING (product_id) LEFT JOIN sold s USING (product_id)) c;
SQL
    tail -n1 "$file" >&2
  fi
  if [[ "$skip" != *" subs "* ]]; then
    settle
    "${lg[@]}" -mode subs -subs "$subs" -pprof-url "http://$pprof_addr"
  fi
  stop_all
  # This run's Redis keys only: the shared Redis holds others' data.
  redis-cli -u "$REDIS_URL" --scan --pattern "${prefix}*" | xargs -r -n 500 redis-cli -u "$REDIS_URL" unlink >/dev/null
done

bin/loadgen -mode summarize -summary-json "$out/summary.json" "$out"/run-*.jsonl | tee "$out/summary.txt"
