// TestClient: a small synchronous HTTP/1.1 client (plain or TLS) for tests
// that talk to a real Server, here and in the HTTP API suites.
//
// Every call blocks until it completes, fails, or its timeout (given at
// construction, generous by default) passes; then it returns
// beast::error::timeout instead of hanging the test. Its Beast client code is
// compiled once, in test_client_testing.cc (the custodian_http_testing
// library, linked by the tests only), not in every test file that uses it:
// this header names only error codes.
// Thread-safety: one thread per client.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
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
  explicit TestClient(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  ~TestClient();
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  beast::error_code Connect(uint16_t port, const std::string& host = "127.0.0.1");

  // Connects and completes a TLS handshake. The server's certificate is not
  // verified: these tests are about the transport, not the PKI.
  beast::error_code ConnectTls(uint16_t port, const TlsClientOptions& options = {},
                               const std::string& host = "127.0.0.1");

  // "TLSv1.2", "TLSv1.3"; "" on a plain connection.
  std::string TlsVersion();

  // Sends one request. Host is added; Content-Length when there is a body.
  beast::error_code Send(std::string_view method, std::string_view target,
                         std::string body = {}, const Headers& headers = {});

  beast::error_code SendRaw(std::string_view bytes);

  beast::error_code Receive(ClientResponse* out);

  // Send then Receive. On failure the response has status 0 and `*ec` (if
  // given) says why.
  ClientResponse Request(std::string_view method, std::string_view target,
                         std::string body = {}, const Headers& headers = {},
                         beast::error_code* ec = nullptr);

  // Reads until the server ends the connection. Returns what ended it: eof or
  // a reset (or a TLS truncation) when the server closed, timeout when it did
  // not within the client's timeout. `*received` gets every byte read.
  beast::error_code ReadUntilClosed(std::string* received = nullptr);

  static bool IsClosedByPeer(const beast::error_code& ec) {
    return ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset ||
           ec == boost::asio::ssl::error::stream_truncated ||
           ec == beast::http::error::end_of_stream;
  }

  void Close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace custodian::http::testing
