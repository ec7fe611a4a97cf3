// `custodian request`: the real binary on the Interjet policy.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "run_util.h"
#include "test_util.h"

namespace custodian {
namespace {

using nlohmann::json;
using testing_util::RunCustodian;
using testing_util::RunResult;
using testing_util::TempDir;

const std::string kPolicy = std::string(CUSTODIAN_SOURCE_DIR) + "/examples/policies/interjet.yaml";

class RequestCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = (dir_.path() / "data").string();
    ASSERT_EQ(Run({"init"}).exit_code, 0);
    ASSERT_EQ(Run({"tenant", "create", "interjet", "--policy", kPolicy}).exit_code, 0);
    RunResult r = Run({"subject", "add", "interjet", "--field", "user.name=Asha Rao"});
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
    subject_ = r.out.substr(0, r.out.find('\n'));
  }
  RunResult Run(std::vector<std::string> args) {
    args.push_back("--data-dir");
    args.push_back(data_);
    return RunCustodian(args);
  }
  TempDir dir_;
  std::string data_, subject_;
};

TEST_F(RequestCliTest, AnErasureRequestFromSubmitToComplete) {
  RunResult s = Run({"request", "submit", "interjet", "--type", "erasure", "--subject", subject_,
                     "--details", "close my account", "--json"});
  ASSERT_EQ(s.exit_code, 0) << s.Describe();
  json r = json::parse(s.out);
  const std::string id = r["id"];
  EXPECT_EQ(r["state"], "verifying");
  EXPECT_EQ(r["verification"], "otp");
  EXPECT_EQ(r["overdue"], false);

  RunResult early = Run({"request", "complete", "interjet", id});
  EXPECT_EQ(early.exit_code, 1);
  EXPECT_EQ(early.err, "custodian: request '" + id +
                           "' is verifying; it cannot complete before the person's identity is "
                           "verified\n");
  EXPECT_EQ(Run({"request", "verify", "interjet", id}).exit_code, 2);  // --reason is required
  ASSERT_EQ(Run({"request", "verify", "interjet", id, "--reason", "ID seen at the store"})
                .exit_code,
            0);
  ASSERT_EQ(Run({"request", "start", "interjet", id}).exit_code, 0);
  RunResult done = Run({"request", "complete", "interjet", id, "--reason", "erased", "--json"});
  ASSERT_EQ(done.exit_code, 0) << done.Describe();
  EXPECT_EQ(json::parse(done.out)["state"], "completed");

  RunResult list = Run({"request", "list", "interjet"});
  EXPECT_NE(list.out.find(id + "  erasure  completed  due "), std::string::npos) << list.out;
  EXPECT_EQ(Run({"request", "list", "interjet", "--overdue"}).out, "no requests\n");
  RunResult show = Run({"request", "show", "interjet", id});
  // The erasure kept its evidence and wiped what was written in the request.
  EXPECT_NE(show.out.find("  done: erased 1 field and 0 records (by cli, "), std::string::npos)
      << show.out;
  EXPECT_EQ(show.out.find("close my account"), std::string::npos) << show.out;
}

TEST_F(RequestCliTest, AnAccessExportIsDownloadedOnceAndACorrectionIsApplied) {
  RunResult s = Run({"request", "submit", "interjet", "--type", "access", "--subject", subject_,
                     "--json"});
  ASSERT_EQ(s.exit_code, 0) << s.Describe();
  const std::string id = json::parse(s.out)["id"];
  RunResult v = Run({"request", "verify", "interjet", id, "--reason", "ID seen", "--json"});
  ASSERT_EQ(v.exit_code, 0) << v.Describe();
  json done = json::parse(v.out);
  EXPECT_EQ(done["state"], "completed");
  EXPECT_EQ(done["evidence"]["done"], "exported 1 fields and 0 records");
  const std::string token = done["download_token"];
  const std::string zip = (dir_.path() / "export.zip").string();
  RunResult d = Run({"request", "download", token, "--out", zip});
  ASSERT_EQ(d.exit_code, 0) << d.Describe();
  EXPECT_EQ(testing_util::ReadFile(zip).substr(0, 2), "PK");
  EXPECT_NE(d.out.find("sha256 " + done["evidence"]["export"]["sha256"].get<std::string>()),
            std::string::npos);
  RunResult again = Run({"request", "download", token, "--out", zip});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already downloaded"), std::string::npos) << again.err;

  EXPECT_EQ(Run({"request", "submit", "interjet", "--type", "correction", "--subject", subject_,
                 "--correct", "user.name"})
                .exit_code,
            2);  // CATEGORY=VALUE
  RunResult c = Run({"request", "submit", "interjet", "--type", "correction", "--subject",
                     subject_, "--correct", "user.name=Asha R. Rao", "--json"});
  ASSERT_EQ(c.exit_code, 0) << c.Describe();
  const std::string cid = json::parse(c.out)["id"];
  ASSERT_EQ(Run({"request", "verify", "interjet", cid, "--reason", "ID seen"}).exit_code, 0);
  RunResult applied = Run({"request", "complete", "interjet", cid});
  ASSERT_EQ(applied.exit_code, 0) << applied.Describe();
  EXPECT_NE(applied.out.find("correct user.name (applied)"), std::string::npos) << applied.out;
  RunResult shown = Run({"subject", "show", "interjet", subject_, "--purpose", "essential.service",
                        "--role", "agent"});
  EXPECT_NE(shown.out.find("Asha R. Rao"), std::string::npos) << shown.Describe();
}

TEST_F(RequestCliTest, BadRequestsExitWithTheReason) {
  RunResult bad = Run({"request", "submit", "interjet", "--type", "deletion", "--subject",
                       subject_});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.err,
            "custodian: request type 'deletion' is not known; use access, portability, "
            "correction, erasure, objection, restriction, consent_withdrawal or grievance\n");
  RunResult none = Run({"request", "show", "interjet", "req_nosuch"});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_EQ(none.err, "custodian: request 'req_nosuch' does not exist\n");
  EXPECT_EQ(Run({"request", "list", "interjet"}).out, "no requests\n");
}

}  // namespace
}  // namespace custodian
