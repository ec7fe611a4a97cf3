// api/openapi.yaml as compiled into the binary: it parses as OpenAPI 3.1, is
// self-consistent (operation ids, responses, problem documents for errors,
// strict request bodies, declared path parameters, resolvable $refs), and
// describes exactly the routes the server registers, under their route names.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "http/api.h"
#include "http/openapi_testing.h"
#include "http/router.h"
#include "http/server.h"
#include "service/vault.h"
#include "test_util.h"

namespace custodian::http {
namespace {

namespace fs = std::filesystem;

// The path item keys that are operations (OpenAPI 3.1, 4.8.9).
const char* const kMethods[] = {"get", "put", "post", "delete", "options", "head", "patch", "trace"};

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += "  " + l + "\n";
  return out;
}

using testing::Deref;
using testing::Resolve;

struct Operation {
  std::string method;  // upper case
  std::string path;
  YAML::Node path_item;
  YAML::Node op;
  std::string Name() const { return method + " " + path; }
};

class OpenApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    try {
      doc_ = YAML::Load(std::string(EmbeddedOpenApi()));
    } catch (const YAML::Exception& e) {
      FAIL() << "api/openapi.yaml does not parse: " << e.what();
    }
    ASSERT_TRUE(doc_.IsMap());
    const YAML::Node& doc = doc_;
    const YAML::Node paths = doc["paths"];
    ASSERT_TRUE(paths.IsMap()) << "no paths";
    for (auto p = paths.begin(); p != paths.end(); ++p) {
      for (const char* m : kMethods) {
        if (p->second[m]) ops_.push_back({Upper(m), p->first.Scalar(), p->second, p->second[m]});
      }
    }
  }

  YAML::Node doc_;
  std::vector<Operation> ops_;
};

TEST_F(OpenApiTest, IsOpenApi31WithInfoAndServers) {
  ASSERT_TRUE(doc_["openapi"].IsScalar());
  EXPECT_TRUE(std::regex_match(doc_["openapi"].Scalar(), std::regex(R"(3\.1\.\d+)")))
      << doc_["openapi"].Scalar();
  EXPECT_EQ(doc_["info"]["title"].as<std::string>(""), "custodian");
  EXPECT_EQ(doc_["info"]["version"].as<std::string>(""), "0.1.0");
  EXPECT_FALSE(doc_["info"]["description"].as<std::string>("").empty());
  ASSERT_TRUE(doc_["servers"].IsSequence());
  EXPECT_EQ(doc_["servers"][0]["url"].as<std::string>(""), "http://127.0.0.1:8080");
  EXPECT_FALSE(ops_.empty());
}

TEST_F(OpenApiTest, EmbeddedDocumentIsTheSourceFile) {
  const std::string embedded(EmbeddedOpenApi());
  const std::string file =
      testing_util::ReadFile(fs::path(CUSTODIAN_SOURCE_DIR) / "api/openapi.yaml");
  auto [e, f] = std::mismatch(embedded.begin(), embedded.end(), file.begin(), file.end());
  EXPECT_TRUE(e == embedded.end() && f == file.end())
      << "the embedded document (" << embedded.size() << " bytes) differs from api/openapi.yaml ("
      << file.size() << " bytes) from byte " << (e - embedded.begin());
}

TEST_F(OpenApiTest, EveryOperationHasAUniqueIdAndResponses) {
  std::set<std::string> ids;
  for (const Operation& o : ops_) {
    SCOPED_TRACE(o.Name());
    ASSERT_TRUE(o.op["operationId"] && o.op["operationId"].IsScalar()) << "no operationId";
    EXPECT_TRUE(ids.insert(o.op["operationId"].Scalar()).second)
        << "operationId " << o.op["operationId"].Scalar() << " is used twice";
    ASSERT_TRUE(o.op["responses"].IsMap()) << "no responses";
    EXPECT_GT(o.op["responses"].size(), 0u);
    for (auto r = o.op["responses"].begin(); r != o.op["responses"].end(); ++r) {
      const std::string code = r->first.Scalar();
      EXPECT_TRUE(std::regex_match(code, std::regex("[1-5][0-9][0-9]|default"))) << code;
      YAML::Node response = Deref(doc_, r->second);
      ASSERT_TRUE(response.IsMap()) << code;
      EXPECT_TRUE(response["description"]) << code << " has no description";
    }
  }
}

TEST_F(OpenApiTest, EveryErrorIsAProblemDocument) {
  ASSERT_TRUE(doc_["components"]["schemas"]["Problem"].IsMap());
  const YAML::Node problem = doc_["components"]["schemas"]["Problem"];
  for (const char* field : {"type", "title", "status", "detail", "pointer", "request_id"}) {
    EXPECT_TRUE(problem["properties"][field]) << "Problem has no " << field;
  }
  for (const Operation& o : ops_) {
    for (auto r = o.op["responses"].begin(); r != o.op["responses"].end(); ++r) {
      const std::string code = r->first.Scalar();
      if (code[0] != '4' && code[0] != '5') continue;
      SCOPED_TRACE(o.Name() + " " + code);
      YAML::Node content = Deref(doc_, r->second)["content"];
      ASSERT_TRUE(content.IsMap()) << "no content";
      EXPECT_EQ(content.size(), 1u) << "an error has one media type";
      if (o.op["x-html-errors"]) {
        // Pages a person reaches by following a link answer errors as pages.
        EXPECT_TRUE(content["text/html"]) << "x-html-errors but not text/html";
        continue;
      }
      ASSERT_TRUE(content["application/problem+json"]) << "not application/problem+json";
      EXPECT_EQ(content["application/problem+json"]["schema"]["$ref"].as<std::string>(""),
                "#/components/schemas/Problem");
    }
  }
}

TEST_F(OpenApiTest, EveryRefResolves) {
  std::vector<std::string> broken;
  int refs = 0;
  std::function<void(const YAML::Node&, const std::string&)> walk =
      [&](const YAML::Node& node, const std::string& where) {
        if (node.IsMap()) {
          for (auto it = node.begin(); it != node.end(); ++it) {
            const std::string key = it->first.Scalar();
            if (key == "$ref" && it->second.IsScalar()) {
              ++refs;
              if (!Resolve(doc_, it->second.Scalar()).IsDefined()) {
                broken.push_back(where + ": " + it->second.Scalar());
              }
            } else {
              walk(it->second, where + "/" + key);
            }
          }
        } else if (node.IsSequence()) {
          for (std::size_t i = 0; i < node.size(); ++i) {
            walk(node[i], where + "/" + std::to_string(i));
          }
        }
      };
  walk(doc_, "#");
  EXPECT_GT(refs, 0);
  EXPECT_TRUE(broken.empty()) << "$refs that resolve to nothing:\n" << Join(broken);
}

TEST_F(OpenApiTest, JsonRequestBodiesRefuseUnknownProperties) {
  int bodies = 0;
  for (const Operation& o : ops_) {
    if (!o.op["requestBody"]) continue;
    SCOPED_TRACE(o.Name());
    YAML::Node json = Deref(doc_, o.op["requestBody"])["content"]["application/json"];
    ASSERT_TRUE(json.IsMap()) << "a request body is application/json";
    ++bodies;
    YAML::Node schema = Deref(doc_, json["schema"]);
    ASSERT_TRUE(schema.IsMap());
    std::vector<YAML::Node> shapes;
    if (schema["oneOf"]) {
      for (std::size_t i = 0; i < schema["oneOf"].size(); ++i) {
        shapes.push_back(Deref(doc_, schema["oneOf"][i]));
      }
    } else {
      shapes.push_back(schema);
    }
    for (const YAML::Node& s : shapes) {
      ASSERT_TRUE(s.IsMap());
      EXPECT_EQ(s["type"].as<std::string>(""), "object");
      if (o.op["x-third-party-body"]) continue;  // a provider's shape, not ours to close
      EXPECT_TRUE(s["additionalProperties"] && s["additionalProperties"].IsScalar() &&
                  !s["additionalProperties"].as<bool>(true))
          << "a request body sets additionalProperties: false";
    }
    EXPECT_TRUE(json["examples"] || json["example"]) << "no example body";
  }
  EXPECT_GT(bodies, 0);
}

TEST_F(OpenApiTest, PathParametersAreDeclared) {
  const std::regex param(R"(\{([^}]+)\})");
  for (const Operation& o : ops_) {
    SCOPED_TRACE(o.Name());
    std::set<std::string> in_path;
    for (std::sregex_iterator it(o.path.begin(), o.path.end(), param), end; it != end; ++it) {
      in_path.insert((*it)[1]);
    }
    std::set<std::string> declared;
    for (const YAML::Node& list : {o.path_item["parameters"], o.op["parameters"]}) {
      if (!list) continue;
      for (std::size_t i = 0; i < list.size(); ++i) {
        YAML::Node p = Deref(doc_, list[i]);
        ASSERT_TRUE(p.IsMap()) << "parameter " << i;
        if (p["in"].as<std::string>("") != "path") continue;
        EXPECT_TRUE(p["required"].as<bool>(false)) << p["name"].as<std::string>("");
        declared.insert(p["name"].as<std::string>(""));
      }
    }
    EXPECT_EQ(in_path, declared);
  }
}

TEST_F(OpenApiTest, SecuritySchemesAndCsrfOnUnsafeSessionRequests) {
  const YAML::Node schemes = doc_["components"]["securitySchemes"];
  EXPECT_EQ(schemes["bearerAuth"]["type"].as<std::string>(""), "http");
  EXPECT_EQ(schemes["bearerAuth"]["scheme"].as<std::string>(""), "bearer");
  EXPECT_EQ(schemes["sessionCookie"]["type"].as<std::string>(""), "apiKey");
  EXPECT_EQ(schemes["sessionCookie"]["in"].as<std::string>(""), "cookie");
  EXPECT_EQ(schemes["sessionCookie"]["name"].as<std::string>(""), "custodian_session");
  EXPECT_EQ(schemes["csrfToken"]["in"].as<std::string>(""), "header");
  EXPECT_EQ(schemes["csrfToken"]["name"].as<std::string>(""), "X-CSRF-Token");
  for (const Operation& o : ops_) {
    SCOPED_TRACE(o.Name());
    const YAML::Node security = o.op["security"] ? o.op["security"] : doc_["security"];
    ASSERT_TRUE(security.IsSequence()) << "say which credentials (security: [] when public)";
    const bool unsafe = o.method != "GET" && o.method != "HEAD" && o.method != "OPTIONS";
    for (std::size_t i = 0; i < security.size(); ++i) {
      const YAML::Node requirement = security[i];
      for (auto it = requirement.begin(); it != requirement.end(); ++it) {
        EXPECT_TRUE(schemes[it->first.Scalar()]) << "unknown scheme " << it->first.Scalar();
      }
      if (requirement["sessionCookie"]) {
        EXPECT_EQ(static_cast<bool>(requirement["csrfToken"]), unsafe)
            << "a session needs X-CSRF-Token exactly on unsafe methods";
      }
    }
    // Every authenticated operation may answer 401 and 403.
    if (security.size() > 0) {
      EXPECT_TRUE(o.op["responses"]["401"]) << "no 401";
      EXPECT_TRUE(o.op["responses"]["403"]) << "no 403";
    }
  }
}

// The document and the router agree: every route is documented under its
// route name as operationId, and every documented operation is a route.
TEST(OpenApiRoutesTest, DocumentDescribesExactlyTheServersRoutes) {
  unsetenv("CUSTODIAN_MASTER_KEY");
  testing_util::TempDir tmp;
  const std::string dir = (tmp.path() / "data").string();
  ASSERT_TRUE(service::Vault::Init(dir).ok());
  service::VaultOptions options;
  options.data_dir = dir;
  auto vault = service::Vault::Open(options);
  ASSERT_TRUE(vault.ok()) << vault.status().ToString();

  Router router;
  auto api = RegisterApi(router, **vault, {});
  ASSERT_TRUE(api.ok()) << api.status().ToString();

  std::map<std::pair<std::string, std::string>, std::string> routes;  // -> route name
  for (const Route* r : router.routes()) routes[{r->method, r->pattern}] = r->name;
  for (const BuiltinRoute& r : BuiltinRoutes()) routes[{r.method, r.pattern}] = r.name;

  const YAML::Node doc = YAML::Load(std::string(EmbeddedOpenApi()));
  const YAML::Node paths = doc["paths"];
  std::map<std::pair<std::string, std::string>, std::string> documented;  // -> operationId
  for (auto p = paths.begin(); p != paths.end(); ++p) {
    for (const char* m : kMethods) {
      if (p->second[m]) {
        documented[{Upper(m), p->first.Scalar()}] = p->second[m]["operationId"].as<std::string>("");
      }
    }
  }

  std::vector<std::string> undocumented, unrouted, misnamed;
  for (const auto& [key, name] : routes) {
    auto it = documented.find(key);
    if (it == documented.end()) {
      undocumented.push_back(key.first + " " + key.second + " (" + name + ")");
    } else if (it->second != name) {
      misnamed.push_back(key.first + " " + key.second + ": route " + name + ", operationId " +
                         it->second);
    }
  }
  for (const auto& [key, id] : documented) {
    if (!routes.count(key)) unrouted.push_back(key.first + " " + key.second + " (" + id + ")");
  }
  EXPECT_TRUE(undocumented.empty()) << "routes api/openapi.yaml does not describe:\n"
                                    << Join(undocumented);
  EXPECT_TRUE(unrouted.empty()) << "operations in api/openapi.yaml that are no route:\n"
                                << Join(unrouted);
  EXPECT_TRUE(misnamed.empty()) << "operationIds that are not the route's name:\n"
                                << Join(misnamed);

  // The route serving the document serves this document.
  const Route* openapi = nullptr;
  for (const Route* r : router.routes()) {
    if (r->name == "openapi") openapi = r;
  }
  ASSERT_NE(openapi, nullptr);
  Request req;
  req.method = "GET";
  req.path = "/v1/openapi.yaml";
  Response served = openapi->handler(req);
  EXPECT_EQ(served.status, 200);
  EXPECT_EQ(served.body, std::string(EmbeddedOpenApi()));
}

// BuiltinRoutes() is what the Server really adds: each of them is taken.
TEST(OpenApiRoutesTest, TheServersOwnRoutesAreTheKnownList) {
  for (const BuiltinRoute& known : BuiltinRoutes()) {
    Router router;
    ASSERT_TRUE(router.Add(known.method, known.pattern, "mine", [](Request&) { return Response(); })
                    .ok());
    ServerOptions options;
    options.port = 0;
    options.access_log = false;
    EXPECT_EQ(Server::Create(options, std::move(router)).status().code(),
              StatusCode::kAlreadyExists)
        << known.method << " " << known.pattern;
  }
}

}  // namespace
}  // namespace custodian::http
