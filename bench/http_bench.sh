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
#   BASELINE=pg ROUNDS=5 bash bench/http_bench.sh 1000000 12   # 5 alternating rounds
#   CUSTODIAN=/tmp/old/custodian bash bench/http_bench.sh   # measure another binary
#
# Prints wrk's requests/s and latency percentiles and the server's RSS under
# load; the same text goes to out/bench/http-STAMP.txt. wrk runs on the same
# two cores as the server. With BASELINE=pg, bench/pg_baseline.sh follows
# (same customers, same wrk script; PG_* variables pass through) and the last
# lines are the ratio of lookups/s custodian/baseline. ROUNDS (default 3 with
# BASELINE=pg, else 1) repeats custodian's lookups and the baseline's in turn,
# one server at a time, and reports each round's ratio and their median: the
# host's speed drifts by +-10% over minutes, and a ratio of two runs far apart
# measures the drift as much as the servers. Calls are measured in the first
# round only. The first round warms up for FIRST_WARMUP seconds (default 20)
# instead of WARMUP's 3, each server: after a while without a run, their
# stores' pages are no longer cached (a first round at 1M subjects measured
# 10.1k lookups/s with 3 s, the rounds after it 15.9-16.5k). CI does not run
# this.
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
server=
stop_server() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  server=
}
trap stop_server EXIT
bench_rss() { echo "server RSS under load: $(($(ps -o rss= -p "$server") / 1024)) MB"; }

rounds="${ROUNDS:-1}"
[ "${BASELINE:-}" != pg ] || rounds="${ROUNDS:-3}"
ratios=()
for round in $(seq "$rounds"); do
  [ "$rounds" -eq 1 ] || echo "== round $round of $rounds"
  # SERVE_FLAGS: extra options for the server, e.g. "--group-commit --threads 8".
  # shellcheck disable=SC2086
  "$custodian" serve --data-dir "$data" --listen "127.0.0.1:$port" --no-access-log \
    --call-purpose essential.service ${SERVE_FLAGS:-} 2> "$work/serve.log" &
  server=$!
  # A large store takes a while to open.
  for _ in $(seq 600); do grep -q serving "$work/serve.log" && break; sleep 0.1; done
  grep -q serving "$work/serve.log" || { cat "$work/serve.log"; exit 1; }
  warmup="${WARMUP:-3}"
  [ "$round" -gt 1 ] || warmup="${FIRST_WARMUP:-20}"
  WARMUP=$warmup bench_wrk lookup $port "/v1/subjects/lookup?purpose=essential.service" phone "$key"
  custodian_rps="$wrk_rps"
  [ "$round" -gt 1 ] || bench_wrk calls $port /v1/calls caller "$key"
  # BASELINE=pg: then the same lookups from PostgreSQL (bench/pg_baseline.sh),
  # once this server has stopped: one server at a time.
  stop_server
  if [ "${BASELINE:-}" = pg ]; then
    WARMUP=$warmup BENCH_NESTED=1 BUILD_DIR="$build" bash "$root/bench/pg_baseline.sh" "$subjects" "$seconds"
    pg_rps="$(cat "$work/pg-rps.txt")"
    ratio="$(awk -v a="$custodian_rps" -v b="$pg_rps" 'BEGIN { printf "%.2f", a / b }')"
    ratios+=("$ratio")
    echo "== custodian lookups/s $custodian_rps, PostgreSQL baseline $pg_rps:" \
      "ratio custodian/baseline ${ratio}x"
  fi
done
if [ "${#ratios[@]}" -gt 1 ]; then
  echo "== ratios custodian/baseline by round: $(printf '%sx ' "${ratios[@]}")-> median" \
    "$(printf '%s\n' "${ratios[@]}" | sort -n |
      awk '{ v[NR] = $1 } END { printf "%.2fx", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "report: $report"
