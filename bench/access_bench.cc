// API key authentication, the check every HTTP request makes (target: the
// HTTP API's 50k requests/s on 2 cores leaves it a few microseconds).
// A cached key costs a keyed BLAKE2b and a constant-time compare.
//
//   cmake --build build --target access_bench && build/access_bench
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "service/vault.h"

namespace custodian::service {
namespace {

struct Fixture {
  Fixture() {
    unsetenv("CUSTODIAN_MASTER_KEY");
    char tmpl[] = "/tmp/custodian-access-bench-XXXXXX";
    dir = mkdtemp(tmpl);
    (void)Vault::Init(dir + "/data");
    VaultOptions o;
    o.data_dir = dir + "/data";
    vault = Vault::Open(o).value();
    std::ifstream in(std::filesystem::path(__FILE__).parent_path().parent_path() /
                     "examples/policies/interjet.yaml");
    std::stringstream yaml;
    yaml << in.rdbuf();
    (void)vault->CreateTenant({"bench", "admin"}, "interjet", yaml.str(), "interjet.yaml");
    key = vault->CreateApiKey({"bench", "admin"}, "interjet", "agent", "bench").value().key;
  }
  ~Fixture() {
    vault.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string dir;
  std::unique_ptr<Vault> vault;
  std::string key;
};

Fixture& Shared() {
  static Fixture f;
  return f;
}

void BM_AuthenticateApiKeyCached(benchmark::State& state) {
  Fixture& f = Shared();
  for (auto _ : state) benchmark::DoNotOptimize(f.vault->AuthenticateApiKey(f.key));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AuthenticateApiKeyCached)->ThreadRange(1, 2)->UseRealTime();

void BM_AuthenticateApiKeyUnknown(benchmark::State& state) {
  Fixture& f = Shared();
  std::string unknown = f.key;
  unknown[4] = unknown[4] == 'a' ? 'b' : 'a';
  for (auto _ : state) benchmark::DoNotOptimize(f.vault->AuthenticateApiKey(unknown));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AuthenticateApiKeyUnknown);

}  // namespace
}  // namespace custodian::service

BENCHMARK_MAIN();
