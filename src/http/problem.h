// RFC 9457 problem details: every error the HTTP face returns.
//
// A problem is a JSON object {"type","title","status","detail","pointer"?,
// "request_id"} sent as application/problem+json. `type` is
// "urn:custodian:problem:" + a short suffix ("not-found", "body-too-large")
// that clients branch on; `title` is fixed per type; `detail` explains this
// occurrence and, like Status messages, must never hold a personal value;
// `pointer` is an RFC 6901 JSON pointer into the request body when one field
// is at fault. The server adds `request_id` when it sends the response.
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "custodian/status.h"
#include "http/message.h"

namespace custodian::http {

inline constexpr std::string_view kProblemContentType = "application/problem+json";
inline constexpr std::string_view kProblemTypePrefix = "urn:custodian:problem:";

Response Problem(int status, std::string_view type_suffix, std::string_view title,
                 std::string_view detail, std::optional<std::string_view> pointer = std::nullopt);

// The HTTP status a Status code maps to (InvalidArgument 400, NotFound 404,
// AlreadyExists 409, PermissionDenied 403, Unauthenticated 401,
// FailedPrecondition 409, Unavailable 503, DataLoss and Internal 500).
int HttpStatusFor(StatusCode code);

// A problem for a non-OK Status: its code picks the HTTP status and type
// ("invalid-argument", ...), its message is the detail. Internal and DataLoss
// get a generic detail instead, since their messages help operators, not callers.
// Unavailable (503) comes with Retry-After (kRetryUnavailable).
Response ProblemFromStatus(const Status& status, std::optional<std::string_view> pointer = std::nullopt);

// How long the server asks a client to wait (Retry-After) when it answers
// 503: a Service call was Unavailable (the store busy or not writable);
// over the connection cap; not ready, or shutting down.
inline constexpr std::chrono::seconds kRetryUnavailable{2};
inline constexpr std::chrono::seconds kRetryOverloaded{1};
inline constexpr std::chrono::seconds kRetryNotReady{5};

// `response` with `Retry-After: <seconds>` (at least 1, rounded up).
Response RetryAfter(Response response, std::chrono::milliseconds wait);

// The standard reason phrase ("Not Found"), "Unknown" for codes it does not know.
std::string_view ReasonPhrase(int status);

}  // namespace custodian::http
