#include "audit/event.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

namespace custodian::audit {
namespace {

using ordered_json = nlohmann::ordered_json;

void EnsureSodium() {
  static const int kInit = sodium_init();
  (void)kInit;
}

}  // namespace

bool LooksCanonical(std::string_view canonical) {
  constexpr std::string_view kStart = "{\"v\":1,\"time_ms\":";
  return canonical.size() > kStart.size() && canonical.substr(0, kStart.size()) == kStart &&
         canonical.back() == '}';
}

namespace {

// True when JSON writes `s` as its own bytes: printable ASCII other than the
// quote and the backslash. Every string of the usual event (ids, keys,
// outcomes, reasons in single quotes) is.
bool Plain(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') return false;
  }
  return true;
}

void AppendString(std::string& out, std::string_view s) {
  out += '"';
  out += s;
  out += '"';
}

void AppendStrings(std::string& out, const std::vector<std::string>& list) {
  out += '[';
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out += ',';
    AppendString(out, list[i]);
  }
  out += ']';
}

// The canonical form through nlohmann::json (ensure_ascii: other bytes as
// \uXXXX escapes; invalid UTF-8 throws): the definition the fast path below
// reproduces byte for byte when every string is Plain.
std::string CanonicalByJson(const Event& e) {
  ordered_json j;
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
  return j.dump(-1, ' ', /*ensure_ascii=*/true);
}

}  // namespace

// Written directly when every string is Plain (every event custodian writes
// in the usual course: one is appended per lookup, on the store's committer
// thread, where building a JSON tree was 2.8% of a lookup's CPU); any other
// string takes the JSON library's path, which escapes it.
std::string Event::Canonical() const {
  bool plain = Plain(tenant) && Plain(actor) && Plain(role) && Plain(action) && Plain(subject) &&
               Plain(purpose) && Plain(outcome) && Plain(reason);
  for (const std::string& s : subjects) plain = plain && Plain(s);
  for (const std::string& c : categories) plain = plain && Plain(c);
  if (!plain) return CanonicalByJson(*this);
  std::string out;
  out.reserve(160 + tenant.size() + actor.size() + role.size() + action.size() + subject.size() +
              purpose.size() + outcome.size() + reason.size() + 40 * categories.size() +
              40 * subjects.size());
  // `,"key":` then the value, in the canonical order.
  auto key = [&out](std::string_view name) {
    out += ",\"";
    out += name;
    out += "\":";
  };
  auto text = [&](std::string_view name, std::string_view value) {
    key(name);
    AppendString(out, value);
  };
  out += "{\"v\":1,\"time_ms\":";
  out += std::to_string(time_ms);
  text("tenant", tenant);
  text("actor", actor);
  text("role", role);
  text("action", action);
  text("subject", subject);
  if (!subjects.empty()) {
    key("subjects");
    AppendStrings(out, subjects);
  }
  text("purpose", purpose);
  key("categories");
  AppendStrings(out, categories);
  text("outcome", outcome);
  text("reason", reason);
  key("count");
  out += std::to_string(count);
  out += '}';
  return out;
}

Result<Event> Event::FromCanonical(std::string_view json) {
  ordered_json j = ordered_json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::DataLoss("audit event is not valid JSON");
  }
  Event e;
  try {
    e.time_ms = j.at("time_ms").get<int64_t>();
    e.tenant = j.at("tenant").get<std::string>();
    e.actor = j.at("actor").get<std::string>();
    e.role = j.at("role").get<std::string>();
    e.action = j.at("action").get<std::string>();
    e.subject = j.at("subject").get<std::string>();
    if (j.contains("subjects")) e.subjects = j.at("subjects").get<std::vector<std::string>>();
    e.purpose = j.at("purpose").get<std::string>();
    e.categories = j.at("categories").get<std::vector<std::string>>();
    e.outcome = j.at("outcome").get<std::string>();
    e.reason = j.at("reason").get<std::string>();
    e.count = j.at("count").get<int64_t>();
  } catch (const nlohmann::json::exception&) {
    return Status::DataLoss("audit event is missing a field or has a wrong type");
  }
  return e;
}

std::string GenesisHash() { return std::string(kHashSize, '\0'); }

std::string ChainHash(std::string_view prev_hash, std::string_view canonical) {
  EnsureSodium();
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, kHashSize);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(prev_hash.data()),
                            prev_hash.size());
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(canonical.data()),
                            canonical.size());
  std::string out(kHashSize, '\0');
  crypto_generichash_final(&st, reinterpret_cast<unsigned char*>(out.data()), kHashSize);
  return out;
}

ChainVerifier::ChainVerifier(int64_t after_seq, std::string prev_hash)
    : prev_(std::move(prev_hash)), expected_seq_(after_seq + 1) {
  report_.first_seq = after_seq + 1;
}

bool ChainVerifier::Add(const StoredEvent& event) {
  if (!report_.ok) return false;
  auto fail = [&](int64_t seq, std::string problem) {
    report_.ok = false;
    report_.first_bad_seq = seq;
    report_.problem = std::move(problem);
    return false;
  };
  if (event.seq != expected_seq_) {
    if (event.seq > expected_seq_) {
      return fail(expected_seq_, "event " + std::to_string(expected_seq_) +
                                     " is missing (the next stored event is " +
                                     std::to_string(event.seq) + ")");
    }
    return fail(event.seq, "event " + std::to_string(event.seq) + " is out of order");
  }
  if (event.hash.size() != kHashSize) {
    return fail(event.seq, "event " + std::to_string(event.seq) + ": stored hash is malformed");
  }
  std::string want = ChainHash(prev_, event.canonical);
  if (sodium_memcmp(want.data(), event.hash.data(), kHashSize) != 0) {
    return fail(event.seq, "event " + std::to_string(event.seq) +
                               ": stored hash does not match its contents or its predecessor "
                               "(the event or the chain was modified)");
  }
  // The hash already proves these are the bytes that were appended; a full
  // parse would cost three times the hash (verification must do >= 1M
  // events/s), so only the canonical form's fixed frame is checked here.
  // Readers (Vault::ListAudit) parse and report DataLoss.
  if (!LooksCanonical(event.canonical)) {
    return fail(event.seq, "event " + std::to_string(event.seq) + ": contents are not a valid event");
  }
  prev_ = event.hash;
  ++expected_seq_;
  ++report_.events;
  return true;
}

VerifyReport ChainVerifier::Finish() const {
  VerifyReport r = report_;
  r.head_hash_hex = HexEncode(prev_);
  r.last_seq = expected_seq_ - 1;
  return r;
}

std::string HexEncode(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

}  // namespace custodian::audit
