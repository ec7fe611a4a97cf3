#include "crypto/otp.h"

#include <gtest/gtest.h>

namespace custodian::crypto {
namespace {

// RFC 6238 appendix B's SHA-1 secret; its 8-digit codes end in these 6 digits.
SecretBytes Rfc6238Secret() { return SecretBytes::Copy("12345678901234567890").value(); }

TEST(Base32Test, EncodesRfc4648Vectors) {
  EXPECT_EQ(Base32Encode(""), "");
  EXPECT_EQ(Base32Encode("f"), "MY");
  EXPECT_EQ(Base32Encode("fo"), "MZXQ");
  EXPECT_EQ(Base32Encode("foo"), "MZXW6");
  EXPECT_EQ(Base32Encode("foob"), "MZXW6YQ");
  EXPECT_EQ(Base32Encode("fooba"), "MZXW6YTB");
  EXPECT_EQ(Base32Encode("foobar"), "MZXW6YTBOI");
  EXPECT_EQ(Base32Encode("12345678901234567890"), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

TEST(TotpTest, MatchesRfc6238Vectors) {
  SecretBytes s = Rfc6238Secret();
  const std::pair<int64_t, const char*> vectors[] = {
      {59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"},
      {1234567890, "005924"}, {2000000000, "279037"}};
  for (const auto& [t, code] : vectors) {
    EXPECT_EQ(GenerateTotp(s, t).value(), code) << t;
    auto step = ValidateTotp(s, t, 0, code);
    ASSERT_TRUE(step.ok()) << t;
    EXPECT_EQ(*step, static_cast<uint64_t>(t / 30)) << t;
  }
}

TEST(TotpTest, AcceptsOneStepEitherSideAndReportsWhichStep) {
  SecretBytes s = Rfc6238Secret();
  const int64_t t = 1111111111;
  std::string previous = GenerateTotp(s, t - 30).value();
  std::string next = GenerateTotp(s, t + 30).value();
  EXPECT_EQ(ValidateTotp(s, t, 1, previous).value(), static_cast<uint64_t>(t / 30 - 1));
  EXPECT_EQ(ValidateTotp(s, t, 1, next).value(), static_cast<uint64_t>(t / 30 + 1));
  EXPECT_FALSE(ValidateTotp(s, t, 0, previous).ok());
  std::string two_back = GenerateTotp(s, t - 60).value();
  EXPECT_FALSE(ValidateTotp(s, t, 1, two_back).ok());
}

TEST(TotpTest, RefusesMalformedAndWrongCodesAlike) {
  SecretBytes s = Rfc6238Secret();
  for (const char* code : {"", "05047", "0504711", "05047a", " 50471", "050472", "-50471"}) {
    auto r = ValidateTotp(s, 1111111111, 1, code);
    ASSERT_FALSE(r.ok()) << code;
    EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated) << code;
    EXPECT_EQ(r.status().message(), "wrong one-time code") << code;
  }
  SecretBytes other = SecretBytes::Random(kTotpSecretSize);
  EXPECT_FALSE(ValidateTotp(other, 1111111111, 1, "050471").ok());
}

}  // namespace
}  // namespace custodian::crypto
