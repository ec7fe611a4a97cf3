// Small formatting and parsing helpers for the CLI's text output.
#pragma once

#include <cstdint>
#include <string>

#include "custodian/status.h"

namespace custodian::cli {

// "2026-01-31T00:00:00Z" (UTC) from unix milliseconds.
std::string FormatTime(int64_t ms);
// "2026-01-31" (midnight UTC) or "2026-01-31T10:20:30Z" -> unix milliseconds.
Result<int64_t> ParseTime(const std::string& text);
Result<std::string> ReadWholeFile(const std::string& path);

}  // namespace custodian::cli
