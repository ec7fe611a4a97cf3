// Loading and checking a policy document.
//
// LoadPolicy* parse YAML into a Policy and run every check of the policy
// format (docs/policy-format.md). Problems come back as diagnostics that name
// FILE:LINE:COL, what was found and what was expected. Never throws.
// Thread-safe: no shared state.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/model.h"

namespace custodian::policy {

struct Diagnostic {
  enum class Severity { kError, kWarning };
  Severity severity = Severity::kError;
  std::string file;
  int line = 0;    // 1-based
  int column = 0;  // 1-based
  std::string message;
  // "FILE:LINE:COL: error: message" (or "warning:")
  std::string ToString() const;
};

struct LoadResult {
  std::optional<Policy> policy;       // set when there is no error (warnings allowed)
  std::vector<Diagnostic> diagnostics;  // sorted by line, then column
  bool ok() const { return policy.has_value(); }
  int error_count() const;
  int warning_count() const;
};

LoadResult LoadPolicyFile(const std::string& path);
// `name` stands for the file name in diagnostics.
LoadResult LoadPolicyString(std::string_view text, const std::string& name);

}  // namespace custodian::policy
