// Tests of what the loader builds: the model of a real policy, the defaults
// of the format, positions, and robustness against any input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "policy/loader.h"
#include "policy/validator.h"

namespace custodian::policy {
namespace {

using testing::ElementsAre;
using testing::HasSubstr;

const std::string kExamples = std::string(CUSTODIAN_SOURCE_DIR) + "/examples/policies";

std::string Dump(const LoadResult& r) {
  std::string out;
  for (const Diagnostic& d : r.diagnostics) out += d.ToString() + "\n";
  return out;
}

TEST(LoadInterjet, LoadsWithoutDiagnostics) {
  LoadResult r = LoadPolicyFile(kExamples + "/interjet.yaml");
  ASSERT_TRUE(r.ok()) << Dump(r);
  EXPECT_EQ(r.diagnostics.size(), 0u) << Dump(r);
  EXPECT_EQ(r.error_count(), 0);
  EXPECT_EQ(r.warning_count(), 0);
}

TEST(LoadInterjet, ModelHoldsWhatTheFileSays) {
  LoadResult r = LoadPolicyFile(kExamples + "/interjet.yaml");
  ASSERT_TRUE(r.ok()) << Dump(r);
  const Policy& p = *r.policy;
  EXPECT_EQ(p.file, kExamples + "/interjet.yaml");
  EXPECT_EQ(p.version, "2025.1");
  EXPECT_EQ(p.effective, (Date{2025, 1, 1}));
  EXPECT_FALSE(p.updated.has_value());

  const Organization& org = p.organization;
  EXPECT_EQ(org.name, "Interjet");
  EXPECT_EQ(org.legal_name, "Interjet Technologies");
  EXPECT_EQ(org.jurisdiction, "IN");
  EXPECT_EQ(org.default_region, "IN");  // defaulted from the jurisdiction
  EXPECT_EQ(org.role, "controller");
  EXPECT_EQ(org.website, "https://www.interjet.in");
  ASSERT_EQ(org.contacts.size(), 2u);
  EXPECT_EQ(org.contacts[1].channel, "whatsapp");
  EXPECT_EQ(org.contacts[1].value, "+91 8870-100-100");
  EXPECT_EQ(org.grievance_officer.title, "Grievance Officer");
  EXPECT_EQ(org.grievance_officer.contacts.size(), 2u);

  ASSERT_EQ(p.categories.size(), 17u);
  const Category* phone = p.FindCategory("user.contact.phone_number");
  ASSERT_NE(phone, nullptr);
  EXPECT_EQ(phone->label, "Phone number");
  EXPECT_TRUE(phone->index_exact);
  EXPECT_EQ(phone->normalize, Normalizer::kPhone);
  EXPECT_EQ(phone->source, DataSource::kProvided);
  EXPECT_FALSE(phone->sensitive);
  EXPECT_TRUE(p.FindCategory("user.government_id")->sensitive);
  EXPECT_EQ(p.FindCategory("user.device.ip_address")->source, DataSource::kObserved);
  EXPECT_EQ(p.FindCategory("user.name")->normalize, Normalizer::kText);
  EXPECT_EQ(p.categories[0].key, "user.name");  // document order
  EXPECT_EQ(p.categories[0].pos.line, 25);
  EXPECT_EQ(p.categories[0].pos.column, 3);

  ASSERT_EQ(p.purposes.size(), 9u);
  const Purpose* marketing = p.FindPurpose("marketing.communications");
  ASSERT_NE(marketing, nullptr);
  EXPECT_EQ(marketing->basis, LegalBasis::kConsent);
  EXPECT_THAT(marketing->categories,
              ElementsAre("user.name", "user.contact.phone_number", "user.contact.email"));
  EXPECT_THAT(marketing->roles, ElementsAre("admin", "marketing"));
  EXPECT_THAT(marketing->channels, ElementsAre("whatsapp", "sms", "email"));
  EXPECT_THAT(marketing->opt_out, ElementsAre("sms_stop", "whatsapp_stop", "email_link", "portal"));
  EXPECT_FALSE(marketing->default_granted);
  EXPECT_EQ(marketing->basis_pos.line, 123);
  EXPECT_EQ(marketing->basis_pos.column, 12);
  const Purpose* kyc = p.FindPurpose("essential.service.operations.kyc");
  ASSERT_NE(kyc, nullptr);
  EXPECT_TRUE(kyc->custom);
  EXPECT_EQ(kyc->basis, LegalBasis::kLegalObligation);
  EXPECT_EQ(p.FindPurpose("essential.service")->categories.size(), 9u);

  ASSERT_EQ(p.recipients.size(), 3u);
  const Recipient* authorities = p.FindRecipient("authorities");
  ASSERT_NE(authorities, nullptr);
  EXPECT_EQ(authorities->kind, RecipientKind::kAuthority);
  EXPECT_THAT(authorities->purposes, ElementsAre("essential.legal_obligation"));
  EXPECT_EQ(authorities->country, "IN");
  EXPECT_EQ(p.FindRecipient("partner_companies")->kind, RecipientKind::kAffiliate);

  ASSERT_EQ(p.record_kinds.size(), 4u);
  EXPECT_THAT(p.FindRecordKind("media")->anchors, ElementsAre("verified"));
  EXPECT_EQ(p.FindRecordKind("billing")->category, "user.financial");

  ASSERT_EQ(p.retention.size(), 4u);
  const RetentionRule& active = p.retention[0];
  EXPECT_EQ(active.name, "active-customer");
  EXPECT_EQ(active.anchor, AnchorKind::kWhileActive);
  EXPECT_FALSE(active.duration.has_value());
  EXPECT_EQ(active.categories.size(), 14u);
  const RetentionRule& billing = p.retention[1];
  EXPECT_EQ(billing.anchor, AnchorKind::kAfterEvent);
  EXPECT_EQ(billing.after, "closed");
  EXPECT_EQ(billing.duration, (Duration{12, Duration::Unit::kMonths}));
  EXPECT_THAT(billing.records, ElementsAre("billing", "service_log"));
  EXPECT_EQ(billing.action, RetentionAction::kDelete);
  EXPECT_EQ(billing.reason, "Audit and compliance");
  const RetentionRule& media = p.retention[2];
  EXPECT_EQ(media.after, "verified");
  EXPECT_EQ(media.duration, (Duration{90, Duration::Unit::kDays}));
  EXPECT_THAT(p.retention[3].records, ElementsAre("call_recording"));

  EXPECT_EQ(p.rights_verification, "otp");
  ASSERT_EQ(p.rights.size(), 5u);
  EXPECT_EQ(p.rights[0].name, "access");
  for (const Right& right : p.rights) {
    EXPECT_EQ(right.deadline_days, 90) << right.name;  // DPDP Rules default
    EXPECT_FALSE(right.extension_days.has_value()) << right.name;
    EXPECT_EQ(right.verification, "otp") << right.name;
  }
  ASSERT_NE(p.FindRight("erasure"), nullptr);
  EXPECT_THAT(p.FindRight("erasure")->exceptions, ElementsAre(HasSubstr("12 months")));
  EXPECT_EQ(p.FindRight("objection"), nullptr);

  ASSERT_EQ(p.cookies.size(), 2u);
  EXPECT_EQ(p.cookies[0].id, "strictly_necessary");
  EXPECT_FALSE(p.cookies[0].consent_required);
  EXPECT_EQ(p.cookies[0].purpose, "essential.service");
  EXPECT_TRUE(p.cookies[1].consent_required);

  ASSERT_EQ(p.security.size(), 6u);
  EXPECT_EQ(p.security[2].id, "operator_2fa");
  EXPECT_EQ(p.security[2].enforced, "required");
  EXPECT_EQ(p.security[4].id, "firewall");
  EXPECT_EQ(p.security[4].enforced, "");  // declared only

  EXPECT_EQ(p.changes.notice, "posted");
  EXPECT_EQ(p.changes.url, "https://www.interjet.in/privacy-policy/");
  EXPECT_THAT(p.changes.text, HasSubstr("Continued use"));
}

TEST(LoadExamples, EveryExamplePolicyLoadsCleanly) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kExamples)) {
    if (entry.path().extension() != ".yaml") continue;
    ++count;
    LoadResult r = LoadPolicyFile(entry.path().string());
    EXPECT_TRUE(r.ok()) << Dump(r);
    EXPECT_EQ(r.error_count(), 0) << Dump(r);
  }
  EXPECT_GE(count, 1);
}

constexpr std::string_view kMinimalGdpr = R"(version: "3"
effective: 2026-01-01
updated: 2026-02-01
organization:
  name: Beispiel
  jurisdiction: DE
categories:
  user.name: {}
  user.contact.email: {index: exact}
  user.contact.phone_number.work:
    custom: true
    label: Work phone
  user.contact.phone_number.work.desk:
    custom: true
    label: Desk phone
    normalize: text
    source: derived
purposes:
  essential.service:
    categories: [user.name, user.contact.email, user.contact.phone_number.work,
                 user.contact.phone_number.work.desk]
    roles: [admin]
    basis: contract
  essential.service.operations.onboarding:
    custom: true
    label: Onboarding
    basis: contract
    categories: [user.name]
    roles: [admin]
retention:
  - categories: [user.name, user.contact.email]
    while: active
  - categories: [user.contact.phone_number.work, user.contact.phone_number.work.desk]
    after: collected
    for: 1 year
    action: anonymize
    keep: [user.contact.phone_number.work]
rights:
  verification: operator
  access: {}
  erasure: {deadline_days: 14, verification: otp}
  grievance: {}
  correction:
    self_service: [user.contact.email]
    extension_days: 0
)";

TEST(LoadDefaults, FillsTheFormatsDefaults) {
  LoadResult r = LoadPolicyString(kMinimalGdpr, "de.yaml");
  ASSERT_TRUE(r.ok()) << Dump(r);
  const Policy& p = *r.policy;
  EXPECT_EQ(p.updated, (Date{2026, 2, 1}));
  EXPECT_EQ(p.organization.default_region, "DE");
  EXPECT_EQ(p.organization.role, "controller");
  // Labels from the taxonomy; custom keys keep their own.
  EXPECT_EQ(p.FindCategory("user.name")->label, "Name");
  EXPECT_EQ(p.FindCategory("user.contact.phone_number.work")->label, "Work phone");
  EXPECT_EQ(p.FindPurpose("essential.service")->label, "Providing the service");
  EXPECT_EQ(p.FindPurpose("essential.service.operations.onboarding")->label, "Onboarding");
  // Normalizers by key, children of phone_number included, unless set.
  EXPECT_EQ(p.FindCategory("user.contact.email")->normalize, Normalizer::kEmail);
  EXPECT_EQ(p.FindCategory("user.contact.phone_number.work")->normalize, Normalizer::kPhone);
  EXPECT_EQ(p.FindCategory("user.contact.phone_number.work.desk")->normalize, Normalizer::kText);
  EXPECT_EQ(p.FindCategory("user.contact.phone_number.work.desk")->source, DataSource::kDerived);
  EXPECT_EQ(p.FindCategory("user.name")->source, DataSource::kProvided);
  EXPECT_TRUE(p.FindCategory("user.contact.email")->index_exact);
  EXPECT_FALSE(p.FindCategory("user.name")->index_exact);
  // Unnamed rules get a name by position, 1-based.
  ASSERT_EQ(p.retention.size(), 2u);
  EXPECT_EQ(p.retention[0].name, "retention[1]");
  EXPECT_EQ(p.retention[0].action, RetentionAction::kDelete);
  EXPECT_EQ(p.retention[1].name, "retention[2]");
  EXPECT_EQ(p.retention[1].after, "collected");
  EXPECT_EQ(p.retention[1].action, RetentionAction::kAnonymize);
  EXPECT_THAT(p.retention[1].keep, ElementsAre("user.contact.phone_number.work"));
  // GDPR deadlines, the policy's own where it sets them.
  EXPECT_EQ(p.rights_verification, "operator");
  const Right* access = p.FindRight("access");
  EXPECT_EQ(access->deadline_days, 30);
  EXPECT_EQ(access->extension_days, 60);
  EXPECT_EQ(access->verification, "operator");
  const Right* erasure = p.FindRight("erasure");
  EXPECT_EQ(erasure->deadline_days, 14);
  EXPECT_EQ(erasure->verification, "otp");
  const Right* grievance = p.FindRight("grievance");
  EXPECT_EQ(grievance->deadline_days, 30);
  EXPECT_FALSE(grievance->extension_days.has_value());
  const Right* correction = p.FindRight("correction");
  EXPECT_EQ(correction->extension_days, 0);
  EXPECT_THAT(correction->self_service, ElementsAre("user.contact.email"));
  EXPECT_EQ(p.changes.notice, "posted");
}

TEST(LoadDefaults, IndonesiaAnswersInThreeDays) {
  std::string text(kMinimalGdpr);
  text.replace(text.find("jurisdiction: DE"), 16, "jurisdiction: ID");
  LoadResult r = LoadPolicyString(text, "id.yaml");
  ASSERT_TRUE(r.ok()) << Dump(r);
  EXPECT_EQ(r.policy->FindRight("access")->deadline_days, 3);
  EXPECT_FALSE(r.policy->FindRight("access")->extension_days.has_value());
}

TEST(LoadPositions, ColumnsCountCharactersNotBytes) {
  std::string text(kMinimalGdpr);
  // "Café" is five bytes and four characters; the key after it is at column 30.
  text.replace(text.find("  user.name: {}"), 15, "  user.name: {label: \"Café\", sensitiv: true}");
  LoadResult r = LoadPolicyString(text, "c.yaml");
  ASSERT_EQ(r.diagnostics.size(), 1u) << Dump(r);
  EXPECT_EQ(r.diagnostics[0].line, 8);
  EXPECT_EQ(r.diagnostics[0].column, 30);
  EXPECT_THAT(r.diagnostics[0].message, HasSubstr("did you mean 'sensitive'?"));
}

TEST(LoadPositions, ByteOrderMarkAndCrlfAreAccepted) {
  std::string text(kMinimalGdpr);
  std::string crlf = "\xEF\xBB\xBF";
  for (char c : text) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  LoadResult r = LoadPolicyString(crlf, "w.yaml");
  ASSERT_TRUE(r.ok()) << Dump(r);
  EXPECT_EQ(r.policy->FindCategory("user.contact.email")->pos.line, 9);
  EXPECT_EQ(r.policy->FindCategory("user.contact.email")->pos.column, 3);
  EXPECT_EQ(r.policy->version, "3");
}

TEST(LoadFile, MissingFileIsADiagnosticNotACrash) {
  LoadResult r = LoadPolicyFile("/nonexistent/policy.yaml");
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].ToString(),
            "/nonexistent/policy.yaml: error: cannot read the policy: No such file or directory");
}

TEST(LoadFile, ReadsBytesAsTheyAre) {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() /
      ("custodian_loader_test_" +
       std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + ".yaml");
  {
    std::ofstream out(path, std::ios::binary);
    out << "version: \"1\"\n\xC3\x28: x\n";  // an invalid two-byte sequence
  }
  LoadResult r = LoadPolicyFile(path.string());
  std::filesystem::remove(path);
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].ToString(),
            path.string() +
                ":2:1: error: the file is not valid UTF-8: byte 0xC3 does not belong "
                "here; save the file as UTF-8");
}

TEST(LoadRobustness, NeverThrowsOnAnyPrefixOfARealPolicy) {
  std::ifstream in(kExamples + "/interjet.yaml", std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(text.size(), 1000u);
  int failures = 0;
  for (std::size_t n = 0; n < text.size(); n += 37) {
    LoadResult r;
    EXPECT_NO_THROW(r = LoadPolicyString(std::string_view(text).substr(0, n), "cut.yaml"));
    if (!r.ok()) {
      ++failures;
      ASSERT_FALSE(r.diagnostics.empty()) << "failed without saying why at " << n;
      for (const Diagnostic& d : r.diagnostics) EXPECT_GE(d.line, 1) << d.ToString();
    }
  }
  EXPECT_GT(failures, 0);
}

TEST(LoadRobustness, DeepNestingIsAnError) {
  std::string text = "version: " + std::string(5000, '[') + std::string(5000, ']') + "\n";
  LoadResult r = LoadPolicyString(text, "deep.yaml");
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_THAT(r.diagnostics[0].message, HasSubstr("nests too deeply"));
}

TEST(LoadRobustness, OversizedInputIsRefused) {
  std::string text(4 * 1024 * 1024 + 1, '#');
  LoadResult r = LoadPolicyString(text, "big.yaml");
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_THAT(r.diagnostics[0].message, HasSubstr("larger than"));
}

TEST(LoadRobustness, FloodsOfErrorsAreCapped) {
  // Every item of the list is an alias of a list, each one an error.
  std::string text = "purposes:\n  essential.service:\n    roles: &r [admin]\n    categories: [";
  for (int i = 0; i < 5000; ++i) text += "*r, ";
  text += "*r]\n";
  LoadResult r = LoadPolicyString(text, "flood.yaml");
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.diagnostics.size(), 1001u);
  EXPECT_THAT(r.diagnostics.back().ToString(),
              testing::MatchesRegex("flood.yaml: error: [0-9]+ more problems not shown; fix the "
                                    "ones above first"));
}

TEST(ValidatePolicy, ChecksAPolicyBuiltInCode) {
  Policy p;
  p.file = "code";
  Category name;
  name.key = "user.name";
  name.pos = {3, 4};
  p.categories.push_back(name);
  Purpose service;
  service.key = "essential.service";
  service.pos = {7, 3};
  service.categories = {"user.name"};
  service.roles = {"admin"};
  p.purposes.push_back(service);
  RetentionRule rule;
  rule.categories = {"user.name"};
  p.retention.push_back(rule);
  std::vector<Diagnostic> diags = ValidatePolicy(p);
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].ToString(),
            "code:7:3: error: purpose 'essential.service' has no legal basis; add 'basis:' with "
            "one of: contract, legal_obligation, consent, legitimate_interest, vital_interest, "
            "public_task");
  p.purposes[0].basis = LegalBasis::kContract;
  EXPECT_TRUE(ValidatePolicy(p).empty());
}

TEST(Diagnostic, ToStringWithoutAPosition) {
  Diagnostic d;
  d.file = "f.yaml";
  d.message = "m";
  EXPECT_EQ(d.ToString(), "f.yaml: error: m");
  d.severity = Diagnostic::Severity::kWarning;
  d.line = 2;
  d.column = 5;
  EXPECT_EQ(d.ToString(), "f.yaml:2:5: warning: m");
}

}  // namespace
}  // namespace custodian::policy
