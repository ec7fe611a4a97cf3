#include "crypto/blind_index.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <string>

#include "crypto/keys.h"
#include "crypto/normalize.h"

namespace custodian::crypto {
namespace {

BlindIndex MakeIndex(SecretBytes key) { return BlindIndex::Create(std::move(key)).value(); }

std::string Key32(char fill) { return std::string(32, fill); }

TEST(BlindIndexTest, CreateRefusesWrongKeySizes) {
  for (size_t size : {16u, 31u, 33u, 64u}) {
    auto index = BlindIndex::Create(SecretBytes::Random(size));
    ASSERT_FALSE(index.ok());
    EXPECT_EQ(index.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(index.status().message(),
              "a blind index key must be 32 bytes, got " + std::to_string(size));
  }
}

TEST(BlindIndexTest, EqualInputsGiveEqualDigests) {
  BlindIndex index = MakeIndex(SecretBytes::Random(32));
  std::string a = index.Digest("user.contact.phone_number", "+918870100100");
  std::string b = index.Digest("user.contact.phone_number", "+918870100100");
  EXPECT_EQ(a.size(), BlindIndex::kDigestSize);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, index.Digest("user.contact.phone_number", "+918870100101"));
}

TEST(BlindIndexTest, CategoriesAndKeysSeparateDigests) {
  SecretBytes key = SecretBytes::Random(32);
  BlindIndex tenant_a = MakeIndex(SecretBytes::Copy(key.view()).value());
  BlindIndex tenant_a_again = MakeIndex(std::move(key));
  BlindIndex tenant_b = MakeIndex(SecretBytes::Random(32));
  const std::string value = "asha@example.in";
  std::string digest = tenant_a.Digest("user.contact.email", value);
  EXPECT_EQ(digest, tenant_a_again.Digest("user.contact.email", value));
  EXPECT_NE(digest, tenant_a.Digest("user.contact.phone_number", value));
  EXPECT_NE(digest, tenant_b.Digest("user.contact.email", value));
  EXPECT_EQ(digest.find(value), std::string::npos);
}

TEST(BlindIndexTest, EncodingIsUnambiguous) {
  BlindIndex index = MakeIndex(SecretBytes::Random(32));
  EXPECT_NE(index.Digest("ab", "c"), index.Digest("a", "bc"));
  EXPECT_NE(index.Digest("", "ab"), index.Digest("ab", ""));
}

TEST(BlindIndexTest, MatchesTheDocumentedConstruction) {
  const std::string key = Key32('k');
  BlindIndex index = MakeIndex(SecretBytes::Copy(key).value());
  // len("custodian:blind-index:v1") || label || len(category) || category || len(value) || value
  const std::string message = std::string("\0\0\0\x18", 4) + "custodian:blind-index:v1" +
                              std::string("\0\0\0\x04", 4) + "user" + std::string("\0\0\0\x05", 4) +
                              "value";
  std::string expected(32, '\0');
  crypto_generichash(reinterpret_cast<uint8_t*>(expected.data()), expected.size(),
                     reinterpret_cast<const uint8_t*>(message.data()), message.size(),
                     reinterpret_cast<const uint8_t*>(key.data()), key.size());
  EXPECT_EQ(index.Digest("user", "value"), expected);
}

TEST(BlindIndexTest, TheThreeWaysOfWritingANumberMeet) {
  SecretBytes tenant_key = SecretBytes::Random(32);
  BlindIndex index = MakeIndex(DeriveSubkey(tenant_key, Subkey::kBlindIndex).value());
  std::string expected;
  for (std::string_view raw : {"088701 00100", "+91 88701-00100", "918870100100"}) {
    auto e164 = NormalizePhone(raw, "IN");
    ASSERT_TRUE(e164.ok()) << raw << ": " << e164.status().ToString();
    std::string digest = index.Digest("user.contact.phone_number", *e164);
    if (expected.empty()) expected = digest;
    EXPECT_EQ(digest, expected) << raw;
  }
  auto email_a = NormalizeEmail(" Asha@Example.in ");
  auto email_b = NormalizeEmail("asha@example.IN");
  ASSERT_TRUE(email_a.ok() && email_b.ok());
  EXPECT_EQ(index.Digest("user.contact.email", *email_a),
            index.Digest("user.contact.email", *email_b));
}

}  // namespace
}  // namespace custodian::crypto
