// Random changes to a text file, for the mutation tests: the example policies
// (src/policy/mutation_test.cc), import mappings
// (src/import/mapping_mutation_test.cc) and serve config files
// (tests/cli_serve_settings_test.cc). Each reader under test must never
// throw and must place every error it reports.
#pragma once

#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace custodian::testing_util {

inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

inline std::string JoinLines(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& l : lines) text += l + "\n";
  return text;
}

// Rounds per example: CUSTODIAN_MUTATION_ROUNDS when set, else `fallback`.
inline int MutationRounds(int fallback) {
  const char* env = std::getenv("CUSTODIAN_MUTATION_ROUNDS");
  return env ? std::atoi(env) : fallback;
}

// One random change to `text`: a line dropped, doubled, swapped with
// another or re-indented; the value after a line's first `separator`
// (": " in YAML, " = " in TOML) replaced by one of `values`; a line
// "extra_N<separator>VALUE" inserted; the text cut short; a stray byte.
inline std::string MutateOnce(const std::string& text, std::mt19937_64& rng,
                              const std::vector<std::string>& values,
                              std::string_view separator) {
  std::vector<std::string> lines = Lines(text);
  if (lines.empty() || text.empty()) return text;
  const std::size_t at = rng() % lines.size();
  const std::string& value = values[rng() % values.size()];
  switch (rng() % 8) {
    case 0:
      lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(at));
      break;
    case 1:
      lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(at), lines[at]);
      break;
    case 2:
      std::swap(lines[at], lines[rng() % lines.size()]);
      break;
    case 3:
      return text.substr(0, rng() % text.size());
    case 4: {
      const std::size_t sep = lines[at].find(separator);
      lines[at] = sep == std::string::npos ? lines[at] + " " + value
                                           : lines[at].substr(0, sep + separator.size()) + value;
      break;
    }
    case 5:
      lines[at] = rng() % 2 ? "  " + lines[at]
                            : lines[at].substr(std::min<std::size_t>(2, lines[at].size()));
      break;
    case 6: {
      std::string t = text;
      t.insert(t.begin() + static_cast<std::ptrdiff_t>(rng() % t.size()),
               static_cast<char>(rng() % 256));
      return t;
    }
    default:
      lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(at),
                   "extra_" + std::to_string(rng() % 5) + std::string(separator) + value);
      break;
  }
  return JoinLines(lines);
}

// One to three changes.
inline std::string Mutate(std::string text, std::mt19937_64& rng,
                          const std::vector<std::string>& values, std::string_view separator) {
  for (int n = 1 + static_cast<int>(rng() % 3); n > 0; --n) {
    text = MutateOnce(text, rng, values, separator);
  }
  return text;
}

}  // namespace custodian::testing_util
