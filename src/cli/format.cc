#include "cli/format.h"

#include <time.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string_view>

namespace custodian::cli {

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace custodian::cli
