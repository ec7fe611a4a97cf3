#include "common/base64.h"

#include <gtest/gtest.h>

#include <string>

namespace custodian {
namespace {

TEST(Base64TextTest, AcceptsItsAlphabetAndPaddingOnly) {
  const std::string letters =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  EXPECT_TRUE(IsBase64Text(letters + "+/==", Base64Alphabet::kStandard));
  EXPECT_TRUE(IsBase64Text(letters + "-_", Base64Alphabet::kUrlSafe));
  EXPECT_TRUE(IsBase64Text("", Base64Alphabet::kStandard));
  EXPECT_FALSE(IsBase64Text("ab-_", Base64Alphabet::kStandard));
  EXPECT_FALSE(IsBase64Text("ab+/", Base64Alphabet::kUrlSafe));
  for (const char* bad : {"AA A", "AA.A", "AA\nA", "AA\0A"}) {
    EXPECT_FALSE(IsBase64Text(std::string(bad, 4), Base64Alphabet::kStandard)) << bad;
  }
  // Every byte from 0x80 up: libsodium 1.0.18 would decode each as '/' or '_'.
  for (int b = 0x80; b <= 0xff; ++b) {
    const std::string text = std::string("AAA") + static_cast<char>(b);
    EXPECT_FALSE(IsBase64Text(text, Base64Alphabet::kStandard)) << b;
    EXPECT_FALSE(IsBase64Text(text, Base64Alphabet::kUrlSafe)) << b;
  }
}

}  // namespace
}  // namespace custodian
