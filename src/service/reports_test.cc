// Reports on the Interjet policy with a clock the test sets: the record of
// processing activities (counts per purpose in the period), the requests
// report (median and worst time to completion, overdue ones), the access
// report (reads by role/purpose/actor, refusals, an agent reading far more
// than peers), roles, and the markdown/HTML renderings. No personal value in
// any of them.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "audit_util.h"
#include "service/report_render.h"
#include "service/vault.h"
#include "test_util.h"
#include "vault_test_util.h"

namespace custodian::service {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const Actor kAdmin{"test", "admin"};
const Actor kAuditor{"op:audit", "auditor"};
constexpr int64_t kMar1 = 1772323200000;  // 2026-03-01T00:00:00Z
constexpr int64_t kDay = 86400000;

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path() / "data";
    vault_ = testing_util::OpenTestVault(dir_, [this] { return now_; });
    ASSERT_NE(vault_, nullptr);
    ASSERT_TRUE(testing_util::CreateExampleTenant(*vault_, "interjet").ok());
  }
  std::string Add(const std::string& name, const std::string& email) {
    auto r = vault_->AddSubject(kAdmin, "interjet",
                                {{"user.name", name}, {"user.contact.email", email}}, std::nullopt);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->subject_id : "";
  }
  json Report(Result<std::string> r) {
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? json::parse(*r) : json();
  }
  const ReportPeriod kMarch{kMar1, kMar1 + 31 * kDay};

  testing_util::TempDir tmp_;
  fs::path dir_;
  int64_t now_ = kMar1;
  std::unique_ptr<Vault> vault_;
};

TEST_F(ReportTest, ProcessingCountsPerPurposeInThePeriod) {
  const std::string asha = Add("Asha Rao", "asha@example.in");
  const std::string bala = Add("Bala Krishnan", "bala@example.in");
  ASSERT_TRUE(vault_->AddSubject(kAdmin, "interjet", {{"user.device.telemetry", "wifi 5 GHz"}},
                                 std::nullopt)
                  .ok());
  ASSERT_TRUE(vault_->AddRecord(kAdmin, "interjet", asha, {"billing", kMar1 + kDay, "{}"}).ok());
  ASSERT_TRUE(vault_->AddRecord(kAdmin, "interjet", asha, {"billing", kMar1 - kDay, "{}"}).ok());
  now_ += 2 * kDay;
  DisclosureInput in;
  in.recipient = "payment_providers";
  in.purpose = "essential.service.payment_processing";
  in.categories = {"user.contact.email"};
  in.subjects = {asha, bala};
  ASSERT_TRUE(vault_->Disclose(kAdmin, "interjet", in).ok());
  ASSERT_TRUE(vault_->SubmitRequest(kAdmin, "interjet", {"access", asha, ""}).ok());
  ASSERT_TRUE(vault_->EraseSubject(kAdmin, "interjet", bala).ok());

  json r = Report(vault_->ReportProcessing(kAuditor, "interjet", kMarch));
  EXPECT_EQ(r["report"], "processing");
  EXPECT_EQ(r["period"]["from"], "2026-03-01T00:00:00Z");
  EXPECT_EQ(r["totals"], json({{"subjects", 2}, {"records", 1}, {"disclosures", 1}, {"requests", 1}}));
  json pay;
  for (const json& p : r["purposes"]) {
    if (p["purpose"] == "essential.service.payment_processing") pay = p;
  }
  ASSERT_TRUE(pay.is_object());
  EXPECT_EQ(pay["basis"], "contract");
  EXPECT_EQ(pay["record_kinds"], json({"billing"}));
  EXPECT_EQ(pay["counts"], json({{"subjects", 1},  // Bala was erased
                                 {"records", 1},   // one billing record in March
                                 {"disclosures", 1},
                                 {"subjects_disclosed", 2}}));
  ASSERT_EQ(pay["recipients"].size(), 1u);
  EXPECT_EQ(pay["recipients"][0]["recipient"], "payment_providers");
  EXPECT_FALSE(pay["retention"].empty());
  EXPECT_EQ(r["requests"]["by_type"]["access"], 1);
  for (const char* secret : {"Asha", "asha@", "Bala", "wifi"}) {
    EXPECT_EQ(r.dump().find(secret), std::string::npos) << secret;
  }
  auto md = RenderReport(r.dump(), "markdown");
  ASSERT_TRUE(md.ok());
  EXPECT_NE(md->find("# Record of processing activities\n"), std::string::npos) << *md;
  EXPECT_NE(md->find("| payment\\_providers | processor | IN | user.name, user.contact.phone\\_number"),
            std::string::npos)
      << *md;
  auto html = RenderReport(r.dump(), "html");
  ASSERT_TRUE(html.ok());
  EXPECT_NE(html->find("<h1>Record of processing activities</h1>"), std::string::npos);
  EXPECT_EQ(RenderReport(r.dump(), "pdf").status().message(),
            "unknown format 'pdf'; use json, markdown or html");
}

TEST_F(ReportTest, OnlyAdminsAndAuditorsGetReportsAndThePeriodMustBeReal) {
  auto r = vault_->ReportAccess({"op:priya", "agent"}, "interjet", kMarch);
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(r.status().message(), "reports need role 'admin' or 'auditor' (not 'agent')");
  auto events = testing_util::AuditEvents((dir_ / "custodian.db").string(), "report.access");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0].find("\"outcome\":\"refused\""), std::string::npos);
  auto empty = vault_->ReportRequests(kAdmin, "interjet", {kMar1, kMar1});
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(empty.status().message(),
            "the period is empty: --to (2026-03-01T00:00:00Z) must be after --from "
            "(2026-03-01T00:00:00Z)");
}

TEST_F(ReportTest, RequestsMedianWorstAndOverdue) {
  std::vector<std::string> ids;
  // Three access requests completed after 2, 4 and 10 days; an erasure left
  // open past its 90-day deadline; one from February (outside the period).
  for (int64_t days : {2, 4, 10}) {
    const std::string s = Add("Person " + std::to_string(days), std::to_string(days) + "@x.in");
    now_ = kMar1 + kDay;
    auto req = vault_->SubmitRequest(kAdmin, "interjet", {"access", s, ""});
    ASSERT_TRUE(req.ok());
    now_ += days * kDay;
    ASSERT_TRUE(
        vault_->AdvanceRequest(kAdmin, "interjet", req->id, RequestAction::kVerify, "ID seen").ok());
  }
  const std::string late = Add("Late Person", "late@x.in");
  now_ = kMar1 + 3 * kDay;
  auto erasure = vault_->SubmitRequest(kAdmin, "interjet", {"erasure", late, ""});
  ASSERT_TRUE(erasure.ok());
  now_ = kMar1 - 5 * kDay;
  ASSERT_TRUE(vault_->SubmitRequest(kAdmin, "interjet", {"access", late, ""}).ok());
  now_ = kMar1 + 120 * kDay;

  json r = Report(vault_->ReportRequests(kAuditor, "interjet", kMarch));
  EXPECT_EQ(r["totals"]["received"], 4);
  EXPECT_EQ(r["totals"]["completed"], 3);
  EXPECT_EQ(r["totals"]["open"], 1);
  EXPECT_EQ(r["totals"]["overdue"], 1);
  EXPECT_EQ(r["totals"]["median_days_to_complete"], 4.0);
  EXPECT_EQ(r["totals"]["worst_days_to_complete"], 10.0);
  json access = r["by_type"][0];
  EXPECT_EQ(access["type"], "access");
  EXPECT_EQ(access["received"], 3);
  ASSERT_EQ(r["overdue"].size(), 1u);
  EXPECT_EQ(r["overdue"][0]["id"], erasure->id);
  EXPECT_EQ(r["overdue"][0]["type"], "erasure");
  EXPECT_EQ(r["overdue"][0]["days_late"], 27.0);  // due 90 days after 4 March: 2 June; now 29 June
  EXPECT_EQ(r.dump().find("Person"), std::string::npos);
  auto md = RenderReport(r.dump(), "markdown");
  ASSERT_TRUE(md.ok());
  EXPECT_NE(md->find("Days to complete: median 4.0, worst 10.0"), std::string::npos) << *md;
}

TEST_F(ReportTest, AccessReadsByRoleAndActorAndAnAgentReadingFarMoreThanPeers) {
  std::vector<std::string> subjects;
  for (int i = 0; i < 12; ++i) {
    subjects.push_back(Add("Name " + std::to_string(i), "p" + std::to_string(i) + "@x.in"));
  }
  now_ = kMar1 + kDay;
  // Three agents read 2 subjects each; a fourth reads all 12.
  for (const char* agent : {"op:a", "op:b", "op:c"}) {
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(vault_->ShowSubject({agent, "agent"}, "interjet", subjects[i], "essential.service")
                      .ok());
    }
  }
  for (const std::string& s : subjects) {
    ASSERT_TRUE(vault_->ShowSubject({"op:d", "agent"}, "interjet", s, "essential.service").ok());
  }
  EXPECT_FALSE(
      vault_->ShowSubject({"op:a", "agent"}, "interjet", subjects[0], "marketing.communications")
          .ok());
  ASSERT_TRUE(vault_
                  ->Lookup({"op:a", "agent"}, "interjet", {"email", "nobody@x.in"},
                           "essential.service")
                  .ok());

  json r = Report(vault_->ReportAccess(kAuditor, "interjet", kMarch));
  EXPECT_EQ(r["totals"]["reads"], 18);
  EXPECT_EQ(r["totals"]["refusals"], 1);
  EXPECT_EQ(r["totals"]["lookup_misses"], 1);
  ASSERT_EQ(r["by_role"].size(), 1u);  // adding subjects is not reading them
  EXPECT_EQ(r["by_role"][0], json({{"role", "agent"}, {"reads", 18}, {"subjects", 12}, {"refusals", 1}}));
  ASSERT_EQ(r["outliers"].size(), 1u);
  EXPECT_EQ(r["outliers"][0],
            json({{"actor", "op:d"}, {"role", "agent"}, {"subjects", 12}, {"peers", 3},
                  {"peer_median", 2.0}}));
  ASSERT_EQ(r["refusals_by_action"].size(), 1u);
  EXPECT_EQ(r["refusals_by_action"][0]["action"], "subject.show");
  EXPECT_EQ(r.dump().find("Name "), std::string::npos);
  auto html = RenderReport(r.dump(), "html");
  ASSERT_TRUE(html.ok());
  EXPECT_NE(html->find("<td>op:d</td><td>agent</td><td>12</td><td>3</td><td>2.0</td>"),
            std::string::npos)
      << *html;
}

}  // namespace
}  // namespace custodian::service
