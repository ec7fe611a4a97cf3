// Disclosures on the Interjet policy: every refusal (exact error, audited,
// nothing recorded), subjects by id and by lookup, subjects left out for
// consent, the purpose-bound payload, the bound on the set, and the
// disclosures in the subject's access export.
#include <gtest/gtest.h>
#include <zip.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "audit_util.h"
#include "service/disclosure_json.h"
#include "service/vault.h"
#include "test_util.h"
#include "vault_test_util.h"

namespace custodian::service {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing_util::AuditEvents;

const Actor kAdmin{"test", "admin"};
const Actor kBilling{"op:meena", "billing"};
const Actor kAgent{"op:priya", "agent"};
const Actor kAuditor{"op:audit", "auditor"};
constexpr int64_t kMar1 = 1772323200000;  // 2026-03-01T00:00:00Z
constexpr int64_t kDay = 86400000;

class DisclosureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path() / "data";
    vault_ = testing_util::OpenTestVault(dir_, [this] { return now_; });
    ASSERT_NE(vault_, nullptr);
    // Interjet, plus an SMS agency receiving phone numbers for marketing
    // (consent-based: a subject who did not opt in is left out).
    std::string yaml =
        testing_util::ReadFile(fs::path(CUSTODIAN_SOURCE_DIR) / "examples/policies/interjet.yaml");
    yaml = testing_util::ReplaceFirst(
        yaml, "\nrecipients:\n",
        "\nrecipients:\n"
        "  sms_agency:\n"
        "    label: Bulk SMS agency\n"
        "    kind: processor\n"
        "    purposes: [marketing.communications]\n"
        "    categories: [user.contact.phone_number]\n"
        "    country: IN\n"
        "  kyc_vendor:\n"
        "    label: Identity checks and reminders\n"
        "    kind: processor\n"
        "    purposes: [essential.service.notifications, "
        "essential.service.operations.kyc]\n"
        "    categories: [user.contact.phone_number, user.government_id]\n");
    ASSERT_NE(yaml.find("sms_agency"), std::string::npos);
    ASSERT_TRUE(vault_->CreateTenant(kAdmin, "interjet", yaml, "interjet.yaml").ok());
    asha_ = Add({{"user.name", "Asha Rao"},
                 {"user.contact.phone_number", "+91 88701 00100"},
                 {"user.contact.email", "asha@example.in"},
                 {"user.contact.address", "12 MG Road, Chennai"}},
                "CUST-17");
    bala_ = Add({{"user.name", "Bala Krishnan"}, {"user.contact.phone_number", "+91 88701 00200"}},
                "CUST-18");
  }
  std::string Db() const { return (dir_ / "custodian.db").string(); }
  std::string Add(const std::vector<FieldInput>& fields, const std::string& external_id) {
    auto r = vault_->AddSubject(kAdmin, "interjet", fields, external_id);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->subject_id : "";
  }
  DisclosureInput Payment(std::vector<std::string> subjects) {
    DisclosureInput in;
    in.recipient = "payment_providers";
    in.purpose = "essential.service.payment_processing";
    in.categories = {"user.name", "user.contact.email"};
    in.subjects = std::move(subjects);
    return in;
  }
  int64_t Recorded() {
    auto a = vault_->ListDisclosures(kAdmin, "interjet", asha_);
    auto b = vault_->ListDisclosures(kAdmin, "interjet", bala_);
    return static_cast<int64_t>(a->size() + b->size());
  }

  testing_util::TempDir tmp_;
  fs::path dir_;
  int64_t now_ = kMar1;
  std::unique_ptr<Vault> vault_;
  std::string asha_, bala_;
};

TEST_F(DisclosureTest, EveryUndeclaredDisclosureIsRefusedPreciselyAuditedAndNotRecorded) {
  struct Case {
    std::string name;
    Actor actor;
    std::function<void(DisclosureInput&)> change;
    StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"undeclared recipient", kAdmin, [](DisclosureInput& in) { in.recipient = "facebook"; },
       StatusCode::kPermissionDenied,
       "recipient 'facebook' is not declared in the policy (version 2025.1); declared "
       "recipients: sms_agency, kyc_vendor, partner_companies, payment_providers, authorities. "
       "Declare it "
       "under `recipients` before sharing anything with it"},
      {"purpose not declared for the recipient", kAdmin,
       [](DisclosureInput& in) { in.purpose = "essential.service"; }, StatusCode::kPermissionDenied,
       "recipient 'payment_providers' is not declared for purpose 'essential.service' (it "
       "receives data for: essential.service.payment_processing)"},
      {"undeclared purpose", kAdmin, [](DisclosureInput& in) { in.purpose = "sales"; },
       StatusCode::kPermissionDenied,
       "purpose 'sales' is not declared in the policy (version 2025.1)"},
      {"category not declared for the recipient", kAdmin,
       [](DisclosureInput& in) {
         in.categories = {"user.name", "user.financial"};
       },
       StatusCode::kPermissionDenied,
       "category 'user.financial' is not declared for recipient 'payment_providers' (it may "
       "receive: user.name, user.contact.phone_number, user.contact.email, user.payment)"},
      {"category not declared in the policy", kAdmin,
       [](DisclosureInput& in) { in.categories = {"user.biometric"}; },
       StatusCode::kPermissionDenied, "category 'user.biometric' is not declared in the policy"},
      {"category the purpose does not use", kAdmin,
       [](DisclosureInput& in) {
         in.recipient = "kyc_vendor";
         in.purpose = "essential.service.notifications";
         in.categories = {"user.government_id"};
       },
       StatusCode::kPermissionDenied,
       "purpose 'essential.service.notifications' does not use category 'user.government_id', "
       "so it cannot be disclosed for it"},
      {"no categories", kAdmin, [](DisclosureInput& in) { in.categories.clear(); },
       StatusCode::kInvalidArgument,
       "name 1 to 64 categories disclosed (the recipient may receive: user.name, "
       "user.contact.phone_number, user.contact.email, user.payment)"},
      {"authority without a legal reference", kAdmin,
       [](DisclosureInput& in) {
         in.recipient = "authorities";
         in.purpose = "essential.legal_obligation";
         in.categories = {"user.name"};
       },
       StatusCode::kInvalidArgument,
       "a disclosure to authority 'authorities' needs the legal reference that requires it (the "
       "order or case number)"},
      {"legal reference that is prose", kAdmin,
       [](DisclosureInput& in) {
         in.recipient = "authorities";
         in.purpose = "essential.legal_obligation";
         in.categories = {"user.name"};
         in.legal_reference = "asked by Inspector Ravi";
       },
       StatusCode::kInvalidArgument,
       "the legal reference must be an order or case number: 1-128 characters of letters, "
       "digits, space and . / : _ # ( ) , - with at least one digit (no names or prose)"},
      {"role not allowed the purpose", kAgent, [](DisclosureInput&) {},
       StatusCode::kPermissionDenied,
       "role 'agent' may not use purpose 'essential.service.payment_processing' (allowed "
       "roles: admin, billing)"},
      {"authority by a non-admin", kAuditor,
       [](DisclosureInput& in) {
         in.recipient = "authorities";
         in.purpose = "essential.legal_obligation";
         in.categories = {"user.name"};
         in.legal_reference = "FIR 112/2026";
       },
       StatusCode::kPermissionDenied,
       "a disclosure to an authority needs role 'admin' (not 'auditor')"},
      {"no subjects", kAdmin, [](DisclosureInput& in) { in.subjects.clear(); },
       StatusCode::kInvalidArgument, "name the subjects disclosed: subject ids, lookups, or both"},
      {"in the future", kAdmin, [this](DisclosureInput& in) { in.at_ms = now_ + kDay; },
       StatusCode::kInvalidArgument,
       "the disclosure time is in the future; record a disclosure when it happens"},
  };
  std::size_t refusals = AuditEvents(Db(), "disclose").size();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    DisclosureInput in = Payment({asha_});
    c.change(in);
    auto r = vault_->Disclose(c.actor, "interjet", in);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), c.code);
    EXPECT_EQ(r.status().message(), c.message);
    EXPECT_EQ(Recorded(), 0);
    auto events = AuditEvents(Db(), "disclose");
    ASSERT_EQ(events.size(), ++refusals);
    EXPECT_NE(events.back().find("\"outcome\":\"refused\""), std::string::npos) << events.back();
    EXPECT_NE(events.back().find(c.message.substr(0, 30)), std::string::npos) << events.back();
  }
}

TEST_F(DisclosureTest, RecordsBySubjectIdAndLookupAndLeavesOutWhoDidNotConsent) {
  DisclosureInput in;
  in.recipient = "sms_agency";
  in.purpose = "marketing.communications";
  in.categories = {"user.contact.phone_number"};
  in.lookups = {
      {"phone", "088701 00100"}, {kExternalIdKind, "CUST-18"}, {"phone", "+91 99999 00000"}};
  // Nobody consented yet: everyone is left out, nothing is recorded.
  auto none = vault_->Disclose(kAdmin, "interjet", in);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(none.status().message(),
            "none of the 2 subjects may be disclosed for purpose 'marketing.communications' "
            "(each refusal is in the audit trail); nothing was recorded");
  EXPECT_EQ(Recorded(), 0);

  ConsentChange grant;
  grant.purpose = "marketing.communications";
  grant.state = "granted";
  ASSERT_TRUE(vault_->SetConsents(kAdmin, "interjet", asha_, {grant}).ok());
  now_ += kDay;
  auto r = vault_->Disclose(kAdmin, "interjet", in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->subjects, std::vector<std::string>{asha_});
  ASSERT_EQ(r->refused.size(), 1u);
  EXPECT_EQ(r->refused[0].subject, bala_);
  EXPECT_NE(r->refused[0].reason.find("consent"), std::string::npos) << r->refused[0].reason;
  EXPECT_EQ(r->unmatched_lookups, std::vector<int>{2});
  EXPECT_EQ(r->disclosure.subjects, 1);
  EXPECT_EQ(r->disclosure.recipient_kind, "processor");
  EXPECT_EQ(r->disclosure.at_ms, now_);
  EXPECT_FALSE(r->disclosure.exported);
  EXPECT_TRUE(r->payload.empty());

  auto asha = vault_->ListDisclosures(kAgent, "interjet", asha_);
  ASSERT_TRUE(asha.ok());
  ASSERT_EQ(asha->size(), 1u);
  EXPECT_EQ((*asha)[0].id, r->disclosure.id);
  EXPECT_TRUE(vault_->ListDisclosures(kAgent, "interjet", bala_)->empty());
  auto ok = AuditEvents(Db(), "disclose");
  EXPECT_NE(ok.back().find("\"outcome\":\"ok\""), std::string::npos) << ok.back();
  EXPECT_NE(ok.back().find("\"subject\":\"" + asha_ + "\""), std::string::npos) << ok.back();
  EXPECT_NE(ok.back().find("1 subject(s) left out; 1 lookup(s) matched nobody"), std::string::npos)
      << ok.back();
  // Another tenant cannot see it, nor find the subject.
  ASSERT_TRUE(testing_util::CreateExampleTenant(*vault_, "other").ok());
  auto cross = vault_->ListDisclosures(kAdmin, "other", asha_);
  EXPECT_EQ(cross.status().code(), StatusCode::kNotFound);
  auto steal = vault_->Disclose(kAdmin, "other", Payment({asha_}));
  EXPECT_EQ(steal.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(steal.status().message(), "subject '" + asha_ + "' does not exist in tenant 'other'");
}

TEST_F(DisclosureTest, ThePayloadHoldsOnlyTheDisclosedCategoriesReadForThePurpose) {
  ASSERT_TRUE(vault_
                  ->AddRecord(kAdmin, "interjet", asha_,
                              {"billing", kMar1 - kDay, R"({"invoice":"INV-1001"})"})
                  .ok());
  ASSERT_TRUE(vault_
                  ->AddRecord(kAdmin, "interjet", asha_,
                              {"media", kMar1 - kDay, R"({"file":"router.jpg"})"})
                  .ok());
  DisclosureInput in;
  in.recipient = "authorities";
  in.purpose = "essential.legal_obligation";
  in.categories = {"user.name", "user.financial"};
  in.subjects = {asha_};
  in.legal_reference = "Order 2026/117 (Chennai)";
  in.export_payload = true;
  auto r = vault_->Disclose(kAdmin, "interjet", in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->payload.size(), 1u);
  const DisclosedSubject& p = r->payload[0];
  ASSERT_EQ(p.fields.size(), 1u);
  EXPECT_EQ(p.fields[0].category, "user.name");
  EXPECT_EQ(p.fields[0].value, "Asha Rao");
  ASSERT_EQ(p.records.size(), 1u);  // billing (user.financial), not media
  EXPECT_EQ(p.records[0].kind, "billing");
  json payload = DisclosurePayloadJson(*r);
  EXPECT_EQ(payload["format"], "custodian.disclosure.v1");
  EXPECT_EQ(payload["disclosure"]["legal_reference"], "Order 2026/117 (Chennai)");
  EXPECT_FALSE(payload["disclosure"].contains("actor"));
  EXPECT_EQ(payload["subjects"][0]["fields"], json({{"user.name", "Asha Rao"}}));
  EXPECT_EQ(payload["subjects"][0]["records"][0]["payload"]["invoice"], "INV-1001");
  const std::string dumped = payload.dump();
  for (const char* other : {"asha@example.in", "MG Road", "88701", "router.jpg"}) {
    EXPECT_EQ(dumped.find(other), std::string::npos) << other;
  }
  auto events = AuditEvents(Db(), "disclose");
  EXPECT_NE(events.back().find("payload exported"), std::string::npos) << events.back();
  EXPECT_EQ(events.back().find("Order 2026"), std::string::npos) << events.back();
}

TEST_F(DisclosureTest, TheSetIsBounded) {
  DisclosureInput in = Payment({});
  in.subjects.assign(kMaxDisclosureSubjects, asha_);
  in.lookups = {{"phone", "088701 00100"}};
  auto r = vault_->Disclose(kBilling, "interjet", in);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "10001 subjects and lookups; one disclosure covers at most 10000: split it");
  in.lookups.clear();  // 10000 times the same subject: one subject, allowed
  auto ok = vault_->Disclose(kBilling, "interjet", in);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->subjects.size(), 1u);
}

// The Vault's export bundle (exports.cc) lists the subject's disclosures.
TEST_F(DisclosureTest, TheAccessExportListsTheSubjectsDisclosures) {
  now_ -= 10 * kDay;
  auto d = vault_->Disclose(kBilling, "interjet", Payment({asha_, bala_}));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  now_ += 10 * kDay;
  auto req = vault_->SubmitRequest(kAgent, "interjet", {"access", asha_, ""});
  ASSERT_TRUE(req.ok());
  auto done =
      vault_->AdvanceRequest(kAgent, "interjet", req->id, RequestAction::kVerify, "ID seen");
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  auto zip = vault_->DownloadExport(done->download_token);
  ASSERT_TRUE(zip.ok()) << zip.status().ToString();
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* src = zip_source_buffer_create(zip->zip.data(), zip->zip.size(), 0, &error);
  zip_t* archive = zip_open_from_source(src, ZIP_RDONLY, &error);
  ASSERT_NE(archive, nullptr);
  zip_stat_t st;
  ASSERT_EQ(zip_stat(archive, "disclosures.json", 0, &st), 0);
  std::string content(st.size, '\0');
  zip_file_t* f = zip_fopen(archive, "disclosures.json", 0);
  zip_fread(f, content.data(), st.size);
  zip_fclose(f);
  zip_close(archive);
  json j = json::parse(content);
  ASSERT_EQ(j["disclosures"].size(), 1u);
  const json& e = j["disclosures"][0];
  EXPECT_EQ(e["id"], d->disclosure.id);
  EXPECT_EQ(e["recipient"], "payment_providers");
  EXPECT_EQ(e["recipient_kind"], "processor");
  EXPECT_EQ(e["purpose"], "essential.service.payment_processing");
  EXPECT_EQ(e["categories"], json({"user.name", "user.contact.email"}));
  EXPECT_EQ(e["at"], "2026-02-19T00:00:00Z");
  EXPECT_EQ(e["legal_reference"], nullptr);
  EXPECT_EQ(e["country"], "IN");
  EXPECT_FALSE(e.contains("subjects"));  // how many others: not the subject's business
  EXPECT_FALSE(e.contains("actor"));
}

}  // namespace
}  // namespace custodian::service
