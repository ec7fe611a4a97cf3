#include "crypto/webhook_signature.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <string>
#include <vector>

namespace custodian::crypto {
namespace {

constexpr int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z
const std::string kBody = R"({"data":{"event_type":"message.received","payload":{"text":"STOP"}}})";

std::string ToBase64(const uint8_t* bytes, size_t size) {
  std::string out(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes, size, sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();  // NUL
  return out;
}

// Plays Telnyx: a fresh Ed25519 key pair that signs `timestamp|body`.
class TelnyxSigner {
 public:
  TelnyxSigner() {
    if (sodium_init() < 0) std::abort();
    crypto_sign_keypair(public_key_, secret_key_);
  }
  ~TelnyxSigner() { sodium_memzero(secret_key_, sizeof secret_key_); }

  std::string PublicKey() const { return ToBase64(public_key_, sizeof public_key_); }
  std::string Sign(std::string_view timestamp, std::string_view body) const {
    std::string message = std::string(timestamp) + "|" + std::string(body);
    uint8_t signature[crypto_sign_BYTES];
    crypto_sign_detached(signature, nullptr, reinterpret_cast<const uint8_t*>(message.data()),
                         message.size(), secret_key_);
    return ToBase64(signature, sizeof signature);
  }

 private:
  uint8_t public_key_[crypto_sign_PUBLICKEYBYTES];
  uint8_t secret_key_[crypto_sign_SECRETKEYBYTES];
};

void ExpectUnauthenticated(const Status& st, const std::string& message) {
  EXPECT_EQ(st.code(), StatusCode::kUnauthenticated) << st.ToString();
  EXPECT_EQ(st.message(), message);
}

const std::string kMismatch = "signature does not match the body";

TEST(TelnyxSignatureTest, AcceptsAValidSignature) {
  TelnyxSigner telnyx;
  const std::string ts = std::to_string(kNow);
  Status st = VerifyTelnyxSignature(telnyx.PublicKey(), telnyx.Sign(ts, kBody), ts, kBody, kNow);
  EXPECT_TRUE(st.ok()) << st.ToString();
}

TEST(TelnyxSignatureTest, AcceptsAnEmptyBodyAndBinaryBytes) {
  TelnyxSigner telnyx;
  const std::string ts = std::to_string(kNow);
  EXPECT_TRUE(VerifyTelnyxSignature(telnyx.PublicKey(), telnyx.Sign(ts, ""), ts, "", kNow).ok());
  const std::string binary("a\0b|\xff\n", 6);
  EXPECT_TRUE(
      VerifyTelnyxSignature(telnyx.PublicKey(), telnyx.Sign(ts, binary), ts, binary, kNow).ok());
}

TEST(TelnyxSignatureTest, RefusesABodyChangedInAnyOneByte) {
  TelnyxSigner telnyx;
  const std::string ts = std::to_string(kNow);
  const std::string signature = telnyx.Sign(ts, kBody);
  for (size_t i = 0; i < kBody.size(); ++i) {
    std::string body = kBody;
    body[i] ^= 0x01;
    ExpectUnauthenticated(VerifyTelnyxSignature(telnyx.PublicKey(), signature, ts, body, kNow),
                          kMismatch);
  }
  ExpectUnauthenticated(VerifyTelnyxSignature(telnyx.PublicKey(), signature, ts, kBody + " ", kNow),
                        kMismatch);
  ExpectUnauthenticated(
      VerifyTelnyxSignature(telnyx.PublicKey(), signature, ts, kBody.substr(1), kNow), kMismatch);
}

TEST(TelnyxSignatureTest, TheSignatureCoversTheTimestamp) {
  TelnyxSigner telnyx;
  const std::string ts = std::to_string(kNow);
  const std::string signature = telnyx.Sign(ts, kBody);
  // A fresher timestamp on an old signed body (replay with a rewritten header).
  ExpectUnauthenticated(
      VerifyTelnyxSignature(telnyx.PublicKey(), signature, std::to_string(kNow + 1), kBody, kNow),
      kMismatch);
  // The same instant written differently is a different message.
  ExpectUnauthenticated(VerifyTelnyxSignature(telnyx.PublicKey(), signature, "0" + ts, kBody, kNow),
                        kMismatch);
  // The '|' separator: moving bytes between timestamp and body breaks it.
  const std::string moved = telnyx.Sign(ts.substr(0, 9), ts.substr(9) + "|" + kBody);
  ExpectUnauthenticated(VerifyTelnyxSignature(telnyx.PublicKey(), moved, ts, kBody, kNow),
                        kMismatch);
}

TEST(TelnyxSignatureTest, RefusesTimestampsOutsideTheTolerance) {
  TelnyxSigner telnyx;
  struct Case {
    int64_t sent;
    int64_t tolerance;
    const char* error;  // nullptr: accepted
  };
  const std::vector<Case> cases = {
      {kNow - 300, 300, nullptr},
      {kNow + 300, 300, nullptr},
      {kNow - 301, 300,
       "telnyx-timestamp is 301 s away from now (tolerance 300 s); a replayed or delayed webhook"},
      {kNow + 301, 300,
       "telnyx-timestamp is 301 s away from now (tolerance 300 s); a replayed or delayed webhook"},
      {kNow - 86400, 300,
       "telnyx-timestamp is 86400 s away from now (tolerance 300 s); a replayed or delayed "
       "webhook"},
      {0, 300,
       "telnyx-timestamp is 1767225600 s away from now (tolerance 300 s); a replayed or delayed "
       "webhook"},
      {kNow - 60, 30,
       "telnyx-timestamp is 60 s away from now (tolerance 30 s); a replayed or delayed webhook"},
      {kNow, 0, nullptr},
      {kNow - 1, -5,
       "telnyx-timestamp is 1 s away from now (tolerance 0 s); a replayed or delayed webhook"},
  };
  for (const Case& c : cases) {
    const std::string ts = std::to_string(c.sent);
    Status st = VerifyTelnyxSignature(telnyx.PublicKey(), telnyx.Sign(ts, kBody), ts, kBody, kNow,
                                      c.tolerance);
    if (c.error == nullptr) {
      EXPECT_TRUE(st.ok()) << ts << ": " << st.ToString();
    } else {
      ExpectUnauthenticated(st, c.error);
    }
  }
}

TEST(TelnyxSignatureTest, RefusesTimestampsThatAreNotUnixSeconds) {
  TelnyxSigner telnyx;
  const std::string error = "telnyx-timestamp is not a Unix time in seconds";
  for (std::string ts :
       {"-1767225600", "+1767225600", " 1767225600", "1767225600 ", "17672256OO", "1767225600.5",
        "1767225600000000000000", "9223372036854775808", "0x69558800", "2026-01-01T00:00:00Z"}) {
    ExpectUnauthenticated(
        VerifyTelnyxSignature(telnyx.PublicKey(), telnyx.Sign(ts, kBody), ts, kBody, kNow), error);
  }
}

TEST(TelnyxSignatureTest, ExtremeTimestampsDoNotOverflow) {
  TelnyxSigner telnyx;
  const std::string ts = "9223372036854775807";
  ExpectUnauthenticated(
      VerifyTelnyxSignature(telnyx.PublicKey(), telnyx.Sign(ts, kBody), ts, kBody, INT64_MIN),
      "telnyx-timestamp is 18446744073709551615 s away from now (tolerance 300 s); a replayed or "
      "delayed webhook");
}

TEST(TelnyxSignatureTest, RefusesSignaturesThatAreNotBase64Ed25519) {
  TelnyxSigner telnyx;
  const std::string ts = std::to_string(kNow);
  const std::string good = telnyx.Sign(ts, kBody);
  ASSERT_EQ(good.size(), 88u);
  const std::string error = "telnyx-signature-ed25519 is not a base64 Ed25519 signature";
  const uint8_t zeros[65] = {};
  for (std::string signature : {
           good.substr(0, 86),    // padding dropped
           good.substr(0, 87),    // half the padding
           good + "=",            // extra padding
           good + "\n",           // trailing newline
           " " + good,            // leading space
           std::string(88, '!'),  // not base64 at all
           ToBase64(zeros, 63),   // 63 bytes
           ToBase64(zeros, 65),   // 65 bytes
           ToBase64(zeros, 32),   // a public key, not a signature
           "-" + good.substr(1),  // base64url alphabet
           "\xDC" + good.substr(1),  // libsodium 1.0.18 reads any byte >= 0x80 as '/'
       }) {
    ExpectUnauthenticated(VerifyTelnyxSignature(telnyx.PublicKey(), signature, ts, kBody, kNow),
                          error);
  }
  // Well-formed but wrong: 64 zero bytes.
  ExpectUnauthenticated(
      VerifyTelnyxSignature(telnyx.PublicKey(), ToBase64(zeros, 64), ts, kBody, kNow), kMismatch);
}

TEST(TelnyxSignatureTest, RefusesEmptyHeaders) {
  TelnyxSigner telnyx;
  const std::string ts = std::to_string(kNow);
  ExpectUnauthenticated(VerifyTelnyxSignature(telnyx.PublicKey(), "", ts, kBody, kNow),
                        "missing telnyx-signature-ed25519 header");
  ExpectUnauthenticated(
      VerifyTelnyxSignature(telnyx.PublicKey(), telnyx.Sign("", kBody), "", kBody, kNow),
      "missing telnyx-timestamp header");
  ExpectUnauthenticated(VerifyTelnyxSignature(telnyx.PublicKey(), "", "", kBody, kNow),
                        "missing telnyx-signature-ed25519 header");
}

TEST(TelnyxSignatureTest, RefusesASignatureByAnotherKey) {
  TelnyxSigner telnyx;
  TelnyxSigner impostor;
  const std::string ts = std::to_string(kNow);
  ExpectUnauthenticated(
      VerifyTelnyxSignature(telnyx.PublicKey(), impostor.Sign(ts, kBody), ts, kBody, kNow),
      kMismatch);
}

TEST(TelnyxSignatureTest, AMalformedPublicKeyIsAConfigurationError) {
  TelnyxSigner telnyx;
  const std::string ts = std::to_string(kNow);
  const std::string signature = telnyx.Sign(ts, kBody);
  const std::string key = telnyx.PublicKey();
  ASSERT_EQ(key.size(), 44u);
  const uint8_t zeros[64] = {};
  for (std::string bad : {std::string(), key.substr(0, 43), key + "\n", std::string(44, '*'),
                          ToBase64(zeros, 31), ToBase64(zeros, 33), ToBase64(zeros, 64)}) {
    Status st = VerifyTelnyxSignature(bad, signature, ts, kBody, kNow);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(st.message(), "the Telnyx public key is not a base64 Ed25519 public key (32 bytes)");
  }
  // Reported even when the request itself is also bad: it is the operator's to fix.
  EXPECT_EQ(VerifyTelnyxSignature("", "", "", kBody, kNow).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace custodian::crypto
