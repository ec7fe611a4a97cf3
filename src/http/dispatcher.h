// Dispatcher: what the server does with a request once it has been read, kept
// apart from server.cc so that it compiles (and reads) without Beast.
//
// It owns the Router (with the built-in routes added), matches requests,
// runs handlers behind a catch-all, builds the standard response headers,
// records the per-request metrics and writes the access log line.
// Internal to the http layer. Thread-safety: every method may be called from
// any I/O thread at once; nothing in it changes after Create().
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "http/message.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"

namespace custodian::http::internal {

// Route names for requests no route served. They are metric label values
// and access log "route" values in place of the (never logged) raw path.
inline constexpr std::string_view kRouteUnmatched = "(unmatched)";  // 404, 405
inline constexpr std::string_view kRouteBadRequest = "(bad-request)";  // unreadable or bad path
inline constexpr std::string_view kRouteOverloaded = "(overloaded)";  // over the connection cap

// What the server knows about a request once its response has been sent.
struct Exchange {
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  std::chrono::steady_clock::duration duration{};
  std::string_view error;  // a fixed note ("handler threw"), "" if none
};

class Dispatcher {
 public:
  // Adds /healthz, /readyz and /metrics to `router` (AlreadyExists if taken)
  // and registers the server's metrics in `metrics`, which must outlive it.
  static Result<std::unique_ptr<Dispatcher>> Create(const ServerOptions& options, Router router,
                                                    Metrics& metrics);

  // For a request whose line and headers are read (method, path and headers
  // set; the body not read yet): whether its body is an upload for its route
  // (ServerOptions::upload_dir set, and the route takes uploads of the
  // request's Content-Type), and then what the route's before_upload check
  // answers instead of reading the body, if it refuses. Fills the routing
  // fields of `req`. Never throws.
  struct Upload {
    bool upload = false;
    std::optional<Response> refusal;
  };
  Upload CheckUpload(Request& req, std::string_view raw_query) const;

  // Fills the routing fields of `req` (whose method, path, headers, body and
  // connection fields are set) and decodes its query. The route to Run, or
  // the problem that answers a request no route takes (404, 405, a bad path
  // or query).
  struct Resolved {
    const Route* route = nullptr;
    std::optional<Response> answer;
  };
  Resolved Resolve(Request& req, std::string_view raw_query) const;
  // Runs `route`'s handler on the resolved `req` and returns its response,
  // or a 500 problem if it threw (then `*error` is set to a fixed note).
  // Never throws. Any thread.
  Response Run(const Route& route, Request& req, std::string_view* error) const;

  // The headers to send with `resp` besides Content-Type, Content-Length and
  // Connection: the standard ones, then the handler's (minus any that would
  // break framing or carry CR/LF). Adds the request id to a Problem's body.
  Headers FinishResponse(const Request& req, Response& resp) const;

  // Metrics and the access log line for a request whose response was sent
  // (or failed to be).
  void Record(const Request& req, int status, const Exchange& exchange) const;

  // A fresh random request id: 32 lower-case hex digits.
  static std::string NewRequestId();

  // From now on GET /readyz answers 503 "shutting down". Any thread.
  void BeginShutdown() const { stopping_->store(true); }

  Gauge& open_connections() const { return *open_connections_; }
  Counter& refused_connections() const { return *refused_connections_; }

 private:
  Dispatcher(const ServerOptions& options, Router router) : options_(options), router_(std::move(router)) {}
  void WriteAccessLog(const Request& req, int status, const Exchange& exchange) const;

  ServerOptions options_;  // a copy: the sink and the readiness callback
  Router router_;
  CounterFamily* requests_ = nullptr;
  HistogramFamily* durations_ = nullptr;
  std::unordered_map<std::string, Histogram*> route_durations_;  // by route name; fixed at Create
  std::shared_ptr<std::atomic<bool>> stopping_;                  // shared with the /readyz handler
  Gauge* open_connections_ = nullptr;
  Counter* refused_connections_ = nullptr;
};

}  // namespace custodian::http::internal
