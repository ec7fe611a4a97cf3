// The audit export format (JSON Lines, docs/audit.md) and its offline
// verifier, which needs only the export and the signing key's public key.
//
//   {"custodian_audit_export":1,"first_seq":F,"last_seq":L,"prev_hash":HEX,
//    "tenant":null|"t","from":..,"to":..,"created":..,"key_id":..,"public_key":..}
//   {"seq":F,"hash":HEX,"event":{...the canonical event, byte for byte...}}
//   {"checkpoint":{"seq":S,"hash":HEX,"time":..,"time_ms":..,"key_id":..,"signature":B64}}
//   ...
//   {"end":{"events":N,"checkpoints":C,"last_seq":L,"head":HEX}}
//
// A checkpoint line follows the event it covers. `prev_hash` is the chain
// hash of event F-1 (zeros for F = 1), so a range re-chains from its first
// event. A tenant's export (tenant set) holds only that tenant's events, each
// with "prev" (its predecessor's hash) before "hash": every event can be
// checked against its own hash, but the chain between them runs through
// other tenants' events, so only a full export proves nothing was removed.
// The public key in the header is informative: the verifier uses the key it
// is given. Reading and writing stream line by line (constant memory).
// Thread-safety: pure functions; a verifier belongs to one thread.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <string_view>

#include "audit/checkpoint.h"
#include "audit/event.h"
#include "custodian/status.h"

namespace custodian::audit {

struct ExportHeader {
  int64_t first_seq = 1;
  int64_t last_seq = 0;       // < first_seq: no events
  std::string prev_hash;      // raw 32 bytes: the hash of event first_seq - 1
  std::string tenant;         // "" = every tenant's events (the whole chain)
  std::optional<int64_t> from_ms, to_ms;  // as asked (informative)
  int64_t created_ms = 0;
  std::string public_key;     // raw 32 bytes (informative)
};

std::string ExportHeaderLine(const ExportHeader& h);
// `prev_hash` is written (as "prev") only for a tenant's export: pass "" otherwise.
std::string ExportEventLine(const StoredEvent& e, std::string_view prev_hash);
std::string ExportCheckpointLine(const Checkpoint& cp);
std::string ExportEndLine(int64_t events, int64_t checkpoints, int64_t last_seq,
                          std::string_view head_hash);

struct ExportReport {
  VerifyReport chain;        // ok, events, checkpoints, problem naming the event or checkpoint
  std::string tenant;        // set for a tenant's export
  bool partial = false;      // a tenant's export: the chain between its events is not checked
  int64_t unsigned_events = 0;  // events after the last checkpoint (chained, not yet signed)
};

// Reads an export from `in` and checks it with `public_key` (raw 32 bytes).
// A broken chain, a bad checkpoint or a malformed line gives ok = false with
// the problem (line numbers for malformed lines); an error Status only when
// `in` cannot be read.
Result<ExportReport> VerifyExport(std::istream& in, std::string_view public_key);

}  // namespace custodian::audit
