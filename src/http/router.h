// Router: (method, path pattern) -> named handler.
//
// Patterns are absolute paths whose segments are literals or `{name}`
// parameters: "/v1/subjects/{id}/records". A parameter matches one non-empty
// segment; segments are percent-decoded before matching, so "%2F" stays inside
// one parameter value. Where several patterns match a path, the one with a
// literal at the first position where they differ wins
// ("/v1/subjects/search" over "/v1/subjects/{id}").
//
// Handlers run synchronously on one of the server's I/O threads: a handler
// that blocks holds that thread (and every connection waiting on it), so the
// work it does (one Service call) should be short. A handler may throw; the
// server answers 500 without the exception's text.
//
// Thread-safety: Add() is for setup; once the Router has been handed to the
// Server it is only read, from any thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "custodian/status.h"
#include "http/message.h"

namespace custodian::http {

using Handler = std::function<Response(Request&)>;

// Called before an upload's body is read: a Response to send instead (the
// body is then never read), or nullopt to go on.
using UploadCheck = std::function<std::optional<Response>(Request&)>;

// What a route accepts beyond a small body held in memory.
struct RouteOptions {
  // Bodies of this media type ("text/csv"; compared without parameters,
  // ASCII case-insensitively) are uploads: up to
  // ServerOptions::max_upload_bytes, written to a file as they arrive
  // (Request::body_file) and never held in memory. "": no uploads; every body
  // has the server's small limit.
  std::string upload_media_type;
  // For uploads: runs on the request line and headers (the route's params and
  // query set, the body not read yet), so that a caller who may not upload is
  // answered before sending a byte of it. Optional.
  UploadCheck before_upload;
  // The handler never waits long: no commit it waits for, no long read (a
  // lookup answered through a Deferred, a static document). It runs on the
  // connection's I/O thread. Other handlers run on the server's handler
  // threads when it has them (ServerOptions::handler_threads), so that one
  // waiting for its commit does not hold up the other connections of its
  // I/O thread.
  bool on_io_thread = false;
};

struct Route {
  struct Segment {
    bool param = false;
    std::string text;  // the literal, or the parameter's name
  };
  std::string method;
  std::string pattern;
  std::string name;  // stable, low-cardinality: a metrics label and an access log field
  Handler handler;
  RouteOptions options;
  std::vector<Segment> segments;
};

struct RouteMatch {
  enum class Kind {
    kFound,             // route and params are set
    kNotFound,          // no pattern matches the path
    kMethodNotAllowed,  // a pattern matches, not for this method; see allow
    kBadPath,           // the path has an invalid escape or invalid UTF-8; see error
  };
  Kind kind = Kind::kNotFound;
  const Route* route = nullptr;
  Params params;
  std::string pattern;  // kMethodNotAllowed: the pattern that matched
  std::string allow;    // kMethodNotAllowed: "GET, POST"
  Status error;         // kBadPath
};

class Router {
 public:
  Router() = default;
  Router(Router&&) = default;
  Router& operator=(Router&&) = default;

  // InvalidArgument for a method that is not an upper-case token, a pattern
  // that does not start with '/', has an empty, malformed or repeated
  // {parameter}, or an empty route name or handler; AlreadyExists when the
  // same method and pattern (up to parameter names) is already registered.
  Status Add(std::string_view method, std::string_view pattern, std::string route_name,
             Handler handler, RouteOptions options = {});

  // `path` is the raw (percent-encoded) path without the query string.
  RouteMatch Match(std::string_view method, std::string_view path) const;

  // Registered routes in registration order; the pointers stay valid for the
  // Router's life (moving the Router keeps them).
  std::vector<const Route*> routes() const;

 private:
  std::vector<std::unique_ptr<Route>> routes_;
};

}  // namespace custodian::http
