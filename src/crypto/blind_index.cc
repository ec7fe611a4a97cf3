#include "crypto/blind_index.h"

#include <sodium.h>

#include <cstdlib>

#include "crypto/internal.h"

namespace custodian::crypto {
namespace {

static_assert(BlindIndex::kKeySize == crypto_generichash_KEYBYTES);
static_assert(BlindIndex::kDigestSize == crypto_generichash_BYTES);

constexpr std::string_view kLabel = "custodian:blind-index:v1";

void UpdateLengthPrefixed(crypto_generichash_state& state, std::string_view part) {
  uint8_t length[4];
  internal::StoreBigEndian32(static_cast<uint32_t>(part.size()), length);
  crypto_generichash_update(&state, length, sizeof length);
  crypto_generichash_update(&state, reinterpret_cast<const uint8_t*>(part.data()), part.size());
}

}  // namespace

Result<BlindIndex> BlindIndex::Create(SecretBytes key) {
  internal::EnsureSodium();
  if (key.size() != kKeySize) {
    return Status::InvalidArgument("a blind index key must be 32 bytes, got " +
                                   std::to_string(key.size()));
  }
  return BlindIndex(std::move(key));
}

std::string BlindIndex::Digest(std::string_view category, std::string_view normalized_value) const {
  crypto_generichash_state state;
  crypto_generichash_init(&state, key_.data(), key_.size(), kDigestSize);
  UpdateLengthPrefixed(state, kLabel);
  UpdateLengthPrefixed(state, category);
  UpdateLengthPrefixed(state, normalized_value);
  std::string digest(kDigestSize, '\0');
  crypto_generichash_final(&state, reinterpret_cast<uint8_t*>(digest.data()), kDigestSize);
  // The state held key-derived material.
  sodium_memzero(&state, sizeof state);
  return digest;
}

}  // namespace custodian::crypto
