#include "http/openapi_testing.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace custodian::http::testing {
namespace {

// RFC 6901: "~1" is '/', "~0" is '~'.
std::string UnescapePointerToken(std::string t) {
  std::string out;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '~' && i + 1 < t.size() && (t[i + 1] == '0' || t[i + 1] == '1')) {
      out.push_back(t[i + 1] == '1' ? '/' : '~');
      ++i;
    } else {
      out.push_back(t[i]);
    }
  }
  return out;
}

// The node at tokens[i..] below `node`; an undefined node when there is none.
// (Recursion rather than reassigning a YAML::Node, whose operator= writes
// through to the node it refers to.)
YAML::Node At(const YAML::Node& node, const std::vector<std::string>& tokens, std::size_t i) {
  if (i == tokens.size()) return node;
  if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == tokens[i]) {
        return At(it->second, tokens, i + 1);
      }
    }
  } else if (node.IsSequence()) {
    const std::string& t = tokens[i];
    if (!t.empty() && std::all_of(t.begin(), t.end(),
                                 [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      std::size_t index = std::stoul(t);
      if (index < node.size()) return At(node[index], tokens, i + 1);
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

}  // namespace

YAML::Node Resolve(const YAML::Node& root, const std::string& ref) {
  if (ref.rfind("#/", 0) != 0) return YAML::Node(YAML::NodeType::Undefined);
  std::vector<std::string> tokens;
  std::size_t start = 2;
  while (true) {
    std::size_t slash = ref.find('/', start);
    tokens.push_back(UnescapePointerToken(ref.substr(start, slash - start)));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return At(root, tokens, 0);
}

YAML::Node Deref(const YAML::Node& root, const YAML::Node& node) {
  if (node.IsMap() && node["$ref"] && node["$ref"].IsScalar()) {
    return Resolve(root, node["$ref"].Scalar());
  }
  return node;
}

}  // namespace custodian::http::testing
