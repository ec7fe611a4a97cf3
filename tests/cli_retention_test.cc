// `custodian retention` and `custodian hold`: the real binary on stores made
// through the library with dates in the past (the CLI runs on the real clock).
// The crash test kills sweeps with SIGKILL at random moments and checks that
// the last run completes them: every due item purged once, none missed.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "audit/event.h"
#include "run_util.h"
#include "service/vault.h"
#include "test_util.h"

namespace custodian {
namespace {

using testing_util::ReadFile;
using testing_util::RunCustodian;
using testing_util::RunOptions;
using testing_util::RunResult;
using testing_util::TempDir;

const service::Actor kAdmin{"test", "admin"};
constexpr int64_t kJan2020 = 1577836800000;  // 2020-01-01T00:00:00Z

class RetentionCliTest : public ::testing::Test {
 protected:
  // A data directory with `subjects` closed Interjet customers (closed in
  // 2020: everything of theirs is due now), `records` service logs each.
  std::string MakeStore(const std::string& name, int subjects, int records) {
    std::string data = (dir_.path() / name).string();
    unsetenv("CUSTODIAN_MASTER_KEY");
    EXPECT_TRUE(service::Vault::Init(data).ok());
    service::VaultOptions o;
    o.data_dir = data;
    auto vault = service::Vault::Open(o);
    EXPECT_TRUE(vault.ok());
    service::Vault& v = **vault;
    EXPECT_TRUE(v.CreateTenant(kAdmin, "interjet",
                               ReadFile(std::filesystem::path(CUSTODIAN_SOURCE_DIR) /
                                        "examples/policies/interjet.yaml"),
                               "interjet.yaml")
                    .ok());
    std::vector<service::SubjectInput> batch;
    for (int i = 0; i < subjects; ++i) {
      batch.push_back({{{"user.name", "Person " + std::to_string(i)},
                        {"user.contact.phone_number", "+9188701" + std::to_string(10000 + i)}},
                       "CUST-" + std::to_string(i)});
    }
    auto added = v.AddSubjects(kAdmin, "interjet", batch);
    EXPECT_TRUE(added.ok()) << added.status().ToString();
    std::vector<service::RecordImportInput> rows;
    for (int i = 0; i < subjects; ++i) {
      for (int j = 0; j < records; ++j) {
        rows.push_back({"CUST-" + std::to_string(i),
                        {"service_log", kJan2020 - 86400000LL * (j + 1), R"({"event":"ping"})"}});
      }
    }
    store::ImportRow progress;
    progress.tenant = "interjet";
    progress.kind = "records:service_log";
    progress.digest = "test";
    auto imported = v.ImportRecordBatch(kAdmin, "interjet", "service_log", rows, progress,
                                        [](const auto&) -> Result<uint64_t> { return 0; });
    EXPECT_TRUE(imported.ok()) << imported.status().ToString();
    for (const auto& r : *added) {
      EXPECT_TRUE(v.CloseSubject(kAdmin, "interjet", r.subject_id, kJan2020).ok());
    }
    return data;
  }

  // Sum of the counts of audit events with `action` (and `reason`), and how many events.
  std::pair<int64_t, int64_t> AuditCount(const std::string& data, const std::string& action,
                                         const std::string& reason = "") {
    sqlite3* db = nullptr;
    sqlite3_open((std::filesystem::path(data) / "custodian.db").c_str(), &db);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT event FROM audit ORDER BY seq", -1, &st, nullptr);
    int64_t sum = 0, n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
      auto ev =
          audit::Event::FromCanonical(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
      if (!ev.ok() || ev->action != action) continue;
      if (!reason.empty() && ev->reason != reason) continue;
      sum += ev->count;
      ++n;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return {sum, n};
  }

  TempDir dir_;
};

TEST_F(RetentionCliTest, PlanRunAndHolds) {
  std::string data = MakeStore("d", 3, 2);
  RunResult plan = RunCustodian({"retention", "plan", "interjet", "--json", "--data-dir", data});
  ASSERT_EQ(plan.exit_code, 0) << plan.Describe();
  auto p = nlohmann::json::parse(plan.out);
  EXPECT_EQ(p["time_zone"], "UTC+05:30");
  bool saw_billing = false;
  for (const auto& r : p["rules"]) {
    if (r["rule"] == "billing-and-service-logs") {
      saw_billing = true;
      EXPECT_EQ(r["due"]["records"], 6);
      EXPECT_EQ(r["period"], "12 months after closed");
    }
    if (r["rule"] == "active-customer") {
      EXPECT_EQ(r["due"]["subjects"], 3);
    }
  }
  EXPECT_TRUE(saw_billing) << plan.out;
  EXPECT_EQ(plan.out.find("Person"), std::string::npos);  // counts, never values

  RunResult text = RunCustodian({"retention", "plan", "interjet", "--at", "2019-06-01",
                                 "--data-dir", data});
  ASSERT_EQ(text.exit_code, 0) << text.Describe();
  EXPECT_NE(text.out.find("billing-and-service-logs: delete, 12 months after closed"),
            std::string::npos)
      << text.out;

  RunResult dry = RunCustodian({"retention", "run", "--dry-run", "--json", "--data-dir", data});
  ASSERT_EQ(dry.exit_code, 0) << dry.Describe();
  EXPECT_EQ(nlohmann::json::parse(dry.out)["tenants"][0]["due"], 12);  // 6 records, 6 fields
  EXPECT_EQ(AuditCount(data, "retention.purge").second, 0);

  RunResult bad = RunCustodian({"hold", "add", "interjet", "sub_nope", "--reason", "x",
                                "--data-dir", data});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("does not exist"), std::string::npos) << bad.err;
  RunResult usage = RunCustodian({"hold", "add", "interjet", "sub_x", "--data-dir", data});
  EXPECT_EQ(usage.exit_code, 2) << usage.Describe();

  // Batch sizes out of range are usage errors, and purge nothing.
  for (const char* flag : {"--batch", "--batch-subjects"}) {
    RunResult zero = RunCustodian({"retention", "run", flag, "0", "--data-dir", data});
    EXPECT_EQ(zero.exit_code, 2) << zero.Describe();
    EXPECT_NE(zero.err.find(std::string(flag) + ": Value 0 not in range"), std::string::npos)
        << zero.err;
  }
  EXPECT_EQ(AuditCount(data, "retention.purge").second, 0);

  RunResult run = RunCustodian({"retention", "run", "--json", "--data-dir", data});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  auto r = nlohmann::json::parse(run.out)["tenants"][0];
  EXPECT_EQ(r["records_deleted"], 6);  // shredded with their subjects' keys
  EXPECT_EQ(r["records_compacted"], 6);  // and their rows removed
  EXPECT_EQ(r["fields_deleted"], 6);
  EXPECT_EQ(r["subjects_erased"], 3);
  EXPECT_EQ(r["overdue"], 0);
  EXPECT_TRUE(run.err.empty()) << run.err;  // piped: no progress line

  RunResult again = RunCustodian({"retention", "run", "--data-dir", data});
  ASSERT_EQ(again.exit_code, 0) << again.Describe();
  EXPECT_NE(again.out.find("interjet: 0 items due"), std::string::npos) << again.out;
  RunResult holds = RunCustodian({"hold", "list", "interjet", "--data-dir", data});
  EXPECT_EQ(holds.exit_code, 0);
  EXPECT_EQ(holds.out, "no legal holds\n");
  RunResult verify = RunCustodian({"audit", "verify", "--data-dir", data});
  EXPECT_EQ(verify.exit_code, 0) << verify.Describe();
}

TEST_F(RetentionCliTest, HoldAddListRelease) {
  std::string data = MakeStore("d", 1, 1);
  // The subject id, from the store.
  std::string subject;
  {
    sqlite3* db = nullptr;
    sqlite3_open((std::filesystem::path(data) / "custodian.db").c_str(), &db);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT id FROM subjects", -1, &st, nullptr);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    subject = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  RunResult add = RunCustodian({"hold", "add", "interjet", subject, "--reason",
                                "Court order 17/2026", "--until", "2099-01-01", "--data-dir", data});
  ASSERT_EQ(add.exit_code, 0) << add.Describe();
  std::string id = add.out.substr(0, add.out.size() - 1);
  EXPECT_EQ(id.rfind("hold_", 0), 0u) << add.out;
  RunResult run = RunCustodian({"retention", "run", "--json", "--data-dir", data});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(nlohmann::json::parse(run.out)["tenants"][0]["held"], 3);  // 1 record + 2 fields
  RunResult list = RunCustodian({"hold", "list", "interjet", "--standing", "--json",
                                 "--data-dir", data});
  ASSERT_EQ(list.exit_code, 0) << list.Describe();
  auto holds = nlohmann::json::parse(list.out)["holds"];
  ASSERT_EQ(holds.size(), 1u);
  EXPECT_EQ(holds[0]["reason"], "Court order 17/2026");
  EXPECT_EQ(holds[0]["until"], "2099-01-01T00:00:00Z");
  RunResult rel = RunCustodian({"hold", "release", "interjet", id, "--data-dir", data});
  ASSERT_EQ(rel.exit_code, 0) << rel.Describe();
  run = RunCustodian({"retention", "run", "--json", "--data-dir", data});
  EXPECT_EQ(nlohmann::json::parse(run.out)["tenants"][0]["subjects_erased"], 1);
}

// kill -9 at random points: the re-run completes with no item purged twice
// and none missed (the audit's purge counts add up to exactly what was due).
TEST_F(RetentionCliTest, KilledSweepsResumeWithNothingTwiceAndNothingMissed) {
  constexpr int kSubjects = 400, kRecords = 10;
  std::string data = MakeStore("crash", kSubjects, kRecords);
  // Small batches: 100 of records, 20 of shredded subjects, 20 of compaction.
  std::vector<std::string> args = {"retention", "run", "--batch", "40", "--batch-subjects", "20",
                                   "--json", "--data-dir", data};
  // Kill times are drawn within an uninterrupted sweep of a copy of the same
  // store, so that they land mid-sweep however loaded the machine is.
  const std::string copy = data + "-calibration";
  std::filesystem::copy(data, copy, std::filesystem::copy_options::recursive);
  std::vector<std::string> calibration = args;
  calibration.back() = copy;
  const auto started = std::chrono::steady_clock::now();
  ASSERT_EQ(RunCustodian(calibration).exit_code, 0);
  const int full_ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::steady_clock::now() - started)
                                           .count());
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> when(std::max(5, full_ms / 20), std::max(10, full_ms * 3 / 4));
  int kills = 0;
  std::string log;
  for (int attempt = 0; attempt < 5; ++attempt) {
    RunOptions o;
    o.timeout = std::chrono::milliseconds(when(rng));
    RunResult killed = RunCustodian(args, o);
    log += " " + std::to_string(o.timeout.count()) + "ms";
    if (!killed.signaled) {
      ASSERT_EQ(killed.exit_code, 0) << killed.Describe();
      break;
    }
    ++kills;
  }
  SCOPED_TRACE("killed at" + log);
  const int64_t before_last = AuditCount(data, "retention.purge").first;
  RunResult last = RunCustodian(args);
  ASSERT_EQ(last.exit_code, 0) << last.Describe();
  EXPECT_EQ(nlohmann::json::parse(last.out)["tenants"][0]["overdue"], 0);
  EXPECT_GT(kills, 0) << "every sweep finished before its kill; nothing was tested";
  std::printf("killed %d times at%s; %lld items purged before the last run\n", kills, log.c_str(),
              static_cast<long long>(before_last));

  EXPECT_EQ(AuditCount(data, "retention.purge", "rule billing-and-service-logs").first,
            kSubjects * kRecords);
  EXPECT_EQ(AuditCount(data, "retention.purge", "rule active-customer").first, 2 * kSubjects);
  EXPECT_EQ(AuditCount(data, "retention.erase").first, kSubjects);
  RunResult dry = RunCustodian({"retention", "run", "--dry-run", "--json", "--data-dir", data});
  EXPECT_EQ(nlohmann::json::parse(dry.out)["tenants"][0]["due"], 0);
  RunResult verify = RunCustodian({"audit", "verify", "--data-dir", data});
  EXPECT_EQ(verify.exit_code, 0) << verify.Describe();
}

}  // namespace
}  // namespace custodian
