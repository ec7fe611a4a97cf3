#include "crypto/link_token.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace custodian::crypto {
namespace {

constexpr int64_t kNow = 1767225600;              // 2026-01-01T00:00:00Z
constexpr int64_t kInAMonth = kNow + 30 * 86400;  // 2026-01-31T00:00:00Z

const char kTampered[] =
    "unsubscribe token signature does not match (tampered or signed with another key)";

LinkClaims Typical() {
  return {"acme-health", "9f1c2e4a-7b3d-4e5f-8a6b-0c1d2e3f4a5b", "unsubscribe:newsletter",
          kInAMonth};
}

bool IsUrlSafe(std::string_view token) {
  for (char c : token) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

class LinkTokenTest : public ::testing::Test {
 protected:
  SecretBytes key_ = SecretBytes::Random(kLinkKeySize);
};

TEST_F(LinkTokenTest, RoundTrips) {
  const LinkClaims claims = Typical();
  auto token = SignLinkToken(key_, claims);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  auto verified = VerifyLinkToken(key_, *token, kNow);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(*verified, claims);
}

TEST_F(LinkTokenTest, IsDeterministicUrlSafeAndShort) {
  const std::string token = SignLinkToken(key_, Typical()).value();
  EXPECT_EQ(SignLinkToken(key_, Typical()).value(), token);
  EXPECT_TRUE(IsUrlSafe(token)) << token;
  EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 1);
  EXPECT_LT(token.size(), 200u) << token;
}

TEST_F(LinkTokenTest, RefusesEverySingleCharacterChange) {
  // Every byte, not only base64's: libsodium 1.0.18 decodes each byte from
  // 0x80 up as '_' (found by fuzz/link_token_fuzz.cc), so the token has one.
  LinkClaims claims = Typical();
  std::string token = SignLinkToken(key_, claims).value();
  while (token.find('_') == std::string::npos) {
    ++claims.expires_s;
    token = SignLinkToken(key_, claims).value();
  }
  for (size_t i = 0; i < token.size(); ++i) {
    for (int b = 0; b < 256; ++b) {
      const char c = static_cast<char>(b);
      if (c == token[i]) continue;
      std::string changed = token;
      changed[i] = c;
      auto r = VerifyLinkToken(key_, changed, kNow);
      ASSERT_FALSE(r.ok()) << "position " << i << " -> byte " << b << " accepted";
      EXPECT_TRUE(r.status().code() == StatusCode::kUnauthenticated ||
                  r.status().code() == StatusCode::kInvalidArgument)
          << r.status().ToString();
    }
    // Dropping or duplicating a character.
    std::string dropped = token;
    dropped.erase(i, 1);
    EXPECT_FALSE(VerifyLinkToken(key_, dropped, kNow).ok()) << "dropped " << i;
    std::string doubled = token;
    doubled.insert(i, 1, token[i]);
    EXPECT_FALSE(VerifyLinkToken(key_, doubled, kNow).ok()) << "doubled " << i;
  }
}

TEST_F(LinkTokenTest, RefusesATokenSignedWithAnotherKey) {
  SecretBytes other = SecretBytes::Random(kLinkKeySize);
  auto r = VerifyLinkToken(other, SignLinkToken(key_, Typical()).value(), kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(r.status().message(), kTampered);
}

TEST_F(LinkTokenTest, RefusesAMacMovedToAnotherPayload) {
  LinkClaims mine = Typical();
  LinkClaims theirs = Typical();
  theirs.subject = "someone-else";
  const std::string a = SignLinkToken(key_, mine).value();
  const std::string b = SignLinkToken(key_, theirs).value();
  const std::string spliced = b.substr(0, b.find('.')) + a.substr(a.find('.'));
  auto r = VerifyLinkToken(key_, spliced, kNow);
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(r.status().message(), kTampered);
}

TEST_F(LinkTokenTest, ExpiresAtExpiresS) {
  const std::string token = SignLinkToken(key_, Typical()).value();
  EXPECT_TRUE(VerifyLinkToken(key_, token, kInAMonth - 1).ok());
  for (int64_t now : {kInAMonth, kInAMonth + 1, kInAMonth + 86400 * 365}) {
    auto r = VerifyLinkToken(key_, token, now);
    ASSERT_FALSE(r.ok()) << now;
    EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(r.status().message(), "unsubscribe token expired at 2026-01-31T00:00:00Z");
  }
}

TEST_F(LinkTokenTest, ASignatureIsCheckedBeforeExpiry) {
  // An expired token by another key is "tampered", not "expired": nothing in
  // an unauthenticated payload is believed, not even its expiry.
  SecretBytes other = SecretBytes::Random(kLinkKeySize);
  auto r = VerifyLinkToken(other, SignLinkToken(key_, Typical()).value(), kInAMonth + 1);
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
}

TEST_F(LinkTokenTest, FieldsWithSeparatorsCannotBeConfused) {
  const std::vector<LinkClaims> claims = {
      {"a|b", "c", "p", kInAMonth}, {"a", "b|c", "p", kInAMonth},
      {"a.b", "c", "p", kInAMonth}, {"a", "b.c", "p", kInAMonth},
      {"a", "b", "c.p", kInAMonth}, {"a", "b.c", "p", kInAMonth + 1},
      {"ab", "c", "p", kInAMonth},  {"a", "bc", "p", kInAMonth},
      {"a", "b", "cp", kInAMonth},  {"a\x01", "b", "p", kInAMonth},  // refused at signing
  };
  std::vector<std::string> tokens;
  for (const LinkClaims& c : claims) {
    auto token = SignLinkToken(key_, c);
    if (!token.ok()) continue;
    ASSERT_TRUE(IsUrlSafe(*token)) << *token;
    EXPECT_EQ(VerifyLinkToken(key_, *token, kNow).value(), c);
    for (const std::string& earlier : tokens) EXPECT_NE(*token, earlier);
    tokens.push_back(*token);
  }
  EXPECT_EQ(tokens.size(), claims.size() - 1);
}

TEST_F(LinkTokenTest, AcceptsFieldsAtTheirLimits) {
  const LinkClaims longest = {std::string(kLinkTenantMaxSize, 't'),
                              std::string(kLinkSubjectMaxSize, 's'),
                              std::string(kLinkPurposeMaxSize, '~'), kLinkMaxExpiresSeconds};
  auto token = SignLinkToken(key_, longest);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_TRUE(IsUrlSafe(*token));
  EXPECT_EQ(VerifyLinkToken(key_, *token, kNow).value(), longest);
  auto r = VerifyLinkToken(key_, *token, kLinkMaxExpiresSeconds);
  EXPECT_EQ(r.status().message(), "unsubscribe token expired at 9999-12-31T23:59:59Z");

  const LinkClaims shortest = {"t", "s", " ", 0};
  const std::string short_token = SignLinkToken(key_, shortest).value();
  EXPECT_EQ(VerifyLinkToken(key_, short_token, -1).value(), shortest);
  EXPECT_EQ(VerifyLinkToken(key_, short_token, 0).status().message(),
            "unsubscribe token expired at 1970-01-01T00:00:00Z");
}

TEST_F(LinkTokenTest, RefusesBadClaimsAtSigning) {
  struct Case {
    LinkClaims claims;
    std::string error;
  };
  const std::string tenant_error =
      "unsubscribe token tenant must be 1 to 63 printable ASCII characters";
  const std::string subject_error =
      "unsubscribe token subject must be 1 to 64 printable ASCII characters";
  const std::string purpose_error =
      "unsubscribe token purpose must be 1 to 128 printable ASCII characters";
  const std::string expiry_error =
      "unsubscribe token expiry must be between 1970-01-01 and 9999-12-31 (Unix seconds)";
  const std::vector<Case> cases = {
      {{std::string(64, 't'), "s", "p", kInAMonth}, tenant_error},
      {{"", "s", "p", kInAMonth}, tenant_error},
      {{"t\n", "s", "p", kInAMonth}, tenant_error},
      {{"t", std::string(65, 's'), "p", kInAMonth}, subject_error},
      {{"t", "", "p", kInAMonth}, subject_error},
      {{"t", "jos\xc3\xa9", "p", kInAMonth}, subject_error},  // UTF-8
      {{"t", std::string("s\0s", 3), "p", kInAMonth}, subject_error},
      {{"t", "s", std::string(129, 'p'), kInAMonth}, purpose_error},
      {{"t", "s", "", kInAMonth}, purpose_error},
      {{"t", "s", "p\x7f", kInAMonth}, purpose_error},
      {{"t", "s", "p", -1}, expiry_error},
      {{"t", "s", "p", kLinkMaxExpiresSeconds + 1}, expiry_error},
      {{"t", "s", "p", INT64_MAX}, expiry_error},
  };
  for (const Case& c : cases) {
    auto r = SignLinkToken(key_, c.claims);
    ASSERT_FALSE(r.ok()) << c.error;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), c.error);
  }
}

TEST_F(LinkTokenTest, RefusesMalformedTokens) {
  const std::string token = SignLinkToken(key_, Typical()).value();
  const size_t dot = token.find('.');
  const std::string payload = token.substr(0, dot);
  const std::string mac = token.substr(dot + 1);
  const std::vector<std::string> malformed = {
      "",
      ".",
      payload,                            // no MAC
      payload + ".",                      // empty MAC
      "." + mac,                          // empty payload
      payload + "." + mac + "." + mac,    // three parts
      payload + "." + mac.substr(0, 42),  // MAC too short
      payload + "." + mac + "AA",         // MAC too long
      payload + "=." + mac,               // padding
      payload + "." + mac + "=",
      "+" + payload.substr(1) + "." + mac,  // standard base64 alphabet
      std::string(400, 'A') + "." + mac,    // payload too long
      "AgAA." + mac,                        // version 2
      token + " ",
      " " + token,
  };
  for (const std::string& t : malformed) {
    auto r = VerifyLinkToken(key_, t, kNow);
    ASSERT_FALSE(r.ok()) << t;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << t;
    EXPECT_EQ(r.status().message(), "malformed unsubscribe token") << t;
  }
}

TEST_F(LinkTokenTest, RefusesAKeyOfTheWrongSize) {
  SecretBytes short_key = SecretBytes::Random(16);
  auto signed_with_short = SignLinkToken(short_key, Typical());
  EXPECT_EQ(signed_with_short.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(signed_with_short.status().message(), "the unsubscribe link key must be 32 bytes");
  auto r = VerifyLinkToken(short_key, SignLinkToken(key_, Typical()).value(), kNow);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "the unsubscribe link key must be 32 bytes");
}

}  // namespace
}  // namespace custodian::crypto
