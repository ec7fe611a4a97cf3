// Aead: authenticated encryption of values and wrapped keys, XChaCha20-Poly1305.
//
// The caller never sees a nonce or an algorithm. Seal() returns a
// self-describing blob:
//
//   offset  size  field
//   0       1     format (0x01 = XChaCha20-Poly1305-IETF, random 24-byte nonce)
//   1       4     key version, big-endian
//   5       24    nonce (random, from the OS CSPRNG)
//   29      n+16  ciphertext of the n-byte plaintext, then the Poly1305 tag
//
// The AEAD's associated data is the 5-byte header followed by the caller's
// associated data, so the format byte and the key version are authenticated
// too. Build the caller's associated data with FieldAssociatedData() or the key
// contexts in crypto/keys.h: a blob opened with any other associated data (another
// tenant, subject or field) fails.
//
// Every failure of Open() (wrong associated data, any flipped byte, truncation,
// unknown format, another key or key version) returns the same
// Status::DataLoss with the same message, which says nothing about the key, the
// plaintext or which check failed.
//
// Thread-safety: an Aead is immutable after Create(); Seal() and Open() may be
// called from any number of threads at once. A moved-from Aead may only be
// destroyed or assigned to.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "crypto/secret.h"
#include "custodian/status.h"

namespace custodian::crypto {

class Aead {
 public:
  static constexpr size_t kKeySize = 32;
  static constexpr size_t kHeaderSize = 1 + 4;
  static constexpr size_t kNonceSize = 24;
  static constexpr size_t kTagSize = 16;
  // Bytes a blob adds to its plaintext.
  static constexpr size_t kOverhead = kHeaderSize + kNonceSize + kTagSize;

  // Takes ownership of `key`. InvalidArgument if the key is not kKeySize bytes.
  // `key_version` is written into every blob this Aead seals and checked by
  // Open(); it identifies the key when keys rotate.
  static Result<Aead> Create(SecretBytes key, uint32_t key_version);

  Aead(Aead&&) noexcept = default;
  Aead& operator=(Aead&&) noexcept = default;

  // Encrypts `plaintext`, binding `associated_data` (which is not stored).
  // Never fails.
  std::string Seal(std::string_view plaintext, std::string_view associated_data) const;

  // The plaintext of a blob made by Seal() with this key, key version and the
  // same associated data; DataLoss("integrity check failed: ...") otherwise.
  Result<std::string> Open(std::string_view blob, std::string_view associated_data) const;

  uint32_t key_version() const { return key_version_; }

  // The key version written in `blob`, to pick the key that opens it during a
  // rotation. Unauthenticated until Open() succeeds. DataLoss (the same
  // generic error as Open) if `blob` is too short or of an unknown format.
  static Result<uint32_t> KeyVersionOf(std::string_view blob);

 private:
  friend Result<SecretBytes> UnwrapKey(const Aead& kek, std::string_view wrapped,
                                       std::string_view context);

  Aead(SecretBytes key, uint32_t key_version) : key_(std::move(key)), key_version_(key_version) {}

  // Decrypts `blob` into `out`, which holds blob.size() - kOverhead bytes.
  // Used directly by UnwrapKey so that unwrapped keys only touch secure memory.
  Status OpenInto(std::string_view blob, std::string_view associated_data, uint8_t* out) const;

  SecretBytes key_;
  uint32_t key_version_;
};

}  // namespace custodian::crypto
