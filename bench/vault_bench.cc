// The vault end to end, side by side with a plaintext SQLite baseline, in one
// run: adding subjects in batches, looking them up by phone (single and
// batched, with the phone typed in national and in E.164 form), and erasing
// one subject. Plus the per-subject CPU work of an add, measured without the
// database, to say what bounds the add figure.
//
//   CUSTODIAN_BENCH_SUBJECTS=100000 build-bench/vault_bench
//   bash scripts/bench 100000          # Release build, this and crypto_bench, JSON in out/bench/
//
// Environment:
//   CUSTODIAN_BENCH_SUBJECTS  subjects added to each store (default 20000)
//   CUSTODIAN_BENCH_BATCH     subjects per AddSubjects call / transaction (default 1000)
//   CUSTODIAN_BENCH_DIR       where the two stores go (default: a new directory
//                             under $TMPDIR or /tmp, removed at exit)
//   CUSTODIAN_BENCH_KEEP=1    keep that directory
//   CUSTODIAN_BENCH_POLICY    the tenant's policy (default bench/vault_bench_policy.yaml)
//
// Each subject has 8 fields; 3 are indexed (phone, email, national id). The
// vault normalizes every field (libphonenumber for the phone), seals each with
// the subject's own key (XChaCha20-Poly1305), wraps that key, writes 3
// blind-index digests and one hash-chained audit event per subject, in one
// transaction per batch. The baseline writes the same shape without crypto:
// one subjects row (the 8 values, already normalized, framed in one blob), 3
// index rows holding the normalized plaintext, one audit row (a JSON line, no
// hash), same pragmas (WAL, secure_delete, foreign_keys, synchronous=FULL),
// same random subject ids, same batch size, prepared statements.
//
// The benchmarks run in registration order; those after the adds need the
// stores filled and fill them untimed when the add benchmarks were filtered
// out. Erasure runs last, so lookups never meet an erased subject.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "audit/event.h"
#include "crypto/aead.h"
#include "crypto/blind_index.h"
#include "crypto/keys.h"
#include "crypto/normalize.h"
#include "crypto/secret.h"
#include "service/field_codec.h"
#include "service/vault.h"
#include "store/sqlite/statement.h"

namespace custodian::bench {
namespace {

namespace fs = std::filesystem;
using service::FieldInput;
using service::SubjectInput;
using service::Vault;
using store::sqlite::Db;
using store::sqlite::Stmt;

constexpr char kTenant[] = "bench";
constexpr char kPhone[] = "user.contact.phone_number";
constexpr char kEmail[] = "user.contact.email";
constexpr char kNationalId[] = "user.government_id.national_identification_number";
constexpr char kRegion[] = "IN";
constexpr std::size_t kLookupBatch = 256;
constexpr int kEraseIterations = 1000;
constexpr std::size_t kIdSamples = 4096;  // subject ids kept for the erase benchmarks

// --- configuration -----------------------------------------------------------

std::size_t EnvSize(const char* name, std::size_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  unsigned long long n = std::strtoull(v, &end, 10);
  if (end == v || *end != '\0' || n == 0) {
    std::fprintf(stderr, "vault_bench: %s must be a positive whole number, found '%s'\n", name, v);
    std::exit(2);
  }
  return static_cast<std::size_t>(n);
}

struct Config {
  std::size_t subjects = 20000;
  std::size_t batch = 1000;
  fs::path dir;
  bool keep = false;
  bool own_dir = false;
  fs::path policy;
};

Config& config() {
  static Config c;
  return c;
}

// --- the synthetic subjects ------------------------------------------------
//
// Subject i is deterministic, so the lookups know what to ask for. Phone
// numbers are Indian mobile numbers 98xxxxxxxx (i < 10^8), typed as the issue
// shows them ("098000 00123") on the way in. The indexed values do not follow
// the insertion order (a real import is not sorted by phone number): subject i
// gets value number Scatter(i), a bijection of [0, 10^8) that sends neighbours
// far apart, so the baseline's plaintext index sees random inserts as the
// vault's digests do.
std::size_t Scatter(std::size_t i) { return (i * 73939133u + 4567u) % 100000000u; }

std::string PhoneDigits(std::size_t i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "98%08zu", Scatter(i));
  return buf;
}
std::string PhoneNational(std::size_t i) {
  std::string d = PhoneDigits(i);
  return "0" + d.substr(0, 5) + " " + d.substr(5);
}
std::string PhoneE164(std::size_t i) { return "+91" + PhoneDigits(i); }
std::string EmailRaw(std::size_t i) {
  return " Asha.Rao" + std::to_string(Scatter(i)) + "@Example.in ";
}
std::string EmailNormalized(std::size_t i) {
  return "asha.rao" + std::to_string(Scatter(i)) + "@example.in";
}
std::string NationalId(std::size_t i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "2%011zu", Scatter(i) * 7 + 3);
  return buf;
}

const char* const kFirst[] = {"Asha", "Ravi", "Meera", "Arjun", "Priya", "Kiran", "Divya", "Rahul",
                              "Sneha", "Vikram", "Anita", "Suresh", "Lakshmi", "Rohan", "Pooja",
                              "Jos\xC3\xA9"};
const char* const kLast[] = {"Rao", "Sharma", "Iyer", "Nair", "Reddy", "Gupta", "Menon", "Das",
                             "Pillai", "Khan", "Singh", "Joshi", "Bose", "Patel", "Kumar",
                             "Fern\xC3\xA1ndez"};

// The 8 fields of subject i as a caller gives them (`typed_phone` is the phone
// as typed), in the policy's category order.
std::vector<FieldInput> Fields(std::size_t i, const std::string& typed_phone) {
  char address[96], dob[16], ip[24], device[32];
  std::snprintf(address, sizeof address, "%zu, %zu Cross, Indiranagar, Bengaluru 5600%02zu",
                i % 997 + 1, i % 13 + 1, i % 100);
  std::snprintf(dob, sizeof dob, "19%02zu-%02zu-%02zu", 50 + i % 50, i % 12 + 1, i % 28 + 1);
  std::snprintf(ip, sizeof ip, "10.%zu.%zu.%zu", (i >> 16) & 255, (i >> 8) & 255, i & 255);
  std::snprintf(device, sizeof device, "02:00:5e:%02zx:%02zx:%02zx", (i >> 16) & 255,
                (i >> 8) & 255, i & 255);
  return {
      {"user.name", std::string(kFirst[i % 16]) + " " + kLast[(i / 16) % 16]},
      {"user.contact.address", address},
      {kPhone, typed_phone},
      {kEmail, EmailRaw(i)},
      {kNationalId, NationalId(i)},
      {"user.demographic.date_of_birth", dob},
      {"user.device.ip_address", ip},
      {"user.device.device_id", device},
  };
}

// What the baseline stores: the same values, already in canonical form.
std::vector<FieldInput> NormalizedFields(std::size_t i) {
  std::vector<FieldInput> f = Fields(i, PhoneE164(i));
  f[3].value = EmailNormalized(i);
  return f;
}

// Random ids of the vault's shape ("sub_" + 20 characters), from a plain PRNG:
// the baseline's B-trees see the same random insert order as the vault's.
std::string PlainSubjectId(std::mt19937_64& rng) {
  static const char kAlphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
  std::string id = "sub_";
  uint64_t r = rng();
  for (int k = 0; k < 20; ++k) {
    if (k == 12) r = rng();
    id.push_back(kAlphabet[r & 31]);
    r >>= 5;
  }
  return id;
}

// --- process facts -----------------------------------------------------------

double MaxRssMb() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

double FileMb(const fs::path& db) {
  std::error_code ec;
  double bytes = 0;
  for (const char* suffix : {"", "-wal"}) {
    auto n = fs::file_size(db.string() + suffix, ec);
    if (!ec) bytes += static_cast<double>(n);
  }
  return bytes / (1024.0 * 1024.0);
}

// Process-wide facts: averaged, not summed, over the threads of a threaded run.
void Counters(benchmark::State& state, const fs::path& db, std::size_t subjects) {
  using benchmark::Counter;
  state.counters["subjects"] = Counter(static_cast<double>(subjects), Counter::kAvgThreads);
  state.counters["db_MB"] = Counter(FileMb(db), Counter::kAvgThreads);
  state.counters["maxrss_MB"] = Counter(MaxRssMb(), Counter::kAvgThreads);
}

// --- the vault under test ----------------------------------------------------

struct VaultSide {
  std::unique_ptr<Vault> vault;
  service::Actor importer{"bench-import", "admin"};
  service::Actor agent{"bench-agent", "agent"};
  std::size_t added = 0;                 // subjects 0..added-1 are stored
  std::vector<std::string> sample_ids;   // every stride-th subject id, for erasure
  std::size_t next_erase = 0;
};

struct BaselineSide {
  std::unique_ptr<Db> db;
  std::unique_ptr<Stmt> insert_subject, insert_index, insert_audit, find_index, get_subject,
      erase_index, erase_subject;
  std::mt19937_64 rng{20261123};
  int64_t audit_seq = 0;
  std::size_t added = 0;
  std::vector<std::string> sample_ids;
  std::size_t next_erase = 0;
};

std::mutex g_mu;  // guards the lazy set-up of both sides
VaultSide* g_vault = nullptr;
BaselineSide* g_base = nullptr;

std::size_t SampleStride() { return std::max<std::size_t>(1, config().subjects / kIdSamples); }
fs::path VaultDir() { return config().dir / "vault"; }
fs::path VaultDb() { return Vault::StorePath(VaultDir().string()); }
fs::path BaselineDb() { return config().dir / "baseline.db"; }

[[noreturn]] void Die(const std::string& what, const Status& st) {
  std::fprintf(stderr, "vault_bench: %s: %s\n", what.c_str(), st.ToString().c_str());
  std::exit(1);
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "vault_bench: cannot read the bench policy %s (set CUSTODIAN_BENCH_POLICY)\n",
                 p.c_str());
    std::exit(1);
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

VaultSide& VaultUnlocked() {
  if (g_vault) return *g_vault;
  auto side = std::make_unique<VaultSide>();
  const std::string dir = VaultDir().string();
  if (Status st = Vault::Init(dir); !st.ok()) Die("init " + dir, st);
  auto v = Vault::Open(service::VaultOptions{dir, service::SystemClockMs});
  if (!v.ok()) Die("open " + dir, v.status());
  side->vault = std::move(v).value();
  if (Status st = side->vault->CreateTenant(side->importer, kTenant, ReadFile(config().policy),
                                            config().policy.filename().string());
      !st.ok()) {
    Die("create tenant", st);
  }
  g_vault = side.release();
  return *g_vault;
}

Status Exec(Db& db, const char* sql) { return db.Exec(sql); }

BaselineSide& BaselineUnlocked() {
  if (g_base) return *g_base;
  auto side = std::make_unique<BaselineSide>();
  auto db = Db::Open(BaselineDb().string(), true);
  if (!db.ok()) Die("open baseline", db.status());
  side->db = std::make_unique<Db>(std::move(db).value());
  Db& d = *side->db;
  for (const char* sql : {
           "PRAGMA journal_mode = WAL", "PRAGMA secure_delete = ON", "PRAGMA foreign_keys = ON",
           "PRAGMA synchronous = FULL", "PRAGMA busy_timeout = 5000",
           "CREATE TABLE tenants (id TEXT PRIMARY KEY, policy_yaml TEXT NOT NULL)",
           "CREATE TABLE subjects (tenant TEXT NOT NULL REFERENCES tenants(id), id TEXT NOT NULL, "
           "external_id TEXT, state INTEGER NOT NULL, created_ms INTEGER NOT NULL, "
           "updated_ms INTEGER NOT NULL, closed_ms INTEGER, erased_ms INTEGER, fields BLOB, "
           "UNIQUE (tenant, id))",
           "CREATE UNIQUE INDEX subjects_by_external ON subjects(tenant, external_id) "
           "WHERE external_id IS NOT NULL",
           "CREATE TABLE subject_index (tenant TEXT NOT NULL, category TEXT NOT NULL, "
           "value TEXT NOT NULL, subject TEXT NOT NULL, "
           "PRIMARY KEY (tenant, category, value, subject), "
           "FOREIGN KEY (tenant, subject) REFERENCES subjects(tenant, id)) WITHOUT ROWID",
           "CREATE INDEX subject_index_by_subject ON subject_index(tenant, subject)",
           "CREATE TABLE audit (seq INTEGER PRIMARY KEY, tenant TEXT NOT NULL, "
           "event TEXT NOT NULL)",
           "INSERT INTO tenants VALUES ('bench', '')",
       }) {
    if (Status st = Exec(d, sql); !st.ok()) Die(std::string("baseline: ") + sql, st);
  }
  side->insert_subject = std::make_unique<Stmt>(
      d,
      "INSERT INTO subjects (tenant, id, external_id, state, created_ms, updated_ms, closed_ms, "
      "erased_ms, fields) VALUES (?, ?, NULL, 0, ?, ?, NULL, NULL, ?)");
  side->insert_index = std::make_unique<Stmt>(
      d, "INSERT INTO subject_index (tenant, category, value, subject) VALUES (?, ?, ?, ?)");
  side->insert_audit =
      std::make_unique<Stmt>(d, "INSERT INTO audit (seq, tenant, event) VALUES (?, ?, ?)");
  side->find_index = std::make_unique<Stmt>(
      d,
      "SELECT subject FROM subject_index WHERE tenant = ? AND category = ? AND value = ? "
      "ORDER BY subject");
  side->get_subject = std::make_unique<Stmt>(
      d,
      "SELECT tenant, id, external_id, state, created_ms, updated_ms, closed_ms, erased_ms, "
      "fields FROM subjects WHERE tenant = ? AND id = ?");
  side->erase_index =
      std::make_unique<Stmt>(d, "DELETE FROM subject_index WHERE tenant = ? AND subject = ?");
  side->erase_subject = std::make_unique<Stmt>(
      d,
      "UPDATE subjects SET fields = NULL, state = 2, erased_ms = ?, updated_ms = ? "
      "WHERE tenant = ? AND id = ?");
  g_base = side.release();
  return *g_base;
}

// --- adding -------------------------------------------------------------------

std::vector<SubjectInput> VaultBatch(std::size_t first, std::size_t n) {
  std::vector<SubjectInput> batch(n);
  for (std::size_t k = 0; k < n; ++k) batch[k].fields = Fields(first + k, PhoneNational(first + k));
  return batch;
}

Status VaultAdd(VaultSide& v, const std::vector<SubjectInput>& batch) {
  auto r = v.vault->AddSubjects(v.importer, kTenant, batch);
  if (!r.ok()) return r.status();
  const std::size_t stride = SampleStride();
  for (std::size_t k = 0; k < r->size(); ++k) {
    if ((v.added + k) % stride == stride - 1) v.sample_ids.push_back((*r)[k].subject_id);
  }
  v.added += r->size();
  return Status::Ok();
}

std::string AuditLine(int64_t now, const std::string& subject, const char* action,
                      const char* role, const char* outcome, int count) {
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "{\"v\":1,\"time_ms\":%" PRId64
                ",\"tenant\":\"bench\",\"actor\":\"bench-import\",\"role\":\"%s\",\"action\":"
                "\"%s\",\"subject\":\"%s\",\"purpose\":\"\",\"categories\":[\"user.name\","
                "\"user.contact.address\",\"user.contact.phone_number\",\"user.contact.email\","
                "\"user.government_id.national_identification_number\","
                "\"user.demographic.date_of_birth\",\"user.device.ip_address\","
                "\"user.device.device_id\"],\"outcome\":\"%s\",\"reason\":\"\",\"count\":%d}",
                now, role, action, subject.c_str(), outcome, count);
  return buf;
}

Status BaselineAppendAudit(BaselineSide& b, const std::string& line) {
  Stmt& a = *b.insert_audit;
  a.Reset();
  a.BindInt64(1, ++b.audit_seq);
  a.BindText(2, kTenant);
  a.BindText(3, line);
  return a.Run();
}

// One transaction: per subject one subjects row, 3 index rows, 1 audit row.
Status BaselineAdd(BaselineSide& b, const std::vector<std::vector<FieldInput>>& batch) {
  Db& d = *b.db;
  RETURN_IF_ERROR(d.Exec("BEGIN IMMEDIATE"));
  const int64_t now = service::SystemClockMs();
  const std::size_t stride = SampleStride();
  Status st;
  for (std::size_t k = 0; k < batch.size() && st.ok(); ++k) {
    const auto& fields = batch[k];
    service::SealedFields framed;  // plaintext here, framed the way the vault frames blobs
    framed.reserve(fields.size());
    for (const auto& f : fields) framed.emplace_back(f.category, f.value);
    std::string id = PlainSubjectId(b.rng);
    Stmt& s = *b.insert_subject;
    s.Reset();
    s.BindText(1, kTenant);
    s.BindText(2, id);
    s.BindInt64(3, now);
    s.BindInt64(4, now);
    s.BindBlob(5, service::EncodeFields(framed));
    st = s.Run();
    for (const auto& f : fields) {
      if (!st.ok()) break;
      if (f.category != kPhone && f.category != kEmail && f.category != kNationalId) continue;
      Stmt& ix = *b.insert_index;
      ix.Reset();
      ix.BindText(1, kTenant);
      ix.BindText(2, f.category);
      ix.BindText(3, f.value);
      ix.BindText(4, id);
      st = ix.Run();
    }
    if (st.ok()) st = BaselineAppendAudit(b, AuditLine(now, id, "subject.add", "admin", "ok", 8));
    if (st.ok() && (b.added + k) % stride == stride - 1) b.sample_ids.push_back(id);
  }
  if (!st.ok()) {
    (void)d.Exec("ROLLBACK");
    return st;
  }
  RETURN_IF_ERROR(d.Exec("COMMIT"));
  b.added += batch.size();
  return Status::Ok();
}

std::vector<std::vector<FieldInput>> BaselineBatch(std::size_t first, std::size_t n) {
  std::vector<std::vector<FieldInput>> batch(n);
  for (std::size_t k = 0; k < n; ++k) batch[k] = NormalizedFields(first + k);
  return batch;
}

// The stores hold config().subjects subjects (added untimed if needed).
VaultSide& FilledVault() {
  std::lock_guard<std::mutex> lock(g_mu);
  VaultSide& v = VaultUnlocked();
  while (v.added < config().subjects) {
    std::size_t n = std::min(config().batch, config().subjects - v.added);
    if (Status st = VaultAdd(v, VaultBatch(v.added, n)); !st.ok()) Die("vault fill", st);
  }
  return v;
}

BaselineSide& FilledBaseline() {
  std::lock_guard<std::mutex> lock(g_mu);
  BaselineSide& b = BaselineUnlocked();
  while (b.added < config().subjects) {
    std::size_t n = std::min(config().batch, config().subjects - b.added);
    if (Status st = BaselineAdd(b, BaselineBatch(b.added, n)); !st.ok()) Die("baseline fill", st);
  }
  return b;
}

// Iterations are set to subjects / batch at registration, so one run adds the
// configured number of subjects (more with --benchmark_repetitions).
void BM_Vault_AddSubjects(benchmark::State& state) {
  VaultSide* v;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    v = &VaultUnlocked();
  }
  const std::size_t batch = config().batch;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<SubjectInput> in = VaultBatch(v->added, batch);
    state.ResumeTiming();
    if (Status st = VaultAdd(*v, in); !st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
  Counters(state, VaultDb(), v->added);
}

void BM_Baseline_AddSubjects(benchmark::State& state) {
  BaselineSide* b;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    b = &BaselineUnlocked();
  }
  const std::size_t batch = config().batch;
  for (auto _ : state) {
    state.PauseTiming();
    auto in = BaselineBatch(b->added, batch);
    state.ResumeTiming();
    if (Status st = BaselineAdd(*b, in); !st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
  Counters(state, BaselineDb(), b->added);
}

// --- lookups ------------------------------------------------------------------

enum class Typed { kNational, kE164, kEmailAddress };

service::LookupQuery Query(std::size_t i, Typed typed) {
  switch (typed) {
    case Typed::kNational: return {"phone", PhoneNational(i)};
    case Typed::kE164: return {"phone", PhoneE164(i)};
    case Typed::kEmailAddress: return {"email", EmailRaw(i)};
  }
  return {};
}

constexpr char kPurpose[] = "essential.service";

// One Lookup per iteration: its own write transaction (the audit event) and commit.
void BM_Vault_Lookup(benchmark::State& state, Typed typed) {
  VaultSide& v = FilledVault();
  std::mt19937_64 rng(7 + state.thread_index());
  std::uniform_int_distribution<std::size_t> pick(0, v.added - 1);
  for (auto _ : state) {
    auto r = v.vault->Lookup(v.agent, kTenant, Query(pick(rng), typed), kPurpose);
    if (!r.ok() || r->size() != 1) {
      state.SkipWithError(r.ok() ? "lookup missed a stored subject" : r.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
  Counters(state, VaultDb(), v.added);
}

// kLookupBatch lookups per LookupMany call (one transaction).
void BM_Vault_LookupMany(benchmark::State& state, Typed typed) {
  VaultSide& v = FilledVault();
  std::mt19937_64 rng(11 + state.thread_index());
  std::uniform_int_distribution<std::size_t> pick(0, v.added - 1);
  std::vector<service::LookupQuery> queries(kLookupBatch);
  for (auto _ : state) {
    state.PauseTiming();
    for (auto& q : queries) q = Query(pick(rng), typed);
    state.ResumeTiming();
    auto r = v.vault->LookupMany(v.agent, kTenant, queries, kPurpose);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
    for (const auto& views : *r) {
      if (views.size() != 1) state.SkipWithError("lookup missed a stored subject");
    }
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kLookupBatch));
  Counters(state, VaultDb(), v.added);
}

// The baseline's lookup: the indexed SELECT of the normalized plaintext, then
// the subject's row, its 8 values unframed. No normalization, no audit.
Status BaselineLookupOne(BaselineSide& b, std::size_t i, std::size_t& found) {
  Stmt& f = *b.find_index;
  f.Reset();
  f.BindText(1, kTenant);
  f.BindText(2, kPhone);
  f.BindText(3, PhoneE164(i));
  std::vector<std::string> ids;
  while (true) {
    ASSIGN_OR_RETURN(bool row, f.Step());
    if (!row) break;
    ids.push_back(f.ColumnText(0));
  }
  f.Reset();
  for (const std::string& id : ids) {
    Stmt& g = *b.get_subject;
    g.Reset();
    g.BindText(1, kTenant);
    g.BindText(2, id);
    ASSIGN_OR_RETURN(bool row, g.Step());
    if (row) {
      ASSIGN_OR_RETURN(service::SealedFields fields, service::DecodeFields(g.ColumnBlob(8)));
      benchmark::DoNotOptimize(fields);
      ++found;
    }
    g.Reset();
  }
  return Status::Ok();
}

// Autocommit: one implicit read transaction per statement.
void BM_Baseline_Lookup(benchmark::State& state) {
  BaselineSide& b = FilledBaseline();
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::size_t> pick(0, b.added - 1);
  for (auto _ : state) {
    std::size_t found = 0;
    if (Status st = BaselineLookupOne(b, pick(rng), found); !st.ok() || found != 1) {
      state.SkipWithError(st.ok() ? "baseline lookup missed" : st.ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  Counters(state, BaselineDb(), b.added);
}

// kLookupBatch lookups in one read transaction.
void BM_Baseline_LookupMany(benchmark::State& state) {
  BaselineSide& b = FilledBaseline();
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<std::size_t> pick(0, b.added - 1);
  std::vector<std::size_t> picks(kLookupBatch);
  for (auto _ : state) {
    state.PauseTiming();
    for (auto& p : picks) p = pick(rng);
    state.ResumeTiming();
    std::size_t found = 0;
    Status st = b.db->Exec("BEGIN");
    for (std::size_t p : picks) {
      if (!st.ok()) break;
      st = BaselineLookupOne(b, p, found);
    }
    if (st.ok()) st = b.db->Exec("COMMIT");
    if (!st.ok() || found != kLookupBatch) {
      (void)b.db->Exec("ROLLBACK");
      state.SkipWithError(st.ok() ? "baseline lookup missed" : st.ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kLookupBatch));
  Counters(state, BaselineDb(), b.added);
}

// The baseline lookup plus an audit row in the same write transaction, one
// commit per lookup: what the vault's single Lookup pays for its audit trail.
void BM_Baseline_LookupAudited(benchmark::State& state) {
  BaselineSide& b = FilledBaseline();
  std::mt19937_64 rng(13);
  std::uniform_int_distribution<std::size_t> pick(0, b.added - 1);
  for (auto _ : state) {
    std::size_t found = 0;
    Status st = b.db->Exec("BEGIN IMMEDIATE");
    if (st.ok()) st = BaselineLookupOne(b, pick(rng), found);
    if (st.ok()) {
      st = BaselineAppendAudit(
          b, AuditLine(service::SystemClockMs(), "sub_lookup", "lookup", "agent", "hit", 7));
    }
    if (st.ok()) st = b.db->Exec("COMMIT");
    if (!st.ok() || found != 1) {
      (void)b.db->Exec("ROLLBACK");
      state.SkipWithError(st.ok() ? "baseline lookup missed" : st.ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  Counters(state, BaselineDb(), b.added);
}

// --- erasure ------------------------------------------------------------------

void BM_Vault_EraseSubject(benchmark::State& state) {
  VaultSide& v = FilledVault();
  for (auto _ : state) {
    if (v.next_erase >= v.sample_ids.size()) {
      state.SkipWithError("no sampled subject left to erase (raise CUSTODIAN_BENCH_SUBJECTS)");
      break;
    }
    Status st = v.vault->EraseSubject(v.importer, kTenant, v.sample_ids[v.next_erase++]);
    if (!st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  Counters(state, VaultDb(), v.added);
}

// Same shape: drop the index rows and the values, keep a tombstone, audit row.
void BM_Baseline_EraseSubject(benchmark::State& state) {
  BaselineSide& b = FilledBaseline();
  for (auto _ : state) {
    if (b.next_erase >= b.sample_ids.size()) {
      state.SkipWithError("no sampled subject left to erase (raise CUSTODIAN_BENCH_SUBJECTS)");
      break;
    }
    const std::string& id = b.sample_ids[b.next_erase++];
    const int64_t now = service::SystemClockMs();
    Status st = b.db->Exec("BEGIN IMMEDIATE");
    if (st.ok()) {
      Stmt& d = *b.erase_index;
      d.Reset();
      d.BindText(1, kTenant);
      d.BindText(2, id);
      st = d.Run();
    }
    if (st.ok()) {
      Stmt& u = *b.erase_subject;
      u.Reset();
      u.BindInt64(1, now);
      u.BindInt64(2, now);
      u.BindText(3, kTenant);
      u.BindText(4, id);
      st = u.Run();
    }
    if (st.ok()) st = BaselineAppendAudit(b, AuditLine(now, id, "erase", "admin", "ok", 8));
    if (st.ok()) st = b.db->Exec("COMMIT");
    if (!st.ok()) {
      (void)b.db->Exec("ROLLBACK");
      state.SkipWithError(st.ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  Counters(state, BaselineDb(), b.added);
}

// --- the CPU work of one add, without the database -------------------------
//
// What AddSubjects does per subject before and around its SQL, split in three,
// to say what bounds the add figure: normalizing the 8 fields; the subject key,
// its wrapping, 8 seals, 3 blind-index digests and the framing; the audit
// event's canonical JSON and chain hash.

void BM_PerSubject_Normalize(benchmark::State& state, Typed typed) {
  std::vector<std::vector<FieldInput>> inputs;  // built before timing: not the vault's work
  for (std::size_t i = 0; i < 1024; ++i) {
    inputs.push_back(Fields(i, typed == Typed::kE164 ? PhoneE164(i) : PhoneNational(i)));
  }
  std::size_t i = 0;
  for (auto _ : state) {
    for (const auto& x : inputs[i++ % inputs.size()]) {
      Result<std::string> r = x.category == kPhone   ? crypto::NormalizePhone(x.value, kRegion)
                              : x.category == kEmail ? crypto::NormalizeEmail(x.value)
                                                     : crypto::NormalizeText(x.value);
      if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
      benchmark::DoNotOptimize(r);
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_PerSubject_KeySealIndex(benchmark::State& state) {
  const crypto::Aead key_wrap =
      crypto::Aead::Create(crypto::SecretBytes::Random(32), 1).value();
  const crypto::BlindIndex index =
      crypto::BlindIndex::Create(crypto::SecretBytes::Random(32)).value();
  const std::vector<FieldInput> fields = NormalizedFields(12345);
  const std::string subject = "sub_abcdefghijkmnpqrstu";
  for (auto _ : state) {
    crypto::SecretBytes key = crypto::SecretBytes::Random(crypto::Aead::kKeySize);
    std::string wrapped = crypto::WrapKey(key_wrap, key, crypto::SubjectKeyContext(kTenant, subject));
    crypto::Aead aead = crypto::Aead::Create(std::move(key), 1).value();
    service::SealedFields sealed;
    std::vector<std::string> digests;
    for (const auto& f : fields) {
      sealed.emplace_back(f.category,
                          aead.Seal(f.value, crypto::FieldAssociatedData(kTenant, subject, f.category)));
      if (f.category == kPhone || f.category == kEmail || f.category == kNationalId) {
        digests.push_back(index.Digest(f.category, f.value));
      }
    }
    std::string blob = service::EncodeFields(sealed);
    benchmark::DoNotOptimize(wrapped);
    benchmark::DoNotOptimize(blob);
    benchmark::DoNotOptimize(digests);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_PerSubject_AuditEvent(benchmark::State& state) {
  std::string prev = audit::GenesisHash();
  std::vector<std::string> categories;
  for (const auto& f : NormalizedFields(1)) categories.push_back(f.category);
  for (auto _ : state) {
    audit::Event e;
    e.time_ms = service::SystemClockMs();
    e.tenant = kTenant;
    e.actor = "bench-import";
    e.role = "admin";
    e.action = "subject.add";
    e.subject = "sub_abcdefghijkmnpqrstu";
    e.categories = categories;
    e.outcome = "ok";
    e.count = 8;
    prev = audit::ChainHash(prev, e.Canonical());
    benchmark::DoNotOptimize(prev);
  }
  state.SetItemsProcessed(state.iterations());
}

// --- a summary of the ratios, after the table -------------------------------

// Under load (other processes on the machine) wall-clock rates fall with the
// share of the CPU this process gets; the rates per CPU-second of the
// benchmark's thread (user + system, fsync waits excluded) are steadier. The
// summary gives both, and the ratios of both.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.run_type != Run::RT_Iteration || r.error_occurred || r.threads != 1) continue;
      auto it = r.counters.find("items_per_second");
      if (it == r.counters.end() || r.cpu_accumulated_time <= 0) continue;
      Rate& rate = rates_[r.benchmark_name()];
      rate.wall = it->second.value;
      // items_per_second is per wall-clock second for the UseRealTime benchmarks.
      rate.cpu = it->second.value * r.real_accumulated_time / r.cpu_accumulated_time;
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    auto find = [&](const std::string& prefix) -> const Rate* {
      for (const auto& [name, rate] : rates_) {
        if (name.rfind(prefix, 0) == 0) return &rate;
      }
      return nullptr;
    };
    std::printf("\nvault vs plaintext baseline, %zu subjects, batches of %zu "
                "(per wall-clock second | per CPU-second):\n",
                config().subjects, config().batch);
    auto line = [&](const char* what, const std::string& vault, const std::string& base) {
      const Rate* a = find(vault);
      const Rate* b = find(base);
      if (a == nullptr || b == nullptr || a->wall <= 0 || a->cpu <= 0) return;
      std::printf("  %-28s vault %9.0f/s | %9.0f/s   baseline %9.0f/s | %9.0f/s   "
                  "baseline/vault %6.2fx | %6.2fx\n",
                  what, a->wall, a->cpu, b->wall, b->cpu, b->wall / a->wall, b->cpu / a->cpu);
    };
    line("add subjects (batched)", "Vault_AddSubjects", "Baseline_AddSubjects");
    line("lookup national, 1 per tx", "Vault_Lookup/national", "Baseline_Lookup/e164");
    line("lookup E.164, 1 per tx", "Vault_Lookup/e164", "Baseline_Lookup/e164");
    line("  vs audited baseline", "Vault_Lookup/e164", "Baseline_LookupAudited");
    line("lookup many, national", "Vault_LookupMany/national", "Baseline_LookupMany");
    line("lookup many, E.164", "Vault_LookupMany/e164", "Baseline_LookupMany");
    line("lookup many, email", "Vault_LookupMany/email", "Baseline_LookupMany");
    line("erase one subject", "Vault_EraseSubject", "Baseline_EraseSubject");
    std::printf("  max RSS %.0f MB; load average now %s\n", MaxRssMb(), LoadAverage().c_str());
  }

 private:
  struct Rate {
    double wall = 0;
    double cpu = 0;
  };
  static std::string LoadAverage() {
    std::ifstream in("/proc/loadavg");
    std::string a, b, c;
    in >> a >> b >> c;
    return a + " " + b + " " + c;
  }
  std::map<std::string, Rate> rates_;
};

void Register() {
  const Config& c = config();
  const int64_t add_iterations =
      static_cast<int64_t>(std::max<std::size_t>(1, c.subjects / c.batch));
  auto name = [](const char* base, const std::string& suffix) {
    return std::string(base) + suffix;
  };
  const std::string tag = "/batch:" + std::to_string(c.batch);
  benchmark::RegisterBenchmark(name("Baseline_AddSubjects", tag).c_str(), BM_Baseline_AddSubjects)
      ->Iterations(add_iterations)->UseRealTime()->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark(name("Vault_AddSubjects", tag).c_str(), BM_Vault_AddSubjects)
      ->Iterations(add_iterations)->UseRealTime()->Unit(benchmark::kMillisecond);

  benchmark::RegisterBenchmark("PerSubject_Normalize/national", BM_PerSubject_Normalize,
                               Typed::kNational);
  benchmark::RegisterBenchmark("PerSubject_Normalize/e164", BM_PerSubject_Normalize, Typed::kE164);
  benchmark::RegisterBenchmark("PerSubject_KeySealIndex", BM_PerSubject_KeySealIndex);
  benchmark::RegisterBenchmark("PerSubject_AuditEvent", BM_PerSubject_AuditEvent);

  benchmark::RegisterBenchmark("Baseline_Lookup/e164", BM_Baseline_Lookup)->UseRealTime();
  benchmark::RegisterBenchmark("Baseline_LookupAudited", BM_Baseline_LookupAudited)->UseRealTime();
  benchmark::RegisterBenchmark("Vault_Lookup/national", BM_Vault_Lookup, Typed::kNational)
      ->UseRealTime();
  benchmark::RegisterBenchmark("Vault_Lookup/e164", BM_Vault_Lookup, Typed::kE164)->UseRealTime();

  const std::string many = "/batch:" + std::to_string(kLookupBatch);
  benchmark::RegisterBenchmark(name("Baseline_LookupMany", many).c_str(), BM_Baseline_LookupMany)
      ->UseRealTime();
  benchmark::RegisterBenchmark(name("Vault_LookupMany/national", many).c_str(),
                               BM_Vault_LookupMany, Typed::kNational)
      ->UseRealTime()->ThreadRange(1, 2);
  benchmark::RegisterBenchmark(name("Vault_LookupMany/e164", many).c_str(), BM_Vault_LookupMany,
                               Typed::kE164)
      ->UseRealTime()->ThreadRange(1, 2);
  benchmark::RegisterBenchmark(name("Vault_LookupMany/email", many).c_str(), BM_Vault_LookupMany,
                               Typed::kEmailAddress)
      ->UseRealTime();

  benchmark::RegisterBenchmark("Baseline_EraseSubject", BM_Baseline_EraseSubject)
      ->Iterations(kEraseIterations)->UseRealTime()->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("Vault_EraseSubject", BM_Vault_EraseSubject)
      ->Iterations(kEraseIterations)->UseRealTime()->Unit(benchmark::kMicrosecond);
}

void Configure() {
  Config& c = config();
  c.subjects = EnvSize("CUSTODIAN_BENCH_SUBJECTS", 20000);
  c.batch = EnvSize("CUSTODIAN_BENCH_BATCH", 1000);
  if (c.subjects > 100000000) {
    std::fprintf(stderr, "vault_bench: at most 100000000 subjects (the phone numbers run out)\n");
    std::exit(2);
  }
  const char* keep = std::getenv("CUSTODIAN_BENCH_KEEP");
  c.keep = keep != nullptr && std::string(keep) == "1";
  const char* policy = std::getenv("CUSTODIAN_BENCH_POLICY");
  c.policy = policy != nullptr && *policy != '\0'
                 ? fs::path(policy)
                 : fs::path(__FILE__).parent_path() / "vault_bench_policy.yaml";
  if (const char* dir = std::getenv("CUSTODIAN_BENCH_DIR"); dir != nullptr && *dir != '\0') {
    c.dir = dir;
    std::error_code ec;
    if (fs::exists(c.dir / "vault", ec) || fs::exists(c.dir / "baseline.db", ec)) {
      std::fprintf(stderr, "vault_bench: %s already holds a bench store; give an empty directory\n",
                   c.dir.c_str());
      std::exit(2);
    }
    fs::create_directories(c.dir, ec);
  } else {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                       "/custodian-bench-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      std::perror("vault_bench: mkdtemp");
      std::exit(1);
    }
    c.dir = tmpl;
    c.own_dir = true;
  }
}

}  // namespace
}  // namespace custodian::bench

int main(int argc, char** argv) {
  using namespace custodian::bench;
  Configure();
  Register();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("subjects", std::to_string(config().subjects));
  benchmark::AddCustomContext("batch", std::to_string(config().batch));
  benchmark::AddCustomContext("store_dir", config().dir.string());
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  // Close the stores before removing their files.
  delete g_vault;
  delete g_base;
  if (config().own_dir && !config().keep) {
    std::error_code ec;
    fs::remove_all(config().dir, ec);
  } else {
    std::fprintf(stderr, "vault_bench: stores kept in %s\n", config().dir.c_str());
  }
  return 0;
}
