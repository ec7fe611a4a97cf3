// `custodian demo`: the five example tenants with three people each and an
// admin key per tenant (demo-keys.json, 0600), served at once; the privacy
// portal usable end to end because messages go to DIR/outbox.txt instead of
// being sent; a second run serves the same data; a directory that cannot be
// made is refused.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <thread>

#include "http_api_util.h"

namespace custodian {
namespace {

TEST(DemoCommandTest, ServesTheExampleTenantsWithAWorkingPortal) {
  TempDir dir;
  const std::string data = (dir.path() / "demo").string();
  const std::string log = (dir.path() / "demo.log").string();
  json keys;
  {
    ServerProcess demo(data, log, {}, "demo");
    ASSERT_NE(demo.port(), 0) << ReadFile(log);
    EXPECT_NE(ReadFile(log).find("the five example tenants"), std::string::npos) << ReadFile(log);
    struct stat st{};
    ASSERT_EQ(::stat((data + "/demo-keys.json").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    keys = json::parse(ReadFile(data + "/demo-keys.json"));
    ASSERT_EQ(keys.size(), 5u);
    for (const char* tenant : {"interjet", "interindo", "intnet-iq", "inetbills", "contetra"}) {
      SCOPED_TRACE(tenant);
      ASSERT_TRUE(keys.contains(tenant));
      EXPECT_EQ(keys[tenant]["people"].size(), 3u);
      TestClient c;
      ASSERT_FALSE(c.Connect(demo.port()));
      EXPECT_EQ(c.Request("GET", std::string("/portal/") + tenant, "", {}).status, 200);
      TestClient k;
      ASSERT_FALSE(k.Connect(demo.port()));
      auto policy = k.Request("GET", "/v1/policy", "",
                              {{"Authorization", "Bearer " + keys[tenant]["admin_key"].get<std::string>()}});
      EXPECT_EQ(policy.status, 200) << policy.body;
    }
    // The portal end to end: Asha asks for a code, reads it from the
    // message file, signs in and sees herself.
    const std::string phone = keys["interjet"]["people"][0]["phone"];
    auto call = [&](const std::string& method, const std::string& target, const std::string& body,
                    http::Headers headers = {}) {
      TestClient c;
      EXPECT_FALSE(c.Connect(demo.port()));
      if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
      return c.Request(method, target, body, headers);
    };
    auto asked = call("POST", "/v1/portal/interjet/codes", json{{"phone", phone}}.dump());
    ASSERT_EQ(asked.status, 202) << asked.body;
    std::string code;
    for (int i = 0; i < 500 && code.empty(); ++i) {
      const std::string sent = ReadFile(data + "/outbox.txt");
      const std::size_t at = sent.find("portal code is ");
      if (at != std::string::npos) code = sent.substr(at + 15, 6);
      if (code.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(code.size(), 6u) << ReadFile(log);
    auto in = call("POST", "/v1/portal/interjet/session",
                   json{{"challenge", json::parse(asked.body)["challenge"]}, {"code", code}}.dump());
    ASSERT_EQ(in.status, 201) << in.body;
    const std::string cookie = in.Header("Set-Cookie").substr(0, in.Header("Set-Cookie").find(';'));
    auto me = call("GET", "/v1/portal/interjet/me", "", {{"Cookie", cookie}});
    ASSERT_EQ(me.status, 200) << me.body;
    EXPECT_EQ(json::parse(me.body)["organization"], "Interjet");
    EXPECT_EQ(demo.Terminate(), 0);
  }
  // Again: the same data and keys, served.
  ServerProcess again(data, log, {}, "demo");
  ASSERT_NE(again.port(), 0) << ReadFile(log);
  EXPECT_NE(ReadFile(log).find("serving the demo data already in"), std::string::npos);
  TestClient c;
  ASSERT_FALSE(c.Connect(again.port()));
  auto policy = c.Request("GET", "/v1/policy", "",
                          {{"Authorization", "Bearer " + keys["contetra"]["admin_key"].get<std::string>()}});
  EXPECT_EQ(policy.status, 200);
  EXPECT_EQ(again.Terminate(), 0);

  // Under a file (not even root can make that directory): refused, nothing made.
  const std::string file = (dir.path() / "a-file").string();
  testing_util::WriteFile(file, "not a directory");
  RunOptions quick;
  quick.timeout = std::chrono::seconds(60);
  RunResult refused = RunCustodian({"demo", "--data-dir", file + "/demo", "--listen", "127.0.0.1:0"},
                                   quick);
  EXPECT_EQ(refused.exit_code, 1) << refused.Describe();
  EXPECT_EQ(ReadFile(file), "not a directory");
}

}  // namespace
}  // namespace custodian
