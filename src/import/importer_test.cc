// RunImport against a real vault in a temporary directory, on small CSVs.
#include "import/importer.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "audit/event.h"
#include "service/vault.h"
#include "audit_util.h"
#include "test_util.h"

namespace custodian::import {
namespace {

using testing_util::ReadFile;
using testing_util::WriteFile;

constexpr char kMap[] =
    "columns:\n  id: external_id\n  name: user.name\n  phone: user.contact.phone_number\n"
    "  email: user.contact.email\n";

class ImporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = (dir_.path() / "data").string();
    ASSERT_TRUE(service::Vault::Init(data_).ok());
    service::VaultOptions o;
    o.data_dir = data_;
    auto v = service::Vault::Open(o);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    vault_ = std::move(v).value();
    std::string policy = ReadFile(std::string(CUSTODIAN_SOURCE_DIR) +
                                  "/examples/policies/interjet.yaml");
    ASSERT_TRUE(vault_->CreateTenant({"test", "admin"}, "interjet", policy, "interjet.yaml").ok());
    WriteFile(dir_.path() / "map.yaml", kMap);
  }

  Result<ImportSummary> Import(const std::string& csv, const std::string& map = kMap,
                               ImportKind kind = ImportKind::kSubjects) {
    WriteFile(dir_.path() / "in.csv", csv);
    WriteFile(dir_.path() / "map.yaml", map);
    ImportOptions o;
    o.kind = kind;
    o.tenant = "interjet";
    o.csv_path = (dir_.path() / "in.csv").string();
    o.mapping_path = (dir_.path() / "map.yaml").string();
    o.record_kind = "billing";
    o.batch_rows = 2;
    o.actor = {"test", "admin"};
    return RunImport(*vault_, o);
  }

  std::string Rejects() { return ReadFile(dir_.path() / "in.csv.rejects.csv"); }

  // The fields a support agent sees of the subject with this email.
  std::map<std::string, std::string> ByEmail(const std::string& email) {
    auto found = vault_->Lookup({"test", "admin"}, "interjet", {"email", email},
                                "essential.service.operations.support");
    EXPECT_TRUE(found.ok()) << found.status().ToString();
    std::map<std::string, std::string> out;
    if (!found.ok() || found->size() != 1) return out;
    for (const auto& f : found->front().fields) out[f.category] = f.value;
    return out;
  }

  testing_util::TempDir dir_;
  std::string data_;
  std::unique_ptr<service::Vault> vault_;
};

void ExpectCounts(const ImportSummary& s, int64_t rows, int64_t added, int64_t updated,
                  int64_t unchanged, int64_t rejected) {
  EXPECT_EQ(s.counts.rows, rows);
  EXPECT_EQ(s.counts.added, added);
  EXPECT_EQ(s.counts.updated, updated);
  EXPECT_EQ(s.counts.unchanged, unchanged);
  EXPECT_EQ(s.counts.rejected, rejected);
}

TEST_F(ImporterTest, QuotingBomCrlfAndEmptyValues) {
  auto s = Import(
      "\xEF\xBB\xBFid,name,phone,email\r\n"
      "c1,\"Rao, Asha\",+91 88701 00100,asha@example.in\r\n"
      "c2,\"Budi \"\"B\"\"\nSantoso\",,budi@example.id\r\n"
      "c3,Ravi,,\r\n");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ExpectCounts(*s, 3, 3, 0, 0, 0);
  auto asha = ByEmail("asha@example.in");
  EXPECT_EQ(asha["user.name"], "Rao, Asha");
  EXPECT_EQ(asha["user.contact.phone_number"], "+918870100100");
  auto budi = ByEmail("budi@example.id");
  EXPECT_EQ(budi["user.name"], "Budi \"B\"\nSantoso");
  EXPECT_EQ(budi.count("user.contact.phone_number"), 0u);  // empty = absent
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "in.csv.rejects.csv"));
}

TEST_F(ImporterTest, BadRowsGoToTheRejectsFileWithoutStoppingTheImport) {
  auto s = Import(
      "id,name,phone,email\n"
      "c1,Asha,+91 88701 00100,asha@example.in\n"
      "c2,\"Two\nlines\",12345,x@example.in\n"
      "c3,Ravi,,not-an-email\n"
      "c4,Too,many,fields,here\n"
      ",NoId,,n@example.in\n"
      "c5,Budi,,budi@example.id\n");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ExpectCounts(*s, 6, 2, 0, 0, 4);
  EXPECT_EQ(Rejects(),
            "line,column,reason,id,name,phone,email\r\n"
            "3,phone,not a valid phone number: not a valid number in its country's numbering "
            "plan,c2,\"Two\nlines\",12345,x@example.in\r\n"
            "5,email,not a valid email address: expected exactly one '@',c3,Ravi,,not-an-email\r\n"
            "6,,\"line 6: expected 4 fields (as in the header), found 5\","
            "\"c4,Too,many,fields,here\",,,\r\n"
            "7,id,the external id is empty,,NoId,,n@example.in\r\n");
}

TEST_F(ImporterTest, ReRunIsAllUnchangedAndAChangedRowUpdatesOneField) {
  const std::string csv =
      "id,name,phone,email\n"
      "c1,Asha,+91 88701 00100,asha@example.in\n"
      "c2,Ravi,08870100101,ravi@example.in\n"
      "c3,Budi,,budi@example.id\n";
  auto first = Import(csv);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ExpectCounts(*first, 3, 3, 0, 0, 0);
  auto again = Import(csv);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->resumed);
  ExpectCounts(*again, 3, 0, 0, 3, 0);
  auto changed = Import(
      "id,name,phone,email\n"
      "c1,Asha,+91 88701 00100,asha@example.in\n"
      "c2,Ravi Kumar,08870100101,ravi@example.in\n"
      "c3,Budi,,budi@example.id\n");
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  ExpectCounts(*changed, 3, 0, 1, 2, 0);
  auto ravi = ByEmail("ravi@example.in");
  EXPECT_EQ(ravi["user.name"], "Ravi Kumar");
  EXPECT_EQ(ravi["user.contact.phone_number"], "+918870100101");
  auto tenant = vault_->GetTenant("interjet");
  ASSERT_TRUE(tenant.ok());
  EXPECT_EQ(tenant->subjects, 3);
}

TEST_F(ImporterTest, UnmappedColumnIsAnErrorBeforeAnythingIsWritten) {
  auto s = Import("id,name,phone,email,notes\nc1,Asha,,a@example.in,x\n");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("column 'notes' is not named by"), std::string::npos)
      << s.status().message();
  auto tenant = vault_->GetTenant("interjet");
  ASSERT_TRUE(tenant.ok());
  EXPECT_EQ(tenant->subjects, 0);
}

TEST_F(ImporterTest, UnknownTenantAndMissingFileAreErrors) {
  ImportOptions o;
  o.tenant = "nosuch";
  o.csv_path = (dir_.path() / "in.csv").string();
  o.mapping_path = (dir_.path() / "map.yaml").string();
  o.actor = {"test", "admin"};
  WriteFile(dir_.path() / "in.csv", "id,name\n");
  auto s = RunImport(*vault_, o);
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);

  o.tenant = "interjet";
  o.actor = {"test", "agent"};
  WriteFile(dir_.path() / "in.csv", "id,name,phone,email\nc1,Asha,,asha@example.in\n");
  s = RunImport(*vault_, o);
  EXPECT_EQ(s.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(s.status().message(), "importing needs role 'admin' (not 'agent')");
  EXPECT_EQ(vault_->GetTenant("interjet")->subjects, 0);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "in.csv.rejects.csv"));
  o.actor = {"test", "admin"};
  o.tenant = "interjet";
  o.csv_path = (dir_.path() / "missing.csv").string();
  s = RunImport(*vault_, o);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("cannot read"), std::string::npos);
}

TEST_F(ImporterTest, RecordsAreIdempotentAndNeedTheirSubject) {
  ASSERT_TRUE(Import("id,name,phone,email\nc1,Asha,,asha@example.in\n").ok());
  const std::string map =
      "columns:\n  cust: external_id\n  date: at\n  amount: data.amount\n"
      "  plan: data.plan\n  code: data.code:string\n";
  const std::string csv =
      "cust,date,amount,plan,code\n"
      "c1,2025-03-01,799,100 Mbps,007\n"
      "c1,2025-04-01T10:00:00+05:30,799.50,100 Mbps,12\n"
      "c9,2025-03-01,1,x,1\n"
      "c1,2025-02-30,1,x,1\n";
  auto s = Import(csv, map, ImportKind::kRecords);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ExpectCounts(*s, 4, 2, 0, 0, 2);
  EXPECT_EQ(Rejects(),
            "line,column,reason,cust,date,amount,plan,code\r\n"
            "4,cust,no subject has this external id; import the subjects first,c9,2025-03-01,1,"
            "x,1\r\n"
            "5,date,no such day in the calendar,c1,2025-02-30,1,x,1\r\n");
  auto again = Import(csv, map, ImportKind::kRecords);
  ASSERT_TRUE(again.ok());
  ExpectCounts(*again, 4, 0, 0, 2, 2);

  auto subject = vault_->Lookup({"test", "admin"}, "interjet", {"email", "asha@example.in"},
                                "essential.service.payment_processing");
  ASSERT_TRUE(subject.ok() && subject->size() == 1);
  auto list = vault_->ListRecords({"test", "admin"}, "interjet", subject->front().id,
                                  "essential.service.payment_processing", "billing");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->records.size(), 2u);
  EXPECT_EQ(list->records[0].payload_json, R"({"amount":799,"plan":"100 Mbps","code":"007"})");
  EXPECT_EQ(list->records[0].at_ms, 1740787200000);
  EXPECT_EQ(list->records[1].payload_json, R"({"amount":799.5,"plan":"100 Mbps","code":"12"})");
  EXPECT_EQ(list->records[1].at_ms, 1743481800000);  // 04:30Z
  auto audit = vault_->VerifyAudit();
  ASSERT_TRUE(audit.ok());
  EXPECT_TRUE(audit->ok);
}

TEST_F(ImporterTest, DefaultRegionReadsNationalNumbersInThatRegion) {
  // "0812 3456 7890" is an Indonesian mobile number written nationally; the
  // policy's region (IN) does not read it.
  const std::string csv = "id,name,phone,email\nc1,Budi,0812 3456 7890,budi@example.co.id\n";
  auto in_policy_region = Import(csv);
  ASSERT_TRUE(in_policy_region.ok()) << in_policy_region.status().ToString();
  ExpectCounts(*in_policy_region, 1, 0, 0, 0, 1);
  EXPECT_EQ(Rejects(),
            "line,column,reason,id,name,phone,email\r\n"
            "2,phone,not a valid phone number: not a valid number in its country's numbering "
            "plan,c1,Budi,0812 3456 7890,budi@example.co.id\r\n");

  ImportOptions o;
  o.tenant = "interjet";
  o.csv_path = (dir_.path() / "in.csv").string();
  o.mapping_path = (dir_.path() / "map.yaml").string();
  o.actor = {"test", "admin"};
  o.default_region = "ZZ";
  auto bad_region = RunImport(*vault_, o);
  ASSERT_FALSE(bad_region.ok());
  EXPECT_EQ(bad_region.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad_region.status().message().rfind("--default-region: ", 0), 0u)
      << bad_region.status().message();
  EXPECT_EQ(vault_->GetTenant("interjet")->subjects, 0);

  o.default_region = "ID";
  auto in_id = RunImport(*vault_, o);
  ASSERT_TRUE(in_id.ok()) << in_id.status().ToString();
  ExpectCounts(*in_id, 1, 1, 0, 0, 0);
  EXPECT_EQ(ByEmail("budi@example.co.id")["user.contact.phone_number"], "+6281234567890");
}

TEST_F(ImporterTest, ARecordBatchIsOneAuditEventNamingEverySubject) {
  ASSERT_TRUE(Import("id,name,phone,email\nc1,Asha,,asha@example.in\nc2,Ravi,,ravi@example.in\n")
                  .ok());
  const std::string map = "columns:\n  cust: external_id\n  date: at\n  amount: data.amount\n";
  auto s = Import("cust,date,amount\nc2,2025-03-01,1\nc1,2025-03-01,2\n", map,
                  ImportKind::kRecords);  // one batch of two rows
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ExpectCounts(*s, 2, 2, 0, 0, 0);
  std::string ids[2];
  int n = 0;
  for (const char* email : {"asha@example.in", "ravi@example.in"}) {
    auto found = vault_->Lookup({"test", "admin"}, "interjet", {"email", email},
                                "essential.service.operations.support");
    ASSERT_TRUE(found.ok() && found->size() == 1);
    ids[n++] = found->front().id;
  }
  std::vector<std::string> events = testing_util::AuditEvents(
      service::Vault::StorePath(data_), "record.import");
  ASSERT_EQ(events.size(), 1u);
  auto ev = audit::Event::FromCanonical(events[0]);
  ASSERT_TRUE(ev.ok());
  std::vector<std::string> want = {ids[0], ids[1]};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(ev->subjects, want);
  EXPECT_EQ(ev->subject, "");
  EXPECT_EQ(ev->count, 2);
  EXPECT_EQ(ev->categories, std::vector<std::string>{"user.financial"});
  EXPECT_EQ(ev->reason, "kind billing: 2 added, 0 unchanged, 2 subjects");
}

TEST(ImportHelpersTest, JsonNumbers) {
  for (const char* yes : {"0", "799", "-1", "799.50", "0.5", "123456789012345"}) {
    EXPECT_TRUE(LooksLikeJsonNumber(yes)) << yes;
  }
  for (const char* no : {"", "-", "007", "1.", ".5", "1e3", "+1", "1,000", "1234567890123456",
                         "0x10", " 1"}) {
    EXPECT_FALSE(LooksLikeJsonNumber(no)) << no;
  }
}

}  // namespace
}  // namespace custodian::import
