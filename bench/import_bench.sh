#!/usr/bin/env bash
# Whole-system import benchmark: synthetic customers and billing records
# (custodian-datagen) imported end to end from CSV by the real binary, against
# a baseline in the same run: the same CSV files loaded into plaintext SQLite
# tables with the same indexes by the sqlite3 shell's .import.
#
#   bash bench/import_bench.sh                   # 100k subjects, 1M records: a few minutes
#   bash bench/import_bench.sh 1000000 10000000  # the issue's scale; long
#
# Prints rows/s, the vault/baseline time ratio and peak RSS for each import;
# the same text goes to out/bench/import-STAMP.txt. CI does not run this.
# Environment: BUILD_DIR (default build-bench), BENCH_DIR (default out/bench/import-data),
# CUSTODIAN_BENCH_BATCH (rows per transaction, default: the importer's).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build-bench}"
subjects="${1:-100000}"
records="${2:-$((subjects * 10))}"
for n in "$subjects" "$records"; do
  case "$n" in
    ''|*[!0-9]*) echo "usage: bench/import_bench.sh [SUBJECTS] [RECORDS]" >&2; exit 2 ;;
  esac
done

source "$root/bench/lib.sh"
bench_build "$build" custodian custodian-datagen
work="${BENCH_DIR:-$root/out/bench/import-data}"
mkdir -p "$work"
bench_report import

custodian="$build/custodian"
datagen="$build/custodian-datagen"
policy="$root/bench/vault_bench_policy.yaml"
batch=()
[ -n "${CUSTODIAN_BENCH_BATCH:-}" ] && batch=(--batch "$CUSTODIAN_BENCH_BATCH")
echo "subjects: $subjects, records: $records, batch: ${CUSTODIAN_BENCH_BATCH:-default}"

customers="$work/customers-$subjects.csv"
billing="$work/billing-$records-$subjects.csv"
[ -s "$customers" ] || "$datagen" subjects "$subjects" > "$customers"
[ -s "$billing" ] || "$datagen" records "$records" --subjects "$subjects" > "$billing"
echo "customers.csv: $(du -h "$customers" | cut -f1), billing.csv: $(du -h "$billing" | cut -f1)"

# measure NAME ROWS COMMAND... : wall seconds and peak RSS of one run
measure() {
  local name="$1" rows="$2"
  shift 2
  local t="$work/time.txt"
  local status=0
  /usr/bin/time -f "%e %M" -o "$t" "$@" >/dev/null 2>"$work/$name.stderr" || status=$?
  # exit 3 = some rows rejected (the 1% malformed rows): expected
  if [ "$status" -ne 0 ] && [ "$status" -ne 3 ]; then
    echo "$name failed (exit $status):" >&2
    cat "$work/$name.stderr" >&2
    exit 1
  fi
  read -r secs rss_kb < <(tail -1 "$t")
  printf '%-22s %10d rows %8.2f s %10.0f rows/s  peak RSS %5d MB\n' \
    "$name" "$rows" "$secs" "$(awk "BEGIN {print $rows / $secs}")" "$((rss_kb / 1024))"
  eval "${name//-/_}_secs=$secs"
}

# --- the vault ---
data="$work/vault"
rm -rf "$data" "$customers.rejects.csv" "$billing.rejects.csv"
export CUSTODIAN_DATA_DIR="$data"
unset CUSTODIAN_MASTER_KEY
"$custodian" init >/dev/null
"$custodian" tenant create bench --policy "$policy" >/dev/null
measure vault-subjects "$subjects" "$custodian" import subjects bench "$customers" \
  --map "$root/bench/import/subjects-map.yaml" "${batch[@]}"
measure vault-records "$records" "$custodian" import records bench "$billing" \
  --map "$root/bench/import/billing-map.yaml" --kind billing "${batch[@]}"
echo "rejected: subjects $(($(wc -l < "$customers.rejects.csv") - 1)), records $(($(wc -l < "$billing.rejects.csv") - 1))"
echo "vault store: $(du -sh "$data" | cut -f1)"

# --- the baseline: plaintext tables, the same indexes, sqlite3 .import ---
base="$work/baseline.db"
rm -f "$base" "$base-wal" "$base-shm"
sqlite3 "$base" >/dev/null <<'SQL'
PRAGMA journal_mode = WAL;
CREATE TABLE subjects (customer_id TEXT NOT NULL, name TEXT, phone TEXT, email TEXT,
                       national_id TEXT, date_of_birth TEXT, address TEXT, ip_address TEXT);
CREATE UNIQUE INDEX subjects_by_customer ON subjects(customer_id);
CREATE INDEX subjects_by_phone ON subjects(phone);
CREATE INDEX subjects_by_email ON subjects(email);
CREATE INDEX subjects_by_national_id ON subjects(national_id);
CREATE TABLE billing (customer_id TEXT NOT NULL, at TEXT, amount TEXT, plan TEXT, invoice TEXT);
CREATE INDEX billing_by_customer ON billing(customer_id, at);
SQL
measure baseline-subjects "$subjects" sqlite3 "$base" "PRAGMA synchronous = FULL" \
  "PRAGMA cache_size = -65536" ".import --csv --skip 1 $customers subjects"
measure baseline-records "$records" sqlite3 "$base" "PRAGMA synchronous = FULL" \
  "PRAGMA cache_size = -65536" ".import --csv --skip 1 $billing billing"
echo "baseline store: $(du -sh "$base" | cut -f1)"

awk "BEGIN {printf \"ratio vault/baseline: subjects %.2fx, records %.2fx\\n\", \
  $vault_subjects_secs / $baseline_subjects_secs, $vault_records_secs / $baseline_records_secs}"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "report: $report"
