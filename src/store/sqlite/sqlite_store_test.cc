#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

#include "store/store.h"
#include "test_util.h"

namespace custodian::store {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() / "custodian.db";
    auto s = OpenSqliteStore(path_.string());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    auto tx = Begin();
    ASSERT_TRUE(tx->InsertTenant({"alpha", "wrapped-a", 1, "yaml", "1", 1}).ok());
    ASSERT_TRUE(tx->InsertTenant({"beta", "wrapped-b", 1, "yaml", "1", 1}).ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  std::unique_ptr<Transaction> Begin() {
    auto tx = store_->Begin(true);
    EXPECT_TRUE(tx.ok()) << tx.status().ToString();
    return std::move(tx).value();
  }
  SubjectRow Subject(const std::string& tenant, const std::string& id, const std::string& ext) {
    SubjectRow r;
    r.tenant = tenant;
    r.id = id;
    r.external_digest = ext;
    r.wrapped_key = "key-" + id;
    r.fields = "fields-" + id;
    r.created_ms = r.updated_ms = 10;
    return r;
  }
  audit::Event Ev(const std::string& action) {
    audit::Event e;
    e.time_ms = 5;
    e.tenant = "alpha";
    e.actor = "test";
    e.action = action;
    e.outcome = "ok";
    return e;
  }

  testing_util::TempDir dir_;
  std::filesystem::path path_;
  std::unique_ptr<Store> store_;
};

TEST_F(SqliteStoreTest, DuplicateTenantIsAlreadyExists) {
  auto tx = Begin();
  Status s = tx->InsertTenant({"alpha", "x", 1, "y", "1", 1});
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(s.message(), "tenant 'alpha' already exists");
}

TEST_F(SqliteStoreTest, SubjectsAndIndexAreScopedByTenant) {
  auto tx = Begin();
  ASSERT_TRUE(tx->PutSubject(Subject("alpha", "s1", "ext")).ok());
  ASSERT_TRUE(tx->PutSubject(Subject("beta", "s1", "ext")).ok());  // same id and external id
  ASSERT_TRUE(tx->ReplaceIndex("alpha", "s1", {{"phone", "D"}}).ok());
  ASSERT_TRUE(tx->ReplaceIndex("beta", "s1", {{"phone", "D"}}).ok());
  ASSERT_TRUE(tx->Commit().ok());

  tx = Begin();
  auto a = tx->GetSubject("alpha", "s1");
  ASSERT_TRUE(a.ok() && a->has_value());
  EXPECT_EQ((*a)->wrapped_key, "key-s1");
  EXPECT_EQ(*tx->CountSubjects("alpha"), 1);
  EXPECT_EQ(*tx->CountSubjects("gamma"), 0);
  EXPECT_EQ(tx->FindSubjectsByIndex("alpha", "phone", "D")->size(), 1u);
  EXPECT_TRUE(tx->FindSubjectsByIndex("gamma", "phone", "D")->empty());
  ASSERT_TRUE(tx->EraseSubject("alpha", "s1", 20).ok());
  EXPECT_TRUE(tx->FindSubjectsByIndex("alpha", "phone", "D")->empty());
  EXPECT_EQ(tx->FindSubjectsByIndex("beta", "phone", "D")->size(), 1u);  // untouched
  auto erased = tx->GetSubject("alpha", "s1");
  EXPECT_EQ((*erased)->state, SubjectState::kErased);
  EXPECT_TRUE((*erased)->wrapped_key.empty());
  EXPECT_TRUE((*erased)->fields.empty());
  EXPECT_EQ(tx->EraseSubject("alpha", "nobody", 20).code(), StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, ExternalIdIsUniquePerTenant) {
  auto tx = Begin();
  ASSERT_TRUE(tx->PutSubject(Subject("alpha", "s1", "ext")).ok());
  EXPECT_EQ(tx->PutSubject(Subject("alpha", "s2", "ext")).code(), StatusCode::kAlreadyExists);
  auto found = tx->FindSubjectByExternalId("alpha", "ext");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->id, "s1");
  EXPECT_FALSE(tx->FindSubjectByExternalId("beta", "ext")->has_value());
}

TEST_F(SqliteStoreTest, UncommittedTransactionRollsBack) {
  {
    auto tx = Begin();
    ASSERT_TRUE(tx->PutSubject(Subject("alpha", "s1", "")).ok());
    ASSERT_TRUE(tx->AppendAudit(Ev("subject.add")).ok());
  }
  {
    auto tx = Begin();
    EXPECT_FALSE(tx->GetSubject("alpha", "s1")->has_value());
  }
  auto report = store_->VerifyAudit();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->events, 0);
}

TEST_F(SqliteStoreTest, AuditChainsAcrossTransactionsAndVerifies) {
  for (int i = 0; i < 3; ++i) {
    auto tx = Begin();
    auto seq = tx->AppendAudit(Ev("a" + std::to_string(i)));
    ASSERT_TRUE(seq.ok());
    EXPECT_EQ(*seq, i + 1);
    ASSERT_TRUE(tx->Commit().ok());
  }
  auto report = store_->VerifyAudit();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(report->events, 3);
}

TEST_F(SqliteStoreTest, FailingAuditInsertFailsTheAppend) {
  {
    testing_util::FailAuditAppends(path_);
  }
  auto tx = Begin();
  auto seq = tx->AppendAudit(Ev("x"));
  ASSERT_FALSE(seq.ok());
  EXPECT_EQ(seq.status().code(), StatusCode::kUnavailable);
}

TEST_F(SqliteStoreTest, NewerSchemaIsRefusedUntouched) {
  store_.reset();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_migrations VALUES (99, 0)", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto before = testing_util::ReadFile(path_);
  auto s = OpenSqliteStore(path_.string());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("newer custodian (schema version 99"), std::string::npos)
      << s.status().message();
  EXPECT_EQ(testing_util::ReadFile(path_), before);
}

}  // namespace
}  // namespace custodian::store

namespace custodian::store {
namespace {

// FindSubjectRowsByIndex reads each subject by the rowid its index entry
// keeps (schema 11); the rowid is only a hint: when it is missing or names
// another row (VACUUM may renumber rowids), the subject is found by its id.
TEST_F(SqliteStoreTest, IndexRowsAreTheSubjectsEvenWhenTheRowidHintIsWrong) {
  {
    auto tx = Begin();
    for (const char* id : {"s1", "s2", "s3"}) {
      ASSERT_TRUE(tx->PutSubject(Subject("alpha", id, "")).ok());
    }
    ASSERT_TRUE(tx->PutSubject(Subject("beta", "s1", "")).ok());
    for (const char* id : {"s1", "s2"}) {
      ASSERT_TRUE(tx->ReplaceIndex("alpha", id, {{"phone", "shared"}, {"email", id}}).ok());
    }
    ASSERT_TRUE(tx->ReplaceIndex("beta", "s1", {{"phone", "shared"}}).ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  auto ids = [&](const char* tenant, const char* category, const char* digest) {
    auto tx = Begin();
    auto rows = tx->FindSubjectRowsByIndex(tenant, category, digest);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    std::string out;
    for (const SubjectRow& r : *rows) {
      EXPECT_EQ(r.tenant, tenant);
      EXPECT_EQ(r.fields, "fields-" + r.id);
      out += r.id + " ";
    }
    return out;
  };
  EXPECT_EQ(ids("alpha", "phone", "shared"), "s1 s2 ");
  EXPECT_EQ(ids("alpha", "email", "s2"), "s2 ");
  EXPECT_EQ(ids("beta", "phone", "shared"), "s1 ");
  EXPECT_EQ(ids("alpha", "phone", "nobody"), "");
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  // Every entry's hint points at its subject's row after ReplaceIndex.
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT count(*) FROM subject_index i JOIN subjects s "
                               "ON s.rowid = i.subject_rowid AND s.tenant = i.tenant "
                               "AND s.id = i.subject",
                               -1, &st, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(st, 0), 5);
  sqlite3_finalize(st);
  // Wrong hints: s1's points at s3's row, s2's is gone, beta's s1 points at
  // alpha's s1.
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE subject_index SET subject_rowid = "
                         "(SELECT rowid FROM subjects WHERE tenant = 'alpha' AND id = 's3') "
                         "WHERE tenant = 'alpha' AND subject = 's1'; "
                         "UPDATE subject_index SET subject_rowid = NULL WHERE subject = 's2'; "
                         "UPDATE subject_index SET subject_rowid = "
                         "(SELECT rowid FROM subjects WHERE tenant = 'alpha' AND id = 's1') "
                         "WHERE tenant = 'beta';",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto s = OpenSqliteStore(path_.string());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  store_ = std::move(s).value();
  EXPECT_EQ(ids("alpha", "phone", "shared"), "s1 s2 ");
  EXPECT_EQ(ids("alpha", "email", "s2"), "s2 ");
  EXPECT_EQ(ids("beta", "phone", "shared"), "s1 ");
}

}  // namespace
}  // namespace custodian::store

namespace custodian::store {
namespace {

// SqliteOptions::checkpoint_pages: the writer copies the WAL into the database
// file once the WAL holds that many pages, and not before; a count under 1 is
// refused before any file is made.
TEST(SqliteCheckpointTest, TheWriterCheckpointsOnceTheWalHoldsThatManyPages) {
  testing_util::TempDir dir;
  auto written = [&](int pages) -> std::uintmax_t {
    const auto path = dir.path() / ("store-" + std::to_string(pages) + ".db");
    SqliteOptions o;
    o.checkpoint_pages = pages;
    auto s = OpenSqliteStore(path.string(), o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (!s.ok()) return 0;
    {
      auto tx = (*s)->Begin(true);
      EXPECT_TRUE((*tx)->InsertTenant({"alpha", "wrapped-a", 1, "yaml", "1", 1}).ok());
      EXPECT_TRUE((*tx)->Commit().ok());
    }
    for (int i = 0; i < 40; ++i) {  // 40 commits of ~8 KiB: ~100 pages of WAL
      auto tx = (*s)->Begin(true);
      SubjectRow r;
      r.tenant = "alpha";
      r.id = "s" + std::to_string(i);
      r.external_digest = "ext" + std::to_string(i);
      r.wrapped_key = "key";
      r.fields = std::string(8192, static_cast<char>('a' + i % 26));
      r.created_ms = r.updated_ms = 10;
      EXPECT_TRUE((*tx)->PutSubject(r).ok());
      EXPECT_TRUE((*tx)->Commit().ok());
    }
    // Measured with the store open: closing it checkpoints whatever is left.
    return std::filesystem::file_size(path);
  };
  const std::uintmax_t often = written(64);
  const std::uintmax_t rarely = written(16384);
  EXPECT_GT(often, rarely + 40 * 8192) << often << " vs " << rarely;

  for (int bad : {0, -5}) {
    const auto path = dir.path() / "never.db";
    SqliteOptions o;
    o.checkpoint_pages = bad;
    auto s = OpenSqliteStore(path.string(), o);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(s.status().message(),
              "checkpoint_pages must be 1 or more, not " + std::to_string(bad));
    EXPECT_FALSE(std::filesystem::exists(path));
  }
}

}  // namespace
}  // namespace custodian::store
