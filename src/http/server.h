// Server: custodian's HTTP/1.1 face, Boost.Beast on Boost.Asio.
//
// The transport only: it accepts connections (plain, or TLS 1.2+ when a
// certificate and key are given), reads requests within the limits of
// ServerOptions, routes them through a Router, runs the handler, and writes
// the Response back with the standard headers:
//   X-Request-Id             the request's random id (also in problems and the access log)
//   X-Content-Type-Options   nosniff
//   Cache-Control            no-store (unless the handler set its own)
//   Strict-Transport-Security  max-age=31536000, on TLS connections
// It serves three routes of its own: GET /healthz (liveness, always 200
// {"status":"ok"}), GET /readyz (200, or 503 when ServerOptions::readiness
// says not ready) and GET /metrics (Prometheus text; see metrics.h for the
// registry handlers can add to). Every error is an RFC 9457 problem
// (problem.h). One JSON access log line is written per request (see
// docs/http.md for its fields); it never holds the query string, the body,
// or a header's value.
//
// Threads: one accepting connections; ServerOptions::threads I/O threads,
// each with its own event loop (an io_context) and the connections the
// acceptor hands it, in turn; a
// connection lives on one thread, so its work is serialized without locks.
// Handlers of routes marked RouteOptions::on_io_thread run there; the others
// run on ServerOptions::handler_threads handler threads (on the I/O thread
// when there are none), so that a handler waiting for its commit holds up
// no other connection. Start(), Shutdown() and Wait() may be called from any
// thread except an I/O or handler thread (a handler must not stop its own
// server).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "custodian/status.h"
#include "http/metrics.h"
#include "http/router.h"

namespace custodian::http {

struct TlsFiles {
  std::string cert_file;  // PEM certificate chain, leaf first
  std::string key_file;   // PEM private key of the leaf
};

struct ServerOptions {
  std::string address = "127.0.0.1";  // "0.0.0.0" or "::" to listen on every interface
  uint16_t port = 8080;               // 0: a free port chosen by the kernel; see Server::port()
  int threads = 0;                    // I/O threads; 0: one per core
  // Threads for handlers not marked RouteOptions::on_io_thread; 0: none, and
  // every handler runs on its connection's I/O thread.
  int handler_threads = 0;
  std::optional<TlsFiles> tls;        // set: every connection is TLS 1.2 or 1.3

  // Limits. Beyond them a request gets a problem and its connection is closed.
  size_t max_body_bytes = 1 << 20;     // 413 Content Too Large
  // Uploads (bodies of a route's RouteOptions::upload_media_type) are written
  // to files in `upload_dir` (created 0700 if missing; files 0600) as they
  // arrive, up to `max_upload_bytes` (413 beyond, and the file is deleted).
  // While an upload's bytes keep coming, `request_timeout` applies to each
  // pause, not to the whole body. Files older than `request_timeout` plus a
  // minute found there at Create() (a crash's leftovers) are deleted.
  // "" (the default): no uploads; every body has `max_body_bytes`.
  std::string upload_dir;
  uint64_t max_upload_bytes = uint64_t{1} << 30;
  size_t max_header_bytes = 16 << 10;  // request line + headers; 431
  // Time to receive one whole request (headers and body), counted from the
  // moment the connection starts waiting for it, so it also bounds how long an
  // idle keep-alive connection stays open; and time to send one response.
  // Past it the connection is closed without a response.
  std::chrono::milliseconds request_timeout{30'000};
  // Open connections. Connection max_connections + 1 and later get one 503
  // problem, then are closed; beyond twice the cap they are closed at once.
  size_t max_connections = 1024;

  // Called by GET /readyz on an I/O thread; non-OK: 503. Unset: always ready.
  std::function<Status()> readiness;

  bool access_log = true;
  // Receives one JSON line (without the newline) per request, from any I/O
  // thread at once: it must be thread-safe. Unset: a line on stderr.
  std::function<void(std::string_view)> access_log_sink;

  // Where the server registers its metrics; handlers may add theirs. Not
  // owned; must outlive the Server. Unset: the server owns a registry.
  Metrics* metrics = nullptr;
};

// A route every Server serves itself, whatever its Router holds.
struct BuiltinRoute {
  const char* method;
  const char* pattern;
  const char* name;  // the route name (metrics label, access log, operationId)
};
// GET /healthz, GET /readyz and GET /metrics: for tests and tools that list
// every route a server answers (RegisterApi's come from Router::routes()).
std::span<const BuiltinRoute> BuiltinRoutes();

class Server {
 public:
  // Validates the options, loads the TLS certificate and key, and adds the
  // built-in routes to `router`. InvalidArgument for a bad option or a TLS
  // file that does not load (or a key that does not match the certificate);
  // AlreadyExists if `router` already has /healthz, /readyz or /metrics.
  static Result<std::unique_ptr<Server>> Create(ServerOptions options, Router router);

  // Stops the server (Shutdown with no grace) if it is running.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, listens and starts the I/O threads. Unavailable if the address
  // cannot be bound (in use, not local); FailedPrecondition if already started.
  Status Start();

  // The bound port (the kernel's choice when ServerOptions::port was 0); 0
  // before Start().
  uint16_t port() const;

  // Graceful stop: stops accepting (new connections are refused), closes idle
  // keep-alive connections, lets requests in flight finish and answers them
  // with `Connection: close`, waits up to `grace` for every connection to
  // end, then cancels what is left and joins the I/O and handler threads
  // (a handler still queued then does not run). A handler that
  // is running is never interrupted: Shutdown returns after it does.
  // Idempotent; later calls return at once.
  void Shutdown(std::chrono::milliseconds grace);

  // Blocks until the server has stopped (Shutdown() has completed).
  void Wait();

  Metrics& metrics();

  class Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Waits for SIGTERM or SIGINT. Construction starts catching them (instead of
// their default action, ending the process), so construct it before starting
// work a signal should stop; signals that arrive before WaitThenShutdown are
// not lost. Thread-safety: one thread uses it.
class ShutdownSignal {
 public:
  ShutdownSignal();
  ~ShutdownSignal();
  ShutdownSignal(const ShutdownSignal&) = delete;
  ShutdownSignal& operator=(const ShutdownSignal&) = delete;

  // Blocks until SIGTERM or SIGINT arrives, then calls server.Shutdown(grace)
  // and returns the signal number.
  int WaitThenShutdown(Server& server, std::chrono::milliseconds grace);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace custodian::http
