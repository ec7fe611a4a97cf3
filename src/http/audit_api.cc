#include "http/audit_api.h"

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/time.h"
#include "http/json_body.h"

namespace custodian::http {
namespace {

using nlohmann::ordered_json;

// A decimal integer in [min, max], or nullopt.
std::optional<int64_t> ParseInt(std::string_view s, int64_t min, int64_t max) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v < min || v > max) return std::nullopt;
  return v;
}

}  // namespace

std::optional<Response> ParseAuditQuery(const Request& req, service::AuditQuery& q) {
  static const char* const kKnown[] = {"subject", "actor", "action", "purpose",
                                       "from",    "to",    "after",  "limit"};
  for (const auto& [name, value] : req.query_params) {
    bool known = false;
    for (const char* k : kKnown) known = known || name == k;
    if (!known) {
      return BadRequest("unknown query parameter " + Quote(name) +
                        "; GET /v1/audit takes subject, actor, action, purpose, from, to, after "
                        "and limit");
    }
  }
  for (auto [name, out] : {std::pair<const char*, std::string*>{"subject", &q.subject},
                           {"actor", &q.actor},
                           {"action", &q.action},
                           {"purpose", &q.purpose}}) {
    if (auto v = req.QueryParam(name)) *out = std::string(*v);
  }
  for (auto [name, out] : {std::pair<const char*, std::optional<int64_t>*>{"from", &q.from_ms},
                           {"to", &q.to_ms}}) {
    if (auto v = req.QueryParam(name)) {
      auto t = ParseTime(*v);
      if (!t.ok()) return BadRequest(Quote(name) + ": " + t.status().message());
      *out = *t;
    }
  }
  if (auto v = req.QueryParam("after")) {
    auto n = ParseInt(*v, 0, INT64_MAX / 10);
    if (!n) return BadRequest("'after' must be a seq: the next_after of the previous page");
    q.after_seq = *n;
  }
  if (auto v = req.QueryParam("limit")) {
    auto n = ParseInt(*v, 1, 1000);
    if (!n) return BadRequest("'limit' must be 1 to 1000");
    q.limit = static_cast<int>(*n);
  }
  return std::nullopt;
}

Response AuditPageResponse(const service::AuditPage& page) {
  ordered_json events = ordered_json::array();
  for (const auto& entry : page.events) {
    const audit::Event& e = entry.event;
    ordered_json j;
    j["seq"] = entry.seq;
    j["time"] = FormatTime(e.time_ms);
    j["time_ms"] = e.time_ms;
    j["actor"] = e.actor;
    j["role"] = e.role;
    j["action"] = e.action;
    j["subject"] = e.subject;
    j["subjects"] = e.subjects;
    j["purpose"] = e.purpose;
    j["categories"] = e.categories;
    j["outcome"] = e.outcome;
    j["reason"] = e.reason;
    j["count"] = e.count;
    j["hash"] = entry.hash_hex;
    events.push_back(std::move(j));
  }
  return ShapeJson(200, {{"events", events},
                         {"next_after", page.next_after ? ordered_json(*page.next_after)
                                                        : ordered_json()}});
}

}  // namespace custodian::http
