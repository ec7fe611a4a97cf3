// Data-subject requests, side by side with a plaintext SQLite baseline in one
// run (issue 8's targets):
//
//   BM_AccessExport       a completed access request of one subject with 1,000
//                         billing records among N subjects: read and decrypt
//                         everything, build the zip bundle, seal and store it,
//                         audit (the tenant verifies by `none`, so submit completes)
//   BM_BaselineExport     the same rows from bare tables, as CSV and JSON text
//   BM_EraseBatch         Vault::EraseSubjects of 100,000 fresh subjects at once
//   BM_BaselineDelete     DELETE of 100,000 rows by id from a bare table, one transaction
//
//   CUSTODIAN_BENCH_SUBJECTS=1000000 build-bench/request_bench
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
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

constexpr std::size_t kBatch = 1000;
constexpr int kRecords = 1000;
constexpr std::size_t kEraseBatch = 100000;
const service::Actor kAdmin{"bench", "admin"};

void Must(const Status& s) { MustOk(s, "request_bench"); }

std::string Payload(int i) {
  return "{\"invoice\":\"INV-" + std::to_string(100000 + i) +
         "\",\"amount\":" + std::to_string(299 + i % 700) + ",\"plan\":\"Fiber 100\"}";
}

// Interjet's policy, its rights verified by `none` (so an access request
// completes on submit).
std::string PolicyVerifiedByNone() {
  std::string yaml = ExamplePolicyYaml("interjet");
  yaml.replace(yaml.find("verification: otp"), 17, "verification: none");
  return yaml;
}

struct Fixture {
  BenchVault bench{"request-bench", PolicyVerifiedByNone()};
  fs::path& dir = bench.dir;
  std::unique_ptr<Vault>& vault = bench.vault;
  std::unique_ptr<Db> baseline;
  std::string target;
  std::size_t next_external = 0;

  Fixture() {
    const std::size_t n = BenchSubjects(100000);
    AddSubjects(n, nullptr);
    auto t = vault->AddSubject(kAdmin, "bench",
                               {{"user.name", "Target Customer"},
                                {"user.contact.address", "12 MG Road, Chennai"},
                                {"user.government_id", "ABCDE1234F"}},
                               "TARGET");
    Must(t.status());
    target = t->subject_id;
    for (int i = 0; i < kRecords; ++i) {
      Must(vault
               ->AddRecord(kAdmin, "bench", target,
                           {"billing", 1767225600000 + int64_t{i} * 3600000, Payload(i)})
               .status());
    }

    // The baseline: the same subject and records in bare tables, in clear.
    baseline =
        std::make_unique<Db>(std::move(Db::Open((dir / "baseline.db").string(), true)).value());
    Must(baseline->Exec(
        "PRAGMA journal_mode = WAL; "
        "CREATE TABLE subjects (id TEXT PRIMARY KEY, name TEXT, address TEXT, gov_id TEXT); "
        "CREATE TABLE records (id TEXT PRIMARY KEY, subject TEXT, kind TEXT, at_ms INTEGER, "
        "payload TEXT); CREATE INDEX records_by_subject ON records(subject, at_ms); BEGIN"));
    Stmt s(*baseline, "INSERT INTO subjects VALUES (?, ?, ?, ?)");
    for (std::size_t i = 0; i <= n; ++i) {
      s.BindText(1, i == n ? "target" : "s" + std::to_string(i));
      s.BindText(2, "Customer " + std::to_string(i));
      s.BindText(3, "Street " + std::to_string(i));
      s.BindText(4, "ID" + std::to_string(i));
      Must(s.Run());
      s.Reset();
    }
    Stmt r(*baseline, "INSERT INTO records VALUES (?, 'target', 'billing', ?, ?)");
    for (int i = 0; i < kRecords; ++i) {
      r.BindText(1, "r" + std::to_string(i));
      r.BindInt64(2, 1767225600000 + int64_t{i} * 3600000);
      r.BindText(3, Payload(i));
      Must(r.Run());
      r.Reset();
    }
    Must(baseline->Exec("COMMIT"));
  }
  ~Fixture() {
    baseline.reset();  // before the vault and its directory
  }
  // Adds `n` subjects (ids appended to `ids` when given).
  void AddSubjects(std::size_t n, std::vector<std::string>* ids) {
    for (std::size_t start = 0; start < n; start += kBatch) {
      std::vector<service::SubjectInput> batch;
      for (std::size_t i = start; i < std::min(n, start + kBatch); ++i) {
        const std::size_t k = next_external++;
        char phone[32];
        std::snprintf(phone, sizeof phone, "+9188%08zu", k);
        batch.push_back({{{"user.name", "Customer " + std::to_string(k)},
                          {"user.contact.phone_number", phone}},
                         "C" + std::to_string(k)});
      }
      auto added = vault->AddSubjects(kAdmin, "bench", batch);
      Must(added.status());
      if (ids) {
        for (const auto& a : *added) ids->push_back(a.subject_id);
      }
    }
  }
};

Fixture& Get() {
  static Fixture* f = new Fixture();
  return *f;
}

void BM_AccessExport(benchmark::State& state) {
  Fixture& f = Get();
  int64_t bytes = 0;
  for (auto _ : state) {
    auto r = f.vault->SubmitRequest(kAdmin, "bench", {"access", f.target, ""});
    Must(r.status());
    if (r->state != "completed" || !r->evidence) {
      std::fprintf(stderr, "request_bench: the access request was not completed\n");
      std::abort();
    }
    bytes += r->evidence->export_bytes;
  }
  state.counters["bundle_bytes"] = static_cast<double>(bytes) / state.iterations();
  state.SetItemsProcessed(state.iterations() * kRecords);
}
BENCHMARK(BM_AccessExport)->Unit(benchmark::kMillisecond);

void BM_BaselineExport(benchmark::State& state) {
  Fixture& f = Get();
  Stmt s(*f.baseline, "SELECT id, name, address, gov_id FROM subjects WHERE id = 'target'");
  Stmt r(*f.baseline,
         "SELECT id, at_ms, payload FROM records WHERE subject = 'target' ORDER BY at_ms");
  int64_t bytes = 0;
  for (auto _ : state) {
    std::string json = "{";
    Must(f.baseline->Exec("BEGIN"));
    if (auto row = s.Step(); row.ok() && *row) {
      for (int c = 0; c < 4; ++c) json += "\"" + s.ColumnText(c) + "\",";
    }
    s.Reset();
    std::string csv = "record_id,at,payload\n";
    while (true) {
      auto row = r.Step();
      if (!row.ok() || !*row) break;
      csv += r.ColumnText(0) + "," + std::to_string(r.ColumnInt64(1)) + "," + r.ColumnText(2) +
             "\n";
    }
    r.Reset();
    Must(f.baseline->Exec("COMMIT"));
    bytes += static_cast<int64_t>(json.size() + csv.size());
  }
  benchmark::DoNotOptimize(bytes);
  state.SetItemsProcessed(state.iterations() * kRecords);
}
BENCHMARK(BM_BaselineExport)->Unit(benchmark::kMillisecond);

void BM_EraseBatch(benchmark::State& state) {
  Fixture& f = Get();
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<std::string> ids;
    f.AddSubjects(kEraseBatch, &ids);
    state.ResumeTiming();
    auto r = f.vault->EraseSubjects(kAdmin, "bench", ids);
    Must(r.status());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kEraseBatch));
}
BENCHMARK(BM_EraseBatch)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

void BM_BaselineDelete(benchmark::State& state) {
  Fixture& f = Get();
  for (auto _ : state) {
    state.PauseTiming();
    Must(f.baseline->Exec(
        "CREATE TABLE IF NOT EXISTS doomed (id TEXT PRIMARY KEY, name TEXT, phone TEXT); BEGIN"));
    Stmt ins(*f.baseline, "INSERT INTO doomed VALUES (?, ?, ?)");
    for (std::size_t i = 0; i < kEraseBatch; ++i) {
      ins.BindText(1, "d" + std::to_string(i));
      ins.BindText(2, "Customer " + std::to_string(i));
      ins.BindText(3, "+9188" + std::to_string(10000000 + i));
      Must(ins.Run());
      ins.Reset();
    }
    Must(f.baseline->Exec("COMMIT"));
    state.ResumeTiming();
    Must(f.baseline->Exec("BEGIN"));
    Stmt del(*f.baseline, "DELETE FROM doomed WHERE id = ?");
    for (std::size_t i = 0; i < kEraseBatch; ++i) {
      del.BindText(1, "d" + std::to_string(i));
      Must(del.Run());
      del.Reset();
    }
    Must(f.baseline->Exec("COMMIT"));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kEraseBatch));
}
BENCHMARK(BM_BaselineDelete)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

}  // namespace
}  // namespace custodian::bench

BENCHMARK_MAIN();
