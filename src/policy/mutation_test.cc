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
#include "mutation_util.h"
#include "policy/render.h"

namespace custodian::policy {
namespace {

using testing_util::Lines;

const std::vector<std::string> kValues = {
    "",         "[",        "{",       "!!binary x", "&a",     "*a",    "- x",  "~",
    "1e999",    "P-1Y",     "\xff\xfe", "\"unterminated", "'", "@",   "%",    "|",
    ">",        "[1, [2, [3]]]", "{a: b}", "-1",     "0",      "null",  "true", "2026-02-30",
    "12 months", "forever", "after closure", "x: y: z", "\t",   "!!str", "\\u0000"};

TEST(PolicyMutationTest, BrokenPoliciesAreRefusedWithPlacesOrLoadAndRender) {
  const int rounds = testing_util::MutationRounds(120);
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
      const std::string text = testing_util::Mutate(original, rng, kValues, ": ");
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
