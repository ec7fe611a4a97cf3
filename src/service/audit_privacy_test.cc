// "Audit events never contain personal values" (issue 10): one test drives
// every kind of Vault use case with distinctive seeded values - names, phones,
// emails, addresses, ids, record payloads, request details, corrections,
// consent evidence, message texts, operator credentials, a cookie visitor id -
// and scans the canonical JSON of every audit event written for each of them
// and their normalized forms.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "audit_util.h"
#include "service/vault.h"
#include "test_util.h"
#include "vault_test_util.h"

namespace custodian::service {
namespace {

namespace fs = std::filesystem;

const Actor kAdmin{"test", "admin"};
const Actor kAgent{"op:agent", "agent"};
constexpr int64_t kMar1 = 1772323200000;  // 2026-03-01T00:00:00Z
constexpr int64_t kDay = 86400000;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

TEST(AuditPrivacyTest, NoAuditEventHoldsAnySeededPersonalValue) {
  // Seeded values: each distinctive enough to find anywhere.
  const std::string name = "Zephyrine Quillfeather";
  const std::string phone = "098765 43210";          // national form
  const std::string phone_e164 = "+919876543210";    // normalized
  const std::string email = "Zephyrine.Q@Example.org";
  const std::string address = "77 Quillfeather Lane, Kochi";
  const std::string government_id = "QFZPX9876Q";
  const std::string external_id = "EXT-ZQ-4242";
  const std::string record_payload_value = "INV-ZQ-999";
  const std::string request_details = "Zephyrine wants her router logs";
  const std::string correction = "zq.corrected@example.org";
  const std::string grievance = "Billing dispute with Quillfeather household";
  const std::string resolution = "Refunded Zephyrine 499 rupees";
  const std::string consent_evidence = "SMS-ZQ-5555";
  const std::string message_text = "Hello Zephyrine, your bill is ready";
  const std::string operator_email = "Op.Quill@Example.org";
  const std::string operator_password = "correct horse zq battery";
  const std::string visitor = "visitorZQ1234567890";
  const std::string caller = "+91 98765 43211";
  const std::string caller_e164 = "+919876543211";

  testing_util::TempDir tmp;
  int64_t now = kMar1;
  auto vault = testing_util::OpenTestVault(tmp.path() / "data", [&now] { return now; });
  ASSERT_NE(vault, nullptr);
  ASSERT_TRUE(testing_util::CreateExampleTenant(*vault, "interjet").ok());
  const auto ok = [](const auto& r, const char* what) {
    EXPECT_TRUE(r.ok()) << what << ": " << r.status().ToString();
  };

  // Subjects: add, upsert, update, read, look up (every kind), call.
  auto added = vault->AddSubject(kAdmin, "interjet",
                                 {{"user.name", name},
                                  {"user.contact.phone_number", phone},
                                  {"user.contact.email", email},
                                  {"user.contact.address", address},
                                  {"user.government_id", government_id}},
                                 external_id);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  const std::string s = added->subject_id;
  ok(vault->AddSubject(kAdmin, "interjet", {{"user.name", name}}, external_id), "upsert");
  ok(vault->UpdateSubject(kAgent, "interjet", s, {{"user.contact.address", address + " 2"}}),
     "update");
  ok(vault->ShowSubject(kAgent, "interjet", s, "essential.service"), "show");
  EXPECT_FALSE(vault->ShowSubject(kAgent, "interjet", s, "marketing.communications").ok());
  for (const LookupQuery& q : std::vector<LookupQuery>{{"phone", phone},
                                                       {"email", email},
                                                       {kExternalIdKind, external_id},
                                                       {"phone", caller}}) {
    ok(vault->Lookup(kAgent, "interjet", q, "essential.service"), "lookup");
  }
  ok(vault->MatchCall(kAgent, "interjet", {caller, "+91 80 1234 5678", "call-zq-1", now},
                      "essential.service"),
     "call");
  ok(vault->MatchCall(kAgent, "interjet", {phone, "+91 80 1234 5678", "call-zq-2", now},
                      "essential.service"),
     "call");

  // Records.
  auto record = vault->AddRecord(kAdmin, "interjet", s,
                                 {"billing", now - kDay,
                                  R"({"invoice":")" + record_payload_value + R"(","to":")" +
                                      name + R"("})"});
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  ok(vault->ListRecords(kAdmin, "interjet", s, "essential.service.payment_processing", ""),
     "records");

  // Consent, with evidence.
  ConsentChange grant;
  grant.purpose = "marketing.communications";
  grant.state = "granted";
  grant.source = "sms";
  grant.message_id = consent_evidence;
  ok(vault->SetConsents(kAdmin, "interjet", s, {grant}), "consent");
  ok(vault->GetConsents(kAdmin, "interjet", s), "consents");

  // Messages.
  MessageRequest m;
  m.channel = "sms";
  m.subject = s;
  m.purpose = "marketing.communications";
  m.text = message_text;
  ok(vault->EnqueueMessage({"op:mkt", "marketing"}, "interjet", m), "message");

  // Requests: a correction carried out, a grievance answered, an access export.
  RequestInput fix{"correction", s, request_details, "", {{"user.contact.email", correction}}};
  auto c = vault->SubmitRequest(kAgent, "interjet", fix);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ok(vault->AdvanceRequest(kAgent, "interjet", c->id, RequestAction::kVerify, "ID seen"), "verify");
  ok(vault->AdvanceRequest(kAgent, "interjet", c->id, RequestAction::kComplete, ""), "complete");
  auto g = vault->SubmitRequest(kAgent, "interjet", {"grievance", s, grievance});
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ok(vault->AdvanceRequest(kAgent, "interjet", g->id, RequestAction::kVerify, "ID seen"), "verify");
  ok(vault->AdvanceRequest(kAgent, "interjet", g->id, RequestAction::kComplete, resolution),
     "answer");
  auto a = vault->SubmitRequest(kAgent, "interjet", {"access", s, request_details});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto exported = vault->AdvanceRequest(kAgent, "interjet", a->id, RequestAction::kVerify, "ID");
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  ok(vault->DownloadExport(exported->download_token), "download");

  // Disclosures (with the payload) and their listing.
  DisclosureInput d;
  d.recipient = "payment_providers";
  d.purpose = "essential.service.payment_processing";
  d.categories = {"user.name", "user.contact.phone_number"};
  d.lookups = {{"phone", phone}, {"email", correction}, {kExternalIdKind, external_id}};
  d.export_payload = true;
  ok(vault->Disclose(kAdmin, "interjet", d), "disclose");
  ok(vault->ListDisclosures(kAdmin, "interjet", s), "disclosures");

  // Operators, keys, cookies, reports.
  ok(vault->AddOperator(kAdmin, "interjet", operator_email, "agent", operator_password),
     "operator");
  EXPECT_FALSE(vault->Login("interjet", operator_email, operator_password, "000000", "10.0.0.9")
                   .ok());
  ok(vault->CreateApiKey(kAdmin, "interjet", "agent", "crm"), "api key");
  ok(vault->RecordCookieChoice("interjet", {visitor, {{"analytics", true}}, "2025.1"}), "cookie");
  ok(vault->CookieChoices(kAdmin, "interjet", visitor), "cookie choices");
  const ReportPeriod year{kMar1 - 365 * kDay, kMar1 + kDay};
  ok(vault->ReportProcessing(kAdmin, "interjet", year), "report");
  ok(vault->ReportRequests(kAdmin, "interjet", year), "report");
  ok(vault->ReportAccess(kAdmin, "interjet", year), "report");

  // The end of the subject: closed, then erased.
  EXPECT_TRUE(vault->CloseSubject(kAdmin, "interjet", s, now).ok());
  EXPECT_TRUE(vault->EraseSubject(kAdmin, "interjet", s).ok());

  const auto events =
      testing_util::AuditEvents((tmp.path() / "data" / "custodian.db").string());
  ASSERT_GT(events.size(), 40u);
  std::vector<std::string> seeded = {name,          "Zephyrine",       "Quillfeather",
                                     phone,         phone_e164,        "9876543210",
                                     email,         Lower(email),      address,
                                     government_id, external_id,       record_payload_value,
                                     request_details, correction,      grievance,
                                     resolution,    consent_evidence,  message_text,
                                     operator_email, Lower(operator_email), operator_password,
                                     visitor,       caller,            caller_e164};
  for (const std::string& event : events) {
    const std::string lower = Lower(event);
    for (const std::string& value : seeded) {
      EXPECT_EQ(lower.find(Lower(value)), std::string::npos)
          << "'" << value << "' appears in the audit event " << event;
    }
  }
}

}  // namespace
}  // namespace custodian::service
