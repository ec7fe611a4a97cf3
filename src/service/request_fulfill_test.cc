// What each data-subject request does, on the example policies: the access
// bundle (complete, nothing of anyone else, downloadable once), erasure that
// keeps what the law requires and says so, corrections (approved or
// self-service), objection / withdrawal / restriction on every read path,
// deadlines across jurisdictions and month ends, extension, expiry, and
// recipients told of corrections.
#include <gtest/gtest.h>
#include <sodium.h>
#include <zip.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "audit_util.h"
#include "service/backup.h"
#include "service/retention.h"
#include "service/vault.h"
#include "test_util.h"
#include "vault_test_util.h"

namespace custodian::service {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing_util::AuditEvents;

const Actor kAdmin{"test", "admin"};
const Actor kAgent{"op:priya", "agent"};
constexpr int64_t kMar1 = 1772323200000;  // 2026-03-01T00:00:00Z
constexpr int64_t kDay = 86400000;

// Every file of a zip, by name.
std::map<std::string, std::string> Unzip(const std::string& data) {
  std::map<std::string, std::string> out;
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* src = zip_source_buffer_create(data.data(), data.size(), 0, &error);
  zip_t* archive = src ? zip_open_from_source(src, ZIP_RDONLY, &error) : nullptr;
  if (archive == nullptr) {
    if (src) zip_source_free(src);
    return out;
  }
  for (zip_int64_t i = 0; i < zip_get_num_entries(archive, 0); ++i) {
    zip_stat_t st;
    zip_stat_index(archive, static_cast<zip_uint64_t>(i), 0, &st);
    std::string content(st.size, '\0');
    zip_file_t* f = zip_fopen_index(archive, static_cast<zip_uint64_t>(i), 0);
    zip_fread(f, content.data(), st.size);
    zip_fclose(f);
    out[st.name] = std::move(content);
  }
  zip_close(archive);
  return out;
}

std::string Sha256Hex(const std::string& data) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  char hex[sizeof digest * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

std::string ExamplePolicy(const std::string& name) {
  return testing_util::ReadFile(fs::path(CUSTODIAN_SOURCE_DIR) / "examples/policies" /
                                (name + ".yaml"));
}

class RequestFulfillTest : public testing_util::ClockedVaultTest {
 protected:
  void SetUp() override {
    now_ = kMar1;
    OpenWithTenants({{"interjet", "interjet"}});
    if (HasFatalFailure()) return;
  }

  std::string AddSubject(const std::vector<FieldInput>& fields,
                         const std::string& tenant = "interjet") {
    auto r = vault_->AddSubject(kAdmin, tenant, fields, std::nullopt);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->subject_id : "";
  }
  void AddRecord(const std::string& subject, const std::string& kind, const std::string& payload,
                 int64_t at = kMar1 - 30 * kDay) {
    auto r = vault_->AddRecord(kAdmin, "interjet", subject, {kind, at, payload});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  // Submits and verifies by hand (the example policies verify by otp).
  RequestView SubmitVerified(const RequestInput& in, const std::string& tenant = "interjet") {
    auto r = vault_->SubmitRequest(kAgent, tenant, in);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return {};
    auto v = vault_->AdvanceRequest(kAgent, tenant, r->id, RequestAction::kVerify,
                                    "ID checked at the store");
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : RequestView{};
  }
  RequestView Complete(const std::string& id, const std::string& reason = "") {
    auto r = vault_->AdvanceRequest(kAgent, "interjet", id, RequestAction::kComplete, reason);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : RequestView{};
  }
  // "interjet2": Interjet with a notify address for the payment providers.
  void CreateNotifyingTenant() {
    std::string yaml = testing_util::ReplaceFirst(
        ExamplePolicy("interjet"), "    purposes: [essential.service.payment_processing]\n",
        "    purposes: [essential.service.payment_processing]\n"
        "    notify: privacy@razorpay.example\n");
    ASSERT_NE(yaml.find("notify:"), std::string::npos);
    ASSERT_TRUE(vault_->CreateTenant(kAdmin, "interjet2", yaml, "interjet2.yaml").ok());
  }
  // Submits, verifies by hand and completes a correction of `subject`'s
  // email in "interjet2".
  Result<RequestView> CorrectEmail(const std::string& subject) {
    auto r = vault_->SubmitRequest(
        kAgent, "interjet2",
        {"correction", subject, "", "", {{"user.contact.email", "asha@new.in"}}});
    if (!r.ok()) return r.status();
    auto v = vault_->AdvanceRequest(kAgent, "interjet2", r->id, RequestAction::kVerify, "ID seen");
    if (!v.ok()) return v.status();
    return vault_->AdvanceRequest(kAgent, "interjet2", r->id, RequestAction::kComplete, "");
  }
  // The messages waiting in the outbox: address -> text.
  std::multimap<std::string, std::string> Outbox() {
    std::multimap<std::string, std::string> out;
    auto claimed = vault_->ClaimDeliveries(100);
    EXPECT_TRUE(claimed.ok());
    if (claimed.ok()) {
      for (const Delivery& d : *claimed) out.emplace(d.to, d.text);
    }
    return out;
  }

};

TEST_F(RequestFulfillTest, TheAccessBundleHoldsEverythingOfTheSubjectAndNothingElse) {
  const std::vector<std::string> mine = {
      "Asha Rao", "asha.rao@example.in",  "12 MG Road, Chennai", "ABCDE1234F", "INV-1001",
      "INV-1002", "router-photo-asha.jpg"};
  const std::string asha = AddSubject({{"user.name", mine[0]},
                                       {"user.contact.phone_number", "+91 88701 00100"},
                                       {"user.contact.email", mine[1]},
                                       {"user.contact.address", mine[2]},
                                       {"user.government_id", mine[3]}});
  AddRecord(asha, "billing", R"({"invoice":"INV-1001","amount":499})");
  AddRecord(asha, "billing", R"({"invoice":"INV-1002","amount":599,"note":"late, \"paid\""})");
  AddRecord(asha, "media", R"({"file":"router-photo-asha.jpg"})");
  const std::vector<std::string> theirs = {"Bala Krishnan", "bala@example.in", "INV-2002"};
  const std::string bala =
      AddSubject({{"user.name", theirs[0]}, {"user.contact.email", theirs[1]}});
  AddRecord(bala, "billing", R"({"invoice":"INV-2002"})");
  ASSERT_TRUE(
      vault_
          ->SetConsents(kAgent, "interjet", asha, {{"marketing.communications", "granted", "api"}})
          .ok());

  RequestView done = SubmitVerified({"access", asha, ""});
  EXPECT_EQ(done.state, "completed");
  ASSERT_TRUE(done.evidence.has_value());
  EXPECT_EQ(done.evidence->done, "exported 5 fields and 3 records");
  ASSERT_FALSE(done.download_token.empty());
  EXPECT_EQ(done.download_token.rfind("interjet.exp_", 0), 0u);
  // The token is shown once; the stored request never has it.
  EXPECT_TRUE(vault_->GetRequest(kAgent, "interjet", done.id)->download_token.empty());

  auto bundle = vault_->DownloadExport(done.download_token);
  ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
  EXPECT_EQ(bundle->sha256, done.evidence->export_sha256);
  EXPECT_EQ(Sha256Hex(bundle->zip), done.evidence->export_sha256);
  EXPECT_EQ(bundle->filename, "custodian-export-" + done.id + ".zip");
  auto files = Unzip(bundle->zip);
  for (const char* name :
       {"manifest.json", "subject.json", "records/billing.csv", "records/media.csv",
        "consents.json", "disclosures.json", "requests.json", "retention.json"}) {
    EXPECT_TRUE(files.count(name)) << name;
  }
  EXPECT_FALSE(files.count("portable.csv"));  // portability only
  std::string all;
  for (const auto& [name, content] : files) all += content;
  for (const std::string& v : mine) EXPECT_NE(all.find(v), std::string::npos) << v;
  EXPECT_NE(all.find("+918870100100"), std::string::npos);
  for (const std::string& v : theirs) EXPECT_EQ(all.find(v), std::string::npos) << v;
  EXPECT_EQ(all.find(bala), std::string::npos);
  // The manifest names every other file with its hash.
  json manifest = json::parse(files["manifest.json"]);
  EXPECT_EQ(manifest["format"], "custodian.export.v1");
  EXPECT_EQ(manifest["files"].size(), files.size() - 1);
  for (const json& f : manifest["files"]) {
    EXPECT_EQ(f["sha256"], Sha256Hex(files[f["name"].get<std::string>()])) << f.dump();
  }
  // Each field says what it is for, on what basis, and how long it is kept.
  json subject = json::parse(files["subject.json"]);
  bool saw_id = false;
  for (const json& f : subject["fields"]) {
    EXPECT_FALSE(f["purposes"].empty()) << f.dump();
    EXPECT_FALSE(f["retention"].empty()) << f.dump();
    if (f["category"] == "user.government_id") {
      saw_id = true;
      EXPECT_EQ(f["value"], "ABCDE1234F");
      bool legal = false;
      for (const json& p : f["purposes"]) legal = legal || p["basis"] == "legal_obligation";
      EXPECT_TRUE(legal);
    }
  }
  EXPECT_TRUE(saw_id);
  // RFC 4180 quoting survives a payload with a comma and quotes.
  EXPECT_NE(files["records/billing.csv"].find("\"late, \"\"paid\"\"\""), std::string::npos)
      << files["records/billing.csv"];
  EXPECT_NE(files["consents.json"].find("\"granted\""), std::string::npos);
  // The person is told where to get it (no public URL set: ask us).
  auto sent = Outbox();
  ASSERT_EQ(sent.count("asha.rao@example.in"), 1u);
  EXPECT_NE(sent.find("asha.rao@example.in")->second.find("is ready"), std::string::npos);

  // Once only.
  auto again = vault_->DownloadExport(done.download_token);
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(again.status().message().find("already downloaded"), std::string::npos);
  // A tampered token is unknown.
  std::string tampered = done.download_token;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(vault_->DownloadExport(tampered).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(AuditEvents(Db(), "export.download").size(), 2u);

  // Portability adds the flat CSV; a link not used within 7 days expires.
  RequestView portable = SubmitVerified({"portability", asha, ""});
  now_ += 8 * kDay;
  auto late = vault_->DownloadExport(portable.download_token);
  EXPECT_EQ(late.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(late.status().message().find("expired"), std::string::npos);
  RequestView fresh = SubmitVerified({"portability", asha, ""});
  auto flat = Unzip(vault_->DownloadExport(fresh.download_token)->zip);
  EXPECT_NE(flat["portable.csv"].find("user.name,Name,Asha Rao"), std::string::npos)
      << flat["portable.csv"];
}

// An erasure request that keeps what the law requires, made after a backup:
// restoring the backup over the store restricts the subject again to the
// same kept items (fields, record kinds, holds) instead of bringing the
// erased ones back (docs/backup.md).
TEST_F(RequestFulfillTest, AnErasureThatKeptItemsSurvivesARestoreOfAnEarlierBackup) {
  const std::string asha = AddSubject({{"user.name", "Asha Rao"},
                                       {"user.contact.phone_number", "+91 88701 00100"}});
  AddRecord(asha, "billing", R"({"invoice":"INV-1001"})");
  AddRecord(asha, "media", R"({"file":"router.jpg"})");
  const std::string ravi = AddSubject({{"user.name", "Ravi Kumar"}});
  const std::string backup = (tmp_.path() / "before.bak").string();
  ASSERT_TRUE(CreateBackup(*vault_, dir_.string(), backup).ok());
  RequestView done = Complete(SubmitVerified({"erasure", asha, "delete everything"}).id);
  ASSERT_EQ(done.state, "completed");
  vault_.reset();  // the store must not be in use

  auto restored = RestoreBackup(dir_.string(), backup, RestoreOptions{.replace = true});
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->erasures_reapplied, 1);
  VaultOptions o;
  o.data_dir = dir_.string();
  o.clock = [this] { return now_; };
  auto reopened = Vault::Open(std::move(o));
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  vault_ = std::move(reopened).value();
  // As after the request: restricted, out of the index, only billing kept.
  auto show = vault_->ShowSubject(kAgent, "interjet", asha, "essential.service");
  EXPECT_EQ(show.status().code(), StatusCode::kPermissionDenied);
  auto legal = vault_->ListRecords(kAdmin, "interjet", asha, "essential.legal_obligation", "");
  ASSERT_TRUE(legal.ok()) << legal.status().ToString();
  ASSERT_EQ(legal->records.size(), 1u);
  EXPECT_EQ(legal->records[0].kind, "billing");
  auto fields = vault_->ShowSubject(kAdmin, "interjet", asha, "essential.legal_obligation");
  ASSERT_TRUE(fields.ok()) << fields.status().ToString();
  EXPECT_TRUE(fields->fields.empty());
  auto found = vault_->Lookup(kAgent, "interjet", {"phone", "+91 88701 00100"},
                              "essential.service.operations.support");
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(found->empty());
  // The other subject is as it was, and the chain says what happened.
  auto other = vault_->ShowSubject(kAdmin, "interjet", ravi, "essential.service");
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  auto erases = AuditEvents(Db(), "erase");
  ASSERT_EQ(erases.size(), 1u);  // the request's own went with the replaced store
  EXPECT_NE(erases[0].find("re-applied after restore; kept under a legal obligation: 0 field(s)"),
            std::string::npos)
      << erases[0];
  EXPECT_NE(erases[0].find("\"categories\":[\"user.name\",\"user.contact.phone_number\"],"
                           "\"outcome\":\"ok\",\"reason\":\"re-applied after restore; kept under a "
                           "legal obligation: 0 field(s)\",\"count\":3}"),
            std::string::npos)
      << erases[0];
  EXPECT_EQ(AuditEvents(Db(), "restore").size(), 1u);
  EXPECT_TRUE(vault_->store().VerifyAudit()->ok);
}

TEST_F(RequestFulfillTest, ErasureKeepsWhatTheLawRequiresAndSaysUntilWhen) {
  const std::string asha = AddSubject({{"user.name", "Asha Rao"},
                                       {"user.contact.phone_number", "+91 88701 00100"},
                                       {"user.contact.address", "12 MG Road, Chennai"}});
  AddRecord(asha, "billing", R"({"invoice":"INV-1001"})");
  AddRecord(asha, "billing", R"({"invoice":"INV-1002"})");
  AddRecord(asha, "media", R"({"file":"router.jpg"})");
  auto grievance = vault_->SubmitRequest(kAgent, "interjet", {"grievance", asha, "Asha Rao here"});
  ASSERT_TRUE(grievance.ok());
  RequestView verified = SubmitVerified({"erasure", asha, "delete everything"});
  EXPECT_EQ(verified.state, "verified");  // an erasure waits for an operator
  RequestView done = Complete(verified.id);
  ASSERT_EQ(done.state, "completed");
  ASSERT_TRUE(done.evidence.has_value());
  const RequestEvidence& e = *done.evidence;
  EXPECT_EQ(e.done, "erased 3 fields and 1 record");
  EXPECT_EQ(e.erased, (std::vector<std::string>{"user.name", "user.contact.phone_number",
                                                "user.contact.address", "records:media x1"}));
  ASSERT_EQ(e.kept.size(), 1u);
  EXPECT_EQ(e.kept[0].item, "records:billing");
  EXPECT_EQ(e.kept[0].label, "Billing records");
  EXPECT_EQ(e.kept[0].rule, "billing-and-service-logs");
  EXPECT_EQ(e.kept[0].reason, "Audit and compliance");
  // The subject's requests keep their evidence, not the words written in them.
  EXPECT_EQ(done.details, "");
  EXPECT_EQ(done.resolution, "");
  auto earlier = vault_->GetRequest(kAgent, "interjet", grievance->id);
  EXPECT_EQ(earlier->details, "");
  EXPECT_EQ(earlier->type, "grievance");
  // 12 months after the closure, from 00:00 of that day in India (UTC+05:30),
  // when the retention sweep purges it.
  EXPECT_EQ(e.kept[0].until_ms, 1803839400000);  // 2027-02-28T18:30:00Z = 2027-03-01 00:00 IST

  // Kept, closed and restricted: no contract purpose reads it, the legal one does.
  auto show = vault_->ShowSubject(kAgent, "interjet", asha, "essential.service");
  EXPECT_EQ(show.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(show.status().message().find("restricted"), std::string::npos);
  auto legal = vault_->ListRecords(kAdmin, "interjet", asha, "essential.legal_obligation", "");
  ASSERT_TRUE(legal.ok()) << legal.status().ToString();
  EXPECT_EQ(legal->records.size(), 2u);
  for (const RecordView& rec : legal->records) EXPECT_EQ(rec.kind, "billing");
  auto fields = vault_->ShowSubject(kAdmin, "interjet", asha, "essential.legal_obligation");
  ASSERT_TRUE(fields.ok());
  EXPECT_TRUE(fields->fields.empty());
  EXPECT_TRUE(fields->withheld.empty());
  EXPECT_EQ(fields->state, "closed");
  // Not found by the phone number any more.
  auto found = vault_->Lookup(kAgent, "interjet", {"phone", "+91 88701 00100"},
                              "essential.service.operations.support");
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(found->empty());
  // The person's receipt went to the number on file before it was erased.
  auto sent = Outbox();
  ASSERT_EQ(sent.count("+918870100100"), 1u);
  EXPECT_NE(sent.find("+918870100100")
                ->second.find("We keep Billing records until 2027-03-01 (Audit and compliance)"),
            std::string::npos)
      << sent.find("+918870100100")->second;
  auto erase_events = AuditEvents(Db(), "erase");
  ASSERT_EQ(erase_events.size(), 1u);
  EXPECT_NE(erase_events[0].find("1 item kept under a legal obligation"), std::string::npos);
  // The hold shows in the person's access export.
  RequestView access = SubmitVerified({"access", asha, ""});
  auto files = Unzip(vault_->DownloadExport(access.download_token)->zip);
  json retention = json::parse(files["retention.json"]);
  ASSERT_EQ(retention["holds"].size(), 1u);
  EXPECT_EQ(retention["holds"][0]["item"], "records:billing");
  EXPECT_EQ(retention["holds"][0]["until"], "2027-02-28T18:30:00Z");
  EXPECT_EQ(files["subject.json"].find("Asha"), std::string::npos);
}

// The erasure's holds end by themselves: the retention sweep purges the kept
// billing records when their 12 months are up, shreds the subject, and the
// request's evidence shows when.
TEST_F(RequestFulfillTest, WhatAnErasureKeptIsPurgedWhenItsRetentionEnds) {
  const std::string asha = AddSubject({{"user.name", "Asha Rao"}});
  AddRecord(asha, "billing", R"({"invoice":"INV-1001"})");
  RequestView done = Complete(SubmitVerified({"erasure", asha, ""}).id);
  ASSERT_EQ(done.evidence->kept.size(), 1u);
  const int64_t until = done.evidence->kept[0].until_ms;
  Retention retention(*vault_);
  now_ = until - kDay;
  ASSERT_TRUE(retention.Sweep(kAdmin, {}).ok());
  auto before = vault_->GetRequest(kAgent, "interjet", done.id);
  EXPECT_FALSE(before->evidence->kept[0].purged_ms.has_value());
  EXPECT_EQ(vault_->ListRecords(kAdmin, "interjet", asha, "essential.legal_obligation", "")
                ->records.size(),
            1u);
  now_ = until + kDay;
  auto swept = retention.Sweep(kAdmin, {});
  ASSERT_TRUE(swept.ok()) << swept.status().ToString();
  auto after = vault_->GetRequest(kAgent, "interjet", done.id);
  ASSERT_TRUE(after->evidence->kept[0].purged_ms.has_value());
  EXPECT_GE(*after->evidence->kept[0].purged_ms, until);
  EXPECT_EQ(
      vault_->ShowSubject(kAdmin, "interjet", asha, "essential.legal_obligation").status().code(),
      StatusCode::kNotFound);
}

TEST_F(RequestFulfillTest, ALegalHoldStopsAnErasureAndShowsInTheExport) {
  const std::string asha = AddSubject({{"user.name", "Asha Rao"}});
  Retention retention(*vault_);
  auto hold =
      retention.AddHold(kAdmin, "interjet", {asha, "", "Court order 17/2026", std::nullopt});
  ASSERT_TRUE(hold.ok()) << hold.status().ToString();
  RequestView verified = SubmitVerified({"erasure", asha, ""});
  auto refused =
      vault_->AdvanceRequest(kAgent, "interjet", verified.id, RequestAction::kComplete, "");
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().message(),
            "subject '" + asha + "' is under legal hold '" + hold->id +
                "'; nothing can be erased while it stands: release it, or reject the request "
                "citing it");
  EXPECT_EQ(vault_->GetRequest(kAgent, "interjet", verified.id)->state, "verified");
  EXPECT_TRUE(vault_->ShowSubject(kAgent, "interjet", asha, "essential.service").ok());
  RequestView access = SubmitVerified({"access", asha, ""});
  auto files = Unzip(vault_->DownloadExport(access.download_token)->zip);
  json retention_json = json::parse(files["retention.json"]);
  ASSERT_EQ(retention_json["legal_holds"].size(), 1u);
  EXPECT_EQ(retention_json["legal_holds"][0]["id"], hold->id);
  EXPECT_EQ(retention_json["legal_holds"][0]["standing"], true);
  EXPECT_EQ(files["retention.json"].find("Court order"), std::string::npos);  // not the reason
}

TEST_F(RequestFulfillTest, ErasureWithNothingToKeepShredsTheSubject) {
  const std::string asha = AddSubject({{"user.name", "Asha Rao"}});
  AddRecord(asha, "media", R"({"file":"router.jpg"})");
  RequestView done = Complete(SubmitVerified({"erasure", asha, ""}).id);
  ASSERT_TRUE(done.evidence.has_value());
  EXPECT_TRUE(done.evidence->kept.empty());
  EXPECT_EQ(done.evidence->erased, (std::vector<std::string>{"user.name", "records:media x1"}));
  auto show = vault_->ShowSubject(kAdmin, "interjet", asha, "essential.service");
  EXPECT_EQ(show.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(show.status().message(), "subject '" + asha + "' has been erased");
}

TEST_F(RequestFulfillTest, CorrectionsWaitForApprovalUnlessTheCategoryIsSelfService) {
  const std::string asha =
      AddSubject({{"user.name", "Asha Rao"}, {"user.contact.address", "12 MG Road, Chennai"}});
  RequestView pending =
      SubmitVerified({"correction", asha, "moved", "", {{"user.contact.address", "4 Lake Rd"}}});
  EXPECT_EQ(pending.state, "verified");  // Interjet has no self-service categories
  ASSERT_EQ(pending.corrections.size(), 1u);
  EXPECT_EQ(pending.corrections[0].value, "4 Lake Rd");
  RequestView done = Complete(pending.id);
  EXPECT_EQ(done.state, "completed");
  ASSERT_EQ(done.corrections.size(), 1u);
  EXPECT_EQ(done.corrections[0].value, "");  // applied: the request keeps no value
  EXPECT_EQ(done.evidence->corrected, std::vector<std::string>{"user.contact.address"});
  auto show = vault_->ShowSubject(kAgent, "interjet", asha, "essential.service");
  ASSERT_TRUE(show.ok());
  bool moved = false;
  for (const FieldValue& f : show->fields) moved = moved || f.value == "4 Lake Rd";
  EXPECT_TRUE(moved);
  EXPECT_EQ(AuditEvents(Db(), "subject.update").size(), 1u);

  // iNetBills lets people correct their name themselves: done on verification.
  ASSERT_TRUE(testing_util::CreateExampleTenant(*vault_, "inetbills", "inetbills").ok());
  const std::string ravi = AddSubject({{"user.name", "Ravi K"}}, "inetbills");
  RequestView self =
      SubmitVerified({"correction", ravi, "", "", {{"user.name", "Ravi Kumar"}}}, "inetbills");
  EXPECT_EQ(self.state, "completed");
  auto renamed = vault_->ShowSubject(kAdmin, "inetbills", ravi, "essential.service");
  ASSERT_TRUE(renamed.ok()) << renamed.status().ToString();
  ASSERT_FALSE(renamed->fields.empty());
  EXPECT_EQ(renamed->fields[0].value, "Ravi Kumar");
}

TEST_F(RequestFulfillTest, ObjectionWithdrawalAndRestrictionTakeEffectOnReads) {
  const std::string asha = AddSubject({{"user.name", "Asha Rao"},
                                       {"user.contact.phone_number", "+91 88701 00100"},
                                       {"user.location.coarse", "Chennai"}});
  const Actor analyst{"op:ana", "analyst"};
  ASSERT_TRUE(vault_->ShowSubject(analyst, "interjet", asha, "functional.service.improve").ok());
  RequestView objection =
      SubmitVerified({"objection", asha, "no analytics", "functional.service.improve"});
  EXPECT_EQ(objection.state, "completed");
  EXPECT_EQ(objection.evidence->purposes, std::vector<std::string>{"functional.service.improve"});
  auto refused = vault_->ShowSubject(analyst, "interjet", asha, "functional.service.improve");
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  auto ledger = vault_->GetConsents(kAgent, "interjet", asha);
  ASSERT_TRUE(ledger.ok());
  ASSERT_FALSE(ledger->history.empty());
  EXPECT_EQ(ledger->history.back().state, "objected");
  EXPECT_EQ(ledger->history.back().request_id, objection.id);
  EXPECT_EQ(ledger->history.back().source, "operator");

  // Withdrawal of every consent purpose.
  ASSERT_TRUE(
      vault_
          ->SetConsents(kAgent, "interjet", asha, {{"marketing.communications", "granted", "api"}})
          .ok());
  EXPECT_TRUE((*vault_->ConsentAllowed("interjet", "marketing.communications", {asha}))[0]);
  RequestView withdrawal = SubmitVerified({"consent_withdrawal", asha, ""});
  EXPECT_EQ(withdrawal.state, "completed");
  EXPECT_FALSE((*vault_->ConsentAllowed("interjet", "marketing.communications", {asha}))[0]);

  // Restriction: contract purposes stop; the legal obligation still reads.
  ASSERT_TRUE(vault_->ShowSubject(kAgent, "interjet", asha, "essential.service").ok());
  RequestView restriction = SubmitVerified({"restriction", asha, "disputed accuracy"});
  EXPECT_EQ(restriction.state, "completed");
  auto contract = vault_->ShowSubject(kAgent, "interjet", asha, "essential.service");
  EXPECT_EQ(contract.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(contract.status().message().find("restricted"), std::string::npos);
  EXPECT_TRUE(vault_->ShowSubject(kAdmin, "interjet", asha, "essential.legal_obligation").ok());
  EXPECT_FALSE((*vault_->ConsentAllowed("interjet", "essential.service", {asha}))[0]);
  // A lookup for a refused purpose cannot tell the subject from no match.
  auto found = vault_->Lookup(kAgent, "interjet", {"phone", "+91 88701 00100"},
                              "essential.service.operations.support");
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(found->empty());
}

TEST_F(RequestFulfillTest, BadRequestInputsAreRefusedAndNothingIsStored) {
  const std::string asha = AddSubject({{"user.name", "Asha Rao"}});
  struct Case {
    RequestInput in;
    std::string field;
    std::string message;
    int index = -1;  // of the correction at fault
  } cases[] = {
      {{"objection", asha, ""},
       "purpose",
       "an objection names the purpose objected to (`purpose`: a purpose of the policy resting "
       "on legitimate interest or consent)"},
      {{"objection", asha, "", "essential.service"},
       "purpose",
       "purpose 'essential.service' rests on contract, so an objection does not apply to it; ask "
       "for restriction or erasure instead"},
      {{"consent_withdrawal", asha, "", "functional.service.improve"},
       "purpose",
       "purpose 'functional.service.improve' rests on legitimate_interest, not consent: there is "
       "no consent to withdraw"},
      {{"objection", asha, "", "marketing.everything"},
       "purpose",
       "purpose 'marketing.everything' is not declared in the policy"},
      {{"erasure", asha, "", "marketing.communications"},
       "purpose",
       "`purpose` applies only to objection and consent_withdrawal requests, not to 'erasure'"},
      {{"correction", asha, "wrong name"},
       "corrections",
       "a correction lists the new values (`corrections`: 1 to 32 category/value pairs)"},
      {{"access", asha, "", "", {{"user.name", "X"}}},
       "corrections",
       "`corrections` applies only to correction requests, not to 'access'"},
      {{"correction", asha, "", "", {{"user.name", "Asha R."}, {"user.nickname", "Ash"}}},
       "corrections",
       "field 2 (user.nickname): category 'user.nickname' is not declared in the policy",
       1},
  };
  auto policy = vault_->TenantPolicy("interjet");
  ASSERT_TRUE(policy.ok());
  for (const Case& c : cases) {
    auto r = vault_->SubmitRequest(kAgent, "interjet", c.in);
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message().substr(0, c.message.size()), c.message);
    InputFault fault;
    EXPECT_FALSE(CheckRequestInput(**policy, c.in, &fault).ok());
    EXPECT_EQ(fault.member, c.field) << c.message;
    EXPECT_EQ(fault.index, c.index) << c.message;
  }
  EXPECT_TRUE(vault_->ListRequests(kAgent, "interjet", false, false)->empty());
  EXPECT_TRUE(AuditEvents(Db(), "request.submit").empty());
}

TEST_F(RequestFulfillTest, DuplicatesAndOtherTenantsSubjectsAreRefused) {
  const std::string asha = AddSubject({{"user.name", "Asha Rao"}});
  auto first = vault_->SubmitRequest(kAgent, "interjet", {"erasure", asha, ""});
  ASSERT_TRUE(first.ok());
  auto twice = vault_->SubmitRequest(kAgent, "interjet", {"erasure", asha, "again"});
  EXPECT_EQ(twice.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(twice.status().message(),
            "request '" + first->id +
                "' (erasure, verifying) is already open for this subject; follow it up instead "
                "of opening another");
  // Another purpose is another objection; grievances may pile up.
  EXPECT_TRUE(
      vault_
          ->SubmitRequest(kAgent, "interjet", {"objection", asha, "", "functional.service.improve"})
          .ok());
  EXPECT_TRUE(
      vault_
          ->SubmitRequest(kAgent, "interjet", {"objection", asha, "", "essential.fraud_detection"})
          .ok());
  EXPECT_EQ(
      vault_
          ->SubmitRequest(kAgent, "interjet", {"objection", asha, "", "essential.fraud_detection"})
          .status()
          .code(),
      StatusCode::kAlreadyExists);
  EXPECT_TRUE(vault_->SubmitRequest(kAgent, "interjet", {"grievance", asha, "one"}).ok());
  EXPECT_TRUE(vault_->SubmitRequest(kAgent, "interjet", {"grievance", asha, "two"}).ok());
  // Once the first erasure is closed, a new one may be opened.
  ASSERT_TRUE(
      vault_->AdvanceRequest(kAgent, "interjet", first->id, RequestAction::kReject, "not verified")
          .ok());
  EXPECT_TRUE(vault_->SubmitRequest(kAgent, "interjet", {"erasure", asha, ""}).ok());
  // A subject of another tenant does not exist here, and nothing is recorded.
  ASSERT_TRUE(testing_util::CreateExampleTenant(*vault_, "intnet", "intnet-iq").ok());
  auto elsewhere = vault_->SubmitRequest(kAgent, "intnet", {"access", asha, ""});
  EXPECT_EQ(elsewhere.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(elsewhere.status().message(),
            "subject '" + asha + "' does not exist in tenant 'intnet'");
  EXPECT_TRUE(vault_->ListRequests(kAdmin, "intnet", false, false)->empty());
}

TEST_F(RequestFulfillTest, DeadlinesFollowTheLawAcrossMonthEnds) {
  // A GDPR tenant: one calendar month, extendable once by two more, before
  // the first deadline passes.
  ASSERT_TRUE(vault_
                  ->CreateTenant(kAdmin, "interjet-de",
                                 testing_util::ReplaceFirst(ExamplePolicy("interjet"),
                                                            "jurisdiction: IN", "jurisdiction: DE"),
                                 "interjet-de.yaml")
                  .ok());
  const std::string hans = AddSubject({{"user.name", "Hans Weber"}}, "interjet-de");
  now_ = 1769853600000;  // 2026-01-31T10:00:00Z
  auto r = vault_->SubmitRequest(kAgent, "interjet-de", {"access", hans, ""});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->due_ms, 1772272800000);  // 2026-02-28T10:00:00Z: February has no 31st
  auto no_reason = vault_->AdvanceRequest(kAgent, "interjet-de", r->id, RequestAction::kExtend, "");
  EXPECT_EQ(no_reason.status().code(), StatusCode::kInvalidArgument);
  auto extended = vault_->AdvanceRequest(kAgent, "interjet-de", r->id, RequestAction::kExtend,
                                         "the records are archived off-site");
  ASSERT_TRUE(extended.ok()) << extended.status().ToString();
  EXPECT_EQ(extended->due_ms, 1777370400000);  // 2026-04-28T10:00:00Z
  EXPECT_EQ(extended->extended_ms, now_);
  EXPECT_EQ(extended->state, "verifying");
  auto twice = vault_->AdvanceRequest(kAgent, "interjet-de", r->id, RequestAction::kExtend,
                                      "still archived");
  EXPECT_EQ(twice.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(twice.status().message(), "request '" + r->id +
                                          "' was already extended on 2026-01-31; the law allows "
                                          "one extension");
  auto late_request = vault_->SubmitRequest(kAgent, "interjet-de", {"erasure", hans, ""});
  now_ += 40 * kDay;
  auto late = vault_->AdvanceRequest(kAgent, "interjet-de", late_request->id,
                                     RequestAction::kExtend, "busy");
  EXPECT_EQ(late.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(late.status().message().find("before the first deadline"), std::string::npos);

  // India: 90 days, no extension; Indonesia: 3 days.
  now_ = kMar1;
  const std::string asha = AddSubject({{"user.name", "Asha Rao"}});
  auto india = vault_->SubmitRequest(kAgent, "interjet", {"erasure", asha, ""});
  EXPECT_EQ(india->due_ms, kMar1 + 90 * kDay);
  auto no_extension =
      vault_->AdvanceRequest(kAgent, "interjet", india->id, RequestAction::kExtend, "busy");
  EXPECT_EQ(no_extension.status().message(),
            "neither the policy (rights.erasure.extension_days) nor the law of IN allows "
            "extending a erasure request");
  ASSERT_TRUE(testing_util::CreateExampleTenant(*vault_, "interindo", "interindo").ok());
  const std::string budi = AddSubject({{"user.name", "Budi Santoso"}}, "interindo");
  auto indonesia = vault_->SubmitRequest(kAgent, "interindo", {"access", budi, ""});
  ASSERT_TRUE(indonesia.ok()) << indonesia.status().ToString();
  EXPECT_EQ(indonesia->due_ms, kMar1 + 3 * kDay);
}

TEST_F(RequestFulfillTest, RequestsNeverVerifiedExpireAndOwedOnesStayOverdue) {
  const std::string asha = AddSubject({{"user.name", "Asha Rao"}});
  auto unverified = vault_->SubmitRequest(kAgent, "interjet",
                                          {"objection", asha, "", "functional.service.improve"});
  RequestView owed = SubmitVerified({"erasure", asha, ""});
  now_ += 89 * kDay;
  EXPECT_EQ(*vault_->ExpireRequests(), 0);
  now_ += 2 * kDay;
  EXPECT_EQ(*vault_->ExpireRequests(), 1);
  auto expired = vault_->GetRequest(kAgent, "interjet", unverified->id);
  EXPECT_EQ(expired->state, "expired");
  EXPECT_EQ(expired->closed_ms, now_);
  auto still = vault_->GetRequest(kAgent, "interjet", owed.id);
  EXPECT_EQ(still->state, "verified");
  EXPECT_TRUE(still->overdue);
  EXPECT_EQ(AuditEvents(Db(), "request.expire").size(), 1u);
  EXPECT_EQ(*vault_->ExpireRequests(), 0);
}

// GDPR art. 19: recipients the subject's data was disclosed to (recorded
// disclosures), with a category the request changed, are told; a recipient
// merely declared for the category, that received nothing, is not.
TEST_F(RequestFulfillTest, RecipientsACorrectedCategoryWasDisclosedToAreTold) {
  CreateNotifyingTenant();
  const std::string asha = AddSubject(
      {{"user.name", "Asha Rao"}, {"user.contact.email", "asha@example.in"}}, "interjet2");
  DisclosureInput shared;
  shared.recipient = "payment_providers";
  shared.purpose = "essential.service.payment_processing";
  shared.categories = {"user.contact.email"};
  shared.subjects = {asha};
  ASSERT_TRUE(vault_->Disclose(kAdmin, "interjet2", shared).ok());
  auto done = CorrectEmail(asha);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->evidence->recipients, std::vector<std::string>{"payment_providers"});
  ASSERT_EQ(done->evidence->notices.size(), 2u);  // the person, the recipient
  auto sent = Outbox();
  ASSERT_EQ(sent.count("privacy@razorpay.example"), 1u);
  const std::string& notice = sent.find("privacy@razorpay.example")->second;
  EXPECT_NE(notice.find("correction by data subject " + asha), std::string::npos) << notice;
  EXPECT_EQ(notice.find("asha@"), std::string::npos);  // the notice carries no value
  EXPECT_EQ(sent.count("asha@example.in"), 1u);        // told at the address on file before
}

TEST_F(RequestFulfillTest, ADeclaredRecipientThatReceivedNothingIsNotTold) {
  CreateNotifyingTenant();
  const std::string asha = AddSubject(
      {{"user.name", "Asha Rao"}, {"user.contact.email", "asha@example.in"}}, "interjet2");
  const std::string bala = AddSubject(
      {{"user.name", "Bala Krishnan"}, {"user.contact.email", "bala@example.in"}}, "interjet2");
  // Bala's email went to the payment provider; Asha's name (not her email) did.
  DisclosureInput shared;
  shared.recipient = "payment_providers";
  shared.purpose = "essential.service.payment_processing";
  shared.categories = {"user.contact.email"};
  shared.subjects = {bala};
  ASSERT_TRUE(vault_->Disclose(kAdmin, "interjet2", shared).ok());
  shared.categories = {"user.name"};
  shared.subjects = {asha};
  ASSERT_TRUE(vault_->Disclose(kAdmin, "interjet2", shared).ok());
  auto done = CorrectEmail(asha);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_TRUE(done->evidence->recipients.empty());
  EXPECT_EQ(done->evidence->notices.size(), 1u);  // the person only
  EXPECT_EQ(Outbox().count("privacy@razorpay.example"), 0u);
}

}  // namespace
}  // namespace custodian::service
