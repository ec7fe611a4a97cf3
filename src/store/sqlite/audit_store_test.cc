// The store's audit reads and checkpoint tables (migration 6): filtered,
// tenant-scoped pages; the predecessor's hash; checkpoints one per event;
// and a version-5 file migrating with its chain intact.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

#include "store/store.h"
#include "test_util.h"

namespace custodian::store {
namespace {

class AuditStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (dir_.path() / "custodian.db").string();
    Open();
    auto tx = Begin();
    for (int i = 1; i <= 6; ++i) {
      audit::Event e;
      e.time_ms = 1000 * i;
      e.tenant = i % 3 == 0 ? "beta" : "alpha";
      e.actor = i % 2 ? "op:1" : "key:2";
      e.action = i == 4 ? "record.import" : "subject.show";
      e.subject = i == 4 ? "" : "sub_" + std::to_string(i);
      if (i == 4) e.subjects = {"sub_1", "sub_9"};
      e.purpose = "essential.service";
      e.outcome = "ok";
      ASSERT_TRUE(tx->AppendAudit(e).ok());
    }
    ASSERT_TRUE(tx->Commit().ok());
  }
  void Open() {
    store_.reset();
    auto s = OpenSqliteStore(path_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  std::unique_ptr<Transaction> Begin() { return std::move(store_->Begin(true)).value(); }
  std::vector<int64_t> Seqs(const AuditFilter& f) {
    auto tx = Begin();
    auto rows = tx->ListAudit(f);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    std::vector<int64_t> out;
    for (const auto& r : *rows) out.push_back(r.event.seq);
    return out;
  }

  testing_util::TempDir dir_;
  std::string path_;
  std::unique_ptr<Store> store_;
};

TEST_F(AuditStoreTest, ListAuditFiltersWithinTheTenant) {
  AuditFilter f;
  f.tenant = "alpha";
  EXPECT_EQ(Seqs(f), (std::vector<int64_t>{1, 2, 4, 5}));
  f.subject = "sub_1";  // its own event and the batch that lists it
  EXPECT_EQ(Seqs(f), (std::vector<int64_t>{1, 4}));
  f.subject = "sub_3";  // beta's subject
  EXPECT_TRUE(Seqs(f).empty());
  f = {};
  f.actor = "key:2";
  EXPECT_EQ(Seqs(f), (std::vector<int64_t>{2, 4, 6}));
  f = {};
  f.action = "record.import";
  EXPECT_EQ(Seqs(f), (std::vector<int64_t>{4}));
  f = {};
  f.from_ms = 2000;
  f.to_ms = 5000;
  EXPECT_EQ(Seqs(f), (std::vector<int64_t>{2, 3, 4}));
  f = {};
  f.after_seq = 2;
  f.to_seq = 5;
  f.limit = 2;
  EXPECT_EQ(Seqs(f), (std::vector<int64_t>{3, 4}));
}

TEST_F(AuditStoreTest, RowsCarryTheirPredecessorsHash) {
  auto tx = Begin();
  AuditFilter f;
  f.tenant = "beta";
  f.with_prev = true;
  auto rows = tx->ListAudit(f);
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].prev_hash, **tx->AuditHash(2));
  EXPECT_EQ((*rows)[1].prev_hash, **tx->AuditHash(5));
  auto range = tx->AuditSeqRange("beta", std::nullopt, std::nullopt);
  EXPECT_EQ(**range, (std::pair<int64_t, int64_t>{3, 6}));
  EXPECT_FALSE(tx->AuditSeqRange("", 7000, std::nullopt)->has_value());
}

TEST_F(AuditStoreTest, OneCheckpointPerEvent) {
  auto tx = Begin();
  audit::Checkpoint cp{3, std::string(32, 'h'), 9, "abcd", std::string(64, 's')};
  ASSERT_TRUE(tx->InsertAuditCheckpoint(cp).ok());
  EXPECT_EQ(tx->InsertAuditCheckpoint(cp).code(), StatusCode::kAlreadyExists);
  cp.seq = 5;
  ASSERT_TRUE(tx->InsertAuditCheckpoint(cp).ok());
  EXPECT_EQ(tx->ListAuditCheckpoints(0, 0, 10)->size(), 2u);
  EXPECT_EQ(tx->ListAuditCheckpoints(3, 0, 10)->size(), 1u);
  EXPECT_EQ(tx->ListAuditCheckpoints(0, 4, 10)->size(), 1u);
  EXPECT_EQ((*tx->LastAuditCheckpoint())->seq, 5);
  EXPECT_FALSE(tx->GetAuditCheckpoint(4)->has_value());
  EXPECT_FALSE(tx->GetAuditKey()->has_value());
}

TEST_F(AuditStoreTest, AVersionSixFileMigratesWithItsChain) {
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "DROP TABLE audit_keys; DROP TABLE audit_checkpoints; "
                         "DROP INDEX audit_by_tenant; "
                         "DROP INDEX records_by_kind; DROP INDEX subjects_closed; "
                         "DROP TABLE retention_holds; DROP TABLE retention_aggregates; "
                         "DROP TABLE retention_lease; DROP TABLE retention_sweeps; "
                         "DROP TABLE disclosures; DROP TABLE disclosure_subjects; DROP TABLE shredded; "
                         "ALTER TABLE subject_index DROP COLUMN subject_rowid; "
                         "ALTER TABLE api_keys DROP COLUMN rate_per_second; "
                         "ALTER TABLE api_keys DROP COLUMN rate_burst; "
                         "DROP TABLE portal_sessions; "
                         "DELETE FROM schema_migrations WHERE version >= 7;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
  Open();
  auto report = store_->VerifyAudit();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok);
  EXPECT_EQ(report->events, 6);
  AuditFilter f;
  f.tenant = "beta";
  EXPECT_EQ(Seqs(f), (std::vector<int64_t>{3, 6}));
}

}  // namespace
}  // namespace custodian::store
