#include "audit/event.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

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

// The canonical form's definition: nlohmann::ordered_json in this key order,
// dumped compact with ensure_ascii (what every stored event was hashed as).
std::string Reference(const Event& e) {
  nlohmann::ordered_json j;
  j["v"] = 1;
  j["time_ms"] = e.time_ms;
  j["tenant"] = e.tenant;
  j["actor"] = e.actor;
  j["role"] = e.role;
  j["action"] = e.action;
  j["subject"] = e.subject;
  if (!e.subjects.empty()) j["subjects"] = e.subjects;
  j["purpose"] = e.purpose;
  j["categories"] = e.categories;
  j["outcome"] = e.outcome;
  j["reason"] = e.reason;
  j["count"] = e.count;
  return j.dump(-1, ' ', true);
}

TEST(AuditEvent, CanonicalTextIsFixed) {
  Event e;
  e.time_ms = 1767225600000;
  e.tenant = "interjet";
  e.actor = "key:abc";
  e.role = "agent";
  e.action = "lookup";
  e.subject = "sub_1";
  e.purpose = "essential.service";
  e.categories = {"user.name", "user.contact.phone_number"};
  e.outcome = "refused";
  e.reason = "role 'x' may not use purpose 'y'";
  e.count = -3;
  EXPECT_EQ(e.Canonical(),
            "{\"v\":1,\"time_ms\":1767225600000,\"tenant\":\"interjet\",\"actor\":\"key:abc\","
            "\"role\":\"agent\",\"action\":\"lookup\",\"subject\":\"sub_1\",\"purpose\":"
            "\"essential.service\",\"categories\":[\"user.name\",\"user.contact.phone_number\"],"
            "\"outcome\":\"refused\",\"reason\":\"role 'x' may not use purpose 'y'\",\"count\":-3}");
  e.subjects = {"sub_1", "sub_2"};
  e.categories.clear();
  e.reason = "say \"hi\"\\ \t caf\xc3\xa9 \xf0\x9f\x98\x80 \x7f";
  EXPECT_EQ(e.Canonical(),
            "{\"v\":1,\"time_ms\":1767225600000,\"tenant\":\"interjet\",\"actor\":\"key:abc\","
            "\"role\":\"agent\",\"action\":\"lookup\",\"subject\":\"sub_1\",\"subjects\":"
            "[\"sub_1\",\"sub_2\"],\"purpose\":\"essential.service\",\"categories\":[],"
            "\"outcome\":\"refused\",\"reason\":\"say \\\"hi\\\"\\\\ \\t caf\\u00e9 "
            "\\ud83d\\ude00 \\u007f\",\"count\":-3}");
}

// Whatever the strings hold, Canonical() is the reference's bytes: plain
// ASCII, quotes, backslashes, control bytes, DEL, multi-byte UTF-8; and
// invalid UTF-8 is refused (thrown) as the reference refuses it.
TEST(AuditEvent, CanonicalIsTheReferenceForAnyStrings) {
  std::mt19937_64 rng(20261201);
  const std::vector<std::string> pieces = {
      "a", "Z", "0", ".", ":", "_", "-", " ", "'", "~", "user.name", "sub_x1",
      "\"", "\\", "\n", "\t", std::string(1, '\0'), "\x1f", "\x7f", "\xc3\xa9", "\xe2\x82\xac",
      "\xf0\x9f\x98\x80", "/", "<", "}"};
  // Pieces 0-11 are plain; a string of the others is rare, so that most
  // events with one hold it in a single string, one piece among plain ones.
  auto text = [&](bool plain_only) {
    std::string s;
    const std::size_t n = rng() % 12;
    for (std::size_t i = 0; i < n; ++i) {
      const bool odd = !plain_only && rng() % 40 == 0;
      s += odd ? pieces[12 + rng() % (pieces.size() - 12)] : pieces[rng() % 12];
    }
    return s;
  };
  for (int round = 0; round < 20000; ++round) {
    const bool plain = round % 4 == 0;
    Event e;
    e.time_ms = static_cast<int64_t>(rng()) >> (rng() % 64);
    e.count = static_cast<int64_t>(rng()) >> (rng() % 64);
    e.tenant = text(plain);
    e.actor = text(plain);
    e.role = text(plain);
    e.action = text(plain);
    e.subject = text(plain);
    e.purpose = text(plain);
    e.outcome = text(plain);
    e.reason = text(plain);
    for (std::size_t i = rng() % 3; i > 0; --i) e.subjects.push_back(text(plain));
    for (std::size_t i = rng() % 4; i > 0; --i) e.categories.push_back(text(plain));
    ASSERT_EQ(e.Canonical(), Reference(e)) << "round " << round;
    auto back = Event::FromCanonical(e.Canonical());
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->reason, e.reason);
    EXPECT_EQ(back->categories, e.categories);
  }
  Event bad;
  bad.reason = "\xc3";  // a truncated sequence
  EXPECT_THROW(Reference(bad), nlohmann::json::type_error);
  EXPECT_THROW((void)bad.Canonical(), nlohmann::json::type_error);
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
