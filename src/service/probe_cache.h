// ProbeCache: the blind-index digests a lookup value maps to, remembered by a
// keyed hash of the value as the caller wrote it. Call matching looks the same
// few numbers up again and again (a caller rings back, a CRM polls); parsing a
// phone number with libphonenumber costs more than the rest of the lookup's
// CPU, so a repeat skips it.
//
// It holds no personal value: the key is BLAKE2b-128 under a random key made
// for this cache (never stored), the value is the digests already stored in the
// subject index. One cache belongs to one tenant context, so a policy change
// (a new context) starts an empty one. Bounded: kShards shards of at most
// kPerShard entries; a full shard is emptied and starts again.
#ifndef CUSTODIAN_SERVICE_PROBE_CACHE_H_
#define CUSTODIAN_SERVICE_PROBE_CACHE_H_

#include <array>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace custodian::service {

class ProbeCache {
 public:
  using Probes = std::vector<std::pair<std::string, std::string>>;  // category, digest
  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kPerShard = 2048;

  ProbeCache();
  ~ProbeCache();
  ProbeCache(const ProbeCache&) = delete;
  ProbeCache& operator=(const ProbeCache&) = delete;

  // The probes remembered for (kind, value), if any.
  std::optional<Probes> Find(std::string_view kind, std::string_view value) const;
  void Put(std::string_view kind, std::string_view value, Probes probes) const;
  std::size_t size() const;

 private:
  std::string Key(std::string_view kind, std::string_view value) const;

  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Probes> entries;
  };
  mutable std::array<Shard, kShards> shards_;
  std::array<unsigned char, 32> key_{};
};

}  // namespace custodian::service

#endif  // CUSTODIAN_SERVICE_PROBE_CACHE_H_
