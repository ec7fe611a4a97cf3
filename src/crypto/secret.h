// SecretBytes: the only type that holds key material in custodian.
//
// The bytes live in memory obtained from libsodium's guarded allocator
// (sodium_malloc: guard pages around the region, mlock'ed so it is not swapped,
// excluded from core dumps) and are wiped when the object is destroyed.
// Small secrets (<= 64 bytes: every key custodian uses) are carved from
// sodium_malloc'ed arenas by a pool, because one sodium_malloc costs several
// system calls (tens of microseconds) and the service unwraps a subject key on
// every read; larger secrets get their own sodium_malloc region.
//
// A SecretBytes is move-only, cannot be printed and does not convert to a
// string. Compare secrets with ConstantTimeEquals, never with memcmp or ==.
//
// Thread-safety: a SecretBytes is a value; const methods may be called from
// several threads at once. Creating and destroying them is thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string_view>

#include "custodian/status.h"

namespace custodian::crypto {

namespace internal {
class SecretBytesAccess;
}  // namespace internal

class SecretBytes {
 public:
  // `size` fresh random bytes from the operating system's CSPRNG.
  // `size` must be > 0. Aborts the process if secure memory cannot be
  // allocated (like operator new without exceptions).
  static SecretBytes Random(size_t size);

  // A secure copy of `bytes`. InvalidArgument if `bytes` is empty. The caller
  // remains responsible for wiping its own copy.
  static Result<SecretBytes> Copy(std::string_view bytes);

  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  // 0 only for a moved-from object.
  size_t size() const { return size_; }
  const uint8_t* data() const { return data_; }
  // For passing the key to a primitive. Do not copy it into a std::string:
  // that copy would be neither locked nor wiped.
  std::string_view view() const {
    return std::string_view(reinterpret_cast<const char*>(data_), size_);
  }

  // True iff both hold the same bytes. Runs in time independent of the
  // contents (sizes are not secret and are compared first).
  bool ConstantTimeEquals(const SecretBytes& other) const;

  // Printing a secret is a compile error.
  friend std::ostream& operator<<(std::ostream&, const SecretBytes&) = delete;

 private:
  friend class internal::SecretBytesAccess;
  // Uninitialized secure buffer of `size` bytes (> 0).
  explicit SecretBytes(size_t size);
  void Release() noexcept;

  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;  // bytes allocated (pool slot or sodium_malloc size)
};

// Constant-time equality for tokens, MACs and hashes held in ordinary strings.
// Lengths are not secret: different lengths return false immediately.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace custodian::crypto
