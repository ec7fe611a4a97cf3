// The loader on broken policies: the five example policies, each changed
// many times at random (lines dropped, doubled, swapped or re-indented,
// values replaced by YAML oddities, the text cut short, stray bytes), with a
// fixed seed. Whatever the text, LoadPolicyString does not throw; a policy
// it refuses has at least one error, and every diagnostic points into the
// text (a line of it, a column from 1); a policy it takes renders in every
// format. CUSTODIAN_MUTATION_ROUNDS runs more on demand.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "policy/loader.h"
#include "policy/render.h"

namespace custodian::policy {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& l : lines) text += l + "\n";
  return text;
}

std::string Mutate(const std::string& text, std::mt19937_64& rng) {
  static const std::vector<std::string> kValues = {
      "",         "[",        "{",       "!!binary x", "&a",     "*a",    "- x",  "~",
      "1e999",    "P-1Y",     "\xff\xfe", "\"unterminated", "'", "@",   "%",    "|",
      ">",        "[1, [2, [3]]]", "{a: b}", "-1",     "0",      "null",  "true", "2026-02-30",
      "12 months", "forever", "after closure", "x: y: z", "\t",   "!!str", "\\u0000"};
  std::vector<std::string> lines = Lines(text);
  if (lines.empty()) return text;
  const std::size_t at = rng() % lines.size();
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
      const std::size_t colon = lines[at].find(": ");
      const std::string& value = kValues[rng() % kValues.size()];
      lines[at] = colon == std::string::npos ? lines[at] + " " + value
                                             : lines[at].substr(0, colon + 2) + value;
      break;
    }
    case 5:
      lines[at] = rng() % 2 ? "  " + lines[at] : lines[at].substr(std::min<std::size_t>(2, lines[at].size()));
      break;
    case 6: {
      std::string t = text;
      t.insert(t.begin() + static_cast<std::ptrdiff_t>(rng() % t.size()), static_cast<char>(rng() % 256));
      return t;
    }
    default: {
      const std::string& value = kValues[rng() % kValues.size()];
      lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(at), "extra_" + std::to_string(rng() % 5) + ": " + value);
      break;
    }
  }
  return Join(lines);
}

TEST(PolicyMutationTest, BrokenPoliciesAreRefusedWithPlacesOrLoadAndRender) {
  const char* rounds_env = std::getenv("CUSTODIAN_MUTATION_ROUNDS");
  const int rounds = rounds_env ? std::atoi(rounds_env) : 120;
  std::mt19937_64 rng(20261202);
  int refused = 0, loaded = 0;
  const std::filesystem::path dir = std::filesystem::path(CUSTODIAN_SOURCE_DIR) / "examples/policies";
  for (const char* name : {"interjet.yaml", "intnet-iq.yaml", "inetbills.yaml", "interindo.yaml",
                           "contetra.yaml"}) {
    std::ifstream in(dir / name);
    std::stringstream buf;
    buf << in.rdbuf();
    const std::string original = buf.str();
    ASSERT_FALSE(original.empty()) << name;
    for (int round = 0; round < rounds; ++round) {
      std::string text = original;
      for (int n = 1 + static_cast<int>(rng() % 3); n > 0; --n) text = Mutate(text, rng);
      LoadResult r;
      ASSERT_NO_THROW(r = LoadPolicyString(text, name)) << name << " round " << round;
      const int lines = static_cast<int>(Lines(text).size());
      for (const Diagnostic& d : r.diagnostics) {
        EXPECT_EQ(d.file, name);
        EXPECT_GE(d.line, 1) << d.ToString();
        EXPECT_LE(d.line, lines + 1) << d.ToString();
        EXPECT_GE(d.column, 1) << d.ToString();
        EXPECT_FALSE(d.message.empty()) << d.ToString();
      }
      if (!r.ok()) {
        ++refused;
        EXPECT_GE(r.error_count(), 1) << name << " round " << round;
        continue;
      }
      ++loaded;
      for (NoticeFormat f : {NoticeFormat::kMarkdown, NoticeFormat::kHtml, NoticeFormat::kJson}) {
        std::string notice;
        ASSERT_NO_THROW(notice = RenderNotice(*r.policy, f)) << name << " round " << round;
        EXPECT_FALSE(notice.empty());
      }
    }
  }
  // Both sides are reached: some changes break a policy, some leave it valid.
  EXPECT_GT(refused, 0);
  EXPECT_GT(loaded, 0);
}

}  // namespace
}  // namespace custodian::policy
