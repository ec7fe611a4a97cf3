// The retention sweep at scale, with a baseline in the same run.
//
//   retention_bench generate DIR [SUBJECTS] [RECORDS_PER_SUBJECT]
//   retention_bench plan DIR      # Retention::Plan over the whole store
//   retention_bench sweep DIR     # Retention::Sweep: what is due, in audited batches
//                                 # (SWEEP_BATCH_RECORDS / SWEEP_BATCH_SUBJECTS override the sizes),
//                                 # without compaction unless SWEEP_COMPACT=1
//   retention_bench compact DIR   # Retention::Compact: the rows of shredded records
//   retention_bench baseline DIR  # plain SQLite: DELETE/UPDATE the same rows, one transaction
//
// `generate` writes an Interjet tenant straight through the store (sealed
// values are random bytes of realistic sizes: the sweep never decrypts for
// delete rules): SUBJECTS subjects (default 1,000,000) with 3 fields and a
// phone index entry each, RECORDS_PER_SUBJECT service logs each (default 10),
// one subject in ten closed two years ago, so 10% of the records, fields and
// subjects are due. bench/retention_bench.sh copies the directory so that the
// sweep and the baseline purge the same rows. Each mode prints its wall time
// and the process's peak RSS.
#include <sodium.h>
#include <sqlite3.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "service/field_codec.h"
#include "service/retention.h"
#include "service/vault.h"

namespace {

using namespace custodian;
const service::Actor kAdmin{"bench", "admin"};
constexpr int64_t kDay = 86'400'000;

void Must(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "retention_bench: %s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

std::string Random(std::size_t n) {
  std::string s(n, '\0');
  randombytes_buf(s.data(), n);
  return s;
}

long PeakRssMb() {
  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

std::unique_ptr<service::Vault> Open(const std::string& dir) {
  service::VaultOptions o;
  o.data_dir = dir;
  auto v = service::Vault::Open(o);
  Must(v.status(), "open");
  return std::move(v).value();
}

int Generate(const std::string& dir, int64_t subjects, int64_t per_subject) {
  unsetenv("CUSTODIAN_MASTER_KEY");
  Must(service::Vault::Init(dir), "init");
  auto vault = Open(dir);
  std::ifstream in(std::string(CUSTODIAN_SOURCE_DIR) + "/examples/policies/interjet.yaml");
  std::stringstream policy;
  policy << in.rdbuf();
  Must(vault->CreateTenant(kAdmin, "bench", policy.str(), "interjet.yaml"), "tenant");
  const int64_t now = service::SystemClockMs();
  const int64_t long_ago = now - 730 * kDay;
  auto t0 = std::chrono::steady_clock::now();
  const int64_t kBatch = 20000;
  for (int64_t start = 0; start < subjects; start += kBatch) {
    auto tx = vault->store().Begin(true);
    Must(tx.status(), "begin");
    for (int64_t i = start; i < std::min(subjects, start + kBatch); ++i) {
      char id[32];
      std::snprintf(id, sizeof id, "sub_%010lld", static_cast<long long>(i));
      store::SubjectRow s;
      s.tenant = "bench";
      s.id = id;
      s.wrapped_key = Random(72);
      s.created_ms = s.updated_ms = long_ago - kDay;
      s.fields = service::EncodeFields({{"user.name", Random(52)},
                                        {"user.contact.phone_number", Random(53)},
                                        {"user.contact.email", Random(60)}});
      if (i % 10 == 0) {
        s.state = store::SubjectState::kClosed;
        s.closed_ms = long_ago;
      }
      Must((*tx)->PutSubject(s), "subject");
      Must((*tx)->ReplaceIndex("bench", s.id, {{"user.contact.phone_number", Random(32)}}),
           "index");
      for (int64_t j = 0; j < per_subject; ++j) {
        char rid[40];
        std::snprintf(rid, sizeof rid, "rec_%010lld_%03lld", static_cast<long long>(i),
                      static_cast<long long>(j));
        store::RecordRow r;
        r.tenant = "bench";
        r.id = rid;
        r.subject = s.id;
        r.kind = "service_log";
        r.at_ms = r.created_ms = long_ago - (j + 2) * kDay;
        r.payload = Random(64);
        Must((*tx)->InsertRecord(r), "record");
      }
    }
    Must((*tx)->Commit(), "commit");
    if (start % 200000 == 0) {
      std::fprintf(stderr, "\rgenerated %lld subjects", static_cast<long long>(start));
    }
  }
  Must(vault->store().Checkpoint(), "checkpoint");
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("generate: %lld subjects, %lld records in %.1f s\n", static_cast<long long>(subjects),
              static_cast<long long>(subjects * per_subject), secs);
  return 0;
}

int Plan(const std::string& dir) {
  auto vault = Open(dir);
  auto t0 = std::chrono::steady_clock::now();
  auto plan = service::Retention(*vault).Plan(kAdmin, "bench");
  Must(plan.status(), "plan");
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const auto& r : plan->rules) {
    std::printf("  %-26s due %lld records, %lld subjects; waiting %lld records, %lld subjects\n",
                r.rule.c_str(), static_cast<long long>(r.due_records),
                static_cast<long long>(r.due_subjects), static_cast<long long>(r.waiting_records),
                static_cast<long long>(r.waiting_subjects));
  }
  std::printf("plan: %.2f s, peak RSS %ld MB\n", secs, PeakRssMb());
  return 0;
}

service::SweepOptions BenchSweepOptions() {
  service::SweepOptions o;
  if (const char* b = std::getenv("SWEEP_BATCH_RECORDS")) o.batch_records = std::atoi(b);
  if (const char* b = std::getenv("SWEEP_BATCH_SUBJECTS")) o.batch_subjects = std::atoi(b);
  const char* c = std::getenv("SWEEP_COMPACT");
  o.compact = c != nullptr && std::string(c) == "1";
  return o;
}

int Sweep(const std::string& dir, bool compact_only) {
  auto vault = Open(dir);
  auto t0 = std::chrono::steady_clock::now();
  service::SweepOptions o = BenchSweepOptions();
  service::Retention retention(*vault);
  auto report = compact_only ? retention.Compact(kAdmin, o) : retention.Sweep(kAdmin, o);
  Must(report.status(), compact_only ? "compact" : "sweep");
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto& t = report->tenants.at(0);
  if (compact_only) {
    std::printf("compact: the rows of %lld shredded records removed in %.2f s, peak RSS %ld MB\n",
                static_cast<long long>(t.records_compacted), secs, PeakRssMb());
    return 0;
  }
  std::printf("sweep%s: %lld due: %lld records (shredded or deleted), %lld fields deleted, "
              "%lld subjects erased, %lld rows compacted, %lld overdue in %.2f s, "
              "peak RSS %ld MB\n",
              o.compact ? " with compaction" : "", static_cast<long long>(t.due),
              static_cast<long long>(t.records_deleted), static_cast<long long>(t.fields_deleted),
              static_cast<long long>(t.subjects_erased),
              static_cast<long long>(t.records_compacted), static_cast<long long>(t.overdue), secs,
              PeakRssMb());
  return 0;
}

int Baseline(const std::string& dir) {
  sqlite3* db = nullptr;
  if (sqlite3_open((dir + "/custodian.db").c_str(), &db) != SQLITE_OK) return 1;
  auto exec = [&](const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::fprintf(stderr, "retention_bench: %s: %s\n", sql, err);
      std::exit(1);
    }
  };
  exec("PRAGMA journal_mode = WAL; PRAGMA secure_delete = ON; PRAGMA foreign_keys = ON; "
       "PRAGMA synchronous = FULL; PRAGMA cache_size = -65536");
  auto t0 = std::chrono::steady_clock::now();
  exec("BEGIN IMMEDIATE");
  exec("DELETE FROM records WHERE rowid IN (SELECT r.rowid FROM subjects s JOIN records r ON "
       "r.tenant = s.tenant AND r.subject = s.id WHERE s.tenant = 'bench' AND s.state = 1)");
  exec("DELETE FROM subject_index WHERE tenant = 'bench' AND subject IN (SELECT id FROM subjects "
       "WHERE tenant = 'bench' AND state = 1)");
  exec("UPDATE subjects SET wrapped_key = NULL, fields = NULL, external_digest = NULL, state = 2 "
       "WHERE tenant = 'bench' AND state = 1");
  exec("COMMIT");
  exec("PRAGMA wal_checkpoint(TRUNCATE)");
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("baseline (plain SQLite, one transaction, no audit): %d changes in %.2f s, "
              "peak RSS %ld MB\n",
              sqlite3_total_changes(db), secs, PeakRssMb());
  sqlite3_close(db);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  if (argc < 3) {
    std::fprintf(stderr, "usage: retention_bench generate|plan|sweep|compact|baseline DIR [SUBJECTS] "
                         "[RECORDS_PER_SUBJECT]\n");
    return 2;
  }
  std::string mode = argv[1], dir = argv[2];
  if (mode == "generate") {
    return Generate(dir, argc > 3 ? std::atoll(argv[3]) : 1'000'000,
                    argc > 4 ? std::atoll(argv[4]) : 10);
  }
  if (mode == "plan") return Plan(dir);
  if (mode == "sweep") return Sweep(dir, false);
  if (mode == "compact") return Sweep(dir, true);
  if (mode == "baseline") return Baseline(dir);
  std::fprintf(stderr, "retention_bench: unknown mode %s\n", mode.c_str());
  return 2;
}
