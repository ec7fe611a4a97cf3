#include "service/probe_cache.h"

#include <sodium.h>

#include "service/vault.h"

namespace custodian::service {

ProbeTable::ProbeTable(std::size_t capacity) : per_shard_(capacity / kShards) {}

std::optional<ProbeTable::Probes> ProbeTable::Find(const std::string& key) const {
  if (per_shard_ == 0) return std::nullopt;
  Shard& s = shards_[static_cast<unsigned char>(key[0]) % kShards];
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.entries.find(key);
  if (it == s.entries.end()) return std::nullopt;
  return it->second;
}

void ProbeTable::Put(std::string key, Probes probes) const {
  if (per_shard_ == 0) return;
  Shard& s = shards_[static_cast<unsigned char>(key[0]) % kShards];
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.entries.size() >= per_shard_ && s.entries.find(key) == s.entries.end()) {
    s.entries.clear();
  }
  s.entries.insert_or_assign(std::move(key), std::move(probes));
}

std::size_t ProbeTable::size() const {
  std::size_t n = 0;
  for (Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mu);
    n += s.entries.size();
  }
  return n;
}

ProbeCache::ProbeCache()
    : ProbeCache(std::make_shared<const ProbeTable>(VaultOptions{}.probe_cache_entries)) {}

ProbeCache::ProbeCache(std::shared_ptr<const ProbeTable> table) : table_(std::move(table)) {
  randombytes_buf(key_.data(), key_.size());
}

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
  return table_->Find(Key(kind, value));
}

void ProbeCache::Put(std::string_view kind, std::string_view value, Probes probes) const {
  table_->Put(Key(kind, value), std::move(probes));
}

}  // namespace custodian::service
