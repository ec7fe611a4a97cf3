// The Server against real sockets on 127.0.0.1, port 0, through TestClient.
// No assertion depends on timing: timeouts are generous upper bounds only.
#include "http/server.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "http/problem.h"
#include "http/test_client.h"
#include "test_util.h"

namespace custodian::http {
namespace {

namespace beast = boost::beast;
using testing::ClientResponse;
using testing::TestClient;
using namespace std::chrono_literals;

// Collects access log lines from the server's I/O threads.
class LogCapture {
 public:
  std::function<void(std::string_view)> Sink() {
    return [this](std::string_view line) {
      std::lock_guard lock(mu_);
      lines_.emplace_back(line);
      cv_.notify_all();
    };
  }
  // The lines so far, once there are at least `n` (a line is written after
  // its response has been sent, so it may trail the client by a moment).
  std::vector<std::string> WaitFor(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, 20s, [&] { return lines_.size() >= n; });
    return lines_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
};

// Repeats `probe` until it returns true or 20 s pass.
bool Eventually(const std::function<bool()>& probe) {
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (probe()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

nlohmann::json Json(const std::string& s) { return nlohmann::json::parse(s, nullptr, false); }

// Every test runs twice: with every handler on the I/O threads, and with the
// handlers of routes not marked on_io_thread on two handler threads.
class ServerTest : public ::testing::TestWithParam<int> {
 protected:
  ServerTest() {
    options_.port = 0;
    options_.threads = 2;
    options_.handler_threads = GetParam();
    options_.access_log_sink = log_.Sink();
  }

  Router TestRouter() {
    Router r;
    auto ok = [](Status s) { EXPECT_TRUE(s.ok()) << s.ToString(); };
    ok(r.Add("GET", "/hello", "hello", [](Request&) { return Response::Text(200, "hi"); }));
    ok(r.Add("GET", "/v1/subjects/{id}/records", "subject_records", [](Request& req) {
      nlohmann::json j;
      j["id"] = *req.PathParam("id");
      nlohmann::json q = nlohmann::json::array();
      for (const auto& [k, v] : req.query_params) q.push_back({k, v});
      j["query"] = q;
      j["tls"] = req.tls;
      j["remote"] = req.remote_address;
      j["route"] = req.route_name;
      j["x_custom"] = req.Header("x-CUSTOM").value_or("");
      return Response::Json(200, j.dump());
    }));
    ok(r.Add("PUT", "/v1/subjects/{id}/records", "subject_records_put",
             [](Request&) { return Response::Json(200, "{}"); }));
    ok(r.Add("POST", "/echo", "echo", [](Request& req) {
      Response resp = Response::Text(200, req.body);
      resp.headers.emplace_back("Set-Cookie", "s=1; HttpOnly");
      resp.headers.emplace_back("X-Bad", "a\r\nInjected: yes");
      return resp;
    }));
    ok(r.Add("GET", "/boom", "boom", [](Request&) -> Response {
      throw std::runtime_error("lookup of +918870100100 failed");
    }));
    ok(r.Add("GET", "/whoami", "whoami", [](Request& req) {
      req.principal = "key_42";
      return Response::Json(200, "{}");
    }));
    // Uploads of text/csv: says what arrived; keeps the file when asked to.
    RouteOptions upload;
    upload.upload_media_type = "text/csv";
    upload.before_upload = [](Request& req) -> std::optional<Response> {
      if (!req.Header("X-Refuse")) return std::nullopt;
      return Problem(403, "permission-denied", "Forbidden", "no uploads for you");
    };
    ok(r.Add(
        "POST", "/upload", "upload",
        [this](Request& req) {
          nlohmann::json j;
          j["body"] = req.body.size();
          j["file"] = req.body_file;
          struct stat st {};
          j["bytes"] = ::stat(req.body_file.c_str(), &st) == 0 ? st.st_size : -1;
          j["mode"] = st.st_mode & 0777;
          if (req.Header("X-Keep")) {
            std::filesystem::rename(req.body_file, kept_.path() / "kept.csv");
          }
          return Response::Json(200, j.dump());
        },
        upload));
    ok(r.Add("GET", "/busy", "busy",
             [](Request&) { return Problem(503, "unavailable", "Service Unavailable", "busy"); }));
    ok(r.Add("GET", "/slow", "slow", [this](Request&) {
      slow_started_.set_value();
      std::this_thread::sleep_for(300ms);
      return Response::Text(200, "done");
    }));
    return r;
  }

  void StartServer() {
    auto created = Server::Create(options_, TestRouter());
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    server_ = std::move(created).value();
    Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
    ASSERT_NE(server_->port(), 0);
  }

  ClientResponse Fetch(std::string_view method, std::string_view target, std::string body = {},
                       const Headers& headers = {}) {
    TestClient c;
    EXPECT_FALSE(c.Connect(server_->port()));
    beast::error_code ec;
    ClientResponse r = c.Request(method, target, std::move(body), headers, &ec);
    EXPECT_FALSE(ec) << ec.message();
    return r;
  }

  void ExpectProblem(const ClientResponse& r, int status, const std::string& type) {
    EXPECT_EQ(r.status, status);
    EXPECT_EQ(r.Header("Content-Type"), "application/problem+json");
    nlohmann::json j = Json(r.body);
    ASSERT_TRUE(j.is_object()) << r.body;
    EXPECT_EQ(j["type"], "urn:custodian:problem:" + type);
    EXPECT_EQ(j["status"], status);
    EXPECT_TRUE(j["title"].is_string());
    EXPECT_TRUE(j["detail"].is_string());
    EXPECT_EQ(j["request_id"], r.Header("X-Request-Id"));
  }

  testing_util::TempDir uploads_;
  testing_util::TempDir kept_;
  ServerOptions options_;
  LogCapture log_;
  std::promise<void> slow_started_;
  std::unique_ptr<Server> server_;
};

TEST_P(ServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  StartServer();
  TestClient c;
  ASSERT_FALSE(c.Connect(server_->port()));
  ClientResponse a = c.Request("GET", "/hello");
  ClientResponse b = c.Request("GET", "/hello");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "hi");
  EXPECT_TRUE(a.keep_alive);
  EXPECT_EQ(b.status, 200);
  EXPECT_EQ(b.body, "hi");
  EXPECT_NE(a.Header("X-Request-Id"), b.Header("X-Request-Id"));
}

TEST_P(ServerTest, StandardHeadersAndHealthz) {
  StartServer();
  ClientResponse r = Fetch("GET", "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"status":"ok"})");
  EXPECT_EQ(r.Header("Content-Type"), "application/json");
  EXPECT_EQ(r.Header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(r.Header("Cache-Control"), "no-store");
  EXPECT_FALSE(r.HasHeader("Strict-Transport-Security"));
  std::string id = r.Header("X-Request-Id");
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST_P(ServerTest, ReadyzFollowsTheReadinessCallback) {
  auto ready = std::make_shared<std::atomic<bool>>(false);
  options_.readiness = [ready] {
    return ready->load() ? Status::Ok() : Status::Unavailable("store at /secret/path not open");
  };
  StartServer();
  ClientResponse r = Fetch("GET", "/readyz");
  ExpectProblem(r, 503, "not-ready");
  EXPECT_EQ(r.Header("Retry-After"), "5");
  EXPECT_EQ(r.body.find("/secret/path"), std::string::npos);
  ready->store(true);
  EXPECT_EQ(Fetch("GET", "/readyz").status, 200);
}

TEST_P(ServerTest, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  StartServer();
  ExpectProblem(Fetch("GET", "/nope"), 404, "not-found");
  ClientResponse r = Fetch("DELETE", "/v1/subjects/x/records");
  ExpectProblem(r, 405, "method-not-allowed");
  EXPECT_EQ(r.Header("Allow"), "GET, PUT");
  EXPECT_EQ(r.Header("Cache-Control"), "no-store");
}

TEST_P(ServerTest, PathParamsQueryAndHeadersAreDecoded) {
  StartServer();
  ClientResponse r = Fetch("GET",
                           "/v1/subjects/sub%2F1%20%C3%A9/records?q=x+y&name=%C3%A9t%C3%A9&flag",
                           {}, {{"X-Custom", "v1"}});
  ASSERT_EQ(r.status, 200) << r.body;
  nlohmann::json j = Json(r.body);
  EXPECT_EQ(j["id"], "sub/1 \xC3\xA9");
  EXPECT_EQ(j["query"], nlohmann::json::parse(R"([["q","x y"],["name","été"],["flag",""]])"));
  EXPECT_EQ(j["tls"], false);
  EXPECT_EQ(j["remote"], "127.0.0.1");
  EXPECT_EQ(j["route"], "subject_records");
  EXPECT_EQ(j["x_custom"], "v1");
}

TEST_P(ServerTest, BadPercentEncodingIs400) {
  StartServer();
  struct Case {
    const char* target;
    const char* type;
  };
  const Case cases[] = {
      {"/v1/subjects/%ZZ/records", "bad-path"},
      {"/v1/subjects/%C3%28/records", "bad-path"},
      {"/v1/subjects/%00/records", "bad-path"},
      {"/nowhere/%E2%82", "bad-path"},
      {"/v1/subjects/x/records?a=%4", "bad-query"},
      {"/v1/subjects/x/records?%FF=1", "bad-query"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.target);
    ExpectProblem(Fetch("GET", c.target), 400, c.type);
  }
}

TEST_P(ServerTest, BodyOverTheLimitIs413AndTheServerKeepsServing) {
  options_.max_body_bytes = 1024;
  StartServer();
  EXPECT_EQ(Fetch("POST", "/echo", std::string(1024, 'a')).body, std::string(1024, 'a'));

  TestClient c;
  ASSERT_FALSE(c.Connect(server_->port()));
  ClientResponse r = c.Request("POST", "/echo", std::string(1025, 'a'));
  ExpectProblem(r, 413, "body-too-large");
  EXPECT_FALSE(r.keep_alive);
  EXPECT_TRUE(TestClient::IsClosedByPeer(c.ReadUntilClosed()));

  // Chunked bodies are held to the same limit.
  ASSERT_FALSE(c.Connect(server_->port()));
  ASSERT_FALSE(c.SendRaw("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "800\r\n" + std::string(0x800, 'b') + "\r\n0\r\n\r\n"));
  ClientResponse chunked;
  ASSERT_FALSE(c.Receive(&chunked));
  ExpectProblem(chunked, 413, "body-too-large");

  EXPECT_EQ(Fetch("GET", "/hello").status, 200);
}

TEST_P(ServerTest, HeadersOverTheLimitAre431) {
  options_.max_header_bytes = 2048;
  StartServer();
  EXPECT_EQ(Fetch("GET", "/hello", {}, {{"X-Big", std::string(1500, 'x')}}).status, 200);
  TestClient c;
  ASSERT_FALSE(c.Connect(server_->port()));
  ClientResponse r = c.Request("GET", "/hello", {}, {{"X-Big", std::string(4000, 'x')}});
  ExpectProblem(r, 431, "header-too-large");
  EXPECT_TRUE(TestClient::IsClosedByPeer(c.ReadUntilClosed()));
  EXPECT_EQ(Fetch("GET", "/hello").status, 200);
}

TEST_P(ServerTest, GarbageIs400) {
  StartServer();
  TestClient c;
  ASSERT_FALSE(c.Connect(server_->port()));
  ASSERT_FALSE(c.SendRaw("GET /hello HTTP/1.1\r\nBad Header\r\n\r\n"));
  ClientResponse r;
  ASSERT_FALSE(c.Receive(&r));
  ExpectProblem(r, 400, "bad-request");
}

TEST_P(ServerTest, HandlerHeadersAreSentButCannotInjectOrBreakFraming) {
  StartServer();
  ClientResponse r = Fetch("POST", "/echo", "x");
  EXPECT_EQ(r.Header("Set-Cookie"), "s=1; HttpOnly");
  EXPECT_FALSE(r.HasHeader("X-Bad"));
  EXPECT_FALSE(r.HasHeader("Injected"));
}

TEST_P(ServerTest, ConnectionsOverTheCapGet503) {
  options_.max_connections = 2;
  StartServer();
  TestClient a, b;
  ASSERT_FALSE(a.Connect(server_->port()));
  ASSERT_FALSE(b.Connect(server_->port()));
  ASSERT_EQ(a.Request("GET", "/hello").status, 200);
  ASSERT_EQ(b.Request("GET", "/hello").status, 200);

  TestClient c;
  ASSERT_FALSE(c.Connect(server_->port()));
  ClientResponse over = c.Request("GET", "/hello");
  ExpectProblem(over, 503, "overloaded");
  EXPECT_EQ(over.Header("Retry-After"), "1");
  EXPECT_FALSE(over.keep_alive);
  EXPECT_TRUE(TestClient::IsClosedByPeer(c.ReadUntilClosed()));

  // Once a connection ends its slot is free again.
  a.Close();
  EXPECT_TRUE(Eventually([&] {
    TestClient d;
    return !d.Connect(server_->port()) && d.Request("GET", "/hello").status == 200;
  }));
  EXPECT_EQ(b.Request("GET", "/hello").status, 200);
  EXPECT_NE(server_->metrics().Render().find("custodian_http_refused_connections_total "),
            std::string::npos);
}

TEST_P(ServerTest, ARequestNotReceivedInTimeClosesTheConnection) {
  options_.request_timeout = 300ms;
  StartServer();
  TestClient c;
  ASSERT_FALSE(c.Connect(server_->port()));
  ASSERT_FALSE(c.SendRaw("GET /hello HTTP/1.1\r\nHost: x\r\n"));  // never finished
  std::string received;
  beast::error_code ec = c.ReadUntilClosed(&received);
  EXPECT_TRUE(TestClient::IsClosedByPeer(ec)) << ec.message();
  EXPECT_EQ(received, "");

  // An idle keep-alive connection is closed the same way.
  ASSERT_FALSE(c.Connect(server_->port()));
  ASSERT_EQ(c.Request("GET", "/hello").status, 200);
  ec = c.ReadUntilClosed();
  EXPECT_TRUE(TestClient::IsClosedByPeer(ec)) << ec.message();
}

TEST_P(ServerTest, MetricsCountRequestsAndLatencyPerRoute) {
  StartServer();
  auto* mine = server_->metrics().AddCounter("custodian_lookups_total", "Lookups.",
                                             {"tenant"}).value();
  mine->WithLabels({"interjet"}).Inc(7);
  ASSERT_EQ(Fetch("GET", "/hello").status, 200);
  ASSERT_EQ(Fetch("GET", "/hello").status, 200);
  ASSERT_EQ(Fetch("GET", "/nope").status, 404);
  ASSERT_EQ(Fetch("BREW", "/hello").status, 405);
  log_.WaitFor(4);  // the requests above are recorded
  ClientResponse r = Fetch("GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& m = r.body;
  for (const char* want : {
           "# TYPE custodian_http_requests_total counter\n",
           "custodian_http_requests_total{route=\"hello\",method=\"GET\",status=\"200\"} 2\n",
           "custodian_http_requests_total{route=\"(unmatched)\",method=\"GET\",status=\"404\"} 1\n",
           "custodian_http_requests_total{route=\"(unmatched)\",method=\"OTHER\",status=\"405\"} 1\n",
           "# TYPE custodian_http_request_duration_seconds histogram\n",
           "custodian_http_request_duration_seconds_bucket{route=\"hello\",le=\"0.0005\"} ",
           "custodian_http_request_duration_seconds_bucket{route=\"hello\",le=\"5\"} 2\n",
           "custodian_http_request_duration_seconds_bucket{route=\"hello\",le=\"+Inf\"} 2\n",
           "custodian_http_request_duration_seconds_count{route=\"hello\"} 2\n",
           "custodian_http_request_duration_seconds_sum{route=\"hello\"} ",
           "# TYPE custodian_http_open_connections gauge\n",
           "custodian_lookups_total{tenant=\"interjet\"} 7\n",
       }) {
    EXPECT_NE(m.find(want), std::string::npos) << want << "\n--- in ---\n" << m;
  }
  // Raw paths never become label values.
  EXPECT_EQ(m.find("/nope"), std::string::npos);
}

TEST_P(ServerTest, AccessLogIsOneJsonLinePerRequestWithoutPersonalData) {
  StartServer();
  ASSERT_EQ(Fetch("GET", "/v1/subjects/%2B918870100100/records?phone=%2B918870100100&x=secretq",
                  {}, {{"Authorization", "Bearer tok_secret"}, {"Cookie", "sid=cookie_secret"}})
                .status,
            200);
  ASSERT_EQ(Fetch("POST", "/echo", "body_secret").status, 200);
  ClientResponse who = Fetch("GET", "/whoami");
  ASSERT_EQ(who.status, 200);
  ASSERT_EQ(Fetch("GET", "/nope/918870100100").status, 404);
  std::vector<std::string> lines = log_.WaitFor(4);
  ASSERT_EQ(lines.size(), 4u);
  std::map<std::string, nlohmann::json> by_route;  // lines may come in any order
  for (const std::string& line : lines) {
    SCOPED_TRACE(line);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    for (const char* secret : {"8870100100", "secretq", "tok_secret", "cookie_secret",
                               "body_secret", "?", "Bearer"}) {
      EXPECT_EQ(line.find(secret), std::string::npos) << secret;
    }
    nlohmann::json j = Json(line);
    ASSERT_TRUE(j.is_object());
    for (const char* field : {"time", "request_id", "remote", "method", "route", "status",
                              "duration_ms", "bytes_in", "bytes_out", "tls"}) {
      EXPECT_TRUE(j.contains(field)) << field;
    }
    EXPECT_EQ(j["remote"], "127.0.0.1");
    EXPECT_EQ(j["request_id"].get<std::string>().size(), 32u);
    by_route[j["route"].get<std::string>()] = j;
  }
  ASSERT_EQ(by_route.size(), 4u);
  nlohmann::json first = by_route["/v1/subjects/{id}/records"];
  EXPECT_EQ(first["method"], "GET");
  EXPECT_EQ(first["status"], 200);
  EXPECT_GT(first["bytes_out"].get<int>(), 0);
  EXPECT_FALSE(first.contains("principal"));
  nlohmann::json echo = by_route["/echo"];
  EXPECT_EQ(echo["method"], "POST");
  EXPECT_GT(echo["bytes_in"].get<int>(), static_cast<int>(std::string("body_secret").size()));
  nlohmann::json whoami = by_route["/whoami"];
  EXPECT_EQ(whoami["principal"], "key_42");
  EXPECT_EQ(whoami["request_id"], who.Header("X-Request-Id"));
  nlohmann::json missing = by_route["(unmatched)"];
  EXPECT_EQ(missing["status"], 404);
}

TEST_P(ServerTest, AccessLogCanBeDisabled) {
  options_.access_log = false;
  StartServer();
  ASSERT_EQ(Fetch("GET", "/hello").status, 200);
  server_->Shutdown(5s);
  EXPECT_TRUE(log_.WaitFor(0).empty());
}

TEST_P(ServerTest, AThrowingHandlerGets500WithoutItsMessage) {
  StartServer();
  ClientResponse r = Fetch("GET", "/boom");
  ExpectProblem(r, 500, "internal");
  EXPECT_EQ(r.body.find("8870100100"), std::string::npos);
  EXPECT_EQ(r.body.find("lookup"), std::string::npos);
  std::vector<std::string> lines = log_.WaitFor(1);
  ASSERT_EQ(lines.size(), 1u);
  nlohmann::json j = Json(lines[0]);
  EXPECT_EQ(j["route"], "/boom");
  EXPECT_EQ(j["status"], 500);
  EXPECT_EQ(j["error"], "handler threw");
  EXPECT_EQ(lines[0].find("8870100100"), std::string::npos);
  EXPECT_EQ(Fetch("GET", "/hello").status, 200);
}

TEST_P(ServerTest, ShutdownFinishesInFlightRequestsAndRefusesNewConnections) {
  StartServer();
  const uint16_t port = server_->port();
  TestClient idle;
  ASSERT_FALSE(idle.Connect(port));
  ASSERT_EQ(idle.Request("GET", "/hello").status, 200);

  TestClient busy;
  ASSERT_FALSE(busy.Connect(port));
  ASSERT_FALSE(busy.Send("GET", "/slow"));
  ASSERT_EQ(slow_started_.get_future().wait_for(20s), std::future_status::ready);
  std::thread stopper([&] { server_->Shutdown(20s); });

  ClientResponse r;
  beast::error_code ec = busy.Receive(&r);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "done");
  EXPECT_FALSE(r.keep_alive);
  busy.Close();  // as a client does after `Connection: close`
  ec = idle.ReadUntilClosed();
  EXPECT_TRUE(TestClient::IsClosedByPeer(ec)) << ec.message();
  stopper.join();
  server_->Wait();

  TestClient late;
  EXPECT_EQ(late.Connect(port), boost::asio::error::connection_refused);
}

// Once shutdown has begun, a request still in flight to /readyz hears that
// the server is going away, and when to look again.
TEST_P(ServerTest, ReadyzSaysShuttingDownWithRetryAfter) {
  StartServer();
  TestClient idle;
  ASSERT_FALSE(idle.Connect(server_->port()));
  ASSERT_EQ(idle.Request("GET", "/hello").status, 200);
  TestClient probe;
  ASSERT_FALSE(probe.Connect(server_->port()));
  // A first exchange: the server has accepted this connection (a connection
  // still in the listen backlog when the acceptor closes is reset).
  ASSERT_EQ(probe.Request("GET", "/hello").status, 200);
  ASSERT_FALSE(probe.SendRaw("GET /readyz HTTP/1.1\r\nHost: x\r\n"));  // not finished yet
  // Let the server take those bytes in: bytes still in the socket count as a
  // request begun (Session::OnStop), but between the kernel handing them over
  // and the read's completion running nothing shows them, and a connection
  // that shows nothing is idle and closed.
  std::this_thread::sleep_for(100ms);
  std::thread stopper([&] { server_->Shutdown(20s); });
  EXPECT_TRUE(TestClient::IsClosedByPeer(idle.ReadUntilClosed()));  // shutdown has begun
  ASSERT_FALSE(probe.SendRaw("\r\n"));
  ClientResponse r;
  ASSERT_FALSE(probe.Receive(&r));
  ExpectProblem(r, 503, "not-ready");
  EXPECT_EQ(Json(r.body)["detail"], "the server is shutting down");
  EXPECT_EQ(r.Header("Retry-After"), "5");
  EXPECT_FALSE(r.keep_alive);
  probe.Close();
  stopper.join();
}

// Every 503 says when to retry: a handler's own, or the server's default.
TEST_P(ServerTest, EveryServiceUnavailableHasRetryAfter) {
  StartServer();
  ClientResponse r = Fetch("GET", "/busy");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.Header("Retry-After"), "2");
  Response unavailable = ProblemFromStatus(Status::Unavailable("store busy"));
  ASSERT_EQ(unavailable.headers.size(), 1u);
  EXPECT_EQ(unavailable.headers[0], (std::pair<std::string, std::string>{"Retry-After", "2"}));
  Response locked = RetryAfter(Problem(429, "too-many-requests", "Too Many Requests", "x"),
                               std::chrono::milliseconds(899'001));
  EXPECT_EQ(locked.headers[0].second, "900");
}

// An upload route's body of its media type goes to a file of its own (0600),
// up to max_upload_bytes however large max_body_bytes is; the file is gone
// once answered unless the handler took it. Other bodies keep the small limit.
TEST_P(ServerTest, UploadsStreamToAFileUpToTheirOwnLimit) {
  options_.max_body_bytes = 1024;
  options_.upload_dir = (uploads_.path() / "incoming").string();
  options_.max_upload_bytes = 64 << 10;
  StartServer();
  auto files = [&] {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(options_.upload_dir)) {
      out.push_back(e.path().filename().string());
    }
    return out;
  };
  const Headers csv = {{"Content-Type", "text/csv; charset=utf-8"}};
  ClientResponse r = Fetch("POST", "/upload", std::string(64 << 10, 'a'), csv);
  ASSERT_EQ(r.status, 200) << r.body;
  nlohmann::json j = Json(r.body);
  EXPECT_EQ(j["body"], 0);
  EXPECT_EQ(j["bytes"], 64 << 10);
  EXPECT_EQ(j["mode"], 0600);
  EXPECT_EQ(std::filesystem::path(j["file"].get<std::string>()).parent_path(), options_.upload_dir);
  EXPECT_TRUE(files().empty());
  EXPECT_EQ(
      std::filesystem::status(options_.upload_dir).permissions() & std::filesystem::perms::all,
      std::filesystem::perms::owner_all);

  // The handler may keep it.
  r = Fetch("POST", "/upload", "id,name\n1,A\n", {csv[0], {"X-Keep", "1"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(testing_util::ReadFile(kept_.path() / "kept.csv"), "id,name\n1,A\n");
  EXPECT_TRUE(files().empty());

  // Another media type, or another route: the small limit.
  ExpectProblem(
      Fetch("POST", "/upload", std::string(2048, 'a'), {{"Content-Type", "application/json"}}), 413,
      "body-too-large");
  ExpectProblem(Fetch("POST", "/echo", std::string(2048, 'a'), csv), 413, "body-too-large");

  // Over the upload limit: by Content-Length at once, chunked as it comes.
  r = Fetch("POST", "/upload", std::string((64 << 10) + 1, 'a'), csv);
  ExpectProblem(r, 413, "body-too-large");
  EXPECT_EQ(Json(r.body)["detail"], "the upload exceeds 65536 bytes");
  TestClient c;
  ASSERT_FALSE(c.Connect(server_->port()));
  std::string chunked =
      "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 20; ++i) chunked += "1000\r\n" + std::string(0x1000, 'b') + "\r\n";
  chunked += "0\r\n\r\n";
  ASSERT_FALSE(c.SendRaw(chunked));
  ClientResponse over;
  ASSERT_FALSE(c.Receive(&over));
  ExpectProblem(over, 413, "body-too-large");
  EXPECT_TRUE(TestClient::IsClosedByPeer(c.ReadUntilClosed()));
  EXPECT_TRUE(files().empty());

  // A refusal before the body: with Expect: 100-continue the client never sends it.
  ASSERT_FALSE(c.Connect(server_->port()));
  ASSERT_FALSE(
      c.SendRaw("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nX-Refuse: 1\r\n"
                "Expect: 100-continue\r\nContent-Length: 60000\r\n\r\n"));
  ClientResponse refused;
  ASSERT_FALSE(c.Receive(&refused));
  ExpectProblem(refused, 403, "permission-denied");
  EXPECT_FALSE(refused.keep_alive);
  EXPECT_TRUE(files().empty());
  EXPECT_EQ(Fetch("GET", "/hello").status, 200);
}

// An upload may take longer than request_timeout as long as no pause does.
TEST_P(ServerTest, AnUploadThatKeepsComingIsNotTimedOut) {
  options_.request_timeout = 1s;
  options_.upload_dir = (uploads_.path() / "incoming").string();
  StartServer();
  TestClient c;
  ASSERT_FALSE(c.Connect(server_->port()));
  ASSERT_FALSE(
      c.SendRaw("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
                "Content-Length: 10\r\n\r\n"));
  for (int i = 0; i < 10; ++i) {
    std::this_thread::sleep_for(150ms);
    ASSERT_FALSE(c.SendRaw("x"));
  }
  ClientResponse r;
  ASSERT_FALSE(c.Receive(&r));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Json(r.body)["bytes"], 10);
}

TEST_P(ServerTest, ShutdownSignalStopsTheServerOnSigterm) {
  StartServer();
  const uint16_t port = server_->port();
  ShutdownSignal signal;
  ASSERT_EQ(std::raise(SIGTERM), 0);  // caught and queued by ShutdownSignal
  EXPECT_EQ(signal.WaitThenShutdown(*server_, 5s), SIGTERM);
  server_->Wait();
  TestClient late;
  EXPECT_EQ(late.Connect(port), boost::asio::error::connection_refused);
}

TEST_P(ServerTest, StartAndCreateReportErrors) {
  StartServer();
  EXPECT_EQ(server_->Start().code(), StatusCode::kFailedPrecondition);
  ServerOptions taken = options_;
  taken.port = server_->port();
  auto other = Server::Create(taken, Router());
  ASSERT_TRUE(other.ok());
  Status s = (*other)->Start();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("cannot listen on 127.0.0.1:"), std::string::npos) << s.message();

  Router dup;
  ASSERT_TRUE(dup.Add("GET", "/healthz", "mine", [](Request&) { return Response(); }).ok());
  EXPECT_EQ(Server::Create(options_, std::move(dup)).status().code(), StatusCode::kAlreadyExists);
  ServerOptions bad = options_;
  bad.address = "localhost:80";
  EXPECT_EQ(Server::Create(bad, Router()).status().code(), StatusCode::kInvalidArgument);
  bad = options_;
  bad.tls = TlsFiles{"/nonexistent/cert.pem", "/nonexistent/key.pem"};
  auto no_tls = Server::Create(bad, Router());
  EXPECT_EQ(no_tls.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_tls.status().message().find("TLS certificate '/nonexistent/cert.pem'"),
            std::string::npos);
  bad = options_;
  bad.threads = -1;
  auto no_threads = Server::Create(bad, Router());
  EXPECT_EQ(no_threads.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(no_threads.status().message(), "threads must be >= 0");
  bad = options_;
  bad.handler_threads = -1;
  auto no_handlers = Server::Create(bad, Router());
  EXPECT_EQ(no_handlers.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(no_handlers.status().message(), "handler_threads must be >= 0");
}

INSTANTIATE_TEST_SUITE_P(HandlerThreads, ServerTest, ::testing::Values(0, 2),
                         [](const ::testing::TestParamInfo<int>& param) {
                           return param.param == 0 ? std::string("OnIoThreads")
                                                  : std::string("OnHandlerThreads");
                         });

}  // namespace
}  // namespace custodian::http
