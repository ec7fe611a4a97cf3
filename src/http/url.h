// Decoding of request targets: percent-escapes, query strings, UTF-8 checks.
//
// Everything a handler sees of a path or a query has been decoded here, and a
// decoded value is always valid UTF-8 without NUL bytes, so that handlers and
// the layers below never meet overlong encodings, lone surrogates or C-string
// truncation. Error messages say where the input is wrong (an offset), never
// what it contains: a path may hold a phone number.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "custodian/status.h"

namespace custodian::http {

using Params = std::vector<std::pair<std::string, std::string>>;

// True iff `s` is well-formed UTF-8 (no overlong forms, no surrogates, no code
// point above U+10FFFF).
bool IsValidUtf8(std::string_view s);

// Decodes %XX escapes (and '+' as a space when `plus_as_space`, the query
// string convention). InvalidArgument for a '%' not followed by two hex
// digits, a NUL byte (raw or decoded), or a result that is not valid UTF-8.
Result<std::string> PercentDecode(std::string_view in, bool plus_as_space);

// Splits "a=1&b=x%20y&flag" into decoded (name, value) pairs in order;
// empty pieces ("a=1&&b=2") are skipped, a piece without '=' has value "".
// InvalidArgument as PercentDecode.
Result<Params> ParseQuery(std::string_view query);

}  // namespace custodian::http
