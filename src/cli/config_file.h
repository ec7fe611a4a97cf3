// `custodian serve --config FILE`: the settings file, YAML or TOML.
//
// Both formats give the same tree (a YAML map, so that one loop reads the
// settings, serve_command.cc) and each top-level key's line, for errors that
// say where. A file whose name ends in `.toml` is read as TOML 1.0 (toml++);
// any other as YAML. Thread-safety: pure functions.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <string>

#include "custodian/status.h"

namespace custodian::cli {

struct ConfigFile {
  YAML::Node root;                   // a map
  std::map<std::string, int> lines;  // top-level key -> its line, from 1
};

// Errors start with "--config: PATH": cannot read it (NotFound), or
// ":LINE:COLUMN: what is wrong" for a syntax error, or ": expected a map"
// (InvalidArgument).
Result<ConfigFile> ReadConfigFile(const std::string& path);

}  // namespace custodian::cli
