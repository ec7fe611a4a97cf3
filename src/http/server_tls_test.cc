// The Server over TLS: a self-signed certificate made at test time with the
// OpenSSL C API, clients limited to particular protocol versions.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>

#include "http/server.h"
#include "http/test_cert.h"
#include "http/test_client.h"
#include "test_util.h"

namespace custodian::http {
namespace {

namespace beast = boost::beast;
using testing::ClientResponse;
using testing::TestClient;
using testing::TlsClientOptions;

class TlsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_ = (dir_.path() / "cert.pem").string();
    key_ = (dir_.path() / "key.pem").string();
    ASSERT_TRUE(testing::WriteSelfSigned(cert_, key_));
    ServerOptions options;
    options.port = 0;
    options.threads = 2;
    options.tls = TlsFiles{cert_, key_};
    options.access_log_sink = [](std::string_view) {};
    Router router;
    ASSERT_TRUE(router
                    .Add("GET", "/whoami", "whoami",
                         [](Request& req) {
                           return Response::Json(200, req.tls ? R"({"tls":true})"
                                                              : R"({"tls":false})");
                         })
                    .ok());
    auto created = Server::Create(options, std::move(router));
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    server_ = std::move(created).value();
    ASSERT_TRUE(server_->Start().ok());
  }

  custodian::testing_util::TempDir dir_;
  std::string cert_, key_;
  std::unique_ptr<Server> server_;
};

TEST_F(TlsServerTest, ServesTls12AndTls13WithHsts) {
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    TestClient c;
    TlsClientOptions tls;
    tls.min_version = version;
    tls.max_version = version;
    beast::error_code ec = c.ConnectTls(server_->port(), tls);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(c.TlsVersion(), version == TLS1_2_VERSION ? "TLSv1.2" : "TLSv1.3");
    ClientResponse r = c.Request("GET", "/whoami");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, R"({"tls":true})");
    EXPECT_EQ(r.Header("Strict-Transport-Security"), "max-age=31536000");
    EXPECT_EQ(r.Header("X-Content-Type-Options"), "nosniff");
    // Keep-alive over TLS.
    EXPECT_EQ(c.Request("GET", "/healthz").status, 200);
  }
}

TEST_F(TlsServerTest, RefusesTls11AndOlder) {
  // Control: this legacy-capable client does connect when TLS 1.2 is allowed,
  // so the refusal below is about the protocol version alone.
  TlsClientOptions legacy;
  legacy.allow_legacy = true;
  legacy.min_version = TLS1_VERSION;
  legacy.max_version = TLS1_2_VERSION;
  {
    TestClient c;
    ASSERT_FALSE(c.ConnectTls(server_->port(), legacy));
    EXPECT_EQ(c.TlsVersion(), "TLSv1.2");
  }
  for (int max : {TLS1_1_VERSION, TLS1_VERSION}) {
    legacy.max_version = max;
    TestClient c;
    beast::error_code ec = c.ConnectTls(server_->port(), legacy);
    EXPECT_TRUE(ec) << "max version " << max;
    EXPECT_NE(ec, beast::error::timeout);
    EXPECT_EQ(ec.category(), boost::asio::error::get_ssl_category()) << ec.message();
    // The server's alert, not a client-side refusal.
    EXPECT_NE(ec.message().find("alert protocol version"), std::string::npos) << ec.message();
  }
  // Still serving.
  TestClient c;
  ASSERT_FALSE(c.ConnectTls(server_->port()));
  EXPECT_EQ(c.Request("GET", "/healthz").status, 200);
}

TEST_F(TlsServerTest, PlainHttpOnTheTlsPortGetsNoResponse) {
  TestClient c;
  ASSERT_FALSE(c.Connect(server_->port()));
  ASSERT_FALSE(c.SendRaw("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string received;
  c.ReadUntilClosed(&received);
  EXPECT_EQ(received.find("HTTP/1.1 200"), std::string::npos);
}

TEST(TlsServerCreateTest, RefusesAKeyThatDoesNotMatchTheCertificate) {
  custodian::testing_util::TempDir dir;
  std::string cert1 = (dir.path() / "c1.pem").string(), key1 = (dir.path() / "k1.pem").string();
  std::string cert2 = (dir.path() / "c2.pem").string(), key2 = (dir.path() / "k2.pem").string();
  ASSERT_TRUE(testing::WriteSelfSigned(cert1, key1));
  ASSERT_TRUE(testing::WriteSelfSigned(cert2, key2));
  ServerOptions options;
  options.port = 0;
  options.tls = TlsFiles{cert1, key2};
  auto created = Server::Create(options, Router());
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kInvalidArgument);
  // OpenSSL catches the mismatch as it loads the key, or our check after it.
  EXPECT_EQ(created.status().message().rfind("TLS key '" + key2 + "' does ", 0), 0u)
      << created.status().message();
}

}  // namespace
}  // namespace custodian::http
