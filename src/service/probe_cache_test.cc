#include "service/probe_cache.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <string>

namespace custodian::service {
namespace {

const ProbeCache::Probes kAsha = {{"user.contact.phone_number", std::string(32, 'a')}};

TEST(ProbeCacheTest, RemembersExactlyTheKindAndValueItWasGiven) {
  ASSERT_GE(sodium_init(), 0);
  ProbeCache cache;
  EXPECT_FALSE(cache.Find("phone", "088701 00100"));
  cache.Put("phone", "088701 00100", kAsha);
  auto hit = cache.Find("phone", "088701 00100");
  ASSERT_TRUE(hit);
  EXPECT_EQ(*hit, kAsha);
  // Another spelling, another kind, or the same bytes split differently
  // between kind and value are other entries.
  EXPECT_FALSE(cache.Find("phone", "08870100100"));
  EXPECT_FALSE(cache.Find("email", "088701 00100"));
  cache.Put("ab", "c", kAsha);
  EXPECT_FALSE(cache.Find("a", "bc"));
  // A second cache has its own key: it knows nothing of the first's entries.
  ProbeCache other;
  EXPECT_FALSE(other.Find("phone", "088701 00100"));
}

TEST(ProbeCacheTest, StaysWithinItsBound) {
  ASSERT_GE(sodium_init(), 0);
  ProbeCache cache;
  const std::size_t bound = ProbeCache::kShards * ProbeCache::kPerShard;
  for (std::size_t i = 0; i < 3 * bound; ++i) cache.Put("phone", std::to_string(i), kAsha);
  EXPECT_LE(cache.size(), bound);
  EXPECT_GT(cache.size(), bound / 4);  // a full shard empties itself, not the whole cache
  EXPECT_TRUE(cache.Find("phone", std::to_string(3 * bound - 1)));  // the newest is there
}

}  // namespace
}  // namespace custodian::service
