// The server's regular backups: each round writes a backup that verifies,
// named by its time; the newest N are kept and nothing else is touched; the
// clock counts from the newest backup already there; a failure is reported
// and the thread goes on.
#include "service/backup_schedule.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "audit_util.h"
#include "test_util.h"
#include "vault_test_util.h"

namespace custodian::service {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr int64_t kDec2 = 1796212800000;  // 2026-12-02T12:00:00Z

class BackupScheduleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = tmp_.path() / "data";
    backups_ = tmp_.path() / "backups";
    fs::create_directory(backups_);
    vault_ = testing_util::OpenTestVault(data_, [this] { return now_; });
    ASSERT_NE(vault_, nullptr);
    ASSERT_TRUE(testing_util::CreateExampleTenant(*vault_, "interjet").ok());
    ASSERT_TRUE(vault_->AddSubject({"test", "admin"}, "interjet",
                                   {{"user.name", "Asha Rao"},
                                    {"user.contact.phone_number", "+91 88701 00100"}},
                                   "C1")
                    .ok());
  }
  BackupScheduleOptions Options(int keep = 2) {
    BackupScheduleOptions o;
    o.data_dir = data_.string();
    o.dir = backups_.string();
    o.interval = std::chrono::hours(24);
    o.first_delay = std::chrono::seconds(60);
    o.keep = keep;
    o.clock = [this] { return now_; };
    return o;
  }

  testing_util::TempDir tmp_;
  fs::path data_, backups_;
  int64_t now_ = kDec2;
  std::unique_ptr<Vault> vault_;
};

TEST_F(BackupScheduleTest, EachRoundWritesABackupThatVerifiesAndKeepsTheNewest) {
  testing_util::WriteFile((backups_ / "notes.txt").string(), "the operator's own file");
  testing_util::WriteFile((backups_ / "custodian-20260101T000000Z.backup.partial").string(), "x");
  BackupSchedule schedule(*vault_, Options(/*keep=*/2));
  ScheduledBackup first = schedule.RunOnce();
  ASSERT_TRUE(first.status.ok()) << first.status.ToString();
  EXPECT_EQ(first.file, (backups_ / "custodian-20261202T120000Z.backup").string());
  EXPECT_GT(first.file_bytes, 0);
  EXPECT_EQ(first.summary.subjects, 1);
  EXPECT_TRUE(first.pruned.empty());
  auto check = VerifyBackup(data_.string(), first.file);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_EQ(check->summary.id, first.summary.id);
  EXPECT_FALSE(fs::exists(backups_ / "custodian-20260101T000000Z.backup.partial"));

  // The same second again: a suffix, not an overwrite.
  ScheduledBackup second = schedule.RunOnce();
  ASSERT_TRUE(second.status.ok()) << second.status.ToString();
  EXPECT_EQ(second.file, (backups_ / "custodian-20261202T120000Z-2.backup").string());
  now_ += 24 * 3600 * 1000;
  ScheduledBackup third = schedule.RunOnce();
  ASSERT_TRUE(third.status.ok()) << third.status.ToString();
  EXPECT_EQ(third.pruned, (std::vector<std::string>{"custodian-20261202T120000Z.backup"}));
  EXPECT_EQ(BackupSchedule::List(backups_.string()),
            (std::vector<std::string>{"custodian-20261202T120000Z-2.backup",
                                      "custodian-20261203T120000Z.backup"}));
  EXPECT_TRUE(fs::exists(backups_ / "notes.txt"));
  // Each backup is audited as made by the schedule.
  auto events = testing_util::AuditEvents((data_ / "custodian.db").string(), "backup");
  ASSERT_EQ(events.size(), 3u);
  for (const std::string& e : events) {
    EXPECT_NE(e.find("\"actor\":\"backup-schedule\""), std::string::npos) << e;
  }
}

TEST_F(BackupScheduleTest, TheClockCountsFromTheNewestBackupThere) {
  BackupSchedule schedule(*vault_, Options());
  // None there: the first delay.
  EXPECT_EQ(schedule.FirstWait(), milliseconds(std::chrono::seconds(60)));
  testing_util::WriteFile((backups_ / "custodian-20261202T060000Z.backup").string(), "b");
  testing_util::WriteFile((backups_ / "custodian-20261201T060000Z.backup").string(), "a");
  // The newest was made 6 hours ago: the next in 18 hours.
  EXPECT_EQ(schedule.FirstWait(), milliseconds(std::chrono::hours(18)));
  // Overdue: the first delay, not at once.
  now_ += 30LL * 3600 * 1000;
  EXPECT_EQ(schedule.FirstWait(), milliseconds(std::chrono::seconds(60)));
  // Names that only look alike are not backups of the schedule.
  testing_util::WriteFile((backups_ / "custodian-20991231T000000Z.bak").string(), "x");
  testing_util::WriteFile((backups_ / "custodian-2099-12-31.backup").string(), "x");
  EXPECT_EQ(BackupSchedule::List(backups_.string()).size(), 2u);
}

TEST_F(BackupScheduleTest, TheThreadBacksUpAndReportsAFailure) {
  BackupScheduleOptions o = Options();
  o.first_delay = milliseconds(1);
  o.interval = std::chrono::hours(1);
  BackupSchedule schedule(*vault_, o);
  schedule.Start();
  for (int i = 0; i < 3000 && !schedule.last(); ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  schedule.Stop();
  ASSERT_TRUE(schedule.last().has_value());
  EXPECT_TRUE(schedule.last()->status.ok()) << schedule.last()->status.ToString();
  EXPECT_EQ(BackupSchedule::List(backups_.string()).size(), 1u);

  // A directory that went away: the round fails, and says so.
  BackupScheduleOptions gone = Options();
  gone.dir = (tmp_.path() / "gone").string();
  gone.first_delay = milliseconds(1);
  std::vector<std::string> errors;
  std::mutex mu;
  gone.on_error = [&](const Status& st) {
    std::lock_guard<std::mutex> lock(mu);
    errors.push_back(st.message());
  };
  BackupSchedule failing(*vault_, gone);
  failing.Start();
  for (int i = 0; i < 3000 && !failing.last(); ++i) std::this_thread::sleep_for(milliseconds(10));
  failing.Stop();
  ASSERT_TRUE(failing.last().has_value());
  EXPECT_FALSE(failing.last()->status.ok());
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find(gone.dir), std::string::npos) << errors[0];
}

}  // namespace
}  // namespace custodian::service
