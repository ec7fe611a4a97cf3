// TestClient's Beast client code (test_client.h), compiled once into the
// custodian_http_testing library.
#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>
#include <utility>

#include "http/test_client.h"

namespace custodian::http::testing {

struct TestClient::Impl {
  explicit Impl(std::chrono::milliseconds t) : timeout(t) {}

  static boost::asio::ip::tcp::endpoint Endpoint(const std::string& host, uint16_t port) {
    return {boost::asio::ip::make_address(host), port};
  }

  void Close() {
    beast::error_code ec;
    if (tcp) tcp->socket().close(ec);
    if (tls) beast::get_lowest_layer(*tls).socket().close(ec);
  }

  void Reset() {
    Close();
    tls.reset();
    tcp.reset();
    ctx.reset();
    buffer.clear();
  }

  beast::tcp_stream& Lowest() { return tls ? beast::get_lowest_layer(*tls) : *tcp; }

  template <typename F>
  void WithStream(F&& f) {
    if (tls) {
      f(*tls);
    } else {
      f(*tcp);
    }
  }

  // Starts an asynchronous operation through `initiate(handler)` and runs
  // the io_context until it completes; the stream's deadline bounds it.
  template <typename Initiate>
  beast::error_code Run(Initiate&& initiate) {
    beast::error_code result = boost::asio::error::would_block;
    Lowest().expires_after(timeout);
    ioc.restart();
    initiate([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc.run();
    return result;
  }

  std::chrono::milliseconds timeout;
  boost::asio::io_context ioc;
  std::optional<boost::asio::ssl::context> ctx;
  std::optional<beast::tcp_stream> tcp;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
};

TestClient::TestClient(std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>(timeout)) {}

TestClient::~TestClient() = default;

beast::error_code TestClient::Connect(uint16_t port, const std::string& host) {
  Impl& c = *impl_;
  c.Reset();
  c.tcp.emplace(c.ioc);
  return c.Run([&](auto handler) { c.tcp->async_connect(Impl::Endpoint(host, port), handler); });
}

beast::error_code TestClient::ConnectTls(uint16_t port, const TlsClientOptions& options,
                                         const std::string& host) {
  Impl& c = *impl_;
  c.Reset();
  c.ctx.emplace(boost::asio::ssl::context::tls_client);
  SSL_CTX* native = c.ctx->native_handle();
  if (options.allow_legacy) {
    SSL_CTX_set_security_level(native, 0);
    SSL_CTX_set_cipher_list(native, "DEFAULT:@SECLEVEL=0");
  }
  SSL_CTX_set_min_proto_version(native, options.min_version);
  SSL_CTX_set_max_proto_version(native, options.max_version);
  c.ctx->set_verify_mode(boost::asio::ssl::verify_none);
  c.tls.emplace(c.ioc, *c.ctx);
  beast::error_code ec = c.Run([&](auto handler) {
    beast::get_lowest_layer(*c.tls).async_connect(Impl::Endpoint(host, port), handler);
  });
  if (ec) return ec;
  return c.Run([&](auto handler) {
    c.tls->async_handshake(boost::asio::ssl::stream_base::client, handler);
  });
}

std::string TestClient::TlsVersion() {
  return impl_->tls ? SSL_get_version(impl_->tls->native_handle()) : "";
}

beast::error_code TestClient::Send(std::string_view method, std::string_view target,
                                   std::string body, const Headers& headers) {
  beast::http::request<beast::http::string_body> req;
  req.method_string(beast::string_view(method.data(), method.size()));
  req.target(beast::string_view(target.data(), target.size()));
  req.version(11);
  req.set(beast::http::field::host, "127.0.0.1");
  for (const auto& [k, v] : headers) req.insert(k, v);
  req.body() = std::move(body);
  if (!req.body().empty() || method == "POST" || method == "PUT") req.prepare_payload();
  Impl& c = *impl_;
  return c.Run([&](auto handler) {
    c.WithStream([&](auto& s) { beast::http::async_write(s, req, handler); });
  });
}

beast::error_code TestClient::SendRaw(std::string_view bytes) {
  Impl& c = *impl_;
  return c.Run([&](auto handler) {
    c.WithStream([&](auto& s) {
      boost::asio::async_write(s, boost::asio::buffer(bytes.data(), bytes.size()), handler);
    });
  });
}

beast::error_code TestClient::Receive(ClientResponse* out) {
  Impl& c = *impl_;
  beast::http::response_parser<beast::http::string_body> parser;
  parser.body_limit(64 << 20);
  beast::error_code ec = c.Run([&](auto handler) {
    c.WithStream([&](auto& s) { beast::http::async_read(s, c.buffer, parser, handler); });
  });
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

ClientResponse TestClient::Request(std::string_view method, std::string_view target,
                                   std::string body, const Headers& headers,
                                   beast::error_code* ec) {
  ClientResponse out;
  beast::error_code e = Send(method, target, std::move(body), headers);
  if (!e) e = Receive(&out);
  if (e) out = ClientResponse();
  if (ec) *ec = e;
  return out;
}

beast::error_code TestClient::ReadUntilClosed(std::string* received) {
  Impl& c = *impl_;
  std::string all = beast::buffers_to_string(c.buffer.data());
  c.buffer.consume(c.buffer.size());
  beast::error_code ec;
  char chunk[4096];
  while (true) {
    size_t got = 0;
    ec = c.Run([&](auto handler) {
      c.WithStream([&](auto& s) {
        s.async_read_some(boost::asio::buffer(chunk),
                          [&got, handler](beast::error_code e, size_t n) mutable {
                            got = n;
                            handler(e);
                          });
      });
    });
    all.append(chunk, got);
    if (ec) break;
  }
  if (received) *received = std::move(all);
  return ec;
}

void TestClient::Close() { impl_->Close(); }

}  // namespace custodian::http::testing
