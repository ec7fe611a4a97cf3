// `custodian disclose`, `disclosures` and `report`: the real binary on the
// Interjet policy.
#include <gtest/gtest.h>
#include <sys/stat.h>

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

const std::string kPolicy = std::string(CUSTODIAN_SOURCE_DIR) + "/examples/policies/interjet.yaml";

class DisclosureCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = (dir_.path() / "data").string();
    ASSERT_EQ(Run({"init"}).exit_code, 0);
    ASSERT_EQ(Run({"tenant", "create", "interjet", "--policy", kPolicy}).exit_code, 0);
    RunResult r = Run({"subject", "add", "interjet", "--field", "user.name=Asha Rao", "--field",
                       "user.contact.phone_number=088701 00100", "--external-id", "CUST-17"});
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

TEST_F(DisclosureCliTest, RecordsWithThePayloadListsAndRefuses) {
  const std::string out = (dir_.path() / "payload.json").string();
  RunResult d = Run({"disclose", "interjet", "--recipient", "authorities", "--purpose",
                     "essential.legal_obligation", "--category", "user.name", "--external-id",
                     "CUST-17", "--external-id", "CUST-NONE", "--legal-reference",
                     "Order 2026/117", "--export", out});
  EXPECT_EQ(d.exit_code, 3) << d.Describe();  // one lookup matched nobody
  EXPECT_NE(d.out.find(" 1 subject(s) to authorities (authority) for essential.legal_obligation: "
                       "user.name\n  legal reference: Order 2026/117\n  lookup 2 matched nobody\n"
                       "  payload: " + out + " (1 subject(s))\n"),
            std::string::npos)
      << d.out;
  struct stat st;
  ASSERT_EQ(::stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  json payload = json::parse(ReadFile(out));
  EXPECT_EQ(payload["subjects"][0]["subject"], subject_);
  EXPECT_EQ(payload["subjects"][0]["fields"], json({{"user.name", "Asha Rao"}}));

  RunResult refused = Run({"disclose", "interjet", "--recipient", "payment_providers",
                           "--purpose", "essential.service.payment_processing", "--category",
                           "user.financial", "--subject", subject_});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(refused.err,
            "custodian: category 'user.financial' is not declared for recipient "
            "'payment_providers' (it may receive: user.name, user.contact.phone_number, "
            "user.contact.email, user.payment)\n");
  EXPECT_EQ(Run({"disclose", "interjet", "--recipient", "payment_providers"}).exit_code, 2);

  RunResult list = Run({"disclosures", "interjet", subject_, "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.Describe();
  json l = json::parse(list.out);
  ASSERT_EQ(l["disclosures"].size(), 1u);
  EXPECT_EQ(l["disclosures"][0]["legal_reference"], "Order 2026/117");
  EXPECT_EQ(l["disclosures"][0]["recipient"], "authorities");
}

TEST_F(DisclosureCliTest, ReportsInEveryFormat) {
  RunResult md = Run({"report", "processing", "interjet", "--format", "markdown"});
  ASSERT_EQ(md.exit_code, 0) << md.Describe();
  EXPECT_EQ(md.out.rfind("# Record of processing activities\n", 0), 0u) << md.out;
  EXPECT_EQ(md.out.find("Asha"), std::string::npos);
  const std::string html = (dir_.path() / "access.html").string();
  RunResult a = Run({"report", "access", "interjet", "--from", "2020-01-01", "--to", "2100-01-01",
                     "--format", "html", "-o", html});
  ASSERT_EQ(a.exit_code, 0) << a.Describe();
  EXPECT_NE(ReadFile(html).find("<h1>Access to personal data</h1>"), std::string::npos);
  RunResult j = Run({"report", "requests", "interjet", "--from", "2020-01-01", "--to",
                     "2100-01-01"});
  ASSERT_EQ(j.exit_code, 0) << j.Describe();
  EXPECT_EQ(json::parse(j.out)["report"], "requests");
  EXPECT_EQ(Run({"report", "requests", "interjet"}).exit_code, 2);  // --from, --to required
  RunResult agent = Run({"report", "access", "interjet", "--from", "2020-01-01", "--to",
                         "2100-01-01", "--role", "agent"});
  EXPECT_EQ(agent.exit_code, 1);
  EXPECT_EQ(agent.err, "custodian: reports need role 'admin' or 'auditor' (not 'agent')\n");
}

}  // namespace
}  // namespace custodian
