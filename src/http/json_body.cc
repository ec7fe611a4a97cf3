#include "http/json_body.h"

#include "common/time.h"
#include "http/problem.h"
#include "http/url.h"

namespace custodian::http {

using nlohmann::json;
using nlohmann::ordered_json;

Response BadRequest(std::string_view detail, std::optional<std::string_view> pointer) {
  return Problem(400, "invalid-argument", "Bad Request", detail, pointer);
}

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

Response ShapeJson(int status, const ordered_json& j) { return Response::Json(status, j.dump()); }

Response NoContent() {
  Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

// The JSON pointer to member `key` of the object at `base` ("" = the body),
// escaped by nlohmann's json_pointer ("~" -> "~0", "/" -> "~1").
std::string Pointer(std::string_view base, std::string_view key) {
  return (json::json_pointer(std::string(base)) / std::string(key)).to_string();
}

std::string MediaType(const Request& req) {
  auto ct = req.Header("Content-Type");
  std::string type = ct ? std::string(ct->substr(0, ct->find(';'))) : "";
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.pop_back();
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return type;
}

// The request body as a JSON object, after the checks every JSON route makes.
Or<json> JsonBody(const Request& req, bool optional_body) {
  if (optional_body && req.body.empty()) return json::object();
  if (MediaType(req) != "application/json") {
    return Problem(415, "unsupported-media-type", "Unsupported Media Type",
                   "send the body as application/json");
  }
  if (!IsValidUtf8(req.body)) return BadRequest("the body is not valid UTF-8");
  json j = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return BadRequest("the body is not valid JSON", "");
  if (!j.is_object()) return BadRequest("the body must be a JSON object", "");
  return j;
}

// Checks a JSON object's keys: unknown ones and missing required ones are
// errors with a pointer. `base` is the object's own pointer ("" = the body).
std::optional<Response> CheckKeys(const json& obj, std::string_view base,
                                  std::initializer_list<std::string_view> allowed,
                                  std::initializer_list<std::string_view> required) {
  for (const auto& [key, value] : obj.items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || key == a;
    if (!known) {
      std::string expected;
      for (std::string_view a : allowed)
        expected += (expected.empty() ? "" : ", ") + std::string(a);
      return BadRequest("unknown field " + Quote(key) + "; expected " + expected,
                        Pointer(base, key));
    }
  }
  for (std::string_view r : required) {
    if (!obj.contains(r)) {
      return BadRequest("missing field " + Quote(r), Pointer(base, r));
    }
  }
  return std::nullopt;
}

// obj[key] as a string (absent: nullopt without error).
Or<std::optional<std::string>> OptString(const json& obj, std::string_view key,
                                         std::string_view base) {
  auto it = obj.find(key);
  if (it == obj.end()) return std::optional<std::string>();
  if (!it->is_string()) {
    return BadRequest(Quote(key) + " must be a string", Pointer(base, key));
  }
  return std::optional<std::string>(it->get<std::string>());
}

std::optional<Response> ReadStrings(
    const json& obj, std::initializer_list<std::pair<const char*, std::string*>> fields) {
  for (const auto& [key, out] : fields) {
    auto v = OptString(obj, key);
    if (!v.ok()) return *v.error;
    if (*v.value) *out = **v.value;
  }
  return std::nullopt;
}

Or<std::optional<int64_t>> OptTime(const json& obj, std::string_view key) {
  auto s = OptString(obj, key);
  if (!s.ok()) return *s.error;
  if (!*s.value) return std::optional<int64_t>();
  auto t = ParseTime(**s.value);
  if (!t.ok()) return BadRequest(Quote(key) + ": " + t.status().message(), "/" + std::string(key));
  return std::optional<int64_t>(*t);
}

}  // namespace custodian::http
