// Renders every example policy (examples/policies/*.yaml, whatever files are
// there) in all three formats and checks that what the policy declares is
// what the notice publishes: every category, purpose and recipient label and
// every retention rule's sentence in the markdown and the HTML, and every key
// in the JSON.

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "policy/loader.h"
#include "policy/render.h"
#include "policy/render_internal.h"

namespace custodian::policy {
namespace {

namespace fs = std::filesystem;
using render_internal::EscapeHtml;
using render_internal::EscapeMarkdown;

fs::path ExamplesDir() { return fs::path(CUSTODIAN_SOURCE_DIR) / "examples" / "policies"; }

std::vector<std::string> ExampleFiles() {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(ExamplesDir(), ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") {
      files.push_back(entry.path().filename().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string TestName(const testing::TestParamInfo<std::string>& info) {
  std::string name = fs::path(info.param).stem().string();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

// The ids found under `field` in each object of the JSON array `list`.
std::set<std::string> Ids(const nlohmann::json& list, const char* field) {
  std::set<std::string> ids;
  if (!list.is_array()) return ids;
  for (const auto& item : list) {
    if (item.contains(field) && item[field].is_string()) ids.insert(item[field].get<std::string>());
  }
  return ids;
}

class ExamplesRenderTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string path = (ExamplesDir() / GetParam()).string();
    LoadResult result = LoadPolicyFile(path);
    for (const Diagnostic& d : result.diagnostics) ADD_FAILURE() << d.ToString();
    ASSERT_TRUE(result.ok()) << path << " does not load";
    policy_ = std::move(*result.policy);
    markdown_ = RenderNotice(policy_, NoticeFormat::kMarkdown);
    html_ = RenderNotice(policy_, NoticeFormat::kHtml);
    json_text_ = RenderNotice(policy_, NoticeFormat::kJson);
  }

  // `text` appears in the markdown and, escaped, in the HTML.
  void ExpectPublished(const std::string& what, const std::string& text) {
    EXPECT_NE(markdown_.find(EscapeMarkdown(text)), std::string::npos)
        << what << " missing from the markdown: " << text;
    EXPECT_NE(html_.find(EscapeHtml(text)), std::string::npos)
        << what << " missing from the HTML: " << text;
  }

  Policy policy_;
  std::string markdown_;
  std::string html_;
  std::string json_text_;
};

TEST_P(ExamplesRenderTest, NoticePublishesEveryDeclaration) {
  ASSERT_FALSE(markdown_.empty());
  for (const Category& c : policy_.categories) {
    ExpectPublished("category " + c.key, render_internal::CategoryLabel(policy_, c.key));
  }
  for (const Purpose& p : policy_.purposes) {
    ExpectPublished("purpose " + p.key, render_internal::PurposeLabel(policy_, p.key));
  }
  for (const Recipient& r : policy_.recipients) {
    ExpectPublished("recipient " + r.id, r.label.empty() ? r.id : r.label);
  }
  for (const RetentionRule& rule : policy_.retention) {
    ExpectPublished("retention rule " + rule.name, DescribeRetentionRule(policy_, rule));
  }
  for (const Right& right : policy_.rights) {
    EXPECT_NE(json_text_.find("\"" + right.name + "\""), std::string::npos) << right.name;
  }
  EXPECT_EQ(html_.find("<script"), std::string::npos);
}

TEST_P(ExamplesRenderTest, JsonHasEveryKey) {
  nlohmann::json j;
  ASSERT_NO_THROW(j = nlohmann::json::parse(json_text_));
  EXPECT_EQ(j, PolicyToJson(policy_));
  for (const char* key :
       {"version", "effective", "organization", "categories", "purposes", "recipients",
        "record_kinds", "retention", "rights", "cookies", "security", "changes"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  const std::set<std::string> categories = Ids(j["categories"], "key");
  for (const Category& c : policy_.categories) EXPECT_TRUE(categories.contains(c.key)) << c.key;
  const std::set<std::string> purposes = Ids(j["purposes"], "key");
  for (const Purpose& p : policy_.purposes) EXPECT_TRUE(purposes.contains(p.key)) << p.key;
  const std::set<std::string> recipients = Ids(j["recipients"], "id");
  for (const Recipient& r : policy_.recipients) EXPECT_TRUE(recipients.contains(r.id)) << r.id;
  const std::set<std::string> records = Ids(j["record_kinds"], "id");
  for (const RecordKind& r : policy_.record_kinds) EXPECT_TRUE(records.contains(r.id)) << r.id;
  const std::set<std::string> rules = Ids(j["retention"], "description");
  for (const RetentionRule& rule : policy_.retention) {
    EXPECT_TRUE(rules.contains(DescribeRetentionRule(policy_, rule))) << rule.name;
  }
  const std::set<std::string> rights = Ids(j["rights"]["offered"], "name");
  for (const Right& r : policy_.rights) EXPECT_TRUE(rights.contains(r.name)) << r.name;
  for (const auto& right : j["rights"]["offered"]) {
    EXPECT_TRUE(right["deadline_days"].is_number_integer());
    EXPECT_GT(right["deadline_days"].get<int64_t>(), 0);
  }
  const std::set<std::string> cookies = Ids(j["cookies"], "id");
  for (const CookieCategory& c : policy_.cookies) EXPECT_TRUE(cookies.contains(c.id)) << c.id;
  const std::set<std::string> security = Ids(j["security"], "id");
  for (const SecurityMeasure& m : policy_.security) EXPECT_TRUE(security.contains(m.id)) << m.id;
}

INSTANTIATE_TEST_SUITE_P(AllExamples, ExamplesRenderTest, testing::ValuesIn(ExampleFiles()),
                         TestName);

TEST(ExamplesRenderSetupTest, FindsTheReferenceExample) {
  const std::vector<std::string> files = ExampleFiles();
  EXPECT_NE(std::find(files.begin(), files.end(), "interjet.yaml"), files.end())
      << "no examples found in " << ExamplesDir();
}

}  // namespace
}  // namespace custodian::policy
