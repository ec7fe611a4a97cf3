#include "crypto/webhook_signature.h"

#include <sodium.h>

#include <algorithm>
#include <charconv>
#include <string>

#include "common/base64.h"
#include "crypto/internal.h"

namespace custodian::crypto {
namespace {

// Decodes standard padded base64 that must be exactly `size` bytes into `out`.
// A longer input overflows `out` and fails in sodium_base642bin.
bool DecodeExactly(std::string_view b64, uint8_t* out, size_t size) {
  size_t decoded = 0;
  return IsBase64Text(b64, Base64Alphabet::kStandard) &&
         sodium_base642bin(out, size, b64.data(), b64.size(), /*ignore=*/nullptr, &decoded,
                           /*b64_end=*/nullptr, sodium_base64_VARIANT_ORIGINAL) == 0 &&
         decoded == size;
}

// Unix seconds: 1 to 19 ASCII digits (no sign, no space) fitting in int64.
bool ParseUnixSeconds(std::string_view text, int64_t& out) {
  if (text.empty() || text.size() > 19) return false;
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// |a - b| without overflow.
uint64_t Distance(int64_t a, int64_t b) {
  return a >= b ? static_cast<uint64_t>(a) - static_cast<uint64_t>(b)
                : static_cast<uint64_t>(b) - static_cast<uint64_t>(a);
}

}  // namespace

Status VerifyTelnyxSignature(std::string_view public_key_b64, std::string_view signature_b64,
                             std::string_view timestamp, std::string_view body, int64_t now_s,
                             int64_t tolerance_s) {
  internal::EnsureSodium();
  uint8_t public_key[crypto_sign_PUBLICKEYBYTES];
  if (!DecodeExactly(public_key_b64, public_key, sizeof public_key)) {
    return Status::InvalidArgument(
        "the Telnyx public key is not a base64 Ed25519 public key (32 bytes)");
  }
  if (signature_b64.empty()) {
    return Status::Unauthenticated(std::string("missing ") + kTelnyxSignatureHeader + " header");
  }
  if (timestamp.empty()) {
    return Status::Unauthenticated(std::string("missing ") + kTelnyxTimestampHeader + " header");
  }
  uint8_t signature[crypto_sign_BYTES];
  if (!DecodeExactly(signature_b64, signature, sizeof signature)) {
    return Status::Unauthenticated(std::string(kTelnyxSignatureHeader) +
                                   " is not a base64 Ed25519 signature");
  }
  int64_t sent_s = 0;
  if (!ParseUnixSeconds(timestamp, sent_s)) {
    return Status::Unauthenticated(std::string(kTelnyxTimestampHeader) +
                                   " is not a Unix time in seconds");
  }
  const uint64_t skew = Distance(sent_s, now_s);
  const int64_t tolerance = std::max<int64_t>(tolerance_s, 0);
  if (skew > static_cast<uint64_t>(tolerance)) {
    return Status::Unauthenticated(std::string(kTelnyxTimestampHeader) + " is " +
                                   std::to_string(skew) + " s away from now (tolerance " +
                                   std::to_string(tolerance) +
                                   " s); a replayed or delayed webhook");
  }
  std::string message;
  message.reserve(timestamp.size() + 1 + body.size());
  message.append(timestamp).append("|").append(body);
  if (crypto_sign_verify_detached(signature, reinterpret_cast<const uint8_t*>(message.data()),
                                  message.size(), public_key) != 0) {
    return Status::Unauthenticated("signature does not match the body");
  }
  return Status::Ok();
}

}  // namespace custodian::crypto
