// ProbeCache: the blind-index digests a lookup value maps to, remembered by a
// keyed hash of the value as the caller wrote it. Call matching looks the same
// numbers up again and again (a caller rings back, a CRM polls); parsing a
// phone number with libphonenumber costs more than the rest of the lookup's
// CPU, so a repeat skips it.
//
// It holds no personal value: the key is BLAKE2b-128 under a random key made
// for each cache (never stored), the value is the digests already stored in
// the subject index. One cache belongs to one tenant context, so a policy
// change (a new context) starts an empty one.
//
// The entries of every tenant's cache live in one ProbeTable per vault, so the
// bound holds for the whole process however many tenants it serves
// (VaultOptions::probe_cache_entries): kShards shards of at most
// capacity / kShards entries each; a full shard is emptied and starts again.
// Two caches' entries cannot meet: each cache's keys are under its own random
// key (a collision is a 2^-128 event).
#ifndef CUSTODIAN_SERVICE_PROBE_CACHE_H_
#define CUSTODIAN_SERVICE_PROBE_CACHE_H_

#include <array>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace custodian::service {

// The entries of a vault's probe caches, bounded as a whole.
class ProbeTable {
 public:
  using Probes = std::vector<std::pair<std::string, std::string>>;  // category, digest
  static constexpr std::size_t kShards = 16;
  // At most `capacity` entries (rounded down to a multiple of kShards); 0
  // keeps nothing.
  explicit ProbeTable(std::size_t capacity);
  ProbeTable(const ProbeTable&) = delete;
  ProbeTable& operator=(const ProbeTable&) = delete;

  std::optional<Probes> Find(const std::string& key) const;
  void Put(std::string key, Probes probes) const;
  std::size_t size() const;
  std::size_t capacity() const { return per_shard_ * kShards; }

 private:
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Probes> entries;
  };
  const std::size_t per_shard_;
  mutable std::array<Shard, kShards> shards_;
};

class ProbeCache {
 public:
  using Probes = ProbeTable::Probes;

  // A cache of its own (a table of VaultOptions' default capacity), or one
  // whose entries live in `table`, beside other caches'.
  ProbeCache();
  explicit ProbeCache(std::shared_ptr<const ProbeTable> table);
  ~ProbeCache();
  ProbeCache(const ProbeCache&) = delete;
  ProbeCache& operator=(const ProbeCache&) = delete;

  // The probes remembered for (kind, value), if any.
  std::optional<Probes> Find(std::string_view kind, std::string_view value) const;
  void Put(std::string_view kind, std::string_view value, Probes probes) const;

 private:
  std::string Key(std::string_view kind, std::string_view value) const;

  std::shared_ptr<const ProbeTable> table_;
  std::array<unsigned char, 32> key_{};
};

}  // namespace custodian::service

#endif  // CUSTODIAN_SERVICE_PROBE_CACHE_H_
