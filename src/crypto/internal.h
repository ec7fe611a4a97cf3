// Internals shared by the files of src/crypto. Not part of the crypto layer's
// API: nothing outside src/crypto includes this header.
//
// Thread-safety: every function here is thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/secret.h"

namespace custodian::crypto::internal {

// Runs sodium_init() exactly once per process (thread-safe). Every public entry
// point of the crypto layer that touches libsodium calls it first. Aborts if
// libsodium cannot initialize (no entropy source): nothing can be done safely.
void EnsureSodium();

// Aead's one error for every blob that fails to open (defined in aead.cc).
Status IntegrityError();

// The secret-allocation primitives that code outside src/crypto must not reach.
class SecretBytesAccess {
 public:
  // An uninitialized secure buffer of `size` > 0 bytes, for a primitive to
  // write a key into (decryption, decoding, derivation).
  static SecretBytes Allocate(size_t size) { return SecretBytes(size); }
  static uint8_t* MutableData(SecretBytes& secret) { return secret.data_; }
  // Shrinks the visible size (e.g. after decoding into a larger buffer). The
  // whole allocation is still wiped on destruction.
  static void Truncate(SecretBytes& secret, size_t size) {
    if (size < secret.size_) secret.size_ = size;
  }
};

// Appends `part` as a 4-byte big-endian length followed by its bytes, so that
// a sequence of parts has exactly one encoding ("a|b","c" != "a","b|c").
void AppendLengthPrefixed(std::string& out, std::string_view part);

// Writes `value` big-endian into out[0..3].
inline void StoreBigEndian32(uint32_t value, uint8_t* out) {
  out[0] = static_cast<uint8_t>(value >> 24);
  out[1] = static_cast<uint8_t>(value >> 16);
  out[2] = static_cast<uint8_t>(value >> 8);
  out[3] = static_cast<uint8_t>(value);
}

inline uint32_t LoadBigEndian32(const uint8_t* in) {
  return (uint32_t{in[0]} << 24) | (uint32_t{in[1]} << 16) | (uint32_t{in[2]} << 8) |
         uint32_t{in[3]};
}

}  // namespace custodian::crypto::internal
