// Request and Response: what a route handler receives and returns.
//
// Both are plain values with no Beast type in sight, so handlers (and their
// tests) do not compile Beast. The server fills a Request from the wire after
// the Router has matched it, runs the handler on an I/O thread, and writes the
// Response back, adding the standard headers (see server.h).
// Thread-safety: values; a Request belongs to the one handler call it is
// given to.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/url.h"

namespace custodian::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

// ASCII case-insensitive equality, for header names.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

struct Request {
  std::string method;          // "GET", as sent (methods are case-sensitive)
  std::string path;            // the raw path, still percent-encoded, without the query
  Params path_params;          // decoded values of the route's {name} segments
  Params query_params;         // decoded, in the order sent; never written to a log
  Headers headers;             // as received
  std::string body;
  // An upload (RouteOptions::upload_media_type): `body` is empty and the body
  // is in this file (0600, in ServerOptions::upload_dir). The handler may
  // rename it away to keep it; whatever is left there is deleted once the
  // response is sent.
  std::string body_file;
  std::string remote_address;  // the peer's IP address, without the port
  bool tls = false;            // arrived over TLS
  std::string request_id;      // random, 32 hex digits; also sent back as X-Request-Id
  std::string route_name;      // the matched route's name ("" before routing)
  std::string route_pattern;   // the matched route's pattern, "/v1/subjects/{id}"

  // Set by a handler once it has authenticated the caller: an id such as an
  // API key id or operator id (never a personal value), shown in the access log.
  std::string principal;

  // The first header with this name (ASCII case-insensitive), if any.
  std::optional<std::string_view> Header(std::string_view name) const;
  std::optional<std::string_view> PathParam(std::string_view name) const;
  // The first query parameter with this name, if any.
  std::optional<std::string_view> QueryParam(std::string_view name) const;
};

struct Response;

// A response that comes later: the handler returned before it was ready
// (say, while its audit events are being committed) and completes it from
// another thread. Whichever of Complete() and OnReady() comes second hands
// the response's maker to the sender, on its own thread; the sender calls it
// where it sends (the server: on the connection's executor), so building the
// body does not load the completing thread (the store's committer, which
// every lookup's commit waits on). Thread-safe; each is called once.
class Deferred {
 public:
  using Make = std::function<Response()>;
  void Complete(Make make);
  void OnReady(std::function<void(Make)> send);

 private:
  std::mutex mu_;
  Make ready_;
  std::function<void(Make)> send_;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Extra headers (Set-Cookie, Location, ...). A Cache-Control given here
  // replaces the default `no-store`; Content-Length, Connection and the
  // security headers are the server's.
  Headers headers;
  // Set by Problem(): the server adds the request id to the problem object.
  bool add_request_id = false;
  // Set: this response is a placeholder, and the real one comes through it
  // (the connection waits for it; nothing else of this one is sent).
  std::shared_ptr<Deferred> deferred;

  static Response Json(int status, std::string body);
  static Response Text(int status, std::string body);
};

}  // namespace custodian::http
