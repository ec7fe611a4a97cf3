// Small formatting and parsing helpers for the CLI's text output.
#pragma once

#include <cstdint>
#include <string>

#include "common/time.h"
#include "custodian/status.h"

namespace custodian::cli {

using custodian::FormatTime;  // common/time.h
using custodian::ParseTime;
Result<std::string> ReadWholeFile(const std::string& path);

}  // namespace custodian::cli
