#include "audit/export.h"

#include <sodium.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/time.h"

namespace custodian::audit {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

ordered_json TimeOrNull(const std::optional<int64_t>& ms) {
  return ms ? ordered_json(FormatTime(*ms)) : ordered_json(nullptr);
}

bool IsHex64(std::string_view s) {
  if (s.size() != 2 * kHashSize) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// The fixed layout ExportEventLine writes, parsed without a JSON parser (the
// event's bytes must be taken exactly as written, and verification is fast):
//   {"seq":N[,"prev":"HEX"],"hash":"HEX","event":CANONICAL}
bool ParseEventLine(std::string_view line, StoredEvent* e, std::string* prev, bool* has_prev) {
  constexpr std::string_view kSeq = "{\"seq\":";
  if (line.substr(0, kSeq.size()) != kSeq) return false;
  std::size_t i = kSeq.size();
  int64_t seq = 0;
  std::size_t digits = 0;
  while (i < line.size() && line[i] >= '0' && line[i] <= '9' && digits < 18) {
    seq = seq * 10 + (line[i] - '0');
    ++i;
    ++digits;
  }
  if (digits == 0) return false;
  std::string_view rest = line.substr(i);
  constexpr std::string_view kPrev = ",\"prev\":\"";
  *has_prev = false;
  if (rest.substr(0, kPrev.size()) == kPrev) {
    std::string_view hex = rest.substr(kPrev.size(), 2 * kHashSize);
    if (!IsHex64(hex) || rest.substr(kPrev.size() + hex.size(), 1) != "\"") return false;
    auto raw = HexDecode(hex);
    if (!raw.ok()) return false;
    *prev = std::move(*raw);
    *has_prev = true;
    rest.remove_prefix(kPrev.size() + hex.size() + 1);
  }
  constexpr std::string_view kHash = ",\"hash\":\"";
  if (rest.substr(0, kHash.size()) != kHash) return false;
  std::string_view hex = rest.substr(kHash.size(), 2 * kHashSize);
  if (!IsHex64(hex)) return false;
  rest.remove_prefix(kHash.size() + hex.size());
  constexpr std::string_view kEvent = "\",\"event\":";
  if (rest.substr(0, kEvent.size()) != kEvent || rest.size() < kEvent.size() + 3 ||
      rest.back() != '}') {
    return false;
  }
  auto raw = HexDecode(hex);
  if (!raw.ok()) return false;
  e->seq = seq;
  e->hash = std::move(*raw);
  e->canonical.assign(rest.substr(kEvent.size(), rest.size() - kEvent.size() - 1));
  return true;
}

Result<std::string> HexMember(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_string()) return Status::InvalidArgument(key);
  std::string s = j[key].get<std::string>();
  if (!IsHex64(s)) return Status::InvalidArgument(key);
  return HexDecode(s);
}

Result<Checkpoint> ParseCheckpoint(const json& c) {
  Checkpoint cp;
  try {
    cp.seq = c.at("seq").get<int64_t>();
    cp.time_ms = c.at("time_ms").get<int64_t>();
    cp.key_id = c.at("key_id").get<std::string>();
    ASSIGN_OR_RETURN(cp.signature, Base64Decode(c.at("signature").get<std::string>()));
  } catch (const json::exception&) {
    return Status::InvalidArgument("checkpoint");
  }
  ASSIGN_OR_RETURN(cp.head_hash, HexMember(c, "hash"));
  return cp;
}

}  // namespace

std::string ExportHeaderLine(const ExportHeader& h) {
  ordered_json j;
  j["custodian_audit_export"] = 1;
  j["first_seq"] = h.first_seq;
  j["last_seq"] = h.last_seq;
  j["prev_hash"] = HexEncode(h.prev_hash);
  j["tenant"] = h.tenant.empty() ? ordered_json(nullptr) : ordered_json(h.tenant);
  j["from"] = TimeOrNull(h.from_ms);
  j["to"] = TimeOrNull(h.to_ms);
  j["created"] = FormatTime(h.created_ms);
  j["key_id"] = KeyId(h.public_key);
  j["public_key"] = EncodePublicKey(h.public_key);
  return j.dump(-1, ' ', true) + "\n";
}

std::string ExportEventLine(const StoredEvent& e, std::string_view prev_hash) {
  std::string line;
  line.reserve(e.canonical.size() + 180);
  line += "{\"seq\":";
  line += std::to_string(e.seq);
  if (!prev_hash.empty()) {
    line += ",\"prev\":\"";
    line += HexEncode(prev_hash);
    line += '"';
  }
  line += ",\"hash\":\"";
  line += HexEncode(e.hash);
  line += "\",\"event\":";
  line += e.canonical;
  line += "}\n";
  return line;
}

std::string ExportCheckpointLine(const Checkpoint& cp) {
  ordered_json c;
  c["seq"] = cp.seq;
  c["hash"] = HexEncode(cp.head_hash);
  c["time"] = FormatTime(cp.time_ms);
  c["time_ms"] = cp.time_ms;
  c["key_id"] = cp.key_id;
  c["signature"] = Base64Encode(cp.signature);
  ordered_json j;
  j["checkpoint"] = c;
  return j.dump() + "\n";
}

std::string ExportEndLine(int64_t events, int64_t checkpoints, int64_t last_seq,
                          std::string_view head_hash) {
  ordered_json e;
  e["events"] = events;
  e["checkpoints"] = checkpoints;
  e["last_seq"] = last_seq;
  e["head"] = HexEncode(head_hash);
  ordered_json j;
  j["end"] = e;
  return j.dump() + "\n";
}

Result<ExportReport> VerifyExport(std::istream& in, std::string_view public_key) {
  ExportReport report;
  std::string line;
  int64_t line_no = 0;
  auto malformed = [&](const std::string& what) {
    report.chain.ok = false;
    report.chain.problem = "line " + std::to_string(line_no) + ": " + what;
    return report;
  };
  if (!std::getline(in, line)) {
    if (in.bad()) return Status::Unavailable("cannot read the export");
    return malformed("the export is empty");
  }
  ++line_no;
  json header = json::parse(line, nullptr, false);
  if (header.is_discarded() || !header.is_object() || !header.contains("custodian_audit_export")) {
    return malformed("not a custodian audit export (the first line is not its header)");
  }
  if (header["custodian_audit_export"] != 1) {
    return malformed("an export format version this custodian does not read");
  }
  ExportHeader h;
  try {
    h.first_seq = header.at("first_seq").get<int64_t>();
    h.last_seq = header.at("last_seq").get<int64_t>();
    if (header.at("tenant").is_string()) h.tenant = header.at("tenant").get<std::string>();
  } catch (const json::exception&) {
    return malformed("the header lacks first_seq, last_seq or tenant");
  }
  auto prev = HexMember(header, "prev_hash");
  if (!prev.ok() || h.first_seq < 1) return malformed("the header's prev_hash or first_seq is bad");
  report.tenant = h.tenant;
  report.partial = !h.tenant.empty();

  TrailVerifier trail(std::string(public_key), h.first_seq - 1, *prev);
  // A tenant's export: each event against its stated predecessor, and each
  // checkpoint's signature (and head, when it covers an event shown).
  const std::string key_id = KeyId(public_key);
  int64_t partial_events = 0, partial_checkpoints = 0, last_seen = h.first_seq - 1;
  std::string last_hash = *prev;
  int64_t last_checkpoint = 0;
  bool ended = false;
  StoredEvent e;
  std::string event_prev;
  while (std::getline(in, line)) {
    ++line_no;
    if (ended) return malformed("text after the end line");
    bool has_prev = false;
    if (ParseEventLine(line, &e, &event_prev, &has_prev)) {
      if (has_prev != report.partial) {
        return malformed(report.partial ? "a tenant's export event without \"prev\""
                                        : "\"prev\" in a full export");
      }
      if (report.partial) {
        auto fail = [&](const std::string& why) {
          report.chain.ok = false;
          report.chain.first_bad_seq = e.seq;
          report.chain.problem = "event " + std::to_string(e.seq) + ": " + why;
          return report;
        };
        if (e.seq <= last_seen) return fail("out of order");
        if (e.seq > h.last_seq) return fail("beyond the header's last_seq");
        if (ChainHash(event_prev, e.canonical) != e.hash) {
          return fail("stored hash does not match its contents and stated predecessor "
                      "(the event was modified)");
        }
        if (!LooksCanonical(e.canonical)) return fail("contents are not a valid event");
        if (e.seq == h.first_seq && event_prev != *prev) {
          return fail("its predecessor differs from the header's prev_hash");
        }
        last_seen = e.seq;
        last_hash = e.hash;
        ++partial_events;
        continue;
      }
      if (!trail.AddEvent(e)) break;
      continue;
    }
    json j = json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("checkpoint") && j["checkpoint"].is_object()) {
      auto cp = ParseCheckpoint(j["checkpoint"]);
      if (!cp.ok()) return malformed("a checkpoint line lacks a member or has a bad one");
      if (report.partial) {
        auto fail = [&](const std::string& why) {
          report.chain.ok = false;
          report.chain.bad_checkpoint_seq = cp->seq;
          report.chain.problem = "checkpoint at event " + std::to_string(cp->seq) + ": " + why;
          return report;
        };
        if (cp->key_id != key_id) {
          return fail("signed by key " + cp->key_id + ", not by the key given (" + key_id + ")");
        }
        if (!CheckpointSignatureValid(*cp, public_key)) {
          return fail("the signature does not verify with key " + key_id +
                      " (the checkpoint was forged or modified)");
        }
        if (cp->seq == last_seen && cp->head_hash != last_hash) {
          return fail("the signed head hash differs from event " + std::to_string(cp->seq) +
                      "'s hash (the event was changed after it was signed)");
        }
        ++partial_checkpoints;
        last_checkpoint = cp->seq;
        continue;
      }
      if (!trail.AddCheckpoint(*cp)) break;
      last_checkpoint = cp->seq;
      continue;
    }
    if (j.is_object() && j.contains("end") && j["end"].is_object()) {
      const json& end = j["end"];
      int64_t events = end.value("events", int64_t{-1});
      int64_t n = report.partial ? partial_events : trail.last_seq() - (h.first_seq - 1);
      if (trail.ok() && events != n) {
        return malformed("the end line counts " + std::to_string(events) +
                         " events but the export holds " + std::to_string(n));
      }
      ended = true;
      continue;
    }
    return malformed("neither an event, a checkpoint nor the end line");
  }
  if (in.bad()) return Status::Unavailable("cannot read the export");
  if (report.partial) {
    report.chain.events = partial_events;
    report.chain.checkpoints = partial_checkpoints;
    report.chain.first_seq = h.first_seq;
    report.chain.last_seq = last_seen;
    report.chain.head_hash_hex = HexEncode(last_hash);
    report.chain.signed_seq = last_checkpoint;
  } else {
    report.chain = trail.Finish();
    if (report.chain.ok && trail.last_seq() != h.last_seq) {
      report.chain.ok = false;
      report.chain.first_bad_seq = trail.last_seq() + 1;
      report.chain.problem = "the events end at " + std::to_string(trail.last_seq()) +
                             " but the header says " + std::to_string(h.last_seq) +
                             " (events were removed from the end)";
    }
    report.unsigned_events = report.chain.last_seq - std::max(report.chain.signed_seq,
                                                              h.first_seq - 1);
  }
  if (report.chain.ok && !ended) {
    report.chain.ok = false;
    report.chain.problem = "the export ends without its end line (it was cut short)";
  }
  return report;
}

}  // namespace custodian::audit
