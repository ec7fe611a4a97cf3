#include "outbox/email_message.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "outbox/internal.h"

namespace custodian::outbox::internal {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Base64Decode(std::string_view in) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : in) {
    size_t v = kAlphabet.find(c);
    if (v == std::string::npos) continue;  // '=', CR, LF
    buffer = (buffer << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(char((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

// The text of "=?UTF-8?B?...?=" words separated by CRLF SP; each word must
// decode to valid UTF-8 on its own (no split characters) and be <= 75 chars.
std::string DecodeWords(const std::string& encoded) {
  std::string out;
  size_t pos = 0;
  while (pos < encoded.size()) {
    size_t end = encoded.find("\r\n ", pos);
    if (end == std::string::npos) end = encoded.size();
    std::string word = encoded.substr(pos, end - pos);
    EXPECT_LE(word.size(), 75u);
    EXPECT_EQ(word.rfind("=?UTF-8?B?", 0), 0u) << word;
    EXPECT_EQ(word.substr(word.size() - 2), "?=");
    std::string text = Base64Decode(word.substr(10, word.size() - 12));
    EXPECT_TRUE(IsValidUtf8(text)) << word;
    out += text;
    pos = end == encoded.size() ? end : end + 3;
  }
  return out;
}

std::chrono::system_clock::time_point March3() {
  using namespace std::chrono;
  return sys_days{year{2026} / 3 / 3} + hours{10} + minutes{20} + seconds{30};
}

OutgoingMessage Message() {
  OutgoingMessage m;
  m.id = "msg_1";
  m.channel = Channel::kEmail;
  m.to = "bob@example.com";
  m.subject = "Hello";
  m.text = "Hi";
  return m;
}

const Mailbox kFrom{"noreply@example.org", ""};

TEST(EmailMessage, FormatsTheDateInUtc) {
  EXPECT_EQ(FormatEmailDate(March3()), "Tue, 03 Mar 2026 10:20:30 +0000");
  EXPECT_EQ(FormatEmailDate(std::chrono::system_clock::time_point{}),
            "Thu, 01 Jan 1970 00:00:00 +0000");
}

TEST(EmailMessage, EncodesHeaderTextOnlyWhenNeeded) {
  EXPECT_EQ(EncodeHeaderText("Your data request"), "Your data request");
  EXPECT_EQ(EncodeHeaderText("Grüße"), "=?UTF-8?B?R3LDvMOfZQ==?=");
  EXPECT_EQ(DecodeWords(EncodeHeaderText("a =?x?= b")), "a =?x?= b");
  EXPECT_EQ(DecodeWords(EncodeHeaderText("tab\there")), "tab\there");
  std::string long_text;
  for (int i = 0; i < 40; ++i) long_text += "Übersicht 👋 ";
  std::string encoded = EncodeHeaderText(long_text);
  EXPECT_THAT(encoded, HasSubstr("\r\n "));
  EXPECT_EQ(DecodeWords(encoded), long_text);
  std::string long_ascii(1000, 'a');
  EXPECT_EQ(DecodeWords(EncodeHeaderText(long_ascii)), long_ascii);
}

TEST(EmailMessage, BuildsHeadersAndNormalizesLineBreaks) {
  OutgoingMessage m = Message();
  m.text = "one\ntwo\r\nthree\rfour";
  m.headers = {{"List-Unsubscribe", "<mailto:u@example.org>"}};
  auto built = BuildEmail(m, {"noreply@example.org", "Vault Team"}, March3());
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  EXPECT_EQ(*built,
            "Date: Tue, 03 Mar 2026 10:20:30 +0000\r\n"
            "From: Vault Team <noreply@example.org>\r\n"
            "To: <bob@example.com>\r\n"
            "Subject: Hello\r\n"
            "Message-ID: <msg_1@custodian>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=UTF-8\r\n"
            "Content-Transfer-Encoding: 7bit\r\n"
            "List-Unsubscribe: <mailto:u@example.org>\r\n"
            "\r\n"
            "one\r\ntwo\r\nthree\r\nfour\r\n");
}

TEST(EmailMessage, EncodesDisplayNamesThatNeedQuoting) {
  auto built = BuildEmail(Message(), {"noreply@example.org", "Acme, Inc."}, March3());
  ASSERT_TRUE(built.ok());
  EXPECT_THAT(*built,
              HasSubstr("\r\nFrom: =?UTF-8?B?QWNtZSwgSW5jLg==?= <noreply@example.org>\r\n"));
}

TEST(EmailMessage, UsesBase64ForOverlongLines) {
  OutgoingMessage m = Message();
  m.text = std::string(1200, 'x') + "\nend";
  auto built = BuildEmail(m, kFrom, March3());
  ASSERT_TRUE(built.ok());
  EXPECT_THAT(*built, HasSubstr("\r\nContent-Transfer-Encoding: base64\r\n"));
  std::string body = built->substr(built->find("\r\n\r\n") + 4);
  for (size_t pos = 0; pos < body.size();) {
    size_t end = body.find("\r\n", pos);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end - pos, 76u);
    pos = end + 2;
  }
  EXPECT_EQ(Base64Decode(body), std::string(1200, 'x') + "\r\nend\r\n");
}

TEST(EmailMessage, RefusesUnsafeInputWithoutEchoingIt) {
  struct Case {
    const char* what;
    void (*edit)(OutgoingMessage&);
  };
  const Case cases[] = {
      {"id", [](OutgoingMessage& m) { m.id = "a b"; }},
      {"id CRLF", [](OutgoingMessage& m) { m.id = "a\r\nb"; }},
      {"to", [](OutgoingMessage& m) { m.to = "bob"; }},
      {"to angle", [](OutgoingMessage& m) { m.to = "bob@example.com>"; }},
      {"to space", [](OutgoingMessage& m) { m.to = "bob @example.com"; }},
      {"subject LF", [](OutgoingMessage& m) { m.subject = "x\nBcc: secret@example.com"; }},
      {"subject UTF-8", [](OutgoingMessage& m) { m.subject = "\xFF"; }},
      {"text UTF-8", [](OutgoingMessage& m) { m.text = "\xE2\x82"; }},
      {"header CR",
       [](OutgoingMessage& m) {
         m.headers = {{"X-A", "v\rsecret"}};
       }},
      {"header NUL",
       [](OutgoingMessage& m) {
         m.headers = {{"X-A", std::string("v\0s", 3)}};
       }},
      {"header colon",
       [](OutgoingMessage& m) {
         m.headers = {{"X:A", "v"}};
       }},
      {"header empty",
       [](OutgoingMessage& m) {
         m.headers = {{"", "v"}};
       }},
      {"header own",
       [](OutgoingMessage& m) {
         m.headers = {{"message-id", "<x@y>"}};
       }},
      {"header long",
       [](OutgoingMessage& m) {
         m.headers = {{"X-A", std::string(1000, 'v')}};
       }},
  };
  for (const Case& c : cases) {
    OutgoingMessage m = Message();
    c.edit(m);
    auto built = BuildEmail(m, kFrom, March3());
    ASSERT_FALSE(built.ok()) << c.what;
    EXPECT_EQ(built.status().code(), StatusCode::kInvalidArgument) << c.what;
    EXPECT_THAT(built.status().message(), Not(HasSubstr("secret"))) << c.what;
    EXPECT_THAT(built.status().message(), Not(HasSubstr("bob"))) << c.what;
  }
}

TEST(EmailMessage, ParsesMailboxes) {
  auto plain = ParseMailbox("noreply@example.org");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->address, "noreply@example.org");
  EXPECT_EQ(plain->display_name, "");
  auto named = ParseMailbox("\"Example Vault\" <noreply@example.org>");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->address, "noreply@example.org");
  EXPECT_EQ(named->display_name, "Example Vault");
  for (const char* bad : {"", "Name <>", "Name <a@b", "a@b>", "N\r\n <a@b>", "<a@b\r\n>"}) {
    EXPECT_FALSE(ParseMailbox(bad).ok()) << bad;
  }
}

TEST(EmailMessage, ChecksUtf8) {
  for (const char* good : {"", "abc", "Grüße", "👋", "\xEF\xBF\xBD"}) {
    EXPECT_TRUE(IsValidUtf8(good)) << good;
  }
  for (const char* bad : {"\x80", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
                          "\xF0\x9F\x91", "\xFF"}) {
    EXPECT_FALSE(IsValidUtf8(bad)) << bad;
  }
}

}  // namespace
}  // namespace custodian::outbox::internal
