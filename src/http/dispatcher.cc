#include "http/dispatcher.h"

#include <time.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <random>

#include "http/json_text.h"
#include "http/problem.h"

namespace custodian::http::internal {
namespace {

// Request methods outside this set are counted as "OTHER", so that a client
// cannot create metric series at will.
std::string_view MethodLabel(std::string_view method) {
  static constexpr std::array<std::string_view, 7> kKnown = {"GET",    "HEAD",  "POST",   "PUT",
                                                             "DELETE", "PATCH", "OPTIONS"};
  for (std::string_view m : kKnown) {
    if (m == method) return m;
  }
  return "OTHER";
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

bool IsSafeHeaderValue(std::string_view s) {
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

// Headers the server owns: a handler's copy would break framing or lie.
bool IsReservedHeader(std::string_view name) {
  for (std::string_view r : {"content-length", "transfer-encoding", "connection", "content-type",
                             "x-request-id", "upgrade", "trailer"}) {
    if (EqualsIgnoreCase(name, r)) return true;
  }
  return false;
}

std::string Rfc3339Now() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

void DefaultSink(std::string_view line) {
  std::string with_newline(line);
  with_newline += '\n';
  // One fwrite per line: stdio locks the stream, so lines from several
  // threads do not interleave.
  std::fwrite(with_newline.data(), 1, with_newline.size(), stderr);
}

constexpr BuiltinRoute kHealthz{"GET", "/healthz", "healthz"};
constexpr BuiltinRoute kReadyz{"GET", "/readyz", "readyz"};
constexpr BuiltinRoute kMetrics{"GET", "/metrics", "metrics"};
constexpr BuiltinRoute kBuiltinRoutes[] = {kHealthz, kReadyz, kMetrics};

}  // namespace

Result<std::unique_ptr<Dispatcher>> Dispatcher::Create(const ServerOptions& options,
                                                       Router router, Metrics& metrics) {
  // The built-in routes answer at once (readiness is a short read): on the
  // I/O thread, so that a busy handler pool never makes /healthz late.
  RouteOptions on_io_thread;
  on_io_thread.on_io_thread = true;
  RETURN_IF_ERROR(router.Add(
      kHealthz.method, kHealthz.pattern, kHealthz.name,
      [](Request&) { return Response::Json(200, R"({"status":"ok"})"); }, on_io_thread));
  auto readiness = options.readiness;
  auto stopping = std::make_shared<std::atomic<bool>>(false);
  RETURN_IF_ERROR(
      router.Add(kReadyz.method, kReadyz.pattern, kReadyz.name, [readiness, stopping](Request&) {
        if (stopping->load()) {
          return RetryAfter(
              Problem(503, "not-ready", "Service Unavailable", "the server is shutting down"),
              kRetryNotReady);
        }
        Status ready = readiness ? readiness() : Status::Ok();
        if (!ready.ok()) {
          // The Status message stays in the server: /readyz is unauthenticated.
          return RetryAfter(
              Problem(503, "not-ready", "Service Unavailable", "the server is not ready"),
              kRetryNotReady);
        }
        return Response::Json(200, R"({"status":"ready"})");
      },
      on_io_thread));
  Metrics* m = &metrics;
  RETURN_IF_ERROR(router.Add(
      kMetrics.method, kMetrics.pattern, kMetrics.name,
      [m](Request&) {
        Response r = Response::Text(200, m->Render());
        r.content_type = "text/plain; version=0.0.4; charset=utf-8";
        return r;
      },
      on_io_thread));

  std::unique_ptr<Dispatcher> d(new Dispatcher(options, std::move(router)));
  d->stopping_ = std::move(stopping);
  ASSIGN_OR_RETURN(d->requests_,
                   metrics.AddCounter("custodian_http_requests_total",
                                      "HTTP requests answered, by route, method and status.",
                                      {"route", "method", "status"}));
  ASSIGN_OR_RETURN(d->durations_,
                   metrics.AddHistogram("custodian_http_request_duration_seconds",
                                        "Time from a request's headers to the end of its "
                                        "response, by route.",
                                        {"route"}, DefaultLatencyBuckets()));
  ASSIGN_OR_RETURN(GaugeFamily * open,
                   metrics.AddGauge("custodian_http_open_connections",
                                    "Connections open now, including those being refused.", {}));
  d->open_connections_ = &open->WithLabels({});
  ASSIGN_OR_RETURN(CounterFamily * refused,
                   metrics.AddCounter("custodian_http_refused_connections_total",
                                      "Connections refused over the connection cap.", {}));
  d->refused_connections_ = &refused->WithLabels({});
  for (const Route* r : d->router_.routes()) {
    d->route_durations_[r->name] = &d->durations_->WithLabels({r->name});
  }
  for (std::string_view name : {kRouteUnmatched, kRouteBadRequest, kRouteOverloaded}) {
    d->route_durations_[std::string(name)] = &d->durations_->WithLabels({name});
  }
  return d;
}

Dispatcher::Upload Dispatcher::CheckUpload(Request& req, std::string_view raw_query) const {
  Upload out;
  if (options_.upload_dir.empty()) return out;
  RouteMatch match = router_.Match(req.method, req.path);
  if (match.kind != RouteMatch::Kind::kFound) return out;
  const RouteOptions& route = match.route->options;
  if (route.upload_media_type.empty()) return out;
  std::string_view type = req.Header("Content-Type").value_or("");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  if (!EqualsIgnoreCase(type, route.upload_media_type)) return out;
  out.upload = true;
  req.route_name = match.route->name;
  req.route_pattern = match.route->pattern;
  req.path_params = std::move(match.params);
  auto query = ParseQuery(raw_query);
  if (!query.ok()) {
    out.refusal = Problem(400, "bad-query", "Bad Request", query.status().message());
    return out;
  }
  req.query_params = std::move(query).value();
  if (!route.before_upload) return out;
  try {
    out.refusal = route.before_upload(req);
  } catch (...) {
    out.refusal = Problem(500, "internal", "Internal Server Error",
                          "the server could not complete the request");
  }
  return out;
}

Dispatcher::Resolved Dispatcher::Resolve(Request& req, std::string_view raw_query) const {
  Resolved out;
  RouteMatch match = router_.Match(req.method, req.path);
  switch (match.kind) {
    case RouteMatch::Kind::kBadPath:
      req.route_name = std::string(kRouteBadRequest);
      out.answer = Problem(400, "bad-path", "Bad Request", match.error.message());
      return out;
    case RouteMatch::Kind::kNotFound:
      req.route_name = std::string(kRouteUnmatched);
      out.answer = Problem(404, "not-found", "Not Found", "no route serves this path");
      return out;
    case RouteMatch::Kind::kMethodNotAllowed: {
      req.route_name = std::string(kRouteUnmatched);
      req.route_pattern = match.pattern;
      Response r = Problem(405, "method-not-allowed", "Method Not Allowed",
                           "this path does not accept this method");
      r.headers.emplace_back("Allow", match.allow);
      out.answer = std::move(r);
      return out;
    }
    case RouteMatch::Kind::kFound:
      break;
  }
  req.route_name = match.route->name;
  req.route_pattern = match.route->pattern;
  req.path_params = std::move(match.params);
  auto query = ParseQuery(raw_query);
  if (!query.ok()) {
    out.answer = Problem(400, "bad-query", "Bad Request", query.status().message());
    return out;
  }
  req.query_params = std::move(query).value();
  out.route = match.route;
  return out;
}

Response Dispatcher::Run(const Route& route, Request& req, std::string_view* error) const {
  try {
    return route.handler(req);
  } catch (...) {
    // The exception's text may quote personal data: it goes nowhere. The
    // access log line (route, request id) is the trace.
    *error = "handler threw";
    return Problem(500, "internal", "Internal Server Error",
                   "the server could not complete the request");
  }
}

Headers Dispatcher::FinishResponse(const Request& req, Response& resp) const {
  if (resp.add_request_id && !resp.body.empty() && resp.body.back() == '}') {
    // Problem() writes a compact JSON object; request ids are hex digits.
    std::string field = ",\"request_id\":\"" + req.request_id + "\"";
    resp.body.insert(resp.body.size() - 1, field);
    resp.add_request_id = false;
  }
  Headers out;
  out.reserve(4 + resp.headers.size());
  out.emplace_back("X-Request-Id", req.request_id);
  out.emplace_back("X-Content-Type-Options", "nosniff");
  bool has_cache_control = false;
  for (const auto& [name, value] : resp.headers) {
    if (EqualsIgnoreCase(name, "cache-control")) has_cache_control = true;
  }
  if (!has_cache_control) out.emplace_back("Cache-Control", "no-store");
  // Every 429 and 503 says when to come back; handlers that know better set their own.
  if (resp.status == 429 || resp.status == 503) {
    bool has_retry_after = false;
    for (const auto& [name, value] : resp.headers) {
      if (EqualsIgnoreCase(name, "retry-after")) has_retry_after = true;
    }
    if (!has_retry_after)
      out.emplace_back("Retry-After", std::to_string(kRetryUnavailable.count()));
  }
  if (req.tls) out.emplace_back("Strict-Transport-Security", "max-age=31536000");
  for (auto& [name, value] : resp.headers) {
    if (!IsToken(name) || !IsSafeHeaderValue(value) || IsReservedHeader(name)) continue;
    out.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

void Dispatcher::Record(const Request& req, int status, const Exchange& exchange) const {
  const std::string status_text = std::to_string(status);
  requests_->WithLabels({req.route_name, MethodLabel(req.method), status_text}).Inc();
  const double seconds = std::chrono::duration<double>(exchange.duration).count();
  auto it = route_durations_.find(req.route_name);
  Histogram& h = it != route_durations_.end() ? *it->second
                                              : durations_->WithLabels({req.route_name});
  h.Observe(seconds);
  if (options_.access_log) WriteAccessLog(req, status, exchange);
}

void Dispatcher::WriteAccessLog(const Request& req, int status, const Exchange& exchange) const {
  std::string line;
  line.reserve(256);
  line += "{\"time\":";
  AppendJsonString(line, Rfc3339Now());
  line += ",\"request_id\":";
  AppendJsonString(line, req.request_id);
  line += ",\"remote\":";
  AppendJsonString(line, req.remote_address);
  line += ",\"method\":";
  AppendJsonString(line, MethodLabel(req.method));
  line += ",\"route\":";
  AppendJsonString(line, req.route_pattern.empty() ? req.route_name : req.route_pattern);
  line += ",\"status\":" + std::to_string(status);
  char ms[32];
  std::snprintf(ms, sizeof(ms), "%.3f",
                std::chrono::duration<double, std::milli>(exchange.duration).count());
  line += ",\"duration_ms\":";
  line += ms;
  line += ",\"bytes_in\":" + std::to_string(exchange.bytes_in);
  line += ",\"bytes_out\":" + std::to_string(exchange.bytes_out);
  line += ",\"tls\":";
  line += req.tls ? "true" : "false";
  if (!req.principal.empty()) {
    line += ",\"principal\":";
    AppendJsonString(line, req.principal);
  }
  if (!exchange.error.empty()) {
    line += ",\"error\":";
    AppendJsonString(line, exchange.error);
  }
  line += '}';
  if (!options_.access_log_sink) {
    DefaultSink(line);
    return;
  }
  try {
    options_.access_log_sink(line);
  } catch (...) {
    // A failing sink loses its line; it must not take the connection down.
  }
}

std::string Dispatcher::NewRequestId() {
  // Not a secret: it only has to be unique in practice. A per-thread
  // generator seeded from the OS keeps it free of locks and system calls.
  thread_local std::mt19937_64 rng = [] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (int half = 0; half < 2; ++half) {
    uint64_t v = rng();
    for (int i = 0; i < 16; ++i) {
      id[half * 16 + i] = kHex[v & 0xf];
      v >>= 4;
    }
  }
  return id;
}

}  // namespace custodian::http::internal

namespace custodian::http {

std::span<const BuiltinRoute> BuiltinRoutes() { return internal::kBuiltinRoutes; }

}  // namespace custodian::http
