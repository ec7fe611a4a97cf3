#include "http/problem.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>

namespace custodian::http {

Response Problem(int status, std::string_view type_suffix, std::string_view title,
                 std::string_view detail, std::optional<std::string_view> pointer) {
  nlohmann::ordered_json j;
  j["type"] = std::string(kProblemTypePrefix) + std::string(type_suffix);
  j["title"] = title;
  j["status"] = status;
  j["detail"] = detail;
  if (pointer) j["pointer"] = *pointer;
  Response r;
  r.status = status;
  r.content_type = std::string(kProblemContentType);
  // Replacement of invalid UTF-8 keeps a bad detail from throwing here.
  r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  r.add_request_id = true;
  return r;
}

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists: return 409;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kFailedPrecondition: return 409;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDataLoss: return 500;
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

Response ProblemFromStatus(const Status& status, std::optional<std::string_view> pointer) {
  const int http_status = HttpStatusFor(status.code());
  std::string suffix;
  switch (status.code()) {
    case StatusCode::kOk:
    case StatusCode::kInternal:
    case StatusCode::kDataLoss:
      return Problem(500, "internal", "Internal Server Error",
                     "the server could not complete the request");
    case StatusCode::kInvalidArgument: suffix = "invalid-argument"; break;
    case StatusCode::kNotFound: suffix = "not-found"; break;
    case StatusCode::kAlreadyExists: suffix = "already-exists"; break;
    case StatusCode::kPermissionDenied: suffix = "permission-denied"; break;
    case StatusCode::kUnauthenticated: suffix = "unauthenticated"; break;
    case StatusCode::kFailedPrecondition: suffix = "failed-precondition"; break;
    case StatusCode::kUnavailable: suffix = "unavailable"; break;
  }
  Response r = Problem(http_status, suffix, ReasonPhrase(http_status), status.message(), pointer);
  if (http_status == 503) return RetryAfter(std::move(r), kRetryUnavailable);
  return r;
}

Response RetryAfter(Response response, std::chrono::milliseconds wait) {
  const int64_t seconds = std::max<int64_t>(1, (wait.count() + 999) / 1000);
  response.headers.emplace_back("Retry-After", std::to_string(seconds));
  return response;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
  }
  return "Unknown";
}

}  // namespace custodian::http
