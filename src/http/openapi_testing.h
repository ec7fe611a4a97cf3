// Reading api/openapi.yaml in tests: its local $refs resolved, for the
// document's own checks (openapi_test.cc) and the random requests drawn from
// it (tests/http_api_random_test.cc). Built once into custodian_http_testing.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

namespace custodian::http::testing {

// The node a local reference ("#/components/schemas/Problem", RFC 6901
// escapes allowed) names in `root`; an undefined node when there is none.
YAML::Node Resolve(const YAML::Node& root, const std::string& ref);

// `node`, or what its $ref names when it is a Reference Object.
YAML::Node Deref(const YAML::Node& root, const YAML::Node& node);

}  // namespace custodian::http::testing
