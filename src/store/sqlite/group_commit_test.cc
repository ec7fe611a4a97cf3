// Group commit (SqliteOptions::group_commit): concurrent transactions share
// physical commits, yet each Commit() returns only once its work is in the
// database file for every other connection to see; a transaction rolled back
// takes nothing of the others with it; the audit chain stays whole.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "store/sqlite/test_events.h"
#include "store/store.h"
#include "test_util.h"

namespace custodian::store {
namespace {

// Audit rows as another connection sees them: only what is committed.
int64_t CommittedAuditRows(const std::string& path) {
  sqlite3* db = nullptr;
  int64_t n = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM audit", -1, &st, nullptr);
    if (st != nullptr && sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (dir_.path() / "custodian.db").string();
    SqliteOptions o;
    o.group_commit = true;
    auto s = OpenSqliteStore(path_, o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  testing_util::TempDir dir_;
  std::string path_;
  std::unique_ptr<Store> store_;
};

TEST_F(GroupCommitTest, ACommitIsDurableWhenItReturns) {
  auto tx = store_->Begin(true);
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE((*tx)->AppendAudit(TestEvent("one")).ok());
  EXPECT_EQ(CommittedAuditRows(path_), 0);  // not yet committed
  ASSERT_TRUE((*tx)->Commit().ok());
  tx->reset();
  EXPECT_EQ(CommittedAuditRows(path_), 1);
  EXPECT_EQ(store_->AuditEventsCommitted(), 1);
}

TEST_F(GroupCommitTest, ARolledBackTransactionTakesNothingOfTheOthers) {
  {
    auto a = store_->Begin(true);
    ASSERT_TRUE((*a)->AppendAudit(TestEvent("a")).ok());
    ASSERT_TRUE((*a)->Commit().ok());
  }
  {
    auto b = store_->Begin(true);
    ASSERT_TRUE((*b)->AppendAudit(TestEvent("b")).ok());
    // destroyed without Commit: rolled back
  }
  {
    auto c = store_->Begin(true);
    ASSERT_TRUE((*c)->AppendAudit(TestEvent("c")).ok());
    ASSERT_TRUE((*c)->Commit().ok());
  }
  EXPECT_EQ(CommittedAuditRows(path_), 2);
  auto report = store_->VerifyAudit();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(report->events, 2);
}

TEST_F(GroupCommitTest, AnAbandonedTransactionLeavesNoWriteLockBehind) {
  {
    auto read = store_->Begin(false);
    ASSERT_TRUE(read.ok());
    ASSERT_TRUE((*read)->ListTenants().ok());
    // destroyed without Commit, as read-only work is
  }
  // Another process (here: another connection) can write at once.
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &other), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE; COMMIT;", nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(other);
  sqlite3_close(other);
}

TEST_F(GroupCommitTest, ConcurrentTransactionsAllLandOnOneWholeChain) {
  constexpr int kThreads = 8;
  constexpr int kEach = 150;
  std::atomic<int> committed{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto tx = store_->Begin(true);
        if (!tx.ok()) {
          ++failed;
          continue;
        }
        if (!(*tx)->AppendAudit(TestEvent("t" + std::to_string(t))).ok()) ++failed;
        if (i % 10 == 9) continue;  // rolled back
        if ((*tx)->Commit().ok()) {
          ++committed;
        } else {
          ++failed;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(committed.load(), kThreads * (kEach - kEach / 10));
  EXPECT_EQ(CommittedAuditRows(path_), committed.load());
  EXPECT_EQ(store_->AuditEventsCommitted(), committed.load());
  auto report = store_->VerifyAudit();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(report->events, committed.load());
  EXPECT_TRUE(store_->Checkpoint().ok());
}

// CommitThen: the callback runs once per transaction, on the committer
// thread, only when its work is visible to every other connection; many
// transactions from many threads, none waiting, all land on one chain.
TEST_F(GroupCommitTest, CommitThenCallsBackOnceEachWhenDurable) {
  constexpr int kThreads = 4, kEach = 50;
  std::mutex mu;
  std::vector<int64_t> seen_at_callback;  // committed rows another connection saw
  std::atomic<int> ok{0}, calls{0};
  std::vector<std::thread> threads;
  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<bool> on_caller_thread{false};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        auto tx = store_->Begin(true);
        ASSERT_TRUE(tx.ok());
        ASSERT_TRUE((*tx)->AppendAudit(TestEvent("async")).ok());
        (*tx)->CommitThen([&, mine = std::this_thread::get_id()](Status st) {
          if (std::this_thread::get_id() == mine || std::this_thread::get_id() == caller) {
            on_caller_thread = true;
          }
          ++calls;
          if (st.ok()) ++ok;
          std::lock_guard<std::mutex> g(mu);
          seen_at_callback.push_back(CommittedAuditRows(path_));
        });
      }
    });
  }
  for (auto& t : threads) t.join();
  store_->WaitForCommitCallbacks();
  EXPECT_EQ(calls.load(), kThreads * kEach);
  EXPECT_EQ(ok.load(), kThreads * kEach);
  EXPECT_FALSE(on_caller_thread.load()) << "callbacks run on the committer thread";
  // Each callback saw at least as many committed events as callbacks before
  // it ran: nothing was reported before it was durable.
  std::lock_guard<std::mutex> g(mu);
  for (std::size_t i = 0; i < seen_at_callback.size(); ++i) {
    EXPECT_GE(seen_at_callback[i], static_cast<int64_t>(i + 1)) << i;
  }
  EXPECT_EQ(CommittedAuditRows(path_), kThreads * kEach);
  EXPECT_EQ(store_->AuditEventsCommitted(), kThreads * kEach);
}

// SubmitWrite: jobs run on the committer thread, each in its own logical
// transaction; a failing job reports its error and leaves nothing, the others
// commit (together) before their callbacks run.
TEST_F(GroupCommitTest, SubmitWriteRunsJobsOnTheCommitterAndFailsThemAlone) {
  std::mutex mu;
  std::vector<std::pair<int, Status>> results;
  std::vector<int64_t> committed_at_callback;
  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<bool> job_on_caller{false};
  for (int i = 0; i < 20; ++i) {
    store_->SubmitWrite(
        [&, i](Transaction& tx) -> Status {
          if (std::this_thread::get_id() == caller) job_on_caller = true;
          RETURN_IF_ERROR(tx.AppendAudit(TestEvent("job")).status());
          if (i % 5 == 3) return Status::InvalidArgument("job " + std::to_string(i) + " refused");
          return Status::Ok();
        },
        [&, i](Status st) {
          std::lock_guard<std::mutex> g(mu);
          results.emplace_back(i, st);
          committed_at_callback.push_back(CommittedAuditRows(path_));
        });
  }
  store_->WaitForCommitCallbacks();
  EXPECT_FALSE(job_on_caller.load());
  std::lock_guard<std::mutex> g(mu);
  ASSERT_EQ(results.size(), 20u);
  int ok = 0;
  for (const auto& [i, st] : results) {
    if (i % 5 == 3) {
      EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << i;
      EXPECT_EQ(st.message(), "job " + std::to_string(i) + " refused");
    } else {
      EXPECT_TRUE(st.ok()) << i << ": " << st.ToString();
      ++ok;
    }
  }
  EXPECT_EQ(ok, 16);
  // The refused jobs' events were rolled back; the others are all durable.
  EXPECT_EQ(CommittedAuditRows(path_), 16);
  // Each success was reported only once durable: by then, at least as many
  // events were committed as successes had been reported.
  int64_t reported = 0;
  for (std::size_t k = 0; k < results.size(); ++k) {
    if (!results[k].second.ok()) continue;
    ++reported;
    EXPECT_GE(committed_at_callback[k], reported) << k;
  }
}

// Without group commit CommitThen is Commit, and calls back at once.
TEST(CommitThenTest, WithoutGroupCommitItCallsBackBeforeReturning) {
  testing_util::TempDir dir;
  auto s = OpenSqliteStore((dir.path() / "custodian.db").string());
  ASSERT_TRUE(s.ok());
  auto tx = (*s)->Begin(true);
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE((*tx)->AppendAudit(TestEvent("sync")).ok());
  bool called = false;
  (*tx)->CommitThen([&](Status st) {
    EXPECT_TRUE(st.ok()) << st.ToString();
    called = true;
  });
  EXPECT_TRUE(called);
  EXPECT_EQ(CommittedAuditRows((dir.path() / "custodian.db").string()), 1);
}

}  // namespace
}  // namespace custodian::store
