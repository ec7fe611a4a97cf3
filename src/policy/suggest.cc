#include "policy/suggest.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace custodian::policy {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::size_t EditDistance(std::string_view a, std::string_view b) {
  // One row of the classic dynamic programme; O(|a|*|b|) time, O(|b|) space.
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      std::size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitute});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::optional<std::size_t> TypoDistance(std::string_view word, std::string_view candidate) {
  if (word == candidate || word.empty()) return std::nullopt;
  std::size_t d = EditDistance(Lower(word), Lower(candidate));
  std::size_t limit = std::clamp<std::size_t>(word.size() / 4, 2, 3);
  if (d > limit || d >= word.size()) return std::nullopt;
  return d;
}

}  // namespace custodian::policy
