#include "cli/config_file.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>
#include <toml++/toml.h>

namespace custodian::cli {
namespace {

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string Place(const std::string& path, int line, int column) {
  return "--config: " + path + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
}

// A TOML value as the YAML node the same setting would be written as:
// arrays as sequences, scalars as scalars (dates and times in their TOML
// spelling), tables (inside arrays only) as maps.
YAML::Node FromToml(const toml::node& n) {
  if (const toml::table* t = n.as_table()) {
    YAML::Node map(YAML::NodeType::Map);
    for (auto&& [key, value] : *t) map[std::string(key.str())] = FromToml(value);
    return map;
  }
  if (const toml::array* a = n.as_array()) {
    YAML::Node seq(YAML::NodeType::Sequence);
    for (const toml::node& value : *a) seq.push_back(FromToml(value));
    return seq;
  }
  if (const auto* s = n.as_string()) return YAML::Node(s->get());
  if (const auto* i = n.as_integer()) return YAML::Node(i->get());
  if (const auto* f = n.as_floating_point()) return YAML::Node(f->get());
  if (const auto* b = n.as_boolean()) return YAML::Node(b->get());
  std::ostringstream text;  // a date, a time or a date-time
  n.visit([&](const auto& v) { text << v; });
  return YAML::Node(text.str());
}

// toml++ refuses a key set twice itself.
void FlattenToml(const toml::table& table, const std::string& prefix, ConfigFile& out) {
  for (auto&& [key, value] : table) {
    std::string name = prefix + std::string(key.str());
    if (const toml::table* inner = value.as_table()) {
      FlattenToml(*inner, name + ".", out);
    } else {
      out.entries.push_back({name, FromToml(value), static_cast<int>(key.source().begin.line)});
    }
  }
}

Result<ConfigFile> ReadToml(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) {
    return Status::NotFound("--config: cannot read " + path);
  }
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument(Place(path, static_cast<int>(e.source().begin.line),
                                         static_cast<int>(e.source().begin.column)) +
                                   std::string(e.description()));
  }
  ConfigFile sorted;
  FlattenToml(table, "", sorted);
  // toml++ keeps a table's keys sorted by name: back to the file's order.
  // (By index: assigning a YAML::Node writes into the node it refers to, so
  // the entries themselves are only ever copy-constructed.)
  std::vector<std::size_t> order(sorted.entries.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return sorted.entries[a].line < sorted.entries[b].line;
  });
  ConfigFile out;
  for (std::size_t i : order) out.entries.push_back(sorted.entries[i]);
  return out;
}

// yaml-cpp keeps every key of a map, so a name set twice is refused here, as
// toml++ refuses it; `first` holds the line each full name was first set on.
Status FlattenYaml(const YAML::Node& map, const std::string& prefix, const std::string& path,
                   std::map<std::string, int>& first, ConfigFile& out) {
  for (const auto& kv : map) {
    const YAML::Mark mark = kv.first.Mark();
    const int line = mark.line + 1;
    if (!kv.first.IsScalar()) {
      return Status::InvalidArgument(Place(path, line, mark.column + 1) +
                                     "a setting's name must be text");
    }
    std::string name = prefix + kv.first.Scalar();
    auto [at, fresh] = first.emplace(name, line);
    if (!fresh) {
      return Status::InvalidArgument(Place(path, line, mark.column + 1) + "'" + name +
                                     "' is set twice (first on line " +
                                     std::to_string(at->second) + ")");
    }
    if (kv.second.IsMap()) {
      RETURN_IF_ERROR(FlattenYaml(kv.second, name + ".", path, first, out));
    } else {
      out.entries.push_back({name, kv.second, line});
    }
  }
  return Status::Ok();
}

Result<ConfigFile> ReadYaml(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return Status::NotFound("--config: cannot read " + path);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(Place(path, e.mark.line + 1, e.mark.column + 1) + e.msg);
  }
  ConfigFile out;
  if (root.IsNull()) return out;  // empty, or only comments
  if (!root.IsMap()) {
    return Status::InvalidArgument(Place(path, root.Mark().line + 1, root.Mark().column + 1) +
                                   "expected a map of settings, like `threads: 4`");
  }
  std::map<std::string, int> first;
  RETURN_IF_ERROR(FlattenYaml(root, "", path, first, out));
  return out;
}

}  // namespace

Result<ConfigFile> ReadConfigFile(const std::string& path) {
  return EndsWith(path, ".toml") ? ReadToml(path) : ReadYaml(path);
}

}  // namespace custodian::cli
