// Random requests on every route api/openapi.yaml documents, against a real
// `custodian serve` (the fixture: http_api_util.h): path parameters, query
// parameters, headers, credentials, media types and JSON bodies drawn from
// what the document declares and from bad values, with a fixed seed so that
// a failure reproduces. Whatever is sent, the server answers without a
// server error (5xx), every problem document is one (its status that of the
// response, a type and a title, a pointer that is a JSON pointer), and the
// server is still healthy at the end (CUSTODIAN_RANDOM_SEED and
// CUSTODIAN_RANDOM_ROUNDS draw more on demand). The hand-written suites check each
// refusal's exact text; this one looks for the inputs nobody thought of.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <thread>

#include "http/openapi_testing.h"
#include "http_api_util.h"

namespace custodian {
namespace {

struct Operation {
  std::string method;
  std::string path;  // with {name} segments
  std::vector<std::pair<std::string, std::string>> params;  // (in, name)
  std::vector<std::string> body_members;                    // top-level properties
  std::vector<nlohmann::json> examples;                     // the documented JSON bodies
  bool has_body = false;
};

// A YAML example as JSON: quoted scalars are strings, plain ones what they read as.
nlohmann::json ToJson(const YAML::Node& node) {
  if (node.IsMap()) {
    nlohmann::json o = nlohmann::json::object();
    for (auto it = node.begin(); it != node.end(); ++it) o[it->first.as<std::string>()] = ToJson(it->second);
    return o;
  }
  if (node.IsSequence()) {
    nlohmann::json a = nlohmann::json::array();
    for (const YAML::Node& item : node) a.push_back(ToJson(item));
    return a;
  }
  if (node.IsNull()) return nullptr;
  const std::string text = node.as<std::string>();
  if (node.Tag() != "!") {
    if (text == "true" || text == "false") return text == "true";
    int64_t i = 0;
    double d = 0;
    if (YAML::convert<int64_t>::decode(node, i)) return i;
    if (YAML::convert<double>::decode(node, d)) return d;
  }
  return text;
}

using http::testing::Deref;

std::vector<Operation> Operations() {
  const YAML::Node doc = YAML::Load(std::string(http::EmbeddedOpenApi()));
  std::vector<Operation> ops;
  for (auto p = doc["paths"].begin(); p != doc["paths"].end(); ++p) {
    const YAML::Node item = p->second;
    for (const char* method : {"get", "post", "put", "patch", "delete"}) {
      const YAML::Node op = item[method];
      if (!op) continue;
      Operation o;
      o.method = method;
      std::transform(o.method.begin(), o.method.end(), o.method.begin(), ::toupper);
      o.path = p->first.as<std::string>();
      for (const YAML::Node& list : {item["parameters"], op["parameters"]}) {
        if (!list) continue;
        for (const YAML::Node& raw : list) {
          const YAML::Node param = Deref(doc, raw);
          o.params.emplace_back(param["in"].as<std::string>(), param["name"].as<std::string>());
        }
      }
      if (const YAML::Node body = op["requestBody"]) {
        o.has_body = true;
        const YAML::Node json_body = body["content"]["application/json"];
        if (json_body && json_body["example"]) o.examples.push_back(ToJson(json_body["example"]));
        if (json_body && json_body["examples"]) {
          for (auto e = json_body["examples"].begin(); e != json_body["examples"].end(); ++e) {
            const YAML::Node example = Deref(doc, e->second);
            if (example["value"]) o.examples.push_back(ToJson(example["value"]));
          }
        }
        if (json_body && json_body["schema"]) {
          const YAML::Node schema = Deref(doc, json_body["schema"]);
          if (schema["properties"]) {
            for (auto m = schema["properties"].begin(); m != schema["properties"].end(); ++m) {
              o.body_members.push_back(m->first.as<std::string>());
            }
          }
        }
      }
      ops.push_back(std::move(o));
    }
  }
  return ops;
}

class RandomRequests {
 public:
  RandomRequests(std::vector<std::string> ids, uint64_t seed) : ids_(std::move(ids)), rng_(seed) {}

  std::string Segment() {
    static const std::vector<std::string> kBad = {
        "x", "%00", "%2e%2e", "..", "%FF", std::string(300, 'a'), "cst_abc_def", "%C3%A9",
        "12345", "interjet", "intnet", "essential.service", "marketing.advertising", "-", "%20"};
    return Pick(2) ? ids_[rng_() % ids_.size()] : kBad[rng_() % kBad.size()];
  }
  std::string Value() {
    static const std::vector<std::string> kValues = {
        "", "essential.service", "essential.service.call_matching", "marketing.advertising",
        "functional.service.improve", "true", "false", "maybe", "-1", "0", "1000000",
        "99999999999999999999", "2026-01-01T00:00:00Z", "2026-02-30", "not-a-time", "%FF", "%00",
        "subjects", "records", "billing", "IN", "ZZ", "+91 98450 55501", "%2B91%2098450%2055501",
        std::string(2000, 'z'), "x%20y+z", "a&b=c"};
    return kValues[rng_() % kValues.size()];
  }
  nlohmann::json Json(int depth) {
    switch (rng_() % (depth > 2 ? 6 : 8)) {
      case 0: return Value();
      case 1: return "+91 98450 55501";
      case 2: {
        static const std::vector<nlohmann::json> kNumbers = {
            0, -1, 3.5, 1e308, -1e308, INT64_MAX, INT64_MIN, UINT64_MAX, 12345};
        return kNumbers[rng_() % kNumbers.size()];
      }
      case 3: return Pick(2);
      case 4: return nullptr;
      case 5: return std::string("caf\xC3\xA9 \xE2\x82\xAC \\u0000 \"q\"");
      case 6: {
        nlohmann::json a = nlohmann::json::array();
        for (int n = rng_() % 4; n > 0; --n) a.push_back(Json(depth + 1));
        return a;
      }
      default: return Object({}, depth + 1);
    }
  }
  nlohmann::json Object(const std::vector<std::string>& members, int depth) {
    static const std::vector<std::string> kKeys = {
        "fields", "user.name", "user.contact.phone_number", "user.contact.email", "phone",
        "email", "external_id", "purpose", "caller", "callee", "kind", "type", "subject",
        "action", "reason", "unknown", ""};
    nlohmann::json o = nlohmann::json::object();
    for (int n = rng_() % 5; n > 0; --n) {
      const std::string key = !members.empty() && Pick(3) ? members[rng_() % members.size()]
                                                          : kKeys[rng_() % kKeys.size()];
      o[key] = Json(depth);
    }
    return o;
  }
  // A body and its media type ("" = no Content-Type).
  std::pair<std::string, std::string> Body(const Operation& op) {
    if (!op.has_body && !Pick(8)) return {"", ""};
    static const std::vector<std::string> kTypes = {
        "application/json", "application/json", "application/json", "text/csv",
        "text/plain", "application/json; charset=latin1", ""};
    const std::string type = kTypes[rng_() % kTypes.size()];
    if (!op.examples.empty() && Pick(2)) {
      nlohmann::json body = op.examples[rng_() % op.examples.size()];
      for (int n = rng_() % 3; n > 0; --n) Mutate(body, 0);
      return {body.dump(), Pick(6) ? type : "application/json"};
    }
    switch (rng_() % 8) {
      case 0: return {"", type};
      case 1: return {"{\"fields\":", type};
      case 2: return {Pick(2) ? "[1]" : "null", type};
      case 3: return {"{\"phone\":\"\xFF\xFE\"}", type};  // not UTF-8
      case 4: return {"a,b\n1,2\n", type};
      default: return {Object(op.body_members, 0).dump(), type};
    }
  }
  // Replaces, drops or adds one member somewhere in `j`.
  void Mutate(nlohmann::json& j, int depth) {
    if (j.is_object() && !j.empty() && depth < 4 && Pick(2)) {
      auto it = j.begin();
      std::advance(it, rng_() % j.size());
      if (it->is_structured() && Pick(2)) return Mutate(*it, depth + 1);
      if (Pick(3)) {
        j.erase(it);
      } else {
        *it = Json(depth + 1);
      }
      return;
    }
    if (j.is_array() && !j.empty() && depth < 4) return Mutate(j[rng_() % j.size()], depth + 1);
    if (j.is_object()) {
      j[Pick(2) ? "unknown" : "fields"] = Json(depth + 1);
    } else {
      j = Json(depth + 1);
    }
  }
  bool Pick(int one_in) { return rng_() % one_in == 0; }
  std::size_t Below(std::size_t n) { return rng_() % n; }

 private:
  std::vector<std::string> ids_;
  std::mt19937_64 rng_;
};

struct RandomRequest {
  std::string method, target, key, body;
  http::Headers headers;
  std::string Describe() const {
    return method + " " + target + " key '" + key + "' body " + body.substr(0, 300);
  }
};

// One request on `op`, with credentials from `keys` (the fixture's names).
RandomRequest Draw(const Operation& op, RandomRequests& random,
                   const std::vector<std::string>& keys) {
  RandomRequest r;
  r.method = op.method;
  std::stringstream segments(op.path.substr(1));
  std::string segment;
  while (std::getline(segments, segment, '/')) {
    r.target += "/" + (segment.front() == '{' ? random.Segment() : segment);
  }
  std::string query;
  for (const auto& [in, name] : op.params) {
    if (!random.Pick(2)) continue;
    if (in == "query") query += (query.empty() ? "?" : "&") + name + "=" + random.Value();
    if (in == "header") r.headers.emplace_back(name, random.Value());
  }
  if (random.Pick(5)) query += (query.empty() ? "?" : "&") + std::string("zz=") + random.Value();
  for (char& c : query) {
    if (c == ' ') c = '+';  // a space would end the request line
  }
  r.target += query;
  auto [body, type] = random.Body(op);
  r.body = std::move(body);
  if (!type.empty()) r.headers.emplace_back("Content-Type", type);
  r.key = keys[random.Below(keys.size())];
  if (random.Pick(8)) {
    // Credentials as nobody issued them: the parsing of the header itself.
    static const std::vector<std::string> kAuthorizations = {
        "Bearer cst_bogus_" + std::string(40, 'q'), "Bearer", "Bearer ", "bearer cst_a_b",
        "Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Bearer cst_", "Bearer cst__", "Bearer cst_x_",
        "Bearer " + std::string(5000, 'c'), "Bearer cst_\xC3\xA9_x", ""};
    r.headers.emplace_back("Authorization", kAuthorizations[random.Below(kAuthorizations.size())]);
    r.key.clear();
  }
  if (random.Pick(6)) {
    static const std::vector<std::string> kCookies = {
        "custodian_session=", "custodian_session=x", "custodian_session=x; custodian_session=y",
        ";;;", "=", "custodian_session", "a=b; custodian_session=" + std::string(600, 's'),
        "custodian_session=\"quoted\"", "custodian_session=\xFF\xFE", " custodian_session = x "};
    r.headers.emplace_back("Cookie", kCookies[random.Below(kCookies.size())]);
    if (random.Pick(2)) r.headers.emplace_back("X-CSRF-Token", random.Value());
  }
  return r;
}

// No server error; a problem document that is one.
void CheckAnswer(const RandomRequest& req, const ClientResponse& r) {
  EXPECT_GE(r.status, 200) << req.Describe();
  EXPECT_LT(r.status, 500) << req.Describe() << "\n-> " << r.status << " " << r.body;
  if (r.Header("Content-Type").find("application/problem+json") == std::string::npos) return;
  const nlohmann::json p = nlohmann::json::parse(r.body, nullptr, false);
  ASSERT_TRUE(p.is_object()) << req.Describe() << "\n-> " << r.body;
  EXPECT_EQ(p.value("status", 0), r.status) << req.Describe() << "\n-> " << r.body;
  EXPECT_TRUE(p.contains("type") && p["type"].is_string()) << r.body;
  EXPECT_TRUE(p.contains("title") && p["title"].is_string()) << r.body;
  if (p.contains("pointer")) {
    const std::string pointer = p["pointer"].is_string() ? p["pointer"].get<std::string>() : "?";
    EXPECT_TRUE(pointer.empty() || pointer.front() == '/') << req.Describe() << "\n-> " << r.body;
  }
}

// CUSTODIAN_RANDOM_SEED and CUSTODIAN_RANDOM_ROUNDS (requests per route)
// run other or longer draws on demand.
uint64_t Seed() {
  const char* env = std::getenv("CUSTODIAN_RANDOM_SEED");
  return env ? std::strtoull(env, nullptr, 10) : 20261202;
}
int Rounds(int fallback) {
  const char* env = std::getenv("CUSTODIAN_RANDOM_ROUNDS");
  return env ? std::atoi(env) : fallback;
}

const std::vector<std::string> kKeys = {"",
                                        "interjet/admin",
                                        "interjet/agent",
                                        "interjet/auditor",
                                        "interjet/marketing",
                                        "intnet/admin"};

TEST_F(HttpApiTest, NoRandomRequestOnAnyDocumentedRouteGetsAServerError) {
  const std::string subject = AddAsha("CUST-RANDOM");
  ASSERT_FALSE(subject.empty());
  const int rounds = Rounds(30);
  RandomRequests random({subject}, Seed());
  const std::vector<Operation> ops = Operations();
  ASSERT_GT(ops.size(), 30u);
  int sent = 0;
  std::map<int, int> statuses;
  for (const Operation& op : ops) {
    for (int round = 0; round < rounds; ++round) {
      const RandomRequest req = Draw(op, random, kKeys);
      auto r = Call(req.method, req.target, req.key, req.body, req.headers);
      ++sent;
      ++statuses[r.status];
      CheckAnswer(req, r);
      ASSERT_FALSE(HasFatalFailure());
    }
  }
  EXPECT_EQ(sent, static_cast<int>(ops.size()) * rounds);
  // The draws reach past the credential and shape checks, not only into them.
  std::string seen;
  for (const auto& [status, n] : statuses) seen += " " + std::to_string(status) + ":" + std::to_string(n);
  for (int status : {200, 400, 401, 403, 404, 415}) {
    EXPECT_GT(statuses[status], 0) << status << " never answered; answered" << seen;
  }
  std::printf("answered%s\n", seen.c_str());
  EXPECT_EQ(Call("GET", "/healthz", "").status, 200);
}

// The same draws from four clients at once, each on one connection it keeps
// (keep-alive): the server's threads meet on the same subjects, keys and
// tenants. Run against the sanitizer build's binary, this is where a data
// race or a use after free between handlers would show.
TEST_F(HttpApiTest, ConcurrentRandomRequestsGetNoServerError) {
  const std::string subject = AddAsha("CUST-RANDOM-4");
  ASSERT_FALSE(subject.empty());
  const std::vector<Operation> ops = Operations();
  const int rounds = Rounds(8);
  std::atomic<int> answered{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      RandomRequests random({subject}, Seed() + 1 + static_cast<uint64_t>(c));
      auto client = std::make_unique<TestClient>();
      if (client->Connect(server_->port())) return;
      for (int round = 0; round < rounds; ++round) {
        for (const Operation& op : ops) {
          const RandomRequest req = Draw(op, random, kKeys);
          auto r = client->Request(req.method, req.target, req.body,
                                   RequestHeaders(req.key, req.body, req.headers));
          if (r.status == 0 || !r.keep_alive) {  // the server closed it (413, a refusal): again
            client = std::make_unique<TestClient>();
            if (client->Connect(server_->port())) return;
            if (r.status == 0) continue;
          }
          CheckAnswer(req, r);
          ++answered;
        }
      }
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_GT(answered.load(), static_cast<int>(ops.size()) * rounds * 4 * 9 / 10);
  EXPECT_EQ(Call("GET", "/healthz", "").status, 200);
}

// Telnyx webhooks signed with the tenant's channel key, so that the random
// bodies (the event shape mutated: members replaced, dropped, added; texts
// that are keywords or not) get past the signature into the event's reading.
TEST_F(HttpApiTest, SignedRandomTelnyxEventsGetNoServerError) {
  AddAsha("CUST-RANDOM-SMS");
  FakeTelnyx telnyx;
  outbox::testing::HttpSink telnyx_api({{200, R"({"data":{"id":"tlx-reply"}})"}});
  SetTelnyx("interjet", telnyx, telnyx_api.url(), "https://privacy.interjet.example");
  RandomRequests random({"x"}, Seed());
  const std::vector<std::string> texts = {"STOP", " stop! ", "Start", "HELP", "info.", "hello",
                                          "stop it", "", "\xEF\xBC\xB3TOP"};
  std::map<int, int> statuses;
  const int rounds = Rounds(200);
  for (int round = 0; round < rounds; ++round) {
    nlohmann::json event = nlohmann::json::parse(FakeTelnyx::Event(
        "evt-random-" + std::to_string(round), random.Pick(2) ? "+91 88701 00100" : "+15550100",
        random.Pick(4) ? "+918040001000" : "+10000000000", texts[random.Below(texts.size())],
        random.Pick(4) ? "message.received" : "message.sent"));
    for (int n = static_cast<int>(random.Below(3)); n > 0; --n) random.Mutate(event, 0);
    const std::string body = random.Pick(20) ? "{\"data\":" : event.dump();
    RandomRequest req{"POST", "/v1/webhooks/telnyx", "", body, telnyx.Sign(body)};
    auto r = Call(req.method, req.target, "", req.body, req.headers);
    ++statuses[r.status];
    CheckAnswer(req, r);
    ASSERT_FALSE(HasFatalFailure());
  }
  std::string seen;
  for (const auto& [status, n] : statuses) seen += " " + std::to_string(status) + ":" + std::to_string(n);
  std::printf("answered%s\n", seen.c_str());
  EXPECT_GT(statuses[200], 0) << seen;  // some events were read, and applied or ignored
  EXPECT_EQ(Call("GET", "/healthz", "").status, 200);
}

}  // namespace
}  // namespace custodian
