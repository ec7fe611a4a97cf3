// The fixture the HTTP API tests share (http_api_test.cc, http_api_consent_test.cc,
// http_api_requests_test.cc, http_serve_test.cc): a `custodian serve` process
// on loopback with three tenants and a key per role, started once per test
// suite, and a fake Telnyx that signs webhooks. Not thread-safe; tests call it
// from their own thread.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sodium.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "audit_util.h"
#include "http/api.h"
#include "http/server.h"
#include "http/test_cert.h"
#include "http/test_client.h"
#include "outbox/test_sinks.h"
#include "run_util.h"
#include "service/vault.h"
#include "test_util.h"
#include "totp_util.h"

namespace custodian {

using http::testing::ClientResponse;
using http::testing::TestClient;
using nlohmann::json;
using testing_util::ReadFile;
using testing_util::RunCustodian;
using testing_util::RunOptions;
using testing_util::RunResult;
using testing_util::TempDir;

// `custodian serve` in the background; stderr (startup line and access log)
// goes to a file.

class ServerProcess {
 public:
  // `custodian COMMAND --data-dir D --listen 127.0.0.1:0 EXTRA...` (serve, or demo).
  ServerProcess(const std::string& data_dir, const std::string& log_path,
                std::vector<std::string> extra = {}, const std::string& command = "serve") {
    std::vector<std::string> args = {CUSTODIAN_BINARY, command,    "--data-dir",
                                     data_dir,         "--listen", "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    unsetenv("CUSTODIAN_MASTER_KEY");
    unsetenv("CUSTODIAN_DATA_DIR");
    if (posix_spawn(&pid_, CUSTODIAN_BINARY, &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    // Wait for "custodian: serving http(s)://127.0.0.1:PORT".
    const std::string marker = "://127.0.0.1:";
    for (int i = 0; i < 600 && pid_ > 0 && port_ == 0; ++i) {
      std::string log = ReadFile(log_path);
      auto at = log.find(marker, log.find("serving "));
      if (log.find("serving ") == std::string::npos) at = std::string::npos;
      if (at != std::string::npos && log.find(' ', at + marker.size()) != std::string::npos) {
        port_ = static_cast<uint16_t>(std::atoi(log.c_str() + at + marker.size()));
        break;
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~ServerProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  uint16_t port() const { return port_; }
  // SIGTERM, then the exit code (or 128 + signal).
  int Terminate() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

inline std::string Policy(const std::string& name) {
  return std::string(CUSTODIAN_SOURCE_DIR) + "/examples/policies/" + name;
}

struct FakeTelnyx {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  FakeTelnyx() { crypto_sign_keypair(pk, sk); }
  static std::string B64(const unsigned char* p, std::size_t n) {
    std::string out(sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), p, n, sodium_base64_VARIANT_ORIGINAL);
    out.pop_back();  // the terminating NUL
    return out;
  }
  std::string PublicKey() const { return B64(pk, sizeof pk); }
  http::Headers Sign(const std::string& body, int64_t at_s = time(nullptr)) const {
    std::string message = std::to_string(at_s) + "|" + body;
    unsigned char sig[crypto_sign_BYTES];
    crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                         message.size(), sk);
    return {{"telnyx-signature-ed25519", B64(sig, sizeof sig)},
            {"telnyx-timestamp", std::to_string(at_s)}};
  }
  static std::string Event(const std::string& id, const std::string& from, const std::string& to,
                           const std::string& text, const std::string& type = "message.received") {
    return json{{"data",
                 {{"event_type", type},
                  {"id", id},
                  {"record_type", "event"},
                  {"payload",
                   {{"id", "msg-" + id},
                    {"type", "SMS"},
                    {"direction", "inbound"},
                    {"from", {{"phone_number", from}, {"carrier", "Airtel"}}},
                    {"to", {{{"phone_number", to}, {"status", "webhook_delivered"}}}},
                    {"text", text}}}}},
                {"meta", {{"attempt", 1}}}}
        .dump();
  }
};

class HttpApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    data_ = (dir_->path() / "data").string();
    log_ = (dir_->path() / "serve.log").string();
    Must({"init", "--data-dir", data_});
    Must(
        {"tenant", "create", "interjet", "--policy", Policy("interjet.yaml"), "--data-dir", data_});
    Must({"tenant", "create", "intnet", "--policy", Policy("intnet-iq.yaml"), "--data-dir", data_});
    Must({"tenant", "create", "acme", "--policy", Policy("interjet.yaml"), "--data-dir", data_});
    keys_ = new std::map<std::string, std::string>();
    for (const auto& [tenant, role] :
         std::vector<std::pair<std::string, std::string>>{{"interjet", "admin"},
                                                          {"interjet", "agent"},
                                                          {"interjet", "marketing"},
                                                          {"interjet", "analyst"},
                                                          {"interjet", "auditor"},
                                                          {"acme", "admin"},
                                                          {"acme", "agent"},
                                                          {"acme", "marketing"},
                                                          {"acme", "analyst"},
                                                          {"intnet", "admin"},
                                                          {"intnet", "agent"},
                                                          {"intnet", "auditor"}}) {
      json k = json::parse(
          Must({"apikey", "create", tenant, "--role", role, "--json", "--data-dir", data_}));
      (*keys_)[tenant + "/" + role] = k["key"];
    }
    // Group commit here (the TLS and SIGTERM tests below run without it).
    server_ = new ServerProcess(
        data_, log_,
        {"--call-purpose", "essential.service.call_matching", "--group-commit", "--threads", "4"});
  }
  static void TearDownTestSuite() {
    delete server_;
    delete keys_;
    delete dir_;
  }
  static std::string Must(const std::vector<std::string>& args) {
    RunResult r = RunCustodian(args);
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    return r.out;
  }
  void SetUp() override { ASSERT_NE(server_->port(), 0) << ReadFile(log_); }

  // One request on a fresh connection; `key` "" sends no credentials.
  ClientResponse Call(const std::string& method, const std::string& target, const std::string& key,
                      const std::string& body = "", http::Headers headers = {}) {
    TestClient c;
    EXPECT_FALSE(c.Connect(server_->port()));
    return c.Request(method, target, body, RequestHeaders(key, body, std::move(headers)));
  }
  // `headers` plus the key's Authorization (`key` "" adds none) and, for a
  // body without a Content-Type, application/json.
  static http::Headers RequestHeaders(const std::string& key, const std::string& body,
                                      http::Headers headers) {
    if (!key.empty()) headers.emplace_back("Authorization", "Bearer " + (*keys_)[key]);
    if (!body.empty() && std::none_of(headers.begin(), headers.end(), [](const auto& h) {
          return http::EqualsIgnoreCase(h.first, "Content-Type");
        })) {
      headers.emplace_back("Content-Type", "application/json");
    }
    return headers;
  }
  // The audit actor of an API key: "key:" and the key's id (cst_<id>_<secret>).
  static std::string ActorOf(const std::string& key) {
    const std::string& token = (*keys_)[key];
    const std::size_t start = token.find('_') + 1;
    return "key:" + token.substr(start, token.find('_', start) - start);
  }
  // How many refusals the audit trail of the key's tenant holds for the key.
  int RefusalsBy(const std::string& key) {
    const std::string admin = key.substr(0, key.find('/')) + "/admin";
    json page = Body(Call("GET", "/v1/audit?limit=1000&actor=" + ActorOf(key), admin));
    int n = 0;
    for (const json& e : page.value("events", json::array())) n += e["outcome"] == "refused";
    return n;
  }
  // The value of `category` in a Subject document, "" if absent.
  static std::string Field(const json& subject, const std::string& category) {
    for (const json& f : subject.value("fields", json::array())) {
      if (f["category"] == category) return f["value"];
    }
    return "";
  }
  static json Body(const ClientResponse& r) {
    json j = json::parse(r.body, nullptr, false);
    return j.is_discarded() ? json() : j;
  }
  // Sets `tenant`'s Telnyx channel: `telnyx`'s key, the API at `api_url`,
  // sending from +918040001000; and the public URL of links, when given.
  void SetTelnyx(const std::string& tenant, const FakeTelnyx& telnyx, const std::string& api_url,
                 const std::string& public_url = "") {
    json settings{{"telnyx",
                   {{"public_key", telnyx.PublicKey()},
                    {"api_key", "KEY-test"},
                    {"base_url", api_url},
                    {"from", "+918040001000"}}}};
    if (!public_url.empty()) settings["public_url"] = public_url;
    const std::string file = (dir_->path() / ("channels-" + tenant + ".json")).string();
    testing_util::WriteFile(file, settings.dump());
    Must({"channels", "set", tenant, file, "--data-dir", data_});
  }
  std::string AddAsha(const std::string& ext = "CUST-17") {
    auto r = Call("POST", "/v1/subjects", "interjet/admin",
                  json{{"fields",
                        {{"user.name", "Asha Rao"},
                         {"user.contact.phone_number", "088701 00100"},
                         {"user.contact.email", " Asha@Example.in "}}},
                       {"external_id", ext}}
                      .dump());
    EXPECT_TRUE(r.status == 201 || r.status == 200) << r.status << " " << r.body;
    return Body(r).value("id", "");
  }

  static inline TempDir* dir_ = nullptr;
  static inline std::string data_;
  static inline std::string log_;
  static inline std::map<std::string, std::string>* keys_ = nullptr;
  static inline ServerProcess* server_ = nullptr;
};

// The codes (`... code is NNNNNN ...`) of the messages the fake Telnyx API
// was given for `to`, in order.
inline std::vector<std::string> CodesSentTo(const outbox::testing::HttpSink& telnyx,
                                            const std::string& to) {
  std::vector<std::string> codes;
  for (const auto& r : telnyx.requests()) {
    json b = json::parse(r.body, nullptr, false);
    if (!b.is_object() || b.value("to", "") != to) continue;
    const std::string text = b.value("text", "");
    const std::size_t at = text.find("code is ");
    if (at != std::string::npos) codes.push_back(text.substr(at + 8, 6));
  }
  return codes;
}

// The code number `index` (from 0) sent to `to`, once the outbox has
// delivered it (waits up to 5 s); "" if it never came.
inline std::string WaitForCode(const outbox::testing::HttpSink& telnyx, const std::string& to,
                               std::size_t index = 0) {
  for (int i = 0; i < 500; ++i) {
    std::vector<std::string> codes = CodesSentTo(telnyx, to);
    if (codes.size() > index) return codes[index];
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return "";
}

// Telnyx signs `timestamp|body` with Ed25519; the test plays Telnyx.

}  // namespace custodian
