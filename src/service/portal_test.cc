// The privacy portal on the example policies: a code to a contact on file
// signs the person in; a contact not on file gets the same answer and no
// code; codes expire and run out; a contact may ask five times an hour;
// sessions end on sign-out, expiry and erasure; requests made there are
// verified by the sign-in; nothing personal reaches the audit log.
#include <gtest/gtest.h>
#include <sqlite3.h>

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
constexpr int64_t kMar1 = 1772323200000;  // 2026-03-01T00:00:00Z
constexpr int64_t kMinute = 60 * 1000;
constexpr char kPhone[] = "088701 00100";  // Asha's, on file as +918870100100

class PortalTest : public testing_util::ClockedVaultTest {
 protected:
  void SetUp() override {
    now_ = kMar1;
    OpenWithTenants({{"interjet", "interjet"}, {"intnet", "intnet-iq"}});
    if (HasFatalFailure()) return;
    auto r = vault_->AddSubject(kAdmin, "interjet",
                                {{"user.name", "Asha Rao"},
                                 {"user.contact.phone_number", "+91 88701 00100"},
                                 {"user.contact.email", "asha@example.in"}},
                                "C1");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    subject_ = r->subject_id;
  }

  // The messages the outbox delivers now (each recorded as sent).
  std::vector<Delivery> Sent() {
    auto claimed = vault_->ClaimDeliveries(100);
    EXPECT_TRUE(claimed.ok());
    if (!claimed.ok()) return {};
    for (const Delivery& d : *claimed) {
      EXPECT_TRUE(vault_->CompleteDelivery(d, Status::Ok(), "test").ok());
    }
    return *claimed;
  }
  static std::string CodeIn(const Delivery& d) {
    std::size_t at = d.text.find("code is ");
    return at == std::string::npos ? "" : d.text.substr(at + 8, 6);
  }
  static std::string Wrong(const std::string& code) { return code == "000000" ? "111111" : "000000"; }

  // Signs Asha in by her phone; her session.
  PortalSession SignIn() {
    auto challenge = vault_->StartPortalSignIn("interjet", {"phone", kPhone});
    EXPECT_TRUE(challenge.ok()) << challenge.status().ToString();
    auto sent = Sent();
    EXPECT_EQ(sent.size(), 1u);
    auto in = vault_->OpenPortalSession("interjet", challenge->id, sent.empty() ? "" : CodeIn(sent[0]));
    EXPECT_TRUE(in.ok()) << in.status().ToString();
    token_ = in.ok() ? in->token : "";
    csrf_ = in.ok() ? in->csrf_token : "";
    auto session = vault_->AuthenticatePortal("interjet", token_);
    EXPECT_TRUE(session.ok()) << session.status().ToString();
    return session.ok() ? *session : PortalSession{};
  }

  std::string subject_;
  std::string token_, csrf_;
};

TEST_F(PortalTest, ACodeToTheContactOnFileSignsThePersonIn) {
  auto challenge = vault_->StartPortalSignIn("interjet", {"phone", kPhone});
  ASSERT_TRUE(challenge.ok()) << challenge.status().ToString();
  EXPECT_EQ(challenge->channel, "sms");
  EXPECT_EQ(challenge->id.size(), 20u);
  EXPECT_EQ(challenge->expires_ms, kMar1 + 10 * kMinute);
  auto sent = Sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].channel, "sms");
  EXPECT_EQ(sent[0].to, "+918870100100");
  const std::string code = CodeIn(sent[0]);
  ASSERT_EQ(code.size(), 6u);
  EXPECT_EQ(sent[0].text, "Interjet: your privacy portal code is " + code +
                              ". It expires in 10 minutes. If you did not ask for it, ignore "
                              "this message.");

  auto wrong = vault_->OpenPortalSession("interjet", challenge->id, Wrong(code));
  EXPECT_EQ(wrong.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(wrong.status().message(), "wrong or expired code (4 attempts left)");
  // Another tenant's portal does not know the challenge.
  EXPECT_EQ(vault_->OpenPortalSession("intnet", challenge->id, code).status().message(),
            "wrong or expired code; ask for a new code");
  auto in = vault_->OpenPortalSession("interjet", challenge->id, code);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_EQ(in->token.rfind("cps_" + challenge->id + "_", 0), 0u) << in->token;
  EXPECT_EQ(in->expires_ms, kMar1 + 30 * kMinute);
  // A code is good once.
  EXPECT_EQ(vault_->OpenPortalSession("interjet", challenge->id, code).status().message(),
            "wrong or expired code; ask for a new code");

  auto session = vault_->AuthenticatePortal("interjet", in->token);
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  EXPECT_EQ(session->subject, subject_);
  EXPECT_EQ(session->tenant, "interjet");
  EXPECT_TRUE(vault_->CheckPortalCsrf(*session, in->csrf_token).ok());
  EXPECT_EQ(vault_->CheckPortalCsrf(*session, "").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(vault_->CheckPortalCsrf(*session, in->token).message(), "missing or wrong CSRF token");

  // By email too (Interjet indexes both).
  ASSERT_TRUE(vault_->StartPortalSignIn("interjet", {"email", "Asha@Example.IN"}).ok());
  sent = Sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].channel, "email");
  EXPECT_EQ(sent[0].to, "asha@example.in");
  EXPECT_EQ(sent[0].email_subject, "Interjet privacy portal code");

  // The audit log has the steps with the subject, never the code or contact.
  auto codes = AuditEvents(Db(), "portal.code");
  ASSERT_EQ(codes.size(), 2u);
  EXPECT_NE(codes[0].find("\"subject\":\"" + subject_ + "\""), std::string::npos) << codes[0];
  EXPECT_NE(codes[0].find("\"outcome\":\"ok\",\"reason\":\"code sent by sms\""), std::string::npos)
      << codes[0];
  // The wrong code and the right one (a challenge of another tenant, or one
  // already used, is no one's: nothing to audit).
  auto sign_ins = AuditEvents(Db(), "portal.sign_in");
  ASSERT_EQ(sign_ins.size(), 2u);
  EXPECT_NE(sign_ins[1].find("\"outcome\":\"ok\""), std::string::npos) << sign_ins[1];
  for (const std::string& e : AuditEvents(Db())) {
    EXPECT_EQ(e.find(code), std::string::npos) << e;
    EXPECT_EQ(e.find("8870100100"), std::string::npos) << e;
    EXPECT_EQ(e.find("asha@"), std::string::npos) << e;
    EXPECT_EQ(e.find(in->token.substr(25)), std::string::npos) << e;
  }
}

TEST_F(PortalTest, AContactNotOnFileGetsTheSameAnswerAndNoCode) {
  auto nobody = vault_->StartPortalSignIn("interjet", {"phone", "088701 99999"});
  ASSERT_TRUE(nobody.ok()) << nobody.status().ToString();
  EXPECT_EQ(nobody->channel, "sms");
  EXPECT_EQ(nobody->id.size(), 20u);
  EXPECT_EQ(nobody->expires_ms, kMar1 + 10 * kMinute);
  EXPECT_TRUE(Sent().empty());
  // Every code is wrong, counted as for a real challenge.
  for (int left = 4; left > 0; --left) {
    EXPECT_EQ(vault_->OpenPortalSession("interjet", nobody->id, "123456").status().message(),
              "wrong or expired code (" + std::to_string(left) + " attempts left)");
  }
  EXPECT_EQ(vault_->OpenPortalSession("interjet", nobody->id, "123456").status().message(),
            "too many wrong codes; ask for a new code");

  // Two people sharing a phone number: no one is signed in by it.
  ASSERT_TRUE(vault_->AddSubject(kAdmin, "interjet",
                                 {{"user.name", "Ravi Rao"},
                                  {"user.contact.phone_number", "+91 88701 00100"}},
                                 "C2")
                  .ok());
  ASSERT_TRUE(vault_->StartPortalSignIn("interjet", {"phone", kPhone}).ok());
  EXPECT_TRUE(Sent().empty());
  // Another tenant holds no one with Asha's number.
  ASSERT_TRUE(vault_->StartPortalSignIn("intnet", {"phone", kPhone}).ok());
  EXPECT_TRUE(Sent().empty());

  auto codes = AuditEvents(Db(), "portal.code");
  ASSERT_EQ(codes.size(), 3u);
  EXPECT_NE(codes[0].find("\"outcome\":\"refused\",\"reason\":\"no subject on file with this "
                          "contact\""),
            std::string::npos)
      << codes[0];
  EXPECT_NE(codes[1].find("\"reason\":\"more than one subject on file with this contact\""),
            std::string::npos)
      << codes[1];
  EXPECT_EQ(codes[1].find(subject_), std::string::npos) << codes[1];
}

TEST_F(PortalTest, BadContactsAreRefusedWithTheirReason) {
  auto kind = vault_->StartPortalSignIn("interjet", {"name", "Asha Rao"});
  EXPECT_EQ(kind.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(kind.status().message(), "sign in with a phone number or an email address");
  auto phone = vault_->StartPortalSignIn("interjet", {"phone", "not a number"});
  EXPECT_EQ(phone.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(phone.status().message().find("lookup by"), std::string::npos)
      << phone.status().message();
  auto email = vault_->StartPortalSignIn("interjet", {"email", "asha@"});
  EXPECT_EQ(email.status().code(), StatusCode::kInvalidArgument);
  // Intnet IQ indexes phone numbers only.
  auto by_email = vault_->StartPortalSignIn("intnet", {"email", "asha@example.in"});
  EXPECT_EQ(by_email.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(by_email.status().message(),
            "the privacy portal of Intnet IQ cannot find people by email address; sign in with "
            "your phone number");
  EXPECT_EQ(vault_->StartPortalSignIn("nosuch", {"phone", kPhone}).status().code(),
            StatusCode::kNotFound);
  // Nothing was recorded or sent.
  EXPECT_TRUE(AuditEvents(Db(), "portal.code").empty());
  EXPECT_TRUE(Sent().empty());
  // A malformed challenge id is a wrong code.
  EXPECT_EQ(vault_->OpenPortalSession("interjet", "../etc", "123456").status().message(),
            "wrong or expired code; ask for a new code");
}

TEST_F(PortalTest, CodesExpireAndFiveWrongOnesEndTheChallenge) {
  auto late = vault_->StartPortalSignIn("interjet", {"phone", kPhone});
  ASSERT_TRUE(late.ok());
  auto sent = Sent();
  ASSERT_EQ(sent.size(), 1u);
  now_ += 10 * kMinute;
  EXPECT_EQ(vault_->OpenPortalSession("interjet", late->id, CodeIn(sent[0])).status().message(),
            "wrong or expired code (4 attempts left)");

  auto guessed = vault_->StartPortalSignIn("interjet", {"phone", kPhone});
  ASSERT_TRUE(guessed.ok());
  sent = Sent();
  ASSERT_EQ(sent.size(), 1u);
  const std::string code = CodeIn(sent[0]);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(vault_->OpenPortalSession("interjet", guessed->id, Wrong(code)).status().code(),
              StatusCode::kUnauthenticated);
  }
  EXPECT_EQ(vault_->OpenPortalSession("interjet", guessed->id, Wrong(code)).status().message(),
            "too many wrong codes; ask for a new code");
  // The right code no longer helps.
  EXPECT_EQ(vault_->OpenPortalSession("interjet", guessed->id, code).status().message(),
            "too many wrong codes; ask for a new code");
  EXPECT_EQ(AuditEvents(Db(), "portal.sign_in").size(), 7u);
}

TEST_F(PortalTest, AContactMayAskForFiveCodesAnHourOnFileOrNot) {
  for (const char* phone : {kPhone, "088701 99999"}) {
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(vault_->StartPortalSignIn("interjet", {"phone", phone}).ok()) << i;
    }
    int64_t retry = 0;
    auto sixth = vault_->StartPortalSignIn("interjet", {"phone", phone}, &retry);
    EXPECT_EQ(sixth.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(sixth.status().message(),
              "this contact has asked for 5 codes in the last hour; wait an hour before asking "
              "again");
    EXPECT_EQ(retry, 60 * kMinute);
  }
  EXPECT_EQ(Sent().size(), 5u);  // only Asha's codes went out
  // The same number written another way is the same contact.
  EXPECT_EQ(vault_->StartPortalSignIn("interjet", {"phone", "+918870100100"}).status().code(),
            StatusCode::kFailedPrecondition);
  // Another contact, and the same one an hour later, may.
  EXPECT_TRUE(vault_->StartPortalSignIn("interjet", {"email", "asha@example.in"}).ok());
  now_ += 60 * kMinute;
  int64_t retry = -1;
  EXPECT_TRUE(vault_->StartPortalSignIn("interjet", {"phone", kPhone}, &retry).ok());
  EXPECT_EQ(retry, 0);
}

TEST_F(PortalTest, SessionsEndOnSignOutExpiryAndErasure) {
  PortalSession session = SignIn();
  ASSERT_EQ(session.subject, subject_);
  const std::string token = token_;
  // Tampered, another tenant's portal, not a token: no session.
  std::string tampered = token;
  tampered.back() = tampered.back() == 'a' ? 'b' : 'a';
  for (const auto& [tenant, t] : std::vector<std::pair<std::string, std::string>>{
           {"interjet", tampered}, {"intnet", token}, {"interjet", "cps_x"}, {"nosuch", token}}) {
    auto bad = vault_->AuthenticatePortal(tenant, t);
    EXPECT_EQ(bad.status().code(), StatusCode::kUnauthenticated) << tenant << " " << t;
    EXPECT_EQ(bad.status().message(), "invalid or expired session");
  }
  ASSERT_TRUE(vault_->ClosePortalSession(session).ok());
  EXPECT_EQ(vault_->AuthenticatePortal("interjet", token).status().message(),
            "invalid or expired session");
  EXPECT_EQ(AuditEvents(Db(), "portal.sign_out").size(), 1u);

  SignIn();
  now_ += 30 * kMinute - 1;
  EXPECT_TRUE(vault_->AuthenticatePortal("interjet", token_).ok());
  now_ += 1;
  EXPECT_EQ(vault_->AuthenticatePortal("interjet", token_).status().message(),
            "invalid or expired session");

  SignIn();
  ASSERT_TRUE(vault_->EraseSubject(kAdmin, "interjet", subject_).ok());
  EXPECT_EQ(vault_->AuthenticatePortal("interjet", token_).status().message(),
            "invalid or expired session");
  // The erasure deleted the person's sign-ins.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(Db().c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM portal_sessions WHERE subject = ?", -1,
                               &st, nullptr),
            SQLITE_OK);
  sqlite3_bind_text(st, 1, subject_.c_str(), -1, SQLITE_TRANSIENT);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(st, 0), 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_F(PortalTest, RequestsMadeThereAreVerifiedByTheSignIn) {
  PortalSession session = SignIn();
  auto overview = vault_->ReadPortal(session);
  ASSERT_TRUE(overview.ok()) << overview.status().ToString();
  EXPECT_EQ(overview->organization, "Interjet");
  EXPECT_EQ(overview->rights, (std::vector<std::string>{"access", "correction", "erasure",
                                                        "consent_withdrawal", "grievance"}));
  EXPECT_TRUE(overview->requests.empty());
  EXPECT_FALSE(overview->consents.empty());

  // Access needs no operator: carried out at once, with its download token.
  auto access = vault_->SubmitPortalRequest(session, {"access", "", ""});
  ASSERT_TRUE(access.ok()) << access.status().ToString();
  EXPECT_EQ(access->subject, subject_);
  EXPECT_EQ(access->state, "completed");
  EXPECT_EQ(access->verification, "otp");
  EXPECT_EQ(access->resolution,
            "verified by a code sent to a contact on file (privacy portal sign-in)");
  EXPECT_FALSE(access->download_token.empty());
  // A withdrawal through the portal (the policy's `opt_out: portal`) is in the
  // ledger at once, recorded as made there.
  auto withdrawal =
      vault_->SubmitPortalRequest(session, {"consent_withdrawal", "", "", "marketing.communications"});
  ASSERT_TRUE(withdrawal.ok()) << withdrawal.status().ToString();
  EXPECT_EQ(withdrawal->state, "completed");
  auto ledger = vault_->GetConsents(kAdmin, "interjet", subject_);
  ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
  ASSERT_FALSE(ledger->history.empty());
  EXPECT_EQ(ledger->history.back().purpose, "marketing.communications");
  EXPECT_EQ(ledger->history.back().state, "withdrawn");
  EXPECT_EQ(ledger->history.back().source, "portal");
  // Erasure waits for an operator, already verified.
  auto erasure = vault_->SubmitPortalRequest(session, {"erasure", "", "Close and delete"});
  ASSERT_TRUE(erasure.ok()) << erasure.status().ToString();
  EXPECT_EQ(erasure->state, "verified");

  // Refusals, each changing nothing.
  auto other = vault_->SubmitPortalRequest(session, {"access", "sub_someoneelse", ""});
  EXPECT_EQ(other.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(other.status().message(),
            "a portal request is about the person signed in; leave out `subject`");
  auto objection = vault_->SubmitPortalRequest(session, {"objection", "", "", "marketing"});
  EXPECT_EQ(objection.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(objection.status().message(),
            "the privacy policy of Interjet offers no 'objection' requests here (it offers: "
            "access, correction, erasure, consent_withdrawal, grievance)");
  auto unknown = vault_->SubmitPortalRequest(session, {"delete_all", "", ""});
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);

  now_ += kMinute;
  auto later = vault_->ReadPortal(session);
  ASSERT_TRUE(later.ok()) << later.status().ToString();
  ASSERT_EQ(later->requests.size(), 3u);
  EXPECT_EQ(AuditEvents(Db(), "request.submit").size(), 3u);
  auto reads = AuditEvents(Db(), "portal.read");
  ASSERT_EQ(reads.size(), 2u);
  EXPECT_NE(reads[1].find("\"actor\":\"subject\""), std::string::npos) << reads[1];
  EXPECT_NE(reads[1].find("\"count\":3"), std::string::npos) << reads[1];
}

TEST_F(PortalTest, ThePersonGivesAndWithdrawsConsentThere) {
  PortalSession session = SignIn();
  auto given = vault_->SetPortalConsent(session, "marketing.communications", "granted");
  ASSERT_TRUE(given.ok()) << given.status().ToString();
  EXPECT_EQ(given->state, "granted");
  EXPECT_TRUE(given->allowed);
  now_ += kMinute;
  auto withdrawn = vault_->SetPortalConsent(session, "marketing.communications", "withdrawn");
  ASSERT_TRUE(withdrawn.ok()) << withdrawn.status().ToString();
  EXPECT_FALSE(withdrawn->allowed);
  auto ledger = vault_->GetConsents(kAdmin, "interjet", subject_);
  ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
  ASSERT_EQ(ledger->history.size(), 2u);
  for (const ConsentEvent& e : ledger->history) {
    EXPECT_EQ(e.source, "portal");
    EXPECT_EQ(e.actor, "subject");
    EXPECT_EQ(e.request_id, "portal session " + session.session_id);
  }
  // Refusals, each recording nothing.
  auto interest = vault_->SetPortalConsent(session, "functional.service.improve", "withdrawn");
  EXPECT_EQ(interest.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(interest.status().message(),
            "purpose 'functional.service.improve' does not rest on consent; to stop it, make an "
            "objection request");
  auto contract = vault_->SetPortalConsent(session, "essential.service", "withdrawn");
  EXPECT_EQ(contract.status().message(),
            "purpose 'essential.service' does not rest on consent; there is no choice to make");
  auto unknown = vault_->SetPortalConsent(session, "marketing.sale", "granted");
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(unknown.status().message(), "purpose 'marketing.sale' is not declared in the policy");
  auto state = vault_->SetPortalConsent(session, "marketing.communications", "objected");
  EXPECT_EQ(state.status().message(),
            "the state of a consent is granted or withdrawn, not 'objected'");
  EXPECT_EQ(vault_->GetConsents(kAdmin, "interjet", subject_)->history.size(), 2u);
  EXPECT_EQ(AuditEvents(Db(), "consent.granted").size(), 1u);
  EXPECT_EQ(AuditEvents(Db(), "consent.withdrawn").size(), 1u);
}

}  // namespace
}  // namespace custodian::service
