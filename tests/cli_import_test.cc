// `custodian import`: the real binary on generated CSVs. The crash test kills
// an import with SIGKILL at random moments, re-runs it to completion each
// time, and requires the very state an uninterrupted import reaches.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "run_util.h"
#include "service/vault.h"
#include "test_util.h"

namespace custodian {
namespace {

namespace fs = std::filesystem;
using testing_util::ReadFile;
using testing_util::RunCustodian;
using testing_util::RunOptions;
using testing_util::RunResult;
using testing_util::TempDir;
using testing_util::WriteFile;

const std::string kPolicy = std::string(CUSTODIAN_SOURCE_DIR) + "/examples/policies/interjet.yaml";
constexpr char kMap[] =
    "columns:\n  id: external_id\n  name: user.name\n  phone: user.contact.phone_number\n"
    "  email: user.contact.email\n  city: user.contact.address\n";

// Deterministic rows; every 100th has a malformed email and is rejected.
std::string GenerateCsv(int rows) {
  std::mt19937 rng(20240601);
  std::string csv = "id,name,phone,email,city\n";
  for (int i = 0; i < rows; ++i) {
    char phone[16];
    std::snprintf(phone, sizeof phone, "%08u", static_cast<unsigned>(rng() % 100000000));
    std::string email = "user" + std::to_string(i) + (i % 100 == 7 ? "-at-" : "@") + "example.in";
    csv += "c" + std::to_string(i) + ",\"Name " + std::to_string(i) + ", Jr\",+91 98" + phone +
           "," + email + ",\"City " + std::to_string(i % 50) + "\nBlock " +
           std::to_string(i % 7) + "\"\n";
  }
  return csv;
}

class ImportCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    csv_ = (dir_.path() / "customers.csv").string();
    map_ = (dir_.path() / "map.yaml").string();
    WriteFile(map_, kMap);
  }

  std::string NewDataDir(const std::string& name) {
    std::string data = (dir_.path() / name).string();
    RunResult r = RunCustodian({"init", "--data-dir", data});
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    r = RunCustodian({"tenant", "create", "interjet", "--policy", kPolicy, "--data-dir", data});
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    return data;
  }

  RunResult Import(const std::string& data, std::chrono::milliseconds timeout =
                                                std::chrono::milliseconds(300000)) {
    RunOptions o;
    o.timeout = timeout;
    return RunCustodian({"import", "subjects", "interjet", csv_, "--map", map_, "--batch", "200",
                         "--json", "--data-dir", data},
                        o);
  }

  TempDir dir_;
  std::string csv_, map_;
};

TEST_F(ImportCliTest, ExitCodesAndSummary) {
  WriteFile(csv_, GenerateCsv(300));
  std::string data = NewDataDir("data");
  RunResult r = Import(data);
  ASSERT_EQ(r.exit_code, 3) << r.Describe();
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["rows"], 300);
  EXPECT_EQ(j["added"], 297);
  EXPECT_EQ(j["rejected"], 3);
  EXPECT_EQ(r.err, "");  // not a terminal: nothing but the summary

  WriteFile(csv_, "id,name,phone,email,city\nc1,A,,a@example.in,\n");
  r = Import(data);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_FALSE(fs::exists(csv_ + ".rejects.csv"));

  WriteFile(map_, "columns:\n  id: external_id\n  name: user.nam\n");
  r = Import(data);
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_EQ(r.err,
            "custodian: " + map_ +
                ":3:9: column 'name': category 'user.nam' is not declared in the policy; expected "
                "a category key declared in the policy, external_id or ignore\n");
  r = RunCustodian({"import", "subjects", "nosuch", csv_, "--map", map_, "--data-dir", data});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
}

// Everything a support agent can see of every generated subject, by email,
// plus the store's subject count and audit chain.
struct StoreState {
  int64_t subjects = 0;
  int64_t audit_events = 0;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> by_email;
};

StoreState Snapshot(const std::string& data, int rows) {
  StoreState s;
  service::VaultOptions o;
  o.data_dir = data;
  auto vault = service::Vault::Open(o);
  EXPECT_TRUE(vault.ok()) << vault.status().ToString();
  if (!vault.ok()) return s;
  auto audit = (*vault)->VerifyAudit();
  EXPECT_TRUE(audit.ok() && audit->ok) << (audit.ok() ? audit->problem : "");
  s.audit_events = audit.ok() ? audit->events : -1;
  auto tenant = (*vault)->GetTenant("interjet");
  EXPECT_TRUE(tenant.ok());
  s.subjects = tenant.ok() ? tenant->subjects : -1;
  std::vector<service::LookupQuery> queries;
  for (int i = 0; i < rows; ++i) {
    if (i % 100 != 7) queries.push_back({"email", "user" + std::to_string(i) + "@example.in"});
  }
  auto found = (*vault)->LookupMany({"test", "admin"}, "interjet", queries,
                                    "essential.service.operations.support");
  EXPECT_TRUE(found.ok()) << found.status().ToString();
  if (!found.ok()) return s;
  for (std::size_t q = 0; q < queries.size(); ++q) {
    auto& fields = s.by_email[queries[q].value];
    EXPECT_EQ((*found)[q].size(), 1u) << queries[q].value;  // once, not twice, not lost
    for (const auto& view : (*found)[q]) {
      for (const auto& f : view.fields) fields.emplace_back(f.category, f.value);
    }
  }
  return s;
}

// The one import's stored progress row, read from the store's file.
struct Progress {
  int64_t rows = -1, added = -1, updated = -1, unchanged = -1, rejected = -1;
  bool done = false;
};

Progress StoredProgress(const std::string& data) {
  Progress p;
  sqlite3* db = nullptr;
  const std::string path = (std::filesystem::path(data) / "custodian.db").string();
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db,
                               "SELECT rows, added, updated, unchanged, rejected, done, "
                               "(SELECT count(*) FROM imports) FROM imports",
                               -1, &st, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  if (st != nullptr && sqlite3_step(st) == SQLITE_ROW) {
    EXPECT_EQ(sqlite3_column_int64(st, 6), 1) << "one import, one progress row";
    p.rows = sqlite3_column_int64(st, 0);
    p.added = sqlite3_column_int64(st, 1);
    p.updated = sqlite3_column_int64(st, 2);
    p.unchanged = sqlite3_column_int64(st, 3);
    p.rejected = sqlite3_column_int64(st, 4);
    p.done = sqlite3_column_int64(st, 5) != 0;
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return p;
}

TEST_F(ImportCliTest, KilledImportsResumeToTheUninterruptedState) {
  constexpr int kRows = 20000;
  WriteFile(csv_, GenerateCsv(kRows));

  std::string clean = NewDataDir("clean");
  auto start = std::chrono::steady_clock::now();
  RunResult r = Import(clean);
  auto full = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  ASSERT_EQ(r.exit_code, 3) << r.Describe();
  const auto expected = nlohmann::json::parse(r.out);
  EXPECT_EQ(expected["added"], kRows - kRows / 100);
  EXPECT_EQ(expected["rejected"], kRows / 100);
  const std::string expected_rejects = ReadFile(csv_ + ".rejects.csv");

  // Kill the same import several times in a row, each run resuming where the
  // last committed batch left it, then let it finish. A kill can land after
  // the last batch committed (the import is done, only the exit was lost) or
  // a run can finish before its kill: then there is nothing to resume, and
  // running it again would be a second import of a finished file.
  std::string crashed = NewDataDir("crashed");
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int64_t> when(30, std::max<int64_t>(full.count() / 3, 60));
  int interrupted = 0;  // kills that left the import unfinished
  bool finished = false;
  std::string log;
  for (int attempt = 0; attempt < 4 && !finished; ++attempt) {
    auto at = std::chrono::milliseconds(when(rng));
    RunResult killed = Import(crashed, at);
    log += " " + std::to_string(at.count()) + "ms";
    if (!killed.signaled) {  // it finished before the kill
      ASSERT_EQ(killed.exit_code, 3) << killed.Describe();
      auto printed = nlohmann::json::parse(killed.out);
      EXPECT_EQ(printed["rows"], expected["rows"]) << killed.out;
      EXPECT_EQ(printed["added"], expected["added"]) << killed.out;
      EXPECT_EQ(printed["rejected"], expected["rejected"]) << killed.out;
      finished = true;
    } else if (StoredProgress(crashed).done) {
      log += " (after the last commit)";
      finished = true;
    } else {
      ++interrupted;
    }
  }
  SCOPED_TRACE("killed at" + log);
  EXPECT_GT(interrupted, 0) << "no kill left the import unfinished; nothing was resumed";
  if (!finished) {
    RunResult resumed = Import(crashed);
    ASSERT_EQ(resumed.exit_code, 3) << resumed.Describe();
    auto got = nlohmann::json::parse(resumed.out);
    SCOPED_TRACE("the last run printed: " + resumed.out);
    // The counts of the whole import, over all its runs.
    EXPECT_EQ(got["rows"], expected["rows"]);
    EXPECT_EQ(got["added"], expected["added"]);
    EXPECT_EQ(got["updated"], 0);
    EXPECT_EQ(got["unchanged"], 0);
    EXPECT_EQ(got["rejected"], expected["rejected"]);
  }
  // However the runs ended, the stored progress holds the whole import's counts.
  const Progress stored = StoredProgress(crashed);
  EXPECT_TRUE(stored.done);
  EXPECT_EQ(stored.rows, expected["rows"].get<int64_t>());
  EXPECT_EQ(stored.added, expected["added"].get<int64_t>());
  EXPECT_EQ(stored.updated, 0);
  EXPECT_EQ(stored.unchanged, 0);
  EXPECT_EQ(stored.rejected, expected["rejected"].get<int64_t>());
  EXPECT_EQ(ReadFile(csv_ + ".rejects.csv"), expected_rejects);
  std::printf("killed %d times unfinished, at%s (uninterrupted import: %lld ms)\n", interrupted,
              log.c_str(), static_cast<long long>(full.count()));

  // Rolled-back batches left no audit event: both chains hold the same events.
  StoreState a = Snapshot(clean, kRows);
  StoreState b = Snapshot(crashed, kRows);
  EXPECT_EQ(a.subjects, kRows - kRows / 100);
  EXPECT_EQ(b.subjects, a.subjects);
  EXPECT_EQ(b.by_email, a.by_email);
  EXPECT_EQ(b.audit_events, a.audit_events);

  // A finished import run again (and killed once more) changes nothing.
  RunResult again = Import(crashed, std::chrono::milliseconds(when(rng)));
  if (again.timed_out) again = Import(crashed);
  ASSERT_EQ(again.exit_code, 3) << again.Describe();
  auto unchanged = nlohmann::json::parse(again.out);
  EXPECT_EQ(unchanged["added"].get<int64_t>() + unchanged["unchanged"].get<int64_t>(),
            expected["added"].get<int64_t>());
  EXPECT_EQ(unchanged["updated"], 0);
  EXPECT_EQ(Snapshot(crashed, kRows).by_email, a.by_email);
}

}  // namespace
}  // namespace custodian
