// Password hashing for operator passwords: Argon2id (crypto_pwhash_str) with
// libsodium's "interactive" limits (64 MiB, 2 passes; tens of milliseconds per
// call by design).
//
// The stored string is self-describing ("$argon2id$v=19$m=65536,t=2,p=1$...")
// and holds its own random salt, so equal passwords hash differently.
// Verification compares in constant time.
//
// Thread-safety: every function is thread-safe. Each call allocates 64 MiB
// for its duration; bound how many run at once.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "custodian/status.h"

namespace custodian::crypto {

inline constexpr size_t kMaxPasswordSize = 4096;

// The encoded Argon2id hash of `password`. InvalidArgument if the password is
// empty or longer than kMaxPasswordSize bytes; Unavailable if the memory for
// the hash cannot be allocated.
Result<std::string> HashPassword(std::string_view password);

// True iff `password` matches `stored_hash` (a HashPassword result). False for
// a wrong password and for a malformed or non-Argon2id `stored_hash`.
bool VerifyPassword(std::string_view stored_hash, std::string_view password);

// True if `stored_hash` was made with other parameters than HashPassword uses
// now (or is malformed): rehash the password at the next successful login.
bool PasswordNeedsRehash(std::string_view stored_hash);

}  // namespace custodian::crypto
