// Whole-system tests of `custodian policy check` and `custodian policy render`:
// the real binary, run as a child process, on the example policies and on
// small policies written to a temporary directory.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "policy/loader.h"
#include "run_util.h"
#include "test_util.h"

namespace custodian {
namespace {

namespace fs = std::filesystem;
using testing::HasSubstr;
using testing::Not;
using testing::StartsWith;
using testing_util::ReadFile;
using testing_util::RunCustodian;
using testing_util::RunOptions;
using testing_util::RunResult;
using testing_util::TempDir;
using testing_util::WriteFile;

constexpr int kOk = 0, kError = 1, kUsage = 2;

// A small valid policy; positions in the expected diagnostics refer to it.
constexpr char kValid[] = R"(version: "1"
effective: 2026-04-07
organization:
  name: Acme
  jurisdiction: IN
categories:
  user.name: {}
  user.contact.phone_number:
    index: exact
  user.government_id:
    sensitive: true
purposes:
  essential.service:
    basis: contract
    categories: [user.name, user.contact.phone_number]
    roles: [admin]
  marketing.communications.sms:
    basis: consent
    categories: [user.name, user.contact.phone_number]
    roles: [marketing]
    channels: [sms]
    opt_out: [sms_stop]
  essential.legal_obligation:
    basis: legal_obligation
    categories: [user.government_id]
    roles: [admin]
recipients:
  sms_gateway:
    label: SMS gateway
    kind: processor
    purposes: [marketing.communications.sms]
    categories: [user.contact.phone_number]
record_kinds:
  media:
    label: Photos of the ID proof
    category: user.government_id
    anchors: [verified]
retention:
  - name: account
    categories: [user.name, user.contact.phone_number, user.government_id]
    while: active
  - name: media
    records: [media]
    after: verified
    for: 90 days
rights:
  access: {}
  grievance: {}
)";

// kValid with `find` (which must occur once) replaced by `replace`.
std::string Edited(std::initializer_list<std::pair<std::string, std::string>> edits) {
  std::string text = kValid;
  for (const auto& [find, replace] : edits) {
    std::size_t at = text.find(find);
    EXPECT_NE(at, std::string::npos) << find;
    EXPECT_EQ(text.find(find, at + 1), std::string::npos) << find;
    if (at != std::string::npos) text.replace(at, find.size(), replace);
  }
  return text;
}

// A purpose using an undeclared category and an unparseable duration.
std::string Broken() {
  return Edited({{"categories: [user.government_id]\n    roles",
                  "categories: [user.government_id, user.contact.fax_number]\n    roles"},
                 {"for: 90 days", "for: 12 monthz"}});
}
constexpr char kBrokenErrors[] =
    "broken.yaml:25:38: error: purpose 'essential.legal_obligation' uses category "
    "'user.contact.fax_number', which is not declared under categories; declare it or remove it "
    "from the purpose\n"
    "broken.yaml:45:10: error: retention rule 'media': invalid duration '12 monthz': unknown unit "
    "'monthz'; did you mean '12 months'? Expected a positive whole number and a unit (days, weeks, "
    "months or years), e.g. '12 months'\n";

// Valid, with one warning.
std::string WarningOnly() {
  return Edited(
      {{"    opt_out: [sms_stop]\n", "    opt_out: [sms_stop]\n    default: opted_in\n"}});
}
constexpr char kWarning[] =
    "warn.yaml:23:5: warning: consent-based purpose 'marketing.communications.sms' defaults to "
    "opted_in, so people count as consenting before they agree; consent should be given, not "
    "assumed (default: opted_out)\n";

std::vector<fs::path> ExamplePolicies() {
  std::vector<fs::path> out;
  for (const auto& e :
       fs::directory_iterator(fs::path(CUSTODIAN_SOURCE_DIR) / "examples/policies")) {
    if (e.path().extension() == ".yaml") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The line `policy check` prints for a valid file, built from the library's
// own reading of it, so the test follows the examples as they change.
std::string OkLine(const std::string& shown_name, const fs::path& file) {
  policy::LoadResult r = policy::LoadPolicyFile(file.string());
  EXPECT_TRUE(r.ok()) << file;
  if (!r.ok()) return "";
  const policy::Policy& p = *r.policy;
  std::string line = shown_name + ": ok (" + p.organization.name + ", version " + p.version + ", " +
                     std::to_string(p.categories.size()) + " categories, " +
                     std::to_string(p.purposes.size()) + " purposes, " +
                     std::to_string(p.recipients.size()) + " recipients, " +
                     std::to_string(p.retention.size()) + " retention rules";
  if (r.warning_count() > 0) line += ", " + std::to_string(r.warning_count()) + " warning(s)";
  return line + ")\n";
}

class PolicyCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    WriteFile(dir_.path() / "valid.yaml", kValid);
    WriteFile(dir_.path() / "broken.yaml", Broken());
    WriteFile(dir_.path() / "warn.yaml", WarningOnly());
  }
  // Runs with the temporary directory as working directory, so that file
  // names in the output are short and exact.
  RunResult Cli(const std::vector<std::string>& args) {
    RunOptions o;
    o.cwd = dir_.path();
    return RunCustodian(args, o);
  }
  fs::path Path(const std::string& name) const { return dir_.path() / name; }

  TempDir dir_;
};

// --- policy check -------------------------------------------------------------

TEST_F(PolicyCliTest, CheckAcceptsEveryExampleWithOneOkLineEach) {
  std::vector<fs::path> examples = ExamplePolicies();
  ASSERT_EQ(examples.size(), 5u);
  std::vector<std::string> args = {"policy", "check"};
  std::string expected;
  for (const fs::path& p : examples) {
    args.push_back(p.string());
    expected += OkLine(p.string(), p);
  }
  RunResult r = RunCustodian(args);
  EXPECT_EQ(r.exit_code, kOk) << r.Describe();
  EXPECT_EQ(r.out, expected);
  EXPECT_EQ(r.err, "");
}

TEST_F(PolicyCliTest, CheckPrintsTheExactOkLine) {
  RunOptions o;
  o.cwd = CUSTODIAN_SOURCE_DIR;
  RunResult r = RunCustodian({"policy", "check", "examples/policies/interjet.yaml"}, o);
  EXPECT_EQ(r.exit_code, kOk) << r.Describe();
  EXPECT_EQ(r.out,
            "examples/policies/interjet.yaml: ok (Interjet, version 2025.1, 17 categories, "
            "9 purposes, 3 recipients, 4 retention rules)\n");
  EXPECT_EQ(r.err, "");
}

TEST_F(PolicyCliTest, CheckQuietPrintsNothingForValidFiles) {
  RunResult r = Cli({"policy", "check", "--quiet", "valid.yaml"});
  EXPECT_EQ(r.exit_code, kOk) << r.Describe();
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");
}

TEST_F(PolicyCliTest, CheckReportsEveryErrorWithItsPositionAndNamesTheFile) {
  RunResult r = Cli({"policy", "check", "broken.yaml"});
  EXPECT_EQ(r.exit_code, kError) << r.Describe();
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, std::string(kBrokenErrors) + "broken.yaml: 2 error(s), 0 warning(s)\n");
}

TEST_F(PolicyCliTest, CheckWithAbsolutePathNamesThatPath) {
  RunResult r = RunCustodian({"policy", "check", Path("broken.yaml").string()});
  EXPECT_EQ(r.exit_code, kError) << r.Describe();
  EXPECT_THAT(r.err, StartsWith(Path("broken.yaml").string() + ":25:38: error: "));
  EXPECT_THAT(r.err, HasSubstr("\n" + Path("broken.yaml").string() + ":45:10: error: "));
  EXPECT_THAT(r.err,
              HasSubstr("\n" + Path("broken.yaml").string() + ": 2 error(s), 0 warning(s)\n"));
}

TEST_F(PolicyCliTest, CheckWarningOnlyExitsZeroAndPrintsTheWarning) {
  RunResult r = Cli({"policy", "check", "warn.yaml"});
  EXPECT_EQ(r.exit_code, kOk) << r.Describe();
  EXPECT_EQ(r.out,
            "warn.yaml: ok (Acme, version 1, 3 categories, 3 purposes, 1 recipients, 2 retention "
            "rules, 1 warning(s))\n");
  EXPECT_EQ(r.err, kWarning);
}

TEST_F(PolicyCliTest, CheckOfManyFilesFailsIfAnyFailsAndStillChecksTheRest) {
  RunResult r = Cli({"policy", "check", "valid.yaml", "broken.yaml", "warn.yaml"});
  EXPECT_EQ(r.exit_code, kError) << r.Describe();
  EXPECT_EQ(r.out,
            "valid.yaml: ok (Acme, version 1, 3 categories, 3 purposes, 1 recipients, 2 retention "
            "rules)\n"
            "warn.yaml: ok (Acme, version 1, 3 categories, 3 purposes, 1 recipients, 2 retention "
            "rules, 1 warning(s))\n");
  EXPECT_EQ(r.err,
            std::string(kBrokenErrors) + "broken.yaml: 2 error(s), 0 warning(s)\n" + kWarning);
}

TEST_F(PolicyCliTest, CheckOfEmptyAndNonUtf8Files) {
  WriteFile(Path("empty.yaml"), "");
  WriteFile(Path("latin1.yaml"), Edited({{"name: Acme", "name: Acm\xE9"}}));
  RunResult r = Cli({"policy", "check", "empty.yaml", "latin1.yaml"});
  EXPECT_EQ(r.exit_code, kError) << r.Describe();
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "empty.yaml:1:1: error: the file is empty; expected a policy document with at least "
            "version, effective, organization, categories, purposes and retention\n"
            "empty.yaml: 1 error(s), 0 warning(s)\n"
            "latin1.yaml:4:12: error: the file is not valid UTF-8: byte 0xE9 does not belong here; "
            "save the file as UTF-8\n"
            "latin1.yaml: 1 error(s), 0 warning(s)\n");
}

TEST_F(PolicyCliTest, CheckOfAMissingFileIsAUsageError) {
  RunResult r = Cli({"policy", "check", "valid.yaml", "no-such.yaml"});
  EXPECT_EQ(r.exit_code, kUsage) << r.Describe();
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("no-such.yaml"));
}

TEST_F(PolicyCliTest, CheckOfADirectoryIsAUsageError) {
  RunResult r = Cli({"policy", "check", "."});
  EXPECT_EQ(r.exit_code, kUsage) << r.Describe();
  EXPECT_EQ(r.out, "");
}

TEST_F(PolicyCliTest, UsageErrors) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {},
           {"policy"},
           {"policy", "check"},
           {"policy", "render"},
           {"policy", "frobnicate"},
           {"policy", "check", "--no-such-flag", "valid.yaml"},
           {"no-such-command"},
       }) {
    RunResult r = Cli(args);
    std::string shown;
    for (const auto& a : args) shown += " " + a;
    EXPECT_EQ(r.exit_code, kUsage) << "custodian" << shown << "\n" << r.Describe();
    EXPECT_EQ(r.out, "") << shown;
    EXPECT_NE(r.err, "") << shown;
  }
}

TEST_F(PolicyCliTest, HelpAndVersionExitZero) {
  RunResult help = Cli({"--help"});
  EXPECT_EQ(help.exit_code, kOk) << help.Describe();
  EXPECT_THAT(help.out, HasSubstr("policy"));
  RunResult version = Cli({"--version"});
  EXPECT_EQ(version.exit_code, kOk) << version.Describe();
  EXPECT_THAT(version.out, StartsWith("custodian "));
}

// --- policy render ------------------------------------------------------------

TEST_F(PolicyCliTest, RenderEveryExampleInEveryFormatToAFileAndToStdout) {
  for (const fs::path& example : ExamplePolicies()) {
    for (const std::string format : {"markdown", "html", "json"}) {
      SCOPED_TRACE(example.filename().string() + " as " + format);
      fs::path out = Path(example.stem().string() + "." + format);
      RunResult to_file =
          Cli({"policy", "render", example.string(), "--format", format, "-o", out.string()});
      ASSERT_EQ(to_file.exit_code, kOk) << to_file.Describe();
      EXPECT_EQ(to_file.out, "");
      EXPECT_EQ(to_file.err, "");
      ASSERT_TRUE(fs::exists(out));
      std::string written = ReadFile(out);
      ASSERT_FALSE(written.empty());

      RunResult to_stdout = Cli({"policy", "render", example.string(), "--format", format});
      ASSERT_EQ(to_stdout.exit_code, kOk) << to_stdout.Describe();
      EXPECT_EQ(to_stdout.err, "");
      EXPECT_TRUE(to_stdout.out == written) << "stdout differs from the -o file";

      policy::LoadResult loaded = policy::LoadPolicyFile(example.string());
      ASSERT_TRUE(loaded.ok());
      const std::string& org = loaded.policy->organization.name;
      if (format == "html") {
        EXPECT_THAT(written, StartsWith("<!doctype html>"));
        EXPECT_THAT(written, HasSubstr("</html>"));
        EXPECT_THAT(written, HasSubstr(org));
      } else if (format == "json") {
        nlohmann::json j = nlohmann::json::parse(written, nullptr, /*allow_exceptions=*/false);
        ASSERT_FALSE(j.is_discarded()) << "not JSON";
        ASSERT_TRUE(j.is_object());
        EXPECT_EQ(j["organization"]["name"], org);
        EXPECT_EQ(j["version"], loaded.policy->version);
        EXPECT_EQ(j["categories"].size(), loaded.policy->categories.size());
        EXPECT_EQ(j["purposes"].size(), loaded.policy->purposes.size());
      } else {
        EXPECT_THAT(written, StartsWith("# " + org));
      }
    }
  }
}

TEST_F(PolicyCliTest, RenderDefaultsToMarkdownAndDashIsStdout) {
  RunResult plain = Cli({"policy", "render", "valid.yaml"});
  ASSERT_EQ(plain.exit_code, kOk) << plain.Describe();
  EXPECT_THAT(plain.out, StartsWith("# Acme"));
  RunResult markdown = Cli({"policy", "render", "valid.yaml", "--format", "markdown", "-o", "-"});
  ASSERT_EQ(markdown.exit_code, kOk) << markdown.Describe();
  EXPECT_EQ(markdown.out, plain.out);
  EXPECT_FALSE(fs::exists(Path("-")));
}

TEST_F(PolicyCliTest, RenderOfAWarningOnlyPolicyPrintsTheWarningAndRenders) {
  RunResult r = Cli({"policy", "render", "warn.yaml", "--format", "json", "-o", "warn.json"});
  EXPECT_EQ(r.exit_code, kOk) << r.Describe();
  EXPECT_EQ(r.err, kWarning);
  EXPECT_TRUE(fs::exists(Path("warn.json")));
}

TEST_F(PolicyCliTest, RenderWithAnInvalidFormatIsAUsageErrorAndWritesNothing) {
  for (const std::string format : {"pdf", "HTML", ""}) {
    RunResult r = Cli({"policy", "render", "valid.yaml", "--format", format, "-o", "out.pdf"});
    EXPECT_EQ(r.exit_code, kUsage) << "'" << format << "'\n" << r.Describe();
    EXPECT_EQ(r.out, "");
    EXPECT_FALSE(fs::exists(Path("out.pdf")));
  }
}

TEST_F(PolicyCliTest, RenderOfABrokenPolicyFailsAndWritesNothing) {
  WriteFile(Path("notice.html"), "the previous notice\n");
  RunResult r = Cli({"policy", "render", "broken.yaml", "--format", "html", "-o", "notice.html"});
  EXPECT_EQ(r.exit_code, kError) << r.Describe();
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            std::string(kBrokenErrors) +
                "broken.yaml: not rendered: fix the errors above (custodian policy check)\n");
  EXPECT_EQ(ReadFile(Path("notice.html")), "the previous notice\n");

  RunResult fresh = Cli({"policy", "render", "broken.yaml", "-o", "fresh.md"});
  EXPECT_EQ(fresh.exit_code, kError) << fresh.Describe();
  EXPECT_FALSE(fs::exists(Path("fresh.md")));

  RunResult to_stdout = Cli({"policy", "render", "broken.yaml"});
  EXPECT_EQ(to_stdout.exit_code, kError) << to_stdout.Describe();
  EXPECT_EQ(to_stdout.out, "");
}

TEST_F(PolicyCliTest, RenderToAnUnwritablePlaceFails) {
  RunResult r = Cli({"policy", "render", "valid.yaml", "-o", "no-such-dir/notice.md"});
  EXPECT_EQ(r.exit_code, kError) << r.Describe();
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "custodian: cannot write no-such-dir/notice.md\n");
}

TEST_F(PolicyCliTest, RenderOfAMissingFileIsAUsageError) {
  RunResult r = Cli({"policy", "render", "no-such.yaml", "-o", "out.md"});
  EXPECT_EQ(r.exit_code, kUsage) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("no-such.yaml"));
  EXPECT_FALSE(fs::exists(Path("out.md")));
}

}  // namespace
}  // namespace custodian
