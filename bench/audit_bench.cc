// The audit trail's throughput, each side by side with a baseline in the same
// run (docs/benchmarks.md, "Audit trail"):
//
//   append  Transaction::AppendAudit, 1000 events per transaction (canonical
//           JSON, BLAKE2b chain, insert, one fsync'd commit), against the same
//           rows (precomputed JSON and hash) inserted into a bare SQLite table
//           with the same pragmas.
//   verify  the chain and its checkpoints from the store (ScanAudit +
//           TrailVerifier, what `custodian audit verify` runs), the same in
//           memory, an export read back (VerifyExport), against bare BLAKE2b
//           over the same bytes.
//   export  Vault::ExportAudit of the whole store to a counting sink, with
//           the process's peak RSS before and after (constant memory).
//
//   CUSTODIAN_BENCH_EVENTS=1000000 build/audit_bench
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "audit/checkpoint.h"
#include "audit/export.h"
#include "service/vault.h"
#include "store/sqlite/statement.h"

namespace custodian::bench {
namespace {

namespace fs = std::filesystem;
using store::sqlite::Db;
using store::sqlite::Stmt;

constexpr int kBatch = 1000;
constexpr int64_t kCheckpointEvery = 10000;

void Must(const Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "audit_bench: %s\n", s.ToString().c_str());
    std::abort();
  }
}

int64_t Events() {
  const char* v = std::getenv("CUSTODIAN_BENCH_EVENTS");
  return v ? std::strtoll(v, nullptr, 10) : 1000000;
}

long PeakRssKib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// A typical read event: an agent showing a subject for a purpose.
audit::Event MakeEvent(int64_t i) {
  audit::Event e;
  e.time_ms = 1767225600000 + i;
  e.tenant = "bench";
  e.actor = "key:k7m2p9x4q8w3";
  e.role = "agent";
  e.action = "subject.show";
  e.subject = "sub_" + std::to_string(100000000 + i % 1000000);
  e.purpose = "essential.service";
  e.categories = {"user.contact.phone_number", "user.name"};
  e.outcome = "ok";
  e.count = 2;
  return e;
}

fs::path TempDir(const std::string& what) {
  fs::path dir = fs::temp_directory_path() /
                 ("custodian-audit-bench-" + what + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// --- append -----------------------------------------------------------------

void BM_AppendBatched(benchmark::State& state) {
  fs::path dir = TempDir("append");
  auto st = std::move(store::OpenSqliteStore((dir / "custodian.db").string())).value();
  int64_t i = 0;
  for (auto _ : state) {
    auto tx = std::move(st->Begin(true)).value();
    for (int k = 0; k < kBatch; ++k) Must(tx->AppendAudit(MakeEvent(i++)).status());
    Must(tx->Commit());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  st.reset();
  fs::remove_all(dir);
}

void BM_BaselineBareInsert(benchmark::State& state) {
  fs::path dir = TempDir("bare");
  Db db = std::move(Db::Open((dir / "bare.db").string(), true)).value();
  for (const char* p : {"PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL",
                        "PRAGMA cache_size = -65536", "PRAGMA wal_autocheckpoint = 16384",
                        "CREATE TABLE audit (seq INTEGER PRIMARY KEY, tenant TEXT NOT NULL, "
                        "event TEXT NOT NULL, hash BLOB NOT NULL)",
                        "CREATE INDEX audit_by_tenant ON audit(tenant, seq)"}) {
    Must(db.Exec(p));
  }
  // The same bytes, made before the clock runs: only the inserts are timed.
  std::vector<std::string> json(kBatch);
  std::string hash(audit::kHashSize, '\x42');
  Stmt ins(db, "INSERT INTO audit (seq, tenant, event, hash) VALUES (?, ?, ?, ?)");
  int64_t seq = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (int k = 0; k < kBatch; ++k) json[k] = MakeEvent(seq + k).Canonical();
    state.ResumeTiming();
    Must(db.Exec("BEGIN IMMEDIATE"));
    for (int k = 0; k < kBatch; ++k) {
      ins.Reset();
      ins.BindInt64(1, ++seq);
      ins.BindText(2, "bench");
      ins.BindText(3, json[k]);
      ins.BindBlob(4, hash);
      Must(ins.Run());
    }
    ins.Reset();
    Must(db.Exec("COMMIT"));
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  fs::remove_all(dir);
}

// --- a filled vault for verify and export -------------------------------------

struct Filled {
  fs::path dir;
  std::unique_ptr<service::Vault> vault;
  std::string public_key;
  std::vector<audit::StoredEvent> events;  // for the in-memory runs
  std::vector<audit::Checkpoint> checkpoints;
  int64_t n = 0;

  Filled() {
    n = Events();
    dir = TempDir("filled");
    unsetenv("CUSTODIAN_MASTER_KEY");
    Must(service::Vault::Init((dir / "data").string()));
    service::VaultOptions o;
    o.data_dir = (dir / "data").string();
    vault = std::move(service::Vault::Open(o)).value();
    std::ifstream in(std::string(CUSTODIAN_SOURCE_DIR) + "/examples/policies/interjet.yaml");
    std::stringstream policy;
    policy << in.rdbuf();
    Must(vault->CreateTenant({"bench", "admin"}, "bench", policy.str(), "interjet.yaml"));
    int64_t i = 0;
    while (i < n - 1) {
      auto tx = std::move(vault->store().Begin(true)).value();
      for (int k = 0; k < kBatch && i < n - 1; ++k) Must(tx->AppendAudit(MakeEvent(i++)).status());
      Must(tx->Commit());
      if (i % kCheckpointEvery == 0) Must(vault->CheckpointAudit().status());
    }
    Must(vault->CheckpointAudit().status());
    public_key = std::move(vault->AuditPublicKey()).value();
    Must(vault->store().ScanAudit(0, [&](const audit::StoredEvent& e) {
      events.push_back(e);
      return true;
    }));
    auto tx = std::move(vault->store().Begin(false)).value();
    checkpoints = std::move(tx->ListAuditCheckpoints(0, 0, 1 << 30)).value();
  }
  ~Filled() {
    vault.reset();
    fs::remove_all(dir);
  }
};

Filled& Fill() {
  static Filled* f = new Filled();
  return *f;
}

void BM_ExportWholeStore(benchmark::State& state) {
  long before = PeakRssKib();
  Filled& f = Fill();
  long filled = PeakRssKib();
  int64_t bytes = 0, events = 0;
  for (auto _ : state) {
    auto s = f.vault->ExportAudit({"bench", "auditor"}, {}, [&](std::string_view line) {
      bytes += static_cast<int64_t>(line.size());
      return Status::Ok();
    });
    Must(s.status());
    events += s->events;
  }
  state.SetItemsProcessed(events);
  state.SetBytesProcessed(bytes);
  state.counters["peak_rss_mib_before"] = static_cast<double>(filled) / 1024;
  state.counters["peak_rss_mib_after"] = static_cast<double>(PeakRssKib()) / 1024;
  (void)before;
}

void BM_VerifyFromStore(benchmark::State& state) {
  Filled& f = Fill();
  int64_t n = 0;
  for (auto _ : state) {
    auto r = f.vault->VerifyAudit();
    if (!r.ok() || !r->ok) std::abort();
    n += r->events;
  }
  state.SetItemsProcessed(n);
}

void BM_VerifyInMemory(benchmark::State& state) {
  Filled& f = Fill();
  int64_t n = 0;
  for (auto _ : state) {
    audit::TrailVerifier v(f.public_key);
    std::size_t c = 0;
    for (const auto& e : f.events) {
      v.AddEvent(e);
      while (c < f.checkpoints.size() && f.checkpoints[c].seq == e.seq) {
        v.AddCheckpoint(f.checkpoints[c++]);
      }
    }
    if (!v.Finish().ok) std::abort();
    n += static_cast<int64_t>(f.events.size());
  }
  state.SetItemsProcessed(n);
}

void BM_VerifyExport(benchmark::State& state) {
  Filled& f = Fill();
  std::string text;
  Must(f.vault->ExportAudit({"bench", "auditor"}, {}, [&](std::string_view line) {
               text.append(line);
               return Status::Ok();
             })
           .status());
  int64_t n = 0;
  for (auto _ : state) {
    std::istringstream in(text);
    auto r = audit::VerifyExport(in, f.public_key);
    if (!r.ok() || !r->chain.ok) std::abort();
    n += r->chain.events;
  }
  state.SetItemsProcessed(n);
  state.SetBytesProcessed(static_cast<int64_t>(text.size()) * state.iterations());
}

void BM_BaselineBlake2bChain(benchmark::State& state) {
  Filled& f = Fill();
  int64_t n = 0;
  for (auto _ : state) {
    std::string prev = audit::GenesisHash();
    for (const auto& e : f.events) prev = audit::ChainHash(prev, e.canonical);
    benchmark::DoNotOptimize(prev);
    n += static_cast<int64_t>(f.events.size());
  }
  state.SetItemsProcessed(n);
}

BENCHMARK(BM_AppendBatched)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3);
BENCHMARK(BM_BaselineBareInsert)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3);
BENCHMARK(BM_ExportWholeStore)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_VerifyFromStore)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_VerifyInMemory)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_VerifyExport)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_BaselineBlake2bChain)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace
}  // namespace custodian::bench

BENCHMARK_MAIN();
