// TOTP codes as an authenticator app shows them, computed with liboath (an
// implementation independent of custodian's), for tests that sign in.
#pragma once

#include <gtest/gtest.h>
#include <liboath/oath.h>

#include <cstdint>
#include <cstdlib>
#include <string>

namespace custodian::testing_util {

// The raw bytes of an RFC 4648 base32 secret ("" if it does not decode).
inline std::string Base32Decoded(const std::string& base32) {
  static const int init = oath_init();
  (void)init;
  char* raw = nullptr;
  size_t len = 0;
  EXPECT_EQ(oath_base32_decode(base32.data(), base32.size(), &raw, &len), OATH_OK);
  std::string out = raw != nullptr ? std::string(raw, len) : std::string();
  std::free(raw);
  return out;
}

// The 6-digit RFC 6238 code (SHA-1, 30 s steps) of a base32 secret at `ms`.
inline std::string TotpCode(const std::string& base32_secret, int64_t ms) {
  const std::string key = Base32Decoded(base32_secret);
  char out[7] = {};
  EXPECT_EQ(oath_totp_generate(key.data(), key.size(), static_cast<time_t>(ms / 1000), 30, 0, 6,
                               out),
            OATH_OK);
  return out;
}

}  // namespace custodian::testing_util
