#include "crypto/aead.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace custodian::crypto {
namespace {

Aead MakeAead(uint32_t version = 7) {
  return Aead::Create(SecretBytes::Random(Aead::kKeySize), version).value();
}

std::string IntegrityMessage() {
  // Whatever the failure, Open() says exactly this.
  Aead aead = MakeAead();
  return aead.Open("", "").status().message();
}

void ExpectIntegrityError(const Result<std::string>& opened) {
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(opened.status().message(), IntegrityMessage());
}

TEST(AeadTest, CreateRefusesWrongKeySizes) {
  for (size_t size : {1u, 16u, 31u, 33u, 64u}) {
    auto aead = Aead::Create(SecretBytes::Random(size), 1);
    ASSERT_FALSE(aead.ok()) << size;
    EXPECT_EQ(aead.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(aead.status().message(),
              "an XChaCha20-Poly1305 key must be 32 bytes, got " + std::to_string(size));
  }
}

TEST(AeadTest, IntegrityMessageIsGeneric) {
  EXPECT_EQ(IntegrityMessage(),
            "integrity check failed: the ciphertext cannot be opened with this key and "
            "associated data");
}

TEST(AeadTest, RoundTripsPlaintextsAndAssociatedData) {
  Aead aead = MakeAead();
  const std::string long_ad(1000, 'a');  // past the on-stack associated-data buffer
  for (std::string plaintext : {std::string(), std::string("x"), std::string(32, 'v'),
                                std::string("nul\0inside", 10), std::string(100000, 'z')}) {
    for (std::string_view ad : {std::string_view(), std::string_view("tenant|subject|field"),
                                std::string_view(long_ad)}) {
      std::string blob = aead.Seal(plaintext, ad);
      EXPECT_EQ(blob.size(), plaintext.size() + Aead::kOverhead);
      auto opened = aead.Open(blob, ad);
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
      EXPECT_EQ(*opened, plaintext);
    }
  }
}

TEST(AeadTest, BlobIsSelfDescribing) {
  Aead aead = MakeAead(0x01020304);
  EXPECT_EQ(aead.key_version(), 0x01020304u);
  std::string blob = aead.Seal("value", "ad");
  ASSERT_EQ(blob.size(), 1 + 4 + 24 + 5 + 16u);
  EXPECT_EQ(blob[0], '\x01');
  EXPECT_EQ(blob.substr(1, 4), std::string("\x01\x02\x03\x04", 4));
  auto version = Aead::KeyVersionOf(blob);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, 0x01020304u);
  EXPECT_EQ(blob.find("value"), std::string::npos);
}

TEST(AeadTest, KeyVersionOfRefusesMalformedBlobs) {
  EXPECT_EQ(Aead::KeyVersionOf("").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(Aead::KeyVersionOf(std::string(Aead::kOverhead - 1, '\x01')).status().code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(Aead::KeyVersionOf(std::string(Aead::kOverhead, '\x02')).status().code(),
            StatusCode::kDataLoss);
}

TEST(AeadTest, NoncesAreFreshEveryTime) {
  Aead aead = MakeAead();
  std::string a = aead.Seal("same", "ad");
  std::string b = aead.Seal("same", "ad");
  EXPECT_NE(a, b);
  EXPECT_NE(a.substr(Aead::kHeaderSize, Aead::kNonceSize),
            b.substr(Aead::kHeaderSize, Aead::kNonceSize));
}

TEST(AeadTest, OtherAssociatedDataFails) {
  Aead aead = MakeAead();
  std::string blob = aead.Seal("+918870100100", "tenant-a/subject-1/phone");
  ExpectIntegrityError(aead.Open(blob, "tenant-a/subject-1/email"));
  ExpectIntegrityError(aead.Open(blob, "tenant-a/subject-2/phone"));
  ExpectIntegrityError(aead.Open(blob, "tenant-b/subject-1/phone"));
  ExpectIntegrityError(aead.Open(blob, ""));
}

TEST(AeadTest, EveryFlippedBitFails) {
  Aead aead = MakeAead();
  const std::string blob = aead.Seal("a 32-byte personal value.......", "ad");
  for (size_t i = 0; i < blob.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string tampered = blob;
      tampered[i] = static_cast<char>(tampered[i] ^ (1 << bit));
      SCOPED_TRACE("byte " + std::to_string(i) + " bit " + std::to_string(bit));
      ExpectIntegrityError(aead.Open(tampered, "ad"));
    }
  }
}

TEST(AeadTest, TruncatedOrExtendedBlobsFail) {
  Aead aead = MakeAead();
  const std::string blob = aead.Seal("value", "ad");
  for (size_t size = 0; size < blob.size(); ++size) {
    SCOPED_TRACE("size " + std::to_string(size));
    ExpectIntegrityError(aead.Open(blob.substr(0, size), "ad"));
  }
  ExpectIntegrityError(aead.Open(blob + "x", "ad"));
  ExpectIntegrityError(aead.Open(blob.substr(1), "ad"));
}

TEST(AeadTest, WrongKeyOrKeyVersionFails) {
  SecretBytes key = SecretBytes::Random(32);
  Aead v1 = Aead::Create(SecretBytes::Copy(key.view()).value(), 1).value();
  Aead v2_same_key = Aead::Create(SecretBytes::Copy(key.view()).value(), 2).value();
  Aead other_key = Aead::Create(SecretBytes::Random(32), 1).value();
  std::string blob = v1.Seal("value", "ad");
  ASSERT_TRUE(v1.Open(blob, "ad").ok());
  ExpectIntegrityError(v2_same_key.Open(blob, "ad"));
  ExpectIntegrityError(other_key.Open(blob, "ad"));
  // Rewriting the version in the header does not help: it is authenticated.
  std::string relabelled = blob;
  relabelled[4] = '\x02';
  ExpectIntegrityError(v2_same_key.Open(relabelled, "ad"));
}

TEST(AeadTest, ErrorsDoNotContainThePlaintextOrAssociatedData) {
  Aead aead = MakeAead();
  std::string blob = aead.Seal("asha@example.in", "subject-17");
  auto opened = aead.Open(blob, "subject-18");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().message().find("asha"), std::string::npos);
  EXPECT_EQ(opened.status().message().find("subject"), std::string::npos);
}

TEST(AeadTest, MovedAeadStillWorks) {
  Aead a = MakeAead();
  std::string blob = a.Seal("value", "ad");
  Aead b = std::move(a);
  EXPECT_EQ(b.Open(blob, "ad").value(), "value");
}

TEST(AeadTest, ConcurrentSealAndOpen) {
  const Aead aead = MakeAead();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&aead, t] {
      for (int i = 0; i < 2000; ++i) {
        std::string value = std::to_string(t) + "/" + std::to_string(i);
        std::string blob = aead.Seal(value, "ad");
        auto opened = aead.Open(blob, "ad");
        ASSERT_TRUE(opened.ok());
        ASSERT_EQ(*opened, value);
      }
    });
  }
  for (auto& thread : threads) thread.join();
}

}  // namespace
}  // namespace custodian::crypto
