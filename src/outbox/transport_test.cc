#include "outbox/transport.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "outbox/test_sinks.h"

namespace custodian::outbox {
namespace {

using ::testing::HasSubstr;
using testing::HttpReply;
using testing::HttpSink;
using ::testing::Not;
using testing::SmtpSink;

constexpr char kApiKey[] = "KEY0123secretABC";
constexpr char kPhone[] = "+15557654321";
constexpr char kText[] = "Your appointment is tomorrow";
constexpr char kEmail[] = "alice@example.com";

// A failure message must never hold the recipient, the text or a credential.
void ExpectSafe(const Status& status) {
  EXPECT_FALSE(status.ok());
  for (const char* secret : {kApiKey, kPhone, "15557654321", kText, kEmail, "alice", "hunter2"}) {
    EXPECT_THAT(status.message(), Not(HasSubstr(secret))) << status.ToString();
  }
}

TelnyxConfig Telnyx(const HttpSink& sink) {
  TelnyxConfig config;
  config.base_url = sink.url();
  config.api_key = kApiKey;
  config.from = "+15550001111";
  config.messaging_profile_id = "mp-1";
  return config;
}

OutgoingMessage Sms(Channel channel = Channel::kSms) {
  OutgoingMessage m;
  m.id = "msg_01HX";
  m.channel = channel;
  m.to = kPhone;
  m.text = kText;
  return m;
}

// A port with nothing listening: bound, then closed.
uint16_t ClosedPort() {
  HttpSink sink;
  uint16_t port = sink.port();
  sink.Stop();
  return port;
}

TEST(TelnyxTransport, SendsSmsWithHeadersAndJsonBody) {
  HttpSink sink({HttpReply{200, R"({"data":{"id":"tlx-1","record_type":"message"}})"}});
  auto result = NewTelnyxTransport(Telnyx(sink))->Send(Sms());
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->provider_id, "tlx-1");

  auto requests = sink.requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& r = requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/v2/messages");
  EXPECT_EQ(r.Header("Authorization"), std::string("Bearer ") + kApiKey);
  EXPECT_EQ(r.Header("Content-Type"), "application/json");
  EXPECT_EQ(r.Header("Idempotency-Key"), "msg_01HX");
  EXPECT_EQ(r.Header("Expect"), "");
  EXPECT_EQ(nlohmann::json::parse(r.body), (nlohmann::json{{"from", "+15550001111"},
                                                           {"to", kPhone},
                                                           {"text", kText},
                                                           {"messaging_profile_id", "mp-1"}}));
}

TEST(TelnyxTransport, LeavesOutEmptySenderAndProfile) {
  HttpSink sink({HttpReply{200, R"({"data":{"id":"tlx-2"}})"}});
  TelnyxConfig config = Telnyx(sink);
  config.from.clear();
  config.messaging_profile_id.clear();
  OutgoingMessage m = Sms();
  m.text = "Grüße 👋 \"quoted\"\nline two";
  ASSERT_TRUE(NewTelnyxTransport(config)->Send(m).ok());
  EXPECT_EQ(nlohmann::json::parse(sink.requests().at(0).body),
            (nlohmann::json{{"to", kPhone}, {"text", m.text}}));
}

TEST(TelnyxTransport, SendsWhatsappToItsEndpoint) {
  HttpSink sink({HttpReply{200, R"({"data":{"id":"wa-1"}})"}});
  auto result = NewTelnyxTransport(Telnyx(sink))->Send(Sms(Channel::kWhatsapp));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->provider_id, "wa-1");
  const auto r = sink.requests().at(0);
  EXPECT_EQ(r.target, "/v2/messages/whatsapp");
  EXPECT_EQ(r.Header("Idempotency-Key"), "msg_01HX");
  EXPECT_EQ(
      nlohmann::json::parse(r.body),
      (nlohmann::json{{"from", "+15550001111"},
                      {"to", kPhone},
                      {"whatsapp_message", {{"type", "text"}, {"text", {{"body", kText}}}}}}));
}

TEST(TelnyxTransport, SuccessWithoutIdHasEmptyProviderId) {
  for (const char* body : {"{}", "not json", R"({"data":{"id":7}})"}) {
    HttpSink sink({HttpReply{202, body}});
    auto result = NewTelnyxTransport(Telnyx(sink))->Send(Sms());
    ASSERT_TRUE(result.ok()) << body;
    EXPECT_EQ(result->provider_id, "") << body;
  }
}

TEST(TelnyxTransport, ClassifiesHttpStatuses) {
  struct Case {
    int status;
    StatusCode code;
  };
  const Case cases[] = {
      {408, StatusCode::kUnavailable},        {425, StatusCode::kUnavailable},
      {429, StatusCode::kUnavailable},        {500, StatusCode::kUnavailable},
      {502, StatusCode::kUnavailable},        {503, StatusCode::kUnavailable},
      {400, StatusCode::kInvalidArgument},    {422, StatusCode::kInvalidArgument},
      {401, StatusCode::kFailedPrecondition}, {403, StatusCode::kFailedPrecondition},
      {404, StatusCode::kFailedPrecondition}, {409, StatusCode::kFailedPrecondition},
      {301, StatusCode::kFailedPrecondition},
  };
  // Telnyx's error detail quotes the recipient: it must not reach the message.
  const std::string reply = std::string(R"({"errors":[{"code":"40310","title":"Invalid 'to'",)") +
                            R"("detail":"The 'to' address )" + kPhone + R"( is invalid"}]})";
  for (const Case& c : cases) {
    HttpSink sink({HttpReply{c.status, reply}});
    auto result = NewTelnyxTransport(Telnyx(sink))->Send(Sms());
    ASSERT_FALSE(result.ok()) << c.status;
    EXPECT_EQ(result.status().code(), c.code) << c.status << ": " << result.status().ToString();
    EXPECT_EQ(result.status().message(),
              "telnyx: HTTP " + std::to_string(c.status) + " (Telnyx error 40310)");
    ExpectSafe(result.status());
  }
}

TEST(TelnyxTransport, RetryAfter503ReusesTheIdempotencyKey) {
  HttpSink sink({HttpReply{503, "busy"}, HttpReply{200, R"({"data":{"id":"tlx-9"}})"}});
  auto transport = NewTelnyxTransport(Telnyx(sink));
  auto first = transport->Send(Sms());
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(first.status().message(), "telnyx: HTTP 503");
  auto second = transport->Send(Sms());
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->provider_id, "tlx-9");
  auto requests = sink.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].Header("Idempotency-Key"), requests[1].Header("Idempotency-Key"));
  EXPECT_EQ(requests[0].body, requests[1].body);
}

TEST(TelnyxTransport, ConnectionRefusedIsUnavailable) {
  TelnyxConfig config;
  config.base_url = "http://127.0.0.1:" + std::to_string(ClosedPort());
  config.api_key = kApiKey;
  auto result = NewTelnyxTransport(config)->Send(Sms());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable) << result.status().ToString();
  ExpectSafe(result.status());
}

TEST(TelnyxTransport, ConnectionClosedWithoutReplyIsUnavailable) {
  HttpSink sink({HttpReply::Close()});
  auto result = NewTelnyxTransport(Telnyx(sink))->Send(Sms());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable) << result.status().ToString();
  ExpectSafe(result.status());
}

TEST(TelnyxTransport, TimeoutIsUnavailable) {
  HttpSink sink({HttpReply::Hang()});
  auto start = std::chrono::steady_clock::now();
  auto result = NewTelnyxTransport(Telnyx(sink), std::chrono::milliseconds(300))->Send(Sms());
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable) << result.status().ToString();
  EXPECT_THAT(result.status().message(), HasSubstr("(curl 28)"));
  EXPECT_LT(elapsed, std::chrono::seconds(3));
  ExpectSafe(result.status());
  EXPECT_EQ(sink.requests().size(), 1u);
}

TEST(TelnyxTransport, RefusesBadMessagesWithoutSending) {
  struct Case {
    const char* what;
    void (*edit)(OutgoingMessage&);
  };
  const Case cases[] = {
      {"email channel", [](OutgoingMessage& m) { m.channel = Channel::kEmail; }},
      {"not E.164", [](OutgoingMessage& m) { m.to = "15557654321"; }},
      {"letters", [](OutgoingMessage& m) { m.to = "+1555765432x"; }},
      {"CRLF in id", [](OutgoingMessage& m) { m.id = "msg\r\nX-Evil: 1"; }},
      {"empty id", [](OutgoingMessage& m) { m.id = ""; }},
      {"empty text", [](OutgoingMessage& m) { m.text = ""; }},
      {"not UTF-8", [](OutgoingMessage& m) { m.text = std::string(kText) + "\xC3"; }},
  };
  HttpSink sink;
  auto transport = NewTelnyxTransport(Telnyx(sink));
  for (const Case& c : cases) {
    OutgoingMessage m = Sms();
    c.edit(m);
    auto result = transport->Send(m);
    ASSERT_FALSE(result.ok()) << c.what;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << c.what;
    ExpectSafe(result.status());
  }
  EXPECT_TRUE(sink.requests().empty());
}

TEST(TelnyxTransport, RefusesBadConfigurationWithoutSending) {
  HttpSink sink;
  for (auto edit : {+[](TelnyxConfig& c) { c.api_key = ""; },
                    +[](TelnyxConfig& c) { c.api_key = std::string(kApiKey) + "\r\nX-Evil: 1"; },
                    +[](TelnyxConfig& c) { c.from = "+1555\n"; },
                    +[](TelnyxConfig& c) { c.base_url = "ftp://127.0.0.1"; }}) {
    TelnyxConfig config = Telnyx(sink);
    edit(config);
    auto result = NewTelnyxTransport(config)->Send(Sms());
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kFailedPrecondition);
    ExpectSafe(result.status());
  }
  EXPECT_TRUE(sink.requests().empty());
}

// --- SMTP ------------------------------------------------------------------

SmtpConfig Smtp(const SmtpSink& sink) {
  SmtpConfig config;
  config.url = sink.url();
  config.from = "Example <noreply@example.org>";
  return config;
}

OutgoingMessage Email() {
  OutgoingMessage m;
  m.id = "msg_02AB";
  m.channel = Channel::kEmail;
  m.to = kEmail;
  m.subject = "Ihre Einwilligung: Übersicht";
  m.text = "Hello,\n.hidden line starting with a dot\n..two dots\n.\nbye";
  m.headers = {{"List-Unsubscribe", "<https://vault.example.org/u/tok123>"},
               {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}};
  return m;
}

TEST(SmtpTransport, DeliversTheMessage) {
  SmtpSink sink;
  auto result = NewSmtpTransport(Smtp(sink))->Send(Email());
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->provider_id, "<msg_02AB@custodian>");

  auto sessions = sink.sessions();
  ASSERT_EQ(sessions.size(), 1u);
  const auto& s = sessions[0];
  EXPECT_EQ(s.mail_from, "<noreply@example.org>");
  EXPECT_EQ(s.rcpt_to, std::vector<std::string>{"<alice@example.com>"});
  ASSERT_TRUE(s.data_complete);
  const std::string& d = s.data;
  size_t split = d.find("\r\n\r\n");
  ASSERT_NE(split, std::string::npos);
  std::string head = d.substr(0, split + 2);
  std::string body = d.substr(split + 4);
  EXPECT_THAT(head, ::testing::ContainsRegex(
                        "^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} [A-Z][a-z]{2} [0-9]{4} "
                        "[0-9]{2}:[0-9]{2}:[0-9]{2} \\+0000\r\n"));
  EXPECT_THAT(head, HasSubstr("\r\nFrom: Example <noreply@example.org>\r\n"));
  EXPECT_THAT(head, HasSubstr("\r\nTo: <alice@example.com>\r\n"));
  // "Ihre Einwilligung: Übersicht" in base64.
  EXPECT_THAT(head,
              HasSubstr("\r\nSubject: =?UTF-8?B?SWhyZSBFaW53aWxsaWd1bmc6IMOcYmVyc2ljaHQ=?=\r\n"));
  EXPECT_THAT(head, HasSubstr("\r\nMessage-ID: <msg_02AB@custodian>\r\n"));
  EXPECT_THAT(head, HasSubstr("\r\nMIME-Version: 1.0\r\n"));
  EXPECT_THAT(head, HasSubstr("\r\nContent-Type: text/plain; charset=UTF-8\r\n"));
  EXPECT_THAT(head, HasSubstr("\r\nContent-Transfer-Encoding: 7bit\r\n"));
  EXPECT_THAT(head, HasSubstr("\r\nList-Unsubscribe: <https://vault.example.org/u/tok123>\r\n"));
  EXPECT_THAT(head, HasSubstr("\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
  // curl dot-stuffed on the wire; the sink un-stuffed: the text arrives intact.
  EXPECT_EQ(body, "Hello,\r\n.hidden line starting with a dot\r\n..two dots\r\n.\r\nbye\r\n");
}

TEST(SmtpTransport, BodyStartingWithADotAndUtf8ArrivesIntact) {
  SmtpSink sink;
  OutgoingMessage m = Email();
  m.subject = "plain";
  m.text = ".starts with a dot — and UTF-8 ✓\r\n";
  ASSERT_TRUE(NewSmtpTransport(Smtp(sink))->Send(m).ok());
  const std::string d = sink.sessions().at(0).data;
  EXPECT_THAT(d, HasSubstr("\r\nSubject: plain\r\n"));
  EXPECT_THAT(d, HasSubstr("\r\nContent-Transfer-Encoding: 8bit\r\n"));
  EXPECT_EQ(d.substr(d.find("\r\n\r\n") + 4), m.text);
}

TEST(SmtpTransport, ClassifiesServerReplies) {
  struct Case {
    const char* verb;
    int code;
    StatusCode expected;
  };
  const Case cases[] = {
      {"RCPT", 451, StatusCode::kUnavailable}, {"RCPT", 550, StatusCode::kFailedPrecondition},
      {"MAIL", 421, StatusCode::kUnavailable}, {"MAIL", 553, StatusCode::kFailedPrecondition},
      {"DATA", 452, StatusCode::kUnavailable}, {"DATA", 554, StatusCode::kFailedPrecondition},
      {"END", 451, StatusCode::kUnavailable},  {"END", 552, StatusCode::kFailedPrecondition},
  };
  for (const Case& c : cases) {
    SmtpSink sink;
    sink.Fail(c.verb, c.code);
    auto result = NewSmtpTransport(Smtp(sink))->Send(Email());
    ASSERT_FALSE(result.ok()) << c.verb << " " << c.code;
    EXPECT_EQ(result.status().code(), c.expected) << result.status().ToString();
    EXPECT_THAT(result.status().message(),
                HasSubstr("smtp: server replied " + std::to_string(c.code)));
    ExpectSafe(result.status());
  }
}

TEST(SmtpTransport, RefusesHeaderInjectionWithoutConnecting) {
  SmtpSink sink;
  auto transport = NewSmtpTransport(Smtp(sink));
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"List-Unsubscribe", "<https://x>\r\nBcc: alice@example.com"},
      {"List-Unsubscribe", "<https://x>\nBcc: x"},
      {"X-Evil\r\nBcc", "x"},
      {"Bad Name", "x"},
      {"Subject", "second subject"},
      {"content-type", "text/html"},
  };
  for (const auto& header : bad) {
    OutgoingMessage m = Email();
    m.headers.push_back(header);
    auto result = transport->Send(m);
    ASSERT_FALSE(result.ok()) << header.first;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << header.first;
    ExpectSafe(result.status());
  }
  OutgoingMessage m = Email();
  m.subject = "Hi\r\nBcc: alice@example.com";
  EXPECT_EQ(transport->Send(m).status().code(), StatusCode::kInvalidArgument);
  m = Email();
  m.to = "alice@example.com>\r\nRCPT TO:<bob@example.com";
  EXPECT_EQ(transport->Send(m).status().code(), StatusCode::kInvalidArgument);
  m = Email();
  m.channel = Channel::kSms;
  EXPECT_EQ(transport->Send(m).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(sink.connections(), 0);
}

TEST(SmtpTransport, RefusesCredentialsWithoutTls) {
  SmtpSink sink;
  SmtpConfig config = Smtp(sink);
  config.username = "mailer";
  config.password = "hunter2";
  auto result = NewSmtpTransport(config)->Send(Email());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kFailedPrecondition);
  ExpectSafe(result.status());
  config = Smtp(sink);
  config.url = "smtp://mailer:hunter2@127.0.0.1:" + std::to_string(sink.port());
  result = NewSmtpTransport(config)->Send(Email());
  EXPECT_EQ(result.status().code(), StatusCode::kFailedPrecondition);
  ExpectSafe(result.status());
  EXPECT_EQ(sink.connections(), 0);
}

TEST(SmtpTransport, RequireTlsFailsWhenTheServerOffersNoStartTls) {
  SmtpSink sink;  // its EHLO reply has no STARTTLS
  SmtpConfig config = Smtp(sink);
  config.require_tls = true;
  auto result = NewSmtpTransport(config)->Send(Email());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kFailedPrecondition) << result.status().ToString();
  ASSERT_EQ(sink.sessions().size(), 1u);
  EXPECT_EQ(sink.sessions()[0].mail_from, "");  // nothing sent in the clear
}

TEST(SmtpTransport, ConnectionRefusedIsUnavailable) {
  SmtpConfig config;
  config.url = "smtp://127.0.0.1:" + std::to_string(ClosedPort());
  config.from = "noreply@example.org";
  auto result = NewSmtpTransport(config)->Send(Email());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable) << result.status().ToString();
  ExpectSafe(result.status());
}

TEST(SmtpTransport, RefusesBadConfiguration) {
  SmtpSink sink;
  for (auto edit : {+[](SmtpConfig& c) { c.url = "http://127.0.0.1:1"; },
                    +[](SmtpConfig& c) { c.from = "not an address"; },
                    +[](SmtpConfig& c) { c.from = "a@b>\r\nRCPT TO:<c@d"; }}) {
    SmtpConfig config = Smtp(sink);
    edit(config);
    auto result = NewSmtpTransport(config)->Send(Email());
    EXPECT_EQ(result.status().code(), StatusCode::kFailedPrecondition);
  }
  EXPECT_EQ(sink.connections(), 0);
}

}  // namespace
}  // namespace custodian::outbox
