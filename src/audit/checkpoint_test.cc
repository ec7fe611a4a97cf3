#include "audit/checkpoint.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <sstream>

#include "audit/export.h"

namespace custodian::audit {
namespace {

struct Keys {
  std::string public_key;
  unsigned char secret[kSecretKeySize];
  explicit Keys(char fill = 7) {
    std::string seed(kSeedSize, fill);
    KeyPairFromSeed(seed, &public_key, secret);
  }
};

std::vector<StoredEvent> Chain(int n, const std::string& tenant_a = "interjet",
                               const std::string& tenant_b = "interjet") {
  std::vector<StoredEvent> out;
  std::string prev = GenesisHash();
  for (int i = 1; i <= n; ++i) {
    Event e;
    e.time_ms = 1000 * i;
    e.tenant = i % 2 ? tenant_a : tenant_b;
    e.actor = "cli";
    e.role = "agent";
    e.action = "subject.show";
    e.subject = "sub_" + std::to_string(i);
    e.purpose = "essential.service";
    e.outcome = "ok";
    std::string c = e.Canonical();
    std::string h = ChainHash(prev, c);
    out.push_back({i, c, h});
    prev = h;
  }
  return out;
}

TEST(Checkpoint, MessageLayoutIsFixedAndDomainSeparated) {
  std::string head(kHashSize, '\xab');
  std::string m = CheckpointMessage(0x0102, head, 0x0A0B);
  std::string want = std::string("custodian.audit.checkpoint.v1") + '\0' +
                     std::string("\0\0\0\0\0\0\x01\x02", 8) + head +
                     std::string("\0\0\0\0\0\0\x0a\x0b", 8);
  EXPECT_EQ(m, want);
}

TEST(Checkpoint, SignsAndVerifiesOnlyWithItsKey) {
  Keys k, other('x');
  std::string head(kHashSize, 'h');
  Checkpoint cp = SignCheckpoint(5, head, 1234, k.public_key, k.secret);
  EXPECT_EQ(cp.key_id, KeyId(k.public_key));
  EXPECT_EQ(cp.key_id.size(), 16u);
  EXPECT_TRUE(CheckpointSignatureValid(cp, k.public_key));
  EXPECT_FALSE(CheckpointSignatureValid(cp, other.public_key));
  for (auto mutate : std::vector<void (*)(Checkpoint&)>{
           [](Checkpoint& c) { c.seq += 1; }, [](Checkpoint& c) { c.time_ms += 1; },
           [](Checkpoint& c) { c.head_hash[0] ^= 1; }, [](Checkpoint& c) { c.signature[3] ^= 1; },
           [](Checkpoint& c) { c.signature.pop_back(); }}) {
    Checkpoint bad = cp;
    mutate(bad);
    EXPECT_FALSE(CheckpointSignatureValid(bad, k.public_key));
  }
}

TEST(Checkpoint, PublicKeyTextIsBase64OrHex) {
  Keys k;
  std::string b64 = EncodePublicKey(k.public_key);
  EXPECT_EQ(b64.size(), 44u);
  EXPECT_EQ(*DecodePublicKey(b64 + "\n"), k.public_key);
  EXPECT_EQ(*DecodePublicKey(HexEncode(k.public_key)), k.public_key);
  for (const char* bad : {"", "abc", "not base64 at all!!", "AAAA"}) {
    auto r = DecodePublicKey(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("not an Ed25519 public key"), std::string::npos);
  }
}

TEST(TrailVerifier, ChainWithCheckpointsVerifies) {
  Keys k;
  auto events = Chain(10);
  TrailVerifier v(k.public_key);
  for (const auto& e : events) {
    ASSERT_TRUE(v.AddEvent(e));
    if (e.seq % 4 == 0) {
      ASSERT_TRUE(v.AddCheckpoint(SignCheckpoint(e.seq, e.hash, 1, k.public_key, k.secret)));
    }
  }
  VerifyReport r = v.Finish();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.events, 10);
  EXPECT_EQ(r.checkpoints, 2);
  EXPECT_EQ(r.signed_seq, 8);
}

// An attacker who rewrites an event and recomputes every later hash passes
// the chain check; the checkpoint catches it and names itself.
TEST(TrailVerifier, RewrittenChainIsCaughtByTheCheckpoint) {
  Keys k;
  auto events = Chain(10);
  Checkpoint cp4 = SignCheckpoint(4, events[3].hash, 1, k.public_key, k.secret);
  Checkpoint cp8 = SignCheckpoint(8, events[7].hash, 1, k.public_key, k.secret);
  // Rewrite event 6 and re-chain from there.
  events[5].canonical.replace(events[5].canonical.find("sub_6"), 5, "sub_X");
  for (int i = 5; i < 10; ++i) events[i].hash = ChainHash(events[i - 1].hash, events[i].canonical);
  TrailVerifier v(k.public_key);
  for (const auto& e : events) {
    if (!v.AddEvent(e)) break;
    if (e.seq == 4 && !v.AddCheckpoint(cp4)) break;
    if (e.seq == 8 && !v.AddCheckpoint(cp8)) break;
  }
  VerifyReport r = v.Finish();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_checkpoint_seq, 8);
  EXPECT_EQ(r.problem,
            "checkpoint at event 8: the signed head hash differs from the chain's hash there "
            "(events 5 to 8 were changed after they were signed)");
}

TEST(TrailVerifier, ForgedOrForeignCheckpointIsNamed) {
  Keys k, other('z');
  auto events = Chain(3);
  Checkpoint forged = SignCheckpoint(3, events[2].hash, 1, k.public_key, k.secret);
  forged.signature[0] ^= 1;
  TrailVerifier v(k.public_key);
  for (const auto& e : events) v.AddEvent(e);
  EXPECT_FALSE(v.AddCheckpoint(forged));
  VerifyReport r = v.Finish();
  EXPECT_EQ(r.bad_checkpoint_seq, 3);
  EXPECT_NE(r.problem.find("checkpoint at event 3: the signature does not verify"),
            std::string::npos);

  TrailVerifier w(other.public_key);
  for (const auto& e : events) w.AddEvent(e);
  EXPECT_FALSE(w.AddCheckpoint(SignCheckpoint(3, events[2].hash, 1, k.public_key, k.secret)));
  EXPECT_NE(w.Finish().problem.find("signed by key " + KeyId(k.public_key) +
                                    ", not by the key given (" + KeyId(other.public_key) + ")"),
            std::string::npos);
}

TEST(TrailVerifier, CheckpointBeyondTheLastEventMeansEventsWereRemoved) {
  Keys k;
  auto events = Chain(5);
  TrailVerifier v(k.public_key);
  for (int i = 0; i < 3; ++i) v.AddEvent(events[i]);
  VerifyReport r = v.Finish(/*pending_checkpoint_seq=*/5);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_checkpoint_seq, 5);
  EXPECT_EQ(r.first_bad_seq, 4);
}

TEST(TrailVerifier, StartsFromACheckpoint) {
  Keys k;
  auto events = Chain(6);
  TrailVerifier v(k.public_key, 3, events[2].hash);
  for (int i = 3; i < 6; ++i) ASSERT_TRUE(v.AddEvent(events[i]));
  VerifyReport r = v.Finish();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.events, 3);
  EXPECT_EQ(r.first_seq, 4);
  EXPECT_EQ(r.last_seq, 6);
}

// --- the export format ---------------------------------------------------------

std::string Export(const std::vector<StoredEvent>& events, const Keys& k, int64_t first,
                   int64_t last, const std::vector<int64_t>& checkpoint_at,
                   const std::string& tenant = "") {
  ExportHeader h;
  h.first_seq = first;
  h.last_seq = last;
  h.prev_hash = first > 1 ? events[first - 2].hash : GenesisHash();
  h.tenant = tenant;
  h.public_key = k.public_key;
  std::string out = ExportHeaderLine(h);
  int64_t n = 0, c = 0;
  std::string head = h.prev_hash;
  for (int64_t s = first; s <= last; ++s) {
    const StoredEvent& e = events[s - 1];
    if (tenant.empty() || e.canonical.find("\"tenant\":\"" + tenant + "\"") != std::string::npos) {
      out += ExportEventLine(e, tenant.empty() ? "" : (s > 1 ? events[s - 2].hash : GenesisHash()));
      ++n;
      head = e.hash;
    }
    for (int64_t at : checkpoint_at) {
      if (at == s) {
        out += ExportCheckpointLine(SignCheckpoint(s, e.hash, 77, k.public_key, k.secret));
        ++c;
      }
    }
  }
  return out + ExportEndLine(n, c, last, head);
}

ExportReport VerifyText(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  auto r = VerifyExport(in, key);
  EXPECT_TRUE(r.ok());
  return *r;
}

TEST(Export, FullAndRangeExportsVerifyWithThePublicKeyOnly) {
  Keys k;
  auto events = Chain(20);
  ExportReport full = VerifyText(Export(events, k, 1, 20, {10, 20}), k.public_key);
  EXPECT_TRUE(full.chain.ok) << full.chain.problem;
  EXPECT_EQ(full.chain.events, 20);
  EXPECT_EQ(full.chain.checkpoints, 2);
  EXPECT_EQ(full.unsigned_events, 0);
  ExportReport range = VerifyText(Export(events, k, 7, 15, {10}), k.public_key);
  EXPECT_TRUE(range.chain.ok) << range.chain.problem;
  EXPECT_EQ(range.chain.events, 9);
  EXPECT_EQ(range.chain.first_seq, 7);
  EXPECT_EQ(range.unsigned_events, 5);
  ExportReport wrong = VerifyText(Export(events, k, 1, 20, {10}), Keys('q').public_key);
  EXPECT_FALSE(wrong.chain.ok);
  EXPECT_EQ(wrong.chain.bad_checkpoint_seq, 10);
}

TEST(Export, TamperingIsNamed) {
  Keys k;
  auto events = Chain(6);
  std::string text = Export(events, k, 1, 6, {6});
  // An event's contents changed: its seq is named.
  std::string edited = text;
  edited.replace(edited.find("sub_3"), 5, "sub_Z");
  ExportReport r = VerifyText(edited, k.public_key);
  EXPECT_FALSE(r.chain.ok);
  EXPECT_EQ(r.chain.first_bad_seq, 3);
  // The last event removed: the header's last_seq and the checkpoint disagree.
  std::string cut = text;
  std::size_t at = cut.find("{\"seq\":6,");
  cut.erase(at, cut.find('\n', at) + 1 - at);
  EXPECT_FALSE(VerifyText(cut, k.public_key).chain.ok);
  // Cut short: no end line.
  std::string no_end = text.substr(0, text.rfind("{\"end\""));
  ExportReport r2 = VerifyText(no_end, k.public_key);
  EXPECT_FALSE(r2.chain.ok);
  EXPECT_NE(r2.chain.problem.find("cut short"), std::string::npos);
  // A line that is not part of the format.
  ExportReport r3 = VerifyText(text.substr(0, text.find('\n') + 1) + "hello\n", k.public_key);
  EXPECT_EQ(r3.chain.problem, "line 2: neither an event, a checkpoint nor the end line");
}

TEST(Export, TenantExportChecksEachEventAndSaysItIsPartial) {
  Keys k;
  auto events = Chain(8, "interjet", "intnet");
  std::string text = Export(events, k, 1, 8, {3, 4}, "interjet");
  ExportReport r = VerifyText(text, k.public_key);
  EXPECT_TRUE(r.chain.ok) << r.chain.problem;
  EXPECT_TRUE(r.partial);
  EXPECT_EQ(r.chain.events, 4);
  EXPECT_EQ(r.chain.checkpoints, 2);
  std::string edited = text;
  edited.replace(edited.find("sub_5"), 5, "sub_Z");
  ExportReport bad = VerifyText(edited, k.public_key);
  EXPECT_FALSE(bad.chain.ok);
  EXPECT_EQ(bad.chain.first_bad_seq, 5);
}

}  // namespace
}  // namespace custodian::audit
