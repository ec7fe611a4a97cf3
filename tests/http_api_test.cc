// The HTTP API against a real `custodian serve` process on loopback: every
// authenticated route without credentials, with another tenant's key, with a
// role or purpose the policy refuses, and valid; bad bodies with their exact
// problem documents and no change; tenant isolation (another tenant's subject
// is 404, exactly like one that never existed); call matching; and SIGTERM
// under load ending with every answered request whole and exit code 0.
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
namespace {

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
  ServerProcess(const std::string& data_dir, const std::string& log_path,
                std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {CUSTODIAN_BINARY, "serve",    "--data-dir",
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

std::string Policy(const std::string& name) {
  return std::string(CUSTODIAN_SOURCE_DIR) + "/examples/policies/" + name;
}

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
    if (!key.empty()) headers.emplace_back("Authorization", "Bearer " + (*keys_)[key]);
    if (!body.empty() && std::none_of(headers.begin(), headers.end(), [](const auto& h) {
          return http::EqualsIgnoreCase(h.first, "Content-Type");
        })) {
      headers.emplace_back("Content-Type", "application/json");
    }
    return c.Request(method, target, body, headers);
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

  static TempDir* dir_;
  static std::string data_;
  static std::string log_;
  static std::map<std::string, std::string>* keys_;
  static ServerProcess* server_;
};

TempDir* HttpApiTest::dir_ = nullptr;
std::string HttpApiTest::data_;
std::string HttpApiTest::log_;
std::map<std::string, std::string>* HttpApiTest::keys_ = nullptr;
ServerProcess* HttpApiTest::server_ = nullptr;

// Every route the server answers, by name: RegisterApi's and the server's own.
std::set<std::string> AllRouteNames() {
  TempDir dir;
  const std::string data = (dir.path() / "data").string();
  EXPECT_TRUE(service::Vault::Init(data).ok());
  service::VaultOptions options;
  options.data_dir = data;
  auto vault = service::Vault::Open(options);
  EXPECT_TRUE(vault.ok()) << vault.status().ToString();
  if (!vault.ok()) return {};
  http::Router router;
  auto api = http::RegisterApi(router, **vault, {});
  EXPECT_TRUE(api.ok()) << api.status().ToString();
  std::set<std::string> names;
  for (const http::Route* r : router.routes()) names.insert(r->name);
  for (const http::BuiltinRoute& r : http::BuiltinRoutes()) names.insert(r.name);
  return names;
}

// Routes that take no API key or session, and what guards them instead.
const std::map<std::string, std::string> kPublicRoutes = {
    {"healthz", "liveness; says nothing"},
    {"readyz", "readiness; says nothing"},
    {"metrics", "counters without ids or personal values"},
    {"openapi", "the API's own description"},
    {"privacy_notice", "the tenant's published notice"},
    {"session_create", "signs in: the password and one-time code are the credential"},
    {"export_download", "the one-time download token of the link"},
    {"webhook_telnyx", "Telnyx's Ed25519 signature"},
    {"unsubscribe_page", "the link's signed token"},
    {"unsubscribe", "the link's signed token"},
    {"cookie_banner", "the public cookie banner script"},
    {"cookie_choice", "a visitor's own choice, from any site (CORS)"},
    {"cookie_choice_preflight", "CORS preflight"},
};

// Every authenticated route x (no credentials, another tenant's key, a role
// the rule refuses, a purpose the policy refuses where the route takes one,
// valid), with the exact status; every 403 is audited; another tenant's
// answer about an id is the answer about an id that never existed, and holds
// none of this tenant's values or ids. The test fails when a route is neither
// in the table nor a known public route.
TEST_F(HttpApiTest, EveryRouteChecksCredentialsTenantRoleAndPurpose) {
  // The table acts in a tenant of its own (Interjet's policy), so that what
  // its valid calls leave (queued messages, requests, imports) is no other
  // test's; Intnet is the other tenant.
  auto add = [&](const std::string& ext, const std::string& name, const std::string& phone,
                 json more = json::object()) {
    more["user.name"] = name;
    more["user.contact.phone_number"] = phone;
    auto r = Call("POST", "/v1/subjects", "acme/admin",
                  json{{"fields", more}, {"external_id", ext}}.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return Body(r).value("id", "");
  };
  const std::string id =
      add("CUST-17", "Asha Rao", "088701 00100", {{"user.contact.email", " Asha@Example.in "}});
  ASSERT_FALSE(id.empty());
  const std::string kavya = add("CUST-MATRIX", "Kavya Nair", "+91 98450 77701");
  const std::string to_close = add("CUST-MATRIX-CLOSE", "Rohan Das", "+91 98450 77702");
  const std::string to_erase = add("CUST-MATRIX-ERASE", "Farah Ali", "+91 98450 77703");
  auto record =
      Call("POST", "/v1/subjects/" + id + "/records", "acme/admin",
           json{{"kind", "media"}, {"at", "2025-03-01"}, {"data", {{"photo", "p1"}}}}.dump());
  ASSERT_EQ(record.status, 201) << record.body;
  const std::string rec = Body(record)["id"];
  auto request = Call("POST", "/v1/requests", "acme/admin",
                      json{{"type", "access"}, {"subject", kavya}}.dump());
  ASSERT_EQ(request.status, 201) << request.body;
  const std::string req = Body(request)["id"];
  auto message = Call("POST", "/v1/messages", "acme/admin",
                      json{{"channel", "sms"},
                           {"subject", kavya},
                           {"purpose", "essential.service.notifications"},
                           {"text", "Your router ships today"}}
                          .dump());
  ASSERT_EQ(message.status, 202) << message.body;
  const std::string msg = Body(message)["id"];
  const std::string visitor = "vmatrix0123456789abcdef";
  auto choice =
      Call("POST", "/v1/cookies/consents", "",
           json{{"tenant", "acme"},
                {"visitor", visitor},
                {"policy_version",
                 Body(Call("GET", "/v1/policy", "acme/admin"))["version"].get<std::string>()},
                {"choices", {{"analytics", true}}}}
               .dump());
  ASSERT_EQ(choice.status, 201) << choice.body;
  const json import = {{"kind", "subjects"},
                       {"mapping", "columns:\n  id: external_id\n  name: user.name\n"},
                       {"csv", "id,name\nMATRIX-IMP-1,Ravi Menon\nMATRIX-IMP-2,\n"}};
  auto started = Call("POST", "/v1/imports", "acme/admin", import.dump());
  ASSERT_EQ(started.status, 202) << started.body;
  const std::string job = Body(started)["id"];
  for (int i = 0; i < 200; ++i) {
    if (Body(Call("GET", "/v1/imports/" + job, "acme/admin"))["state"] != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // An operator session, for the one route only a session can call.
  RunOptions o;
  o.env.push_back({"CUSTODIAN_OPERATOR_PASSWORD", "matrix horse battery staple"});
  RunResult op = testing_util::RunCustodian({"operator", "add", "acme", "matrix@acme.in", "--role",
                                             "agent", "--json", "--data-dir", data_},
                                            o);
  ASSERT_EQ(op.exit_code, 0) << op.Describe();
  auto login = Call("POST", "/v1/session", "",
                    json{{"tenant", "acme"},
                         {"email", "matrix@acme.in"},
                         {"password", "matrix horse battery staple"},
                         {"totp", testing_util::TotpCode(json::parse(op.out)["totp_secret"],
                                                         int64_t{time(nullptr)} * 1000)}}
                        .dump());
  ASSERT_EQ(login.status, 201) << login.body;
  const http::Headers session = {
      {"Cookie", login.Header("Set-Cookie").substr(0, login.Header("Set-Cookie").find(';'))},
      {"X-CSRF-Token", Body(login)["csrf_token"]}};

  // The ids of this tenant, and ids of the same shape that never existed.
  const std::vector<std::pair<std::string, std::string>> ids = {
      {id, "sub_neverexisted0000000"},       {kavya, "sub_neverexisted0000001"},
      {to_close, "sub_neverexisted0000002"}, {to_erase, "sub_neverexisted0000003"},
      {rec, "rec_neverexisted0000000"},      {req, "req_neverexisted0000000"},
      {msg, "msg_neverexisted0000000"},      {job, "imp_neverexisted0000000"}};
  // Values of this tenant's subjects no other tenant's answer may hold.
  const std::vector<std::string> values = {"Asha",  "8870100100", "asha@example", "Kavya",
                                           "Rohan", "Farah",      "9845077",      "Ravi Menon"};

  constexpr int kNone = 0;  // no role is refused here: every role may
  struct Case {
    std::string route, method, target, body;
    int other_tenant;        // intnet/admin
    std::string wrong_role;  // a key whose role the rule refuses ("" when none is)
    int wrong_role_status;
    std::string purpose;  // the purpose the route is given ("" when it takes none)
    int valid;
    std::string valid_key = "acme/admin";  // "session": the operator session
  };
  const std::string lookup = json{{"phone", "+91 88701-00100"}}.dump();
  const std::string ess = "?purpose=essential.service";
  const std::vector<Case> cases = {
      // An API key has no session to end: 409 for any key.
      {"session_delete", "DELETE", "/v1/session", "", 409, "", kNone, "", 204, "session"},
      // Each tenant reads its own policy.
      {"policy_get", "GET", "/v1/policy", "", 200, "", kNone, "", 200},
      // Another tenant creates its own subject: the external id it names is
      // not matched across tenants (201, not 200).
      {"subject_create", "POST", "/v1/subjects",
       json{{"fields", {{"user.name", "Asha Rao"}}}, {"external_id", "CUST-17"}}.dump(), 201,
       "acme/analyst", 403, "", 200},
      {"subject_lookup", "POST", "/v1/subjects/lookup" + ess, lookup, 200, "acme/marketing", 403,
       "essential.service", 200},
      {"subject_get", "GET", "/v1/subjects/" + id + ess, "", 404, "acme/marketing", 403,
       "essential.service", 200},
      {"subject_update", "PATCH", "/v1/subjects/" + id,
       json{{"fields", {{"user.name", "Asha Rao"}}}}.dump(), 404, "acme/analyst", 403, "", 200},
      // Every role of Interjet's policy some purpose lists; Intnet's auditor none.
      {"subject_close", "POST", "/v1/subjects/" + to_close + "/close", "", 404, "intnet/auditor",
       403, "", 200},
      {"subject_erase", "DELETE", "/v1/subjects/" + to_erase, "", 404, "acme/agent", 403, "", 204},
      {"record_list", "GET", "/v1/subjects/" + id + "/records" + ess, "", 404, "acme/marketing",
       403, "essential.service", 200},
      // Intnet declares no billing kind: refused on the kind, before any subject is read.
      {"record_create", "POST", "/v1/subjects/" + id + "/records",
       json{{"kind", "billing"}, {"at", "2025-03-01"}, {"data", {{"amount", 1}}}}.dump(), 400,
       "acme/analyst", 403, "", 201},
      {"record_event", "POST", "/v1/records/" + rec + "/events", json{{"event", "verified"}}.dump(),
       404, "acme/analyst", 403, "", 200},
      // Another tenant's call matches nobody.
      {"call_match", "POST", "/v1/calls" + ess, json{{"caller", "+91 88701 00100"}}.dump(), 200,
       "acme/marketing", 403, "essential.service", 200},
      {"consent_list", "GET", "/v1/subjects/" + id + "/consents", "", 404, "intnet/auditor", 403,
       "", 200},
      {"consent_get", "GET", "/v1/subjects/" + id + "/consents/functional.service.improve", "", 404,
       "intnet/auditor", 403, "", 200},
      {"consent_put", "PUT", "/v1/subjects/" + id + "/consents/functional.service.improve",
       json{{"state", "not_objected"}}.dump(), 404, "intnet/auditor", 403, "", 200},
      // Visitors are per tenant: another tenant's list is empty.
      {"cookie_choices_get", "GET", "/v1/cookies/consents/" + visitor, "", 200, "intnet/auditor",
       403, "", 200},
      {"request_create", "POST", "/v1/requests",
       json{{"type", "grievance"}, {"subject", kavya}, {"details", "slow line"}}.dump(), 404,
       "intnet/auditor", 403, "", 201},
      {"request_list", "GET", "/v1/requests", "", 200, "intnet/auditor", 403, "", 200},
      {"request_get", "GET", "/v1/requests/" + req, "", 404, "intnet/auditor", 403, "", 200},
      {"request_code_send", "POST", "/v1/requests/" + req + "/code",
       json{{"channel", "sms"}}.dump(), 404, "intnet/auditor", 403, "", 202},
      // The valid call reaches the check: a wrong code is 422.
      {"request_code_check", "POST", "/v1/requests/" + req + "/verification",
       json{{"code", "12345x"}}.dump(), 404, "intnet/auditor", 403, "", 422},
      {"request_transition", "POST", "/v1/requests/" + req + "/transitions",
       json{{"action", "verify"}, {"reason", "ID checked at the store"}}.dump(), 404,
       "intnet/auditor", 403, "", 200},
      {"message_create", "POST", "/v1/messages",
       json{{"channel", "sms"},
            {"subject", kavya},
            {"purpose", "essential.service"},
            {"text", "Matrix check"}}
           .dump(),
       404, "acme/marketing", 403, "essential.service", 202},
      {"message_list", "GET", "/v1/messages", "", 200, "intnet/auditor", 403, "", 200},
      {"message_get", "GET", "/v1/messages/" + msg, "", 404, "intnet/auditor", 403, "", 200},
      // Another tenant's admin imports into its own tenant.
      // (Every row good: no rejects file is left behind.)
      {"import_create", "POST", "/v1/imports",
       json{{"kind", "subjects"},
            {"mapping", "columns:\n  id: external_id\n  name: user.name\n"},
            {"csv", "id,name\nMATRIX-IMP-3,Dev Patel\n"}}
           .dump(),
       202, "acme/agent", 403, "", 202},
      {"import_get", "GET", "/v1/imports/" + job, "", 404, "acme/agent", 403, "", 200},
      {"import_rejects", "GET", "/v1/imports/" + job + "/rejects", "", 404, "acme/agent", 403, "",
       200},
      {"audit_list", "GET", "/v1/audit?action=subject.add", "", 200, "acme/agent", 403, "", 200},
      // Intnet declares no such recipient: refused before any subject is read.
      {"disclosure_create", "POST", "/v1/disclosures",
       json{{"recipient", "payment_providers"},
            {"purpose", "essential.service.payment_processing"},
            {"categories", {"user.name"}},
            {"subjects", {id}}}
           .dump(),
       403, "acme/agent", 403, "essential.service.payment_processing", 201},
      // Auditors and every operational role may list disclosures.
      {"disclosure_list", "GET", "/v1/subjects/" + id + "/disclosures", "", 404, "", kNone, "",
       200},
  };

  // Exhaustive: every route is in the table or public, and nothing else is.
  std::set<std::string> in_table;
  for (const Case& c : cases) {
    EXPECT_TRUE(in_table.insert(c.route).second) << c.route << " is in the table twice";
  }
  const std::set<std::string> routes = AllRouteNames();
  for (const std::string& r : routes) {
    EXPECT_TRUE(in_table.count(r) || kPublicRoutes.count(r))
        << "route " << r << " is neither in this test's table nor a known public route";
  }
  for (const std::string& r : in_table) {
    EXPECT_TRUE(routes.count(r)) << r << " is in the table but is no route";
    EXPECT_FALSE(kPublicRoutes.count(r)) << r << " is in the table and listed as public";
  }
  for (const auto& [r, why] : kPublicRoutes) EXPECT_TRUE(routes.count(r)) << r << " is no route";

  auto twin = [&](std::string s) {
    for (const auto& [real, fake] : ids) {
      for (std::size_t at; (at = s.find(real)) != std::string::npos;)
        s.replace(at, real.size(), fake);
    }
    return s;
  };
  // A call with `key`: its status; a 403 is audited; a key of another tenant
  // learns nothing of this one's.
  auto check = [&](const Case& c, const std::string& key, const std::string& target,
                   const std::string& body, int want) {
    SCOPED_TRACE(key + " " + c.method + " " + target);
    const bool foreign = key.rfind("intnet/", 0) == 0;
    const int refusals = want == 403 ? RefusalsBy(key) : 0;
    auto r = Call(c.method, target, key, body);
    EXPECT_EQ(r.status, want) << r.body;
    if (want == 403) {
      EXPECT_EQ(Body(r)["type"], "urn:custodian:problem:permission-denied");
      EXPECT_EQ(RefusalsBy(key), refusals + 1) << "the refusal is not audited";
    }
    if (!foreign) return;
    for (const std::string& v : values) EXPECT_EQ(r.body.find(v), std::string::npos) << r.body;
    for (const auto& [real, fake] : ids) {
      if ((target + body).find(real) != std::string::npos) continue;  // echoes what was sent
      EXPECT_EQ(r.body.find(real), std::string::npos) << r.body;
    }
    // Not an existence oracle: the same answer as for ids that never existed.
    if (twin(target + body) == target + body || want / 100 == 2) return;
    auto never = Call(c.method, twin(target), key, twin(body));
    EXPECT_EQ(never.status, r.status);
    EXPECT_EQ(twin(Body(r).value("detail", "")), Body(never).value("detail", "")) << r.body;
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.route);
    auto none = Call(c.method, c.target, "", c.body);
    EXPECT_EQ(none.status, 401) << none.body;
    EXPECT_EQ(Body(none)["type"], "urn:custodian:problem:unauthenticated");
    EXPECT_EQ(none.Header("WWW-Authenticate"), "Bearer");
    check(c, "intnet/admin", c.target, c.body, c.other_tenant);
    if (!c.wrong_role.empty()) check(c, c.wrong_role, c.target, c.body, c.wrong_role_status);
    if (!c.purpose.empty()) {
      // An undeclared purpose, asked by a role that may use the route's.
      const std::string undeclared = "selling.data";
      check(c, "acme/admin",
            testing_util::ReplaceFirst(c.target, "purpose=" + c.purpose, "purpose=" + undeclared),
            testing_util::ReplaceFirst(c.body, "\"purpose\":\"" + c.purpose + "\"",
                                       "\"purpose\":\"" + undeclared + "\""),
            403);
    }
    auto ok = c.valid_key == "session" ? Call(c.method, c.target, "", c.body, session)
                                       : Call(c.method, c.target, c.valid_key, c.body);
    EXPECT_EQ(ok.status, c.valid) << ok.body;
  }

  // Another tenant's lookup finds nobody; the same subject id there is 404
  // with the same document as an id that never existed.
  const std::string support = "?purpose=essential.service.operations.support";
  auto other = Call("POST", "/v1/subjects/lookup?purpose=essential.service.call_matching",
                    "intnet/admin", lookup);
  EXPECT_EQ(Body(other)["matches"], json::array());
  auto theirs =
      Body(Call("GET", "/v1/subjects/" + id + "?purpose=essential.service", "intnet/admin"));
  auto never =
      Body(Call("GET", "/v1/subjects/sub_neverexisted?purpose=essential.service", "intnet/admin"));
  EXPECT_EQ(theirs["status"], 404);
  EXPECT_EQ(theirs["type"], never["type"]);
  EXPECT_EQ(theirs["title"], never["title"]);

  // The purpose check: undeclared, and declared but not the role's.
  auto undeclared = Call("GET", "/v1/subjects/" + id + "?purpose=selling.data", "acme/admin");
  EXPECT_EQ(undeclared.status, 403);
  EXPECT_EQ(Body(undeclared)["detail"],
            "purpose 'selling.data' is not declared in the policy (version " +
                Body(Call("GET", "/v1/policy", "acme/admin"))["version"].get<std::string>() +
                "); every read must name a declared purpose");
  auto not_theirs = Call("GET", "/v1/subjects/" + id, "acme/agent", "",
                         {{"X-Purpose", "essential.service.operations.kyc"}});
  EXPECT_EQ(not_theirs.status, 403);
  EXPECT_EQ(Body(not_theirs)["detail"],
            "role 'agent' may not use purpose 'essential.service.operations.kyc' (allowed roles: "
            "admin)");
  auto missing = Call("GET", "/v1/subjects/" + id, "acme/agent");
  EXPECT_EQ(missing.status, 400);
  // A read with a purpose returns only that purpose's categories.
  auto view = Body(Call("GET", "/v1/subjects/" + id + support, "acme/agent"));
  EXPECT_EQ(view["id"], id);
  ASSERT_TRUE(view["fields"].is_array());
  EXPECT_EQ(Field(view, "user.name"), "Asha Rao");
  EXPECT_EQ(Field(view, "user.contact.phone_number"), "+918870100100");
}

TEST_F(HttpApiTest, ConsentChoicesTakeEffectAtOnceOnReads) {
  const std::string id = AddAsha("CUST-CONSENT");
  const std::string consents = "/v1/subjects/" + id + "/consents/";
  const std::string marketing_read = "/v1/subjects/" + id + "?purpose=marketing.communications";
  EXPECT_EQ(Call("GET", marketing_read, "interjet/marketing").status, 403);

  auto granted =
      Call("PUT", consents + "marketing.communications", "interjet/agent",
           json{{"state", "granted"}, {"source", "portal"}, {"request_id", "r-1"}}.dump());
  ASSERT_EQ(granted.status, 200) << granted.body;
  EXPECT_EQ(Body(granted)["state"], "granted");
  EXPECT_EQ(Body(granted)["allowed"], true);
  EXPECT_EQ(Call("GET", marketing_read, "interjet/marketing").status, 200);

  auto withdrawn =
      Call("PUT", consents + "marketing.communications", "interjet/agent",
           json{{"state", "withdrawn"}, {"source", "sms"}, {"message_id", "m-9"}}.dump());
  ASSERT_EQ(withdrawn.status, 200) << withdrawn.body;
  auto refused = Call("GET", marketing_read, "interjet/marketing");
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(
      Body(refused)["detail"],
      "purpose 'marketing.communications' rests on consent, and the subject has not given it");

  auto one = Body(Call("GET", consents + "marketing.communications", "interjet/agent"));
  EXPECT_EQ(one["state"], "withdrawn");
  ASSERT_EQ(one["history"].size(), 2u);
  EXPECT_EQ(one["history"][0]["request_id"], "r-1");
  EXPECT_EQ(one["history"][1]["message_id"], "m-9");
  const std::string& agent_key = (*keys_)["interjet/agent"];  // cst_<id>_<secret>
  EXPECT_EQ(one["history"][1]["actor"], "key:" + agent_key.substr(4, agent_key.find('_', 4) - 4));
  auto all = Body(Call("GET", "/v1/subjects/" + id + "/consents", "interjet/agent"));
  EXPECT_EQ(all["subject"], id);
  EXPECT_EQ(all["history"].size(), 2u);

  // An objection closes a legitimate-interest purpose's reads.
  const std::string improve_read = "/v1/subjects/" + id + "?purpose=functional.service.improve";
  EXPECT_EQ(Call("GET", improve_read, "interjet/analyst").status, 200);
  ASSERT_EQ(Call("PUT", consents + "functional.service.improve", "interjet/agent",
                 json{{"state", "objected"}}.dump())
                .status,
            200);
  EXPECT_EQ(Call("GET", improve_read, "interjet/analyst").status, 403);

  // Bad choices: a precise problem, a pointer where the body is at fault, and
  // nothing recorded.
  struct Bad {
    std::string purpose, body;
    int status;
    std::string pointer, detail;
  } bad[] = {
      {"marketing.communications", json{{"source", "api"}}.dump(), 400, "/state",
       "missing field 'state'"},
      {"marketing.communications", json{{"state", "maybe"}}.dump(), 400, "/state",
       "state 'maybe' does not apply to purpose 'marketing.communications', which rests on "
       "consent; use 'granted' or 'withdrawn'"},
      {"marketing.communications", json{{"state", "granted"}, {"source", "fax"}}.dump(), 400,
       "/source",
       "consent source 'fax' is not known; use api, portal, operator, sms, whatsapp, email_link "
       "or import"},
      {"marketing.communications", json{{"state", 1}}.dump(), 400, "/state",
       "'state' must be a string"},
      {"marketing.communications", json{{"state", "granted"}, {"by", "x"}}.dump(), 400, "/by",
       "unknown field 'by'; expected state, source, at, message_id, request_id"},
      {"essential.service", json{{"state", "withdrawn"}}.dump(), 400, "",
       "purpose 'essential.service' rests on contract, not on consent or legitimate interest, so "
       "there is no choice to record; a person who disagrees can ask for erasure or restriction "
       "instead"},
  };
  for (const Bad& b : bad) {
    SCOPED_TRACE(b.body);
    auto r = Call("PUT", consents + b.purpose, "interjet/agent", b.body);
    EXPECT_EQ(r.status, b.status) << r.body;
    json p = Body(r);
    EXPECT_EQ(p["detail"], b.detail);
    if (b.pointer.empty()) {
      EXPECT_FALSE(p.contains("pointer")) << r.body;
    } else {
      EXPECT_EQ(p["pointer"], b.pointer) << r.body;
    }
  }
  auto contract = Call("GET", consents + "essential.service", "interjet/agent");
  EXPECT_EQ(contract.status, 404);
  EXPECT_EQ(
      Body(Call("GET", "/v1/subjects/" + id + "/consents", "interjet/agent"))["history"].size(),
      3u);
}

// Telnyx signs `timestamp|body` with Ed25519; the test plays Telnyx.
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

TEST_F(HttpApiTest, TelnyxStopAndEmailUnsubscribeWithdrawConsent) {
  const std::string id = AddAsha("CUST-CHANNELS");
  const std::string consent = "/v1/subjects/" + id + "/consents/marketing.communications";
  auto state = [&] { return Body(Call("GET", consent, "interjet/agent"))["state"]; };
  FakeTelnyx telnyx;
  outbox::testing::HttpSink telnyx_api({{200, R"({"data":{"id":"tlx-reply"}})"}});
  const std::string settings = (dir_->path() / "channels.json").string();
  testing_util::WriteFile(settings, json{{"public_url", "https://privacy.interjet.example"},
                                         {"telnyx",
                                          {{"public_key", telnyx.PublicKey()},
                                           {"api_key", "KEY-test"},
                                           {"base_url", telnyx_api.url()},
                                           {"from", "+918040001000"}}}}
                                        .dump());
  Must({"channels", "set", "interjet", settings, "--data-dir", data_});
  ASSERT_EQ(Call("PUT", consent, "interjet/agent", json{{"state", "granted"}}.dump()).status, 200);

  const std::string stop =
      FakeTelnyx::Event("evt-stop-1", "+91 88701 00100", "+918040001000", "Stop");
  auto applied = Call("POST", "/v1/webhooks/telnyx", "", stop, telnyx.Sign(stop));
  ASSERT_EQ(applied.status, 200) << applied.body;
  EXPECT_EQ(Body(applied), json::parse(R"({"status":"applied","keyword":"stop",
                            "purposes":["marketing.communications"]})"));
  EXPECT_EQ(state(), "withdrawn");
  // Telnyx retries: the same event again changes nothing.
  auto replay = Call("POST", "/v1/webhooks/telnyx", "", stop, telnyx.Sign(stop));
  EXPECT_EQ(Body(replay)["status"], "duplicate");
  // A stranger's STOP gets exactly the same answer.
  const std::string stranger =
      FakeTelnyx::Event("evt-stop-2", "+919999900000", "+918040001000", "STOP");
  auto unknown = Call("POST", "/v1/webhooks/telnyx", "", stranger, telnyx.Sign(stranger));
  EXPECT_EQ(Body(unknown), Body(applied));
  // Both senders get the confirmation through the outbox, from the tenant's number.
  for (int i = 0; i < 500 && telnyx_api.requests().size() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto replies = telnyx_api.requests();
  ASSERT_EQ(replies.size(), 2u);
  std::set<std::string> recipients;
  for (const auto& r : replies) {
    json b = json::parse(r.body);
    recipients.insert(b["to"]);
    EXPECT_EQ(b["from"], "+918040001000");
    EXPECT_EQ(b["text"],
              "Interjet: you will get no more offers on this number. Reply START to get them "
              "again.");
  }
  EXPECT_EQ(recipients, (std::set<std::string>{"+918870100100", "+919999900000"}));

  // Refusals: forged, stale, unknown receiving number, malformed, other events.
  const std::string start =
      FakeTelnyx::Event("evt-start-1", "+918870100100", "+918040001000", "START");
  FakeTelnyx impostor;
  auto forged = Call("POST", "/v1/webhooks/telnyx", "", start, impostor.Sign(start));
  EXPECT_EQ(forged.status, 401);
  EXPECT_EQ(Body(forged)["detail"], "signature does not match the body");
  auto stale =
      Call("POST", "/v1/webhooks/telnyx", "", start, telnyx.Sign(start, time(nullptr) - 600));
  EXPECT_EQ(stale.status, 401);
  EXPECT_NE(Body(stale)["detail"].get<std::string>().find("a replayed or delayed webhook"),
            std::string::npos);
  auto unsigned_start = Call("POST", "/v1/webhooks/telnyx", "", start);
  EXPECT_EQ(unsigned_start.status, 401);
  EXPECT_EQ(state(), "withdrawn");
  const std::string elsewhere =
      FakeTelnyx::Event("evt-x", "+918870100100", "+914400000000", "START");
  EXPECT_EQ(Call("POST", "/v1/webhooks/telnyx", "", elsewhere, telnyx.Sign(elsewhere)).status, 404);
  auto malformed = Call("POST", "/v1/webhooks/telnyx", "", R"({"data": {"event_type": 7}})");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(Body(malformed)["pointer"], "/data/event_type");
  const std::string sent =
      FakeTelnyx::Event("evt-s", "+918040001000", "+918870100100", "hi", "message.sent");
  EXPECT_EQ(Body(Call("POST", "/v1/webhooks/telnyx", "", sent, telnyx.Sign(sent)))["status"],
            "ignored");
  auto audit = testing_util::AuditEvents((dir_->path() / "data" / "custodian.db").string(),
                                         "webhook.telnyx");
  EXPECT_EQ(audit.size(), 3u);  // forged, stale, unsigned

  auto ok = Call("POST", "/v1/webhooks/telnyx", "", start, telnyx.Sign(start));
  EXPECT_EQ(Body(ok)["keyword"], "start");
  EXPECT_EQ(state(), "granted");

  // Email: the signed link shows a page; only its button (a POST) unsubscribes.
  std::string url =
      Must({"consent", "link", "interjet", id, "marketing.communications", "--data-dir", data_});
  ASSERT_EQ(url.rfind("https://privacy.interjet.example/v1/unsubscribe?token=", 0), 0u) << url;
  std::string path = url.substr(url.find("/v1/"));
  path.pop_back();  // the newline
  auto page = Call("GET", path, "");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<form method=\"post\""), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("Special offers via WhatsApp, SMS or email"), std::string::npos);
  EXPECT_EQ(state(), "granted");
  auto one_click = Call("POST", path, "", "List-Unsubscribe=One-Click",
                        {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(one_click.status, 200) << one_click.body;
  EXPECT_NE(one_click.body.find("You are unsubscribed"), std::string::npos);
  EXPECT_EQ(state(), "withdrawn");
  auto history = Body(Call("GET", consent, "interjet/agent"))["history"];
  EXPECT_EQ(history.back()["source"], "email_link");
  std::string tampered = path;
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Call("POST", tampered, "").status, 400);
  EXPECT_EQ(Call("GET", "/v1/unsubscribe", "").status, 400);
}

TEST_F(HttpApiTest, MessagesAreQueuedOnlyWithConsentAndOnce) {
  const std::string id = AddAsha("CUST-MESSAGES");
  auto marketing = Call("POST", "/v1/messages", "interjet/marketing",
                        json{{"channel", "sms"},
                             {"subject", id},
                             {"purpose", "marketing.communications"},
                             {"text", "50% off!"}}
                            .dump());
  EXPECT_EQ(marketing.status, 403) << marketing.body;
  const std::string bill = json{
      {"channel", "sms"},
      {"subject", id},
      {"purpose", "essential.service.notifications"},
      {"text",
       "Your bill is ready"}}.dump();
  auto queued = Call("POST", "/v1/messages", "interjet/agent", bill,
                     {{"Idempotency-Key", "bill-2026-03-" + id}});
  ASSERT_EQ(queued.status, 202) << queued.body;
  json m = Body(queued);
  EXPECT_EQ(m["state"], "queued");
  EXPECT_EQ(m["subject"], id);
  EXPECT_EQ(m.find("text"), m.end());
  auto again = Call("POST", "/v1/messages", "interjet/agent", bill,
                    {{"Idempotency-Key", "bill-2026-03-" + id}});
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(Body(again)["id"], m["id"]);
  auto got = Call("GET", "/v1/messages/" + m["id"].get<std::string>(), "interjet/agent");
  EXPECT_EQ(got.status, 200);
  // The server's outbox worker may already be at it (no Telnyx settings here: dead).
  const std::set<std::string> states = {"queued", "sending", "sent", "dead"};
  EXPECT_TRUE(states.count(Body(got)["state"].get<std::string>())) << got.body;
  EXPECT_EQ(got.body.find("Your bill"), std::string::npos);
  EXPECT_EQ(Call("GET", "/v1/messages/" + m["id"].get<std::string>(), "intnet/admin").status, 404);
  auto list = Body(Call("GET", "/v1/messages?limit=5", "interjet/agent"));
  ASSERT_TRUE(list["messages"].is_array());
  EXPECT_EQ(list["messages"][0]["id"], m["id"]);

  auto bad = Call("POST", "/v1/messages", "interjet/agent",
                  json{{"channel", "fax"},
                       {"subject", id},
                       {"purpose", "essential.service.notifications"},
                       {"text", "x"}}
                      .dump());
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Body(bad)["pointer"], "/channel");
  auto missing = Call("POST", "/v1/messages", "interjet/agent",
                      json{{"channel", "sms"}, {"subject", id}, {"text", "x"}}.dump());
  EXPECT_EQ(Body(missing)["pointer"], "/purpose");
  EXPECT_EQ(Body(Call("GET", "/v1/messages?limit=5", "interjet/agent"))["messages"].size(),
            list["messages"].size());
}

TEST_F(HttpApiTest, CookieBannerAndChoicesFromAnotherOrigin) {
  auto js = Call("GET", "/v1/cookies/banner.js?tenant=interjet", "");
  ASSERT_EQ(js.status, 200) << js.body;
  EXPECT_EQ(js.Header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js.Header("Access-Control-Allow-Origin"), "*");
  EXPECT_NE(js.body.find(R"("id":"analytics","label":"Browsing experience and analytics")"),
            std::string::npos)
      << js.body.substr(js.body.size() - 600);
  EXPECT_NE(js.body.find(R"("required":true)"), std::string::npos);
  EXPECT_EQ(Call("GET", "/v1/cookies/banner.js?tenant=nosuch", "").status, 404);

  auto preflight =
      Call("OPTIONS", "/v1/cookies/consents", "", "",
           {{"Origin", "https://www.interjet.example"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(preflight.status, 204);
  EXPECT_EQ(preflight.Header("Access-Control-Allow-Methods"), "POST");

  const std::string version =
      Body(Call("GET", "/v1/policy", "interjet/admin"))["version"].get<std::string>();
  const std::string visitor = "v0123456789abcdef0123";
  auto chosen = Call("POST", "/v1/cookies/consents", "",
                     json{{"tenant", "interjet"},
                          {"visitor", visitor},
                          {"policy_version", version},
                          {"choices", {{"analytics", false}}}}
                         .dump(),
                     {{"Origin", "https://www.interjet.example"}});
  ASSERT_EQ(chosen.status, 201) << chosen.body;
  EXPECT_EQ(chosen.Header("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(Body(chosen)["choices"],
            json::parse(R"({"strictly_necessary": true, "analytics": false})"));

  struct Bad {
    json body;
    int status;
    std::string pointer;
  } bad[] = {
      {{{"tenant", "interjet"},
        {"visitor", "short"},
        {"policy_version", version},
        {"choices", json::object()}},
       400,
       "/visitor"},
      {{{"tenant", "interjet"},
        {"visitor", visitor},
        {"policy_version", "1999.1"},
        {"choices", json::object()}},
       409,
       "/policy_version"},
      {{{"tenant", "interjet"},
        {"visitor", visitor},
        {"policy_version", version},
        {"choices", {{"tracking", true}}}},
       400,
       "/choices"},
      {{{"tenant", "interjet"},
        {"visitor", visitor},
        {"policy_version", version},
        {"choices", {{"analytics", "yes"}}}},
       400,
       "/choices/analytics"},
  };
  for (const Bad& b : bad) {
    auto r = Call("POST", "/v1/cookies/consents", "", b.body.dump());
    EXPECT_EQ(r.status, b.status) << r.body;
    EXPECT_EQ(Body(r)["pointer"], b.pointer) << r.body;
  }
  auto evidence = Call("GET", "/v1/cookies/consents/" + visitor, "interjet/agent");
  ASSERT_EQ(evidence.status, 200);
  ASSERT_EQ(Body(evidence)["choices"].size(), 1u);
  EXPECT_EQ(Body(evidence)["choices"][0]["choices"]["analytics"], false);
  EXPECT_EQ(Body(Call("GET", "/v1/cookies/consents/" + visitor, "intnet/admin"))["choices"].size(),
            0u);
}

TEST_F(HttpApiTest, RequestsAreRecordedWithADueDateAndMovedAlong) {
  auto added = Call(
      "POST", "/v1/subjects", "interjet/admin",
      json{{"fields", {{"user.name", "Ravi Kumar"}, {"user.contact.phone_number", "98450 55501"}}},
           {"external_id", "CUST-REQUESTS"}}
          .dump());
  const std::string id = Body(added).value("id", "");
  ASSERT_FALSE(id.empty()) << added.body;
  auto created =
      Call("POST", "/v1/requests", "interjet/agent",
           json{{"type", "erasure"}, {"subject", id}, {"details", "delete my data"}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  json r = Body(created);
  EXPECT_EQ(r["state"], "verifying");
  EXPECT_EQ(r["overdue"], false);
  const std::string path = "/v1/requests/" + r["id"].get<std::string>();
  auto early =
      Call("POST", path + "/transitions", "interjet/agent", json{{"action", "complete"}}.dump());
  EXPECT_EQ(early.status, 409) << early.body;
  auto no_reason =
      Call("POST", path + "/transitions", "interjet/agent", json{{"action", "verify"}}.dump());
  EXPECT_EQ(no_reason.status, 400);
  EXPECT_EQ(Body(no_reason)["pointer"], "/reason");
  auto bad_action =
      Call("POST", path + "/transitions", "interjet/agent", json{{"action", "approve"}}.dump());
  EXPECT_EQ(Body(bad_action)["pointer"], "/action");
  // India's law allows no extension.
  auto extend = Call("POST", path + "/transitions", "interjet/agent",
                     json{{"action", "extend"}, {"reason", "many records"}}.dump());
  EXPECT_EQ(extend.status, 409) << extend.body;
  auto verified = Call("POST", path + "/transitions", "interjet/agent",
                       json{{"action", "verify"}, {"reason", "ID at the store"}}.dump());
  ASSERT_EQ(verified.status, 200) << verified.body;
  EXPECT_EQ(Body(verified)["state"], "verified");
  EXPECT_EQ(Body(Call("GET", path, "interjet/agent"))["resolution"], "ID at the store");
  EXPECT_EQ(Call("GET", path, "intnet/admin").status, 404);
  auto open = Body(Call("GET", "/v1/requests?open=true", "interjet/agent"));
  bool listed = false;
  for (const json& q : open["requests"]) listed = listed || q["id"] == r["id"];
  EXPECT_TRUE(listed);
  EXPECT_EQ(Call("GET", "/v1/requests?overdue=maybe", "interjet/agent").status, 400);
  // The call flag counts it.
  auto call = Body(Call("POST", "/v1/calls?purpose=essential.service.operations.support",
                        "interjet/agent", json{{"caller", "+91 98450 55501"}}.dump()));
  EXPECT_EQ(call["flags"]["open_requests"], 1) << call.dump();
  // /metrics counts open and overdue requests per tenant at scrape time.
  auto metrics = Call("GET", "/metrics", "");
  EXPECT_NE(metrics.body.find("custodian_requests_open{tenant=\"interjet\"} "), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("custodian_requests_overdue{tenant=\"interjet\"} 0\n"),
            std::string::npos);
}

// The role is checked before the body's values: a role the rule refuses gets
// an audited 403 whatever the request or consent change it sends, and nothing
// changes. (The body's shape - JSON, types, unknown fields - is checked first
// on every route; what it says is the service's to judge, after the role.)
TEST_F(HttpApiTest, ARefusedRoleWithABadBodyIsRefusedAuditedAndChangesNothing) {
  auto added = Call("POST", "/v1/subjects", "intnet/admin",
                    json{{"fields", {{"user.name", "Meera Iyer"}}}, {"external_id", "CUST-ORDER"}}
                        .dump());
  const std::string id = Body(added).value("id", "");
  ASSERT_FALSE(id.empty()) << added.body;
  const std::string consent = "/v1/subjects/" + id + "/consents/functional.service.improve";
  auto events = [&](const std::string& key, const std::string& action) {
    return Body(Call("GET", "/v1/audit?limit=1000&action=" + action + "&actor=" + ActorOf(key),
                     "intnet/admin"))
        .value("events", json::array());
  };
  const std::size_t requests_before =
      Body(Call("GET", "/v1/requests", "intnet/admin"))["requests"].size();
  const json consent_before = Body(Call("GET", consent, "intnet/admin"));
  ASSERT_EQ(consent_before["state"], "not_objected") << consent_before.dump();

  struct Case {
    std::string method, target, body, action;
  };
  const std::vector<Case> cases = {
      // An unknown type, and a type with a detail too long.
      {"POST", "/v1/requests", json{{"type", "telepathy"}, {"subject", id}}.dump(),
       "request.submit"},
      {"POST", "/v1/requests",
       json{{"type", "grievance"}, {"subject", id}, {"details", std::string(9000, 'x')}}.dump(),
       "request.submit"},
      // A state that does not apply to a legitimate-interest purpose, an unknown source.
      {"PUT", consent, json{{"state", "granted"}}.dump(), "consent.record"},
      {"PUT", consent, json{{"state", "objected"}, {"source", "carrier pigeon"}}.dump(),
       "consent.record"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.method + " " + c.body.substr(0, 60));
    // The same body from a role that may: 400, about the body.
    auto bad = Call(c.method, c.target, "intnet/admin", c.body);
    EXPECT_EQ(bad.status, 400) << bad.body;
    const std::size_t before = events("intnet/auditor", c.action).size();
    auto refused = Call(c.method, c.target, "intnet/auditor", c.body);
    EXPECT_EQ(refused.status, 403) << refused.body;
    EXPECT_EQ(Body(refused)["type"], "urn:custodian:problem:permission-denied");
    EXPECT_FALSE(Body(refused).contains("pointer"));
    json after = events("intnet/auditor", c.action);
    ASSERT_EQ(after.size(), before + 1) << "the refusal is not audited";
    EXPECT_EQ(after.back()["outcome"], "refused");
    EXPECT_EQ(after.back()["role"], "auditor");
  }
  EXPECT_EQ(Body(Call("GET", "/v1/requests", "intnet/admin"))["requests"].size(),
            requests_before);
  const json consent_after = Body(Call("GET", consent, "intnet/admin"));
  EXPECT_EQ(consent_after["state"], "not_objected");
  EXPECT_EQ(consent_after["history"], consent_before["history"]);
  // Allowed reads are audited too (request.read, with the count shown).
  const json reads = events("intnet/admin", "request.read");
  ASSERT_GE(reads.size(), 2u);
  EXPECT_EQ(reads.back()["outcome"], "ok");
  EXPECT_EQ(reads.back()["count"], static_cast<int64_t>(requests_before));
}

TEST_F(HttpApiTest, AnAccessRequestGivesAOneTimeExportLink) {
  auto added = Call(
      "POST", "/v1/subjects", "interjet/admin",
      json{{"fields", {{"user.name", "Kavya Menon"}, {"user.contact.phone_number", "98450 55503"}}},
           {"external_id", "CUST-EXPORT"}}
          .dump());
  const std::string id = Body(added).value("id", "");
  ASSERT_FALSE(id.empty()) << added.body;
  // Bad bodies point at the member at fault, and nothing is recorded.
  auto bad = Call("POST", "/v1/requests", "interjet/agent",
                  json{{"type", "objection"}, {"subject", id}}.dump());
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Body(bad)["pointer"], "/purpose") << bad.body;
  auto bad_correction = Call("POST", "/v1/requests", "interjet/agent",
                             json{{"type", "correction"},
                                  {"subject", id},
                                  {"corrections", {{"user.nickname", "KM"}}}}
                                 .dump());
  EXPECT_EQ(bad_correction.status, 400);
  EXPECT_EQ(Body(bad_correction)["pointer"], "/corrections/user.nickname") << bad_correction.body;
  const json listed = Body(Call("GET", "/v1/requests", "interjet/agent"));
  for (const json& q : listed["requests"]) {
    EXPECT_NE(q["subject"], id) << "a refused request was recorded";
  }

  auto created = Call("POST", "/v1/requests", "interjet/agent",
                      json{{"type", "access"}, {"subject", id}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string path = "/v1/requests/" + Body(created)["id"].get<std::string>();
  // Verified by hand, the access request is carried out at once.
  auto verified = Call("POST", path + "/transitions", "interjet/agent",
                       json{{"action", "verify"}, {"reason", "ID at the store"}}.dump());
  ASSERT_EQ(verified.status, 200) << verified.body;
  json r = Body(verified);
  EXPECT_EQ(r["state"], "completed");
  const std::string token = r.value("download_token", "");
  ASSERT_FALSE(token.empty()) << verified.body;
  const std::string sha = r["evidence"]["export"]["sha256"];
  // The token is shown once.
  EXPECT_FALSE(Body(Call("GET", path, "interjet/agent")).contains("download_token"));
  auto wrong = Call("GET", "/v1/exports/interjet.exp_nosuch.abc", "");
  EXPECT_EQ(wrong.status, 404);
  auto zip = Call("GET", "/v1/exports/" + token, "");
  ASSERT_EQ(zip.status, 200) << zip.body;
  EXPECT_EQ(zip.body.substr(0, 2), "PK");
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(zip.body.data()),
                     zip.body.size());
  char hex[sizeof digest * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  EXPECT_EQ(sha, hex);
  auto again = Call("GET", "/v1/exports/" + token, "");
  EXPECT_EQ(again.status, 410) << again.body;
  EXPECT_NE(Body(again)["detail"].get<std::string>().find("already downloaded"),
            std::string::npos);
}

TEST_F(HttpApiTest, AVerificationCodeGoesToTheNumberOnFile) {
  auto added = Call(
      "POST", "/v1/subjects", "interjet/admin",
      json{{"fields", {{"user.name", "Meera Iyer"}, {"user.contact.phone_number", "98450 55502"}}},
           {"external_id", "CUST-OTP"}}
          .dump());
  const std::string id = Body(added).value("id", "");
  ASSERT_FALSE(id.empty()) << added.body;
  FakeTelnyx telnyx;
  outbox::testing::HttpSink telnyx_api({{200, R"({"data":{"id":"tlx-otp"}})"}});
  const std::string settings = (dir_->path() / "channels-otp.json").string();
  testing_util::WriteFile(settings, json{{"telnyx",
                                          {{"public_key", telnyx.PublicKey()},
                                           {"api_key", "KEY-test"},
                                           {"base_url", telnyx_api.url()},
                                           {"from", "+918040001000"}}}}
                                        .dump());
  Must({"channels", "set", "interjet", settings, "--data-dir", data_});
  auto request = Body(Call("POST", "/v1/requests", "interjet/agent",
                           json{{"type", "erasure"}, {"subject", id}}.dump()));
  const std::string path = "/v1/requests/" + request["id"].get<std::string>();
  auto sent = Call("POST", path + "/code", "interjet/agent", json{{"channel", "sms"}}.dump());
  ASSERT_EQ(sent.status, 202) << sent.body;
  EXPECT_EQ(sent.body.find("code is"), std::string::npos);
  std::string code;
  for (int i = 0; i < 500 && code.empty(); ++i) {
    for (const auto& r : telnyx_api.requests()) {
      json b = json::parse(r.body);
      std::string text = b["text"];
      if (b["to"] == "+919845055502" && text.find("code is ") != std::string::npos) {
        code = text.substr(text.find("code is ") + 8, 6);
      }
    }
    if (code.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(code.size(), 6u);
  auto wrong = Call("POST", path + "/verification", "interjet/agent",
                    json{{"code", code == "000000" ? "111111" : "000000"}}.dump());
  EXPECT_EQ(wrong.status, 422);
  EXPECT_EQ(Body(wrong)["detail"], "wrong or expired code (4 attempts left)");
  EXPECT_EQ(Body(wrong)["pointer"], "/code");
  auto right = Call("POST", path + "/verification", "interjet/agent", json{{"code", code}}.dump());
  ASSERT_EQ(right.status, 200) << right.body;
  EXPECT_EQ(Body(right)["state"], "verified");
  auto bad_channel =
      Call("POST", path + "/code", "interjet/agent", json{{"channel", "fax"}}.dump());
  EXPECT_EQ(bad_channel.status, 400);
  EXPECT_EQ(Body(bad_channel)["pointer"], "/channel");
  auto again = Call("POST", path + "/code", "interjet/agent", json{{"channel", "sms"}}.dump());
  EXPECT_EQ(again.status, 409);  // verified now: no code is needed
}

// Every request type, verified with the real code the outbox delivered to
// the number on file, carried out, with its effect visible over the API.
TEST_F(HttpApiTest, EveryRequestTypeEndToEndWithRealCodes) {
  auto added = Call("POST", "/v1/subjects", "interjet/admin",
                    json{{"fields",
                          {{"user.name", "Nila Das"},
                           {"user.contact.phone_number", "98450 55509"},
                           {"user.contact.address", "7 Beach Rd, Chennai"},
                           {"user.location.coarse", "Chennai"}}},
                         {"external_id", "CUST-ALLTYPES"}}
                        .dump());
  const std::string id = Body(added).value("id", "");
  ASSERT_FALSE(id.empty()) << added.body;
  ASSERT_EQ(Call("POST", "/v1/subjects/" + id + "/records", "interjet/admin",
                 json{{"kind", "billing"}, {"at", "2026-01-05"}, {"data", {{"invoice", "INV-77"}}}}
                     .dump())
                .status,
            201);
  FakeTelnyx telnyx;
  outbox::testing::HttpSink telnyx_api({{200, R"({"data":{"id":"tlx-all"}})"}});
  const std::string settings = (dir_->path() / "channels-all.json").string();
  testing_util::WriteFile(settings, json{{"telnyx",
                                          {{"public_key", telnyx.PublicKey()},
                                           {"api_key", "KEY-test"},
                                           {"base_url", telnyx_api.url()},
                                           {"from", "+918040001000"}}}}
                                        .dump());
  Must({"channels", "set", "interjet", settings, "--data-dir", data_});
  std::size_t codes_seen = 0;
  // The next code the sink received for the number on file.
  auto next_code = [&]() {
    for (int i = 0; i < 500; ++i) {
      std::vector<std::string> codes;
      for (const auto& r : telnyx_api.requests()) {
        json b = json::parse(r.body);
        std::string text = b["text"];
        if (b["to"] == "+919845055509" && text.find("code is ") != std::string::npos) {
          codes.push_back(text.substr(text.find("code is ") + 8, 6));
        }
      }
      if (codes.size() > codes_seen) return codes[codes_seen++];
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return std::string();
  };
  struct Step {
    json body;
    bool operator_completes;
  };
  const std::vector<Step> steps = {
      {{{"type", "access"}}, false},
      {{{"type", "portability"}}, false},
      {{{"type", "correction"}, {"corrections", {{"user.contact.address", "9 Hill Rd, Chennai"}}}},
       true},
      {{{"type", "objection"}, {"purpose", "functional.service.improve"}}, false},
      {{{"type", "consent_withdrawal"}}, false},
      {{{"type", "grievance"}, {"details", "the installer was late"}}, true},
      {{{"type", "restriction"}}, false},
      {{{"type", "erasure"}}, true},
  };
  for (const Step& step : steps) {
    const std::string type = step.body["type"];
    json body = step.body;
    body["subject"] = id;
    auto created = Call("POST", "/v1/requests", "interjet/agent", body.dump());
    ASSERT_EQ(created.status, 201) << type << ": " << created.body;
    const std::string path = "/v1/requests/" + Body(created)["id"].get<std::string>();
    ASSERT_EQ(Call("POST", path + "/code", "interjet/agent", json{{"channel", "sms"}}.dump()).status,
              202)
        << type;
    const std::string code = next_code();
    ASSERT_EQ(code.size(), 6u) << type;
    auto verified =
        Call("POST", path + "/verification", "interjet/agent", json{{"code", code}}.dump());
    ASSERT_EQ(verified.status, 200) << type << ": " << verified.body;
    json r = Body(verified);
    if (step.operator_completes) {
      EXPECT_EQ(r["state"], "verified") << type;
      json action = {{"action", "complete"}};
      if (type == "grievance") action["reason"] = "We spoke to the installer; sorry.";
      auto done = Call("POST", path + "/transitions", "interjet/agent", action.dump());
      ASSERT_EQ(done.status, 200) << type << ": " << done.body;
      r = Body(done);
    }
    EXPECT_EQ(r["state"], "completed") << type << ": " << r.dump();
    ASSERT_TRUE(r["evidence"].is_object()) << type;
    EXPECT_FALSE(r["evidence"]["notices"].empty()) << type << ": the person is told";
    if (type == "access" || type == "portability") {
      auto zip = Call("GET", "/v1/exports/" + r["download_token"].get<std::string>(), "");
      EXPECT_EQ(zip.status, 200) << type;
      EXPECT_NE(zip.body.find(type == "portability" ? "portable.csv" : "subject.json"),
                std::string::npos);
    } else if (type == "correction") {
      auto shown = Body(Call("GET", "/v1/subjects/" + id + "?purpose=essential.service",
                             "interjet/agent"));
      EXPECT_NE(shown.dump().find("9 Hill Rd, Chennai"), std::string::npos) << shown.dump();
    } else if (type == "objection") {
      auto ledger =
          Body(Call("GET", "/v1/subjects/" + id + "/consents/functional.service.improve",
                    "interjet/agent"));
      EXPECT_EQ(ledger["state"], "objected") << ledger.dump();
    } else if (type == "restriction") {
      auto refused =
          Call("GET", "/v1/subjects/" + id + "?purpose=essential.service", "interjet/agent");
      EXPECT_EQ(refused.status, 403) << refused.body;
    } else if (type == "erasure") {
      EXPECT_EQ(r["evidence"]["kept"][0]["item"], "records:billing") << r.dump();
      auto records = Body(Call("GET",
                               "/v1/subjects/" + id + "/records?purpose=essential.legal_obligation",
                               "interjet/admin"));
      EXPECT_EQ(records["records"].size(), 1u) << records.dump();
    }
  }
}

TEST_F(HttpApiTest, BadBodiesGetPreciseProblemsAndChangeNothing) {
  const std::string id = AddAsha("CUST-BAD");
  auto before = Body(Call("POST", "/v1/subjects/lookup?purpose=essential.service", "interjet/admin",
                          json{{"external_id", "CUST-BAD"}}.dump()));
  ASSERT_EQ(before["matches"].size(), 1u);
  const std::string target = "/v1/subjects/" + id;
  struct Case {
    std::string name, body;
    http::Headers headers;
    int status;
    std::string type, detail;
    std::optional<std::string> pointer;
    bool create = false;  // POST /v1/subjects instead of PATCH on the subject
  };
  const std::vector<Case> cases = {
      {"invalid JSON",
       "{\"fields\": ",
       {},
       400,
       "invalid-argument",
       "the body is not valid JSON",
       ""},
      {"not an object", "[1]", {}, 400, "invalid-argument", "the body must be a JSON object", ""},
      {"wrong type",
       R"({"fields": {"user.name": 7}})",
       {},
       400,
       "invalid-argument",
       "the value of 'user.name' must be a string",
       "/fields/user.name"},
      {"unknown field",
       R"({"fields": {"user.name": "A"}, "colour": "red"})",
       {},
       400,
       "invalid-argument",
       "unknown field 'colour'; expected fields",
       "/colour"},
      {"undeclared category",
       R"({"fields": {"user.contact.fax_number": "1"}})",
       {},
       400,
       "invalid-argument",
       "field 1 (user.contact.fax_number): category 'user.contact.fax_number' is not declared in "
       "the policy; only declared categories may be collected",
       "/fields/user.contact.fax_number"},
      // The pointer comes from the service's own check, by the field's
      // position (object members are taken in key order), escaped per RFC 6901.
      {"second field refused",
       R"({"fields": {"user.contact.address": "12 MG Road", "user.name": "  "}})",
       {},
       400,
       "invalid-argument",
       "field 2 (user.name): text is empty",
       "/fields/user.name"},
      {"undeclared category with a slash",
       R"({"fields": {"user.name": "A", "x/y~z": "1"}})",
       {},
       400,
       "invalid-argument",
       "field 2 (x/y~z): category 'x/y~z' is not declared in the policy; only declared "
       "categories may be collected",
       "/fields/x~1y~0z"},
      {"bad external id",
       R"({"fields": {"user.name": "A"}, "external_id": ""})",
       {},
       400,
       "invalid-argument",
       "the external id must be 1 to 256 bytes",
       "/external_id",
       true},
      {"wrong content type",
       R"({"fields": {"user.name": "A"}})",
       {{"Content-Type", "text/plain"}},
       415,
       "unsupported-media-type",
       "send the body as application/json",
       std::nullopt},
      {"not UTF-8",
       "{\"fields\": {\"user.name\": \"A\xff\"}}",
       {},
       400,
       "invalid-argument",
       "the body is not valid UTF-8",
       std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = c.create ? Call("POST", "/v1/subjects", "interjet/admin", c.body, c.headers)
                      : Call("PATCH", target, "interjet/admin", c.body, c.headers);
    EXPECT_EQ(r.status, c.status) << r.body;
    EXPECT_EQ(r.Header("Content-Type"), "application/problem+json");
    json p = Body(r);
    EXPECT_EQ(p["type"], "urn:custodian:problem:" + c.type);
    EXPECT_EQ(p["detail"], c.detail);
    if (c.pointer) {
      EXPECT_EQ(p["pointer"], *c.pointer);
    } else {
      EXPECT_FALSE(p.contains("pointer"));
    }
    EXPECT_TRUE(p["request_id"].is_string());
  }
  // Oversized: 413 and the server still serves.
  auto big = Call("PATCH", target, "interjet/admin",
                  json{{"fields", {{"user.name", std::string(2 << 20, 'a')}}}}.dump());
  EXPECT_EQ(big.status, 413);
  auto after = Body(Call("GET", target + "?purpose=essential.service", "interjet/admin"));
  EXPECT_EQ(Field(after, "user.name"), "Asha Rao");
  EXPECT_EQ(after["fields"],
            Body(Call("GET", target + "?purpose=essential.service", "interjet/admin"))["fields"]);
}

TEST_F(HttpApiTest, DisclosuresAreRefusedUnlessDeclaredAndShownPerSubject) {
  const std::string id = AddAsha("CUST-DISCLOSE");
  ASSERT_FALSE(id.empty());
  const json base = {{"recipient", "payment_providers"},
                     {"purpose", "essential.service.payment_processing"},
                     {"categories", {"user.name", "user.contact.email"}},
                     {"subjects", {id}}};
  const auto with = [&](const json& patch) {
    json j = base;
    j.update(patch);
    return j;
  };
  struct Bad {
    std::string name;
    json body;
    int status;
    std::string pointer, detail;
  };
  const std::vector<Bad> bad = {
      {"undeclared recipient", with({{"recipient", "facebook"}}), 403, "/recipient",
       "recipient 'facebook' is not declared in the policy (version 2025.1); declared recipients: "
       "partner_companies, payment_providers, authorities. Declare it under `recipients` before "
       "sharing anything with it"},
      {"category not the recipient's",
       with({{"categories", {"user.name", "user.financial"}}}), 403, "/categories/1",
       "category 'user.financial' is not declared for recipient 'payment_providers' (it may "
       "receive: user.name, user.contact.phone_number, user.contact.email, user.payment)"},
      {"authority without a reference",
       with({{"recipient", "authorities"},
                          {"purpose", "essential.legal_obligation"},
                          {"categories", {"user.name"}}}),
       400, "/legal_reference",
       "a disclosure to authority 'authorities' needs the legal reference that requires it (the "
       "order or case number)"},
      {"categories not an array", with({{"categories", "user.name"}}), 400,
       "/categories", "'categories' must be an array of strings"},
      {"two kinds in one lookup",
       with({{"lookups", {{{"phone", "1"}, {"email", "a@b.in"}}}}}), 400,
       "/lookups/0", "give exactly one of phone, email, external_id, or category with value"},
      {"unknown member", with({{"reason", "asked"}}), 400, "/reason", ""},
  };
  for (const Bad& b : bad) {
    SCOPED_TRACE(b.name);
    auto r = Call("POST", "/v1/disclosures", "interjet/admin", b.body.dump());
    EXPECT_EQ(r.status, b.status) << r.body;
    EXPECT_EQ(Body(r)["pointer"], b.pointer) << r.body;
    if (!b.detail.empty()) {
      EXPECT_EQ(Body(r)["detail"], b.detail) << r.body;
    }
  }
  EXPECT_TRUE(Body(Call("GET", "/v1/subjects/" + id + "/disclosures", "interjet/agent"))
                  ["disclosures"]
                      .empty());

  json with_export = base;
  with_export["lookups"] = {{{"external_id", "CUST-DISCLOSE"}}, {{"phone", "+91 99999 11111"}}};
  with_export["export"] = true;
  auto made = Call("POST", "/v1/disclosures", "interjet/admin", with_export.dump());
  ASSERT_EQ(made.status, 201) << made.body;
  json m = Body(made);
  EXPECT_EQ(m["subjects"], json({id}));
  EXPECT_EQ(m["unmatched_lookups"], json({1}));
  EXPECT_EQ(m["payload"]["subjects"][0]["fields"],
            json({{"user.name", "Asha Rao"}, {"user.contact.email", "asha@example.in"}}));
  auto list = Call("GET", "/v1/subjects/" + id + "/disclosures", "interjet/agent");
  ASSERT_EQ(list.status, 200) << list.body;
  json d = Body(list)["disclosures"];
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0]["id"], m["disclosure"]["id"]);
  EXPECT_EQ(d[0]["recipient_kind"], "processor");
  EXPECT_EQ(d[0]["exported"], true);
  EXPECT_EQ(Call("GET", "/v1/subjects/" + id + "/disclosures", "intnet/admin").status, 404);
}

TEST_F(HttpApiTest, RecordsAndCallMatching) {
  // Intnet IQ: an agency's customer, then an incoming call from their number.
  auto created = Call(
      "POST", "/v1/subjects", "intnet/admin",
      json{{"fields",
            {{"user.name", "Budi Santoso"}, {"user.contact.phone_number", "+62 812-3456-7890"}}}}
          .dump());
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = Body(created)["id"];
  auto call = Call("POST", "/v1/calls", "intnet/agent",
                   json{{"data",
                         {{"event_type", "call.initiated"},
                          {"occurred_at", "2026-11-30T10:00:00Z"},
                          {"payload",
                           {{"call_control_id", "v3:abc"},
                            {"from", "+6281234567890"},
                            {"to", "+6221555000"},
                            {"direction", "incoming"}}}}}}
                       .dump());
  ASSERT_EQ(call.status, 200) << call.body;
  json m = Body(call);
  EXPECT_EQ(m["match"], true);
  ASSERT_EQ(m["subjects"].size(), 1u);
  EXPECT_EQ(m["subjects"][0]["id"], id);
  EXPECT_EQ(m["flags"]["account_closed"], false);
  ASSERT_TRUE(m["call_record"].is_string());
  auto records = Body(Call(
      "GET", "/v1/subjects/" + id + "/records?purpose=essential.service.call_matching&kind=call",
      "intnet/agent"));
  ASSERT_EQ(records["records"].size(), 1u) << records.dump();
  EXPECT_EQ(records["records"][0]["id"], m["call_record"]);
  EXPECT_EQ(records["records"][0]["at"], "2026-11-30T10:00:00Z");
  EXPECT_EQ(records["records"][0]["data"]["call_id"], "v3:abc");

  auto nobody =
      Body(Call("POST", "/v1/calls", "intnet/agent", json{{"caller", "+62 811-0000-0000"}}.dump()));
  EXPECT_EQ(nobody["match"], false);
  EXPECT_EQ(nobody["subjects"], json::array());
  EXPECT_TRUE(nobody["call_record"].is_null());

  // A record of Interjet: added, listed for billing, refused for marketing.
  const std::string asha = AddAsha("CUST-REC");
  auto rec = Call("POST", "/v1/subjects/" + asha + "/records", "interjet/admin",
                  json{{"kind", "billing"},
                       {"at", "2025-03-01"},
                       {"data", {{"amount", 799}, {"plan", "100 Mbps"}}}}
                      .dump());
  ASSERT_EQ(rec.status, 201) << rec.body;
  auto list = Body(
      Call("GET", "/v1/subjects/" + asha + "/records?purpose=essential.service.payment_processing",
           "interjet/admin"));
  ASSERT_EQ(list["records"].size(), 1u) << list.dump();
  EXPECT_EQ(list["records"][0]["data"]["amount"], 799);
  auto refused = Call("GET", "/v1/subjects/" + asha + "/records?purpose=marketing.communications",
                      "interjet/marketing");
  EXPECT_EQ(refused.status, 403) << refused.body;
}

TEST_F(HttpApiTest, PublicNoticeOpenApiAndAccessLogWithoutPersonalValues) {
  auto notice = Call("GET", "/privacy/interjet", "");
  EXPECT_EQ(notice.status, 200);
  EXPECT_NE(notice.Header("Content-Type").find("text/html"), std::string::npos);
  EXPECT_NE(notice.body.find("<html"), std::string::npos);
  EXPECT_EQ(Call("GET", "/privacy/nosuch", "").status, 404);
  auto doc = Call("GET", "/v1/openapi.yaml", "");
  EXPECT_EQ(doc.status, 200);
  EXPECT_NE(doc.body.find("openapi: 3.1"), std::string::npos);

  AddAsha("CUST-LOG");
  Call("POST", "/v1/subjects/lookup?purpose=essential.service", "interjet/agent",
       json{{"phone", "088701 00100"}}.dump());
  // The server writes a request's log line once its response is sent: wait for it.
  std::string log;
  for (int i = 0; i < 100; ++i) {
    log = ReadFile(log_);
    if (log.find("\"route\":\"/v1/subjects/lookup\"") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (const char* secret : {"Asha", "8870100", "xample.in", "CUST-LOG", "cst_"}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << secret;
  }
  EXPECT_NE(log.find("\"route\":\"/v1/subjects/lookup\""), std::string::npos);

  // Metrics: requests by route, lookups by outcome, and the audit events committed.
  auto metrics = Call("GET", "/metrics", "");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("custodian_lookups_total{outcome=\"hit\"}"), std::string::npos);
  auto at = metrics.body.find("\ncustodian_audit_appends_total ");
  ASSERT_NE(at, std::string::npos) << metrics.body;
  // This test alone committed at least the add (subject.add) and the lookup hit.
  EXPECT_GE(std::atoll(metrics.body.c_str() + at + 31), 2) << metrics.body.substr(at, 60);
  EXPECT_NE(metrics.body.find("route=\"subject_lookup\""), std::string::npos);
  for (const char* secret : {"Asha", "8870100", "cst_"}) {
    EXPECT_EQ(metrics.body.find(secret), std::string::npos) << secret;
  }
}

TEST_F(HttpApiTest, OperatorSessionNeedsTotpAndCsrfAndEndsOnLogout) {
  const std::string password = "correct horse battery staple";
  RunOptions o;
  o.env.push_back({"CUSTODIAN_OPERATOR_PASSWORD", password});
  RunResult added = testing_util::RunCustodian({"operator", "add", "interjet", "lead@interjet.in",
                                                "--role", "agent", "--json", "--data-dir", data_},
                                               o);
  ASSERT_EQ(added.exit_code, 0) << added.Describe();
  const std::string secret = json::parse(added.out)["totp_secret"];
  json login = {{"tenant", "interjet"},
                {"email", "lead@interjet.in"},
                {"password", password},
                {"totp", "000000"}};
  auto wrong = Call("POST", "/v1/session", "", login.dump());
  EXPECT_EQ(wrong.status, 401) << wrong.body;
  EXPECT_FALSE(wrong.HasHeader("Set-Cookie"));

  login["totp"] = testing_util::TotpCode(secret, int64_t{time(nullptr)} * 1000);
  auto ok = Call("POST", "/v1/session", "", login.dump());
  ASSERT_EQ(ok.status, 201) << ok.body;
  const std::string cookie = ok.Header("Set-Cookie");
  EXPECT_NE(cookie.find("custodian_session=css_"), std::string::npos);
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_EQ(cookie.find("Secure"), std::string::npos);  // plain HTTP here
  const std::string session = cookie.substr(0, cookie.find(';'));
  const std::string csrf = Body(ok)["csrf_token"];
  EXPECT_EQ(Body(ok)["role"], "agent");
  EXPECT_EQ(ok.body.find("lead@"), std::string::npos);

  // Reads need the cookie only; writes need the CSRF token too.
  const std::string id = AddAsha("CUST-SESSION");
  auto read = Call("GET", "/v1/subjects/" + id + "?purpose=essential.service", "", "",
                   {{"Cookie", session}});
  EXPECT_EQ(read.status, 200) << read.body;
  const std::string patch = json{{"fields", {{"user.name", "Asha R."}}}}.dump();
  auto no_csrf = Call("PATCH", "/v1/subjects/" + id, "", patch, {{"Cookie", session}});
  EXPECT_EQ(no_csrf.status, 403);
  EXPECT_EQ(Body(no_csrf)["detail"], "missing or wrong CSRF token");
  auto with_csrf =
      Call("PATCH", "/v1/subjects/" + id, "", patch, {{"Cookie", session}, {"X-CSRF-Token", csrf}});
  EXPECT_EQ(with_csrf.status, 200) << with_csrf.body;

  auto out = Call("DELETE", "/v1/session", "", "", {{"Cookie", session}, {"X-CSRF-Token", csrf}});
  EXPECT_EQ(out.status, 204) << out.body;
  auto after = Call("GET", "/v1/subjects/" + id + "?purpose=essential.service", "", "",
                    {{"Cookie", session}});
  EXPECT_EQ(after.status, 401);
}

TEST_F(HttpApiTest, ImportsRunInTheBackgroundForAdminsOnly) {
  json req = {{"kind", "subjects"},
              {"mapping",
               "columns:\n  id: external_id\n  name: user.name\n  phone: "
               "user.contact.phone_number\n"},
              {"csv", "id,name,phone\nIMP-1,Ravi Kumar,+91 98450 12345\nIMP-2,Meera,12\n"}};
  auto refused = Call("POST", "/v1/imports", "interjet/agent", req.dump());
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(Body(refused)["detail"], "importing needs role 'admin' (not 'agent')");
  auto started = Call("POST", "/v1/imports", "interjet/admin", req.dump());
  ASSERT_EQ(started.status, 202) << started.body;
  const std::string job = Body(started)["id"];
  EXPECT_EQ(started.Header("Location"), "/v1/imports/" + job);
  json state;
  for (int i = 0; i < 200; ++i) {
    state = Body(Call("GET", "/v1/imports/" + job, "interjet/admin"));
    if (state["state"] != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(state["state"], "done") << state.dump();
  EXPECT_EQ(state["added"], 1);
  EXPECT_EQ(state["rejected"], 1);
  auto rejects = Call("GET", "/v1/imports/" + job + "/rejects", "interjet/admin");
  EXPECT_EQ(rejects.status, 200);
  EXPECT_NE(rejects.body.find("3,phone,"), std::string::npos) << rejects.body;
  // Served once: the rejects (personal data) are gone from the server after.
  auto again = Call("GET", "/v1/imports/" + job + "/rejects", "interjet/admin");
  EXPECT_EQ(again.status, 404);
  EXPECT_EQ(Body(again)["detail"],
            "this import has no rejected rows (or they were downloaded already)");
  EXPECT_TRUE(std::filesystem::is_empty(std::filesystem::path(data_) / "uploads" / "interjet"));
  // Another tenant cannot see the job.
  EXPECT_EQ(Call("GET", "/v1/imports/" + job, "intnet/admin").status, 404);
  auto found = Body(Call("POST", "/v1/subjects/lookup?purpose=essential.service", "interjet/agent",
                         json{{"external_id", "IMP-1"}}.dump()));
  ASSERT_EQ(found["matches"].size(), 1u);
  EXPECT_EQ(Field(found["matches"][0], "user.name"), "Ravi Kumar");
}

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
    clients.emplace_back([&] {
      while (!stop) {
        TestClient c(std::chrono::seconds(10));
        if (c.Connect(server.port())) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          continue;  // refused: the server stopped accepting
        }
        boost::beast::error_code ec;
        auto r = c.Request("GET", "/readyz", "", {}, &ec);
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

}  // namespace
}  // namespace custodian
