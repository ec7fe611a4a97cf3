// LoadMapping on broken mapping files: docs/import.md's two examples, each
// changed many times at random with a fixed seed (lines dropped, doubled,
// swapped or re-indented, values replaced by YAML oddities, the text cut
// short, stray bytes). Whatever the text, LoadMapping does not throw; a
// mapping it refuses says where, on every line of its message: a line and
// column of the mapping file, or the CSV header's line. A mapping it takes
// has a rule for every CSV column. CUSTODIAN_MUTATION_ROUNDS runs more.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "import/mapping.h"
#include "mutation_util.h"
#include "policy/loader.h"
#include "test_util.h"

namespace custodian::import {
namespace {

using testing_util::Lines;

// The fenced YAML block of docs/import.md that follows `marker`.
std::string DocExample(const std::string& marker) {
  const std::string doc =
      testing_util::ReadFile(std::string(CUSTODIAN_SOURCE_DIR) + "/docs/import.md");
  const std::size_t at = doc.find("```yaml\n", doc.find(marker));
  if (at == std::string::npos) return "";
  const std::size_t begin = at + 8;
  return doc.substr(begin, doc.find("```", begin) - begin);
}

const std::vector<std::string> kValues = {
    "",      "[",      "{",       "~",         "null",     "- x",        "&a",      "*a",
    "!!binary x", "'",  "\"",     "{a: b}",    "[1, [2]]", "external_id", "ignore",  "at",
    "data.",  "data.x:string", "data.x", "user.name", "x: y: z", "\xff\xfe", "|",  ">"};

TEST(MappingMutationTest, BrokenMappingsAreRefusedWithPlacesOrTaken) {
  const int rounds = testing_util::MutationRounds(300);
  const std::string policy_text = testing_util::ReadFile(std::string(CUSTODIAN_SOURCE_DIR) +
                                                         "/examples/policies/interjet.yaml");
  auto loaded = policy::LoadPolicyString(policy_text, "interjet.yaml");
  ASSERT_TRUE(loaded.ok());
  struct Example {
    std::string text;
    std::vector<std::string> header;
    ImportKind kind;
  };
  const Example examples[] = {
      {DocExample("Subjects, `customers-map.yaml`"),
       {"customer_id", "name", "mobile", "email", "address", "notes"},
       ImportKind::kSubjects},
      {DocExample("Billing records, `billing-map.yaml`"),
       {"customer_id", "invoice_date", "amount", "plan", "invoice_no"},
       ImportKind::kRecords},
  };
  std::mt19937_64 rng(20261202);
  int refused = 0, taken = 0;
  for (const Example& e : examples) {
    ASSERT_FALSE(e.text.empty());
    MappingOptions o;
    o.kind = e.kind;
    o.csv_name = "c.csv";
    ASSERT_TRUE(LoadMapping(e.text, "m.yaml", e.header, *loaded.policy, o).ok()) << e.text;
    for (int round = 0; round < rounds; ++round) {
      const std::string text = testing_util::Mutate(e.text, rng, kValues, ": ");
      o.ignore_unmapped = rng() % 2 == 0;
      Result<Mapping> m = Status::Internal("not loaded");
      ASSERT_NO_THROW(m = LoadMapping(text, "m.yaml", e.header, *loaded.policy, o)) << text;
      if (m.ok()) {
        ++taken;
        EXPECT_EQ(m->columns.size(), e.header.size());
        EXPECT_GE(m->external_id_column, 0) << text;
        continue;
      }
      ++refused;
      EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
      const int count = static_cast<int>(Lines(text).size());
      for (const std::string& line : Lines(m.status().message())) {
        if (line.rfind("c.csv:1: ", 0) == 0) continue;
        ASSERT_EQ(line.rfind("m.yaml:", 0), 0u) << line << "\n--- mapping ---\n" << text;
        int at = 0, column = 0;
        ASSERT_EQ(std::sscanf(line.c_str(), "m.yaml:%d:%d: ", &at, &column), 2)
            << line << "\n--- mapping ---\n" << text;
        EXPECT_GE(at, 1) << line;
        EXPECT_LE(at, count + 1) << line << "\n--- mapping ---\n" << text;
        EXPECT_GE(column, 1) << line;
      }
    }
  }
  EXPECT_GT(refused, 0);
  EXPECT_GT(taken, 0);
}

}  // namespace
}  // namespace custodian::import
