// The consent check every marketing read and every send makes, side by side
// with a plaintext SQLite baseline in one run: Vault::ConsentAllowed for a
// batch of subjects (the outbox's send-time check), against the same point
// lookups on a bare table of the same shape (no tenant, policy or erasure
// checks).
//
//   CUSTODIAN_BENCH_SUBJECTS=20000 build-bench/consent_bench
//
// Half the subjects granted marketing consent, a quarter withdrew it, a
// quarter never chose (the policy's default applies).
#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench_vault.h"
#include "service/vault.h"
#include "store/sqlite/statement.h"

namespace custodian::bench {
namespace {

namespace fs = std::filesystem;
using service::Vault;
using store::sqlite::Db;
using store::sqlite::Stmt;

constexpr char kPurpose[] = "marketing.communications";
constexpr std::size_t kBatch = 1000;
const service::Actor kAdmin{"bench", "admin"};

struct Fixture {
  BenchVault bench{"consent-bench", ExamplePolicyYaml("interjet")};
  fs::path& dir = bench.dir;
  std::unique_ptr<Vault>& vault = bench.vault;
  std::unique_ptr<Db> baseline;
  std::vector<std::string> ids;

  Fixture() {
    const std::size_t n = BenchSubjects(20000);
    for (std::size_t start = 0; start < n; start += kBatch) {
      std::vector<service::SubjectInput> batch;
      for (std::size_t i = start; i < std::min(n, start + kBatch); ++i) {
        batch.push_back(
            {{{"user.name", "Customer " + std::to_string(i)}}, "C" + std::to_string(i)});
      }
      auto added = vault->AddSubjects(kAdmin, "bench", batch);
      Must(added.status());
      for (const auto& r : *added) ids.push_back(r.subject_id);
    }
    std::vector<service::ConsentImportInput> choices;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (i % 4 == 3) continue;  // never asked
      choices.push_back({"C" + std::to_string(i),
                         {kPurpose, i % 4 == 2 ? "withdrawn" : "granted", "import", 1, "", ""}});
      if (choices.size() == kBatch || i + 1 == ids.size()) {
        Must(vault->ImportConsentBatch(kAdmin, "bench", choices).status());
        choices.clear();
      }
    }
    // The baseline: the same (tenant, subject, purpose) -> state table, bare.
    baseline =
        std::make_unique<Db>(std::move(Db::Open((dir / "baseline.db").string(), true)).value());
    Must(baseline->Exec(
        "PRAGMA journal_mode = WAL; CREATE TABLE consents (tenant TEXT NOT NULL, subject TEXT NOT "
        "NULL, purpose TEXT NOT NULL, state INTEGER NOT NULL, at_ms INTEGER NOT NULL, PRIMARY KEY "
        "(tenant, subject, purpose)) WITHOUT ROWID; BEGIN"));
    Stmt ins(*baseline, "INSERT INTO consents VALUES ('bench', ?, ?, ?, 1)");
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (i % 4 == 3) continue;
      ins.BindText(1, ids[i]);
      ins.BindText(2, kPurpose);
      ins.BindInt64(3, i % 4 == 2 ? 2 : 1);
      Must(ins.Run());
      ins.Reset();
    }
    Must(baseline->Exec("COMMIT"));
  }
  ~Fixture() {
    baseline.reset();  // before the vault and its directory
  }
  static void Must(const Status& s) { MustOk(s, "consent_bench"); }
  std::vector<std::string> Sample(std::mt19937& rng) const {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < kBatch; ++i) out.push_back(ids[rng() % ids.size()]);
    return out;
  }
};

Fixture& Get() {
  static Fixture* f = new Fixture();
  return *f;
}

void BM_VaultConsentAllowed(benchmark::State& state) {
  Fixture& f = Get();
  std::mt19937 rng(7);
  auto batch = f.Sample(rng);
  int64_t allowed = 0;
  for (auto _ : state) {
    auto r = f.vault->ConsentAllowed("bench", kPurpose, batch);
    for (bool b : *r) allowed += b;
  }
  benchmark::DoNotOptimize(allowed);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kBatch));
}
BENCHMARK(BM_VaultConsentAllowed)->Unit(benchmark::kMicrosecond);

void BM_BaselinePointLookups(benchmark::State& state) {
  Fixture& f = Get();
  std::mt19937 rng(7);
  auto batch = f.Sample(rng);
  Stmt st(*f.baseline,
          "SELECT state FROM consents WHERE tenant = 'bench' AND subject = ? AND purpose = ?");
  int64_t allowed = 0;
  for (auto _ : state) {
    Fixture::Must(f.baseline->Exec("BEGIN"));
    for (const std::string& id : batch) {
      st.BindText(1, id);
      st.BindText(2, kPurpose);
      auto row = st.Step();
      allowed += (row.ok() && *row && st.ColumnInt64(0) == 1);
      st.Reset();
    }
    Fixture::Must(f.baseline->Exec("COMMIT"));
  }
  benchmark::DoNotOptimize(allowed);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kBatch));
}
BENCHMARK(BM_BaselinePointLookups)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace custodian::bench

BENCHMARK_MAIN();
