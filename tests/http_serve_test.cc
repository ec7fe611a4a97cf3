// `custodian serve` as a process, each test with its own data directory:
// large CSV uploads streamed to the import route, a locked-out sign-in (429
// with Retry-After), TLS with HSTS, and SIGTERM under load answering every
// request whole and exiting 0. The fixture: http_api_util.h.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "http_api_util.h"

namespace custodian {
namespace {

// A value as a query parameter: everything but unreserved characters escaped.
std::string QueryEscape(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

// A tenant and an admin and an agent key in a fresh data directory.
struct OneTenant {
  TempDir dir;
  std::string data = (dir.path() / "data").string();
  std::string log = (dir.path() / "serve.log").string();
  std::string admin, agent;
  OneTenant() {
    EXPECT_EQ(RunCustodian({"init", "--data-dir", data}).exit_code, 0);
    EXPECT_EQ(RunCustodian({"tenant", "create", "interjet", "--policy", Policy("interjet.yaml"),
                            "--data-dir", data})
                  .exit_code,
              0);
    for (auto [role, key] : {std::pair{"admin", &admin}, std::pair{"agent", &agent}}) {
      RunResult k = RunCustodian(
          {"apikey", "create", "interjet", "--role", role, "--json", "--data-dir", data});
      EXPECT_EQ(k.exit_code, 0) << k.Describe();
      *key = json::parse(k.out)["key"];
    }
  }
};

// Looks OneTenant's test number up with `key`.
ClientResponse LookupAsha(TestClient& c, const std::string& key) {
  return c.Request("POST", "/v1/subjects/lookup?purpose=essential.service",
                   json{{"phone", "+91 88701 00100"}}.dump(),
                   {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}});
}

// POST /v1/imports takes a CSV larger than the body limit as text/csv,
// streamed to a file under the data directory, up to its own limit; every
// other route, and the JSON form, keep the small one. An upload over the
// limit, or from a caller who may not import, leaves no file behind.
TEST(HttpServeTest, LargeCsvUploadsStreamToTheImportRoute) {
  OneTenant v;
  ServerProcess server(v.data, v.log, {"--max-body", "65536", "--max-upload", "1048576"});
  ASSERT_NE(server.port(), 0) << ReadFile(v.log);
  const std::filesystem::path uploads = std::filesystem::path(v.data) / "uploads";
  auto leftovers = [&] {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(uploads)) {
      if (e.is_regular_file()) out.push_back(e.path().string());
    }
    return out;
  };
  auto call = [&](const std::string& method, const std::string& target, const std::string& key,
                  std::string body, http::Headers headers) {
    TestClient c;
    EXPECT_FALSE(c.Connect(server.port()));
    if (!key.empty()) headers.emplace_back("Authorization", "Bearer " + key);
    return c.Request(method, target, std::move(body), headers);
  };
  const std::string mapping =
      "columns:\n  id: external_id\n  name: user.name\n  phone: user.contact.phone_number\n";
  const std::string target =
      "/v1/imports?kind=subjects&default_region=IN&mapping=" + QueryEscape(mapping);
  const http::Headers csv = {{"Content-Type", "text/csv"}};
  std::string rows = "id,name,phone\n";
  for (int i = 0; rows.size() <= 200'000; ++i) {
    rows += "BIG-" + std::to_string(i) + ",Customer " + std::to_string(i) + ",+91 98450 " +
            std::to_string(10000 + i) + "\n";
  }
  const int count = static_cast<int>(std::count(rows.begin(), rows.end(), '\n')) - 1;

  auto started = call("POST", target, v.admin, rows, csv);
  ASSERT_EQ(started.status, 202) << started.body;
  const std::string job = json::parse(started.body)["id"];
  json state;
  for (int i = 0; i < 600; ++i) {
    state = json::parse(call("GET", "/v1/imports/" + job, v.admin, "", {}).body);
    if (state["state"] != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(state["state"], "done") << state.dump();
  EXPECT_EQ(state["added"], count);
  EXPECT_EQ(state["rejected"], 0);
  EXPECT_TRUE(leftovers().empty());

  // The same bytes anywhere else: 413, a problem document.
  auto json_import = call("POST", "/v1/imports", v.admin,
                          json{{"kind", "subjects"}, {"mapping", mapping}, {"csv", rows}}.dump(),
                          {{"Content-Type", "application/json"}});
  EXPECT_EQ(json_import.status, 413);
  EXPECT_EQ(json_import.Header("Content-Type"), "application/problem+json");
  EXPECT_EQ(json::parse(json_import.body)["detail"], "the request body exceeds 65536 bytes");
  auto elsewhere = call("POST", "/v1/subjects", v.admin, rows, csv);
  EXPECT_EQ(elsewhere.status, 413);
  EXPECT_EQ(json::parse(elsewhere.body)["type"], "urn:custodian:problem:body-too-large");

  // Over --max-upload: 413, and no file stays behind.
  std::string huge = rows;
  while (huge.size() <= (1 << 20)) huge += rows.substr(14);
  auto over = call("POST", target, v.admin, huge, csv);
  EXPECT_EQ(over.status, 413);
  EXPECT_EQ(json::parse(over.body)["detail"], "the upload exceeds 1048576 bytes");
  TestClient chunked;
  ASSERT_FALSE(chunked.Connect(server.port()));
  std::string raw = "POST " + target + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + v.admin +
                    "\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (std::size_t at = 0; at < huge.size(); at += 0x10000) {
    std::string piece = huge.substr(at, 0x10000);
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
    raw += size + piece + "\r\n";
  }
  raw += "0\r\n\r\n";
  ASSERT_FALSE(chunked.SendRaw(raw));
  ClientResponse chunked_over;
  ASSERT_FALSE(chunked.Receive(&chunked_over));
  EXPECT_EQ(chunked_over.status, 413);
  EXPECT_TRUE(leftovers().empty());

  // Who may not import is refused before the upload is read.
  auto agent = call("POST", target, v.agent, rows, csv);
  EXPECT_EQ(agent.status, 403);
  EXPECT_EQ(json::parse(agent.body)["detail"], "importing needs role 'admin' (not 'agent')");
  auto nobody = call("POST", target, "", rows, csv);
  EXPECT_EQ(nobody.status, 401);
  auto bad = call("POST", "/v1/imports?kind=people&mapping=x", v.admin, rows, csv);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body)["detail"], "'kind' must be subjects or records");
  EXPECT_TRUE(leftovers().empty());
  EXPECT_EQ(server.Terminate(), 0);
}

// Sign-in lockouts are 429 with Retry-After (the lock's remaining time), for
// accounts that exist and accounts that do not alike.
// --backup-dir: the server makes the directory (0700) and reports its
// backups in /metrics (none yet: the first comes 60 s after the start,
// BackupScheduleTest covers the rounds); a directory it cannot make is
// refused before anything starts.
TEST(HttpServeTest, ScheduledBackupsNeedADirectoryTheServerCanMake) {
  OneTenant v;
  const std::string backups = (v.dir.path() / "backups").string();
  ServerProcess server(v.data, v.log, {"--backup-dir", backups, "--backup-every", "60"});
  ASSERT_NE(server.port(), 0) << ReadFile(v.log);
  struct stat st{};
  ASSERT_EQ(::stat(backups.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  TestClient c;
  ASSERT_FALSE(c.Connect(server.port()));
  auto metrics = c.Request("GET", "/metrics", "", {});
  EXPECT_NE(metrics.body.find("# TYPE custodian_backup_last_ok gauge"), std::string::npos)
      << metrics.body;
  EXPECT_EQ(server.Terminate(), 0);

  RunResult refused = RunCustodian({"serve", "--data-dir", v.data, "--listen", "127.0.0.1:0",
                                    "--backup-dir", "/no-such-dir-here/backups"});
  EXPECT_EQ(refused.exit_code, 1) << refused.Describe();
  EXPECT_NE(refused.err.find("--backup-dir: /no-such-dir-here/backups cannot be made: "
                             "/no-such-dir-here is not a directory"),
            std::string::npos)
      << refused.err;
}

TEST(HttpServeTest, LockedOutSignInIs429WithRetryAfter) {
  OneTenant v;
  RunOptions o;
  o.env.push_back({"CUSTODIAN_OPERATOR_PASSWORD", "correct horse battery staple"});
  RunResult added = RunCustodian({"operator", "add", "interjet", "ops@interjet.in", "--role",
                                  "admin", "--json", "--data-dir", v.data},
                                 o);
  ASSERT_EQ(added.exit_code, 0) << added.Describe();
  ServerProcess server(v.data, v.log);
  ASSERT_NE(server.port(), 0) << ReadFile(v.log);
  auto sign_in = [&](const std::string& email) {
    TestClient c;
    EXPECT_FALSE(c.Connect(server.port()));
    return c.Request("POST", "/v1/session",
                     json{{"tenant", "interjet"},
                          {"email", email},
                          {"password", "wrong horse battery staple"},
                          {"totp", "000000"}}
                         .dump(),
                     {{"Content-Type", "application/json"}});
  };
  for (int i = 0; i < 5; ++i) {
    auto r = sign_in("ops@interjet.in");
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_FALSE(r.HasHeader("Retry-After"));
  }
  for (const std::string email : {"ops@interjet.in", "ghost@interjet.in"}) {
    SCOPED_TRACE(email);
    auto locked = sign_in(email);
    EXPECT_EQ(locked.status, 429) << locked.body;
    EXPECT_EQ(locked.Header("Content-Type"), "application/problem+json");
    json p = json::parse(locked.body);
    EXPECT_EQ(p["type"], "urn:custodian:problem:too-many-requests");
    EXPECT_EQ(p["detail"], "too many failed sign-ins; try again later");
    const int wait = std::atoi(locked.Header("Retry-After").c_str());
    EXPECT_GT(wait, 800);  // 15 minutes, less the moments the test took
    EXPECT_LE(wait, 900);
    EXPECT_FALSE(locked.HasHeader("Set-Cookie"));
  }
  EXPECT_EQ(server.Terminate(), 0);
}

TEST(HttpServeTest, ServesTheApiOverTlsWithHsts) {
  TempDir dir;
  const std::string data = (dir.path() / "data").string();
  const std::string cert = (dir.path() / "cert.pem").string();
  const std::string key = (dir.path() / "key.pem").string();
  ASSERT_TRUE(http::testing::WriteSelfSigned(cert, key));
  ASSERT_EQ(RunCustodian({"init", "--data-dir", data}).exit_code, 0);
  ASSERT_EQ(RunCustodian({"tenant", "create", "interjet", "--policy", Policy("interjet.yaml"),
                          "--data-dir", data})
                .exit_code,
            0);
  RunResult k = RunCustodian(
      {"apikey", "create", "interjet", "--role", "admin", "--json", "--data-dir", data});
  ASSERT_EQ(k.exit_code, 0) << k.Describe();
  const std::string api_key = json::parse(k.out)["key"];
  const std::string log = (dir.path() / "serve.log").string();
  ServerProcess server(data, log, {"--tls-cert", cert, "--tls-key", key});
  ASSERT_NE(server.port(), 0) << ReadFile(log);
  EXPECT_NE(ReadFile(log).find("serving https://127.0.0.1:"), std::string::npos);

  TestClient c;
  ASSERT_FALSE(c.ConnectTls(server.port()));
  EXPECT_TRUE(c.TlsVersion() == "TLSv1.3" || c.TlsVersion() == "TLSv1.2") << c.TlsVersion();
  auto created =
      c.Request("POST", "/v1/subjects", json{{"fields", {{"user.name", "Asha Rao"}}}}.dump(),
                {{"Authorization", "Bearer " + api_key}, {"Content-Type", "application/json"}});
  EXPECT_EQ(created.status, 201) << created.body;
  EXPECT_NE(created.Header("Strict-Transport-Security"), "");
  // Plain HTTP to the TLS port gets no answer.
  TestClient plain(std::chrono::seconds(5));
  ASSERT_FALSE(plain.Connect(server.port()));
  boost::beast::error_code ec;
  auto r = plain.Request("GET", "/healthz", "", {}, &ec);
  EXPECT_TRUE(ec || r.status == 0);
  EXPECT_EQ(server.Terminate(), 0);
}

TEST(HttpServeTest, SigtermUnderLoadAnswersWholeAndExitsZero) {
  TempDir dir;
  const std::string data = (dir.path() / "data").string();
  const std::string log = (dir.path() / "serve.log").string();
  // No data directory yet: serve creates it and its master key, and says so.
  ServerProcess server(data, log, {"--no-access-log"});
  ASSERT_NE(server.port(), 0) << ReadFile(log);
  EXPECT_NE(ReadFile(log).find("created the data directory"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "data" / "master.key"));

  std::atomic<bool> stop{false};
  std::atomic<int> whole{0}, torn{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      while (!stop) {
        TestClient c(std::chrono::seconds(10));
        if (c.Connect(server.port())) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          continue;  // refused: the server stopped accepting
        }
        boost::beast::error_code ec;
        // /readyz runs on the I/O threads, /v1/policy (refused: no key) on
        // the handler threads.
        const bool pooled = (t + whole.load()) % 2 == 1;
        auto r = c.Request("GET", pooled ? "/v1/policy" : "/readyz", "", {}, &ec);
        if (pooled) {
          if (!ec && r.status == 401 && r.Header("Content-Type") == "application/problem+json" &&
              r.body.find(R"("status":401)") != std::string::npos) {
            ++whole;
          } else if (!ec) {
            ++torn;
          }
          continue;
        }
        if (!ec && r.status == 200 && r.body == R"({"status":"ready"})") {
          ++whole;
        } else if (!ec && r.status == 503 && r.Header("Retry-After") == "5" &&
                   r.body.find(R"("detail":"the server is shutting down")") != std::string::npos) {
          // In flight when SIGTERM came: readiness is over, said whole.
        } else if (!ec) {
          ++torn;  // an answer, but not a whole one
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int before = whole.load();
  EXPECT_EQ(server.Terminate(), 0);
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_GT(before, 0);
  EXPECT_EQ(torn.load(), 0);
  EXPECT_NE(ReadFile(log).find("stopped on signal"), std::string::npos);
}

// --api-key-rate: each key its own bucket; over it, 429 with Retry-After and
// a problem document, before the service is reached (no audit event); other
// keys, and the built-in routes, unaffected. Bad values are refused first.
TEST(HttpServeTest, AnApiKeyOverItsRateIs429WithRetryAfter) {
  OneTenant v;
  for (const char* bad : {"-1", "nan"}) {
    RunResult r = RunCustodian({"serve", "--data-dir", v.data, "--api-key-burst", bad});
    EXPECT_EQ(r.exit_code, 1) << r.Describe();
    EXPECT_NE(r.err.find("--api-key-burst must be a number, 0 or more (0: as many as the rate)"),
              std::string::npos)
        << r.err;
  }
  // One request every 1000 s (from the config file), two at once: the third
  // is refused for ~1000 s.
  const std::string config = (v.dir.path() / "serve.yaml").string();
  {
    std::ofstream out(config);
    out << "api_key_rate: 0.001\napi_key_burst: 5\n";
  }
  ServerProcess server(v.data, v.log, {"--config", config, "--api-key-burst", "2"});
  ASSERT_NE(server.port(), 0) << ReadFile(v.log);
  TestClient c;
  ASSERT_FALSE(c.Connect(server.port()));
  auto lookup = [&](const std::string& key) { return LookupAsha(c, key); };
  const std::string db = (std::filesystem::path(v.data) / "custodian.db").string();
  EXPECT_EQ(lookup(v.agent).status, 200);
  EXPECT_EQ(lookup(v.agent).status, 200);
  const std::size_t lookups = testing_util::AuditEvents(db, "lookup").size();
  EXPECT_EQ(lookups, 2u);
  auto limited = lookup(v.agent);
  EXPECT_EQ(limited.status, 429) << limited.body;
  EXPECT_EQ(limited.Header("Content-Type"), "application/problem+json");
  json p = json::parse(limited.body);
  EXPECT_EQ(p["type"], "urn:custodian:problem:too-many-requests");
  EXPECT_EQ(p["detail"],
            "this API key may send 0.001 requests a second (at most 2 at once); wait as long as "
            "Retry-After says");
  const int wait = std::atoi(limited.Header("Retry-After").c_str());
  EXPECT_GT(wait, 900);
  EXPECT_LE(wait, 1000);
  EXPECT_EQ(testing_util::AuditEvents(db, "lookup").size(), lookups);  // never reached
  EXPECT_EQ(lookup(v.admin).status, 200);  // another key, its own bucket
  EXPECT_EQ(c.Request("GET", "/healthz").status, 200);
  auto metrics = c.Request("GET", "/metrics");
  EXPECT_NE(metrics.body.find("custodian_refusals_total{reason=\"rate\"} 1"), std::string::npos)
      << metrics.body;
  EXPECT_EQ(server.Terminate(), 0);
}

// A key made with its own rate (`apikey create --rate R --burst B`) is held to
// it instead of the server's --api-key-rate; keys without one keep the
// server's. The CLI refuses a bad rate and makes no key; `apikey list` shows
// each key's rate.
TEST(HttpServeTest, AKeyWithItsOwnRateIsHeldToItInsteadOfTheServers) {
  OneTenant v;
  auto create = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"apikey", "create", "interjet", "--role", "agent",
                                     "--json", "--data-dir", v.data};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunCustodian(args);
  };
  for (auto [extra, error] : {
           std::pair<std::vector<std::string>, std::string>{
               {"--rate", "0"}, "a key's rate must be a number of requests a second above 0"},
           {{"--burst", "3"}, "a key's burst needs its rate: give both, or neither"},
           {{"--rate", "1", "--burst", "0"}, "a key's burst must be a number of requests, 1 or more"},
       }) {
    RunResult r = create(extra);
    EXPECT_EQ(r.exit_code, 1) << r.Describe();
    EXPECT_NE(r.err.find(error), std::string::npos) << r.err;
  }
  RunResult made = create({"--name", "crm", "--rate", "0.001", "--burst", "2"});
  ASSERT_EQ(made.exit_code, 0) << made.Describe();
  const std::string crm = json::parse(made.out)["key"];
  RunResult list = RunCustodian({"apikey", "list", "interjet", "--json", "--data-dir", v.data});
  ASSERT_EQ(list.exit_code, 0) << list.Describe();
  json keys = json::parse(list.out)["keys"];
  ASSERT_EQ(keys.size(), 3u);  // admin, agent, crm: none of the refused ones
  for (const json& k : keys) {
    if (k["name"] == "crm") {
      EXPECT_EQ(k["rate"], (json{{"per_second", 0.001}, {"burst", 2.0}}));
    } else {
      EXPECT_TRUE(k["rate"].is_null()) << k.dump();
    }
  }
  RunResult text = RunCustodian({"apikey", "list", "interjet", "--data-dir", v.data});
  EXPECT_NE(text.out.find("active, its own rate 0.001/s (burst 2)"), std::string::npos)
      << text.out;

  // The server's own limit is generous: only the crm key's is felt.
  ServerProcess server(v.data, v.log, {"--api-key-rate", "1000"});
  ASSERT_NE(server.port(), 0) << ReadFile(v.log);
  TestClient c;
  ASSERT_FALSE(c.Connect(server.port()));
  auto lookup = [&](const std::string& key) { return LookupAsha(c, key); };
  EXPECT_EQ(lookup(crm).status, 200);
  EXPECT_EQ(lookup(crm).status, 200);
  auto limited = lookup(crm);
  EXPECT_EQ(limited.status, 429) << limited.body;
  EXPECT_EQ(json::parse(limited.body)["detail"],
            "this API key may send 0.001 requests a second (at most 2 at once); wait as long as "
            "Retry-After says");
  const int wait = std::atoi(limited.Header("Retry-After").c_str());
  EXPECT_GT(wait, 900);
  EXPECT_LE(wait, 1000);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(lookup(v.agent).status, 200) << i;  // the server's rate
  EXPECT_EQ(server.Terminate(), 0);
}

// The thread options (and the probe cache's size): from the command line and
// the config file; a negative count is refused before anything starts.
TEST(HttpServeTest, ThreadOptionsComeFromTheCommandLineAndAYamlOrTomlConfig) {
  TempDir dir;
  const std::string data = (dir.path() / "data").string();
  for (const char* opt : {"--threads", "--io-threads"}) {
    RunResult r = RunCustodian({"serve", "--data-dir", data, opt, "-1"});
    EXPECT_EQ(r.exit_code, 1) << r.Describe();
    EXPECT_NE(r.err.find(std::string(opt) + " must be 0 or more (0: "), std::string::npos)
        << r.err;
  }
  {
    RunResult r = RunCustodian({"serve", "--data-dir", data, "--probe-cache", "-1"});
    EXPECT_EQ(r.exit_code, 1) << r.Describe();
    EXPECT_NE(r.err.find("--probe-cache must be 0 or more (0: remember none)"), std::string::npos)
        << r.err;
  }
  {  // from the config file: its line, and nothing created either
    const std::string bad = (dir.path() / "bad.yaml").string();
    std::ofstream(bad) << "threads: 2\nrequest_timeout_ms: 0\n";
    RunResult r = RunCustodian({"serve", "--data-dir", data, "--config", bad});
    EXPECT_EQ(r.exit_code, 1) << r.Describe();
    EXPECT_EQ(r.err, "custodian: --config: " + bad +
                         ":2: 'request_timeout_ms' must be 1 or more (milliseconds)\n");
  }
  EXPECT_FALSE(std::filesystem::exists(data));  // refused before creating anything
  const std::string config = (dir.path() / "serve.yaml").string();
  {
    std::ofstream out(config);
    out << "threads: 2\nio_threads: 3\nprobe_cache_entries: 1000\n";
  }
  const std::string log = (dir.path() / "serve.log").string();
  {
    ServerProcess server(data, log, {"--config", config, "--no-access-log"});
    ASSERT_NE(server.port(), 0) << ReadFile(log);
    TestClient c;
    ASSERT_FALSE(c.Connect(server.port()));
    EXPECT_EQ(c.Request("GET", "/healthz").status, 200);
    EXPECT_EQ(c.Request("GET", "/v1/policy").status, 401);  // a handler thread's answer
    EXPECT_EQ(server.Terminate(), 0);
  }
  // The same settings as TOML (a file named *.toml).
  const std::string toml = (dir.path() / "serve.toml").string();
  {
    std::ofstream out(toml);
    out << "threads = 2\nio_threads = 3\naccess_log = false\n";
  }
  {
    ServerProcess server(data, log, {"--config", toml});
    ASSERT_NE(server.port(), 0) << ReadFile(log);
    TestClient c;
    ASSERT_FALSE(c.Connect(server.port()));
    EXPECT_EQ(c.Request("GET", "/healthz").status, 200);
    EXPECT_EQ(server.Terminate(), 0);
    EXPECT_EQ(ReadFile(log).find("\"status\""), std::string::npos);  // access_log = false
  }
  // A TOML file's errors say where, as a YAML file's do, and nothing starts.
  for (auto [text, error] : {
           std::pair<std::string, std::string>{
               "threads = 2\nthreds = 3\n",
               ":2: unknown key 'threds'; expected data_dir, listen, tls.cert, tls.key, threads"},
           {"threads = \"many\"\n",
            ":1: 'threads' has a value of the wrong type (bad conversion); docs/cli.md shows each "
            "setting"},
           {"threads = 2\nlisten = \n", ":2:10: "},
       }) {
    {
      std::ofstream out(toml);
      out << text;
    }
    RunResult r = RunCustodian({"serve", "--config", toml, "--data-dir", data});
    EXPECT_EQ(r.exit_code, 1) << r.Describe();
    EXPECT_NE(r.err.find("--config: " + toml + error), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace custodian
