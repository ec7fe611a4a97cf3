// `custodian serve --config FILE`: the settings file, YAML or TOML.
//
// Both formats give the same list of entries, in the file's order, each with
// its line, so that one loop reads the settings (cli/serve_settings.cc) and
// its errors say where. A table (a YAML map or a TOML table) inside the top
// level gives an entry per key, named "table.key": `tls: {cert: F}` and
// `[tls] cert = "F"` both give "tls.cert". A file whose name ends in `.toml`
// is read as TOML 1.0 (toml++); any other as YAML.
//
// Thread-safety: pure functions.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "custodian/status.h"

namespace custodian::cli {

struct ConfigEntry {
  std::string key;   // "threads", or "tls.cert" for a key of a table
  YAML::Node value;  // a scalar, a sequence, or null (TOML dates and times as their text)
  int line = 0;      // the key's line, from 1
};

struct ConfigFile {
  std::vector<ConfigEntry> entries;  // in the file's order
};

// Errors start with "--config: PATH": cannot read it (NotFound);
// ":LINE:COLUMN: what is wrong" for a syntax error, a name that is not text,
// a key set twice, or a file that is not a map (InvalidArgument). An empty
// file has no entries.
Result<ConfigFile> ReadConfigFile(const std::string& path);

}  // namespace custodian::cli
