// Whole-system tests of the credential commands: `apikey create|list|revoke`
// and `operator add`, run as the real binary on a temporary data directory,
// with bad input (exact errors and exit codes, and nothing changed after a
// refusal), and an operator added by the CLI signing in through the library.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "run_util.h"
#include "totp_util.h"
#include "service/vault.h"
#include "test_util.h"

namespace custodian {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::HasSubstr;
using testing::StartsWith;
using testing_util::ReadFile;
using testing_util::RunCustodian;
using testing_util::RunOptions;
using testing_util::RunProgram;
using testing_util::RunResult;
using testing_util::TempDir;

constexpr int kOk = 0, kError = 1, kUsage = 2;
constexpr char kPolicy[] = "examples/policies/interjet.yaml";  // relative to the source dir
constexpr char kPassword[] = "correct horse battery";
constexpr char kUnknownTenant[] =
    "custodian: tenant 'nosuch' does not exist; create it with `custodian tenant create`\n";
constexpr char kBadRole[] =
    "custodian: role 'janitor' is not used by the policy of tenant 'interjet'; allowed roles: "
    "admin, agent, analyst, auditor, billing, marketing\n";

std::string Shown(const std::vector<std::string>& args) {
  std::string s = "custodian";
  for (const auto& a : args) s += " '" + a + "'";
  return s;
}

json ParseJson(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << text;
  return j;
}

// The first column of the first row of `sql`, as text.
std::string Query(const fs::path& db_path, const char* sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::string out;
  if (sqlite3_step(st) == SQLITE_ROW) {
    const unsigned char* p = sqlite3_column_text(st, 0);
    if (p != nullptr) out = reinterpret_cast<const char*>(p);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

bool IsId(const std::string& id) {
  return id.size() == 20 &&
         id.find_first_not_of("abcdefghijkmnpqrstuvwxyz23456789") == std::string::npos;
}

class AccessCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    data_ = dir_.path() / "data";
  }

  RunOptions Options(std::vector<std::pair<std::string, std::optional<std::string>>> env) {
    RunOptions o;
    o.cwd = CUSTODIAN_SOURCE_DIR;
    o.env.push_back({"CUSTODIAN_DATA_DIR", data_.string()});
    o.env.push_back({"CUSTODIAN_OPERATOR_PASSWORD", std::nullopt});
    for (auto& e : env) o.env.push_back(std::move(e));
    return o;
  }
  RunResult Cli(const std::vector<std::string>& args,
                std::vector<std::pair<std::string, std::optional<std::string>>> env = {}) {
    RunResult r = RunCustodian(args, Options(std::move(env)));
    ExpectNoSecretOnStderr(args, r);
    return r;
  }
  // Runs custodian with `input` on its stdin (through a file and /bin/sh, as
  // RunProgram gives children /dev/null).
  RunResult CliWithStdin(const std::vector<std::string>& args, const std::string& input) {
    fs::path in = dir_.path() / "stdin";
    testing_util::WriteFile(in, input);
    std::vector<std::string> sh = {"-c", "exec \"$0\" \"$@\" < \"$CUSTODIAN_TEST_STDIN\"",
                                   CUSTODIAN_BINARY};
    sh.insert(sh.end(), args.begin(), args.end());
    RunResult r = RunProgram("/bin/sh", sh, Options({{"CUSTODIAN_TEST_STDIN", in.string()}}));
    fs::remove(in);
    ExpectNoSecretOnStderr(args, r);
    return r;
  }
  std::string Ok(const std::vector<std::string>& args,
                 std::vector<std::pair<std::string, std::optional<std::string>>> env = {}) {
    RunResult r = Cli(args, std::move(env));
    EXPECT_EQ(r.exit_code, kOk) << Shown(args) << "\n" << r.Describe();
    EXPECT_EQ(r.err, "") << Shown(args);
    return r.out;
  }
  // Must fail with `code`, nothing on stdout, exactly `err` on stderr.
  void Fails(const std::vector<std::string>& args, int code, const std::string& err,
             std::vector<std::pair<std::string, std::optional<std::string>>> env = {}) {
    RunResult r = Cli(args, std::move(env));
    EXPECT_EQ(r.exit_code, code) << Shown(args) << "\n" << r.Describe();
    EXPECT_EQ(r.out, "") << Shown(args);
    EXPECT_EQ(r.err, err) << Shown(args);
  }
  // Neither a password nor a secret ever reaches stderr.
  static void ExpectNoSecretOnStderr(const std::vector<std::string>& args, const RunResult& r) {
    for (const char* secret : {kPassword, "short pw", "cst_", "otpauth", "secret="}) {
      EXPECT_EQ(r.err.find(secret), std::string::npos)
          << "'" << secret << "' on stderr of " << Shown(args) << "\n"
          << r.Describe();
    }
  }

  void InitWithTenant() {
    Ok({"init"});
    Ok({"tenant", "create", "interjet", "--policy", kPolicy});
  }
  fs::path Store() const { return data_ / "custodian.db"; }
  // Every credential row and audit event: what a refused command must not change.
  std::string State() {
    return Query(Store(), "SELECT count(*) FROM api_keys") + "/" +
           Query(Store(), "SELECT count(*) FROM api_keys WHERE revoked_ms IS NOT NULL") + "/" +
           Query(Store(), "SELECT count(*) FROM operators") + "/" +
           Query(Store(), "SELECT count(*) FROM audit");
  }
  std::string StoreBytes() {
    return ReadFile(Store()) + ReadFile(data_ / "custodian.db-wal");
  }

  TempDir dir_;
  fs::path data_;
};

TEST_F(AccessCliTest, ApiKeyCreateListRevoke) {
  InitWithTenant();
  // create: the key, then what it is, then the warning.
  std::string out = Ok({"apikey", "create", "interjet", "--role", "agent", "--name", "crm"});
  std::vector<std::string> lines;
  for (std::size_t at = 0, nl; (nl = out.find('\n', at)) != std::string::npos; at = nl + 1) {
    lines.push_back(out.substr(at, nl - at));
  }
  ASSERT_EQ(lines.size(), 3u) << out;
  const std::string key = lines[0];
  ASSERT_EQ(key.size(), 77u) << key;
  const std::string id = key.substr(4, 20);
  EXPECT_THAT(key, StartsWith("cst_" + id + "_"));
  EXPECT_TRUE(IsId(id)) << id;
  EXPECT_EQ(lines[1], "api key " + id + " for tenant interjet, role agent, name crm");
  EXPECT_EQ(lines[2], "This key is shown only now and cannot be recovered: store it securely.");

  json created = ParseJson(Ok({"apikey", "create", "interjet", "--role", "auditor", "--json"}));
  ASSERT_TRUE(created["id"].is_string() && created["key"].is_string());
  const std::string id2 = created["id"];
  EXPECT_EQ(created["role"], "auditor");
  EXPECT_EQ(created["name"], "");
  EXPECT_THAT(created["key"].get<std::string>(), StartsWith("cst_" + id2 + "_"));
  EXPECT_EQ(created.size(), 4u);

  // list: never a secret.
  json listed = ParseJson(Ok({"apikey", "list", "interjet", "--json"}));
  ASSERT_EQ(listed["keys"].size(), 2u) << listed.dump();
  std::map<std::string, json> by_id;
  for (const json& k : listed["keys"]) by_id[k["id"]] = k;
  ASSERT_TRUE(by_id.count(id) && by_id.count(id2)) << listed.dump();
  EXPECT_EQ(by_id[id]["name"], "crm");
  EXPECT_EQ(by_id[id]["role"], "agent");
  EXPECT_TRUE(by_id[id]["revoked"].is_null());
  EXPECT_TRUE(by_id[id]["last_used"].is_null());
  const std::string created_at = by_id[id]["created"];
  EXPECT_EQ(created_at.size(), 20u);
  EXPECT_EQ(listed.dump().find(key.substr(25)), std::string::npos);
  std::string text = Ok({"apikey", "list", "interjet"});
  EXPECT_THAT(text, StartsWith("ID                   ROLE        NAME            CREATED              "
                               "STATUS\n"));
  EXPECT_THAT(text, HasSubstr(id + " agent       crm             " + created_at + " active\n"));
  EXPECT_THAT(text, HasSubstr(id2 + " auditor     -               "));
  EXPECT_EQ(text.find(key.substr(25)), std::string::npos);

  // revoke, once.
  EXPECT_EQ(Ok({"apikey", "revoke", "interjet", id}), "api key " + id + " revoked\n");
  Fails({"apikey", "revoke", "interjet", id}, kError,
        "custodian: api key '" + id + "' is already revoked\n");
  Fails({"apikey", "revoke", "interjet", "nosuchkeynosuchkeyxx"}, kError,
        "custodian: api key 'nosuchkeynosuchkeyxx' does not exist in tenant 'interjet'\n");
  listed = ParseJson(Ok({"apikey", "list", "interjet", "--json"}));
  for (const json& k : listed["keys"]) {
    EXPECT_EQ(k["revoked"].is_null(), k["id"] != id) << k.dump();
  }
  EXPECT_THAT(Ok({"apikey", "list", "interjet"}), HasSubstr(" revoked "));

  // The store holds no secret; the trail has the create and revoke events.
  EXPECT_EQ(StoreBytes().find(key.substr(25)), std::string::npos);
  EXPECT_EQ(StoreBytes().find(created["key"].get<std::string>().substr(25)), std::string::npos);
  EXPECT_EQ(Query(Store(), "SELECT count(*) FROM audit WHERE event LIKE '%apikey.create%'"), "2");
  EXPECT_EQ(Query(Store(), "SELECT count(*) FROM audit WHERE event LIKE '%apikey.revoke%'"), "1");
  EXPECT_THAT(Ok({"audit", "verify"}), StartsWith("audit chain ok: 4 events"));  // tenant, 2 creates, revoke
}

TEST_F(AccessCliTest, ApiKeyBadInputChangesNothing) {
  InitWithTenant();
  EXPECT_EQ(Ok({"apikey", "list", "interjet"}), "no API keys\n");
  EXPECT_EQ(ParseJson(Ok({"apikey", "list", "interjet", "--json"})),
            json({{"keys", json::array()}}));
  const std::string before = State();
  Fails({"apikey", "create", "nosuch", "--role", "agent"}, kError, kUnknownTenant);
  Fails({"apikey", "list", "nosuch"}, kError, kUnknownTenant);
  Fails({"apikey", "revoke", "nosuch", "abc"}, kError, kUnknownTenant);
  Fails({"apikey", "create", "interjet", "--role", "janitor"}, kError, kBadRole);
  Fails({"apikey", "create", "interjet", "--role", "agent", "--name", "my crm"}, kError,
        "custodian: the key name must be at most 64 letters, digits, '.', '_' or '-'\n");
  Fails({"apikey", "create", "interjet", "--role", "agent", "--name", std::string(65, 'a')},
        kError, "custodian: the key name must be at most 64 letters, digits, '.', '_' or '-'\n");
  Fails({"apikey", "create", "interjet"}, kUsage,
        "--role is required\nRun with --help for more information.\n");
  Fails({"apikey", "create", "--role", "agent"}, kUsage,
        "tenant is required\nRun with --help for more information.\n");
  Fails({"apikey", "revoke", "interjet"}, kUsage,
        "key_id is required\nRun with --help for more information.\n");
  RunResult none = Cli({"apikey"});
  EXPECT_EQ(none.exit_code, kUsage) << none.Describe();
  EXPECT_EQ(State(), before);
  EXPECT_EQ(Ok({"apikey", "list", "interjet"}), "no API keys\n");
}

TEST_F(AccessCliTest, OperatorAddPrintsTheEnrollmentOnce) {
  InitWithTenant();
  std::string out = Ok({"operator", "add", "interjet", "Ops.Lead@Interjet.in", "--role", "admin"},
                       {{"CUSTODIAN_OPERATOR_PASSWORD", kPassword}});
  const std::string prefix = "operator ";
  ASSERT_THAT(out, StartsWith(prefix));
  const std::string id = out.substr(prefix.size(), 20);
  EXPECT_TRUE(IsId(id)) << out;
  const std::string uri_prefix = "otpauth://totp/custodian:ops.lead@interjet.in?secret=";
  const std::string head = "operator " + id +
                           " added to tenant interjet (role admin)\n"
                           "TOTP enrollment, shown only now: open it in an authenticator app\n";
  ASSERT_THAT(out, StartsWith(head + uri_prefix)) << out;
  const std::string secret = out.substr(head.size() + uri_prefix.size(), 32);
  EXPECT_EQ(secret.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), std::string::npos);
  EXPECT_EQ(out, head + uri_prefix + secret +
                     "&issuer=custodian&algorithm=SHA1&digits=6&period=30\n");

  // --password-stdin, with --json.
  RunResult piped = CliWithStdin({"operator", "add", "interjet", "agent.one@interjet.in", "--role",
                                  "agent", "--password-stdin", "--json"},
                                 std::string(kPassword) + "\n");
  ASSERT_EQ(piped.exit_code, kOk) << piped.Describe();
  EXPECT_EQ(piped.err, "");
  json j = ParseJson(piped.out);
  EXPECT_TRUE(IsId(j["id"])) << j.dump();
  EXPECT_EQ(j["role"], "agent");
  EXPECT_EQ(j["otpauth_uri"], "otpauth://totp/custodian:agent.one@interjet.in?secret=" +
                                  j["totp_secret"].get<std::string>() +
                                  "&issuer=custodian&algorithm=SHA1&digits=6&period=30");

  // Neither the password, the TOTP secret nor the email is in the store.
  const std::string bytes = StoreBytes();
  for (const std::string& s : {std::string(kPassword), secret, j["totp_secret"].get<std::string>(),
                               std::string("ops.lead"), std::string("agent.one")}) {
    EXPECT_EQ(bytes.find(s), std::string::npos) << s;
  }
  EXPECT_EQ(Query(Store(), "SELECT count(*) FROM operators"), "2");
  EXPECT_EQ(Query(Store(), "SELECT count(*) FROM audit WHERE event LIKE '%operator.add%'"), "2");

  // The enrollment works: the operator signs in with the password and the
  // code an authenticator app would show.
  ASSERT_EQ(testing_util::Base32Decoded(secret).size(), 20u);
  const int64_t now_ms = service::SystemClockMs();
  const std::string code = testing_util::TotpCode(secret, now_ms);
  ASSERT_EQ(code.size(), 6u);
  service::VaultOptions o;
  o.data_dir = data_.string();
  o.clock = [now_ms] { return now_ms; };
  auto vault = service::Vault::Open(o);
  ASSERT_TRUE(vault.ok()) << vault.status().ToString();
  auto login = (*vault)->Login("interjet", "ops.lead@interjet.in", kPassword, code, "127.0.0.1");
  ASSERT_TRUE(login.ok()) << login.status().ToString();
  EXPECT_EQ(login->actor.id, "op:" + id);
  EXPECT_EQ(login->actor.role, "admin");
}

TEST_F(AccessCliTest, OperatorAddBadInputChangesNothing) {
  InitWithTenant();
  const std::vector<std::pair<std::string, std::optional<std::string>>> pw = {
      {"CUSTODIAN_OPERATOR_PASSWORD", kPassword}};
  Ok({"operator", "add", "interjet", "ops@interjet.in", "--role", "admin"}, pw);
  const std::string before = State();

  Fails({"operator", "add", "nosuch", "x@interjet.in", "--role", "admin"}, kError, kUnknownTenant,
        pw);
  Fails({"operator", "add", "interjet", "x@interjet.in", "--role", "janitor"}, kError, kBadRole,
        pw);
  Fails({"operator", "add", "interjet", "x@interjet.in", "--role", "admin"}, kError,
        "custodian: the password must be at least 12 characters\n",
        {{"CUSTODIAN_OPERATOR_PASSWORD", "short pw"}});
  RunResult short_stdin = CliWithStdin(
      {"operator", "add", "interjet", "x@interjet.in", "--role", "admin", "--password-stdin"},
      "short pw\n");
  EXPECT_EQ(short_stdin.exit_code, kError) << short_stdin.Describe();
  EXPECT_EQ(short_stdin.out, "");
  EXPECT_EQ(short_stdin.err, "custodian: the password must be at least 12 characters\n");
  Fails({"operator", "add", "interjet", "x@interjet.in", "--role", "admin"}, kUsage,
        "custodian: operator add needs a password: pipe it in with --password-stdin or set "
        "CUSTODIAN_OPERATOR_PASSWORD\n");
  Fails({"operator", "add", "interjet", " OPS@Interjet.in", "--role", "agent"}, kError,
        "custodian: an operator with this email already exists in tenant 'interjet'\n", pw);
  RunResult bad_email =
      Cli({"operator", "add", "interjet", "not-an-email", "--role", "admin"}, pw);
  EXPECT_EQ(bad_email.exit_code, kError) << bad_email.Describe();
  EXPECT_EQ(bad_email.out, "");
  EXPECT_THAT(bad_email.err, StartsWith("custodian: the operator's email: "));
  EXPECT_EQ(bad_email.err.find("not-an-email"), std::string::npos) << bad_email.err;
  Fails({"operator", "add", "interjet", "x@interjet.in"}, kUsage,
        "--role is required\nRun with --help for more information.\n", pw);
  Fails({"operator", "add", "interjet", "--role", "admin"}, kUsage,
        "email is required\nRun with --help for more information.\n", pw);
  EXPECT_EQ(State(), before);
}

}  // namespace
}  // namespace custodian
