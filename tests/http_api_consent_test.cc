// The HTTP API's consent routes against a real `custodian serve`: choices
// that take effect at once on reads, Telnyx STOP/START and email unsubscribe
// withdrawing consent, messages queued only with consent and once, and the
// cookie banner and choices from another origin. The fixture: http_api_util.h.
#include <gtest/gtest.h>

#include "http_api_util.h"

namespace custodian {
namespace {

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


TEST_F(HttpApiTest, TelnyxStopAndEmailUnsubscribeWithdrawConsent) {
  const std::string id = AddAsha("CUST-CHANNELS");
  const std::string consent = "/v1/subjects/" + id + "/consents/marketing.communications";
  auto state = [&] { return Body(Call("GET", consent, "interjet/agent"))["state"]; };
  FakeTelnyx telnyx;
  outbox::testing::HttpSink telnyx_api({{200, R"({"data":{"id":"tlx-reply"}})"}});
  SetTelnyx("interjet", telnyx, telnyx_api.url(), "https://privacy.interjet.example");
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

}  // namespace
}  // namespace custodian
