# Shared by the whole-system benchmark scripts (bench/*_bench.sh): source it.

# bench_build BUILD_DIR TARGET... : installs the packages and builds the
# targets in Release.
bench_build() {
  local build="$1"
  shift
  bash "$root/scripts/setup"
  # -Wno-restrict: GCC 12 at -O3 reports a false -Wrestrict inside std::string
  # (GCC bug 105329), which -Werror would turn into a failed build.
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_FLAGS="-Wno-restrict" -DCUSTODIAN_BENCH=ON >/dev/null
  cmake --build "$build" --target "$@" -j"$(nproc)" >/dev/null
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
