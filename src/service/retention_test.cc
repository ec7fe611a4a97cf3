// The retention engine on the seed companies' policies, with a clock the test
// sets: each promise holds the day before its deadline and is kept by the
// first sweep after it (the data gone from the database bytes, the purge in
// the audit log, the plan no longer listing it); holds stop the sweep;
// anonymized aggregates stay useful; an interrupted sweep resumes.
#include "service/retention.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "audit/event.h"
#include "policy/calendar.h"
#include "policy/duration.h"
#include "service/retention_rules.h"
#include "service/retention_schedule.h"
#include "vault_test_util.h"

namespace custodian::service {
namespace {

namespace fs = std::filesystem;
using testing_util::ReadFile;

const Actor kAdmin{"test", "admin"};
constexpr int kIst = 330;  // India: UTC+05:30

// Unix ms of wall time y-m-d hh:mm in India.
int64_t Ist(int y, int m, int d, int hh = 0, int mm = 0) {
  return policy::LocalMidnightMs(policy::DaysSinceEpoch({y, m, d}), kIst) +
         (hh * 60 + mm) * 60'000LL;
}

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path() / "data";
    now_ = Ist(2026, 1, 1, 10);
    vault_ = testing_util::OpenTestVault(dir_, [this] { return now_; });
    ASSERT_NE(vault_, nullptr);
    ASSERT_TRUE(testing_util::CreateExampleTenant(*vault_, "interjet").ok());
    retention_ = std::make_unique<Retention>(*vault_);
  }

  std::string AddSubject(const std::vector<FieldInput>& fields, const std::string& tenant = "interjet") {
    auto r = vault_->AddSubject(kAdmin, tenant, fields, std::nullopt);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->subject_id : "";
  }
  std::string AddRecord(const std::string& subject, const std::string& kind, int64_t at,
                        const std::string& json) {
    auto r = vault_->AddRecord(kAdmin, "interjet", subject, {kind, at, json});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : "";
  }
  SweepReport Sweep(const std::string& tenant = "interjet") {
    SweepOptions o;
    o.tenant = tenant;
    auto r = retention_->Sweep(kAdmin, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : SweepReport{};
  }
  // The database file and its WAL, as an attacker holding a copy would read them.
  std::string DbBytes() {
    return ReadFile(dir_ / "custodian.db") + ReadFile(dir_ / "custodian.db-wal");
  }
  std::string SealedPayload(const std::string& record) {
    auto tx = vault_->store().Begin(false);
    auto row = (*tx)->GetRecord("interjet", record);
    return row.ok() && *row ? (*row)->payload : "";
  }
  bool RecordExists(const std::string& record) { return !SealedPayload(record).empty(); }
  store::SubjectRow Subject(const std::string& id, const std::string& tenant = "interjet") {
    auto tx = vault_->store().Begin(false);
    auto row = (*tx)->GetSubject(tenant, id);
    return row.ok() && *row ? **row : store::SubjectRow{};
  }
  // Audit events with this action, in order.
  std::vector<audit::Event> AuditOf(const std::string& action) {
    std::vector<audit::Event> out;
    sqlite3* db = nullptr;
    sqlite3_open((dir_ / "custodian.db").c_str(), &db);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT event FROM audit ORDER BY seq", -1, &st, nullptr);
    while (sqlite3_step(st) == SQLITE_ROW) {
      auto ev = audit::Event::FromCanonical(
          reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
      if (ev.ok() && ev->action == action) out.push_back(*ev);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
  }
  const RulePlan& PlanOf(const RetentionPlan& plan, const std::string& rule) {
    static RulePlan none;
    for (const auto& r : plan.rules) {
      if (r.rule == rule) return r;
    }
    ADD_FAILURE() << "no rule " << rule;
    return none;
  }
  RetentionPlan Plan(const std::string& tenant = "interjet") {
    auto p = retention_->Plan(kAdmin, tenant);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? *p : RetentionPlan{};
  }

  testing_util::TempDir tmp_;
  fs::path dir_;
  int64_t now_ = 0;
  std::unique_ptr<Vault> vault_;
  std::unique_ptr<Retention> retention_;
};

// Interjet: "billing and service logs are retained up to 12 months after
// disconnection", and the account's personal data only while it is active.
TEST_F(RetentionTest, BillingAndServiceLogsGoTwelveMonthsAfterDisconnection) {
  std::string s = AddSubject({{"user.name", "Asha Rao"},
                              {"user.contact.phone_number", "088701 00100"}});
  std::string bill = AddRecord(s, "billing", Ist(2026, 1, 5), R"({"invoice": "INV-77"})");
  std::string log = AddRecord(s, "service_log", Ist(2026, 1, 6), R"({"event": "outage"})");
  const std::string sealed_bill = SealedPayload(bill);
  ASSERT_NE(DbBytes().find(sealed_bill), std::string::npos);

  // While active: nothing is due.
  now_ = Ist(2026, 1, 31, 17);
  EXPECT_EQ(Sweep().tenants.at(0).due, 0);
  ASSERT_TRUE(vault_->CloseSubject(kAdmin, "interjet", s, Ist(2026, 1, 31, 18)).ok());

  // Right after closure the active-customer fields go; the records stay.
  now_ = Ist(2026, 1, 31, 19);
  TenantSweep first = Sweep().tenants.at(0);
  EXPECT_EQ(first.fields_deleted, 2);
  EXPECT_EQ(first.records_deleted, 0);
  EXPECT_EQ(Subject(s).state, store::SubjectState::kClosed);
  auto found = vault_->Lookup(kAdmin, "interjet", {"phone", "+91 88701 00100"}, "essential.service");
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(found->empty());  // the index entry went with the field

  auto plan = Plan();
  const RulePlan& billing = PlanOf(plan, "billing-and-service-logs");
  EXPECT_EQ(billing.due_records, 0);
  ASSERT_EQ(billing.months.size(), 1u);
  EXPECT_EQ(billing.months[0].month, "2027-01");  // 31 January 2027
  EXPECT_EQ(billing.months[0].records, 2);

  // 30 January 2027, 23:59 in India: still there.
  now_ = Ist(2027, 1, 30, 23, 59);
  EXPECT_EQ(Sweep().tenants.at(0).records_deleted, 0);
  EXPECT_TRUE(RecordExists(bill));
  EXPECT_TRUE(RecordExists(log));

  // 31 January 2027: gone, the sealed bytes too, and then the subject itself
  // (nothing of it is kept any longer: its key is destroyed).
  now_ = Ist(2027, 1, 31, 0, 1);
  TenantSweep due = Sweep().tenants.at(0);
  EXPECT_EQ(due.records_deleted, 2);
  EXPECT_EQ(due.subjects_erased, 1);
  EXPECT_EQ(due.overdue, 0);
  EXPECT_FALSE(RecordExists(bill));
  EXPECT_FALSE(RecordExists(log));
  EXPECT_EQ(DbBytes().find(sealed_bill), std::string::npos);
  EXPECT_EQ(Subject(s).state, store::SubjectState::kErased);
  EXPECT_TRUE(Subject(s).wrapped_key.empty());

  // Both records purged with the subject's key, in one event of the rule
  // naming both kinds' categories.
  auto purges = AuditOf("retention.purge");
  int64_t billing_purged = 0;
  for (const audit::Event& e : purges) {
    if (e.reason == "rule billing-and-service-logs" && e.subjects == std::vector{s}) {
      billing_purged += e.count;
    }
  }
  EXPECT_EQ(billing_purged, 2);
  EXPECT_EQ(AuditOf("retention.erase").size(), 1u);
  EXPECT_EQ(AuditOf("retention.erase")[0].subjects, std::vector{s});

  plan = Plan();
  EXPECT_EQ(PlanOf(plan, "billing-and-service-logs").due_records, 0);
  EXPECT_TRUE(PlanOf(plan, "billing-and-service-logs").months.empty());
  EXPECT_EQ(PlanOf(plan, "active-customer").due_subjects, 0);
  auto chain = vault_->VerifyAudit();
  ASSERT_TRUE(chain.ok());
  EXPECT_TRUE(chain->ok) << chain->problem;
}

// Interjet: "media (router photos, proof of delivery) deleted within 90 days
// post verification"; unverified media has no date yet.
TEST_F(RetentionTest, MediaGoesNinetyDaysAfterVerification) {
  std::string s = AddSubject({{"user.name", "Ravi K"}});
  std::string verified = AddRecord(s, "media", Ist(2026, 2, 20), R"({"photo": "router-1.jpg"})");
  std::string pending = AddRecord(s, "media", Ist(2026, 2, 21), R"({"photo": "router-2.jpg"})");
  ASSERT_TRUE(vault_->RecordEvent(kAdmin, "interjet", verified, "verified", Ist(2026, 3, 1, 10)).ok());
  const std::string sealed = SealedPayload(verified);

  now_ = Ist(2026, 3, 2);
  auto plan = Plan();
  const RulePlan& media = PlanOf(plan, "media");
  ASSERT_EQ(media.months.size(), 1u);
  EXPECT_EQ(media.months[0].month, "2026-05");  // 1 March + 90 days = 30 May
  EXPECT_EQ(media.waiting_records, 1);

  now_ = Ist(2026, 5, 29, 23, 59);
  Sweep();
  EXPECT_TRUE(RecordExists(verified));

  now_ = Ist(2026, 5, 30, 0, 1);
  EXPECT_EQ(Sweep().tenants.at(0).records_deleted, 1);
  EXPECT_FALSE(RecordExists(verified));
  EXPECT_TRUE(RecordExists(pending));  // never verified: kept, and the plan says so
  EXPECT_EQ(DbBytes().find(sealed), std::string::npos);
  auto purges = AuditOf("retention.purge");
  ASSERT_EQ(purges.size(), 1u);
  EXPECT_EQ(purges[0].reason, "rule media");
  EXPECT_EQ(purges[0].count, 1);
  EXPECT_EQ(purges[0].categories, std::vector<std::string>{"user.content.self_image"});
  EXPECT_EQ(Subject(s).state, store::SubjectState::kActive);  // an active account stays
  plan = Plan();
  EXPECT_TRUE(PlanOf(plan, "media").months.empty());
  EXPECT_EQ(PlanOf(plan, "media").due_records, 0);
  EXPECT_EQ(PlanOf(plan, "media").waiting_records, 1);
}

// Interjet: personal data is kept only while the account is active.
TEST_F(RetentionTest, PersonalDataOnlyWhileActive) {
  std::string s = AddSubject({{"user.name", "Meera Iyer"},
                              {"user.contact.email", "meera@example.in"},
                              {"user.government_id", "KYC-UNIQUE-4242"}});
  const std::string sealed = Subject(s).fields;
  const std::string wrapped = Subject(s).wrapped_key;
  now_ = Ist(2026, 6, 1);
  EXPECT_EQ(Sweep().tenants.at(0).due, 0);
  EXPECT_EQ(PlanOf(Plan(), "active-customer").waiting_subjects, 1);
  EXPECT_NE(DbBytes().find(wrapped), std::string::npos);

  ASSERT_TRUE(vault_->CloseSubject(kAdmin, "interjet", s, Ist(2026, 6, 1, 9)).ok());
  now_ = Ist(2026, 6, 1, 9, 1);
  EXPECT_EQ(PlanOf(Plan(), "active-customer").due_subjects, 1);
  TenantSweep swept = Sweep().tenants.at(0);
  EXPECT_EQ(swept.fields_deleted, 3);
  EXPECT_EQ(swept.subjects_erased, 1);
  EXPECT_EQ(Subject(s).state, store::SubjectState::kErased);
  std::string bytes = DbBytes();
  EXPECT_EQ(bytes.find(wrapped), std::string::npos);
  EXPECT_EQ(bytes.find(sealed), std::string::npos);
  EXPECT_EQ(bytes.find("KYC-UNIQUE-4242"), std::string::npos);
  EXPECT_EQ(PlanOf(Plan(), "active-customer").due_subjects, 0);
  auto shown = vault_->ShowSubject(kAdmin, "interjet", s, "essential.service");
  EXPECT_EQ(shown.status().code(), StatusCode::kNotFound);
}

// iNetBills: usage insights are anonymized 30 days after closure; the
// generalized purchase categories stay countable, with no link to anyone.
TEST_F(RetentionTest, AnonymizedAggregatesStayUseful) {
  ASSERT_TRUE(testing_util::CreateExampleTenant(*vault_, "inetbills", "inetbills").ok());
  std::vector<std::string> ids;
  for (const char* product : {"broadband", "broadband", "iptv"}) {
    ids.push_back(AddSubject({{"user.name", "Customer"},
                              {"user.behavior.purchase_history", product},
                              {"user.device.telemetry", "router fw 1.2"}},
                             "inetbills"));
    ASSERT_TRUE(vault_->CloseSubject(kAdmin, "inetbills", ids.back(), Ist(2026, 1, 10)).ok());
  }
  now_ = Ist(2026, 2, 8, 23);  // 29 days: only the account's fields have gone
  Sweep("inetbills");
  EXPECT_EQ(Subject(ids[0], "inetbills").state, store::SubjectState::kClosed);
  auto none = retention_->Aggregates(kAdmin, "inetbills");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->groups.empty());
  EXPECT_TRUE(none->withheld.empty());

  now_ = Ist(2026, 2, 9, 1);  // 10 January + 30 days
  TenantSweep swept = Sweep("inetbills").tenants.at(0);
  EXPECT_EQ(swept.subjects_anonymized, 3);
  EXPECT_EQ(swept.subjects_erased, 3);
  auto report = retention_->Aggregates(kAdmin, "inetbills");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const std::vector<AggregateView>& agg = report->groups;
  ASSERT_EQ(agg.size(), 2u);
  EXPECT_EQ(agg[0].rule, "usage-insights");
  EXPECT_EQ(agg[0].count, 2);
  EXPECT_EQ(agg[0].values,
            (std::vector<std::pair<std::string, std::string>>{
                {"user.behavior.purchase_history", "broadband"}}));
  EXPECT_EQ(agg[1].count, 1);
  EXPECT_TRUE(report->withheld.empty());  // Inetbills sets no min_group
  auto events = AuditOf("retention.anonymize");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].count, 6);  // 3 subjects x (purchase history + telemetry)
  for (const auto& id : ids) EXPECT_EQ(Subject(id, "inetbills").state, store::SubjectState::kErased);
}

// Contetra (P32): "aggregated statistical and demographic insights", only
// from anonymized data and only for groups of at least `min_group: 5`
// accounts. Five closed accounts share one age range and gender; a sixth is
// alone in its group: it is withheld, neither its values nor its count shown.
TEST_F(RetentionTest, AggregatesUnderTheMinimumGroupSizeAreWithheld) {
  ASSERT_TRUE(testing_util::CreateExampleTenant(*vault_, "contetra", "contetra").ok());
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    const bool alone = i == 5;
    ids.push_back(AddSubject({{"user.account.username", "user" + std::to_string(i)},
                              {"user.demographic.age_range", alone ? "60-69" : "30-39"},
                              {"user.demographic.gender", alone ? "male" : "female"}},
                             "contetra"));
    ASSERT_TRUE(vault_->CloseSubject(kAdmin, "contetra", ids.back(), Ist(2026, 1, 10)).ok());
  }
  now_ = Ist(2026, 2, 9, 1);  // closed + 30 days
  TenantSweep swept = Sweep("contetra").tenants.at(0);
  EXPECT_EQ(swept.subjects_anonymized, 6);
  auto report = retention_->Aggregates(kAdmin, "contetra");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->groups.size(), 1u);
  EXPECT_EQ(report->groups[0].rule, "demographics-for-statistics");
  EXPECT_EQ(report->groups[0].count, 5);
  EXPECT_EQ(report->groups[0].values,
            (std::vector<std::pair<std::string, std::string>>{
                {"user.demographic.age_range", "30-39"}, {"user.demographic.gender", "female"}}));
  ASSERT_EQ(report->withheld.size(), 1u);
  EXPECT_EQ(report->withheld[0].rule, "demographics-for-statistics");
  EXPECT_EQ(report->withheld[0].min_group, 5);
  EXPECT_EQ(report->withheld[0].groups, 1);
  auto events = AuditOf("retention.aggregates");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].count, 1);  // the groups shown
}

TEST(GeneralizeTest, KeepsOnlyAGeneralForm) {
  EXPECT_EQ(retention::Generalize(nullptr, "user.demographic.date_of_birth", "1990-07-14"), "1990");
  EXPECT_EQ(retention::Generalize(nullptr, "user.contact.address",
                                  "12 MG Road, Indiranagar, Bengaluru 560038"),
            "Bengaluru");
  EXPECT_EQ(retention::Generalize(nullptr, "user.contact.postal_code", "560038"), "560");
  EXPECT_EQ(retention::Generalize(nullptr, "user.demographic.age", "37"), "30-39");
  EXPECT_EQ(retention::Generalize(nullptr, "user.demographic.gender", " female "), "female");
}

TEST_F(RetentionTest, LegalHoldsStopTheSweepUntilReleased) {
  std::string s = AddSubject({{"user.name", "Held Person"}});
  std::string other = AddSubject({{"user.name", "Other Person"}});
  std::string media = AddRecord(other, "media", Ist(2026, 1, 2), R"({"photo": "p.jpg"})");
  ASSERT_TRUE(vault_->RecordEvent(kAdmin, "interjet", media, "verified", Ist(2026, 1, 2)).ok());
  auto hold = retention_->AddHold(kAdmin, "interjet", {s, "", "Court order 17/2026", std::nullopt});
  ASSERT_TRUE(hold.ok()) << hold.status().ToString();
  auto record_hold = retention_->AddHold(kAdmin, "interjet",
                                         {other, media, "Dispute over the install", Ist(2026, 9, 1)});
  ASSERT_TRUE(record_hold.ok()) << record_hold.status().ToString();
  EXPECT_EQ(retention_->AddHold({"x", "agent"}, "interjet", {s, "", "r", std::nullopt})
                .status()
                .code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(retention_->AddHold(kAdmin, "interjet", {s, "", "", std::nullopt}).status().code(),
            StatusCode::kInvalidArgument);

  ASSERT_TRUE(vault_->CloseSubject(kAdmin, "interjet", s, Ist(2026, 2, 1)).ok());
  now_ = Ist(2026, 6, 1);
  TenantSweep swept = Sweep().tenants.at(0);
  EXPECT_EQ(swept.held, 2);  // the held subject's field and the held record
  EXPECT_EQ(swept.fields_deleted, 0);
  EXPECT_EQ(Subject(s).state, store::SubjectState::kClosed);
  EXPECT_TRUE(RecordExists(media));

  auto holds = retention_->ListHolds(kAdmin, "interjet", "", true);
  ASSERT_TRUE(holds.ok());
  ASSERT_EQ(holds->size(), 2u);
  auto court = std::find_if(holds->begin(), holds->end(),
                            [&](const HoldView& h) { return h.id == hold->id; });
  ASSERT_NE(court, holds->end());
  EXPECT_EQ(court->reason, "Court order 17/2026");
  EXPECT_EQ(court->subject, s);
  EXPECT_TRUE(court->standing);
  EXPECT_EQ(DbBytes().find("Court order 17/2026"), std::string::npos);  // sealed
  EXPECT_EQ(AuditOf("retention.hold").size(), 3u);  // two placed, one refused

  ASSERT_TRUE(retention_->ReleaseHold(kAdmin, "interjet", hold->id).ok());
  EXPECT_EQ(retention_->ReleaseHold(kAdmin, "interjet", hold->id).status().code(),
            StatusCode::kFailedPrecondition);
  swept = Sweep().tenants.at(0);
  EXPECT_EQ(swept.subjects_erased, 1);
  EXPECT_TRUE(RecordExists(media));  // its hold stands until 1 September

  now_ = Ist(2026, 9, 1, 0, 1);  // the record's hold has lapsed
  EXPECT_EQ(Sweep().tenants.at(0).records_deleted, 1);
  EXPECT_FALSE(RecordExists(media));
  holds = retention_->ListHolds(kAdmin, "interjet", "", false);
  ASSERT_TRUE(holds.ok());
  EXPECT_EQ(holds->size(), 2u);
  EXPECT_FALSE((*holds)[0].standing);
  EXPECT_FALSE((*holds)[1].standing);
}

// A closed subject whose records are all due is purged by destroying its key:
// the records' rows, unreadable since, are removed by compaction, which a
// sweep runs after the purge unless told not to. Rows waiting for it are
// never purged (nor audited, nor planned) a second time.
TEST_F(RetentionTest, ShreddedRecordsAreUnreadableAtOnceAndCompactedAfter) {
  std::string s = AddSubject({{"user.name", "Gone Person"}});
  std::string bill = AddRecord(s, "billing", Ist(2026, 1, 5), R"({"invoice": "INV-9"})");
  std::string photo = AddRecord(s, "media", Ist(2026, 1, 6), R"({"photo": "door.jpg"})");
  ASSERT_TRUE(vault_->RecordEvent(kAdmin, "interjet", photo, "verified", Ist(2026, 1, 7)).ok());
  // A second closed subject whose one record is under a hold: its key stays,
  // so the held record stays readable while the other goes row by row.
  std::string kept = AddSubject({{"user.name", "Kept Person"}});
  std::string held = AddRecord(kept, "billing", Ist(2026, 1, 5), R"({"invoice": "INV-10"})");
  std::string loose = AddRecord(kept, "service_log", Ist(2026, 1, 5), R"({"event": "x"})");
  ASSERT_TRUE(retention_->AddHold(kAdmin, "interjet", {kept, held, "Audit of 2026", Ist(2027, 6, 1)})
                  .ok());
  for (const std::string& id : {s, kept}) {
    ASSERT_TRUE(vault_->CloseSubject(kAdmin, "interjet", id, Ist(2026, 1, 10)).ok());
  }
  const std::string sealed_bill = SealedPayload(bill);

  now_ = Ist(2027, 2, 1);
  SweepOptions o;
  o.tenant = "interjet";
  o.compact = false;
  auto first = retention_->Sweep(kAdmin, o);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const TenantSweep& swept = first->tenants.at(0);
  EXPECT_EQ(swept.subjects_erased, 1);
  EXPECT_EQ(swept.records_deleted, 3);  // two shredded with their key, one deleted
  EXPECT_EQ(swept.records_compacted, 0);
  EXPECT_EQ(swept.held, 1);
  EXPECT_EQ(swept.overdue, 0);
  EXPECT_EQ(Subject(s).state, store::SubjectState::kErased);
  EXPECT_TRUE(Subject(s).wrapped_key.empty());  // nothing can open the rows left
  EXPECT_TRUE(RecordExists(bill));
  EXPECT_TRUE(RecordExists(photo));
  EXPECT_EQ(Subject(kept).state, store::SubjectState::kClosed);
  EXPECT_TRUE(RecordExists(held));
  EXPECT_FALSE(RecordExists(loose));
  const int64_t purged_before = [&] {
    int64_t n = 0;
    for (const auto& e : AuditOf("retention.purge")) n += e.count;
    return n;
  }();
  EXPECT_EQ(purged_before, 3 + 2);  // 3 records, each subject's one field

  // Neither the plan, nor a dry run, nor another compaction-less sweep counts
  // the shredded rows again.
  RetentionPlan plan = Plan();
  EXPECT_EQ(PlanOf(plan, "billing-and-service-logs").due_records, 1);  // the held one
  EXPECT_EQ(PlanOf(plan, "media").due_records, 0);
  EXPECT_EQ(PlanOf(plan, "media").waiting_records, 0);
  EXPECT_EQ(PlanOf(plan, "billing-and-service-logs").waiting_records, 0);
  SweepOptions dry = o;
  dry.dry_run = true;
  auto dried = retention_->Sweep(kAdmin, dry);
  ASSERT_TRUE(dried.ok());
  EXPECT_EQ(dried->tenants.at(0).due, 1);  // the held record, as in the plan
  auto again = retention_->Sweep(kAdmin, o);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->tenants.at(0).records_deleted, 0);
  int64_t purged_after = 0;
  for (const auto& e : AuditOf("retention.purge")) purged_after += e.count;
  EXPECT_EQ(purged_after, purged_before);

  // Compaction: admin only; removes the rows, the sealed bytes with them.
  EXPECT_EQ(retention_->Compact({"x", "agent"}, o).status().code(),
            StatusCode::kPermissionDenied);
  auto compacted = retention_->Compact(kAdmin, o);
  ASSERT_TRUE(compacted.ok()) << compacted.status().ToString();
  EXPECT_EQ(compacted->tenants.at(0).records_compacted, 2);
  EXPECT_FALSE(RecordExists(bill));
  EXPECT_FALSE(RecordExists(photo));
  EXPECT_TRUE(RecordExists(held));
  EXPECT_EQ(DbBytes().find(sealed_bill), std::string::npos);
  auto events = AuditOf("retention.compact");
  ASSERT_EQ(events.size(), 2u);  // the refusal, then the batch
  EXPECT_EQ(events[1].count, 2);
  EXPECT_EQ(events[1].outcome, "ok");
  EXPECT_EQ(retention_->Compact(kAdmin, o)->tenants.at(0).records_compacted, 0);

  // The hold lapses: the kept subject goes the same way, compacted by the
  // sweep itself this time.
  now_ = Ist(2027, 6, 1, 0, 1);
  TenantSweep last = Sweep().tenants.at(0);
  EXPECT_EQ(last.subjects_erased, 1);
  EXPECT_EQ(last.records_deleted, 1);
  EXPECT_EQ(last.records_compacted, 1);
  EXPECT_FALSE(RecordExists(held));
}

// A sweep stopped between batches (as a crash would) leaves what it did
// committed and audited; the next one purges the rest, nothing twice.
TEST_F(RetentionTest, AnInterruptedSweepResumesWithNothingTwiceAndNothingMissed) {
  std::vector<std::string> subjects;
  for (int i = 0; i < 30; ++i) {
    subjects.push_back(AddSubject({{"user.name", "P" + std::to_string(i)}}));
    for (int j = 0; j < 4; ++j) AddRecord(subjects.back(), "service_log", Ist(2026, 1, 2), R"({"e": 1})");
    ASSERT_TRUE(vault_->CloseSubject(kAdmin, "interjet", subjects.back(), Ist(2026, 1, 3)).ok());
  }
  now_ = Ist(2027, 2, 1);
  SweepOptions o;
  o.tenant = "interjet";
  o.batch_records = 7;
  o.batch_subjects = 4;
  int batches = 0;
  o.cancelled = [&] { return ++batches == 5; };
  auto stopped = retention_->Sweep(kAdmin, o);
  EXPECT_EQ(stopped.status().code(), StatusCode::kUnavailable);
  o.cancelled = nullptr;
  auto rest = retention_->Sweep(kAdmin, o);
  ASSERT_TRUE(rest.ok()) << rest.status().ToString();
  EXPECT_EQ(rest->tenants.at(0).overdue, 0);

  int64_t records = 0, fields = 0, erased = 0;
  for (const auto& e : AuditOf("retention.purge")) {
    (e.categories == std::vector<std::string>{"system.operations"} ? records : fields) += e.count;
  }
  for (const auto& e : AuditOf("retention.erase")) erased += e.count;
  EXPECT_EQ(records, 120);
  EXPECT_EQ(fields, 30);
  EXPECT_EQ(erased, 30);
  for (const auto& s : subjects) EXPECT_EQ(Subject(s).state, store::SubjectState::kErased);
  EXPECT_EQ(Sweep().tenants.at(0).due, 0);
}

// The server's schedule sweeps by itself and records the sweep for metrics.
TEST_F(RetentionTest, TheScheduleSweepsAndRecordsItsLastSweep) {
  std::string s = AddSubject({{"user.name", "Scheduled"}});
  ASSERT_TRUE(vault_->CloseSubject(kAdmin, "interjet", s, Ist(2026, 1, 1, 11)).ok());
  now_ = Ist(2026, 1, 1, 12);
  ScheduleOptions o;
  o.first_delay = std::chrono::milliseconds(0);
  o.interval = std::chrono::milliseconds(20);
  RetentionSchedule schedule(*vault_, o);
  schedule.Start();
  for (int i = 0; i < 500 && !schedule.last(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  schedule.Stop();
  auto last = schedule.last();
  ASSERT_TRUE(last.has_value());
  EXPECT_TRUE(last->ok);
  EXPECT_EQ(Subject(s).state, store::SubjectState::kErased);
  auto rows = retention_->LastSweeps();
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].tenant, "interjet");
  EXPECT_EQ((*rows)[0].overdue, 0);
  EXPECT_EQ((*rows)[0].finished_ms, now_);
  auto erased = AuditOf("retention.erase");
  ASSERT_FALSE(erased.empty());
  EXPECT_EQ(erased[0].actor, "retention-sweep");
}

TEST_F(RetentionTest, OneSweepAtATime) {
  {
    auto tx = vault_->store().Begin(true);
    ASSERT_TRUE((*tx)->TakeLease("retention", "elsewhere:1:x", now_, now_ + 60'000).ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  auto r = retention_->Sweep(kAdmin, {});
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("another retention sweep is running"), std::string::npos);
  now_ += 60'001;  // its lease ran out
  EXPECT_TRUE(retention_->Sweep(kAdmin, {}).ok());
  // Only admin sweeps.
  EXPECT_EQ(retention_->Sweep({"x", "agent"}, {}).status().code(), StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace custodian::service
