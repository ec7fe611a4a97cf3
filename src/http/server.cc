// The only translation unit of the library that includes Beast and Asio: the
// accept loop, connections (plain and TLS), timeouts, limits and shutdown.
#include "http/server.h"

#include <fcntl.h>
#include <openssl/ssl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <future>
#include <limits>
#include <mutex>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "http/dispatcher.h"
#include "http/problem.h"

namespace custodian::http {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using internal::Dispatcher;
// A connection's socket and stream name their loop's executor type instead of
// the type-erased any_io_executor: each connection stays on one io_context
// (one per I/O thread), so its operations need not copy and destroy a
// type-erased executor (1.7% of the server's CPU samples at 1M lookups; the
// throughput change was within the run-to-run noise, docs/benchmarks.md).
using LoopExecutor = net::io_context::executor_type;
using LoopSocket = net::basic_stream_socket<tcp, LoopExecutor>;
using LoopTcpStream = beast::basic_stream<tcp, LoopExecutor>;

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
// How long a closing connection may keep sending what we will not read.
constexpr std::chrono::seconds kMaxLinger{5};

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Asks the connection to end: at once if it waits for a request, else after
  // the response in progress. Any thread.
  virtual void Stop() = 0;
};

}  // namespace

class Server::Impl {
 public:
  Impl(ServerOptions opts, int io_threads, int handler_threads)
      : options(std::move(opts)),
        handler_threads_wanted(handler_threads),
        loops(MakeLoops(io_threads)),
        accept_strand(net::make_strand(accept_loop)),
        accept_retry(accept_strand) {
    if (handler_threads > 0) handler_loop.emplace(handler_threads);
  }

  void DoAccept();
  void OnAccept(beast::error_code ec, LoopSocket socket);
  void Register(const std::shared_ptr<SessionBase>& s);
  void Unregister(SessionBase* s, bool over_cap);

  // Declared before the io_context: handlers it still holds when it is
  // destroyed own sessions, whose destructors use these.
  ServerOptions options;
  const int handler_threads_wanted;
  std::unique_ptr<Metrics> owned_metrics;
  Metrics* metrics = nullptr;
  std::unique_ptr<Dispatcher> dispatcher;
  std::optional<ssl::context> ssl_ctx;
  std::atomic<size_t> active{0};     // connections within the cap
  std::atomic<size_t> rejecting{0};  // connections being answered 503
  std::atomic<bool> stopping{false};
  std::atomic<uint16_t> bound_port{0};

  std::mutex mu;
  std::condition_variable cv;  // sessions drained; state changed
  enum class State { kCreated, kRunning, kStopping, kStopped } state = State::kCreated;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions;

  // One event loop per I/O thread (a concurrency hint of 1: Asio then takes
  // no more locks than a single thread needs). A connection stays on the loop
  // it was accepted onto: no strand, no hand-over between threads, its
  // socket's state in one core's cache. Measured: +10-24% lookups/s over one
  // loop shared by every thread with a strand per connection
  // (docs/benchmarks.md).
  static std::vector<std::unique_ptr<net::io_context>> MakeLoops(int n) {
    std::vector<std::unique_ptr<net::io_context>> out;
    for (int i = 0; i < std::max(1, n); ++i) out.push_back(std::make_unique<net::io_context>(1));
    return out;
  }
  net::io_context& NextLoop() { return *loops[next_loop++ % loops.size()]; }

  std::vector<std::unique_ptr<net::io_context>> loops;
  size_t next_loop = 0;  // where the next connection goes; on the acceptor's strand
  // The acceptor has a loop and a thread of its own: accepting never waits
  // behind a handler that runs on an I/O thread. After the loops, so it is
  // destroyed before them: an accept still pending holds a socket of a loop.
  net::io_context accept_loop{1};
  net::strand<net::io_context::executor_type> accept_strand;
  std::optional<tcp::acceptor> acceptor;
  net::steady_timer accept_retry;
  // Handlers that may wait (not RouteOptions::on_io_thread), when
  // ServerOptions::handler_threads > 0. After the loops: destroyed first, as
  // a handler it still holds owns a session whose socket is on a loop.
  std::optional<net::io_context> handler_loop;
  // Keeps every loop above running while it has nothing to do. Declared after
  // them all: the guards go first.
  std::vector<net::executor_work_guard<net::io_context::executor_type>> keep_running;
  std::vector<std::thread> threads;
};

namespace {

// One connection. kTls: a TLS stream whose handshake comes first.
template <bool kTls>
class Session : public SessionBase, public std::enable_shared_from_this<Session<kTls>> {
 public:
  using Stream = std::conditional_t<kTls, beast::ssl_stream<LoopTcpStream>, LoopTcpStream>;

  Session(Server::Impl& server, LoopSocket&& socket, bool over_cap)
      : server_(server), stream_(MakeStream(server, std::move(socket))), over_cap_(over_cap) {
    beast::error_code ec;
    auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string();
    server_.dispatcher->open_connections().Add(1);
  }

  ~Session() override {
    DropSpool();
    server_.dispatcher->open_connections().Add(-1);
    server_.Unregister(this, over_cap_);
  }

  void Run() {
    server_.Register(this->shared_from_this());
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->Begin(); });
  }

  void Stop() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->OnStop(); });
  }

 private:
  enum class Phase { kHandshake, kReading, kBusy, kClosing };

  static Stream MakeStream(Server::Impl& server, LoopSocket&& socket) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *server.ssl_ctx);
    } else {
      return Stream(std::move(socket));
    }
  }

  LoopTcpStream& Tcp() { return beast::get_lowest_layer(stream_); }
  const ServerOptions& Options() const { return server_.options; }

  void Begin() {
    if constexpr (kTls) {
      phase_ = Phase::kHandshake;
      Tcp().expires_after(Options().request_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->Close();
                                self->ReadRequest();
                              });
    } else {
      ReadRequest();
    }
  }

  void OnStop() {
    stop_requested_ = true;
    // Idle: nothing of a next request read yet, nor waiting in the socket (a
    // client that had sent part of one when shutdown began gets its answer).
    beast::error_code ec;
    const std::size_t waiting = Tcp().socket().available(ec);
    const bool idle =
        phase_ == Phase::kHandshake ||
        (phase_ == Phase::kReading && (!header_ || !header_->got_some()) && buffer_.size() == 0 &&
         (ec || waiting == 0));
    if (idle) Close();
  }

  // A request is read in two steps: its line and headers first, then its
  // body into memory (the small limit) or, for an upload, into a file.
  void ReadRequest() {
    if (stop_requested_ || server_.stopping.load()) return Close();
    phase_ = Phase::kReading;
    parser_.reset();
    upload_.reset();
    header_read_ = false;
    header_.emplace();
    header_->header_limit(static_cast<uint32_t>(Options().max_header_bytes));
    // The body's limit is checked once the route is known. (Not boost::none:
    // Beast compares Content-Length with it as an optional, and none is less.)
    header_->body_limit(std::numeric_limits<std::uint64_t>::max());
    bytes_in_ = 0;
    Tcp().expires_after(Options().request_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *header_,
        beast::bind_front_handler(&Session::OnHeader, this->shared_from_this()));
  }

  void OnHeader(beast::error_code ec, size_t n) {
    phase_ = Phase::kBusy;
    started_ = std::chrono::steady_clock::now();
    bytes_in_ += n;
    if (ec) return OnReadError(ec);
    header_read_ = true;
    const auto& h = header_->get();
    pending_ = BaseRequest();
    pending_.method = std::string(h.method_string());
    std::string_view target(h.target().data(), h.target().size());
    size_t q = target.find('?');
    pending_.path = std::string(target.substr(0, q));
    raw_query_ = std::string(q == std::string_view::npos ? "" : target.substr(q + 1));
    pending_.headers.reserve(8);
    for (const auto& f : h) {
      pending_.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
    version_ = h.version();
    request_keep_alive_ = h.keep_alive();
    if (over_cap_) {
      // Answered at once: the body is not worth reading.
      pending_.route_name = std::string(internal::kRouteOverloaded);
      server_.dispatcher->refused_connections().Inc();
      Send(std::move(pending_),
           RetryAfter(Problem(503, "overloaded", "Service Unavailable",
                              "the server has too many open connections; retry later"),
                      kRetryOverloaded),
           version_, /*keep_alive=*/false);
      return;
    }
    if (!header_->is_done()) {
      internal::Dispatcher::Upload upload = server_.dispatcher->CheckUpload(pending_, raw_query_);
      if (upload.refusal) {
        // Before a byte of the body: the connection closes after the answer.
        Send(std::move(pending_), std::move(*upload.refusal), version_, /*keep_alive=*/false);
        return;
      }
      if (upload.upload) return StartUpload();
    }
    parser_.emplace(std::move(*header_));
    header_.reset();
    parser_->body_limit(Options().max_body_bytes);
    if (auto length = parser_->content_length(); length && *length > Options().max_body_bytes) {
      return OnReadError(bhttp::error::body_limit);
    }
    if (parser_->is_done()) return Dispatch();
    ContinueThen(&Session::ReadBody);
  }

  // Answers `Expect: 100-continue` before reading the body, then `next`.
  void ContinueThen(void (Session::*next)()) {
    const auto& h = parser_ ? parser_->get().base() : upload_->get().base();
    if (!beast::iequals(h[bhttp::field::expect], "100-continue")) return (this->*next)();
    net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                     [self = this->shared_from_this(), next](beast::error_code wec, size_t) {
                       if (wec) return self->Close();
                       ((*self).*next)();
                     });
  }

  // Within the deadline set for the whole request in ReadRequest.
  void ReadBody() {
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::OnBody, this->shared_from_this()));
  }

  void OnBody(beast::error_code ec, size_t n) {
    bytes_in_ += n;
    if (ec) return OnReadError(ec);
    Dispatch();
  }

  // An upload goes to a new file of its own (0600) in the upload directory.
  void StartUpload() {
    upload_.emplace(std::move(*header_));
    header_.reset();
    upload_->body_limit(Options().max_upload_bytes);
    if (auto length = upload_->content_length(); length && *length > Options().max_upload_bytes) {
      return OnReadError(bhttp::error::body_limit);
    }
    spool_ =
        (std::filesystem::path(Options().upload_dir) / ("upload-" + pending_.request_id + ".part"))
            .string();
    int fd = ::open(spool_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      spool_.clear();
      return Refuse(RetryAfter(Problem(503, "unavailable", "Service Unavailable",
                                       "the server cannot store an upload now"),
                               kRetryUnavailable));
    }
    beast::file file;
    file.native_handle(fd);
    beast::error_code ec;
    upload_->get().body().reset(std::move(file), ec);
    ContinueThen(&Session::ReadUploadSome);
  }

  // However long the upload takes, as long as no pause lasts request_timeout.
  void ReadUploadSome() {
    Tcp().expires_after(Options().request_timeout);
    bhttp::async_read_some(
        stream_, buffer_, *upload_,
        beast::bind_front_handler(&Session::OnUploadSome, this->shared_from_this()));
  }

  void OnUploadSome(beast::error_code ec, size_t n) {
    bytes_in_ += n;
    if (ec) return OnReadError(ec);
    if (!upload_->is_done()) return ReadUploadSome();
    Tcp().expires_after(Options().request_timeout);
    Dispatch();
  }

  // The upload's file, once it is answered or abandoned (a handler that kept
  // it has renamed it away).
  void DropSpool() {
    if (upload_) upload_->get().body().close();
    if (spool_.empty()) return;
    ::unlink(spool_.c_str());
    spool_.clear();
  }

  void OnReadError(beast::error_code ec) {
    DropSpool();
    if (ec == bhttp::error::header_limit) {
      return Refuse(431, "header-too-large", "the request line and headers exceed " +
                                                 std::to_string(Options().max_header_bytes) +
                                                 " bytes");
    }
    if (ec == bhttp::error::body_limit) {
      if (upload_) {
        return Refuse(
            413, "body-too-large",
            "the upload exceeds " + std::to_string(Options().max_upload_bytes) + " bytes");
      }
      return Refuse(413, "body-too-large", "the request body exceeds " +
                                               std::to_string(Options().max_body_bytes) +
                                               " bytes");
    }
    const bool closed = ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message;
    if (!closed && ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
      return Refuse(400, "bad-request", "the request is not valid HTTP/1.1");
    }
    // Timeout (the stream is already closed), a reset, a closed connection,
    // a TLS failure or our own Stop(): nothing to answer.
    Close();
  }

  // Answers a request that could not be read, then closes.
  void Refuse(int status, std::string_view type, std::string detail) {
    Refuse(Problem(status, type, ReasonPhrase(status), detail));
  }
  void Refuse(Response problem) {
    Request req = header_read_ ? std::move(pending_) : BaseRequest();
    req.route_name = std::string(internal::kRouteBadRequest);
    req.route_pattern.clear();
    Send(std::move(req), std::move(problem), header_read_ ? version_ : 11, /*keep_alive=*/false);
  }

  Request BaseRequest() const {
    Request req;
    req.remote_address = remote_;
    req.tls = kTls;
    req.request_id = Dispatcher::NewRequestId();
    return req;
  }

  void Dispatch() {
    Request req = std::move(pending_);
    if (parser_) {
      req.body = std::move(parser_->get().body());
    } else {
      upload_->get().body().close();
      req.body_file = spool_;
    }
    Dispatcher::Resolved resolved = server_.dispatcher->Resolve(req, raw_query_);
    if (resolved.answer) return Answer(std::move(req), *std::move(resolved.answer));
    const Route& route = *resolved.route;
    if (route.options.on_io_thread || !server_.handler_loop) {
      std::string_view error;
      Response resp = server_.dispatcher->Run(route, req, &error);
      error_ = error;
      return Answer(std::move(req), std::move(resp));
    }
    // A handler that may wait: on a handler thread, and its response back
    // here. The connection stays busy meanwhile.
    auto waiting = std::make_shared<Request>(std::move(req));
    net::post(*server_.handler_loop, [self = this->shared_from_this(), waiting, &route] {
      std::string_view error;
      auto resp =
          std::make_shared<Response>(self->server_.dispatcher->Run(route, *waiting, &error));
      net::post(self->stream_.get_executor(), [self, waiting, resp, error] {
        self->error_ = error;
        self->Answer(std::move(*waiting), std::move(*resp));
      });
    });
  }

  // Sends a handler's response, at once or, if it is deferred, once it is ready.
  void Answer(Request req, Response resp) {
    if (resp.deferred) {
      // The answer comes later, from another thread: this connection stays
      // busy until it does, then sends it from its own executor.
      auto deferred = std::move(resp.deferred);
      auto waiting = std::make_shared<Request>(std::move(req));
      deferred->OnReady([self = this->shared_from_this(), waiting, version = version_,
                         keep_alive = request_keep_alive_](Deferred::Make make) {
        net::post(self->stream_.get_executor(),
                  [self, waiting, make = std::move(make), version, keep_alive] {
                    self->Send(std::move(*waiting), make(), version, keep_alive);
                  });
      });
      return;
    }
    Send(std::move(req), std::move(resp), version_, request_keep_alive_);
  }

  void Send(Request req, Response resp, unsigned version, bool keep_alive) {
    // A handler that keeps an upload has moved it: what is left goes before
    // the answer does, so no spooled file outlives its request's response.
    DropSpool();
    phase_ = Phase::kBusy;
    if (stop_requested_ || server_.stopping.load()) keep_alive = false;
    Headers headers = server_.dispatcher->FinishResponse(req, resp);
    res_.emplace();
    res_->version(version == 10 ? 10 : 11);
    res_->result(static_cast<unsigned>(resp.status));
    std::string_view reason = ReasonPhrase(resp.status);
    if (reason != "Unknown") res_->reason(beast::string_view(reason.data(), reason.size()));
    if (!resp.body.empty() || resp.status >= 400) {
      res_->set(bhttp::field::content_type, resp.content_type);
    }
    for (const auto& [name, value] : headers) res_->insert(name, value);
    res_->body() = std::move(resp.body);
    res_->keep_alive(keep_alive);
    res_->prepare_payload();
    status_ = resp.status;
    keep_alive_ = keep_alive;
    req_ = std::move(req);
    Tcp().expires_after(Options().request_timeout);
    bhttp::async_write(stream_, *res_,
                       beast::bind_front_handler(&Session::OnWrite, this->shared_from_this()));
  }

  void OnWrite(beast::error_code ec, size_t n) {
    internal::Exchange ex;
    ex.bytes_in = bytes_in_;
    ex.bytes_out = n;
    ex.duration = std::chrono::steady_clock::now() - started_;
    ex.error = error_;
    server_.dispatcher->Record(req_, status_, ex);
    res_.reset();
    error_ = {};
    if (ec) return Close();
    if (!keep_alive_) return Linger();
    ReadRequest();
  }

  // After a last response: end our side, then let the client finish sending
  // (discarding it) so that closing does not reset the connection before the
  // client has read the response.
  void Linger() {
    phase_ = Phase::kClosing;
    Tcp().expires_after(std::min<std::chrono::steady_clock::duration>(Options().request_timeout,
                                                                      kMaxLinger));
    if constexpr (kTls) {
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        self->Close();
      });
    } else {
      beast::error_code ec;
      Tcp().socket().shutdown(tcp::socket::shutdown_send, ec);
      if (ec) return Close();
      Drain();
    }
  }

  void Drain() {
    Tcp().async_read_some(net::buffer(discard_),
                          [self = this->shared_from_this()](beast::error_code ec, size_t) {
                            if (ec) return self->Close();
                            self->Drain();
                          });
  }

  void Close() {
    phase_ = Phase::kClosing;
    beast::error_code ec;
    Tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
    Tcp().close();
  }

  Server::Impl& server_;
  Stream stream_;
  const bool over_cap_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::empty_body>> header_;   // reading the headers
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;  // then a small body
  std::optional<bhttp::request_parser<bhttp::file_body>> upload_;    // or an upload
  bool header_read_ = false;
  Request pending_;  // the request line and headers, once read
  std::string raw_query_;
  unsigned version_ = 11;
  bool request_keep_alive_ = false;
  std::string spool_;  // the upload's file until it is answered
  std::optional<bhttp::response<bhttp::string_body>> res_;
  Phase phase_ = Phase::kReading;
  bool stop_requested_ = false;
  bool keep_alive_ = false;
  int status_ = 0;
  uint64_t bytes_in_ = 0;
  std::chrono::steady_clock::time_point started_;
  std::string_view error_;
  Request req_;
  std::array<char, 4096> discard_;
};

void RunIoThread(net::io_context& ioc) {
  for (;;) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {
      // Handlers catch their own errors; this is a bug or an allocation
      // failure. Keep the thread serving.
      std::fprintf(stderr, "custodian http: an I/O handler threw: %s\n", e.what());
    }
  }
}

}  // namespace

void Server::Impl::DoAccept() {
  acceptor->async_accept(NextLoop(),
                         beast::bind_front_handler(&Impl::OnAccept, this));
}

void Server::Impl::OnAccept(beast::error_code ec, LoopSocket socket) {
  if (stopping.load() || !acceptor->is_open()) return;
  if (ec) {
    // Out of descriptors, or the peer gave up before accept: try again soon,
    // without spinning.
    accept_retry.expires_after(std::chrono::milliseconds(50));
    accept_retry.async_wait([this](beast::error_code wec) {
      if (!wec && !stopping.load()) DoAccept();
    });
    return;
  }
  beast::error_code opt_ec;
  socket.set_option(tcp::no_delay(true), opt_ec);
  bool over_cap = false;
  if (active.fetch_add(1) >= options.max_connections) {
    active.fetch_sub(1);
    over_cap = true;
    if (rejecting.fetch_add(1) >= options.max_connections) {
      rejecting.fetch_sub(1);
      dispatcher->refused_connections().Inc();
      socket.close(opt_ec);
      DoAccept();
      return;
    }
  }
  if (ssl_ctx) {
    std::make_shared<Session<true>>(*this, std::move(socket), over_cap)->Run();
  } else {
    std::make_shared<Session<false>>(*this, std::move(socket), over_cap)->Run();
  }
  DoAccept();
}

void Server::Impl::Register(const std::shared_ptr<SessionBase>& s) {
  std::lock_guard lock(mu);
  sessions.emplace(s.get(), s);
}

void Server::Impl::Unregister(SessionBase* s, bool over_cap) {
  (over_cap ? rejecting : active).fetch_sub(1);
  std::lock_guard lock(mu);
  sessions.erase(s);
  if (sessions.empty()) cv.notify_all();
}

Result<std::unique_ptr<Server>> Server::Create(ServerOptions options, Router router) {
  if (options.threads < 0) return Status::InvalidArgument("threads must be >= 0");
  if (options.max_body_bytes == 0 || options.max_header_bytes < 1024 ||
      options.max_header_bytes > UINT32_MAX) {
    return Status::InvalidArgument(
        "max_body_bytes must be > 0 and max_header_bytes between 1024 and 2^32-1");
  }
  if (options.request_timeout.count() <= 0) {
    return Status::InvalidArgument("request_timeout must be > 0");
  }
  if (options.max_connections == 0) return Status::InvalidArgument("max_connections must be > 0");
  if (!options.upload_dir.empty()) {
    if (options.max_upload_bytes == 0) {
      return Status::InvalidArgument("max_upload_bytes must be > 0");
    }
    namespace fs = std::filesystem;
    std::error_code fec;
    fs::create_directories(options.upload_dir, fec);
    if (fec || ::chmod(options.upload_dir.c_str(), 0700) != 0) {
      return Status::InvalidArgument("cannot create the upload directory '" + options.upload_dir +
                                     "'");
    }
    // Uploads a crashed server left behind (they hold personal data). A live
    // upload's file is written at least every request_timeout.
    const auto stale =
        fs::file_time_type::clock::now() - options.request_timeout - std::chrono::minutes(1);
    for (const auto& entry : fs::directory_iterator(options.upload_dir, fec)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind("upload-", 0) != 0 || !entry.is_regular_file(fec)) continue;
      if (entry.last_write_time(fec) < stale) fs::remove(entry.path(), fec);
    }
  }
  beast::error_code ec;
  net::ip::make_address(options.address, ec);
  if (ec) {
    return Status::InvalidArgument("'" + options.address + "' is not an IP address");
  }
  if (options.handler_threads < 0) return Status::InvalidArgument("handler_threads must be >= 0");
  int threads = options.threads;
  if (threads == 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int handler_threads = options.handler_threads;

  auto impl = std::make_unique<Impl>(std::move(options), threads, handler_threads);
  if (impl->options.metrics == nullptr) {
    impl->owned_metrics = std::make_unique<Metrics>();
    impl->metrics = impl->owned_metrics.get();
  } else {
    impl->metrics = impl->options.metrics;
  }
  if (impl->options.tls) {
    const TlsFiles& files = *impl->options.tls;
    ssl::context ctx(ssl::context::tls_server);
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                    ssl::context::single_dh_use);
    SSL_CTX* native = ctx.native_handle();
    SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(native, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1) {
      return Status::Internal("cannot configure TLS 1.2+ in OpenSSL");
    }
    ctx.use_certificate_chain_file(files.cert_file, ec);
    if (ec) {
      return Status::InvalidArgument("TLS certificate '" + files.cert_file +
                                     "' does not load: " + ec.message());
    }
    ctx.use_private_key_file(files.key_file, ssl::context::pem, ec);
    if (ec) {
      return Status::InvalidArgument("TLS key '" + files.key_file +
                                     "' does not load: " + ec.message());
    }
    if (SSL_CTX_check_private_key(native) != 1) {
      return Status::InvalidArgument("TLS key '" + files.key_file +
                                     "' does not match the certificate");
    }
    impl->ssl_ctx.emplace(std::move(ctx));
  }
  ASSIGN_OR_RETURN(impl->dispatcher,
                   Dispatcher::Create(impl->options, std::move(router), *impl->metrics));
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Shutdown(std::chrono::milliseconds(0)); }

Status Server::Start() {
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  if (s.state != Impl::State::kCreated) {
    return Status::FailedPrecondition("the server has already been started");
  }
  beast::error_code ec;
  tcp::endpoint endpoint(net::ip::make_address(s.options.address), s.options.port);
  const std::string where = s.options.address + ":" + std::to_string(s.options.port);
  s.acceptor.emplace(s.accept_strand);
  s.acceptor->open(endpoint.protocol(), ec);
  if (!ec) s.acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor->bind(endpoint, ec);
  if (!ec) s.acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    s.acceptor.reset();
    return Status::Unavailable("cannot listen on " + where + ": " + ec.message());
  }
  s.bound_port = s.acceptor->local_endpoint(ec).port();
  s.DoAccept();
  s.keep_running.push_back(net::make_work_guard(s.accept_loop));
  s.threads.emplace_back([&s] { RunIoThread(s.accept_loop); });
  for (auto& loop : s.loops) {
    s.keep_running.push_back(net::make_work_guard(*loop));
    s.threads.emplace_back([&loop] { RunIoThread(*loop); });
  }
  if (s.handler_loop) {
    s.keep_running.push_back(net::make_work_guard(*s.handler_loop));
    for (int i = 0; i < s.handler_threads_wanted; ++i) {
      s.threads.emplace_back([&s] { RunIoThread(*s.handler_loop); });
    }
  }
  s.state = Impl::State::kRunning;
  return Status::Ok();
}

uint16_t Server::port() const { return impl_->bound_port.load(); }

Metrics& Server::metrics() { return *impl_->metrics; }

void Server::Shutdown(std::chrono::milliseconds grace) {
  Impl& s = *impl_;
  const auto deadline = std::chrono::steady_clock::now() + grace;
  {
    std::lock_guard lock(s.mu);
    if (s.state == Impl::State::kCreated) {
      s.state = Impl::State::kStopped;
      s.cv.notify_all();
      return;
    }
    if (s.state != Impl::State::kRunning) return;
    s.state = Impl::State::kStopping;
  }
  s.stopping = true;
  s.dispatcher->BeginShutdown();

  // Stop accepting. Once this has run on the acceptor's strand, every
  // accepted connection is registered, and no more will be.
  auto closed = std::make_shared<std::promise<void>>();
  std::future<void> closed_done = closed->get_future();
  net::post(s.accept_strand, [&s, closed] {
    beast::error_code ec;
    s.acceptor->close(ec);
    s.accept_retry.cancel();
    closed->set_value();
  });
  closed_done.wait_until(deadline);

  std::vector<std::shared_ptr<SessionBase>> live;
  {
    std::lock_guard lock(s.mu);
    for (auto& [ptr, weak] : s.sessions) {
      if (auto sp = weak.lock()) live.push_back(std::move(sp));
    }
  }
  for (auto& sp : live) sp->Stop();
  live.clear();  // the sessions' lifetimes are theirs again

  {
    std::unique_lock lock(s.mu);
    s.cv.wait_until(lock, deadline, [&s] { return s.sessions.empty(); });
  }
  s.accept_loop.stop();
  for (auto& loop : s.loops) loop->stop();
  if (s.handler_loop) s.handler_loop->stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
  {
    std::lock_guard lock(s.mu);
    s.state = Impl::State::kStopped;
  }
  s.cv.notify_all();
}

void Server::Wait() {
  Impl& s = *impl_;
  std::unique_lock lock(s.mu);
  s.cv.wait(lock, [&s] { return s.state == Impl::State::kStopped; });
}

struct ShutdownSignal::State {
  net::io_context ioc{1};
  net::signal_set signals{ioc, SIGINT, SIGTERM};
};

ShutdownSignal::ShutdownSignal() : state_(std::make_unique<State>()) {}

ShutdownSignal::~ShutdownSignal() = default;

int ShutdownSignal::WaitThenShutdown(Server& server, std::chrono::milliseconds grace) {
  int received = 0;
  state_->signals.async_wait([&received](beast::error_code ec, int signal_number) {
    if (!ec) received = signal_number;
  });
  state_->ioc.run();
  state_->ioc.restart();
  server.Shutdown(grace);
  return received;
}

}  // namespace custodian::http
