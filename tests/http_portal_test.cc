// The privacy portal over HTTP against a real `custodian serve`: the page, a
// code delivered through the outbox to the number on file, the session cookie
// scoped to the tenant's portal, CSRF on unsafe methods, a request carried
// out at once with its one-time download, bad bodies with their pointers, the
// same answer for a contact not on file, sign-out, and the limits per contact
// and per address. The fixture: http_api_util.h.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "http_api_util.h"

namespace custodian {
namespace {

constexpr char kPortal[] = "/v1/portal/interjet";

// The `custodian_portal=...` pair of a Set-Cookie header.
std::string CookiePair(const std::string& set_cookie) {
  return set_cookie.substr(0, set_cookie.find(';'));
}

TEST_F(HttpApiTest, ThePrivacyPortalSignsAPersonInByCodeAndTakesTheirRequests) {
  auto added = Call(
      "POST", "/v1/subjects", "interjet/admin",
      json{{"fields", {{"user.name", "Kavya Nair"}, {"user.contact.phone_number", "98450 55520"}}},
           {"external_id", "CUST-PORTAL"}}
          .dump());
  const std::string id = Body(added).value("id", "");
  ASSERT_FALSE(id.empty()) << added.body;
  FakeTelnyx telnyx;
  outbox::testing::HttpSink telnyx_api({{200, R"({"data":{"id":"tlx-portal"}})"}});
  SetTelnyx("interjet", telnyx, telnyx_api.url());

  // The page and its script, public; no page for a tenant that does not exist.
  auto page = Call("GET", "/portal/interjet", "");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.Header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("<title>Interjet privacy portal</title>"), std::string::npos);
  EXPECT_NE(page.body.find("data-tenant=\"interjet\""), std::string::npos);
  EXPECT_EQ(page.body.find("{{"), std::string::npos);
  EXPECT_NE(page.Header("Content-Security-Policy").find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(page.Header("X-Frame-Options"), "DENY");
  EXPECT_EQ(Call("GET", "/portal/nosuch", "").status, 404);
  auto script = Call("GET", "/portal-assets/portal.js", "");
  EXPECT_EQ(script.status, 200);
  EXPECT_NE(script.body.find("/v1/portal/"), std::string::npos);

  // Bad bodies: each its own words and pointer, nothing sent.
  struct Bad {
    std::string body;
    int status;
    std::string detail;
    std::string pointer;
  };
  for (const Bad& bad : std::vector<Bad>{
           {"{}", 400, "give your phone number or your email address (one of them)", ""},
           {R"({"phone": "1", "email": "a@b.in"})", 400,
            "give your phone number or your email address (one of them)", ""},
           {R"({"phone": 98450})", 400, "", "/phone"},
           {R"({"phone": "not a number"})", 400, "", "/phone"},
           {R"({"fax": "98450 55520"})", 400, "", "/fax"},
           {"[1]", 400, "", ""}}) {
    auto r = Call("POST", std::string(kPortal) + "/codes", "", bad.body);
    EXPECT_EQ(r.status, bad.status) << bad.body << ": " << r.body;
    if (!bad.detail.empty()) {
      EXPECT_EQ(Body(r)["detail"], bad.detail) << bad.body;
    }
    if (!bad.pointer.empty()) {
      EXPECT_EQ(Body(r)["pointer"], bad.pointer) << bad.body;
    }
  }
  EXPECT_EQ(Call("POST", std::string(kPortal) + "/codes", "", "phone=98450",
                 {{"Content-Type", "application/x-www-form-urlencoded"}})
                .status,
            415);

  // A contact on file and one not: the same answer.
  auto asked = Call("POST", std::string(kPortal) + "/codes", "",
                    json{{"phone", "98450 55520"}}.dump());
  ASSERT_EQ(asked.status, 202) << asked.body;
  auto nobody = Call("POST", std::string(kPortal) + "/codes", "",
                     json{{"phone", "98450 55529"}}.dump());
  ASSERT_EQ(nobody.status, 202) << nobody.body;
  json a = Body(asked), n = Body(nobody);
  EXPECT_EQ(a["message"], "if this number is on file with us, a code is on its way to it");
  EXPECT_EQ(a["message"], n["message"]);
  EXPECT_EQ(a["channel"], n["channel"]);
  for (const char* key : {"challenge", "channel", "expires_at", "message"}) {
    EXPECT_TRUE(a.contains(key) && n.contains(key)) << key;
  }
  EXPECT_EQ(a.size(), n.size());

  const std::string code = WaitForCode(telnyx_api, "+919845055520");
  ASSERT_EQ(code.size(), 6u);
  EXPECT_TRUE(CodesSentTo(telnyx_api, "+919845055529").empty()) << "a code to a number not on file";

  const std::string challenge = a["challenge"];
  auto wrong = Call("POST", std::string(kPortal) + "/session", "",
                    json{{"challenge", challenge}, {"code", code == "000000" ? "111111" : "000000"}}
                        .dump());
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(Body(wrong)["detail"], "wrong or expired code (4 attempts left)");
  EXPECT_EQ(Body(wrong)["pointer"], "/code");
  EXPECT_TRUE(wrong.Header("Set-Cookie").empty());
  auto missing = Call("POST", std::string(kPortal) + "/session", "",
                      json{{"challenge", challenge}}.dump());
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(Body(missing)["pointer"], "/code");
  auto in = Call("POST", std::string(kPortal) + "/session", "",
                 json{{"challenge", challenge}, {"code", code}}.dump());
  ASSERT_EQ(in.status, 201) << in.body;
  const std::string set_cookie = in.Header("Set-Cookie");
  EXPECT_EQ(set_cookie.rfind("custodian_portal=cps_" + challenge + "_", 0), 0u) << set_cookie;
  EXPECT_NE(set_cookie.find("; Path=/v1/portal/interjet; HttpOnly; SameSite=Strict; Max-Age="),
            std::string::npos)
      << set_cookie;
  const std::string cookie = CookiePair(set_cookie);
  const std::string csrf = Body(in)["csrf_token"];
  ASSERT_FALSE(csrf.empty());

  // What the person sees; not without the cookie, nor in another tenant's portal.
  auto me = Call("GET", std::string(kPortal) + "/me", "", "", {{"Cookie", cookie}});
  ASSERT_EQ(me.status, 200) << me.body;
  json m = Body(me);
  EXPECT_EQ(m["subject"], id);
  EXPECT_EQ(m["organization"], "Interjet");
  ASSERT_EQ(m["rights"].size(), 5u);
  EXPECT_EQ(m["rights"][0]["type"], "access");
  EXPECT_EQ(m["rights"][0]["title"], "Access your data");
  EXPECT_TRUE(m["requests"].empty());
  EXPECT_FALSE(m["consents"].empty());
  EXPECT_TRUE(m["consents"][0].contains("label"));
  EXPECT_EQ(m.dump().find("98450"), std::string::npos) << "no contact is shown";
  auto anonymous = Call("GET", std::string(kPortal) + "/me", "");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(Body(anonymous)["detail"],
            "not signed in: ask for a code at POST /v1/portal/interjet/codes");
  auto elsewhere = Call("GET", "/v1/portal/intnet/me", "", "", {{"Cookie", cookie}});
  EXPECT_EQ(elsewhere.status, 401);
  EXPECT_EQ(Body(elsewhere)["detail"], "invalid or expired session");

  // Unsafe methods need the CSRF token.
  const std::string requests = std::string(kPortal) + "/requests";
  const std::string access = json{{"type", "access"}}.dump();
  auto no_csrf = Call("POST", requests, "", access, {{"Cookie", cookie}});
  EXPECT_EQ(no_csrf.status, 403);
  EXPECT_EQ(Body(no_csrf)["detail"], "missing or wrong CSRF token");
  const http::Headers session = {{"Cookie", cookie}, {"X-CSRF-Token", csrf}};
  auto other = Call("POST", requests, "", json{{"type", "access"}, {"subject", "sub_x"}}.dump(),
                    session);
  EXPECT_EQ(other.status, 400);
  EXPECT_EQ(Body(other)["pointer"], "/subject");
  auto objection = Call("POST", requests, "",
                        json{{"type", "objection"}, {"purpose", "functional.service.improve"}}.dump(),
                        session);
  EXPECT_EQ(objection.status, 409) << objection.body;
  auto correction = Call("POST", requests, "",
                         json{{"type", "correction"}, {"corrections", {{"user.nickname", "K"}}}}.dump(),
                         session);
  EXPECT_EQ(correction.status, 400) << correction.body;
  EXPECT_EQ(Body(correction)["pointer"], "/corrections/user.nickname") << correction.body;
  // Nothing was recorded by the refusals.
  EXPECT_TRUE(Body(Call("GET", std::string(kPortal) + "/me", "", "", {{"Cookie", cookie}}))["requests"]
                  .empty());

  auto made = Call("POST", requests, "", access, session);
  ASSERT_EQ(made.status, 201) << made.body;
  json r = Body(made);
  EXPECT_EQ(r["state"], "completed");
  EXPECT_EQ(r["subject"], id);
  EXPECT_FALSE(r.contains("assigned"));
  ASSERT_TRUE(r["download_url"].is_string()) << made.body;
  auto zip = Call("GET", r["download_url"].get<std::string>(), "");
  EXPECT_EQ(zip.status, 200);
  EXPECT_NE(zip.body.find("subject.json"), std::string::npos);
  EXPECT_EQ(Call("GET", r["download_url"].get<std::string>(), "").status, 410);
  // The company sees the request and how it was verified.
  auto seen = Body(Call("GET", "/v1/requests/" + r["id"].get<std::string>(), "interjet/agent"));
  EXPECT_EQ(seen["resolution"],
            "verified by a code sent to a contact on file (privacy portal sign-in)");
  auto listed = Body(Call("GET", std::string(kPortal) + "/me", "", "", {{"Cookie", cookie}}));
  ASSERT_EQ(listed["requests"].size(), 1u);
  EXPECT_FALSE(listed["requests"][0].contains("download_url"));

  // Choices: given and withdrawn in the ledger as made in the portal.
  const std::string marketing = std::string(kPortal) + "/consents/marketing.communications";
  auto consent_no_csrf =
      Call("PUT", marketing, "", json{{"state", "granted"}}.dump(), {{"Cookie", cookie}});
  EXPECT_EQ(consent_no_csrf.status, 403);
  auto granted = Call("PUT", marketing, "", json{{"state", "granted"}}.dump(), session);
  ASSERT_EQ(granted.status, 200) << granted.body;
  EXPECT_EQ(Body(granted)["state"], "granted");
  EXPECT_EQ(Body(granted)["label"], "Special offers via WhatsApp, SMS or email") << granted.body;
  auto bad_state = Call("PUT", marketing, "", json{{"state", "maybe"}}.dump(), session);
  EXPECT_EQ(bad_state.status, 400);
  EXPECT_EQ(Body(bad_state)["pointer"], "/state");
  auto interest = Call("PUT", std::string(kPortal) + "/consents/functional.service.improve", "",
                       json{{"state", "withdrawn"}}.dump(), session);
  EXPECT_EQ(interest.status, 409) << interest.body;
  auto ledger = Body(Call("GET", "/v1/subjects/" + id + "/consents/marketing.communications",
                          "interjet/agent"));
  EXPECT_EQ(ledger["state"], "granted") << ledger.dump();

  // Signed out: the cookie no longer works.
  EXPECT_EQ(Call("DELETE", std::string(kPortal) + "/session", "", "", {{"Cookie", cookie}}).status,
            403);
  auto out = Call("DELETE", std::string(kPortal) + "/session", "", "", session);
  EXPECT_EQ(out.status, 204) << out.body;
  EXPECT_NE(out.Header("Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(Call("GET", std::string(kPortal) + "/me", "", "", {{"Cookie", cookie}}).status, 401);

  // The audit trail has every step, never the number or the code.
  auto events = Body(Call("GET", "/v1/audit?limit=1000&subject=" + id, "interjet/auditor"));
  std::set<std::string> actions;
  for (const json& e : events.value("events", json::array())) actions.insert(e["action"]);
  for (const char* action : {"portal.code", "portal.sign_in", "portal.read", "request.submit",
                             "portal.sign_out"}) {
    EXPECT_TRUE(actions.count(action)) << action << " in " << events.dump();
  }
  EXPECT_EQ(events.dump().find("9845055520"), std::string::npos);
  EXPECT_EQ(events.dump().find(code), std::string::npos);

  // Five codes an hour per contact (one was asked above), then 429; and at
  // most 20 sign-in requests a minute from one address (this test has sent
  // 12 so far), then 429 too.
  int contact_limited = 0, address_limited = 0;
  for (int i = 0; i < 30 && address_limited == 0; ++i) {
    auto again = Call("POST", std::string(kPortal) + "/codes", "",
                      json{{"phone", "98450 55520"}}.dump());
    if (again.status == 202) continue;
    ASSERT_EQ(again.status, 429) << again.body;
    EXPECT_EQ(Body(again)["type"], "urn:custodian:problem:too-many-requests");
    EXPECT_FALSE(again.Header("Retry-After").empty());
    const std::string detail = Body(again)["detail"];
    if (detail.find("this contact") == 0) {
      EXPECT_EQ(detail,
                "this contact has asked for 5 codes in the last hour; wait an hour before asking "
                "again");
      EXPECT_EQ(again.Header("Retry-After"), "3600");
      ++contact_limited;
    } else {
      EXPECT_EQ(detail,
                "too many sign-in attempts from this address; wait as long as Retry-After says");
      ++address_limited;
    }
  }
  EXPECT_GT(contact_limited, 0);
  EXPECT_EQ(address_limited, 1);
}

}  // namespace
}  // namespace custodian
