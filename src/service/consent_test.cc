// The consent ledger on the Interjet policy: marketing rests on consent
// (default opted out), service improvement on legitimate interest. Choices
// open and close reads at once, the history keeps evidence and never loses an
// entry, and erasure shreds it.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>

#include "audit_util.h"
#include "service/vault.h"
#include "test_util.h"
#include "vault_test_util.h"

namespace custodian::service {
namespace {

namespace fs = std::filesystem;
using testing_util::AuditEvents;

const Actor kAdmin{"test", "admin"};
const Actor kAgent{"key:crm", "agent"};
const Actor kMarketing{"key:mailer", "marketing"};
const Actor kAnalyst{"key:bi", "analyst"};
constexpr int64_t kMar1 = 1772323200000;  // 2026-03-01T00:00:00Z
constexpr int64_t kDay = 86400000;
constexpr char kMarketingPurpose[] = "marketing.communications";
constexpr char kImprove[] = "functional.service.improve";

class ConsentTest : public testing_util::ClockedVaultTest {
 protected:
  void SetUp() override {
    now_ = kMar1;
    OpenWithTenants({{"interjet", "interjet"}});
    if (HasFatalFailure()) return;
    subject_ = Add("CUST-1", "+91 88701 00100");
  }

  std::string Add(const std::string& external_id, const std::string& phone) {
    auto r = vault_->AddSubject(kAdmin, "interjet",
                                {{"user.name", "Asha Rao"}, {"user.contact.phone_number", phone}},
                                external_id);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->subject_id : "";
  }

  Result<std::vector<ConsentStatus>> Set(const Actor& actor, const std::string& purpose,
                                         const std::string& state, std::string source = "api") {
    ConsentChange c;
    c.purpose = purpose;
    c.state = state;
    c.source = std::move(source);
    return vault_->SetConsents(actor, "interjet", subject_, {c});
  }


  std::string subject_;
};

TEST_F(ConsentTest, AConsentPurposeIsReadableOnlyWhileTheSubjectConsents) {
  const std::string refused =
      "purpose 'marketing.communications' rests on consent, and the subject has not given it";
  auto before = vault_->ShowSubject(kMarketing, "interjet", subject_, kMarketingPurpose);
  ASSERT_FALSE(before.ok());
  EXPECT_EQ(before.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(before.status().message(), refused);

  ASSERT_TRUE(Set(kAgent, kMarketingPurpose, "granted").ok());
  auto granted = vault_->ShowSubject(kMarketing, "interjet", subject_, kMarketingPurpose);
  ASSERT_TRUE(granted.ok()) << granted.status().ToString();
  EXPECT_EQ(granted->fields.size(), 2u);
  auto found = vault_->Lookup(kMarketing, "interjet", {"phone", "8870100100"}, kMarketingPurpose);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->size(), 1u);

  now_ += kDay;
  auto withdrawn = Set(kAgent, kMarketingPurpose, "withdrawn", "operator");
  ASSERT_TRUE(withdrawn.ok());
  EXPECT_EQ(withdrawn->front().state, "withdrawn");
  EXPECT_FALSE(withdrawn->front().allowed);
  auto after = vault_->ShowSubject(kMarketing, "interjet", subject_, kMarketingPurpose);
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.status().message(), refused);
  // A lookup for the purpose no longer finds the subject, and cannot tell it
  // from a number nobody has; the audit log says why.
  auto gone = vault_->Lookup(kMarketing, "interjet", {"phone", "8870100100"}, kMarketingPurpose);
  ASSERT_TRUE(gone.ok());
  EXPECT_TRUE(gone->empty());
  auto lookups = AuditEvents(Db(), "lookup");
  ASSERT_FALSE(lookups.empty());
  EXPECT_NE(lookups.back().find("\"outcome\":\"refused\""), std::string::npos) << lookups.back();
  // Reads for a contract purpose do not depend on marketing consent.
  EXPECT_TRUE(vault_->ShowSubject(kAgent, "interjet", subject_, "essential.service").ok());
}

TEST_F(ConsentTest, AnObjectionRefusesALegitimateInterestPurposeUntilLifted) {
  EXPECT_TRUE(vault_->ShowSubject(kAnalyst, "interjet", subject_, kImprove).ok());
  auto objected = Set(kAgent, kImprove, "objected", "portal");
  ASSERT_TRUE(objected.ok()) << objected.status().ToString();
  EXPECT_EQ(objected->front().basis, "legitimate_interest");
  auto refused = vault_->ShowSubject(kAnalyst, "interjet", subject_, kImprove);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(refused.status().message(),
            "the subject objected to purpose 'functional.service.improve' (legitimate interest)");
  auto records = vault_->ListRecords(kAnalyst, "interjet", subject_, kImprove, "");
  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.status().message(), refused.status().message());

  now_ += kDay;
  ASSERT_TRUE(Set(kAgent, kImprove, "not_objected", "portal").ok());
  EXPECT_TRUE(vault_->ShowSubject(kAnalyst, "interjet", subject_, kImprove).ok());
}

TEST_F(ConsentTest, TheHistoryKeepsEveryChoiceWithItsEvidence) {
  ConsentChange grant{kMarketingPurpose, "granted", "api", std::nullopt, "", "req-1"};
  ASSERT_TRUE(vault_->SetConsents(kAgent, "interjet", subject_, {grant}).ok());
  now_ += kDay;
  ConsentChange stop{kMarketingPurpose, "withdrawn", "sms", std::nullopt, "msg-40", ""};
  ASSERT_TRUE(vault_->SetConsents({"telnyx", "agent"}, "interjet", subject_, {stop}).ok());

  auto view = vault_->GetConsents(kAgent, "interjet", subject_);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  ASSERT_EQ(view->history.size(), 2u);
  const ConsentEvent& first = view->history[0];
  EXPECT_EQ(first.purpose, kMarketingPurpose);
  EXPECT_EQ(first.state, "granted");
  EXPECT_EQ(first.source, "api");
  EXPECT_EQ(first.actor, "key:crm");
  EXPECT_EQ(first.policy_version, "2025.1");
  EXPECT_EQ(first.request_id, "req-1");
  EXPECT_EQ(first.at_ms, kMar1);
  const ConsentEvent& second = view->history[1];
  EXPECT_EQ(second.state, "withdrawn");
  EXPECT_EQ(second.source, "sms");
  EXPECT_EQ(second.actor, "telnyx");
  EXPECT_EQ(second.message_id, "msg-40");
  EXPECT_EQ(second.recorded_ms, kMar1 + kDay);

  // Every consent and legitimate-interest purpose is listed; only marketing
  // has a recorded choice.
  std::vector<std::string> purposes;
  for (const ConsentStatus& s : view->purposes) {
    purposes.push_back(s.purpose);
    if (s.purpose == kMarketingPurpose) {
      EXPECT_EQ(s.state, "withdrawn");
      EXPECT_FALSE(s.is_default);
      EXPECT_EQ(s.at_ms, kMar1 + kDay);
    } else {
      EXPECT_TRUE(s.is_default);
      EXPECT_EQ(s.state, "not_objected");
      EXPECT_TRUE(s.allowed);
    }
  }
  EXPECT_EQ(purposes,
            (std::vector<std::string>{kMarketingPurpose, kImprove, "essential.fraud_detection"}));
  // The audit log has the choices, never the evidence.
  auto withdrawals = AuditEvents(Db(), "consent.withdrawn");
  ASSERT_EQ(withdrawals.size(), 1u);
  EXPECT_NE(withdrawals[0].find("\"reason\":\"source sms\""), std::string::npos);
  EXPECT_EQ(withdrawals[0].find("msg-40"), std::string::npos);
  EXPECT_EQ(AuditEvents(Db(), "consent.show").size(), 1u);
}

TEST_F(ConsentTest, AnOlderChoiceJoinsTheHistoryButDoesNotOverrideANewerOne) {
  now_ = kMar1 + 10 * kDay;
  ASSERT_TRUE(Set(kAgent, kMarketingPurpose, "withdrawn").ok());
  std::vector<ConsentImportInput> rows = {
      {"CUST-1", {kMarketingPurpose, "granted", "import", kMar1 - 100 * kDay, "", ""}}};
  auto imported = vault_->ImportConsentBatch(kAdmin, "interjet", rows);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->front().outcome, ImportOutcome::kAdded);
  auto view = vault_->GetConsents(kAgent, "interjet", subject_);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->history.size(), 2u);
  EXPECT_EQ(view->purposes.front().state, "withdrawn");
  // A newer imported choice does override.
  rows[0].change.at_ms = kMar1 + 11 * kDay;
  ASSERT_TRUE(vault_->ImportConsentBatch(kAdmin, "interjet", rows).ok());
  view = vault_->GetConsents(kAgent, "interjet", subject_);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->purposes.front().state, "granted");
  EXPECT_EQ(view->history.back().source, "import");
}

TEST_F(ConsentTest, ImportRejectsBadRowsOneByOneAndNeedsAdmin) {
  std::vector<ConsentImportInput> rows = {
      {"CUST-1", {kMarketingPurpose, "granted", "import", kMar1, "", ""}},
      {"CUST-404", {kMarketingPurpose, "granted", "import", kMar1, "", ""}},
      {"CUST-1", {"essential.service", "withdrawn", "import", kMar1, "", ""}},
      {"CUST-1", {kMarketingPurpose, "maybe", "import", kMar1, "", ""}},
  };
  auto refused = vault_->ImportConsentBatch(kAgent, "interjet", rows);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(), "importing consents needs role 'admin' (not 'agent')");
  auto r = vault_->ImportConsentBatch(kAdmin, "interjet", rows);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[0].outcome, ImportOutcome::kAdded);
  EXPECT_EQ((*r)[1].outcome, ImportOutcome::kRejected);
  EXPECT_EQ((*r)[1].reason, "no subject has this external id");
  EXPECT_EQ((*r)[2].outcome, ImportOutcome::kRejected);
  EXPECT_EQ((*r)[3].outcome, ImportOutcome::kRejected);
  EXPECT_EQ((*r)[3].reason,
            "state 'maybe' does not apply to purpose 'marketing.communications', which rests on "
            "consent; use 'granted' or 'withdrawn'");
  auto view = vault_->GetConsents(kAgent, "interjet", subject_);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->history.size(), 1u);
}

TEST_F(ConsentTest, BadChoicesAreRefusedPreciselyAndChangeNothing) {
  ASSERT_TRUE(Set(kAgent, kMarketingPurpose, "granted").ok());
  const size_t audit_before = AuditEvents(Db()).size();
  struct Case {
    ConsentChange change;
    std::string message;
  } cases[] = {
      {{"no.such.purpose", "granted", "api", std::nullopt, "", ""},
       "purpose 'no.such.purpose' is not declared in the policy (version 2025.1)"},
      {{"essential.service", "withdrawn", "api", std::nullopt, "", ""},
       "purpose 'essential.service' rests on contract, not on consent or legitimate interest, so "
       "there is no choice to record; a person who disagrees can ask for erasure or restriction "
       "instead"},
      {{kMarketingPurpose, "objected", "api", std::nullopt, "", ""},
       "state 'objected' does not apply to purpose 'marketing.communications', which rests on "
       "consent; use 'granted' or 'withdrawn'"},
      {{kImprove, "withdrawn", "api", std::nullopt, "", ""},
       "state 'withdrawn' does not apply to purpose 'functional.service.improve', which rests on "
       "legitimate_interest; use 'objected' or 'not_objected'"},
      {{kMarketingPurpose, "withdrawn", "fax", std::nullopt, "", ""},
       "consent source 'fax' is not known; use api, portal, operator, sms, whatsapp, email_link "
       "or import"},
      {{kMarketingPurpose, "withdrawn", "api", std::nullopt, std::string(257, 'm'), ""},
       "message_id may be at most 256 bytes"},
  };
  for (const Case& c : cases) {
    auto r = vault_->SetConsents(kAgent, "interjet", subject_, {c.change});
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), c.message);
  }
  // Two choices where the second is bad: neither is recorded.
  auto pair = vault_->SetConsents(kAgent, "interjet", subject_,
                                  {{kMarketingPurpose, "withdrawn", "api", std::nullopt, "", ""},
                                   {kImprove, "granted", "api", std::nullopt, "", ""}});
  ASSERT_FALSE(pair.ok());
  EXPECT_EQ(pair.status().message(),
            "choice 2: state 'granted' does not apply to purpose 'functional.service.improve', "
            "which rests on legitimate_interest; use 'objected' or 'not_objected'");
  auto unknown =
      vault_->SetConsents(kAgent, "interjet", "sub_nobody",
                          {{kMarketingPurpose, "withdrawn", "api", std::nullopt, "", ""}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  // A role no purpose lists may not record choices (refusal audited).
  auto stranger = Set({"key:x", "nobody"}, kMarketingPurpose, "withdrawn");
  ASSERT_FALSE(stranger.ok());
  EXPECT_EQ(stranger.status().code(), StatusCode::kPermissionDenied);

  EXPECT_EQ(AuditEvents(Db()).size(), audit_before + 1);
  auto view = vault_->GetConsents(kAgent, "interjet", subject_);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->history.size(), 1u);
  EXPECT_EQ(view->purposes.front().state, "granted");
}

TEST_F(ConsentTest, ConsentAllowedAnswersForManySubjectsAtOnce) {
  std::string other = Add("CUST-2", "+91 88701 00200");
  ASSERT_TRUE(Set(kAgent, kMarketingPurpose, "granted").ok());
  auto allowed =
      vault_->ConsentAllowed("interjet", kMarketingPurpose, {subject_, other, "sub_nobody"});
  ASSERT_TRUE(allowed.ok());
  EXPECT_EQ(*allowed, (std::vector<bool>{true, false, false}));
  auto contract = vault_->ConsentAllowed("interjet", "essential.service", {subject_, other});
  ASSERT_TRUE(contract.ok());
  EXPECT_EQ(*contract, (std::vector<bool>{true, true}));
  auto undeclared = vault_->ConsentAllowed("interjet", "no.such", {subject_});
  ASSERT_FALSE(undeclared.ok());
  EXPECT_EQ(undeclared.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ConsentTest, ACallShowsTheMatchedSubjectsOwnChoices) {
  ASSERT_TRUE(Set(kAgent, kMarketingPurpose, "granted").ok());
  auto call = vault_->MatchCall(kAgent, "interjet", {"+918870100100", "", "call-1", 0},
                                "essential.service.operations.support");
  ASSERT_TRUE(call.ok()) << call.status().ToString();
  ASSERT_EQ(call->consents.size(), 1u);
  EXPECT_EQ(call->consents[0], std::make_pair(std::string(kMarketingPurpose), true));
  auto nobody = vault_->MatchCall(kAgent, "interjet", {"+918870100999", "", "call-2", 0},
                                  "essential.service.operations.support");
  ASSERT_TRUE(nobody.ok());
  EXPECT_EQ(nobody->consents[0].second, false);  // the declared default
}

TEST_F(ConsentTest, ErasureShredsTheHistoryAndKeepsTheAuditFacts) {
  ASSERT_TRUE(Set(kAgent, kMarketingPurpose, "granted").ok());
  ASSERT_TRUE(vault_->EraseSubject(kAdmin, "interjet", subject_).ok());
  auto view = vault_->GetConsents(kAgent, "interjet", subject_);
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.status().code(), StatusCode::kNotFound);
  auto allowed = vault_->ConsentAllowed("interjet", kMarketingPurpose, {subject_});
  ASSERT_TRUE(allowed.ok());
  EXPECT_EQ(*allowed, std::vector<bool>{false});
  EXPECT_EQ(AuditEvents(Db(), "consent.granted").size(), 1u);
  // No ledger row of the subject is left behind.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(Db().c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  for (const char* table : {"consents", "consent_events"}) {
    std::string sql = std::string("SELECT count(*) FROM ") + table + " WHERE subject = ?";
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK);
    sqlite3_bind_text(st, 1, subject_.c_str(), -1, SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int64(st, 0), 0) << table;
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
}

// Reading a visitor's cookie choices is audited (cookie.read) with the number
// of choices shown, never the visitor id; if the event cannot be written the
// read fails and returns nothing.
TEST_F(ConsentTest, CookieChoiceReadsAreAuditedWithoutTheVisitorAndFailClosed) {
  const std::string visitor = "visitorQX0987654321";
  auto version = vault_->GetCookieBanner("interjet");
  ASSERT_TRUE(version.ok());
  ASSERT_TRUE(
      vault_->RecordCookieChoice("interjet", {visitor, {{"analytics", true}}, version->policy_version})
          .ok());
  auto choices = vault_->CookieChoices(kAgent, "interjet", visitor);
  ASSERT_TRUE(choices.ok()) << choices.status().ToString();
  ASSERT_EQ(choices->size(), 1u);
  auto events = AuditEvents(Db(), "cookie.read");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0].find("\"actor\":\"key:crm\",\"role\":\"agent\""), std::string::npos)
      << events[0];
  EXPECT_NE(events[0].find("\"subject\":\"\""), std::string::npos) << events[0];
  EXPECT_NE(events[0].find("\"outcome\":\"ok\",\"reason\":\"\",\"count\":1"),
            std::string::npos)
      << events[0];
  for (const std::string& e : AuditEvents(Db())) {
    EXPECT_EQ(e.find(visitor), std::string::npos) << e;
  }
  {
    testing_util::FailAuditAppends(Db());
  }
  auto failed = vault_->CookieChoices(kAgent, "interjet", visitor);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace custodian::service
