// Read transactions on their own connections (SqliteOptions::read_connections):
// they proceed while a write transaction is open or its commit is in flight,
// see only committed work, cannot write, and their connections are reused.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "store/sqlite/test_events.h"
#include "store/store.h"
#include "test_util.h"

namespace custodian::store {
namespace {

using namespace std::chrono_literals;

TenantRow Tenant(const std::string& id) {
  TenantRow t;
  t.id = id;
  t.wrapped_key = "k";
  t.policy_yaml = "p";
  t.policy_version = "1";
  return t;
}

class ReadConnectionsTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    SqliteOptions o;
    o.group_commit = GetParam();
    auto s = OpenSqliteStore((dir_.path() / "custodian.db").string(), o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    auto tx = store_->Begin(true);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE((*tx)->InsertTenant(Tenant("alpha")).ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  // Tenants a read transaction begun now sees (-1 on error).
  int ReadTenants() {
    auto tx = store_->Begin(false);
    if (!tx.ok()) return -1;
    auto t = (*tx)->ListTenants();
    if (!t.ok() || !(*tx)->Commit().ok()) return -1;
    return static_cast<int>(t->size());
  }
  testing_util::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_P(ReadConnectionsTest, AReadProceedsWhileAWriteIsOpenAndSeesOnlyCommittedWork) {
  auto w = store_->Begin(true);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->InsertTenant(Tenant("beta")).ok());
  // Another thread reads while the write transaction holds the writer: it
  // must not wait for it (the write is only committed after the read ends).
  auto read = std::async(std::launch::async, [this] { return ReadTenants(); });
  ASSERT_EQ(read.wait_for(10s), std::future_status::ready) << "the read waited for the writer";
  EXPECT_EQ(read.get(), 1);  // beta is not committed yet
  ASSERT_TRUE((*w)->Commit().ok());
  w->reset();
  EXPECT_EQ(ReadTenants(), 2);  // a commit that returned is visible to every reader
}

TEST_P(ReadConnectionsTest, AReadTransactionCannotWrite) {
  auto tx = store_->Begin(false);
  ASSERT_TRUE(tx.ok());
  EXPECT_FALSE((*tx)->InsertTenant(Tenant("gamma")).ok());
  EXPECT_FALSE((*tx)->AppendAudit(TestEvent("x")).ok());
  tx->reset();
  EXPECT_EQ(ReadTenants(), 1);
}

TEST_P(ReadConnectionsTest, ReadsRunBesideConcurrentCommitsAndTheChainStaysWhole) {
  constexpr int kWriters = 6, kEach = 60, kReaders = 6;
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0}, reads{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kReaders; ++t) {
    threads.emplace_back([&] {
      int64_t last = 0;
      while (!stop.load()) {
        auto tx = store_->Begin(false);
        if (!tx.ok()) {
          ++bad;
          continue;
        }
        auto head = (*tx)->AuditHead();
        if (!head.ok()) {
          ++bad;
          continue;
        }
        // A reader never sees the chain go backwards.
        int64_t seq = *head ? (*head)->first : 0;
        if (seq < last) ++bad;
        last = seq;
        ++reads;
      }
    });
  }
  std::vector<std::thread> writers;
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        auto tx = store_->Begin(true);
        if (!tx.ok() || !(*tx)->AppendAudit(TestEvent("w")).ok() || !(*tx)->Commit().ok()) ++bad;
      }
    });
  }
  for (auto& th : writers) th.join();
  stop = true;
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(reads.load(), 0);
  auto report = store_->VerifyAudit();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(report->events, kWriters * kEach);
  auto tx = store_->Begin(false);
  ASSERT_TRUE(tx.ok());
  auto head = (*tx)->AuditHead();
  ASSERT_TRUE(head.ok() && head->has_value());
  EXPECT_EQ((*head)->first, kWriters * kEach);
}

TEST_P(ReadConnectionsTest, ManyMoreReadersThanConnectionsAllFinish) {
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) ok += ReadTenants() == 1;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 16 * 50);
  EXPECT_TRUE(store_->Checkpoint().ok());  // idle readers do not hold the WAL
}

INSTANTIATE_TEST_SUITE_P(CommitModes, ReadConnectionsTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "Group" : "Single"; });

}  // namespace
}  // namespace custodian::store
