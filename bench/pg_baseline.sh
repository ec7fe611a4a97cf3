#!/usr/bin/env bash
# The baseline of the HTTP benchmark: the lookup by phone a team would build
# without custodian, measured like bench/http_bench.sh measures custodian. A
# throwaway PostgreSQL 15 cluster holds the same synthetic customers with
# pgcrypto-encrypted name, phone and email (pgp_sym_encrypt) and an HMAC-SHA256
# of the E.164 phone as the index; custodian-pg-baseline (bench/pg_baseline.cc)
# serves POST /v1/subjects/lookup from it, one prepared statement per request
# that decrypts the hits and inserts an access_log row for each (durable:
# synchronous_commit on).
#
#   bash bench/pg_baseline.sh              # 100k customers, 20 s
#   bash bench/pg_baseline.sh 1000000 30   # SUBJECTS, SECONDS
#   BASELINE=pg bash bench/http_bench.sh   # custodian, then this, and the ratio
#
# PG_THREADS: server threads, one libpq connection each (default 8: of 2, 4, 8,
# 16 and 32, 8 served the most lookups on the 2-core benchmark machine).
# PG_ENCRYPT_OPTIONS: pgp_sym_encrypt's options, e.g. "s2k-mode=1" (default:
# pgcrypto's, an iterated S2K that every decryption repeats).
# The cluster (out/bench/pg-data: port 15432 on 127.0.0.1, a Unix socket, trust
# authentication) keeps one database per SUBJECTS and options between runs,
# with its keys in keys.env; delete the directory to start afresh. Prints
# requests/s, latency percentiles, the server's RSS and the postgres processes'
# summed RSS and PSS (RSS counts shared_buffers once per process that touched
# them); the same text goes to out/bench/pg-baseline-STAMP.txt.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build-bench}"
subjects="${1:-100000}"
seconds="${2:-20}"
threads="${PG_THREADS:-8}"
options="${PG_ENCRYPT_OPTIONS:-}"

source "$root/bench/lib.sh"
# Nested in http_bench.sh's run, which has built them.
[ -n "${BENCH_NESTED:-}" ] || bench_build "$build" custodian-pg-baseline custodian-datagen
work="$root/out/bench/http-data"
mkdir -p "$work"
# Nested in http_bench.sh's run: its report already takes this output.
[ -n "${BENCH_NESTED:-}" ] || bench_report pg-baseline
echo "== PostgreSQL baseline: $threads server threads, pgp_sym_encrypt options '${options}'"

customers="$work/customers-$subjects.csv"
[ -s "$customers" ] || "$build/custodian-datagen" subjects "$subjects" > "$customers"

# initdb and postgres refuse to run as root: then they run as postgres.
pgbin=/usr/lib/postgresql/15/bin
pgdir="$root/out/bench/pg-data"
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
psql_() { psql -X -q -v ON_ERROR_STOP=1 -h "$pgdir/run" -p 15432 -U postgres "$@"; }
if [ ! -f "$pgdir/cluster/PG_VERSION" ]; then
  rm -rf "$pgdir"
  mkdir -p "$pgdir/run"
  [ "$(id -u)" -ne 0 ] || chown -R postgres: "$pgdir"
  as_pg "$pgbin/initdb" -D "$pgdir/cluster" -U postgres -A trust -E UTF8 --locale=C >/dev/null
  cat >> "$pgdir/cluster/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = 15432
unix_socket_directories = '$pgdir/run'
shared_buffers = 256MB
max_connections = 200
CONF
  (umask 077 && for k in INDEX_KEY DATA_KEY TOKEN; do
     echo "PG_BASELINE_$k=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
   done > "$pgdir/keys.env")
fi
set -a
# shellcheck source=/dev/null
source "$pgdir/keys.env"
set +a

server=
stop_all() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  as_pg "$pgbin/pg_ctl" -D "$pgdir/cluster" -m fast -w stop >/dev/null 2>&1 || true
}
trap stop_all EXIT
as_pg "$pgbin/pg_ctl" -D "$pgdir/cluster" -l "$pgdir/postgres.log" -w start >/dev/null
echo "postgres: $(psql_ -d postgres -Atc 'SHOW server_version'), shared_buffers" \
  "$(psql_ -d postgres -Atc 'SHOW shared_buffers'), synchronous_commit" \
  "$(psql_ -d postgres -Atc 'SHOW synchronous_commit'), fsync $(psql_ -d postgres -Atc 'SHOW fsync')"

# One database per SUBJECTS, loaded once: the datagen CSV, rows custodian's
# import would reject left out, phones in E.164 with their HMAC (computed by
# custodian-pg-baseline load), COPY'd into a staging table, then encrypted in
# SQL by one session per core.
db="customers_$subjects$(printf '%s' "${options:+_$options}" | tr -c 'a-z0-9_' '_')"
if [ ! -f "$pgdir/$db.loaded" ]; then
  echo "loading $subjects customers into $db ..."
  start=$(date +%s)
  psql_ -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  psql_ -d "$db" <<'SQL'
CREATE EXTENSION pgcrypto;
CREATE TABLE customers (id bigserial PRIMARY KEY, external_id text NOT NULL, name bytea NOT NULL,
                        phone bytea NOT NULL, email bytea NOT NULL, phone_hmac bytea NOT NULL);
CREATE TABLE access_log (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(),
                         actor text NOT NULL, purpose text NOT NULL, customer_id bigint NOT NULL);
CREATE UNLOGGED TABLE staging (n bigserial, external_id text, name text, phone text, email text,
                               phone_hmac text);
SQL
  "$build/custodian-pg-baseline" load "$customers" |
    psql_ -d "$db" -c "\copy staging (external_id, name, phone, email, phone_hmac) FROM pstdin"
  opt=""
  [ -z "$options" ] || opt=", '$options'"
  jobs=$(nproc)
  loaders=()
  for part in $(seq 0 $((jobs - 1))); do
    psql_ -d "$db" <<SQL &
\getenv key PG_BASELINE_DATA_KEY
INSERT INTO customers (external_id, name, phone, email, phone_hmac)
SELECT external_id, pgp_sym_encrypt(name, :'key'$opt), pgp_sym_encrypt(phone, :'key'$opt),
       pgp_sym_encrypt(email, :'key'$opt), decode(phone_hmac, 'hex')
FROM staging WHERE n % $jobs = $part;
SQL
    loaders+=($!)
  done
  wait "${loaders[@]}"  # not a bare wait: that would wait for the report's tee too
  psql_ -d "$db" -c "CREATE INDEX customers_phone_hmac ON customers (phone_hmac)" \
    -c "DROP TABLE staging" -c "VACUUM ANALYZE customers" -c "CHECKPOINT"
  touch "$pgdir/$db.loaded"
  echo "loaded $(psql_ -d "$db" -Atc 'SELECT count(*) FROM customers') customers in" \
    "$(($(date +%s) - start)) s; database $(psql_ -d "$db" -Atc \
    "SELECT pg_size_pretty(pg_database_size(current_database()))")"
fi
psql_ -d "$db" -c "TRUNCATE access_log" -c "CHECKPOINT"

port=18090
"$build/custodian-pg-baseline" serve --listen "127.0.0.1:$port" --threads "$threads" \
  --conninfo "host=$pgdir/run port=15432 user=postgres dbname=$db" 2> "$work/pg-serve.log" &
server=$!
for _ in $(seq 100); do grep -q serving "$work/pg-serve.log" && break; sleep 0.1; done
grep -q serving "$work/pg-serve.log" || { cat "$work/pg-serve.log"; exit 1; }

bench_wrk_setup "$work" "$customers"
bench_rss() {
  local postmaster pids
  postmaster="$(head -1 "$pgdir/cluster/postmaster.pid")"
  mapfile -t pids < <(echo "$postmaster"; pgrep -P "$postmaster")
  echo "server RSS under load: $(($(ps -o rss= -p "$server") / 1024)) MB"
  echo "postgres under load (${#pids[@]} processes): RSS summed" \
    "$(ps -o rss= -p "$(IFS=,; echo "${pids[*]}")" | awk '{ s += $1 } END { printf "%d", s / 1024 }') MB," \
    "PSS summed $(for p in "${pids[@]}"; do cat "/proc/$p/smaps_rollup" 2>/dev/null; done |
      awk '/^Pss:/ { s += $2 } END { printf "%d", s / 1024 }') MB"
}
bench_wrk "pg-baseline lookup" $port "/v1/subjects/lookup?purpose=essential.service" phone \
  "$PG_BASELINE_TOKEN"
echo "$wrk_rps" > "$work/pg-rps.txt"
echo "access_log rows written: $(psql_ -d "$db" -Atc 'SELECT count(*) FROM access_log')"
if [ -z "${BENCH_NESTED:-}" ]; then
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "report: $report"
fi
