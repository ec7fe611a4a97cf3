#!/usr/bin/env bash
# The retention sweep at the issue's scale (default 1,000,000 subjects x 10
# records, 10% due), against plain SQLite deleting the same rows, same run.
#
#   bash bench/retention_bench.sh [SUBJECTS] [RECORDS_PER_SUBJECT]
#
# Needs about 4 GB of disk per copy under ${CUSTODIAN_BENCH_DIR:-/tmp} at full
# scale. BUILD_DIR: a build with CUSTODIAN_BENCH=ON (default build-bench, Release).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/bench/lib.sh"
build="${BUILD_DIR:-$root/build-bench}"
[ -x "$build/retention_bench" ] || bench_build "$build" retention_bench
bench_report retention
work="$(mktemp -d "${CUSTODIAN_BENCH_DIR:-/tmp}/custodian-retention-bench-XXXXXX")"
trap 'rm -rf "$work"' EXIT
"$build/retention_bench" generate "$work/a" "${1:-1000000}" "${2:-10}"
cp -r "$work/a" "$work/b"
echo "store: $(du -sh "$work/a" | cut -f1)"
"$build/retention_bench" plan "$work/a"
"$build/retention_bench" sweep "$work/a"    # the purge: due data unreadable, audited
"$build/retention_bench" plan "$work/a"
"$build/retention_bench" compact "$work/a"  # then the shredded records' rows removed
"$build/retention_bench" baseline "$work/b"
