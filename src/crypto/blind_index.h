// BlindIndex: exact-match lookup of encrypted values without decrypting them.
//
// Digest(category, value) is keyed BLAKE2b-256 (crypto_generichash with a
// 32-byte key) over an unambiguous encoding of a label, the category and the
// value:
//
//   len("custodian:blind-index:v1") || "custodian:blind-index:v1" ||
//   len(category) || category || len(value) || value      (len: 4 bytes, BE)
//
// Equal (category, value) pairs under the same key give equal digests; another
// category or another key gives an unrelated digest, so digests of one tenant
// say nothing about another's. Callers normalize the value first
// (NormalizePhone / NormalizeEmail / NormalizeText in crypto/normalize.h) so
// that "088701 00100" and "+91 88701-00100" meet. The key is the tenant's
// DeriveSubkey(kBlindIndex) (crypto/keys.h).
//
// The same construction, keyed with DeriveSubkey(kAuditHash), gives the
// labelled keyed hashes that audit events carry instead of values.
//
// Thread-safety: immutable after Create(); Digest() may be called from any
// number of threads at once. A moved-from BlindIndex may only be destroyed or
// assigned to.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "crypto/secret.h"
#include "custodian/status.h"

namespace custodian::crypto {

class BlindIndex {
 public:
  static constexpr size_t kKeySize = 32;
  static constexpr size_t kDigestSize = 32;

  // Takes ownership of `key`. InvalidArgument if it is not kKeySize bytes.
  static Result<BlindIndex> Create(SecretBytes key);

  BlindIndex(BlindIndex&&) noexcept = default;
  BlindIndex& operator=(BlindIndex&&) noexcept = default;

  // The kDigestSize-byte digest (raw bytes, not hex) of an already normalized
  // value of `category` (e.g. "user.contact.phone_number"). Never fails.
  std::string Digest(std::string_view category, std::string_view normalized_value) const;

 private:
  explicit BlindIndex(SecretBytes key) : key_(std::move(key)) {}
  SecretBytes key_;
};

}  // namespace custodian::crypto
