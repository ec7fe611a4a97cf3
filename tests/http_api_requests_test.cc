// The HTTP API's data-subject requests against a real `custodian serve`: due
// dates and the state machine, the role checked before the body's values, the
// one-time export link, verification codes to the number on file, and every
// request type end to end. The fixture: http_api_util.h.
#include <gtest/gtest.h>

#include "http_api_util.h"

namespace custodian {
namespace {

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
  SetTelnyx("interjet", telnyx, telnyx_api.url());
  auto request = Body(Call("POST", "/v1/requests", "interjet/agent",
                           json{{"type", "erasure"}, {"subject", id}}.dump()));
  const std::string path = "/v1/requests/" + request["id"].get<std::string>();
  auto sent = Call("POST", path + "/code", "interjet/agent", json{{"channel", "sms"}}.dump());
  ASSERT_EQ(sent.status, 202) << sent.body;
  EXPECT_EQ(sent.body.find("code is"), std::string::npos);
  const std::string code = WaitForCode(telnyx_api, "+919845055502");
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
  auto next_code = [&]() { return WaitForCode(telnyx_api, "+919845055509", codes_seen++); };
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

}  // namespace
}  // namespace custodian
