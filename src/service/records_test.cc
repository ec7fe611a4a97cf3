// Records on the Interjet policy: billing lines and media with a `verified`
// anchor, purpose-bound listing, and erasure taking records along.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>

#include "service/vault.h"
#include "test_util.h"

namespace custodian::service {
namespace {

namespace fs = std::filesystem;
using testing_util::ReadFile;

const Actor kAdmin{"test", "admin"};
const Actor kAgent{"test", "agent"};
constexpr int64_t kMar1 = 1772323200000;  // 2026-03-01T00:00:00Z

class RecordsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("CUSTODIAN_MASTER_KEY");
    dir_ = tmp_.path() / "data";
    ASSERT_TRUE(Vault::Init(dir_.string()).ok());
    VaultOptions o;
    o.data_dir = dir_.string();
    o.clock = [] { return kMar1; };
    vault_ = std::move(Vault::Open(o)).value();
    ASSERT_TRUE(vault_
                    ->CreateTenant(kAdmin, "interjet",
                                   ReadFile(fs::path(CUSTODIAN_SOURCE_DIR) /
                                            "examples/policies/interjet.yaml"),
                                   "interjet.yaml")
                    .ok());
    auto r = vault_->AddSubject(kAdmin, "interjet", {{"user.name", "Asha Rao"}}, std::nullopt);
    ASSERT_TRUE(r.ok());
    subject_ = r->subject_id;
  }

  testing_util::TempDir tmp_;
  fs::path dir_;
  std::unique_ptr<Vault> vault_;
  std::string subject_;
};

TEST_F(RecordsTest, ListedOnlyForAPurposeThatMayUseTheKind) {
  auto bill = vault_->AddRecord(kAdmin, "interjet", subject_,
                                {"billing", kMar1, R"({"amount": 799, "plan": "100 Mbps"})"});
  ASSERT_TRUE(bill.ok()) << bill.status().ToString();
  auto media = vault_->AddRecord(kAdmin, "interjet", subject_,
                                 {"media", kMar1 + 1, R"({"photo": "router-17.jpg"})"});
  ASSERT_TRUE(media.ok());

  auto billing_view = vault_->ListRecords(kAdmin, "interjet", subject_,
                                          "essential.service.payment_processing", "");
  ASSERT_TRUE(billing_view.ok()) << billing_view.status().ToString();
  ASSERT_EQ(billing_view->records.size(), 1u);
  EXPECT_EQ(billing_view->records[0].id, *bill);
  EXPECT_EQ(billing_view->records[0].payload_json, R"({"amount": 799, "plan": "100 Mbps"})");
  EXPECT_EQ(billing_view->withheld, std::vector<std::string>{"media x1"});

  auto service_view = vault_->ListRecords(kAgent, "interjet", subject_, "essential.service", "");
  ASSERT_TRUE(service_view.ok());
  ASSERT_EQ(service_view->records.size(), 1u);
  EXPECT_EQ(service_view->records[0].kind, "media");
  EXPECT_EQ(service_view->withheld, std::vector<std::string>{"billing x1"});

  // "No kind" given as a default string_view (null data) means every kind too.
  auto any_kind = vault_->ListRecords(kAgent, "interjet", subject_, "essential.service",
                                      std::string_view());
  ASSERT_TRUE(any_kind.ok());
  EXPECT_EQ(any_kind->records.size(), 1u);
  EXPECT_EQ(any_kind->withheld, std::vector<std::string>{"billing x1"});

  auto only_media = vault_->ListRecords(kAgent, "interjet", subject_, "essential.service", "media");
  ASSERT_TRUE(only_media.ok());
  EXPECT_TRUE(only_media->withheld.empty());

  auto refused = vault_->ListRecords(kAgent, "interjet", subject_,
                                     "essential.service.payment_processing", "");
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
}

TEST_F(RecordsTest, AnchorEventsMustBeDeclaredByTheKind) {
  auto media = vault_->AddRecord(kAdmin, "interjet", subject_, {"media", kMar1, "{}"});
  ASSERT_TRUE(media.ok());
  ASSERT_TRUE(vault_->RecordEvent(kAdmin, "interjet", *media, "verified", kMar1 + 5).ok());
  auto list = vault_->ListRecords(kAgent, "interjet", subject_, "essential.service", "media");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->records[0].events.size(), 1u);
  EXPECT_EQ(list->records[0].events[0].first, "verified");
  EXPECT_EQ(list->records[0].events[0].second, kMar1 + 5);

  auto bill = vault_->AddRecord(kAdmin, "interjet", subject_, {"billing", kMar1, "{}"});
  Status s = vault_->RecordEvent(kAdmin, "interjet", *bill, "verified", kMar1);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "record kind 'billing' has no anchor event 'verified' (declared: none)");
  s = vault_->RecordEvent(kAdmin, "interjet", *media, "closed", kMar1);
  EXPECT_EQ(s.message(), "record kind 'media' has no anchor event 'closed' (declared: verified)");
  EXPECT_EQ(vault_->RecordEvent(kAdmin, "interjet", "rec_nope", "verified", kMar1).code(),
            StatusCode::kNotFound);
}

TEST_F(RecordsTest, BadRecordsChangeNothing) {
  struct Case {
    std::string subject, kind, json, message;
    StatusCode code;
  } cases[] = {
      {subject_, "payslip", "{}", "record kind 'payslip' is not declared under record_kinds in the policy",
       StatusCode::kInvalidArgument},
      {subject_, "billing", "{\"amount\": ", "the record data is not valid JSON; expected an object "
       "such as {\"amount\": 799}", StatusCode::kInvalidArgument},
      {subject_, "billing", "[1, 2]", "the record data must be a JSON object, found array",
       StatusCode::kInvalidArgument},
      {"sub_nobody", "billing", "{}", "subject 'sub_nobody' does not exist in tenant 'interjet'",
       StatusCode::kNotFound},
  };
  for (const auto& c : cases) {
    auto r = vault_->AddRecord(kAdmin, "interjet", c.subject, {c.kind, kMar1, c.json});
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_EQ(r.status().code(), c.code);
    EXPECT_EQ(r.status().message(), c.message);
  }
  auto list = vault_->ListRecords(kAdmin, "interjet", subject_, "essential.legal_obligation", "");
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->records.empty());
  EXPECT_TRUE(list->withheld.empty());
}

TEST_F(RecordsTest, ErasureShredsRecords) {
  auto bill = vault_->AddRecord(kAdmin, "interjet", subject_,
                                {"billing", kMar1, R"({"upi": "asha@okbank"})"});
  ASSERT_TRUE(bill.ok());
  std::string sealed;
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "custodian.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT payload FROM records WHERE id = ?", -1, &st, nullptr);
    sqlite3_bind_text(st, 1, bill->c_str(), -1, SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    sealed.assign(static_cast<const char*>(sqlite3_column_blob(st, 0)), sqlite3_column_bytes(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  ASSERT_TRUE(vault_->EraseSubject(kAdmin, "interjet", subject_).ok());
  auto list = vault_->ListRecords(kAdmin, "interjet", subject_,
                                  "essential.service.payment_processing", "");
  EXPECT_EQ(list.status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(vault_->store().Checkpoint().ok());
  std::string bytes = ReadFile(dir_ / "custodian.db") + ReadFile(dir_ / "custodian.db-wal");
  EXPECT_EQ(bytes.find(sealed.substr(sealed.size() - 32)), std::string::npos)
      << "the sealed record survived erasure";
  EXPECT_EQ(bytes.find("asha@okbank"), std::string::npos);
}

TEST_F(RecordsTest, PayloadMovedToAnotherRecordFailsIntegrity) {
  auto a = vault_->AddRecord(kAdmin, "interjet", subject_, {"billing", kMar1, R"({"amount": 1})"});
  auto b = vault_->AddRecord(kAdmin, "interjet", subject_, {"billing", kMar1, R"({"amount": 2})"});
  ASSERT_TRUE(a.ok() && b.ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "custodian.db").c_str(), &db), SQLITE_OK);
  std::string sql = "UPDATE records SET payload = (SELECT payload FROM records WHERE id = '" + *a +
                    "') WHERE id = '" + *b + "'";
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto list = vault_->ListRecords(kAdmin, "interjet", subject_,
                                  "essential.service.payment_processing", "");
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace custodian::service

namespace custodian::service {
namespace {

// Vault::MatchCall on Interjet's policy (no `call` record kind) and Intnet
// IQ's (which declares one).
TEST_F(RecordsTest, CallMatchingFlagsAndTheCallRecord) {
  ASSERT_TRUE(vault_->UpdateSubject(kAdmin, "interjet", subject_,
                                    {{"user.contact.phone_number", "088701 00100"}})
                  .ok());
  auto m = vault_->MatchCall(kAgent, "interjet", {"+91 88701 00100", "", "c1", 0},
                             "essential.service.operations.support");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->subjects.size(), 1u);
  EXPECT_EQ(m->subjects[0].id, subject_);
  EXPECT_FALSE(m->account_closed);
  // Interjet's consent purposes, at their declared defaults (opted out).
  ASSERT_FALSE(m->consents.empty());
  for (const auto& [purpose, granted] : m->consents) {
    EXPECT_EQ(purpose.rfind("marketing", 0), 0u) << purpose;
    EXPECT_FALSE(granted) << purpose;
  }
  EXPECT_FALSE(m->call_record.has_value());  // Interjet declares no `call` kind

  ASSERT_TRUE(vault_->CloseSubject(kAdmin, "interjet", subject_, kMar1).ok());
  auto closed = vault_->MatchCall(kAgent, "interjet", {"918870100100", "", "c2", 0},
                                  "essential.service.operations.support");
  ASSERT_TRUE(closed.ok());
  EXPECT_TRUE(closed->account_closed);

  auto nobody = vault_->MatchCall(kAgent, "interjet", {"+91 99999 00000", "", "c3", 0},
                                  "essential.service.operations.support");
  ASSERT_TRUE(nobody.ok());
  EXPECT_TRUE(nobody->subjects.empty());
  auto refused = vault_->MatchCall({"x", "marketing"}, "interjet", {"918870100100", "", "", 0},
                                   "essential.service.operations.support");
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(vault_->MatchCall(kAgent, "interjet", {"", "", "", 0}, "essential.service")
                .status()
                .message(),
            "the caller's number is empty");

  // Intnet IQ keeps the call as a record of kind `call`, at the call's time.
  ASSERT_TRUE(vault_
                  ->CreateTenant(kAdmin, "intnet",
                                 ReadFile(fs::path(CUSTODIAN_SOURCE_DIR) /
                                          "examples/policies/intnet-iq.yaml"),
                                 "intnet-iq.yaml")
                  .ok());
  auto budi = vault_->AddSubject(kAdmin, "intnet",
                                 {{"user.name", "Budi"},
                                  {"user.contact.phone_number", "+62 812-3456-7890"}},
                                 std::nullopt);
  ASSERT_TRUE(budi.ok());
  auto call = vault_->MatchCall(kAgent, "intnet", {"+6281234567890", "+6221555000", "v3:x", kMar1},
                                "essential.service.call_matching");
  ASSERT_TRUE(call.ok()) << call.status().ToString();
  ASSERT_TRUE(call->call_record.has_value());
  auto list = vault_->ListRecords(kAgent, "intnet", budi->subject_id,
                                  "essential.service.call_matching", "call");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->records.size(), 1u);
  EXPECT_EQ(list->records[0].id, *call->call_record);
  EXPECT_EQ(list->records[0].at_ms, kMar1);
  EXPECT_EQ(list->records[0].payload_json,
            R"({"direction":"inbound","call_id":"v3:x","callee":"+6221555000"})");
}

}  // namespace
}  // namespace custodian::service
