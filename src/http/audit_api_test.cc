// GET /v1/audit through the real route handlers (authentication included)
// over a real vault: roles, tenant isolation, filters, cursor paging, bad
// queries; and data routes answering 503, serving nothing, when the audit
// log cannot be written (fail closed at the HTTP layer).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <future>
#include <nlohmann/json.hpp>

#include "http/api.h"
#include "http/router.h"
#include "vault_test_util.h"

namespace custodian::http {
namespace {

using nlohmann::json;

class AuditApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    vault_ = testing_util::OpenTestVault(tmp_.path() / "data", service::SystemClockMs);
    ASSERT_NE(vault_, nullptr);
    ASSERT_TRUE(testing_util::CreateExampleTenant(*vault_, "interjet").ok());
    ASSERT_TRUE(testing_util::CreateExampleTenant(*vault_, "intnet", "intnet-iq").ok());
    for (const auto& [tenant, role] : std::vector<std::pair<std::string, std::string>>{
             {"interjet", "auditor"}, {"interjet", "admin"}, {"interjet", "agent"},
             {"intnet", "auditor"}}) {
      auto k = vault_->CreateApiKey({"test", "admin"}, tenant, role, "");
      ASSERT_TRUE(k.ok()) << k.status().ToString();
      keys_[tenant + "/" + role] = k->key;
    }
    auto api = RegisterApi(router_, *vault_, {});
    ASSERT_TRUE(api.ok()) << api.status().ToString();
    api_ = *api;
  }
  Response Call(const std::string& route, const std::string& key, Params query = {},
                std::string body = "", Params path = {}) {
    for (const Route* r : router_.routes()) {
      if (r->name != route) continue;
      Request req;
      req.method = r->method;
      req.path = r->pattern;
      req.route_name = route;
      req.query_params = std::move(query);
      req.path_params = std::move(path);
      req.headers.emplace_back("Authorization", "Bearer " + key);
      if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
      req.body = std::move(body);
      Response resp = r->handler(req);
      if (!resp.deferred) return resp;
      // A lookup answers once its audit events commit: wait for that.
      std::promise<Response> answer;
      std::future<Response> later = answer.get_future();
      resp.deferred->OnReady([&answer](Deferred::Make make) { answer.set_value(make()); });
      return later.get();
    }
    ADD_FAILURE() << "no route " << route;
    return {};
  }
  json Page(const std::string& key, Params query = {}) {
    Response r = Call("audit_list", key, std::move(query));
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body);
  }
  std::string AddSubject(const std::string& tenant, const std::string& name) {
    auto r = vault_->AddSubject({"test", "admin"}, tenant, {{"user.name", name}}, std::nullopt);
    EXPECT_TRUE(r.ok());
    return r->subject_id;
  }

  testing_util::TempDir tmp_;
  std::unique_ptr<service::Vault> vault_;
  Router router_;
  std::shared_ptr<Api> api_;
  std::map<std::string, std::string> keys_;
};

TEST_F(AuditApiTest, OnlyAuditorsAndAdminsReadAndTheRefusalIsAudited) {
  Response agent = Call("audit_list", keys_["interjet/agent"]);
  EXPECT_EQ(agent.status, 403) << agent.body;
  EXPECT_EQ(json::parse(agent.body)["type"], "urn:custodian:problem:permission-denied");
  json page = Page(keys_["interjet/auditor"], {{"action", "audit.read"}});
  ASSERT_EQ(page["events"].size(), 1u);
  EXPECT_EQ(page["events"][0]["outcome"], "refused");
  EXPECT_EQ(page["events"][0]["role"], "agent");
  EXPECT_EQ(Call("audit_list", keys_["interjet/admin"]).status, 200);
  EXPECT_EQ(Call("audit_list", "cst_nope_nope").status, 401);
}

TEST_F(AuditApiTest, EachTenantSeesOnlyItsOwnEvents) {
  std::string asha = AddSubject("interjet", "Asha Rao");
  std::string omar = AddSubject("intnet", "Omar");
  json interjet = Page(keys_["interjet/auditor"]);
  ASSERT_FALSE(interjet["events"].empty());
  for (const auto& e : interjet["events"]) {
    EXPECT_NE(e["subject"], omar);
    EXPECT_EQ(e.dump().find("intnet"), std::string::npos) << e.dump();
  }
  // Another tenant's subject: nothing, exactly as a subject that never existed.
  EXPECT_TRUE(Page(keys_["intnet/auditor"], {{"subject", asha}})["events"].empty());
  EXPECT_EQ(Page(keys_["intnet/auditor"], {{"subject", omar}})["events"].size(), 1u);
  // No personal value in any event.
  for (const auto& body : {interjet.dump(), Page(keys_["intnet/auditor"]).dump()}) {
    EXPECT_EQ(body.find("Asha"), std::string::npos);
    EXPECT_EQ(body.find("Omar"), std::string::npos);
  }
}

TEST_F(AuditApiTest, FiltersAndCursorPaging) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(AddSubject("interjet", "P" + std::to_string(i)));
  json one = Page(keys_["interjet/auditor"], {{"subject", ids[2]}});
  ASSERT_EQ(one["events"].size(), 1u);
  EXPECT_EQ(one["events"][0]["action"], "subject.add");
  EXPECT_EQ(one["events"][0]["actor"], "test");
  EXPECT_EQ(one["events"][0]["hash"].get<std::string>().size(), 64u);
  EXPECT_TRUE(one["next_after"].is_null());
  EXPECT_EQ(Page(keys_["interjet/auditor"], {{"actor", "test"}, {"action", "subject.add"}})
                ["events"].size(),
            5u);
  EXPECT_TRUE(Page(keys_["interjet/auditor"], {{"from", "2999-01-01"}})["events"].empty());
  EXPECT_TRUE(Page(keys_["interjet/auditor"], {{"to", "2000-01-01"}})["events"].empty());
  EXPECT_TRUE(Page(keys_["interjet/auditor"], {{"purpose", "marketing"}})["events"].empty());

  std::vector<std::string> seen;
  Params q = {{"action", "subject.add"}, {"limit", "2"}};
  for (int pages = 0; pages < 5; ++pages) {
    json p = Page(keys_["interjet/auditor"], q);
    for (const auto& e : p["events"]) seen.push_back(e["subject"]);
    if (p["next_after"].is_null()) break;
    q = {{"action", "subject.add"}, {"limit", "2"}, {"after", std::to_string(p["next_after"].get<int64_t>())}};
  }
  EXPECT_EQ(seen, ids);
}

TEST_F(AuditApiTest, BadQueriesAre400NamingTheParameter) {
  struct Case {
    Params query;
    std::string detail;
  };
  for (const Case& c : std::vector<Case>{
           {{{"limit", "0"}}, "'limit' must be 1 to 1000"},
           {{{"limit", "abc"}}, "'limit' must be 1 to 1000"},
           {{{"after", "-1"}}, "'after' must be a seq: the next_after of the previous page"},
           {{{"from", "soon"}}, "'from': "},
           {{{"tenant", "intnet"}}, "unknown query parameter 'tenant'"}}) {
    Response r = Call("audit_list", keys_["interjet/auditor"], c.query);
    EXPECT_EQ(r.status, 400) << c.detail;
    EXPECT_EQ(json::parse(r.body)["detail"].get<std::string>().rfind(c.detail, 0), 0u) << r.body;
  }
}

// Fail closed at the HTTP layer: with the audit log failing, data routes
// answer 503 and the response holds no personal value.
TEST_F(AuditApiTest, FailingAuditStorageMakesDataRoutes503AndServesNothing) {
  std::string asha = AddSubject("interjet", "Asha Rao");
  auto agent = vault_->CreateApiKey({"test", "admin"}, "interjet", "agent", "reader");
  {
    testing_util::FailAuditAppends(tmp_.path() / "data/custodian.db");
  }
  Response show = Call("subject_get", agent->key, {{"purpose", "essential.service"}}, "",
                       {{"id", asha}});
  EXPECT_EQ(show.status, 503) << show.body;
  EXPECT_EQ(show.body.find("Asha"), std::string::npos);
  Response lookup = Call("subject_lookup", agent->key, {{"purpose", "essential.service"}},
                         R"({"external_id":"none"})");
  EXPECT_EQ(lookup.status, 503) << lookup.body;
  Response call = Call("call_match", agent->key, {{"purpose", "essential.service"}},
                       R"({"caller":"+919876543210"})");
  EXPECT_EQ(call.status, 503) << call.body;
  Response add = Call("subject_create", keys_["interjet/admin"], {},
                      R"({"fields":{"user.name":"Ravi"}})");
  EXPECT_EQ(add.status, 503) << add.body;
  EXPECT_EQ(Call("audit_list", keys_["interjet/auditor"]).status, 503);
  EXPECT_EQ(vault_->GetTenant("interjet")->subjects, 1);
}

}  // namespace
}  // namespace custodian::http
