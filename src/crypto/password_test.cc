#include "crypto/password.h"

#include <gtest/gtest.h>

#include <string>

namespace custodian::crypto {
namespace {

TEST(PasswordTest, HashThenVerify) {
  auto hash = HashPassword("correct horse battery staple");
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_EQ(hash->rfind("$argon2id$v=19$m=65536,t=2,p=1$", 0), 0u) << *hash;
  EXPECT_EQ(hash->find("correct horse"), std::string::npos);
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse battery staple"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horse battery stapler"));
  EXPECT_FALSE(VerifyPassword(*hash, ""));
  EXPECT_FALSE(PasswordNeedsRehash(*hash));

  // A fresh salt every time.
  auto again = HashPassword("correct horse battery staple");
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*hash, *again);
  EXPECT_TRUE(VerifyPassword(*again, "correct horse battery staple"));
}

TEST(PasswordTest, RefusesEmptyAndOversizedPasswords) {
  EXPECT_EQ(HashPassword("").status().code(), StatusCode::kInvalidArgument);
  auto oversized = HashPassword(std::string(kMaxPasswordSize + 1, 'p'));
  EXPECT_EQ(oversized.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(oversized.status().message(), "a password must be at most 4096 bytes");
}

TEST(PasswordTest, MalformedHashesNeverVerify) {
  for (std::string_view hash :
       {std::string_view(""), std::string_view("plaintext"),
        std::string_view("$argon2id$v=19$m=65536,t=2,p=1$broken"),
        std::string_view("$argon2i$v=19$m=65536,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaA"),
        std::string_view("$argon2id$\0hidden", 17)}) {
    EXPECT_FALSE(VerifyPassword(hash, "password")) << hash;
    EXPECT_TRUE(PasswordNeedsRehash(hash)) << hash;
  }
  EXPECT_FALSE(VerifyPassword(std::string(200, 'x'), "password"));
}

}  // namespace
}  // namespace custodian::crypto
