#include "cli/config_file.h"

#include <filesystem>
#include <sstream>
#include <toml++/toml.h>

namespace custodian::cli {
namespace {

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A TOML value as the YAML node the same setting would be written as:
// tables as maps, arrays as sequences, scalars as scalars (dates and times
// in their TOML spelling).
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

Result<ConfigFile> ReadToml(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) {
    return Status::NotFound("--config: cannot read " + path);
  }
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument("--config: " + path + ":" +
                                   std::to_string(e.source().begin.line) + ":" +
                                   std::to_string(e.source().begin.column) + ": " +
                                   std::string(e.description()));
  }
  ConfigFile out;
  out.root = FromToml(table);
  for (auto&& [key, value] : table) {
    out.lines[std::string(key.str())] = static_cast<int>(key.source().begin.line);
  }
  return out;
}

Result<ConfigFile> ReadYaml(const std::string& path) {
  ConfigFile out;
  try {
    out.root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return Status::NotFound("--config: cannot read " + path);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("--config: " + path + ":" + std::to_string(e.mark.line + 1) +
                                   ":" + std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  if (!out.root.IsMap()) return Status::InvalidArgument("--config: " + path + ": expected a map");
  for (const auto& kv : out.root) {
    out.lines[kv.first.as<std::string>()] = kv.first.Mark().line + 1;
  }
  return out;
}

}  // namespace

Result<ConfigFile> ReadConfigFile(const std::string& path) {
  return EndsWith(path, ".toml") ? ReadToml(path) : ReadYaml(path);
}

}  // namespace custodian::cli
