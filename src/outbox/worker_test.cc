// The delivery worker end to end: the vault's outbox, the tenant's channel
// settings pointing at local sinks, and the real transports in between.
#include "outbox/worker.h"

#include <gtest/gtest.h>
#include <sodium.h>
#include <stdlib.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "outbox/test_sinks.h"
#include "test_util.h"
#include "vault_test_util.h"

namespace custodian::outbox {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using service::Actor;
using service::MessageRequest;
using testing::HttpReply;
using testing::HttpSink;
using testing::SmtpSink;

const Actor kAdmin{"test", "admin"};
const Actor kAgent{"key:crm", "agent"};
constexpr int64_t kMar1 = 1772323200000;  // 2026-03-01T00:00:00Z

class WorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path() / "data";
    vault_ = testing_util::OpenTestVault(dir_, [this] { return now_; });
    ASSERT_NE(vault_, nullptr);
    ASSERT_TRUE(testing_util::CreateExampleTenant(*vault_, "interjet").ok());
    auto r = vault_->AddSubject(kAdmin, "interjet",
                                {{"user.name", "Asha Rao"},
                                 {"user.contact.phone_number", "088701 00100"},
                                 {"user.contact.email", "asha@example.in"}},
                                "C1");
    ASSERT_TRUE(r.ok());
    subject_ = r->subject_id;
    options_.outbox.base_backoff_ms = 1000;
  }

  void Configure(bool with_smtp = true, std::string telnyx_url = "") {
    json settings = {{"public_url", "https://privacy.interjet.example"},
                     {"telnyx",
                      {{"public_key", testing_util::NewEd25519PublicKey()},
                       {"api_key", "KEY-test"},
                       {"base_url", telnyx_url.empty() ? telnyx_.url() : telnyx_url},
                       {"from", "+918040001000"}}}};
    if (with_smtp) {
      settings["smtp"] = {{"url", smtp_.url()}, {"from", "privacy@interjet.example"}};
    }
    ASSERT_TRUE(vault_->SetChannelSettings(kAdmin, "interjet", settings.dump()).ok());
  }

  std::string Queue(const MessageRequest& m, const Actor& actor = kAgent) {
    auto r = vault_->EnqueueMessage(actor, "interjet", m);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->id : "";
  }
  service::MessageStatus Status(const std::string& id) {
    return vault_->GetMessage(kAgent, "interjet", id).value();
  }

  testing_util::TempDir tmp_;
  fs::path dir_;
  int64_t now_ = kMar1;
  std::unique_ptr<service::Vault> vault_;
  std::string subject_;
  HttpSink telnyx_{{HttpReply{200, R"({"data":{"id":"tlx-1"}})"}}};
  SmtpSink smtp_;
  WorkerOptions options_;
};

TEST_F(WorkerTest, AnSmsGoesToTheNumberOnFileThroughTelnyx) {
  Configure();
  std::string id =
      Queue({"sms", subject_, "", "essential.service.notifications", "", "Your bill is ready", ""});
  auto counts = DeliverDue(*vault_, options_);
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  EXPECT_EQ(counts->sent, 1);
  auto requests = telnyx_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/v2/messages");
  EXPECT_EQ(requests[0].Header("Authorization"), "Bearer KEY-test");
  EXPECT_EQ(requests[0].Header("Idempotency-Key"), id);
  json body = json::parse(requests[0].body);
  EXPECT_EQ(body["to"], "+918870100100");
  EXPECT_EQ(body["from"], "+918040001000");
  EXPECT_EQ(body["text"], "Your bill is ready");
  EXPECT_EQ(Status(id).state, "sent");
  EXPECT_EQ(Status(id).provider_id, "tlx-1");
}

TEST_F(WorkerTest, ATemporaryFailureIsRetriedWithTheSameIdempotencyKey) {
  HttpSink flaky({HttpReply{503}, HttpReply{200, R"({"data":{"id":"tlx-2"}})"}});
  Configure(true, flaky.url());
  std::string id =
      Queue({"sms", subject_, "", "essential.service.notifications", "", "Your bill is ready", ""});
  auto first = DeliverDue(*vault_, options_);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->retried, 1);
  EXPECT_EQ(Status(id).state, "queued");
  EXPECT_NE(Status(id).last_error.find("503"), std::string::npos) << Status(id).last_error;
  EXPECT_EQ(DeliverDue(*vault_, options_)->claimed, 0);  // not before its backoff
  now_ += 2000;
  auto second = DeliverDue(*vault_, options_);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->sent, 1);
  auto requests = flaky.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].Header("Idempotency-Key"), requests[1].Header("Idempotency-Key"));
  EXPECT_EQ(Status(id).provider_id, "tlx-2");
  EXPECT_EQ(Status(id).attempts, 2);
}

TEST_F(WorkerTest, MarketingEmailCarriesTheUnsubscribeHeadersOverSmtp) {
  Configure();
  ASSERT_TRUE(
      vault_
          ->SetConsents(kAgent, "interjet", subject_,
                        {{"marketing.communications", "granted", "portal", std::nullopt, "", ""}})
          .ok());
  std::string id = Queue({"email", subject_, "", "marketing.communications", "New plans",
                          "Faster plans are here.", ""},
                         {"key:mailer", "marketing"});
  auto counts = DeliverDue(*vault_, options_);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->sent, 1) << Status(id).last_error;
  auto sessions = smtp_.sessions();
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0].rcpt_to, std::vector<std::string>{"<asha@example.in>"});
  const std::string& data = sessions[0].data;
  EXPECT_NE(data.find("List-Unsubscribe: <https://privacy.interjet.example/v1/unsubscribe?token="),
            std::string::npos)
      << data;
  EXPECT_NE(data.find("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), std::string::npos);
  EXPECT_NE(data.find("Subject: New plans"), std::string::npos);
  EXPECT_EQ(Status(id).state, "sent");
}

TEST_F(WorkerTest, NoSettingsForTheChannelIsDeadAndSaysWhy) {
  Configure(/*with_smtp=*/false);
  std::string id = Queue(
      {"email", subject_, "", "essential.service.notifications", "Bill", "Your bill is ready", ""});
  auto counts = DeliverDue(*vault_, options_);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->failed, 1);
  EXPECT_EQ(Status(id).state, "dead");
  EXPECT_EQ(Status(id).last_error, "the tenant has no SMTP settings (custodian channels set)");
}

TEST_F(WorkerTest, TheBackgroundWorkerDeliversWhenWoken) {
  Configure();
  Worker worker(*vault_, options_);
  worker.Start();
  std::string id =
      Queue({"sms", subject_, "", "essential.service.notifications", "", "Your bill is ready", ""});
  worker.Wake();
  for (int i = 0; i < 200 && Status(id).state != "sent"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  worker.Stop();
  EXPECT_EQ(Status(id).state, "sent");
  EXPECT_EQ(worker.totals().sent, 1);
}

}  // namespace
}  // namespace custodian::outbox
