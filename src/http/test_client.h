// TestClient: a small synchronous HTTP/1.1 client (plain or TLS) for tests
// that talk to a real Server, here and in the HTTP API suites.
//
// Every call blocks until it completes, fails, or its timeout (given at
// construction, generous by default) passes; then it returns
// beast::error::timeout instead of hanging the test. Header-only so that the
// library does not compile Beast client code; include it only from tests.
// Thread-safety: one thread per client.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.h"

namespace custodian::http::testing {

namespace beast = boost::beast;

struct ClientResponse {
  int status = 0;
  std::string body;
  Headers headers;
  bool keep_alive = false;

  // The first header with this name (case-insensitive), or "" if none.
  std::string Header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (EqualsIgnoreCase(k, name)) return v;
    }
    return "";
  }
  bool HasHeader(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (EqualsIgnoreCase(k, name)) return true;
    }
    return false;
  }
};

struct TlsClientOptions {
  int min_version = TLS1_2_VERSION;  // OpenSSL protocol versions
  int max_version = 0;               // 0: the highest the library knows
  // OpenSSL security level 0, so that the client is able to offer TLS 1.0/1.1
  // at all (Debian's default level refuses to): for testing that the server
  // refuses them.
  bool allow_legacy = false;
};

class TestClient {
 public:
  explicit TestClient(std::chrono::milliseconds timeout = std::chrono::seconds(20))
      : timeout_(timeout) {}
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  beast::error_code Connect(uint16_t port, const std::string& host = "127.0.0.1") {
    Reset();
    tcp_.emplace(ioc_);
    return Run([&](auto handler) {
      tcp_->async_connect(Endpoint(host, port), handler);
    });
  }

  // Connects and completes a TLS handshake. The server's certificate is not
  // verified: these tests are about the transport, not the PKI.
  beast::error_code ConnectTls(uint16_t port, const TlsClientOptions& options = {},
                               const std::string& host = "127.0.0.1") {
    Reset();
    ctx_.emplace(boost::asio::ssl::context::tls_client);
    SSL_CTX* native = ctx_->native_handle();
    if (options.allow_legacy) {
      SSL_CTX_set_security_level(native, 0);
      SSL_CTX_set_cipher_list(native, "DEFAULT:@SECLEVEL=0");
    }
    SSL_CTX_set_min_proto_version(native, options.min_version);
    SSL_CTX_set_max_proto_version(native, options.max_version);
    ctx_->set_verify_mode(boost::asio::ssl::verify_none);
    tls_.emplace(ioc_, *ctx_);
    beast::error_code ec = Run([&](auto handler) {
      beast::get_lowest_layer(*tls_).async_connect(Endpoint(host, port), handler);
    });
    if (ec) return ec;
    return Run([&](auto handler) {
      tls_->async_handshake(boost::asio::ssl::stream_base::client, handler);
    });
  }

  // "TLSv1.2", "TLSv1.3"; "" on a plain connection.
  std::string TlsVersion() { return tls_ ? SSL_get_version(tls_->native_handle()) : ""; }

  // Sends one request. Host is added; Content-Length when there is a body.
  beast::error_code Send(std::string_view method, std::string_view target,
                         std::string body = {}, const Headers& headers = {}) {
    beast::http::request<beast::http::string_body> req;
    req.method_string(beast::string_view(method.data(), method.size()));
    req.target(beast::string_view(target.data(), target.size()));
    req.version(11);
    req.set(beast::http::field::host, "127.0.0.1");
    for (const auto& [k, v] : headers) req.insert(k, v);
    req.body() = std::move(body);
    if (!req.body().empty() || method == "POST" || method == "PUT") req.prepare_payload();
    return Run([&](auto handler) { WithStream([&](auto& s) {
      beast::http::async_write(s, req, handler); }); });
  }

  beast::error_code SendRaw(std::string_view bytes) {
    return Run([&](auto handler) { WithStream([&](auto& s) {
      boost::asio::async_write(s, boost::asio::buffer(bytes.data(), bytes.size()), handler); }); });
  }

  beast::error_code Receive(ClientResponse* out) {
    beast::http::response_parser<beast::http::string_body> parser;
    parser.body_limit(64 << 20);
    beast::error_code ec = Run([&](auto handler) { WithStream([&](auto& s) {
      beast::http::async_read(s, buffer_, parser, handler); }); });
    if (ec) return ec;
    auto& msg = parser.get();
    out->status = static_cast<int>(msg.result_int());
    out->keep_alive = msg.keep_alive();
    out->headers.clear();
    for (const auto& f : msg) {
      out->headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
    out->body = std::move(msg.body());
    return ec;
  }

  // Send then Receive. On failure the response has status 0 and `*ec` (if
  // given) says why.
  ClientResponse Request(std::string_view method, std::string_view target,
                         std::string body = {}, const Headers& headers = {},
                         beast::error_code* ec = nullptr) {
    ClientResponse out;
    beast::error_code e = Send(method, target, std::move(body), headers);
    if (!e) e = Receive(&out);
    if (e) out = ClientResponse();
    if (ec) *ec = e;
    return out;
  }

  // Reads until the server ends the connection. Returns what ended it: eof or
  // a reset (or a TLS truncation) when the server closed, timeout when it did
  // not within the client's timeout. `*received` gets every byte read.
  beast::error_code ReadUntilClosed(std::string* received = nullptr) {
    std::string all = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    beast::error_code ec;
    char chunk[4096];
    while (true) {
      size_t got = 0;
      ec = Run([&](auto handler) { WithStream([&](auto& s) {
        s.async_read_some(boost::asio::buffer(chunk), [&got, handler](beast::error_code e,
                                                                      size_t n) mutable {
          got = n;
          handler(e);
        }); }); });
      all.append(chunk, got);
      if (ec) break;
    }
    if (received) *received = std::move(all);
    return ec;
  }

  static bool IsClosedByPeer(const beast::error_code& ec) {
    return ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset ||
           ec == boost::asio::ssl::error::stream_truncated ||
           ec == beast::http::error::end_of_stream;
  }

  void Close() {
    beast::error_code ec;
    if (tcp_) tcp_->socket().close(ec);
    if (tls_) beast::get_lowest_layer(*tls_).socket().close(ec);
  }

 private:
  static boost::asio::ip::tcp::endpoint Endpoint(const std::string& host, uint16_t port) {
    return {boost::asio::ip::make_address(host), port};
  }

  void Reset() {
    Close();
    tls_.reset();
    tcp_.reset();
    ctx_.reset();
    buffer_.clear();
  }

  beast::tcp_stream& Lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *tcp_; }

  template <typename F>
  void WithStream(F&& f) {
    if (tls_) {
      f(*tls_);
    } else {
      f(*tcp_);
    }
  }

  // Starts an asynchronous operation through `initiate(handler)` and runs
  // the io_context until it completes; the stream's deadline bounds it.
  template <typename Initiate>
  beast::error_code Run(Initiate&& initiate) {
    beast::error_code result = boost::asio::error::would_block;
    Lowest().expires_after(timeout_);
    ioc_.restart();
    initiate([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc_.run();
    return result;
  }

  std::chrono::milliseconds timeout_;
  boost::asio::io_context ioc_;
  std::optional<boost::asio::ssl::context> ctx_;
  std::optional<beast::tcp_stream> tcp_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  beast::flat_buffer buffer_;
};

}  // namespace custodian::http::testing
