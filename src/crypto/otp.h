// One-time passwords for operators: RFC 6238 TOTP (HMAC-SHA1, 6 digits,
// 30-second steps from the Unix epoch), validated by liboath, and the RFC 4648
// base32 that authenticator apps read secrets in.
//
// A TOTP secret is key material: callers keep it in SecretBytes and store it
// only sealed. ValidateTotp compares codes in constant time and reports which
// time step matched, so that the caller can refuse a step already used
// (replay).
//
// Thread-safety: every function is thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/secret.h"
#include "custodian/status.h"

namespace custodian::crypto {

inline constexpr size_t kTotpSecretSize = 20;  // 160 bits, as RFC 4226 recommends
inline constexpr unsigned kTotpDigits = 6;
inline constexpr unsigned kTotpStepSeconds = 30;

// RFC 4648 base32, upper case, without padding ("GEZDGNBV...").
std::string Base32Encode(std::string_view bytes);

// The time step (counter) of `code` if it is the TOTP of `secret` at
// `now_seconds` or within `window` steps before or after it.
// Unauthenticated("wrong one-time code") for any code that does not match,
// including one that is not exactly kTotpDigits ASCII digits; the message is
// the same whatever was wrong.
Result<uint64_t> ValidateTotp(const SecretBytes& secret, int64_t now_seconds, unsigned window,
                              std::string_view code);

// The TOTP of `secret` at `now_seconds` (for tests and tooling).
Result<std::string> GenerateTotp(const SecretBytes& secret, int64_t now_seconds);

}  // namespace custodian::crypto
