// Semantic checks of a policy: references, coverage and consent rules.
//
// The loader (policy/loader.h) parses the YAML document, checking its shape,
// then calls ValidatePolicy for everything that needs the whole document:
// every referenced category, purpose and record kind is declared, every
// category is used by a purpose and covered by a retention rule, custom
// taxonomy keys extend known keys, consent-based purposes can be withdrawn...
// Pure; thread-safe (no shared state).
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "policy/loader.h"
#include "policy/model.h"

namespace custodian::policy {

// Positions the model itself does not carry (list items, single values),
// keyed by a path such as "purposes/essential.service/categories/3"; and the
// sections or values ("categories", "purposes/essential.service/roles") that
// could not be read, already reported, whose consequences are then not
// checked (so that one broken section does not bury the file in errors).
class SourceInfo {
 public:
  void Set(std::string path, SourcePos pos) { positions_[std::move(path)] = pos; }
  // The position recorded for `path`, else `fallback`.
  SourcePos Get(const std::string& path, SourcePos fallback) const {
    auto it = positions_.find(path);
    return it == positions_.end() ? fallback : it->second;
  }
  bool Has(const std::string& path) const { return positions_.count(path) > 0; }
  void MarkBroken(std::string section) { broken_.insert(std::move(section)); }
  bool IsBroken(const std::string& section) const { return broken_.count(section) > 0; }

 private:
  std::unordered_map<std::string, SourcePos> positions_;
  std::set<std::string, std::less<>> broken_;
};

// Runs every semantic check of the policy format on `policy`, whose defaults
// are already filled in (the loader does that). Diagnostics name
// `policy.file`; positions come from the model's `pos` members and `sources`.
// Returned sorted by line, then column.
std::vector<Diagnostic> ValidatePolicy(const Policy& policy, const SourceInfo& sources);
// For a policy built in code: no positions beyond the model's own.
std::vector<Diagnostic> ValidatePolicy(const Policy& policy);

}  // namespace custodian::policy
