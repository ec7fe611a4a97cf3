#include "http/router.h"

#include <gtest/gtest.h>

#include <string>

namespace custodian::http {
namespace {

Handler Named(std::string text) {
  return [text](Request&) { return Response::Text(200, text); };
}

std::string Served(const RouteMatch& m) {
  Request req;
  return m.route->handler(req).body;
}

TEST(RouterTest, AddRefusesMalformedRoutes) {
  struct Case {
    std::string method, pattern, name, message;
  };
  const Case cases[] = {
      {"get", "/a", "a", "route method must be an upper-case token, got 'get'"},
      {"", "/a", "a", "route method must be an upper-case token, got ''"},
      {"GET", "a", "a", "route pattern must start with '/': 'a'"},
      {"GET", "", "a", "route pattern must start with '/': ''"},
      {"GET", "/a", "", "route name must not be empty"},
      {"GET", "/a/{}", "a",
       "route pattern '/a/{}': a parameter is {name} with name [A-Za-z_][A-Za-z0-9_]*"},
      {"GET", "/a/{1x}", "a",
       "route pattern '/a/{1x}': a parameter is {name} with name [A-Za-z_][A-Za-z0-9_]*"},
      {"GET", "/a/{id", "a",
       "route pattern '/a/{id': a parameter is {name} with name [A-Za-z_][A-Za-z0-9_]*"},
      {"GET", "/a/x{id}", "a", "route pattern '/a/x{id}': a literal segment holds '{', '}' or '%'"},
      {"GET", "/a%20b", "a", "route pattern '/a%20b': a literal segment holds '{', '}' or '%'"},
      {"GET", "/{id}/x/{id}", "a", "route pattern '/{id}/x/{id}' repeats parameter {id}"},
  };
  for (const Case& c : cases) {
    Router r;
    Status s = r.Add(c.method, c.pattern, c.name, Named("x"));
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.pattern;
    EXPECT_EQ(s.message(), c.message);
  }
  Router r;
  EXPECT_EQ(r.Add("GET", "/a", "a", nullptr).message(), "route 'a' has no handler");
}

TEST(RouterTest, AddRefusesTheSameMethodAndShapeTwice) {
  Router r;
  ASSERT_TRUE(r.Add("GET", "/v1/subjects/{id}", "show", Named("a")).ok());
  Status s = r.Add("GET", "/v1/subjects/{sid}", "show2", Named("b"));
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(s.message(),
            "route GET /v1/subjects/{sid} is already registered as /v1/subjects/{id}");
  EXPECT_TRUE(r.Add("DELETE", "/v1/subjects/{id}", "erase", Named("c")).ok());
}

TEST(RouterTest, MatchesLiteralsAndDecodedParams) {
  Router r;
  ASSERT_TRUE(r.Add("GET", "/v1/subjects/{id}/records", "records", Named("records")).ok());
  ASSERT_TRUE(r.Add("GET", "/", "root", Named("root")).ok());
  RouteMatch m = r.Match("GET", "/v1/subjects/sub%2F1%20x/records");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.route->name, "records");
  EXPECT_EQ(m.params, (Params{{"id", "sub/1 x"}}));
  EXPECT_EQ(Served(r.Match("GET", "/")), "root");
  // A parameter never matches an empty segment; trailing slashes matter.
  EXPECT_EQ(r.Match("GET", "/v1/subjects//records").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(r.Match("GET", "/v1/subjects/x/records/").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(r.Match("GET", "/v1/subjects/x").kind, RouteMatch::Kind::kNotFound);
  // Literals compare with the decoded segment.
  EXPECT_EQ(r.Match("GET", "/v1/subjects/x/%72ecords").kind, RouteMatch::Kind::kFound);
}

TEST(RouterTest, LiteralBeatsParameterWhateverTheOrder) {
  Router r;
  ASSERT_TRUE(r.Add("GET", "/v1/subjects/{id}", "show", Named("show")).ok());
  ASSERT_TRUE(r.Add("GET", "/v1/subjects/search", "search", Named("search")).ok());
  ASSERT_TRUE(r.Add("GET", "/v1/{kind}/search", "kind_search", Named("kind_search")).ok());
  EXPECT_EQ(Served(r.Match("GET", "/v1/subjects/search")), "search");
  EXPECT_EQ(Served(r.Match("GET", "/v1/subjects/sub_1")), "show");
  EXPECT_EQ(Served(r.Match("GET", "/v1/records/search")), "kind_search");
}

TEST(RouterTest, WrongMethodListsTheAllowedOnes) {
  Router r;
  ASSERT_TRUE(r.Add("PUT", "/v1/subjects/{id}", "put", Named("put")).ok());
  ASSERT_TRUE(r.Add("GET", "/v1/subjects/{id}", "show", Named("show")).ok());
  ASSERT_TRUE(r.Add("DELETE", "/v1/subjects/{id}", "erase", Named("erase")).ok());
  RouteMatch m = r.Match("POST", "/v1/subjects/abc");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "DELETE, GET, PUT");
  EXPECT_EQ(m.pattern, "/v1/subjects/{id}");
  EXPECT_EQ(r.Match("POST", "/v2").kind, RouteMatch::Kind::kNotFound);
}

TEST(RouterTest, BadEscapesInThePathAreBadPaths) {
  Router r;
  ASSERT_TRUE(r.Add("GET", "/v1/subjects/{id}", "show", Named("show")).ok());
  for (const char* path : {"/v1/subjects/%ZZ", "/v1/subjects/%C3%28", "/nothing/%",
                           "/v1/subjects/%00"}) {
    RouteMatch m = r.Match("GET", path);
    EXPECT_EQ(m.kind, RouteMatch::Kind::kBadPath) << path;
    EXPECT_EQ(m.error.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(m.error.message().rfind("path: ", 0), 0u) << m.error.message();
  }
  EXPECT_EQ(r.Match("GET", "*").kind, RouteMatch::Kind::kBadPath);
}

}  // namespace
}  // namespace custodian::http
