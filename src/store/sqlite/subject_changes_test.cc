// Transaction::SubjectsUnchangedSince on the SQLite store: true after commits
// that only append audit events, add records or touch credentials; false after
// any write to what a subject read depends on (subjects, their index entries,
// consents, tenants), whether this store committed it, wrote it earlier in the
// same transaction, or another connection committed it; false in a read
// transaction. A lookup skips its re-read only when it is true.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "store/sqlite/test_events.h"
#include "store/store.h"
#include "test_util.h"

namespace custodian::store {
namespace {

SubjectRow Subject(const std::string& id) {
  SubjectRow s;
  s.tenant = "alpha";
  s.id = id;
  s.wrapped_key = "wrapped";
  s.fields = "sealed";
  s.created_ms = 1;
  s.updated_ms = 1;
  return s;
}

// Runs SQL on a connection of its own, as another process would.
void RunElsewhere(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err != nullptr ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

class SubjectChangesTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    path_ = (dir_.path() / "custodian.db").string();
    SqliteOptions o;
    o.group_commit = GetParam();
    auto s = OpenSqliteStore(path_, o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    ASSERT_TRUE(Write([](Transaction& tx) {
      RETURN_IF_ERROR(tx.InsertTenant({"alpha", "wrapped", 1, "yaml", "1", 1}));
      RETURN_IF_ERROR(tx.PutSubject(Subject("s1")));
      RETURN_IF_ERROR(tx.ReplaceIndex("alpha", "s1", {{"phone", "d1"}}));
      ApiKeyRow key;
      key.tenant = "alpha";
      key.id = "k1";
      key.role = "agent";
      key.digest = "digest";
      return tx.InsertApiKey(key);
    }).ok());
  }
  // Runs `job` in a write transaction and commits it.
  Status Write(const std::function<Status(Transaction&)>& job) {
    auto tx = store_->Begin(true);
    if (!tx.ok()) return tx.status();
    RETURN_IF_ERROR(job(**tx));
    return (*tx)->Commit();
  }
  // What a write transaction begun now answers for `token`.
  bool UnchangedSince(uint64_t token) {
    auto tx = store_->Begin(true);
    EXPECT_TRUE(tx.ok());
    return tx.ok() && (*tx)->SubjectsUnchangedSince(token);
  }
  testing_util::TempDir dir_;
  std::string path_;
  std::unique_ptr<Store> store_;
};

TEST_P(SubjectChangesTest, AuditEventsRecordsAndKeyUseDoNotChangeSubjectReads) {
  const uint64_t token = store_->SubjectReadToken();
  ASSERT_TRUE(Write([](Transaction& tx) {
    RETURN_IF_ERROR(tx.AppendAudit(TestEvent("lookup")).status());
    RecordRow r;
    r.tenant = "alpha";
    r.id = "rec1";
    r.subject = "s1";
    r.kind = "call";
    r.payload = "sealed";
    RETURN_IF_ERROR(tx.InsertRecordIfAbsent(r).status());
    RETURN_IF_ERROR(tx.PutRecordEvent("alpha", "rec1", {"ended", 2}));
    return tx.TouchApiKey("alpha", "k1", 2);
  }).ok());
  EXPECT_TRUE(UnchangedSince(token));
  EXPECT_EQ(store_->SubjectReadToken(), token);
}

TEST_P(SubjectChangesTest, EveryWriteASubjectReadDependsOnChangesThem) {
  ConsentRow consent;
  consent.tenant = "alpha";
  consent.subject = "s1";
  consent.purpose = "marketing";
  consent.state = ConsentState::kGranted;
  const std::vector<std::pair<std::string, std::function<Status(Transaction&)>>> writes = {
      {"PutSubject", [](Transaction& tx) { return tx.PutSubject(Subject("s2")); }},
      {"ReplaceIndex",
       [](Transaction& tx) { return tx.ReplaceIndex("alpha", "s1", {{"phone", "d2"}}); }},
      {"PutConsent", [&](Transaction& tx) { return tx.PutConsent(consent); }},
      {"DeleteIndexEntries",
       [](Transaction& tx) { return tx.DeleteIndexEntries("alpha", "s1", {"phone"}); }},
      {"InsertTenant",
       [](Transaction& tx) { return tx.InsertTenant({"beta", "wrapped", 1, "yaml", "1", 1}); }},
      {"EraseSubject", [](Transaction& tx) { return tx.EraseSubject("alpha", "s2", 3); }},
      {"ShredSubject", [](Transaction& tx) { return tx.ShredSubject("alpha", "s1", 3); }},
  };
  for (const auto& [name, write] : writes) {
    SCOPED_TRACE(name);
    const uint64_t token = store_->SubjectReadToken();
    ASSERT_TRUE(UnchangedSince(token));
    ASSERT_TRUE(Write(write).ok());
    EXPECT_FALSE(UnchangedSince(token));
    EXPECT_TRUE(UnchangedSince(store_->SubjectReadToken()));  // a token taken after it
  }
}

TEST_P(SubjectChangesTest, AWriteEarlierInTheTransactionChangesThem) {
  const uint64_t token = store_->SubjectReadToken();
  auto tx = store_->Begin(true);
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE((*tx)->SubjectsUnchangedSince(token));
  ASSERT_TRUE((*tx)->PutSubject(Subject("s2")).ok());
  EXPECT_FALSE((*tx)->SubjectsUnchangedSince(token));
}

TEST_P(SubjectChangesTest, AWriteRolledBackStillCountsUntilTheNextTransaction) {
  // Rolled back, the write changed nothing, but telling so is not worth it:
  // the only cost of a false "changed" is a re-read.
  const uint64_t token = store_->SubjectReadToken();
  {
    auto tx = store_->Begin(true);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE((*tx)->PutSubject(Subject("s2")).ok());
  }
  EXPECT_FALSE(UnchangedSince(token));
}

TEST_P(SubjectChangesTest, AnotherConnectionsCommitChangesThem) {
  const uint64_t token = store_->SubjectReadToken();
  ASSERT_TRUE(UnchangedSince(token));
  RunElsewhere(path_, "DELETE FROM subject_index WHERE subject = 's1'");
  EXPECT_FALSE(UnchangedSince(token));
  // What another process wrote cannot be told apart: even its audit appends
  // count.
  const uint64_t later = store_->SubjectReadToken();
  ASSERT_TRUE(UnchangedSince(later));
  RunElsewhere(path_, "UPDATE api_keys SET last_used_ms = 5");
  EXPECT_FALSE(UnchangedSince(later));
}

TEST_P(SubjectChangesTest, AReadTransactionCannotTell) {
  const uint64_t token = store_->SubjectReadToken();
  auto tx = store_->Begin(false);
  ASSERT_TRUE(tx.ok());
  EXPECT_FALSE((*tx)->SubjectsUnchangedSince(token));
}

INSTANTIATE_TEST_SUITE_P(CommitModes, SubjectChangesTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "Group" : "Single";
                         });

}  // namespace
}  // namespace custodian::store
