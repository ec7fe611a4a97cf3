#include "service/probe_cache.h"

#include <sodium.h>

namespace custodian::service {

ProbeCache::ProbeCache() { randombytes_buf(key_.data(), key_.size()); }

ProbeCache::~ProbeCache() { sodium_memzero(key_.data(), key_.size()); }

std::string ProbeCache::Key(std::string_view kind, std::string_view value) const {
  // kind || 0 || value: a kind never holds a NUL, so no two pairs share an input.
  crypto_generichash_state st;
  crypto_generichash_init(&st, key_.data(), key_.size(), 16);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(kind.data()), kind.size());
  const unsigned char zero = 0;
  crypto_generichash_update(&st, &zero, 1);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(value.data()),
                            value.size());
  std::string out(16, '\0');
  crypto_generichash_final(&st, reinterpret_cast<unsigned char*>(out.data()), out.size());
  return out;
}

std::optional<ProbeCache::Probes> ProbeCache::Find(std::string_view kind,
                                                   std::string_view value) const {
  std::string k = Key(kind, value);
  Shard& s = shards_[static_cast<unsigned char>(k[0]) % kShards];
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.entries.find(k);
  if (it == s.entries.end()) return std::nullopt;
  return it->second;
}

void ProbeCache::Put(std::string_view kind, std::string_view value, Probes probes) const {
  std::string k = Key(kind, value);
  Shard& s = shards_[static_cast<unsigned char>(k[0]) % kShards];
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.entries.size() >= kPerShard) s.entries.clear();
  s.entries.insert_or_assign(std::move(k), std::move(probes));
}

std::size_t ProbeCache::size() const {
  std::size_t n = 0;
  for (Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mu);
    n += s.entries.size();
  }
  return n;
}

}  // namespace custodian::service
