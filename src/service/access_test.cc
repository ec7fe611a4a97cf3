// Credentials: tenant API keys, operators with password + TOTP, sessions,
// sign-in limits, and what the store and the audit trail hold of them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "audit/event.h"
#include "service/vault.h"
#include "test_util.h"
#include "totp_util.h"

namespace custodian::service {
namespace {

namespace fs = std::filesystem;
using testing::HasSubstr;
using testing_util::ReadFile;

const Actor kAdmin{"test", "admin"};
constexpr char kEmail[] = "Ops.Lead@Interjet.in";
constexpr char kPassword[] = "correct horse battery";
constexpr int64_t kMinute = 60 * 1000;

std::string ExamplePolicy(const std::string& name) {
  return ReadFile(fs::path(CUSTODIAN_SOURCE_DIR) / "examples/policies" / name);
}

std::string Code(const std::string& base32_secret, int64_t ms) {
  return testing_util::TotpCode(base32_secret, ms);
}
std::string Decoded(const std::string& base32_secret) {
  return testing_util::Base32Decoded(base32_secret);
}

class AccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("CUSTODIAN_MASTER_KEY");
    dir_ = tmp_.path() / "data";
    ASSERT_TRUE(Vault::Init(dir_.string()).ok());
    vault_ = Open();
    ASSERT_TRUE(vault_->CreateTenant(kAdmin, "interjet", ExamplePolicy("interjet.yaml"),
                                     "interjet.yaml")
                    .ok());
    ASSERT_TRUE(vault_->CreateTenant(kAdmin, "inetbills", ExamplePolicy("inetbills.yaml"),
                                     "inetbills.yaml")
                    .ok());
  }
  std::unique_ptr<Vault> Open(VaultOptions o = {}) {
    o.data_dir = dir_.string();
    o.clock = [this] { return now_ms_; };
    auto v = Vault::Open(o);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? std::move(v).value() : nullptr;
  }
  CreatedApiKey NewKey(const std::string& tenant = "interjet", const std::string& role = "agent") {
    auto k = vault_->CreateApiKey(kAdmin, tenant, role, "crm");
    EXPECT_TRUE(k.ok()) << k.status().ToString();
    return k.ok() ? *k : CreatedApiKey{};
  }
  OperatorEnrollment NewOperator(const std::string& email = kEmail) {
    auto e = vault_->AddOperator(kAdmin, "interjet", email, "admin", kPassword);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? *e : OperatorEnrollment{};
  }
  Result<LoginResult> SignIn(const OperatorEnrollment& e, const std::string& addr = "10.0.0.1",
                             const std::string& password = kPassword) {
    return vault_->Login("interjet", kEmail, password, Code(e.totp_secret, now_ms_), addr);
  }
  int64_t AuditCount() {
    auto r = vault_->VerifyAudit();
    EXPECT_TRUE(r.ok() && r->ok);
    return r.ok() ? r->events : -1;
  }
  std::vector<audit::Event> AuditEvents() {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open((dir_ / "custodian.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT event FROM audit ORDER BY seq", -1, &st, nullptr);
    std::vector<audit::Event> out;
    while (sqlite3_step(st) == SQLITE_ROW) {
      auto e = audit::Event::FromCanonical(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
      EXPECT_TRUE(e.ok());
      if (e.ok()) out.push_back(*e);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
  }
  // Each event's canonical text without its time (whose digits could hold a
  // six-digit code by chance).
  std::vector<std::string> AuditTexts() {
    std::vector<std::string> out;
    for (audit::Event e : AuditEvents()) {
      e.time_ms = 0;
      out.push_back(e.Canonical());
    }
    return out;
  }
  // Every byte the store has on disk: the database and its WAL.
  std::string StoreBytes() {
    return ReadFile(dir_ / "custodian.db") + ReadFile(dir_ / "custodian.db-wal");
  }
  static void ExpectUnauthenticated(const Status& s, const std::string& message) {
    EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << s.ToString();
    EXPECT_EQ(s.message(), message);
  }

  testing_util::TempDir tmp_;
  fs::path dir_;
  int64_t now_ms_ = 1767225600000;  // 2026-01-01T00:00:00Z, a TOTP step boundary
  std::unique_ptr<Vault> vault_;
};

constexpr char kBadKey[] = "invalid or revoked API key";
constexpr char kSignInFailed[] = "sign-in failed: wrong email, password or one-time code";
constexpr char kLocked[] = "too many failed sign-ins; try again later";
constexpr char kBadSession[] = "invalid or expired session";

// --- API keys -------------------------------------------------------------------

TEST_F(AccessTest, ApiKeyAuthenticatesAsItsTenantAndRole) {
  CreatedApiKey k = NewKey();
  EXPECT_EQ(k.role, "agent");
  EXPECT_EQ(k.name, "crm");
  EXPECT_EQ(k.id.size(), 20u);
  ASSERT_EQ(k.key.size(), 4u + 20 + 1 + 52) << k.key;
  EXPECT_EQ(k.key.substr(0, 4 + 20 + 1), "cst_" + k.id + "_");
  EXPECT_EQ(k.key.find_first_not_of("abcdefghijklmnopqrstuvwxyz234567", 25), std::string::npos);

  auto who = vault_->AuthenticateApiKey(k.key);
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(who->tenant, "interjet");
  EXPECT_EQ(who->actor.id, "key:" + k.id);
  EXPECT_EQ(who->actor.role, "agent");
  EXPECT_EQ(who->key_id, k.id);
  // Cached or not, the answer is the same.
  EXPECT_EQ(vault_->AuthenticateApiKey(k.key)->tenant, "interjet");
  EXPECT_NE(NewKey().key, k.key);
}

// A key's own rate limit: stored with it, listed, and handed to whoever
// authenticates it; bad limits are refused with what is wrong, and no key is
// made.
TEST_F(AccessTest, AKeyMayHaveARateLimitOfItsOwn) {
  auto own = vault_->CreateApiKey(kAdmin, "interjet", "agent", "crm", ApiKeyLimit{2.5, 10.0});
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  auto rate_only = vault_->CreateApiKey(kAdmin, "interjet", "agent", "ivr", ApiKeyLimit{50, {}});
  ASSERT_TRUE(rate_only.ok()) << rate_only.status().ToString();
  CreatedApiKey plain = NewKey();
  EXPECT_EQ(vault_->AuthenticateApiKey(own->key)->limit, (ApiKeyLimit{2.5, 10.0}));
  EXPECT_EQ(vault_->AuthenticateApiKey(rate_only->key)->limit, (ApiKeyLimit{50, {}}));
  EXPECT_EQ(vault_->AuthenticateApiKey(plain.key)->limit, ApiKeyLimit{});
  auto listed = vault_->ListApiKeys("interjet");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 3u);
  for (const ApiKeyInfo& k : *listed) {
    if (k.id == own->id) {
      EXPECT_EQ(k.limit, (ApiKeyLimit{2.5, 10.0}));
    } else if (k.id == plain.id) {
      EXPECT_EQ(k.limit, ApiKeyLimit{});
    }
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const std::string bad_rate = "a key's rate must be a number of requests a second above 0";
  const std::string bad_burst = "a key's burst must be a number of requests, 1 or more";
  const std::pair<ApiKeyLimit, std::string> kBad[] = {
      {{0.0, {}}, bad_rate},
      {{-1.0, {}}, bad_rate},
      {{nan, {}}, bad_rate},
      {{inf, {}}, bad_rate},
      {{5.0, 0.5}, bad_burst},
      {{5.0, nan}, bad_burst},
      {{{}, 3.0}, "a key's burst needs its rate: give both, or neither"},
  };
  const std::size_t events = AuditEvents().size();
  for (const auto& [limit, message] : kBad) {
    auto k = vault_->CreateApiKey(kAdmin, "interjet", "agent", "bad", limit);
    ASSERT_FALSE(k.ok());
    EXPECT_EQ(k.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(k.status().message(), message);
  }
  EXPECT_EQ(vault_->ListApiKeys("interjet")->size(), 3u);  // nothing made
  EXPECT_EQ(AuditEvents().size(), events);
}

TEST_F(AccessTest, TamperedMalformedAndUnknownKeysAreRefusedAlike) {
  CreatedApiKey k = NewKey();
  ASSERT_TRUE(vault_->AuthenticateApiKey(k.key).ok());  // now cached
  std::string flipped = k.key;
  flipped.back() = flipped.back() == 'a' ? 'b' : 'a';
  std::string other_id = k.key;
  other_id[4] = other_id[4] == 'a' ? 'b' : 'a';
  const std::vector<std::string> bad = {
      flipped, other_id, "", "cst_", k.key + "a", k.key.substr(0, k.key.size() - 1),
      "Bearer " + k.key, "css_" + k.key.substr(4), "cst_" + k.id + "-" + k.key.substr(25),
      "cst_" + k.id + "_" + std::string(52, 'A')};
  for (const std::string& token : bad) {
    auto r = vault_->AuthenticateApiKey(token);
    ASSERT_FALSE(r.ok()) << token;
    ExpectUnauthenticated(r.status(), kBadKey);
  }
}

TEST_F(AccessTest, RevokedKeyIsRefusedAtOnceAndRevokeIsScopedByTenant) {
  CreatedApiKey k = NewKey();
  CreatedApiKey keep = NewKey();
  ASSERT_TRUE(vault_->AuthenticateApiKey(k.key).ok());  // cached before the revocation

  Status other = vault_->RevokeApiKey(kAdmin, "inetbills", k.id);
  EXPECT_EQ(other.code(), StatusCode::kNotFound);
  EXPECT_EQ(other.message(), "api key '" + k.id + "' does not exist in tenant 'inetbills'");
  EXPECT_TRUE(vault_->AuthenticateApiKey(k.key).ok());

  int64_t before = AuditCount();
  ASSERT_TRUE(vault_->RevokeApiKey(kAdmin, "interjet", k.id).ok());
  EXPECT_EQ(AuditCount(), before + 1);
  ExpectUnauthenticated(vault_->AuthenticateApiKey(k.key).status(), kBadKey);
  EXPECT_TRUE(vault_->AuthenticateApiKey(keep.key).ok());

  Status again = vault_->RevokeApiKey(kAdmin, "interjet", k.id);
  EXPECT_EQ(again.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(again.message(), "api key '" + k.id + "' is already revoked");
  EXPECT_EQ(vault_->RevokeApiKey(kAdmin, "interjet", "nosuchkey").code(), StatusCode::kNotFound);

  auto list = vault_->ListApiKeys("interjet");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  // Created in the same millisecond: listed by created time, then id.
  const bool revoked_first = (*list)[0].id == k.id;
  const ApiKeyInfo& revoked = (*list)[revoked_first ? 0 : 1];
  const ApiKeyInfo& kept = (*list)[revoked_first ? 1 : 0];
  EXPECT_EQ(revoked.id, k.id);
  EXPECT_EQ(revoked.revoked_ms, now_ms_);
  EXPECT_EQ(revoked.name, "crm");
  EXPECT_EQ(revoked.role, "agent");
  EXPECT_EQ(revoked.created_ms, now_ms_);
  EXPECT_EQ(revoked.last_used_ms, now_ms_);
  EXPECT_EQ(kept.id, keep.id);
  EXPECT_FALSE(kept.revoked_ms.has_value());
  EXPECT_LT((*list)[0].id, (*list)[1].id);
  EXPECT_EQ(vault_->ListApiKeys("nosuch").status().code(), StatusCode::kNotFound);
}

TEST_F(AccessTest, AnotherProcessRevocationTakesEffectWithinTheCacheTtl) {
  CreatedApiKey k = NewKey();
  ASSERT_TRUE(vault_->AuthenticateApiKey(k.key).ok());
  std::unique_ptr<Vault> other = Open();  // another Vault on the same store
  ASSERT_TRUE(other->RevokeApiKey(kAdmin, "interjet", k.id).ok());
  ExpectUnauthenticated(other->AuthenticateApiKey(k.key).status(), kBadKey);
  // This vault trusts its cache until the TTL (5 s by default) runs out.
  now_ms_ += 4999;
  EXPECT_TRUE(vault_->AuthenticateApiKey(k.key).ok());
  now_ms_ += 1;
  ExpectUnauthenticated(vault_->AuthenticateApiKey(k.key).status(), kBadKey);
}

// A key's last use is recorded at most once a minute, by a write handed to
// the store (under group commit, its committer: the caller does not wait),
// and a failure to record it never refuses the key.
TEST_F(AccessTest, AKeysLastUseIsRecordedAtMostOnceAMinuteWithoutRefusingIt) {
  VaultOptions o;
  o.group_commit = true;
  vault_ = Open(o);
  CreatedApiKey k = NewKey();
  auto last_use = [&]() -> std::optional<int64_t> {
    vault_->store().WaitForCommitCallbacks();
    auto keys = vault_->ListApiKeys("interjet");
    EXPECT_TRUE(keys.ok() && keys->size() == 1u);
    return keys.ok() && !keys->empty() ? keys->front().last_used_ms : std::nullopt;
  };
  EXPECT_EQ(last_use(), std::nullopt);
  const int64_t first = now_ms_;
  ASSERT_TRUE(vault_->AuthenticateApiKey(k.key).ok());
  EXPECT_EQ(last_use(), first);
  now_ms_ += 30 * 1000;  // past the cache's TTL, within the minute: not again
  ASSERT_TRUE(vault_->AuthenticateApiKey(k.key).ok());
  EXPECT_EQ(last_use(), first);
  now_ms_ += 30 * 1000;
  ASSERT_TRUE(vault_->AuthenticateApiKey(k.key).ok());
  EXPECT_EQ(last_use(), now_ms_);

  // The record of its use cannot be written: the key still authenticates.
  const int64_t recorded = now_ms_;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "custodian.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TRIGGER no_touch BEFORE UPDATE OF last_used_ms ON api_keys "
                         "BEGIN SELECT RAISE(ABORT, 'touch broken'); END",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  now_ms_ += kMinute;
  auto who = vault_->AuthenticateApiKey(k.key);
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(who->key_id, k.id);
  EXPECT_EQ(last_use(), recorded);
}

TEST_F(AccessTest, AnotherTenantsKeyGivesThatTenantNeverThisOne) {
  CreatedApiKey mine = NewKey("interjet", "agent");
  CreatedApiKey theirs = NewKey("inetbills", "trainer");
  auto who = vault_->AuthenticateApiKey(theirs.key);
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->tenant, "inetbills");
  EXPECT_EQ(who->actor.role, "trainer");
  EXPECT_EQ(vault_->AuthenticateApiKey(mine.key)->tenant, "interjet");
  // A secret is bound to its own key id: theirs with my id does not open mine.
  std::string spliced = "cst_" + mine.id + theirs.key.substr(24);
  ExpectUnauthenticated(vault_->AuthenticateApiKey(spliced).status(), kBadKey);
  ASSERT_EQ(vault_->ListApiKeys("interjet")->size(), 1u);
  EXPECT_EQ(vault_->ListApiKeys("interjet")->front().id, mine.id);
}

TEST_F(AccessTest, UnknownRoleIsRefusedAndNothingIsStored) {
  int64_t before = AuditCount();
  auto r = vault_->CreateApiKey(kAdmin, "interjet", "janitor", "crm");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "role 'janitor' is not used by the policy of tenant 'interjet'; allowed roles: admin, "
            "agent, analyst, auditor, billing, marketing");
  // trainer is a role of inetbills, not interjet.
  EXPECT_EQ(vault_->CreateApiKey(kAdmin, "interjet", "trainer", "").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(vault_->ListApiKeys("interjet")->size(), 0u);
  EXPECT_EQ(AuditCount(), before);

  auto name = vault_->CreateApiKey(kAdmin, "interjet", "agent", "my key");
  EXPECT_EQ(name.status().message(),
            "the key name must be at most 64 letters, digits, '.', '_' or '-'");
  auto tenant = vault_->CreateApiKey(kAdmin, "nosuch", "agent", "");
  EXPECT_EQ(tenant.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(tenant.status().message(),
            "tenant 'nosuch' does not exist; create it with `custodian tenant create`");
  EXPECT_EQ(vault_->ListApiKeys("interjet")->size(), 0u);
  EXPECT_EQ(AuditCount(), before);
}

TEST_F(AccessTest, OnlyAdminsManageCredentialsAndRefusalsAreAudited) {
  int64_t before = AuditCount();
  auto r = vault_->CreateApiKey({"someone", "agent"}, "interjet", "admin", "");
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(r.status().message(), "only the admin role may create API keys (role 'agent')");
  auto op = vault_->AddOperator({"someone", "agent"}, "interjet", kEmail, "admin", kPassword);
  EXPECT_EQ(op.status().code(), StatusCode::kPermissionDenied);
  CreatedApiKey k = NewKey();
  EXPECT_EQ(vault_->RevokeApiKey({"someone", "auditor"}, "interjet", k.id).code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(vault_->AuthenticateApiKey(k.key).ok());
  EXPECT_EQ(vault_->ListApiKeys("interjet")->size(), 1u);
  auto events = AuditEvents();
  ASSERT_EQ(AuditCount(), before + 4);  // 3 refusals and the create
  EXPECT_EQ(events[before].action, "apikey.create");
  EXPECT_EQ(events[before].outcome, "refused");
  EXPECT_EQ(events[before + 1].action, "operator.add");
  EXPECT_EQ(events[before + 1].outcome, "refused");
}

// --- operators ------------------------------------------------------------------

TEST_F(AccessTest, AddOperatorReturnsTheTotpEnrollment) {
  OperatorEnrollment e = NewOperator();
  EXPECT_EQ(e.operator_id.size(), 20u);
  EXPECT_EQ(e.role, "admin");
  EXPECT_EQ(e.totp_secret.size(), 32u);  // 20 bytes in base32
  EXPECT_EQ(Decoded(e.totp_secret).size(), 20u);
  EXPECT_EQ(e.otpauth_uri, "otpauth://totp/custodian:ops.lead@interjet.in?secret=" +
                               e.totp_secret +
                               "&issuer=custodian&algorithm=SHA1&digits=6&period=30");
  auto plus = vault_->AddOperator(kAdmin, "interjet", "a+b@interjet.in", "agent", kPassword);
  ASSERT_TRUE(plus.ok());
  EXPECT_THAT(plus->otpauth_uri, testing::StartsWith("otpauth://totp/custodian:a%2Bb@interjet.in?"));
  EXPECT_NE(plus->totp_secret, e.totp_secret);
}

TEST_F(AccessTest, AddOperatorRefusesBadInputAndStoresNothing) {
  int64_t before = AuditCount();
  struct Case {
    std::string email, role, password, message;
    StatusCode code = StatusCode::kInvalidArgument;
  };
  const std::vector<Case> cases = {
      {kEmail, "admin", "short pass", "the password must be at least 12 characters"},
      {kEmail, "admin", "ééééééééééé", "the password must be at least 12 characters"},
      {kEmail, "admin", "", "the password must be at least 12 characters"},
      {kEmail, "admin", std::string(4097, 'x'), "the password must be at most 4096 bytes"},
      {kEmail, "janitor", kPassword,
       "role 'janitor' is not used by the policy of tenant 'interjet'; allowed roles: admin, "
       "agent, analyst, auditor, billing, marketing"},
      {"not-an-email", "admin", kPassword, ""},
  };
  for (const Case& c : cases) {
    auto r = vault_->AddOperator(kAdmin, "interjet", c.email, c.role, c.password);
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_EQ(r.status().code(), c.code) << c.message;
    if (!c.message.empty()) {
      EXPECT_EQ(r.status().message(), c.message);
    } else {
      EXPECT_THAT(r.status().message(), testing::StartsWith("the operator's email: "));
      EXPECT_THAT(r.status().message(), testing::Not(HasSubstr("not-an-email")));
    }
  }
  EXPECT_EQ(AuditCount(), before);
  ASSERT_TRUE(vault_->AddOperator(kAdmin, "interjet", kEmail, "admin", "ééééééééééé!").ok());
  auto dup = vault_->AddOperator(kAdmin, "interjet", " OPS.LEAD@interjet.IN ", "agent", kPassword);
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.status().message(), "an operator with this email already exists in tenant 'interjet'");
  // The same email in another tenant is another operator.
  EXPECT_TRUE(vault_->AddOperator(kAdmin, "inetbills", kEmail, "admin", kPassword).ok());
}

TEST_F(AccessTest, SignInWithPasswordAndCodeGivesASession) {
  OperatorEnrollment e = NewOperator();
  auto r = SignIn(e);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->tenant, "interjet");
  EXPECT_EQ(r->actor.id, "op:" + e.operator_id);
  EXPECT_EQ(r->actor.role, "admin");
  EXPECT_EQ(r->expires_ms, now_ms_ + 12 * 60 * kMinute);
  EXPECT_EQ(r->session_token.substr(0, 4 + 20 + 1), "css_" + r->session_id + "_");
  EXPECT_EQ(r->session_token.size(), 77u);
  EXPECT_EQ(r->csrf_token.size(), 52u);

  auto s = vault_->AuthenticateSession(r->session_token);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->tenant, "interjet");
  EXPECT_EQ(s->actor.id, "op:" + e.operator_id);
  EXPECT_EQ(s->actor.role, "admin");
  EXPECT_EQ(s->operator_id, e.operator_id);
  EXPECT_EQ(s->session_id, r->session_id);
  EXPECT_EQ(s->expires_ms, r->expires_ms);
  // The email is matched in its normalized form.
  now_ms_ += 30000;
  EXPECT_TRUE(vault_->Login("interjet", " OPS.LEAD@interjet.in", kPassword,
                            Code(e.totp_secret, now_ms_), "10.0.0.1")
                  .ok());
}

TEST_F(AccessTest, EveryWrongSignInGetsTheSameAnswer) {
  OperatorEnrollment e = NewOperator();
  const std::string code = Code(e.totp_secret, now_ms_);
  const std::string wrong_code = code == "000000" ? "000001" : "000000";
  struct Case {
    std::string tenant, email, password, code;
  };
  const std::vector<Case> cases = {
      {"interjet", kEmail, "wrong password!", code},          // wrong password
      {"interjet", kEmail, kPassword, wrong_code},            // wrong code
      {"interjet", kEmail, kPassword, ""},                    // no code
      {"interjet", "nobody@interjet.in", kPassword, code},    // unknown email
      {"interjet", "not an email", kPassword, code},          // not an email
      {"nosuch", kEmail, kPassword, code},                    // unknown tenant
      {"Not A Tenant", kEmail, kPassword, code},              // not a tenant id
      {"inetbills", kEmail, kPassword, code},                 // another tenant
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    // Each from its own address, and few enough per account not to lock it.
    auto r = vault_->Login(c.tenant, c.email, c.password, c.code, "10.0.1." + std::to_string(i));
    ASSERT_FALSE(r.ok()) << i;
    ExpectUnauthenticated(r.status(), kSignInFailed);
  }
  // A code from two steps away is outside the window.
  auto stale = vault_->Login("interjet", kEmail, kPassword, Code(e.totp_secret, now_ms_ - 60000),
                             "10.0.2.1");
  ExpectUnauthenticated(stale.status(), kSignInFailed);
}

TEST_F(AccessTest, ACodeFromTheNextOrPreviousStepIsAccepted) {
  OperatorEnrollment e = NewOperator();
  auto r = vault_->Login("interjet", kEmail, kPassword, Code(e.totp_secret, now_ms_ - 30000), "a");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  now_ms_ += 60000;
  r = vault_->Login("interjet", kEmail, kPassword, Code(e.totp_secret, now_ms_ + 30000), "a");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
}

TEST_F(AccessTest, AUsedTimeStepCannotBeReplayed) {
  OperatorEnrollment e = NewOperator();
  const std::string code = Code(e.totp_secret, now_ms_);
  ASSERT_TRUE(vault_->Login("interjet", kEmail, kPassword, code, "10.0.0.1").ok());
  ExpectUnauthenticated(vault_->Login("interjet", kEmail, kPassword, code, "10.0.0.2").status(),
                        kSignInFailed);
  // Nor an older step still inside the window.
  now_ms_ += 30000;
  ExpectUnauthenticated(vault_->Login("interjet", kEmail, kPassword, code, "10.0.0.3").status(),
                        kSignInFailed);
  ASSERT_TRUE(vault_->Login("interjet", kEmail, kPassword, Code(e.totp_secret, now_ms_), "10.0.0.4")
                  .ok());
  auto events = AuditEvents();
  int replays = 0;
  for (const auto& ev : events) replays += ev.reason == "replayed one-time code";
  EXPECT_EQ(replays, 2);
}

TEST_F(AccessTest, FiveFailuresLockTheAccountForFifteenMinutes) {
  OperatorEnrollment e = NewOperator();
  for (int i = 0; i < 5; ++i) {
    // From different addresses: the account is what gets locked.
    auto r = SignIn(e, "10.0.3." + std::to_string(i), "wrong password!");
    ExpectUnauthenticated(r.status(), kSignInFailed);
  }
  // Locked: even the right password and code are refused, and say so.
  auto locked = SignIn(e, "10.0.4.1");
  ExpectUnauthenticated(locked.status(), kLocked);
  // An unknown email locks the same way (no oracle).
  for (int i = 0; i < 5; ++i) {
    (void)vault_->Login("interjet", "ghost@interjet.in", "whatever it is", "123456",
                        "10.0.5." + std::to_string(i));
  }
  ExpectUnauthenticated(
      vault_->Login("interjet", "ghost@interjet.in", "x", "123456", "10.0.6.1").status(), kLocked);

  now_ms_ += 15 * kMinute - 1000;
  ExpectUnauthenticated(SignIn(e, "10.0.4.2").status(), kLocked);
  now_ms_ += 1000;
  auto ok = SignIn(e, "10.0.4.3");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();

  int lockouts = 0;
  for (const auto& ev : AuditEvents()) {
    if (ev.action != "operator.lockout") continue;
    ++lockouts;
    EXPECT_EQ(ev.reason, "account: 5 failed sign-ins within 15 min; locked for 15 min");
    EXPECT_EQ(ev.tenant, "interjet");
  }
  EXPECT_EQ(lockouts, 2);  // the operator's account and the ghost's
}

TEST_F(AccessTest, FailuresSpreadOverTimeDoNotLock) {
  OperatorEnrollment e = NewOperator();
  for (int i = 0; i < 8; ++i) {
    ExpectUnauthenticated(SignIn(e, "10.0.7.1", "wrong password!").status(), kSignInFailed);
    now_ms_ += 4 * kMinute;  // at most 4 within any 15 minutes
  }
  ASSERT_TRUE(SignIn(e, "10.0.7.1").ok());
}

TEST_F(AccessTest, FiveFailuresFromOneAddressLockThatAddress) {
  OperatorEnrollment e = NewOperator();
  for (int i = 0; i < 5; ++i) {
    (void)vault_->Login("interjet", "user" + std::to_string(i) + "@interjet.in", kPassword,
                        "123456", "203.0.113.9");
  }
  ExpectUnauthenticated(SignIn(e, "203.0.113.9").status(), kLocked);
  ASSERT_TRUE(SignIn(e, "203.0.113.10").ok());
  bool audited = false;
  for (const auto& ev : AuditEvents()) {
    if (ev.action == "operator.lockout") {
      EXPECT_EQ(ev.reason, "remote address: 5 failed sign-ins within 15 min; locked for 15 min");
      audited = true;
    }
  }
  EXPECT_TRUE(audited);
}

TEST_F(AccessTest, LimitsAreConfigurable) {
  VaultOptions o;
  o.login_limits = {2, 60 * 1000, 30 * 1000};
  vault_ = Open(o);
  OperatorEnrollment e = NewOperator();
  (void)SignIn(e, "a", "wrong password!");
  (void)SignIn(e, "b", "wrong password!");
  ExpectUnauthenticated(SignIn(e, "c").status(), kLocked);
  now_ms_ += 30 * 1000;
  EXPECT_TRUE(SignIn(e, "c").ok());
}

TEST_F(AccessTest, SignInEventsHoldNoEmailPasswordOrCode) {
  OperatorEnrollment e = NewOperator();
  std::vector<std::string> codes;
  for (int i = 0; i < 5; ++i) {
    codes.push_back(Code(e.totp_secret, now_ms_ + 60000 * (i + 2)));
    (void)vault_->Login("interjet", kEmail, i % 2 ? "wrong password!" : kPassword, codes.back(),
                        "192.0.2.77");
  }
  now_ms_ += 15 * kMinute;
  codes.push_back(Code(e.totp_secret, now_ms_));
  auto ok = SignIn(e, "192.0.2.78");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_TRUE(vault_->Logout(ok->session_token).ok());

  std::map<std::string, int> actions;
  for (const auto& ev : AuditEvents()) {
    actions[ev.action + "/" + ev.outcome]++;
    if (ev.action.rfind("operator.", 0) == 0 && ev.action != "operator.add") {
      EXPECT_EQ(ev.actor, "op:" + e.operator_id);
      EXPECT_EQ(ev.role, "admin");
    }
  }
  EXPECT_EQ(actions["operator.add/ok"], 1);
  EXPECT_EQ(actions["operator.login/refused"], 5);
  EXPECT_EQ(actions["operator.lockout/locked"], 2);  // the account and the address
  EXPECT_EQ(actions["operator.login/ok"], 1);
  EXPECT_EQ(actions["operator.logout/ok"], 1);
  for (const std::string& text : AuditTexts()) {
    for (const std::string& secret :
         {std::string("ops.lead"), std::string("Ops.Lead"), std::string("interjet.in"),
          std::string(kPassword), std::string("wrong password!"), std::string("192.0.2"),
          e.totp_secret, ok->session_token.substr(25), ok->csrf_token}) {
      EXPECT_EQ(text.find(secret), std::string::npos) << secret << " in " << text;
    }
    for (const std::string& code : codes) {
      EXPECT_EQ(text.find(code), std::string::npos) << code << " in " << text;
    }
  }
}

// --- sessions -------------------------------------------------------------------

TEST_F(AccessTest, SessionsExpireAndLogoutRevokesThem) {
  OperatorEnrollment e = NewOperator();
  auto first = SignIn(e);
  ASSERT_TRUE(first.ok());
  now_ms_ += 30000;
  auto second = SignIn(e);
  ASSERT_TRUE(second.ok());

  ASSERT_TRUE(vault_->Logout(first->session_token).ok());
  ExpectUnauthenticated(vault_->AuthenticateSession(first->session_token).status(), kBadSession);
  ExpectUnauthenticated(vault_->Logout(first->session_token), kBadSession);
  EXPECT_TRUE(vault_->AuthenticateSession(second->session_token).ok());  // only that one

  now_ms_ = second->expires_ms - 1;
  EXPECT_TRUE(vault_->AuthenticateSession(second->session_token).ok());
  now_ms_ = second->expires_ms;
  ExpectUnauthenticated(vault_->AuthenticateSession(second->session_token).status(), kBadSession);
}

TEST_F(AccessTest, SessionLifetimeIsConfigurable) {
  VaultOptions o;
  o.session_ttl_ms = 10 * kMinute;
  vault_ = Open(o);
  OperatorEnrollment e = NewOperator();
  auto r = SignIn(e);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->expires_ms, now_ms_ + 10 * kMinute);
  now_ms_ += 10 * kMinute;
  ExpectUnauthenticated(vault_->AuthenticateSession(r->session_token).status(), kBadSession);
}

TEST_F(AccessTest, TamperedOrForeignSessionTokensAreRefused) {
  OperatorEnrollment e = NewOperator();
  auto r = SignIn(e);
  ASSERT_TRUE(r.ok());
  std::string flipped = r->session_token;
  flipped.back() = flipped.back() == 'a' ? 'b' : 'a';
  CreatedApiKey k = NewKey();
  for (const std::string& token :
       {flipped, std::string(), "css_" + k.key.substr(4), k.key, r->csrf_token,
        r->session_token + "a"}) {
    ExpectUnauthenticated(vault_->AuthenticateSession(token).status(), kBadSession);
  }
  ExpectUnauthenticated(vault_->AuthenticateApiKey(r->session_token).status(), kBadKey);
}

TEST_F(AccessTest, CsrfTokenMustMatchItsSession) {
  OperatorEnrollment e = NewOperator();
  auto a = SignIn(e);
  ASSERT_TRUE(a.ok());
  now_ms_ += 30000;
  auto b = SignIn(e);
  ASSERT_TRUE(b.ok());
  auto s = vault_->AuthenticateSession(a->session_token);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(vault_->CheckCsrf(*s, a->csrf_token).ok());
  for (const std::string& header : {std::string(), b->csrf_token, a->csrf_token + "x",
                                    a->csrf_token.substr(1), a->session_token}) {
    Status st = vault_->CheckCsrf(*s, header);
    EXPECT_EQ(st.code(), StatusCode::kPermissionDenied) << header;
    EXPECT_EQ(st.message(), "missing or wrong CSRF token");
  }
}

// --- what the store holds ---------------------------------------------------------

TEST_F(AccessTest, TheStoreHoldsNoSecret) {
  CreatedApiKey k = NewKey();
  ASSERT_TRUE(vault_->AuthenticateApiKey(k.key).ok());
  OperatorEnrollment e = NewOperator();
  auto r = SignIn(e);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(vault_->AuthenticateSession(r->session_token).ok());
  const std::string bytes = StoreBytes();
  ASSERT_FALSE(bytes.empty());
  EXPECT_NE(bytes.find(k.id), std::string::npos);  // ids are not secret: proves the scan sees rows
  const std::string key_secret = k.key.substr(25);
  const std::string session_secret = r->session_token.substr(25);
  for (const std::string& secret :
       {key_secret, key_secret.substr(0, 16), session_secret, session_secret.substr(0, 16),
        r->csrf_token, std::string(kPassword), e.totp_secret, Decoded(e.totp_secret),
        std::string("ops.lead@interjet.in"), std::string(kEmail)}) {
    EXPECT_EQ(bytes.find(secret), std::string::npos) << "secret found in the store: " << secret;
  }
}

}  // namespace
}  // namespace custodian::service
