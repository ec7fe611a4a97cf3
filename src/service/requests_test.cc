// Data-subject requests on the example policies: due dates from the policy or
// the jurisdiction, the state machine with its refusals, overdue listing, the
// call flag, and nothing personal in the audit log.
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
const Actor kAgent{"op:priya", "agent"};
constexpr int64_t kMar1 = 1772323200000;  // 2026-03-01T00:00:00Z
constexpr int64_t kDay = 86400000;

// Makes every later audit append fail, as a full disk would.
void BreakAudit(const std::string& db_path) {
  testing_util::FailAuditAppends(db_path);
}

class RequestsTest : public testing_util::ClockedVaultTest {
 protected:
  void SetUp() override {
    now_ = kMar1;
    OpenWithTenants({{"interjet", "interjet"}, {"intnet", "intnet-iq"}});
    if (HasFatalFailure()) return;
    auto r = vault_->AddSubject(
        kAdmin, "interjet",
        {{"user.name", "Asha Rao"}, {"user.contact.phone_number", "+91 88701 00100"}}, "C1");
    ASSERT_TRUE(r.ok());
    subject_ = r->subject_id;
  }

  std::string subject_;
};

TEST_F(RequestsTest, DueDatesComeFromTheJurisdictionAndVerificationFromThePolicy) {
  // Interjet (India, DPDP: 90 days; rights.verification: otp).
  auto erasure = vault_->SubmitRequest(kAgent, "interjet",
                                       {"erasure", subject_, "Please delete my account data"});
  ASSERT_TRUE(erasure.ok()) << erasure.status().ToString();
  EXPECT_EQ(erasure->state, "verifying");
  EXPECT_EQ(erasure->verification, "otp");
  EXPECT_EQ(erasure->due_ms, kMar1 + 90 * kDay);
  EXPECT_FALSE(erasure->overdue);
  EXPECT_EQ(erasure->details, "Please delete my account data");
  auto grievance = vault_->SubmitRequest(kAgent, "interjet", {"grievance", "", "Rude agent"});
  ASSERT_TRUE(grievance.ok());
  EXPECT_EQ(grievance->subject, "");
  // The audit log names the type and due date, never the details.
  auto events = AuditEvents(Db(), "request.submit");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_NE(events[0].find("erasure due 2026-05-30T00:00:00Z"), std::string::npos) << events[0];
  for (const std::string& e : events) {
    EXPECT_EQ(e.find("delete my account"), std::string::npos);
    EXPECT_EQ(e.find("Rude"), std::string::npos);
  }
}

TEST_F(RequestsTest, TheStateMachineMovesForwardOnlyAndSaysWhy) {
  // A grievance needs an operator's answer (an access request would be
  // carried out as soon as it is verified).
  auto r = vault_->SubmitRequest(kAgent, "interjet", {"grievance", subject_, "Billed twice"});
  ASSERT_TRUE(r.ok());
  auto early = vault_->AdvanceRequest(kAgent, "interjet", r->id, RequestAction::kComplete, "");
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(early.status().message(), "request '" + r->id +
                                          "' is verifying; it cannot complete before the "
                                          "person's identity is verified");
  auto no_reason = vault_->AdvanceRequest(kAgent, "interjet", r->id, RequestAction::kVerify, "");
  EXPECT_EQ(no_reason.status().message(),
            "say why: verify needs a reason (it is kept as evidence)");
  auto verified = vault_->AdvanceRequest(kAgent, "interjet", r->id, RequestAction::kVerify,
                                         "Aadhaar checked at the Chennai store");
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ(verified->state, "verified");
  EXPECT_EQ(verified->resolution, "Aadhaar checked at the Chennai store");
  auto started = vault_->AdvanceRequest(kAgent, "interjet", r->id, RequestAction::kStart, "");
  ASSERT_TRUE(started.ok());
  EXPECT_EQ(started->state, "in_progress");
  EXPECT_EQ(started->assigned, "op:priya");
  now_ += 3 * kDay;
  auto unanswered = vault_->AdvanceRequest(kAgent, "interjet", r->id, RequestAction::kComplete, "");
  EXPECT_EQ(unanswered.status().message(),
            "say how the grievance was resolved: complete needs a reason for a grievance (it is "
            "the answer the person receives)");
  auto done = vault_->AdvanceRequest(kAgent, "interjet", r->id, RequestAction::kComplete,
                                     "The second charge was refunded");
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->officer, "Grievance Officer");
  EXPECT_EQ(done->resolution, "The second charge was refunded");
  ASSERT_TRUE(done->evidence.has_value());
  EXPECT_EQ(done->evidence->by, "op:priya");
  EXPECT_EQ(done->state, "completed");
  EXPECT_EQ(done->closed_ms, kMar1 + 3 * kDay);
  auto again = vault_->AdvanceRequest(kAgent, "interjet", r->id, RequestAction::kReject, "no");
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(AuditEvents(Db(), "request.complete").size(), 1u);
}

TEST_F(RequestsTest, OverdueRequestsAreListedAndCallsShowOpenOnes) {
  auto a = vault_->SubmitRequest(
      kAgent, "interjet",
      {"correction", subject_, "new address", "", {{"user.contact.address", "4 Lake Rd, Chennai"}}});
  auto b = vault_->SubmitRequest(kAgent, "interjet", {"access", subject_, ""});
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(
      vault_->AdvanceRequest(kAgent, "interjet", b->id, RequestAction::kReject, "could not verify")
          .ok());
  auto call = vault_->MatchCall(kAgent, "interjet", {"+918870100100", "", "c1", 0},
                                "essential.service.operations.support");
  ASSERT_TRUE(call.ok());
  EXPECT_EQ(call->open_requests, 1);
  EXPECT_TRUE(vault_->ListRequests(kAgent, "interjet", true, true)->empty());
  now_ += 91 * kDay;
  auto overdue = vault_->ListRequests(kAgent, "interjet", true, true);
  ASSERT_TRUE(overdue.ok());
  ASSERT_EQ(overdue->size(), 1u);
  EXPECT_EQ(overdue->front().id, a->id);
  EXPECT_TRUE(overdue->front().overdue);
  EXPECT_EQ(vault_->ListRequests(kAgent, "interjet", false, false)->size(), 2u);
}

TEST_F(RequestsTest, BadRequestsAreRefusedAndTenantsAreIsolated) {
  struct Case {
    RequestInput in;
    StatusCode code;
    std::string message;
  } cases[] = {
      {{"deletion", subject_, ""},
       StatusCode::kInvalidArgument,
       "request type 'deletion' is not known; use access, portability, correction, erasure, "
       "objection, restriction, consent_withdrawal or grievance"},
      {{"erasure", "", ""},
       StatusCode::kInvalidArgument,
       "a request of type 'erasure' must name its subject (only a grievance may come from "
       "someone not on file)"},
      {{"access", "sub_nobody", ""},
       StatusCode::kNotFound,
       "subject 'sub_nobody' does not exist in tenant 'interjet'"},
      {{"grievance", "", std::string(8 * 1024 + 1, 'x')},
       StatusCode::kInvalidArgument,
       "the details may be at most 8 KiB"},
  };
  for (const Case& c : cases) {
    auto r = vault_->SubmitRequest(kAgent, "interjet", c.in);
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_EQ(r.status().code(), c.code);
    EXPECT_EQ(r.status().message(), c.message);
  }
  EXPECT_TRUE(vault_->ListRequests(kAgent, "interjet", false, false)->empty());
  auto mine = vault_->SubmitRequest(kAgent, "interjet", {"access", subject_, ""});
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(vault_->GetRequest(kAdmin, "intnet", mine->id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(
      vault_->SubmitRequest({"x", "nobody"}, "interjet", {"access", subject_, ""}).status().code(),
      StatusCode::kPermissionDenied);
}

// The code the outbox would deliver (the text of the claimed message).
std::string SentCode(Vault& vault, std::string* to = nullptr) {
  auto claimed = vault.ClaimDeliveries(10);
  if (!claimed.ok() || claimed->size() != 1) return "";
  if (to) *to = claimed->front().to;
  const std::string& text = claimed->front().text;
  std::size_t at = text.find("code is ");
  return at == std::string::npos ? "" : text.substr(at + 8, 6);
}

TEST_F(RequestsTest, AnOtpGoesToTheContactOnFileAndVerifies) {
  auto r = vault_->SubmitRequest(kAgent, "interjet", {"erasure", subject_, ""});
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(vault_->SendVerificationCode(kAgent, "interjet", r->id, "sms").ok());
  std::string to;
  std::string code = SentCode(*vault_, &to);
  ASSERT_EQ(code.size(), 6u);
  EXPECT_EQ(to, "+918870100100");
  std::string wrong = code == "000000" ? "111111" : "000000";
  auto bad = vault_->CheckVerificationCode("interjet", r->id, wrong);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(bad.status().message(), "wrong or expired code (4 attempts left)");
  auto good = vault_->CheckVerificationCode("interjet", r->id, code);
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(good->state, "verified");
  EXPECT_EQ(good->resolution, "verified by a code sent to a contact on file");
  // The code is in no audit event.
  for (const std::string& e : AuditEvents(Db())) EXPECT_EQ(e.find(code), std::string::npos);
  // No email on file: no code by email.
  auto other = vault_->SubmitRequest(kAgent, "interjet", {"access", subject_, ""});
  EXPECT_EQ(vault_->SendVerificationCode(kAgent, "interjet", other->id, "email").status().code(),
            StatusCode::kNotFound);
}

TEST_F(RequestsTest, CodesExpireAndFiveWrongOnesHoldTheRequest) {
  auto r = vault_->SubmitRequest(kAgent, "interjet", {"erasure", subject_, ""});
  ASSERT_TRUE(vault_->SendVerificationCode(kAgent, "interjet", r->id, "sms").ok());
  std::string code = SentCode(*vault_);
  now_ += 10 * 60 * 1000;  // expired
  EXPECT_EQ(vault_->CheckVerificationCode("interjet", r->id, code).status().code(),
            StatusCode::kUnauthenticated);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(vault_->CheckVerificationCode("interjet", r->id, "12345x").status().code(),
              StatusCode::kUnauthenticated);
  }
  auto held = vault_->CheckVerificationCode("interjet", r->id, "12345x");
  EXPECT_EQ(held.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(held.status().message(),
            "too many wrong codes: the request is held until an operator verifies the person");
  EXPECT_EQ(vault_->GetRequest(kAgent, "interjet", r->id)->state, "held");
  EXPECT_EQ(AuditEvents(Db(), "request.held").size(), 1u);
  EXPECT_EQ(vault_->CheckVerificationCode("interjet", r->id, code).status().code(),
            StatusCode::kFailedPrecondition);
  auto by_hand = vault_->AdvanceRequest(kAgent, "interjet", r->id, RequestAction::kVerify,
                                        "called back on the number on file");
  ASSERT_TRUE(by_hand.ok());
  EXPECT_EQ(by_hand->state, "verified");
}

// An allowed read of requests is audited like a refused one (request.read),
// with ids and a count, never the details; if the event cannot be written the
// read fails and returns nothing.
TEST_F(RequestsTest, EveryAllowedReadIsAuditedWithIdsOnlyAndFailsClosed) {
  auto erasure = vault_->SubmitRequest(kAgent, "interjet",
                                       {"erasure", subject_, "Please delete my account data"});
  ASSERT_TRUE(erasure.ok()) << erasure.status().ToString();
  ASSERT_TRUE(vault_->SubmitRequest(kAgent, "interjet", {"grievance", "", "Rude agent"}).ok());

  auto one = vault_->GetRequest(kAgent, "interjet", erasure->id);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  auto events = AuditEvents(Db(), "request.read");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0].find("\"actor\":\"op:priya\",\"role\":\"agent\""), std::string::npos)
      << events[0];
  EXPECT_NE(events[0].find("\"subject\":\"" + subject_ + "\""), std::string::npos) << events[0];
  EXPECT_NE(events[0].find("\"outcome\":\"ok\",\"reason\":\"request " + erasure->id +
                           "\",\"count\":1"),
            std::string::npos)
      << events[0];

  auto all = vault_->ListRequests(kAgent, "interjet", false, false);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  events = AuditEvents(Db(), "request.read");
  ASSERT_EQ(events.size(), 2u);
  // One subject among the requests shown (the grievance names none).
  EXPECT_NE(events[1].find("\"subject\":\"" + subject_ + "\""), std::string::npos) << events[1];
  EXPECT_NE(events[1].find("\"outcome\":\"ok\",\"reason\":\"\",\"count\":2"),
            std::string::npos)
      << events[1];
  ASSERT_TRUE(vault_->ListRequests(kAgent, "interjet", true, true).ok());
  events = AuditEvents(Db(), "request.read");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_NE(events[2].find("\"reason\":\"overdue\",\"count\":0"), std::string::npos)
      << events[2];
  // An unknown id reads nothing: NotFound, no event.
  EXPECT_EQ(vault_->GetRequest(kAgent, "interjet", "req_none").status().code(),
            StatusCode::kNotFound);
  // Another tenant's reads are audited in that tenant and show nothing of this one's.
  auto theirs = vault_->ListRequests(kAgent, "intnet", false, false);
  ASSERT_TRUE(theirs.ok());
  EXPECT_TRUE(theirs->empty());
  events = AuditEvents(Db(), "request.read");
  ASSERT_EQ(events.size(), 4u);
  EXPECT_NE(events[3].find("\"tenant\":\"intnet\""), std::string::npos) << events[3];
  EXPECT_EQ(events[3].find(subject_), std::string::npos) << events[3];
  for (const std::string& e : AuditEvents(Db())) {
    EXPECT_EQ(e.find("delete my account"), std::string::npos) << e;
    EXPECT_EQ(e.find("Rude"), std::string::npos) << e;
    EXPECT_EQ(e.find("Asha"), std::string::npos) << e;
  }

  BreakAudit(Db());
  auto failed = vault_->GetRequest(kAgent, "interjet", erasure->id);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
  auto failed_list = vault_->ListRequests(kAgent, "interjet", false, false);
  ASSERT_FALSE(failed_list.ok());
  EXPECT_EQ(failed_list.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace custodian::service
