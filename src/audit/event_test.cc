#include "audit/event.h"

#include <gtest/gtest.h>

namespace custodian::audit {
namespace {

std::vector<StoredEvent> Chain(int n) {
  std::vector<StoredEvent> out;
  std::string prev = GenesisHash();
  for (int i = 1; i <= n; ++i) {
    Event e;
    e.time_ms = 1000 + i;
    e.tenant = "interjet";
    e.actor = "cli";
    e.role = "agent";
    e.action = "subject.show";
    e.subject = "sub_" + std::to_string(i);
    e.purpose = "essential.service";
    e.categories = {"user.name"};
    e.outcome = "ok";
    std::string c = e.Canonical();
    std::string h = ChainHash(prev, c);
    out.push_back({i, c, h});
    prev = h;
  }
  return out;
}

VerifyReport Verify(const std::vector<StoredEvent>& events) {
  ChainVerifier v;
  for (const auto& e : events) {
    if (!v.Add(e)) break;
  }
  return v.Finish();
}

TEST(AuditEvent, CanonicalRoundTrips) {
  auto events = Chain(1);
  auto e = Event::FromCanonical(events[0].canonical);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->subject, "sub_1");
  EXPECT_EQ(e->Canonical(), events[0].canonical);
}

TEST(AuditChain, IntactChainVerifies) {
  auto r = Verify(Chain(50));
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.events, 50);
  EXPECT_EQ(r.head_hash_hex.size(), 64u);
}

// Flipping any single byte of any stored event's contents or hash must be
// detected, and named at that event.
TEST(AuditChain, EveryFlippedByteIsNamed) {
  const auto good = Chain(4);
  for (std::size_t target = 0; target < good.size(); ++target) {
    std::size_t total = good[target].canonical.size() + good[target].hash.size();
    for (std::size_t pos = 0; pos < total; ++pos) {
      auto events = good;
      auto& ev = events[target];
      if (pos < ev.canonical.size()) {
        ev.canonical[pos] ^= 0x01;
      } else {
        ev.hash[pos - ev.canonical.size()] ^= 0x01;
      }
      auto r = Verify(events);
      ASSERT_FALSE(r.ok) << "flip at event " << target + 1 << " byte " << pos;
      EXPECT_EQ(r.first_bad_seq, static_cast<int64_t>(target + 1));
      EXPECT_EQ(r.events, static_cast<int64_t>(target));
    }
  }
}

TEST(AuditChain, MissingEventIsNamed) {
  auto events = Chain(5);
  events.erase(events.begin() + 2);  // drop seq 3
  auto r = Verify(events);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 3);
  EXPECT_EQ(r.problem, "event 3 is missing (the next stored event is 4)");
}

TEST(AuditChain, DeletingTheLastEventsCannotBeSeenWithoutACheckpoint) {
  // A truncated tail still verifies: signed checkpoints (a later issue) close
  // that gap. This test pins the current, documented limit.
  auto events = Chain(5);
  events.pop_back();
  EXPECT_TRUE(Verify(events).ok);
}

}  // namespace
}  // namespace custodian::audit
