// "Did you mean ...?" for typos in keys, units and enumerated values.
//
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace custodian::policy {

// Levenshtein distance (insertions, deletions, substitutions; each costs 1).
std::size_t EditDistance(std::string_view a, std::string_view b);

// Whether `candidate` is close enough to `word` to be offered as a correction:
// compared case-insensitively, at most clamp(|word| / 4, 2, 3) edits away, fewer
// edits than |word|, and not equal to it. Returns the distance when it is.
std::optional<std::size_t> TypoDistance(std::string_view word, std::string_view candidate);

// The candidate closest to `word` that passes TypoDistance; the first one
// wins a tie. Works on any range of things convertible to std::string_view.
template <typename Range>
std::optional<std::string> ClosestMatch(std::string_view word, const Range& candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = 0;
  for (const auto& c : candidates) {
    std::string_view candidate(c);
    std::optional<std::size_t> d = TypoDistance(word, candidate);
    if (d && (!best || *d < best_distance)) {
      best = std::string(candidate);
      best_distance = *d;
    }
  }
  return best;
}

}  // namespace custodian::policy
