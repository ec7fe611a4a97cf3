#include "crypto/internal.h"

#include <sodium.h>

#include <cassert>
#include <cstdio>
#include <cstdlib>

namespace custodian::crypto::internal {

void EnsureSodium() {
  // A function-local static: initialized exactly once, thread-safe (C++11).
  static const bool initialized = [] {
    if (sodium_init() < 0) {
      std::fputs("custodian: libsodium failed to initialize (no entropy source?)\n", stderr);
      std::abort();
    }
    return true;
  }();
  (void)initialized;
}

void AppendLengthPrefixed(std::string& out, std::string_view part) {
  assert(part.size() <= UINT32_MAX);
  uint8_t length[4];
  StoreBigEndian32(static_cast<uint32_t>(part.size()), length);
  out.append(reinterpret_cast<const char*>(length), sizeof length);
  out.append(part);
}

}  // namespace custodian::crypto::internal
