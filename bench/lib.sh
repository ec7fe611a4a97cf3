# Shared by the whole-system benchmark scripts (bench/*_bench.sh): source it.

# bench_build BUILD_DIR TARGET... : installs the packages and builds the
# targets in Release (BENCH_JOBS parallel jobs, default nproc).
bench_build() {
  local build="$1"
  shift
  bash "$root/scripts/setup"
  # -Wno-restrict: GCC 12 at -O3 reports a false -Wrestrict inside std::string
  # (GCC bug 105329), which -Werror would turn into a failed build.
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_FLAGS="-Wno-restrict" -DCUSTODIAN_BENCH=ON >/dev/null
  cmake --build "$build" --target "$@" -j"${BENCH_JOBS:-$(nproc)}" >/dev/null
}

# bench_report NAME : from here on, everything printed also goes to
# out/bench/NAME-STAMP.txt (its path in $report), starting with the machine.
bench_report() {
  mkdir -p "$root/out/bench"
  report="$root/out/bench/$1-$(date -u +%Y%m%dT%H%M%SZ).txt"
  exec > >(tee "$report") 2>&1
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(
    git -C "$root" diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), nproc $(nproc)"
  echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# bench_wrk_setup DIR SUBJECTS_CSV : the phones of the CSV's first 200,000
# customers as the CSV spells them (DIR/phones.txt) and DIR/post.lua, which
# POSTs {"FIELD": "PHONE"} for a random one of them per request (wrk arguments
# after --: PATH FIELD PHONES_FILE). Sets $work to DIR for bench_wrk.
bench_wrk_setup() {
  work="$1"
  awk -F, 'NR > 1 && NR <= 200001 { gsub(/"/, "", $3); if ($3 != "12345") print $3 }' \
    "$2" > "$work/phones.txt"
  # Each thread builds its requests once, in init: wrk.format per request
  # cost wrk ~8 us of CPU a request (about a third of its CPU), taken from the
  # server it measures on this 2-core machine.
  cat > "$work/post.lua" <<'LUA'
local requests = {}
function init(args)
  local path, field = args[1], args[2]
  for line in io.lines(args[3]) do
    requests[#requests + 1] =
      wrk.format("POST", path, nil, '{"' .. field .. '": "' .. line .. '"}')
  end
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end
function request()
  return requests[math.random(#requests)]
end
LUA
}

# bench_wrk NAME PORT PATH FIELD TOKEN : wrk -t2 -c64 (keep-alive) for
# $seconds against 127.0.0.1:PORT; prints requests/s, latency percentiles and,
# taken half-way, what the caller's bench_rss function prints. Leaves the
# requests/s in $wrk_rps. The file system's dirty pages (a store just copied,
# imported or checkpointed, the other server's writes) are flushed first: left
# to the kernel's writeback they stalled every fsync of the run that followed
# (custodian at 1M subjects: 300-400 lookups/s instead of 3,300-3,500).
# A warm-up run of WARMUP seconds (default 3, not measured) goes first, the
# same for every server: a first run after a start read its store's pages
# from disk and measured 12.0k lookups/s at 1M subjects where the run after
# it did 13.3-15.8k.
bench_wrk() {
  sync -f "$work"
  local warmup="${WARMUP:-3}"
  if [ "$warmup" -gt 0 ]; then
    wrk -t2 -c64 -d"${warmup}s" -s "$work/post.lua" \
      -H "Authorization: Bearer $5" -H "Content-Type: application/json" \
      "http://127.0.0.1:$2" -- "$3" "$4" "$work/phones.txt" > /dev/null
    sync -f "$work"
  fi
  echo "== $1: wrk -t2 -c64 -d${seconds}s, keep-alive (after ${warmup}s of warm-up)"
  wrk -t2 -c64 -d"${seconds}s" --latency -s "$work/post.lua" \
    -H "Authorization: Bearer $5" -H "Content-Type: application/json" \
    "http://127.0.0.1:$2" -- "$3" "$4" "$work/phones.txt" > "$work/wrk.txt" &
  local w=$!
  sleep $((seconds / 2))
  local rss
  rss="$(bench_rss)"
  wait $w
  grep -E "Requests/sec|Latency  |50%|90%|99%|Non-2xx|Socket errors" "$work/wrk.txt"
  echo "$rss"
  wrk_rps="$(awk '/^Requests\/sec/ { print $2 }' "$work/wrk.txt")"
}
