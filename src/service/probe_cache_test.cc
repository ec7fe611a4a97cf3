#include "service/probe_cache.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <memory>
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

TEST(ProbeCacheTest, CachesSharingATableShareItsBoundAndNotTheirEntries) {
  ASSERT_GE(sodium_init(), 0);
  auto table = std::make_shared<const ProbeTable>(1600);
  ASSERT_EQ(table->capacity(), 1600u);
  ProbeCache a(table), b(table);
  a.Put("phone", "088701 00100", kAsha);
  EXPECT_TRUE(a.Find("phone", "088701 00100"));
  EXPECT_FALSE(b.Find("phone", "088701 00100"));  // b's keys are under b's own key
  // Both caches fill the one table: together they stay within its bound.
  for (int i = 0; i < 3000; ++i) {
    a.Put("phone", "a" + std::to_string(i), kAsha);
    b.Put("phone", "b" + std::to_string(i), kAsha);
  }
  EXPECT_LE(table->size(), 1600u);
  EXPECT_GT(table->size(), 1600u / 4);  // a full shard empties itself, not the whole table
  EXPECT_TRUE(a.Find("phone", "a2999"));
  EXPECT_TRUE(b.Find("phone", "b2999"));
  // Putting a key the full shard already holds replaces it, emptying nothing.
  const std::size_t before = table->size();
  a.Put("phone", "a2999", kAsha);
  EXPECT_EQ(table->size(), before);
}

TEST(ProbeCacheTest, ATableOfNoCapacityRemembersNothing) {
  ASSERT_GE(sodium_init(), 0);
  auto table = std::make_shared<const ProbeTable>(0);
  ProbeCache cache(table);
  cache.Put("phone", "088701 00100", kAsha);
  EXPECT_FALSE(cache.Find("phone", "088701 00100"));
  EXPECT_EQ(table->size(), 0u);
}

}  // namespace
}  // namespace custodian::service
