// The HTTP API against a real `custodian serve` process on loopback: every
// authenticated route without credentials, with another tenant's key, with a
// role or purpose the policy refuses, and valid; bad bodies with their exact
// problem documents and no change; tenant isolation (another tenant's subject
// is 404, exactly like one that never existed); disclosures, records and call
// matching, the public notice, operator sessions and imports. Consents and
// messages: http_api_consent_test.cc; requests: http_api_requests_test.cc; the
// server process itself (uploads, TLS, SIGTERM): http_serve_test.cc. The
// fixture: http_api_util.h.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "http_api_util.h"

namespace custodian {
namespace {

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
    {"portal_page", "the privacy portal's page: the organization's name only"},
    {"portal_js", "the privacy portal's script"},
    {"portal_codes", "asks for a code; the same answer whoever is on file (http_portal_test.cc)"},
    {"portal_session_create", "signs a person in: the code sent to a contact on file"},
    {"portal_session_delete", "the person's portal session cookie + CSRF (http_portal_test.cc)"},
    {"portal_me", "the person's portal session cookie: only their own (http_portal_test.cc)"},
    {"portal_request_create", "the person's portal session cookie + CSRF: only about themselves"},
    {"portal_consent_put", "the person's portal session cookie + CSRF: only their own choices"},
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

}  // namespace
}  // namespace custodian
