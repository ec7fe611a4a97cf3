#include "crypto/otp.h"

#include <liboath/oath.h>
#include <sodium.h>

#include <cstdlib>
#include <mutex>

#include "crypto/internal.h"

namespace custodian::crypto {
namespace {

void EnsureOath() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (oath_init() != OATH_OK) std::abort();  // only fails on a broken installation
  });
}

// liboath's strcmp-like callback: 0 iff equal, compared in constant time.
int ConstantTimeCompare(void* handle, const char* candidate) {
  const std::string_view& code = *static_cast<const std::string_view*>(handle);
  std::string_view other(candidate);
  return ConstantTimeEquals(code, other) ? 0 : 1;
}

bool IsCodeShaped(std::string_view code) {
  if (code.size() != kTotpDigits) return false;
  for (char c : code) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

Status WrongCode() { return Status::Unauthenticated("wrong one-time code"); }

}  // namespace

std::string Base32Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

Result<uint64_t> ValidateTotp(const SecretBytes& secret, int64_t now_seconds, unsigned window,
                              std::string_view code) {
  EnsureOath();
  if (!IsCodeShaped(code) || secret.size() == 0 || now_seconds < 0) return WrongCode();
  int position = 0;
  uint64_t counter = 0;
  int rc = oath_totp_validate3_callback(
      reinterpret_cast<const char*>(secret.data()), secret.size(),
      static_cast<time_t>(now_seconds), kTotpStepSeconds, OATH_TOTP_DEFAULT_START_TIME,
      kTotpDigits, window, &position, &counter, ConstantTimeCompare, &code);
  if (rc < 0) return WrongCode();
  return counter;
}

Result<std::string> GenerateTotp(const SecretBytes& secret, int64_t now_seconds) {
  EnsureOath();
  char out[kTotpDigits + 1] = {};
  int rc = oath_totp_generate(reinterpret_cast<const char*>(secret.data()), secret.size(),
                              static_cast<time_t>(now_seconds), kTotpStepSeconds,
                              OATH_TOTP_DEFAULT_START_TIME, kTotpDigits, out);
  if (rc != OATH_OK) return Status::Internal("one-time code generation failed");
  std::string code(out, kTotpDigits);
  sodium_memzero(out, sizeof out);
  return code;
}

}  // namespace custodian::crypto
