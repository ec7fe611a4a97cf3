// The vault's invariants on the example policies: purpose-bound reads, blind
// index lookups, upsert, tenant isolation, erasure, fail-closed audit, and the
// bad inputs the vault issue names.
#include "service/vault.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>

#include "crypto/aead.h"
#include "crypto/normalize.h"
#include "audit_util.h"
#include "test_util.h"

namespace custodian::service {
namespace {

namespace fs = std::filesystem;
using testing_util::ReadFile;

const Actor kAdmin{"test", "admin"};
const Actor kAgent{"test", "agent"};

std::string ExamplePolicy(const std::string& name) {
  return ReadFile(fs::path(CUSTODIAN_SOURCE_DIR) / "examples/policies" / name);
}

class VaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("CUSTODIAN_MASTER_KEY");
    dir_ = tmp_.path() / "data";
    ASSERT_TRUE(Vault::Init(dir_.string()).ok());
    Reopen();
    ASSERT_TRUE(vault_->CreateTenant(kAdmin, "interjet", ExamplePolicy("interjet.yaml"),
                                     "interjet.yaml")
                    .ok());
  }
  void Reopen() {
    vault_.reset();
    VaultOptions o;
    o.data_dir = dir_.string();
    o.clock = [this] { return now_ms_; };
    auto v = Vault::Open(o);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    vault_ = std::move(v).value();
  }
  std::string AddAsha(const std::string& tenant = "interjet",
                      std::optional<std::string> ext = std::nullopt) {
    auto r = vault_->AddSubject(kAdmin, tenant,
                                {{"user.name", "Asha Rao"},
                                 {"user.contact.phone_number", "088701 00100"},
                                 {"user.contact.email", " Asha@Example.in "},
                                 {"user.government_id", "KYC-ABCD-1234"}},
                                ext);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->subject_id : "";
  }
  int64_t AuditCount() {
    auto r = vault_->VerifyAudit();
    EXPECT_TRUE(r.ok() && r->ok);
    return r.ok() ? r->events : -1;
  }
  fs::path Db() const { return dir_ / "custodian.db"; }

  testing_util::TempDir tmp_;
  fs::path dir_;
  int64_t now_ms_ = 1767225600000;  // 2026-01-01T00:00:00Z
  std::unique_ptr<Vault> vault_;
};

TEST_F(VaultTest, ShowReturnsOnlyWhatThePurposeMayUse) {
  std::string id = AddAsha();
  auto v = vault_->ShowSubject(kAgent, "interjet", id, "essential.service");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  std::map<std::string, std::string> got;
  for (const auto& f : v->fields) got[f.category] = f.value;
  EXPECT_EQ(got["user.name"], "Asha Rao");
  EXPECT_EQ(got["user.contact.phone_number"], "+918870100100");
  EXPECT_EQ(got["user.contact.email"], "asha@example.in");
  EXPECT_EQ(got.count("user.government_id"), 0u);
  EXPECT_EQ(v->withheld, std::vector<std::string>{"user.government_id"});
}

TEST_F(VaultTest, LookupFindsEveryPhoneSpelling) {
  std::string id = AddAsha();
  for (const char* phone : {"+91 88701-00100", "918870100100", "088701 00100", "(0)88701 00100"}) {
    auto r = vault_->Lookup(kAgent, "interjet", {"phone", phone}, "essential.service");
    ASSERT_TRUE(r.ok()) << phone << ": " << r.status().ToString();
    ASSERT_EQ(r->size(), 1u) << phone;
    EXPECT_EQ((*r)[0].id, id);
  }
  auto miss = vault_->Lookup(kAgent, "interjet", {"phone", "+91 99999 00000"}, "essential.service");
  ASSERT_TRUE(miss.ok());
  EXPECT_TRUE(miss->empty());
  auto by_email = vault_->Lookup(kAgent, "interjet", {"email", "ASHA@example.IN"}, "essential.service");
  ASSERT_TRUE(by_email.ok());
  EXPECT_EQ(by_email->size(), 1u);
}

// A lookup reads a phone number without libphonenumber's validity check
// first and checks it only when the reading finds nobody (lookup.cc): every
// answer must be the one the checked number gives.
TEST_F(VaultTest, APhoneLookupChecksTheNumberOnlyWhenItFindsNobody) {
  std::string policy = ExamplePolicy("interjet.yaml");
  const std::string jurisdiction = "  jurisdiction: IN\n";
  ASSERT_NE(policy.find(jurisdiction), std::string::npos);
  policy.replace(policy.find(jurisdiction), jurisdiction.size(),
                 jurisdiction + "  default_region: DE\n");
  ASSERT_TRUE(vault_->CreateTenant(kAdmin, "jet-de", policy, "jet-de.yaml").ok());
  const std::vector<FieldInput> fields = {{"user.name", "Asha Rao"},
                                          {"user.contact.phone_number", "+49 2776 954100"}};
  auto added = vault_->AddSubject(kAdmin, "jet-de", fields, std::nullopt);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  for (int round = 0; round < 2; ++round) {  // the second from the probe cache
    SCOPED_TRACE(round);
    // Read as a German national number first (+494902776954100, nobody), the
    // check finds it invalid, and the country code without '+' is the number.
    // "+49 02776 954100" is read as written first (+4902776954100, nobody);
    // the check drops the national prefix.
    for (const char* phone :
         {"4902776954100", "02776 954100", "+49 2776 954100", "+49-2776-954100",
          "+49 02776 954100"}) {
      auto r = vault_->Lookup(kAgent, "jet-de", {"phone", phone}, "essential.service");
      ASSERT_TRUE(r.ok()) << phone << ": " << r.status().ToString();
      ASSERT_EQ(r->size(), 1u) << phone;
      EXPECT_EQ(r->front().id, added->subject_id);
    }
    // A valid number of nobody: no match, audited as a miss.
    int64_t before = AuditCount();
    auto miss = vault_->Lookup(kAgent, "jet-de", {"phone", "+91 88701 00100"}, "essential.service");
    ASSERT_TRUE(miss.ok()) << miss.status().ToString();
    EXPECT_TRUE(miss->empty());
    EXPECT_EQ(AuditCount(), before + 1);
    // A number that parses but is not valid: refused as before, nothing written.
    before = AuditCount();
    auto bad = vault_->Lookup(kAgent, "jet-de", {"phone", "1234"}, "essential.service");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(bad.status().message(),
              "lookup by phone: not a valid phone number: " +
                  crypto::NormalizePhone("1234", "DE").status().message().substr(
                      std::string("not a valid phone number: ").size()));
    EXPECT_EQ(AuditCount(), before);
  }
}

TEST_F(VaultTest, RefusalsAreAuditedAndSayWhichRule) {
  std::string id = AddAsha();
  int64_t before = AuditCount();
  struct Case {
    Actor actor;
    std::string purpose;
    std::string message;
  } cases[] = {
      {kAgent, "no.such.purpose",
       "purpose 'no.such.purpose' is not declared in the policy (version 2025.1); every read must "
       "name a declared purpose"},
      {kAgent, "essential.legal_obligation",
       "role 'agent' may not use purpose 'essential.legal_obligation' (allowed roles: admin, "
       "auditor)"},
      {{"test", "marketing"}, "marketing.communications",
       "purpose 'marketing.communications' rests on consent, and the subject has not given it"},
  };
  for (const auto& c : cases) {
    auto r = vault_->ShowSubject(c.actor, "interjet", id, c.purpose);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(r.status().message(), c.message);
  }
  EXPECT_EQ(AuditCount(), before + 3);
}

TEST_F(VaultTest, UpsertByExternalIdChangesOnlyWhatChanged) {
  std::string id = AddAsha("interjet", "CUST-17");
  auto again = vault_->AddSubject(kAdmin, "interjet",
                                  {{"user.name", "Asha Rao"}, {"user.contact.phone_number", "+91 88701 00100"}},
                                  "CUST-17");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->subject_id, id);
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->fields_changed, 0);
  EXPECT_EQ(again->fields_unchanged, 2);
  auto moved = vault_->AddSubject(kAdmin, "interjet",
                                  {{"user.contact.phone_number", "+91 88701 00200"}}, "CUST-17");
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->fields_changed, 1);
  auto old_phone = vault_->Lookup(kAgent, "interjet", {"phone", "8870100100"}, "essential.service");
  EXPECT_TRUE(old_phone->empty());
  auto new_phone = vault_->Lookup(kAgent, "interjet", {"phone", "8870100200"}, "essential.service");
  ASSERT_EQ(new_phone->size(), 1u);
  auto email = vault_->Lookup(kAgent, "interjet", {"email", "asha@example.in"}, "essential.service");
  EXPECT_EQ(email->size(), 1u);  // kept index entries of fields not given
}

TEST_F(VaultTest, TenantsAreIsolated) {
  ASSERT_TRUE(vault_->CreateTenant(kAdmin, "intnet-iq", ExamplePolicy("interjet.yaml"),
                                   "interjet.yaml")
                  .ok());
  std::string a = AddAsha("interjet", "CUST-17");
  std::string b = AddAsha("intnet-iq", "CUST-17");  // same phone, same external id
  ASSERT_NE(a, b);
  auto la = vault_->Lookup(kAgent, "interjet", {"phone", "088701 00100"}, "essential.service");
  auto lb = vault_->Lookup(kAgent, "intnet-iq", {"phone", "088701 00100"}, "essential.service");
  ASSERT_EQ(la->size(), 1u);
  ASSERT_EQ(lb->size(), 1u);
  EXPECT_EQ((*la)[0].id, a);
  EXPECT_EQ((*lb)[0].id, b);
  auto cross = vault_->ShowSubject(kAgent, "interjet", b, "essential.service");
  EXPECT_EQ(cross.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(vault_->EraseSubject(kAdmin, "interjet", b).code(), StatusCode::kNotFound);
  EXPECT_EQ(vault_->CloseSubject(kAdmin, "interjet", b, {}).code(), StatusCode::kNotFound);
  EXPECT_EQ(vault_->GetTenant("interjet")->subjects, 1);
  ASSERT_TRUE(vault_->EraseSubject(kAdmin, "interjet", a).ok());
  auto still = vault_->Lookup(kAgent, "intnet-iq", {"phone", "088701 00100"}, "essential.service");
  EXPECT_EQ(still->size(), 1u);
}

TEST_F(VaultTest, ErasureLeavesNoRecoverableBytes) {
  std::string id = AddAsha("interjet", "CUST-17");
  std::string sealed_before, wrapped_before;
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(Db().c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT fields, wrapped_key FROM subjects WHERE id = ?", -1, &st, nullptr);
    sqlite3_bind_text(st, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    sealed_before.assign(static_cast<const char*>(sqlite3_column_blob(st, 0)),
                         sqlite3_column_bytes(st, 0));
    wrapped_before.assign(static_cast<const char*>(sqlite3_column_blob(st, 1)),
                          sqlite3_column_bytes(st, 1));
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  ASSERT_TRUE(vault_->EraseSubject(kAdmin, "interjet", id).ok());  // checkpoints by itself
  std::string bytes = ReadFile(Db()) + ReadFile(dir_ / "custodian.db-wal");
  EXPECT_EQ(bytes.find(wrapped_before), std::string::npos) << "the wrapped subject key survived";
  for (const char* plain : {"Asha Rao", "8870100100", "asha@example.in", "KYC-ABCD-1234"}) {
    EXPECT_EQ(bytes.find(plain), std::string::npos) << plain;
  }
  // The sealed values that were stored are gone from the file too...
  EXPECT_EQ(bytes.find(sealed_before.substr(sealed_before.size() - 40)), std::string::npos);
  // ...and the subject is a tombstone that no read, lookup or upsert reaches.
  auto show = vault_->ShowSubject(kAgent, "interjet", id, "essential.service");
  EXPECT_EQ(show.status().code(), StatusCode::kNotFound);
  auto lookup = vault_->Lookup(kAgent, "interjet", {"phone", "088701 00100"}, "essential.service");
  EXPECT_TRUE(lookup->empty());
  EXPECT_EQ(vault_->EraseSubject(kAdmin, "interjet", id).code(), StatusCode::kFailedPrecondition);
  std::string again = AddAsha("interjet", "CUST-17");  // a new person, not the erased one
  EXPECT_NE(again, id);
}

TEST_F(VaultTest, ABatchErasureIsAllOrNothingAndCanBeRerun) {
  std::string a = AddAsha("interjet", "CUST-A");
  std::string b = AddAsha("interjet", "CUST-B");
  auto unknown = vault_->EraseSubjects(kAdmin, "interjet", {a, "sub_nosuch", b});
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(unknown.status().message(), "subject 'sub_nosuch' does not exist in tenant 'interjet'");
  EXPECT_TRUE(vault_->ShowSubject(kAgent, "interjet", a, "essential.service").ok());
  EXPECT_TRUE(testing_util::AuditEvents(Db().string(), "erase").empty());
  EXPECT_EQ(vault_->EraseSubjects(kAgent, "interjet", {a}).status().code(),
            StatusCode::kPermissionDenied);
  auto done = vault_->EraseSubjects(kAdmin, "interjet", {a, b});
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->erased, 2);
  EXPECT_EQ(done->already_erased, 0);
  for (const std::string& id : {a, b}) {
    EXPECT_EQ(vault_->ShowSubject(kAgent, "interjet", id, "essential.service").status().code(),
              StatusCode::kNotFound);
  }
  std::string bytes = ReadFile(Db()) + ReadFile(dir_ / "custodian.db-wal");
  EXPECT_EQ(bytes.find("KYC-ABCD-1234"), std::string::npos);
  auto rerun = vault_->EraseSubjects(kAdmin, "interjet", {a, b});
  ASSERT_TRUE(rerun.ok());
  EXPECT_EQ(rerun->erased, 0);
  EXPECT_EQ(rerun->already_erased, 2);
  auto events = testing_util::AuditEvents(Db().string(), "erase");
  ASSERT_FALSE(events.empty());
  EXPECT_NE(events[events.size() - 2].find(a), std::string::npos);
  EXPECT_NE(events[events.size() - 2].find(b), std::string::npos);
  EXPECT_EQ(vault_->EraseSubjects(kAdmin, "interjet", {}).status().message(),
            "a batch erases 1 to 100000 subjects");
}

// Ciphertexts that survive somewhere (a copy of the row taken before erasure)
// cannot be opened once the subject key is gone, even when put back in place.
TEST_F(VaultTest, ErasedSubjectsLeftoverCiphertextsCannotBeOpened) {
  std::string id = AddAsha();
  std::string fields_copy;
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(Db().c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT fields FROM subjects WHERE id = ?", -1, &st, nullptr);
    sqlite3_bind_text(st, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    fields_copy.assign(static_cast<const char*>(sqlite3_column_blob(st, 0)),
                       sqlite3_column_bytes(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  ASSERT_TRUE(vault_->EraseSubject(kAdmin, "interjet", id).ok());
  vault_.reset();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(Db().c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "UPDATE subjects SET fields = ?, state = 0 WHERE id = ?", -1, &st,
                       nullptr);
    sqlite3_bind_blob(st, 1, fields_copy.data(), static_cast<int>(fields_copy.size()),
                      SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, id.c_str(), -1, SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  Reopen();
  auto v = vault_->ShowSubject(kAgent, "interjet", id, "essential.service");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(v.status().message(), "subject '" + id + "' has been erased");
}

TEST_F(VaultTest, SealedValueMovedToAnotherSubjectFailsIntegrity) {
  std::string a = AddAsha();
  auto rb = vault_->AddSubject(kAdmin, "interjet", {{"user.name", "Ravi Kumar"}}, std::nullopt);
  ASSERT_TRUE(rb.ok());
  vault_.reset();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(Db().c_str(), &db), SQLITE_OK);
    std::string sql = "UPDATE subjects SET fields = (SELECT fields FROM subjects WHERE id = '" + a +
                      "') WHERE id = '" + rb->subject_id + "'";
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  Reopen();
  auto v = vault_->ShowSubject(kAgent, "interjet", rb->subject_id, "essential.service");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kDataLoss);
}

TEST_F(VaultTest, FailingAuditFailsTheOperationAndReturnsNothing) {
  std::string id = AddAsha();
  {
    testing_util::FailAuditAppends(Db());
  }
  auto show = vault_->ShowSubject(kAgent, "interjet", id, "essential.service");
  ASSERT_FALSE(show.ok());
  EXPECT_EQ(show.status().code(), StatusCode::kUnavailable);
  auto lookup = vault_->Lookup(kAgent, "interjet", {"phone", "088701 00100"}, "essential.service");
  EXPECT_FALSE(lookup.ok());
  auto add = vault_->AddSubject(kAdmin, "interjet", {{"user.name", "Ravi"}}, std::nullopt);
  EXPECT_FALSE(add.ok());
  EXPECT_FALSE(vault_->EraseSubject(kAdmin, "interjet", id).ok());
  EXPECT_EQ(vault_->GetTenant("interjet")->subjects, 1);  // the add did not land, nor the erase
}

TEST_F(VaultTest, CloseRecordsTheAnchorTime) {
  std::string id = AddAsha();
  ASSERT_TRUE(vault_->CloseSubject(kAdmin, "interjet", id, 1769817600000).ok());  // 2026-01-31
  auto v = vault_->ShowSubject(kAgent, "interjet", id, "essential.service");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->state, "closed");
  EXPECT_EQ(v->closed_ms, 1769817600000);
  EXPECT_EQ(vault_->CloseSubject(kAdmin, "interjet", id, {}).code(),
            StatusCode::kFailedPrecondition);
}

// Every bad input named in the vault issue: a precise error and nothing changed.
TEST_F(VaultTest, BadInputsChangeNothing) {
  struct Case {
    std::string name;
    std::string tenant;
    std::vector<FieldInput> fields;
    StatusCode code;
    std::string message;
  };
  std::string big(kMaxValueBytes + 1, 'a');
  std::vector<Case> cases = {
      {"unknown tenant", "nope", {{"user.name", "A"}}, StatusCode::kNotFound,
       "tenant 'nope' does not exist; create it with `custodian tenant create`"},
      {"undeclared category", "interjet", {{"user.contact.fax_number", "123"}},
       StatusCode::kInvalidArgument,
       "field 1 (user.contact.fax_number): category 'user.contact.fax_number' is not declared in "
       "the policy; only declared categories may be collected"},
      {"empty value", "interjet", {{"user.name", ""}}, StatusCode::kInvalidArgument,
       "field 1 (user.name): the value is empty"},
      {"too big", "interjet", {{"user.name", big}}, StatusCode::kInvalidArgument,
       "field 1 (user.name): the value is 65537 bytes; at most 65536 are allowed"},
      {"not utf-8", "interjet", {{"user.name", std::string("Asha\xff")}}, StatusCode::kInvalidArgument,
       ""},
      {"invalid phone", "interjet", {{"user.contact.phone_number", "12"}},
       StatusCode::kInvalidArgument, ""},
      {"invalid email", "interjet", {{"user.contact.email", "asha.example.in"}},
       StatusCode::kInvalidArgument, ""},
      {"ambiguous date", "interjet", {{"user.demographic.date_of_birth", "03/04/1990"}},
       StatusCode::kInvalidArgument,
       "field 1 (user.demographic.date_of_birth): not a valid date: expected YYYY-MM-DD "
       "(day-first and month-first forms are ambiguous)"},
      {"impossible date", "interjet", {{"user.demographic.date_of_birth", "1990-02-30"}},
       StatusCode::kInvalidArgument,
       "field 1 (user.demographic.date_of_birth): not a valid date: that month has no such day"},
  };
  int64_t audit_before = AuditCount();
  for (const auto& c : cases) {
    auto r = vault_->AddSubject(kAdmin, c.tenant, c.fields, std::nullopt);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), c.code) << c.name;
    if (!c.message.empty()) {
      EXPECT_EQ(r.status().message(), c.message) << c.name;
    }
    for (const auto& f : c.fields) {
      if (f.value.size() < 64) {
        EXPECT_EQ(r.status().message().find(f.value.empty() ? "\x01" : f.value), std::string::npos)
            << c.name << ": error echoes the value";
      }
    }
  }
  EXPECT_EQ(vault_->GetTenant("interjet")->subjects, 0);
  EXPECT_EQ(AuditCount(), audit_before);
  auto unknown = vault_->ShowSubject(kAgent, "interjet", "sub_missing", "essential.service");
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(unknown.status().message(), "subject 'sub_missing' does not exist in tenant 'interjet'");
}

// CheckSubjectInput refuses what AddSubject refuses, with the same status,
// and says which part: the field's position, or the external id.
TEST_F(VaultTest, CheckSubjectInputNamesThePartAtFault) {
  struct Case {
    std::string name;
    SubjectInput in;
    std::string member;
    int index;
  };
  const std::vector<Case> cases = {
      {"first field", {{{"user.contact.fax_number", "1"}, {"user.name", "A"}}, {}}, "fields", 0},
      {"third field",
       {{{"user.name", "A"},
         {"user.contact.email", "a@example.in"},
         {"user.contact.phone_number", "12"}},
        {}},
       "fields",
       2},
      {"repeated category", {{{"user.name", "A"}, {"user.name", "B"}}, {}}, "fields", 1},
      {"no field", {{}, {}}, "fields", -1},
      {"external id", {{{"user.name", "A"}}, std::string()}, "external_id", -1},
  };
  auto policy = vault_->TenantPolicy("interjet");
  ASSERT_TRUE(policy.ok());
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    InputFault fault;
    Status checked = CheckSubjectInput(**policy, c.in, &fault);
    auto added = vault_->AddSubject(kAdmin, "interjet", c.in.fields, c.in.external_id);
    ASSERT_FALSE(added.ok());
    EXPECT_EQ(checked.code(), added.status().code());
    EXPECT_EQ(checked.message(), added.status().message());
    EXPECT_EQ(fault.member, c.member);
    EXPECT_EQ(fault.index, c.index);
  }
  InputFault none;
  EXPECT_TRUE(CheckSubjectInput(**policy, {{{"user.name", "A"}}, "CUST-1"}, &none).ok());
  EXPECT_EQ(none.member, "");
}

TEST_F(VaultTest, WritesNeedARoleAPurposeGivesTheCategory) {
  const Actor agent{"crm", "agent"};
  auto added = vault_->AddSubject(agent, "interjet",
                                  {{"user.name", "Asha Rao"},
                                   {"user.contact.phone_number", "088701 00100"}},
                                  std::nullopt);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  const std::string id = added->subject_id;
  int64_t audit_before = AuditCount();

  // KYC data is for admins only in Interjet's policy.
  auto kyc = vault_->AddSubject(agent, "interjet", {{"user.government_id", "KYC-1"}}, std::nullopt);
  EXPECT_EQ(kyc.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(kyc.status().message(),
            "role 'agent' may not write category 'user.government_id': no purpose that uses it "
            "lists the role");
  auto upd = vault_->UpdateSubject(agent, "interjet", id, {{"user.government_id", "KYC-1"}});
  EXPECT_EQ(upd.status().code(), StatusCode::kPermissionDenied);
  Status erase = vault_->EraseSubject(agent, "interjet", id);
  EXPECT_EQ(erase.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(erase.message(), "erasure needs role 'admin' (not 'agent')");
  Status close = vault_->CloseSubject({"x", "nobody"}, "interjet", id, {});
  EXPECT_EQ(close.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(close.message(), "closing a subject needs a role some purpose lists (not 'nobody')");
  EXPECT_EQ(AuditCount(), audit_before + 4);  // every refusal is audited
  EXPECT_EQ(vault_->GetTenant("interjet")->subjects, 1);
  auto view = vault_->ShowSubject(kAdmin, "interjet", id, "essential.service.operations.kyc");
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->state, "active");
  for (const auto& f : view->fields) EXPECT_NE(f.category, "user.government_id");

  // An agent corrects the phone number: only that field changes.
  auto fixed = vault_->UpdateSubject(agent, "interjet", id,
                                     {{"user.contact.phone_number", "+91 88701 00199"}});
  ASSERT_TRUE(fixed.ok()) << fixed.status().ToString();
  EXPECT_FALSE(fixed->created);
  EXPECT_EQ(fixed->subject_id, id);
  EXPECT_EQ(fixed->fields_changed, 1);
  auto old_phone = vault_->Lookup(agent, "interjet", {"phone", "088701 00100"}, "essential.service");
  ASSERT_TRUE(old_phone.ok());
  EXPECT_TRUE(old_phone->empty());
  auto new_phone = vault_->Lookup(agent, "interjet", {"phone", "8870100199"}, "essential.service");
  ASSERT_TRUE(new_phone.ok());
  ASSERT_EQ(new_phone->size(), 1u);
  EXPECT_EQ(new_phone->front().id, id);

  auto missing = vault_->UpdateSubject(agent, "interjet", "sub_missing", {{"user.name", "A"}});
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "subject 'sub_missing' does not exist in tenant 'interjet'");
}

TEST_F(VaultTest, WrongOrLooseMasterKeyIsRefused) {
  vault_.reset();
  fs::path key = dir_ / "master.key";
  fs::permissions(key, fs::perms(0644));
  VaultOptions o;
  o.data_dir = dir_.string();
  auto loose = Vault::Open(o);
  ASSERT_FALSE(loose.ok());
  EXPECT_EQ(loose.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(loose.status().message().find("mode 0644"), std::string::npos);
  fs::permissions(key, fs::perms(0600));
  testing_util::WriteFile(key, "c2hvcnQ=\n");  // "short": corrupted
  auto corrupt = Vault::Open(o);
  ASSERT_FALSE(corrupt.ok());
  EXPECT_EQ(corrupt.status().code(), StatusCode::kInvalidArgument);
  // A well-formed key that is not this directory's is refused at open.
  setenv("CUSTODIAN_MASTER_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 1);
  auto other = Vault::Open(o);
  unsetenv("CUSTODIAN_MASTER_KEY");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(other.status().message().rfind("the master key does not open this data directory", 0),
            0u);
}

TEST_F(VaultTest, LookupByACategoryThePurposeMayNotUseIsRefused) {
  AddAsha();
  int64_t before = AuditCount();
  // The KYC purpose may use the government ID and the address, not the email.
  auto r = vault_->Lookup(kAdmin, "interjet", {"email", "asha@example.in"},
                          "essential.service.operations.kyc");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(r.status().message(),
            "purpose 'essential.service.operations.kyc' may not use category "
            "'user.contact.email', so it cannot look subjects up by it");
  EXPECT_EQ(AuditCount(), before + 1);
}

TEST_F(VaultTest, ARepeatedLookupAnswersAsTheFirstAndHonoursLaterChanges) {
  // The second lookup of a value skips normalization (service/probe_cache.h);
  // what it finds, what it may use and what it is refused must not change.
  const std::string asha = AddAsha();
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    auto r = vault_->Lookup(kAdmin, "interjet", {"email", "asha@example.in"}, "essential.service");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ(r->front().id, asha);
    auto kyc = vault_->Lookup(kAdmin, "interjet", {"email", "asha@example.in"},
                              "essential.service.operations.kyc");
    ASSERT_FALSE(kyc.ok());
    EXPECT_EQ(kyc.status().message(),
              "purpose 'essential.service.operations.kyc' may not use category "
              "'user.contact.email', so it cannot look subjects up by it");
    // A value that does not normalize is refused each time, never remembered.
    auto bad = vault_->Lookup(kAdmin, "interjet", {"email", "not an email"}, "essential.service");
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  }
  ASSERT_TRUE(vault_->EraseSubject(kAdmin, "interjet", asha).ok());
  auto after = vault_->Lookup(kAdmin, "interjet", {"email", "asha@example.in"}, "essential.service");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_TRUE(after->empty());
}

TEST_F(VaultTest, NewerSchemaIsRefused) {
  vault_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(Db().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_migrations VALUES (99, 0)", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  VaultOptions o;
  o.data_dir = dir_.string();
  auto v = Vault::Open(o);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(VaultTest, EveryOperationIsAuditedWithoutValues) {
  std::string id = AddAsha("interjet", "CUST-17");
  (void)vault_->ShowSubject(kAgent, "interjet", id, "essential.service");
  (void)vault_->Lookup(kAgent, "interjet", {"phone", "088701 00100"}, "essential.service");
  (void)vault_->Lookup(kAgent, "interjet", {"phone", "088701 00999"}, "essential.service");
  ASSERT_TRUE(vault_->CloseSubject(kAdmin, "interjet", id, {}).ok());
  ASSERT_TRUE(vault_->EraseSubject(kAdmin, "interjet", id).ok());
  // tenant.create, subject.add, subject.show, lookup hit, lookup miss, close, erase
  EXPECT_EQ(AuditCount(), 7);
  std::string db = ReadFile(Db()) + ReadFile(dir_ / "custodian.db-wal");
  std::vector<std::string> events = testing_util::AuditEvents(Db());
  ASSERT_EQ(events.size(), 7u);
  for (const auto& e : events) {
    for (const char* secret : {"Asha", "8870100", "example.in", "KYC-ABCD", "CUST-17"}) {
      EXPECT_EQ(e.find(secret), std::string::npos) << e;
    }
  }
  EXPECT_NE(events[3].find("\"outcome\":\"hit\""), std::string::npos);
  EXPECT_NE(events[4].find("\"outcome\":\"miss\""), std::string::npos);
}

TEST_F(VaultTest, BatchAddIsAllOrNothing) {
  std::vector<SubjectInput> batch = {
      {{{"user.name", "Asha Rao"}, {"user.contact.phone_number", "088701 00100"}}, "CUST-1"},
      {{{"user.name", "Ravi"}, {"user.contact.email", "not-an-email"}}, "CUST-2"},
  };
  auto bad = vault_->AddSubjects(kAdmin, "interjet", batch);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind("subject 2: field 2 (user.contact.email): ", 0), 0u)
      << bad.status().message();
  EXPECT_EQ(vault_->GetTenant("interjet")->subjects, 0);

  batch[1].fields[1].value = "ravi@example.in";
  auto good = vault_->AddSubjects(kAdmin, "interjet", batch);
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  ASSERT_EQ(good->size(), 2u);
  EXPECT_TRUE((*good)[0].created && (*good)[1].created);
  EXPECT_EQ(vault_->GetTenant("interjet")->subjects, 2);

  auto found = vault_->LookupMany(kAgent, "interjet",
                                  {{"email", "RAVI@example.in"}, {"phone", "000"}, {"phone", "8870100100"}},
                                  "essential.service");
  ASSERT_FALSE(found.ok());  // "000" is not a phone number: the whole batch is refused
  found = vault_->LookupMany(kAgent, "interjet",
                             {{"email", "RAVI@example.in"}, {"phone", "+91 99999 00000"},
                              {"phone", "8870100100"}},
                             "essential.service");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->size(), 3u);
  ASSERT_EQ((*found)[0].size(), 1u);
  EXPECT_EQ((*found)[0][0].id, (*good)[1].subject_id);
  EXPECT_TRUE((*found)[1].empty());
  ASSERT_EQ((*found)[2].size(), 1u);
  EXPECT_EQ((*found)[2][0].id, (*good)[0].subject_id);
}

}  // namespace
}  // namespace custodian::service
