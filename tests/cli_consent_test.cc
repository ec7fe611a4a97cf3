// `custodian consent` and `custodian import consents`: the real binary on the
// Interjet policy. Choices recorded from the command line open and close
// purpose-bound reads; an import takes original times, rejects bad rows with
// the line and reason, and records nothing twice when run again.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "run_util.h"
#include "test_util.h"

namespace custodian {
namespace {

using nlohmann::json;
using testing_util::ReadFile;
using testing_util::RunCustodian;
using testing_util::RunResult;
using testing_util::TempDir;
using testing_util::WriteFile;

const std::string kPolicy = std::string(CUSTODIAN_SOURCE_DIR) + "/examples/policies/interjet.yaml";

class ConsentCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = (dir_.path() / "data").string();
    ASSERT_EQ(Run({"init"}).exit_code, 0);
    ASSERT_EQ(Run({"tenant", "create", "interjet", "--policy", kPolicy}).exit_code, 0);
    RunResult r = Run({"subject", "add", "interjet", "--field", "user.name=Asha Rao", "--field",
                       "user.contact.phone_number=+91 88701 00100", "--external-id", "C1"});
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

TEST_F(ConsentCliTest, GrantAndWithdrawOpenAndCloseMarketingReads) {
  const std::vector<std::string> read = {"subject", "show",      "interjet",
                                         subject_,  "--purpose", "marketing.communications",
                                         "--role",  "marketing"};
  RunResult before = Run(read);
  EXPECT_EQ(before.exit_code, 1);
  EXPECT_NE(before.err.find("rests on consent, and the subject has not given it"),
            std::string::npos)
      << before.Describe();

  RunResult grant = Run({"consent", "grant", "interjet", subject_, "marketing.communications",
                         "--source", "portal", "--request-id", "req-7", "--json"});
  ASSERT_EQ(grant.exit_code, 0) << grant.Describe();
  json g = json::parse(grant.out);
  EXPECT_EQ(g["state"], "granted");
  EXPECT_EQ(g["allowed"], true);
  EXPECT_EQ(Run(read).exit_code, 0);

  RunResult withdraw =
      Run({"consent", "withdraw", "interjet", subject_, "marketing.communications"});
  ASSERT_EQ(withdraw.exit_code, 0) << withdraw.Describe();
  EXPECT_NE(withdraw.out.find("marketing.communications  withdrawn (may not be used)"),
            std::string::npos)
      << withdraw.out;
  EXPECT_EQ(Run(read).exit_code, 1);

  RunResult show = Run({"consent", "show", "interjet", subject_, "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.Describe();
  json v = json::parse(show.out);
  ASSERT_EQ(v["history"].size(), 2u);
  EXPECT_EQ(v["history"][0]["source"], "portal");
  EXPECT_EQ(v["history"][0]["request_id"], "req-7");
  EXPECT_EQ(v["history"][1]["source"], "operator");
  EXPECT_EQ(v["history"][1]["actor"], "cli");
}

TEST_F(ConsentCliTest, BadChoicesExitWithAPreciseMessage) {
  RunResult contract = Run({"consent", "withdraw", "interjet", subject_, "essential.service"});
  EXPECT_EQ(contract.exit_code, 1);
  EXPECT_EQ(contract.err,
            "custodian: purpose 'essential.service' rests on contract, not on consent or "
            "legitimate interest, so there is no choice to record; a person who disagrees can "
            "ask for erasure or restriction instead\n");
  RunResult object = Run({"consent", "object", "interjet", subject_, "marketing.communications"});
  EXPECT_EQ(object.exit_code, 1);
  EXPECT_EQ(object.err,
            "custodian: state 'objected' does not apply to purpose 'marketing.communications', "
            "which rests on consent; use 'granted' or 'withdrawn'\n");
  RunResult at = Run(
      {"consent", "grant", "interjet", subject_, "marketing.communications", "--at", "yesterday"});
  EXPECT_EQ(at.exit_code, 2) << at.Describe();
  RunResult show = Run({"consent", "show", "interjet", subject_, "--json"});
  ASSERT_EQ(show.exit_code, 0);
  EXPECT_TRUE(json::parse(show.out)["history"].empty());
}

TEST_F(ConsentCliTest, ImportTakesOriginalTimesRejectsBadRowsAndIsIdempotent) {
  std::string csv = (dir_.path() / "consents.csv").string();
  WriteFile(csv,
            "external_id,purpose,state,at,source\n"
            "C1,marketing.communications,granted,2025-01-02,import\n"
            "C404,marketing.communications,granted,2025-01-02,\n"
            "C1,functional.service.improve,objected,2025-02-01T10:00:00Z,\n"
            "C1,marketing.communications,granted,02/01/2025,\n"
            "C1,essential.service,withdrawn,2025-02-01,\n");
  RunResult first = Run({"import", "consents", "interjet", csv, "--json"});
  EXPECT_EQ(first.exit_code, 3) << first.Describe();
  json s = json::parse(first.out);
  EXPECT_EQ(s["rows"], 5);
  EXPECT_EQ(s["added"], 2);
  EXPECT_EQ(s["rejected"], 3);
  std::string rejects = ReadFile(csv + ".rejects.csv");
  EXPECT_NE(rejects.find("3,external_id,no subject has this external id,C404"), std::string::npos)
      << rejects;
  EXPECT_NE(rejects.find("5,at,"), std::string::npos) << rejects;
  EXPECT_NE(rejects.find("6,purpose,\"purpose 'essential.service' rests on contract"),
            std::string::npos)
      << rejects;

  RunResult again = Run({"import", "consents", "interjet", csv, "--json"});
  json a = json::parse(again.out);
  EXPECT_EQ(a["added"], 0);
  EXPECT_EQ(a["unchanged"], 2);

  RunResult show = Run({"consent", "show", "interjet", subject_, "--json"});
  json v = json::parse(show.out);
  ASSERT_EQ(v["history"].size(), 2u);
  EXPECT_EQ(v["history"][0]["at"], "2025-01-02T00:00:00Z");
  EXPECT_EQ(v["purposes"][1]["state"], "objected");

  WriteFile(csv, "external_id,purpose,choice,at\n");
  RunResult bad_header = Run({"import", "consents", "interjet", csv});
  EXPECT_EQ(bad_header.exit_code, 1);
  EXPECT_NE(bad_header.err.find(":1: column 'choice' is not one a consent import takes"),
            std::string::npos)
      << bad_header.Describe();
  RunResult agent = Run({"import", "consents", "interjet", csv, "--role", "agent"});
  EXPECT_EQ(agent.exit_code, 1);
  EXPECT_EQ(agent.err, "custodian: importing consents needs role 'admin' (not 'agent')\n");
}

}  // namespace
}  // namespace custodian
