// The store's bulk-import support: progress rows and insert-if-absent records.
#include <gtest/gtest.h>

#include "store/store.h"
#include "test_util.h"

namespace custodian::store {
namespace {

class ImportStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = OpenSqliteStore((dir_.path() / "custodian.db").string());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    auto tx = Begin();
    ASSERT_TRUE(tx->InsertTenant({"alpha", "wrapped-a", 1, "yaml", "1", 1}).ok());
    SubjectRow r;
    r.tenant = "alpha";
    r.id = "sub_1";
    r.wrapped_key = "k";
    r.fields = "f";
    ASSERT_TRUE(tx->PutSubject(r).ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  std::unique_ptr<Transaction> Begin() {
    auto tx = store_->Begin(true);
    EXPECT_TRUE(tx.ok()) << tx.status().ToString();
    return std::move(tx).value();
  }
  testing_util::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(ImportStoreTest, ProgressRoundTripsAndIsReplaced) {
  ImportRow row;
  row.tenant = "alpha";
  row.kind = "subjects";
  row.digest = std::string("\x00\x01\xff", 3);
  row.offset = 1234;
  row.line = 17;
  row.rows = 15;
  row.added = 10;
  row.updated = 2;
  row.unchanged = 1;
  row.rejected = 2;
  row.rejects_bytes = 99;
  row.started_ms = 5;
  row.updated_ms = 6;
  {
    auto tx = Begin();
    auto none = tx->GetImport("alpha", "subjects", row.digest);
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());
    ASSERT_TRUE(tx->PutImport(row).ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  row.offset = 5000;
  row.done = true;
  {
    auto tx = Begin();
    ASSERT_TRUE(tx->PutImport(row).ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  auto tx = Begin();
  auto got = tx->GetImport("alpha", "subjects", row.digest);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->offset, 5000u);
  EXPECT_EQ((*got)->line, 17u);
  EXPECT_EQ((*got)->rows, 15);
  EXPECT_EQ((*got)->added, 10);
  EXPECT_EQ((*got)->updated, 2);
  EXPECT_EQ((*got)->unchanged, 1);
  EXPECT_EQ((*got)->rejected, 2);
  EXPECT_EQ((*got)->rejects_bytes, 99u);
  EXPECT_TRUE((*got)->done);
  // Scoped by tenant and kind.
  auto other = tx->GetImport("alpha", "records:billing", row.digest);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->has_value());
}

TEST_F(ImportStoreTest, ProgressIsRolledBackWithItsTransaction) {
  ImportRow row;
  row.tenant = "alpha";
  row.kind = "subjects";
  row.digest = "d";
  {
    auto tx = Begin();
    ASSERT_TRUE(tx->PutImport(row).ok());
  }  // destroyed uncommitted
  auto tx = Begin();
  auto got = tx->GetImport("alpha", "subjects", "d");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
}

TEST_F(ImportStoreTest, InsertRecordIfAbsentInsertsOnce) {
  RecordRow rec{"alpha", "rec_1", "sub_1", "billing", 10, 11, "sealed"};
  auto tx = Begin();
  auto first = tx->InsertRecordIfAbsent(rec);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(*first);
  rec.payload = "other";
  auto second = tx->InsertRecordIfAbsent(rec);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(*second);
  auto got = tx->GetRecord("alpha", "rec_1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->payload, "sealed");
}

}  // namespace
}  // namespace custodian::store
