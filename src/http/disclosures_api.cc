#include "http/disclosures_api.h"

#include "common/time.h"
#include "http/json_body.h"
#include "service/disclosure_json.h"

namespace custodian::http {

using nlohmann::json;
using nlohmann::ordered_json;

std::optional<Response> ParseDisclosureBody(const json& b, service::DisclosureInput& in) {
  if (auto bad = CheckKeys(b, "",
                           {"recipient", "purpose", "categories", "subjects", "lookups",
                            "legal_reference", "at", "export"},
                           {"recipient", "purpose", "categories"})) {
    return bad;
  }
  if (auto bad = ReadStrings(b, {{"recipient", &in.recipient},
                                 {"purpose", &in.purpose},
                                 {"legal_reference", &in.legal_reference}})) {
    return bad;
  }
  for (auto [name, out] : {std::pair<const char*, std::vector<std::string>*>{"categories",
                                                                            &in.categories},
                           {"subjects", &in.subjects}}) {
    auto it = b.find(name);
    if (it == b.end()) continue;
    const std::string at = std::string("/") + name;
    if (!it->is_array()) return BadRequest(Quote(name) + " must be an array of strings", at);
    if (it->size() > service::kMaxDisclosureSubjects) {
      return BadRequest(Quote(name) + " has " + std::to_string(it->size()) + " items; at most " +
                            std::to_string(service::kMaxDisclosureSubjects) +
                            " subjects per disclosure: split it",
                        at);
    }
    for (std::size_t i = 0; i < it->size(); ++i) {
      if (!(*it)[i].is_string()) {
        return BadRequest(Quote(name) + " must hold strings", at + "/" + std::to_string(i));
      }
      out->push_back((*it)[i].get<std::string>());
    }
  }
  if (auto it = b.find("lookups"); it != b.end()) {
    if (!it->is_array()) return BadRequest("'lookups' must be an array of objects", "/lookups");
    if (it->size() > service::kMaxDisclosureSubjects) {
      return BadRequest("'lookups' has " + std::to_string(it->size()) + " items; at most " +
                            std::to_string(service::kMaxDisclosureSubjects) +
                            " per disclosure: split it",
                        "/lookups");
    }
    for (std::size_t i = 0; i < it->size(); ++i) {
      const std::string at = "/lookups/" + std::to_string(i);
      const json& l = (*it)[i];
      if (!l.is_object()) return BadRequest("a lookup must be an object", at);
      if (auto bad = CheckKeys(l, at, {"phone", "email", "external_id", "category", "value"})) {
        return bad;
      }
      service::LookupQuery q;
      int given = 0;
      for (const char* k : {"phone", "email", "external_id"}) {
        if (!l.contains(k)) continue;
        if (!l[k].is_string()) return BadRequest(Quote(k) + " must be a string", Pointer(at, k));
        ++given;
        q = {k == std::string_view("external_id") ? service::kExternalIdKind : k,
             l[k].get<std::string>()};
      }
      if (l.contains("category") || l.contains("value")) {
        for (const char* k : {"category", "value"}) {
          if (!l.contains(k)) return BadRequest("missing field " + Quote(k), Pointer(at, k));
          if (!l[k].is_string()) return BadRequest(Quote(k) + " must be a string", Pointer(at, k));
        }
        ++given;
        q = {l["category"].get<std::string>(), l["value"].get<std::string>()};
      }
      if (given != 1) {
        return BadRequest("give exactly one of phone, email, external_id, or category with value",
                          at);
      }
      in.lookups.push_back(std::move(q));
    }
  }
  auto at = OptTime(b, "at");
  if (!at.ok()) return *at.error;
  in.at_ms = *at.value;
  if (auto it = b.find("export"); it != b.end()) {
    if (!it->is_boolean()) return BadRequest("'export' must be true or false", "/export");
    in.export_payload = it->get<bool>();
  }
  return std::nullopt;
}

std::optional<std::string> DisclosurePointer(const policy::Policy& policy,
                                             const service::DisclosureInput& in, int64_t now_ms) {
  service::InputFault fault;
  Status s = service::CheckDisclosureInput(policy, in, now_ms, &fault);
  if (s.ok() || fault.member.empty()) return std::nullopt;
  std::string at = "/" + fault.member;
  if (fault.index >= 0) at += "/" + std::to_string(fault.index);
  return at;
}

Response DisclosureCreatedResponse(const service::DisclosureResult& r) {
  ordered_json j = service::DisclosureResultJson(r);
  if (r.disclosure.exported) j["payload"] = service::DisclosurePayloadJson(r);
  return ShapeJson(201, j);
}

Response DisclosureListResponse(const std::vector<service::DisclosureView>& list) {
  ordered_json items = ordered_json::array();
  for (const auto& d : list) items.push_back(service::DisclosureJson(d));
  return ShapeJson(200, {{"disclosures", items}});
}

}  // namespace custodian::http
