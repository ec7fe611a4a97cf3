// What every JSON route does with its request and response: the body checked
// as a UTF-8 JSON object of application/json, known keys, typed members, and
// RFC 9457 problems pointing (RFC 6901) at the bad input. Shared by the /v1
// route files (api.cc, channels.cc).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.h"

namespace custodian::http {

// An error response, or the value.
template <typename T>
struct Or {
  std::optional<T> value;
  std::optional<Response> error;
  Or(T v) : value(std::move(v)) {}         // NOLINT: implicit by design
  Or(Response r) : error(std::move(r)) {}  // NOLINT
  bool ok() const { return value.has_value(); }
};

// 400 invalid-argument with `detail` and, when given, a JSON pointer.
Response BadRequest(std::string_view detail, std::optional<std::string_view> pointer = {});
std::string Quote(std::string_view s);  // 'like this'
Response ShapeJson(int status, const nlohmann::ordered_json& j);
Response NoContent();

// The JSON pointer to member `key` of the object at `base` ("" = the body),
// escaped by nlohmann's json_pointer ("~" -> "~0", "/" -> "~1").
std::string Pointer(std::string_view base, std::string_view key);

// The request's Content-Type without parameters, lower-cased ("" if none).
std::string MediaType(const Request& req);

// The request body as a JSON object, after the checks every JSON route makes:
// 415 unless application/json, 400 for non-UTF-8, invalid JSON or a non-object.
// `optional_body`: an empty body reads as {}.
Or<nlohmann::json> JsonBody(const Request& req, bool optional_body = false);

// Checks a JSON object's keys: unknown ones and missing required ones are
// errors with a pointer. `base` is the object's own pointer ("" = the body).
std::optional<Response> CheckKeys(const nlohmann::json& obj, std::string_view base,
                                  std::initializer_list<std::string_view> allowed,
                                  std::initializer_list<std::string_view> required = {});

// obj[key] as a string (absent: nullopt without error; another type: 400).
Or<std::optional<std::string>> OptString(const nlohmann::json& obj, std::string_view key,
                                         std::string_view base = "");
// Copies the string members of `obj` named in `fields` into their targets;
// an absent member leaves its target as it is. A member that is not a
// string: 400 with its pointer.
std::optional<Response> ReadStrings(
    const nlohmann::json& obj, std::initializer_list<std::pair<const char*, std::string*>> fields);
// obj[key] as an RFC 3339 time in ms (absent: nullopt).
Or<std::optional<int64_t>> OptTime(const nlohmann::json& obj, std::string_view key);

}  // namespace custodian::http
