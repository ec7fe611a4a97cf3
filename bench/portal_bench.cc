// The privacy portal's sign-in (Vault::StartPortalSignIn, docs/portal.md)
// among N subjects, for a contact on file and one that is not, beside a
// plaintext SQLite baseline in the same run (WAL, synchronous=FULL as the
// store): a lookup of the phone and an insert of a code row, in one
// transaction.
//
//   BM_PortalCodeOnFile     a code for a phone on file: normalize, blind-index
//                           probe, the per-contact count, the challenge row,
//                           the audit event, the outbox message (sealed)
//   BM_PortalCodeNotOnFile  the same for a phone no one has: the same answer,
//                           no code, no message
//   BM_BaselineCode         SELECT id FROM customers WHERE phone = ?, then
//                           INSERT a code row, plaintext, one transaction
//
// The two portal figures say how far apart the answers for a customer and a
// stranger are in time (docs/portal.md, "Limits"); their ratio to the
// baseline, what the privacy costs.
//
//   CUSTODIAN_BENCH_SUBJECTS=100000 build-bench/portal_bench
#include <benchmark/benchmark.h>

#include <cstdio>
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
const service::Actor kAdmin{"bench", "admin"};

void Must(const Status& s) { MustOk(s, "portal_bench"); }

// The phone of subject k (on file for k < subjects), as a person types it.
std::string Phone(std::size_t k) {
  char phone[32];
  std::snprintf(phone, sizeof phone, "088%08zu", k);
  return phone;
}

struct Fixture {
  BenchVault bench{"portal-bench", ExamplePolicyYaml("interjet")};
  fs::path& dir = bench.dir;
  std::unique_ptr<Vault>& vault = bench.vault;
  std::unique_ptr<Db> baseline;
  std::size_t subjects = BenchSubjects(100000);
  std::size_t next_on_file = 0;   // the next subject's phone to ask for
  std::size_t next_stranger = 0;  // the next number past the subjects'

  Fixture() {
    for (std::size_t start = 0; start < subjects; start += kBatch) {
      std::vector<service::SubjectInput> batch;
      for (std::size_t k = start; k < std::min(subjects, start + kBatch); ++k) {
        batch.push_back({{{"user.name", "Customer " + std::to_string(k)},
                          {"user.contact.phone_number", Phone(k)}},
                         "C" + std::to_string(k)});
      }
      Must(vault->AddSubjects(kAdmin, "bench", batch).status());
    }
    baseline =
        std::make_unique<Db>(std::move(Db::Open((dir / "baseline.db").string(), true)).value());
    Must(baseline->Exec(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
        "CREATE TABLE customers (id TEXT PRIMARY KEY, phone TEXT); "
        "CREATE INDEX customers_by_phone ON customers(phone); "
        "CREATE TABLE codes (id INTEGER PRIMARY KEY, customer TEXT, code TEXT, at_ms INTEGER); "
        "BEGIN"));
    Stmt s(*baseline, "INSERT INTO customers VALUES (?, ?)");
    for (std::size_t k = 0; k < subjects; ++k) {
      s.BindText(1, "s" + std::to_string(k));
      s.BindText(2, "+9188" + Phone(k).substr(3));
      Must(s.Run());
      s.Reset();
    }
    Must(baseline->Exec("COMMIT"));
  }
  ~Fixture() {
    baseline.reset();  // before the vault and its directory
  }
};

Fixture& F() {
  static Fixture f;
  return f;
}

// Each iteration a new contact (a contact may ask 5 times an hour, so at most
// 5 x N iterations on file in all): on file, subjects 0, 1, 2 ...; not on
// file, numbers past the last subject.
void Codes(benchmark::State& state, bool on_file) {
  Fixture& f = F();
  for (auto _ : state) {
    const std::size_t k = on_file ? f.next_on_file++ % f.subjects : f.subjects + f.next_stranger++;
    auto challenge = f.vault->StartPortalSignIn("bench", {"phone", Phone(k)});
    Must(challenge.status());
    benchmark::DoNotOptimize(challenge->id);
  }
  state.counters["subjects"] = static_cast<double>(f.subjects);
}

void BM_PortalCodeOnFile(benchmark::State& state) { Codes(state, true); }
void BM_PortalCodeNotOnFile(benchmark::State& state) { Codes(state, false); }

void BM_BaselineCode(benchmark::State& state) {
  Fixture& f = F();
  Stmt find(*f.baseline, "SELECT id FROM customers WHERE phone = ?");
  Stmt insert(*f.baseline, "INSERT INTO codes (customer, code, at_ms) VALUES (?, ?, ?)");
  std::size_t k = 0;
  for (auto _ : state) {
    if (k >= f.subjects) k = 0;
    Must(f.baseline->Exec("BEGIN IMMEDIATE"));
    find.BindText(1, "+9188" + Phone(k++).substr(3));
    auto row = find.Step();
    Must(row.status());
    const std::string id = *row ? find.ColumnText(0) : "";
    find.Reset();
    insert.BindText(1, id);
    insert.BindText(2, "042917");
    insert.BindInt64(3, 1);
    Must(insert.Run());
    insert.Reset();
    Must(f.baseline->Exec("COMMIT"));
  }
}

BENCHMARK(BM_PortalCodeOnFile)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PortalCodeNotOnFile)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BaselineCode)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace custodian::bench

BENCHMARK_MAIN();
