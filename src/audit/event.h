// Audit events and the hash chain that makes them tamper-evident.
//
// An event says who did what to which subject, for which purpose, with what
// outcome. It never holds a personal value: only ids, category keys, counts and
// fixed reason codes. Each stored event is its canonical JSON plus
// hash = BLAKE2b-256(previous hash || canonical JSON); the first event chains
// from 32 zero bytes. Changing, removing or reordering any stored event breaks
// the chain at that event. Pure functions and value types; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "custodian/status.h"

namespace custodian::audit {

inline constexpr std::size_t kHashSize = 32;

struct Event {
  int64_t time_ms = 0;          // unix milliseconds
  std::string tenant;           // tenant id ("" for store-wide events)
  std::string actor;            // who: operator id, API key name, "cli"
  std::string role;             // the role the actor acted in
  std::string action;           // subject.add, subject.show, lookup, subject.close, erase, ...
  std::string subject;          // subject id, "" when none
  // Several subjects, for batched events (a record import batch names every
  // subject it touched). Sorted; in the canonical form only when non-empty,
  // so events without it read exactly as before it existed.
  std::vector<std::string> subjects;
  std::string purpose;          // declared purpose of a read, "" for writes
  std::vector<std::string> categories;  // categories touched (keys, never values)
  std::string outcome;          // ok | refused | miss | error
  std::string reason;           // why refused / what failed, safe to show
  int64_t count = 0;            // items affected (fields written, subjects matched...)

  // Canonical JSON: fixed key order, no insignificant whitespace.
  std::string Canonical() const;
  static Result<Event> FromCanonical(std::string_view json);
};

// True when `canonical` has the frame Canonical() writes ({"v":1,"time_ms":...}).
// Cheap: for verifying millions of events, whose hashes prove their bytes.
bool LooksCanonical(std::string_view canonical);

// BLAKE2b-256(prev || canonical), raw 32 bytes.
std::string ChainHash(std::string_view prev_hash, std::string_view canonical);
std::string GenesisHash();  // 32 zero bytes

// One stored event as the store hands it back.
struct StoredEvent {
  int64_t seq = 0;         // 1, 2, 3 ... with no gaps
  std::string canonical;
  std::string hash;        // raw 32 bytes
};

struct VerifyReport {
  int64_t events = 0;        // events checked
  bool ok = true;
  int64_t first_bad_seq = 0; // 0 when ok (or when a checkpoint is at fault)
  std::string problem;       // "event 17: stored hash does not match its contents"
  std::string head_hash_hex; // hash of the last good event
  // Signed checkpoints (audit/checkpoint.h); zero when none were checked.
  int64_t first_seq = 1;           // the first event checked (after --since)
  int64_t last_seq = 0;            // the last event checked
  int64_t checkpoints = 0;         // checkpoint signatures that verified
  int64_t bad_checkpoint_seq = 0;  // the checkpoint at fault (its event's seq), 0 if none
  int64_t signed_seq = 0;          // the last event a verified checkpoint covers
};

// Walks events in order and stops at the first problem. Feed it events one at
// a time (so a store can stream millions without holding them in memory).
class ChainVerifier {
 public:
  ChainVerifier() = default;
  // Starts after event `after_seq`, whose stored hash is `prev_hash` (an
  // incremental verification from a checkpoint, or a range export).
  ChainVerifier(int64_t after_seq, std::string prev_hash);
  // Returns false once a problem is found; further events are ignored.
  bool Add(const StoredEvent& event);
  VerifyReport Finish() const;
  // The hash of the last event that verified (the start's hash before any).
  const std::string& head() const { return prev_; }
  int64_t last_seq() const { return expected_seq_ - 1; }
  bool ok() const { return report_.ok; }

 private:
  VerifyReport report_;
  std::string prev_ = GenesisHash();
  int64_t expected_seq_ = 1;
};

std::string HexEncode(std::string_view bytes);

}  // namespace custodian::audit
