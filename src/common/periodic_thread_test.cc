// PeriodicThread: the first wait, the wait each round asks for, Wake ending a
// wait early, Stop ending a wait at once and waiting for a round in progress,
// stopping() seen from inside a round, and Start again after Stop.
#include "common/periodic_thread.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace custodian {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Polls `done` for up to 30 s (generous for a loaded or sanitized build).
template <typename F>
bool Eventually(F done) {
  for (int i = 0; i < 3000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return done();
}

TEST(PeriodicThreadTest, RunsRoundsUntilStoppedWaitingAsEachRoundSays) {
  PeriodicThread thread;
  std::atomic<int> rounds{0};
  thread.Start(milliseconds(0), [&] {
    ++rounds;
    return milliseconds(1);
  });
  ASSERT_TRUE(Eventually([&] { return rounds.load() >= 3; }));
  EXPECT_TRUE(thread.Stop());
  const int after = rounds.load();
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_EQ(rounds.load(), after);  // no round after Stop returned
  EXPECT_FALSE(thread.Stop());      // idempotent: it was not running
}

TEST(PeriodicThreadTest, StopEndsALongWaitAtOnceAndWakeEndsItEarly) {
  PeriodicThread thread;
  std::atomic<int> rounds{0};
  thread.Start(milliseconds(0), [&] {
    ++rounds;
    return std::chrono::hours(1);
  });
  ASSERT_TRUE(Eventually([&] { return rounds.load() == 1; }));
  thread.Wake();  // the hour's wait ends now
  ASSERT_TRUE(Eventually([&] { return rounds.load() == 2; }));
  const auto start = Clock::now();
  EXPECT_TRUE(thread.Stop());
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(30));  // not the hour
  EXPECT_EQ(rounds.load(), 2);
}

TEST(PeriodicThreadTest, StopWaitsForTheRoundInProgressWhichSeesStopping) {
  PeriodicThread thread;
  std::atomic<bool> in_round{false}, saw_stopping{false}, finished{false};
  thread.Start(milliseconds(0), [&] {
    in_round = true;
    // A long round ends early once asked to.
    while (!thread.stopping()) std::this_thread::sleep_for(milliseconds(1));
    saw_stopping = true;
    finished = true;
    return std::chrono::hours(1);
  });
  ASSERT_TRUE(Eventually([&] { return in_round.load(); }));
  EXPECT_TRUE(thread.Stop());
  EXPECT_TRUE(saw_stopping.load());
  EXPECT_TRUE(finished.load());  // Stop returned only after the round did

  // Started again: a new thread, a new first wait.
  std::atomic<int> rounds{0};
  thread.Start(milliseconds(0), [&] {
    ++rounds;
    return std::chrono::hours(1);
  });
  ASSERT_TRUE(Eventually([&] { return rounds.load() == 1; }));
  EXPECT_FALSE(thread.stopping());
  EXPECT_TRUE(thread.Stop());
}

TEST(PeriodicThreadTest, TheFirstRoundWaitsTheFirstDelay) {
  PeriodicThread thread;
  std::atomic<int> rounds{0};
  thread.Start(std::chrono::hours(1), [&] {
    ++rounds;
    return milliseconds(1);
  });
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(rounds.load(), 0);
  EXPECT_TRUE(thread.Stop());
  EXPECT_EQ(rounds.load(), 0);
}

}  // namespace
}  // namespace custodian
