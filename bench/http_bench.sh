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
#
# Prints wrk's requests/s and latency percentiles and the server's RSS under
# load; the same text goes to out/bench/http-STAMP.txt. wrk runs on the same
# two cores as the server. CI does not run this.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build-bench}"
subjects="${1:-100000}"
seconds="${2:-20}"

source "$root/bench/lib.sh"
bench_build "$build" custodian custodian-datagen
work="$root/out/bench/http-data"
mkdir -p "$work"
bench_report http
echo "serve flags: ${SERVE_FLAGS:-none}"
custodian="$build/custodian"
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

# Phones as the CSV spells them (wrk picks one at random per request).
awk -F, 'NR > 1 && NR <= 200001 { gsub(/"/, "", $3); if ($3 != "12345") print $3 }' \
  "$customers" > "$work/phones.txt"
cat > "$work/post.lua" <<'LUA'
local phones = {}
local path, field
function init(args)
  path, field = args[1], args[2]
  for line in io.lines(args[3]) do phones[#phones + 1] = line end
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end
function request()
  local phone = phones[math.random(#phones)]
  return wrk.format("POST", path, nil, '{"' .. field .. '": "' .. phone .. '"}')
end
LUA

port=18080
# SERVE_FLAGS: extra options for the server, e.g. "--group-commit --threads 8".
# shellcheck disable=SC2086
"$custodian" serve --data-dir "$data" --listen "127.0.0.1:$port" --no-access-log \
  --call-purpose essential.service ${SERVE_FLAGS:-} 2> "$work/serve.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q serving "$work/serve.log" && break; sleep 0.1; done

run() {  # NAME PATH FIELD
  echo "== $1: wrk -t2 -c64 -d${seconds}s, keep-alive"
  wrk -t2 -c64 -d"${seconds}s" --latency -s "$work/post.lua" \
    -H "Authorization: Bearer $key" -H "Content-Type: application/json" \
    "http://127.0.0.1:$port" -- "$2" "$3" "$work/phones.txt" > "$work/wrk.txt" &
  local w=$!
  sleep $((seconds / 2))
  local rss
  rss=$(ps -o rss= -p "$server")
  wait $w
  grep -E "Requests/sec|Latency  |50%|90%|99%|Non-2xx|Socket errors" "$work/wrk.txt"
  echo "server RSS under load: $((rss / 1024)) MB"
}
run lookup "/v1/subjects/lookup?purpose=essential.service" phone
run calls "/v1/calls" caller
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "report: $report"
