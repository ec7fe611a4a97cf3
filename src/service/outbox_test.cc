// The outbox on the Interjet policy: consent checked at enqueue and again at
// send time, the recipient read from the vault when sending, retries with
// backoff, leases, dead letters, idempotency keys and unsubscribe headers.
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
using testing_util::ReadFile;

const Actor kAdmin{"test", "admin"};
const Actor kAgent{"key:crm", "agent"};
const Actor kMarketer{"key:mailer", "marketing"};
constexpr int64_t kMar1 = 1772323200000;  // 2026-03-01T00:00:00Z
constexpr char kMarketing[] = "marketing.communications";
constexpr char kNotices[] = "essential.service.notifications";

// Makes every later audit append fail, as a full disk would.
void BreakAudit(const std::string& db_path) {
  testing_util::FailAuditAppends(db_path);
}

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path() / "data";
    vault_ = testing_util::OpenTestVault(dir_, [this] { return now_; });
    ASSERT_NE(vault_, nullptr);
    ASSERT_TRUE(testing_util::CreateExampleTenant(*vault_, "interjet").ok());
    ASSERT_TRUE(vault_
                    ->SetChannelSettings(kAdmin, "interjet",
                                         R"({"public_url": "https://privacy.interjet.example"})")
                    .ok());
    auto r = vault_->AddSubject(kAdmin, "interjet",
                                {{"user.name", "Asha Rao"},
                                 {"user.contact.phone_number", "088701 00100"},
                                 {"user.contact.email", "asha@example.in"}},
                                "C1");
    ASSERT_TRUE(r.ok());
    subject_ = r->subject_id;
  }

  MessageRequest Sms(const std::string& purpose, const std::string& text = "Your bill is ready") {
    return {"sms", subject_, "", purpose, "", text, ""};
  }
  void Grant(const std::string& state = "granted") {
    ASSERT_TRUE(vault_
                    ->SetConsents(kAgent, "interjet", subject_,
                                  {{kMarketing, state, "portal", std::nullopt, "", ""}})
                    .ok());
  }
  std::string StateOf(const std::string& id) {
    auto m = vault_->GetMessage(kAgent, "interjet", id);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? m->state : "";
  }
  std::string Db() const { return (dir_ / "custodian.db").string(); }

  testing_util::TempDir tmp_;
  fs::path dir_;
  int64_t now_ = kMar1;
  std::unique_ptr<Vault> vault_;
  std::string subject_;
  OutboxOptions options_;
};

TEST_F(OutboxTest, MarketingWithoutConsentIsRefusedAtEnqueue) {
  auto r = vault_->EnqueueMessage(kMarketer, "interjet", Sms(kMarketing, "50% off!"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(r.status().message(),
            "purpose 'marketing.communications' rests on consent, and the subject has not given "
            "it");
  EXPECT_TRUE(vault_->ListMessages(kAgent, "interjet", 10)->empty());
  auto events = AuditEvents(Db(), "message.enqueue");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0].find("\"outcome\":\"refused\""), std::string::npos);
}

TEST_F(OutboxTest, ConsentWithdrawnAfterEnqueueStopsTheSend) {
  Grant();
  auto queued = vault_->EnqueueMessage(kMarketer, "interjet", Sms(kMarketing, "50% off!"));
  ASSERT_TRUE(queued.ok()) << queued.status().ToString();
  EXPECT_EQ(queued->state, "queued");
  Grant("withdrawn");
  auto claimed = vault_->ClaimDeliveries(10, options_);
  ASSERT_TRUE(claimed.ok());
  EXPECT_TRUE(claimed->empty());
  auto m = vault_->GetMessage(kAgent, "interjet", queued->id);
  EXPECT_EQ(m->state, "refused");
  EXPECT_EQ(m->last_error,
            "purpose 'marketing.communications' rests on consent, and the subject has not given "
            "it");
  EXPECT_EQ(AuditEvents(Db(), "message.refused").size(), 1u);
}

TEST_F(OutboxTest, TheRecipientIsReadFromTheVaultAtSendTime) {
  auto queued = vault_->EnqueueMessage(kAgent, "interjet", Sms(kNotices));
  ASSERT_TRUE(queued.ok()) << queued.status().ToString();
  ASSERT_TRUE(vault_
                  ->UpdateSubject(kAdmin, "interjet", subject_,
                                  {{"user.contact.phone_number", "+91 88701 00999"}})
                  .ok());
  auto claimed = vault_->ClaimDeliveries(10, options_);
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 1u);
  const Delivery& d = claimed->front();
  EXPECT_EQ(d.to, "+918870100999");
  EXPECT_EQ(d.text, "Your bill is ready");
  EXPECT_EQ(d.attempt, 1);
  EXPECT_TRUE(d.headers.empty());
  EXPECT_EQ(StateOf(d.id), "sending");
  ASSERT_TRUE(vault_->CompleteDelivery(d, Status::Ok(), "tlx-1", options_).ok());
  auto m = vault_->GetMessage(kAgent, "interjet", d.id);
  EXPECT_EQ(m->state, "sent");
  EXPECT_EQ(m->provider_id, "tlx-1");
  EXPECT_EQ(m->sent_ms, kMar1);
  // The text and the number are sealed in the store.
  std::string bytes = ReadFile(Db()) + ReadFile(Db() + "-wal");
  EXPECT_EQ(bytes.find("Your bill is ready"), std::string::npos);
}

TEST_F(OutboxTest, TransientFailuresBackOffWithJitterThenDie) {
  auto queued = vault_->EnqueueMessage(kAgent, "interjet", Sms(kNotices));
  ASSERT_TRUE(queued.ok());
  options_.max_attempts = 3;
  options_.base_backoff_ms = 1000;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto claimed = vault_->ClaimDeliveries(10, options_);
    ASSERT_TRUE(claimed.ok());
    ASSERT_EQ(claimed->size(), 1u) << attempt;
    EXPECT_EQ(claimed->front().attempt, attempt);
    ASSERT_TRUE(vault_
                    ->CompleteDelivery(claimed->front(),
                                       Status::Unavailable("HTTP 503 from the provider"), "",
                                       options_)
                    .ok());
    auto m = vault_->GetMessage(kAgent, "interjet", queued->id);
    if (attempt < 3) {
      EXPECT_EQ(m->state, "queued");
      int64_t wait = *m->next_attempt_ms - now_;
      int64_t base = 1000LL << (attempt - 1);
      EXPECT_GE(wait, base * 8 / 10);
      EXPECT_LE(wait, base * 12 / 10);
      EXPECT_TRUE(vault_->ClaimDeliveries(10, options_)->empty()) << "claimed before its time";
      now_ += wait;
    } else {
      EXPECT_EQ(m->state, "dead");
      EXPECT_EQ(m->last_error, "HTTP 503 from the provider");
    }
  }
  EXPECT_EQ(AuditEvents(Db(), "message.retry").size(), 2u);
  EXPECT_EQ(AuditEvents(Db(), "message.dead").size(), 1u);
}

TEST_F(OutboxTest, APermanentFailureIsDeadAtOnceAndALostWorkersLeaseRunsOut) {
  auto a = vault_->EnqueueMessage(kAgent, "interjet", Sms(kNotices, "one"));
  auto b = vault_->EnqueueMessage(kAgent, "interjet", Sms(kNotices, "two"));
  ASSERT_TRUE(a.ok() && b.ok());
  auto claimed = vault_->ClaimDeliveries(10, options_);
  ASSERT_EQ(claimed->size(), 2u);
  ASSERT_TRUE(vault_
                  ->CompleteDelivery(claimed->at(0),
                                     Status::FailedPrecondition("HTTP 422 from the provider"), "",
                                     options_)
                  .ok());
  EXPECT_EQ(StateOf(claimed->at(0).id), "dead");
  // The second was never completed (the worker died): it comes back after the lease.
  EXPECT_TRUE(vault_->ClaimDeliveries(10, options_)->empty());
  now_ += options_.lease_ms;
  auto again = vault_->ClaimDeliveries(10, options_);
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ(again->front().id, claimed->at(1).id);
  EXPECT_EQ(again->front().attempt, 2);
}

TEST_F(OutboxTest, AnIdempotencyKeyQueuesOnce) {
  MessageRequest m = Sms(kNotices);
  m.idempotency_key = "invoice-2026-03";
  auto first = vault_->EnqueueMessage(kAgent, "interjet", m);
  auto second = vault_->EnqueueMessage(kAgent, "interjet", m);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_FALSE(first->duplicate);
  EXPECT_TRUE(second->duplicate);
  EXPECT_EQ(first->id, second->id);
  EXPECT_EQ(vault_->ListMessages(kAgent, "interjet", 10)->size(), 1u);
  EXPECT_EQ(vault_->ClaimDeliveries(10, options_)->size(), 1u);
}

TEST_F(OutboxTest, MarketingEmailCarriesAOneClickUnsubscribe) {
  Grant();
  MessageRequest m{"email", subject_, "", kMarketing, "Offers", "New plans", ""};
  ASSERT_TRUE(vault_->EnqueueMessage(kMarketer, "interjet", m).ok());
  auto claimed = vault_->ClaimDeliveries(10, options_);
  ASSERT_EQ(claimed->size(), 1u);
  const Delivery& d = claimed->front();
  EXPECT_EQ(d.to, "asha@example.in");
  EXPECT_EQ(d.email_subject, "Offers");
  ASSERT_EQ(d.headers.size(), 2u);
  EXPECT_EQ(d.headers[0].first, "List-Unsubscribe");
  EXPECT_EQ(d.headers[0].second.rfind("<https://privacy.interjet.example/v1/unsubscribe?token=", 0),
            0u);
  EXPECT_EQ(d.headers[1], std::make_pair(std::string("List-Unsubscribe-Post"),
                                         std::string("List-Unsubscribe=One-Click")));
  EXPECT_NE(d.text.find("To stop these emails: https://privacy.interjet.example/v1/unsubscribe"),
            std::string::npos);
  // The link works.
  std::string url = d.headers[0].second;
  std::string token = url.substr(url.find("token=") + 6);
  token.pop_back();  // '>'
  ASSERT_TRUE(vault_->Unsubscribe(token).ok());
  EXPECT_FALSE(vault_->ConsentAllowed("interjet", kMarketing, {subject_})->front());
}

TEST_F(OutboxTest, ErasureRolesAndBadRequestsAreRefused) {
  auto queued = vault_->EnqueueMessage(kAgent, "interjet", Sms(kNotices));
  ASSERT_TRUE(queued.ok());
  ASSERT_TRUE(vault_->EraseSubject(kAdmin, "interjet", subject_).ok());
  EXPECT_TRUE(vault_->ClaimDeliveries(10, options_)->empty());
  EXPECT_EQ(StateOf(queued->id), "refused");

  struct Case {
    Actor actor;
    MessageRequest request;
    StatusCode code;
    std::string message;
  } cases[] = {
      {kMarketer, Sms(kNotices), StatusCode::kPermissionDenied,
       "role 'marketing' may not use purpose 'essential.service.notifications' (allowed roles: "
       "admin, agent)"},
      {kAdmin, Sms("functional.service.improve"), StatusCode::kPermissionDenied,
       "purpose 'functional.service.improve' may not use a phone number, so it cannot send by "
       "sms"},
      {kAgent,
       {"fax", subject_, "", kNotices, "", "x", ""},
       StatusCode::kInvalidArgument,
       "channel 'fax' is not known; use sms, whatsapp or email"},
      {kAgent,
       {"sms", subject_, "+918870100100", kNotices, "", "x", ""},
       StatusCode::kInvalidArgument,
       "a message goes to a subject or to an address, not both"},
      {kAgent, Sms(kNotices, std::string(1601, 'x')), StatusCode::kInvalidArgument,
       "the text must be 1 to 1600 bytes"},
      {kAgent, Sms(kNotices), StatusCode::kNotFound, ""},  // the erased subject
  };
  for (const Case& c : cases) {
    auto r = vault_->EnqueueMessage(c.actor, "interjet", c.request);
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_EQ(r.status().code(), c.code) << r.status().ToString();
    if (!c.message.empty()) {
      EXPECT_EQ(r.status().message(), c.message);
    }
  }
  EXPECT_EQ(vault_->ListMessages(kAgent, "interjet", 10)->size(), 1u);
}

// An allowed read of the outbox is audited (message.read) with ids and a
// count, never a message's text or recipient; if the event cannot be written
// the read fails and returns nothing.
TEST_F(OutboxTest, EveryAllowedReadIsAuditedWithIdsOnlyAndFailsClosed) {
  auto queued = vault_->EnqueueMessage(kAgent, "interjet", Sms(kNotices, "Your router ships"));
  ASSERT_TRUE(queued.ok()) << queued.status().ToString();
  auto one = vault_->GetMessage(kAgent, "interjet", queued->id);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  auto events = AuditEvents(Db(), "message.read");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0].find("\"actor\":\"key:crm\",\"role\":\"agent\""), std::string::npos)
      << events[0];
  EXPECT_NE(events[0].find("\"subject\":\"" + subject_ + "\""), std::string::npos) << events[0];
  EXPECT_NE(events[0].find("\"outcome\":\"ok\",\"reason\":\"message " + queued->id +
                           "\",\"count\":1"),
            std::string::npos)
      << events[0];
  auto list = vault_->ListMessages(kAgent, "interjet", 10);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  events = AuditEvents(Db(), "message.read");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_NE(events[1].find("\"subject\":\"" + subject_ + "\""), std::string::npos) << events[1];
  EXPECT_NE(events[1].find("\"outcome\":\"ok\",\"reason\":\"\",\"count\":1"),
            std::string::npos)
      << events[1];
  // A role no purpose lists: refused, and audited as before.
  EXPECT_EQ(vault_->ListMessages({"key:x", "nobody"}, "interjet", 10).status().code(),
            StatusCode::kPermissionDenied);
  events = AuditEvents(Db(), "message.read");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_NE(events[2].find("\"outcome\":\"refused\""), std::string::npos) << events[2];
  for (const std::string& e : AuditEvents(Db())) {
    EXPECT_EQ(e.find("router ships"), std::string::npos) << e;
    EXPECT_EQ(e.find("8870100100"), std::string::npos) << e;
  }

  BreakAudit(Db());
  auto failed = vault_->GetMessage(kAgent, "interjet", queued->id);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(vault_->ListMessages(kAgent, "interjet", 10).ok());
}

}  // namespace
}  // namespace custodian::service
