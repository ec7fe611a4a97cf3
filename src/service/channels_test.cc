// Channels on the Interjet policy: settings checked and sealed, inbound
// STOP/START/HELP applied through the blind index, and signed unsubscribe
// links that need no lookup to verify.
#include <gtest/gtest.h>
#include <sodium.h>
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
constexpr int64_t kMar1 = 1772323200000;  // 2026-03-01T00:00:00Z
constexpr int64_t kDay = 86400000;
constexpr char kMarketing[] = "marketing.communications";

class ChannelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path() / "data";
    vault_ = testing_util::OpenTestVault(dir_, [this] { return now_; });
    ASSERT_NE(vault_, nullptr);
    ASSERT_TRUE(testing_util::CreateExampleTenant(*vault_, "interjet").ok());
    ASSERT_TRUE(testing_util::CreateExampleTenant(*vault_, "other").ok());
    settings_ = R"({"public_url": "https://privacy.interjet.example/",
                    "telnyx": {"public_key": ")" +
                testing_util::NewEd25519PublicKey() +
                R"(", "api_key": "KEY0123", "from": "+91 80 4000 1000",
                               "numbers": ["08040001001"]},
                    "smtp": {"url": "smtp://127.0.0.1:2525", "from": "Privacy@Interjet.example"}})";
    ASSERT_TRUE(vault_->SetChannelSettings(kAdmin, "interjet", settings_).ok());
    auto r = vault_->AddSubject(
        kAdmin, "interjet",
        {{"user.name", "Asha Rao"}, {"user.contact.phone_number", "+91 88701 00100"}}, "C1");
    ASSERT_TRUE(r.ok());
    subject_ = r->subject_id;
  }

  std::string State(const std::string& purpose = kMarketing) {
    auto v = vault_->GetConsents(kAgent, "interjet", subject_);
    EXPECT_TRUE(v.ok());
    for (const auto& s : v->purposes) {
      if (s.purpose == purpose) return s.state;
    }
    return "";
  }
  std::string Db() const { return (dir_ / "custodian.db").string(); }

  testing_util::TempDir tmp_;
  fs::path dir_;
  int64_t now_ = kMar1;
  std::unique_ptr<Vault> vault_;
  std::string settings_;
  std::string subject_;
};

TEST_F(ChannelsTest, SettingsAreCheckedNormalizedAndSealed) {
  auto s = vault_->GetChannelSettings("interjet");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_TRUE(s->telnyx && s->smtp);
  EXPECT_EQ(s->telnyx->from, "+918040001000");
  EXPECT_EQ(s->telnyx->numbers, (std::vector<std::string>{"+918040001000", "+918040001001"}));
  EXPECT_EQ(s->telnyx->base_url, "https://api.telnyx.com");
  EXPECT_EQ(s->smtp->from, "privacy@interjet.example");
  EXPECT_EQ(s->public_url, "https://privacy.interjet.example");
  EXPECT_EQ(*vault_->TenantForNumber("+918040001001"), "interjet");
  EXPECT_EQ(vault_->TenantForNumber("+918040009999").status().code(), StatusCode::kNotFound);
  // The API key is sealed: its bytes are nowhere in the database.
  EXPECT_EQ(ReadFile(Db()).find("KEY0123"), std::string::npos);
  EXPECT_EQ(ReadFile(Db() + "-wal").find("KEY0123"), std::string::npos);
}

TEST_F(ChannelsTest, BadSettingsAreRefusedWithAPointerAndChangeNothing) {
  const std::string key = testing_util::NewEd25519PublicKey();
  struct Case {
    std::string json, message;
  } cases[] = {
      {"{", "channel settings : is not valid JSON"},
      {R"({"telnyx": {"public_key": "abc"}})",
       "channel settings /telnyx/public_key: must be a base64 Ed25519 public key (32 bytes)"},
      {R"({"telnyx": {"public_key": ")" + key + R"(", "apikey": "x"}})",
       "channel settings /telnyx/apikey: unknown field; expected public_key, api_key, base_url, "
       "from, numbers, messaging_profile_id"},
      {R"({"telnyx": {"public_key": ")" + key + R"(", "from": "+91 80 4000 1000"}})",
       "channel settings /telnyx/api_key: is required to send from a number"},
      {R"({"telnyx": {"public_key": ")" + key + R"(", "numbers": ["12"]}})",
       "channel settings /telnyx/numbers/0: "},
      {R"({"smtp": {"url": "http://mail", "from": "a@b.example"}})",
       "channel settings /smtp/url: must be an smtp:// or smtps:// URL"},
      {R"({"public_url": "ftp://x"})",
       "channel settings /public_url: must be an http:// or https:// URL"},
      {R"({"link_ttl_days": 0})",
       "channel settings /link_ttl_days: must be a whole number of days from 1 to 3650"},
  };
  for (const Case& c : cases) {
    Status s = vault_->SetChannelSettings(kAdmin, "interjet", c.json);
    ASSERT_FALSE(s.ok()) << c.json;
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(s.message().substr(0, c.message.size()), c.message);
  }
  Status agent = vault_->SetChannelSettings(kAgent, "interjet", "{}");
  EXPECT_EQ(agent.code(), StatusCode::kPermissionDenied);
  // Another tenant may not claim Interjet's numbers.
  Status taken = vault_->SetChannelSettings(kAdmin, "other", settings_);
  EXPECT_EQ(taken.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(vault_->GetChannelSettings("interjet")->telnyx->from, "+918040001000");
}

TEST_F(ChannelsTest, StopAndStartFromTheSubjectsNumberChangeEveryMarketingPurposeOfTheChannel) {
  ASSERT_TRUE(vault_
                  ->SetConsents(kAgent, "interjet", subject_,
                                {{kMarketing, "granted", "portal", std::nullopt, "", ""}})
                  .ok());
  auto stop = vault_->ApplyInboundMessage("interjet", {"sms", "088701 00100", "tlx-m1", " Stop! "},
                                          "evt-1");
  ASSERT_TRUE(stop.ok()) << stop.status().ToString();
  EXPECT_EQ(stop->keyword, "stop");
  EXPECT_EQ(stop->purposes, std::vector<std::string>{kMarketing});
  EXPECT_EQ(stop->reply,
            "Interjet: you will get no more offers on this number. Reply START to get them again.");
  EXPECT_EQ(State(), "withdrawn");
  auto view = vault_->GetConsents(kAgent, "interjet", subject_);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->history.back().source, "sms");
  EXPECT_EQ(view->history.back().actor, "telnyx");
  EXPECT_EQ(view->history.back().message_id, "tlx-m1");

  // The same event delivered again changes nothing.
  now_ += kDay;
  auto again =
      vault_->ApplyInboundMessage("interjet", {"sms", "088701 00100", "tlx-m1", "START"}, "evt-1");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(State(), "withdrawn");

  auto start = vault_->ApplyInboundMessage("interjet",
                                           {"whatsapp", "+918870100100", "tlx-m2", "yes"}, "evt-2");
  ASSERT_TRUE(start.ok());
  EXPECT_EQ(start->keyword, "start");
  EXPECT_EQ(State(), "granted");
  EXPECT_EQ(AuditEvents(Db(), "inbound.stop").size(), 1u);
  EXPECT_EQ(AuditEvents(Db(), "inbound.start").size(), 1u);
}

TEST_F(ChannelsTest, AnUnknownSenderGetsTheSameAnswerAndIsAuditedWithoutItsNumber) {
  auto known = vault_->ApplyInboundMessage("interjet", {"sms", "+918870100100", "m1", "STOP"}, "");
  auto unknown =
      vault_->ApplyInboundMessage("interjet", {"sms", "+919999900000", "m2", "STOP"}, "");
  ASSERT_TRUE(known.ok() && unknown.ok());
  EXPECT_EQ(known->keyword, unknown->keyword);
  EXPECT_EQ(known->purposes, unknown->purposes);
  EXPECT_EQ(known->reply, unknown->reply);
  auto events = AuditEvents(Db(), "inbound.stop");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_NE(events[1].find("\"outcome\":\"miss\""), std::string::npos) << events[1];
  for (const std::string& e : events) {
    EXPECT_EQ(e.find("9999900000"), std::string::npos);
    EXPECT_EQ(e.find("8870100100"), std::string::npos);
  }
}

TEST_F(ChannelsTest, HelpAnswersWithTheGrievanceContactAndOtherTextDoesNothing) {
  auto help = vault_->ApplyInboundMessage("interjet", {"sms", "+918870100100", "m1", "help"}, "");
  ASSERT_TRUE(help.ok());
  EXPECT_EQ(help->reply,
            "Interjet: for privacy questions contact Grievance Officer at admin@interjet.in or "
            "+91 8870-100-100. Reply STOP to stop offers, START to get them again.");
  auto chat = vault_->ApplyInboundMessage(
      "interjet", {"sms", "+918870100100", "m2", "please don't stop my internet"}, "");
  ASSERT_TRUE(chat.ok());
  EXPECT_EQ(chat->keyword, "none");
  EXPECT_TRUE(chat->reply.empty());
  EXPECT_EQ(State(), "withdrawn");  // the policy default, untouched
  EXPECT_EQ(vault_->GetConsents(kAgent, "interjet", subject_)->history.size(), 0u);
}

TEST_F(ChannelsTest, UnsubscribeLinksVerifyWithoutALookupAndExpire) {
  ASSERT_TRUE(vault_
                  ->SetConsents(kAgent, "interjet", subject_,
                                {{kMarketing, "granted", "portal", std::nullopt, "", ""}})
                  .ok());
  auto token = vault_->UnsubscribeToken("interjet", subject_, kMarketing);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  auto target = vault_->CheckUnsubscribeToken(*token);
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  EXPECT_EQ(target->organization, "Interjet");
  EXPECT_EQ(target->purpose_label, "Special offers via WhatsApp, SMS or email");
  EXPECT_FALSE(target->withdrawn);
  EXPECT_EQ(State(), "granted");  // looking is not unsubscribing

  auto done = vault_->Unsubscribe(*token);
  ASSERT_TRUE(done.ok());
  EXPECT_TRUE(done->withdrawn);
  EXPECT_EQ(State(), "withdrawn");
  ASSERT_TRUE(vault_->Unsubscribe(*token).ok());  // again: no new history entry
  EXPECT_EQ(vault_->GetConsents(kAgent, "interjet", subject_)->history.size(), 2u);
  EXPECT_EQ(vault_->GetConsents(kAgent, "interjet", subject_)->history.back().source, "email_link");

  std::string tampered = *token;
  tampered[tampered.size() / 3] = tampered[tampered.size() / 3] == 'A' ? 'B' : 'A';
  EXPECT_NE(vault_->CheckUnsubscribeToken(tampered).status().code(), StatusCode::kOk);
  auto other_key = vault_->UnsubscribeToken("other", subject_, kMarketing);
  ASSERT_TRUE(other_key.ok());
  // A token of another tenant does not open this one (its tenant is inside the MAC).
  auto other = vault_->CheckUnsubscribeToken(*other_key);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->tenant, "other");

  now_ += 366 * kDay;
  auto expired = vault_->CheckUnsubscribeToken(*token);
  EXPECT_EQ(expired.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(vault_->UnsubscribeToken("interjet", subject_, "essential.service").status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace custodian::service
