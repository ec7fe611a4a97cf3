#!/usr/bin/env bash
# Backup, verify and restore of a real store, against SQLite's own online
# backup of the same file (`sqlite3 DB ".backup COPY"`, unencrypted), same run.
#
#   bash bench/backup_bench.sh DATA_DIR
#
# DATA_DIR: an existing custodian data directory (e.g. the HTTP benchmark's
# out/bench/http-data/vault-100000). It is only read. Needs free space for
# about three copies of its store under ${CUSTODIAN_BENCH_DIR:-/tmp}.
# BUILD_DIR: a Release build (default build-bench).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/bench/lib.sh"
data="${1:?usage: bench/backup_bench.sh DATA_DIR}"
build="${BUILD_DIR:-$root/build-bench}"
[ -x "$build/custodian" ] || bench_build "$build" custodian
custodian="$build/custodian"
bench_report backup
work="$(mktemp -d "${CUSTODIAN_BENCH_DIR:-/tmp}/custodian-backup-bench-XXXXXX")"
trap 'rm -rf "$work"' EXIT
db="$data/custodian.db"
echo "store: $db, $(du -h "$db" | cut -f1)"
sync

# seconds KEY NAME COMMAND...: runs it, prints its wall and CPU time, and
# keeps the wall time in $wall_KEY.
seconds() {
  local key="$1" name="$2"; shift 2
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f "%U %S %M" -o "$work/time" "$@" > "$work/out" 2>&1 || { cat "$work/out"; exit 1; }
  t1=$(date +%s.%N)
  read -r user sys rss < "$work/time"
  wall=$(echo "$t1 - $t0" | bc)
  printf '%-34s wall %7.2f s  cpu %7.2f s  max RSS %6d MB\n' "$name" "$wall" "$(echo "$user + $sys" | bc)" $((rss / 1024))
  printf -v "wall_$key" '%s' "$wall"
}

seconds baseline "sqlite3 .backup (baseline)" sqlite3 "$db" ".backup '$work/plain.db'"
rm -f "$work/plain.db"; sync
seconds create "custodian backup create" "$custodian" backup create "$work/b.bak" --data-dir "$data"
echo "  backup file: $(du -h "$work/b.bak" | cut -f1)"
sync
seconds verify "custodian backup verify" "$custodian" backup verify "$work/b.bak" --data-dir "$data"
mkdir -m 700 "$work/restored"
cp "$data/master.key" "$work/restored/"
sync
seconds restore "custodian restore" "$custodian" restore "$work/b.bak" --data-dir "$work/restored"
cat "$work/out"
echo "ratio backup create / sqlite3 .backup: $(echo "scale=2; $wall_create / $wall_baseline" | bc)x"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
