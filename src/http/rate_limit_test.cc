#include "http/rate_limit.h"

#include <gtest/gtest.h>

namespace custodian::http {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

TEST(KeyRateLimiterTest, ABurstThenTheRateThenAWaitOfExactlyTheRefill) {
  KeyRateLimiter limiter(/*per_second=*/10, /*burst=*/3);
  const Clock::time_point t0{};
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.Take("k1", t0), milliseconds(0)) << i;
  EXPECT_EQ(limiter.Take("k1", t0), milliseconds(100));  // one token every 100 ms
  EXPECT_EQ(limiter.Take("k1", t0 + milliseconds(40)), milliseconds(60));
  EXPECT_EQ(limiter.Take("k1", t0 + milliseconds(100)), milliseconds(0));
  EXPECT_EQ(limiter.Take("k1", t0 + milliseconds(100)), milliseconds(100));
  // Idle for long: the bucket holds the burst, no more.
  const Clock::time_point later = t0 + std::chrono::hours(1);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.Take("k1", later), milliseconds(0)) << i;
  EXPECT_GT(limiter.Take("k1", later), milliseconds(0));
}

TEST(KeyRateLimiterTest, KeysHaveBucketsOfTheirOwn) {
  KeyRateLimiter limiter(1, 1);
  const Clock::time_point t0{};
  EXPECT_EQ(limiter.Take("k1", t0), milliseconds(0));
  EXPECT_EQ(limiter.Take("k1", t0), milliseconds(1000));
  EXPECT_EQ(limiter.Take("k2", t0), milliseconds(0));
  EXPECT_EQ(limiter.Take("k2", t0), milliseconds(1000));
}

TEST(KeyRateLimiterTest, ARefusedRequestTakesNothingAndTimeNeverRunsBackwards) {
  KeyRateLimiter limiter(2, 1);
  const Clock::time_point t0 = Clock::time_point{} + std::chrono::seconds(10);
  EXPECT_EQ(limiter.Take("k", t0), milliseconds(0));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(limiter.Take("k", t0), milliseconds(500)) << i;
  EXPECT_EQ(limiter.Take("k", t0 - std::chrono::seconds(5)), milliseconds(500));
  EXPECT_EQ(limiter.Take("k", t0 + milliseconds(500)), milliseconds(0));
  // A burst under 1 is one request; a slow rate waits at least a millisecond
  // and rounds up.
  KeyRateLimiter slow(0.001, 0);
  EXPECT_EQ(slow.Take("k", t0), milliseconds(0));
  EXPECT_EQ(slow.Take("k", t0), milliseconds(1000 * 1000));
}

TEST(KeyRateLimiterTest, WithoutAServerRateOnlyKeysOwnRatesLimit) {
  KeyRateLimiter limiter(0, 0);  // the server has no rate
  const Clock::time_point t0{};
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(limiter.Take("plain", t0), milliseconds(0)) << i;
  const KeyRate own{4, 2};  // a key's own: 2 at once, then one every 250 ms
  EXPECT_EQ(limiter.Take("crm", t0, own), milliseconds(0));
  EXPECT_EQ(limiter.Take("crm", t0, own), milliseconds(0));
  EXPECT_EQ(limiter.Take("crm", t0, own), milliseconds(250));
  EXPECT_EQ(limiter.Take("crm", t0 + milliseconds(250), own), milliseconds(0));
  // A burst under 1 is one request.
  EXPECT_EQ(limiter.Take("ivr", t0, KeyRate{1, 0}), milliseconds(0));
  EXPECT_EQ(limiter.Take("ivr", t0, KeyRate{1, 0}), milliseconds(1000));
}

}  // namespace
}  // namespace custodian::http
