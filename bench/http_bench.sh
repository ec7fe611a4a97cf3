#!/usr/bin/env bash
# Whole-system HTTP benchmark: `custodian serve` on loopback, driven by wrk
# (keep-alive, 64 connections) with lookups by phone (POST /v1/subjects/lookup)
# and incoming calls (POST /v1/calls) for random customers of a store filled by
# bench/import_bench.sh's data (the same synthetic customers).
#
#   bash bench/http_bench.sh              # 100k subjects imported first, 20 s per run
#   bash bench/http_bench.sh 1000000 30   # SUBJECTS, SECONDS per run
#   DATA_DIR=out/bench/import-data/vault bash bench/http_bench.sh   # reuse a store
#   SERVE_FLAGS="--group-commit --threads 8" bash bench/http_bench.sh
#   BASELINE=pg bash bench/http_bench.sh   # then the PostgreSQL baseline, and the ratio
#   CUSTODIAN=/tmp/old/custodian bash bench/http_bench.sh   # measure another binary
#
# Prints wrk's requests/s and latency percentiles and the server's RSS under
# load; the same text goes to out/bench/http-STAMP.txt. wrk runs on the same
# two cores as the server. With BASELINE=pg, bench/pg_baseline.sh follows
# (same customers, same wrk script; PG_* variables pass through) and the last
# line is the ratio of lookups/s custodian/baseline. CI does not run this.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build-bench}"
subjects="${1:-100000}"
seconds="${2:-20}"

source "$root/bench/lib.sh"
targets=(custodian custodian-datagen)
[ "${BASELINE:-}" = pg ] && targets+=(custodian-pg-baseline)
bench_build "$build" "${targets[@]}"
work="$root/out/bench/http-data"
mkdir -p "$work"
bench_report http
echo "serve flags: ${SERVE_FLAGS:-none}"
# CUSTODIAN: another custodian binary to measure over the same store (e.g. the
# base commit's, for a before/after comparison in the same conditions).
custodian="${CUSTODIAN:-$build/custodian}"
echo "custodian binary: $custodian"
unset CUSTODIAN_MASTER_KEY

customers="$work/customers-$subjects.csv"
[ -s "$customers" ] || "$build/custodian-datagen" subjects "$subjects" > "$customers"
data="${DATA_DIR:-$work/vault-$subjects}"
if [ ! -f "$data/custodian.db" ]; then
  echo "importing $subjects subjects into $data ..."
  "$custodian" init --data-dir "$data" >/dev/null
  "$custodian" tenant create bench --policy "$root/bench/vault_bench_policy.yaml" \
    --data-dir "$data" >/dev/null
  "$custodian" import subjects bench "$customers" --map "$root/bench/import/subjects-map.yaml" \
    --data-dir "$data" >/dev/null || [ $? -eq 3 ]
fi
key="$("$custodian" apikey create bench --role agent --name http-bench --json --data-dir "$data" |
  sed -n 's/.*"key": *"\([^"]*\)".*/\1/p')"

bench_wrk_setup "$work" "$customers"

port=18080
# SERVE_FLAGS: extra options for the server, e.g. "--group-commit --threads 8".
# shellcheck disable=SC2086
"$custodian" serve --data-dir "$data" --listen "127.0.0.1:$port" --no-access-log \
  --call-purpose essential.service ${SERVE_FLAGS:-} 2> "$work/serve.log" &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
# A large store takes a while to open.
for _ in $(seq 600); do grep -q serving "$work/serve.log" && break; sleep 0.1; done
grep -q serving "$work/serve.log" || { cat "$work/serve.log"; exit 1; }

bench_rss() { echo "server RSS under load: $(($(ps -o rss= -p "$server") / 1024)) MB"; }
bench_wrk lookup $port "/v1/subjects/lookup?purpose=essential.service" phone "$key"
custodian_rps="$wrk_rps"
bench_wrk calls $port /v1/calls caller "$key"

# BASELINE=pg: then the same lookups from PostgreSQL (bench/pg_baseline.sh),
# once this server has stopped: one server at a time.
if [ "${BASELINE:-}" = pg ]; then
  kill $server
  wait $server 2>/dev/null || true
  BENCH_NESTED=1 BUILD_DIR="$build" bash "$root/bench/pg_baseline.sh" "$subjects" "$seconds"
  pg_rps="$(cat "$work/pg-rps.txt")"
  echo "== custodian lookups/s $custodian_rps, PostgreSQL baseline $pg_rps:" \
    "ratio custodian/baseline $(awk -v a="$custodian_rps" -v b="$pg_rps" 'BEGIN { printf "%.2fx", a / b }')"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "report: $report"
