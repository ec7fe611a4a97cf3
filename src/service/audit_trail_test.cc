// The audit trail as evidence: checkpoints, verification whole and since a
// checkpoint, tampering named, the export verified offline with only the
// public key, the auditor's reads (roles, tenant isolation, filters, paging),
// and the background checkpointer.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "audit/checkpoint.h"
#include "audit/export.h"
#include "audit_util.h"
#include "service/audit_checkpointer.h"
#include "service/vault.h"
#include "vault_test_util.h"

namespace custodian::service {
namespace {

namespace fs = std::filesystem;

const Actor kAdmin{"test", "admin"};
const Actor kAgent{"test", "agent"};
const Actor kAuditor{"alice", "auditor"};

class AuditTrailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    vault_ = testing_util::OpenTestVault(tmp_.path() / "data", [this] { return now_ms_; });
    ASSERT_NE(vault_, nullptr);
    ASSERT_TRUE(testing_util::CreateExampleTenant(*vault_, "interjet").ok());
    ASSERT_TRUE(testing_util::CreateExampleTenant(*vault_, "intnet", "intnet-iq").ok());
  }
  std::string Add(const std::string& tenant, const std::string& name) {
    auto r = vault_->AddSubject(kAdmin, tenant, {{"user.name", name}}, std::nullopt);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->subject_id : "";
  }
  int64_t Head() {
    auto tx = vault_->store().Begin(false);
    auto head = (*tx)->AuditHead();
    return *head ? (**head).first : 0;
  }
  void Sql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((tmp_.path() / "data/custodian.db").c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << err;
    sqlite3_close(db);
  }
  // Replaces event `seq`'s subject and recomputes every later hash, as an
  // attacker with write access to the store would.
  void RewriteChainFrom(int64_t seq) {
    auto events = testing_util::AuditEvents((tmp_.path() / "data/custodian.db").string());
    std::string prev = audit::GenesisHash();
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((tmp_.path() / "data/custodian.db").c_str(), &db), SQLITE_OK);
    for (std::size_t i = 0; i < events.size(); ++i) {
      std::string c = events[i];
      if (static_cast<int64_t>(i) + 1 == seq) {
        auto e = audit::Event::FromCanonical(c);
        e->actor = "nobody";
        c = e->Canonical();
      }
      std::string h = audit::ChainHash(prev, c);
      if (static_cast<int64_t>(i) + 1 >= seq) {
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(db, "UPDATE audit SET event = ?, hash = ? WHERE seq = ?", -1, &st,
                           nullptr);
        sqlite3_bind_text(st, 1, c.data(), static_cast<int>(c.size()), SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 2, h.data(), static_cast<int>(h.size()), SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, static_cast<int64_t>(i) + 1);
        ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
        sqlite3_finalize(st);
      }
      prev = h;
    }
    sqlite3_close(db);
  }
  audit::ExportReport ExportAndVerify(const AuditExportOptions& options, const std::string& key,
                                      std::string* text = nullptr) {
    std::string out;
    auto s = vault_->ExportAudit(kAuditor, options, [&](std::string_view line) {
      out.append(line);
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (text) *text = out;
    std::istringstream in(out);
    auto r = audit::VerifyExport(in, key);
    EXPECT_TRUE(r.ok());
    return *r;
  }

  testing_util::TempDir tmp_;
  int64_t now_ms_ = 1767225600000;  // 2026-01-01T00:00:00Z
  std::unique_ptr<Vault> vault_;
};

TEST_F(AuditTrailTest, CheckpointSignsTheHeadAndVerifies) {
  Add("interjet", "Asha Rao");
  auto cp = vault_->CheckpointAudit();
  ASSERT_TRUE(cp.ok()) << cp.status().ToString();
  ASSERT_TRUE(cp->has_value());
  EXPECT_EQ((*cp)->seq, Head());
  auto key = vault_->AuditPublicKey();
  ASSERT_TRUE(key.ok());
  EXPECT_EQ((*cp)->key_id, audit::KeyId(*key));
  // Nothing new: no second checkpoint of the same head.
  auto again = vault_->CheckpointAudit();
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
  Add("interjet", "Ravi");
  ASSERT_TRUE(vault_->CheckpointAudit()->has_value());
  auto r = vault_->VerifyAudit();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->ok) << r->problem;
  EXPECT_EQ(r->checkpoints, 2);
  EXPECT_EQ(r->signed_seq, Head());
  EXPECT_EQ(r->events, Head());
}

TEST_F(AuditTrailTest, TamperedEventIsNamedBySeq) {
  Add("interjet", "Asha Rao");
  ASSERT_TRUE(vault_->CheckpointAudit().ok());
  Sql("UPDATE audit SET event = replace(event, '\"ok\"', '\"refused\"') WHERE seq = 3");
  auto r = vault_->VerifyAudit();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->first_bad_seq, 3);
  EXPECT_NE(r->problem.find("event 3:"), std::string::npos) << r->problem;
}

TEST_F(AuditTrailTest, RewrittenChainIsCaughtByItsCheckpoint) {
  Add("interjet", "Asha Rao");
  Add("interjet", "Ravi");
  ASSERT_TRUE(vault_->CheckpointAudit().ok());
  int64_t signed_head = Head();
  Add("interjet", "Meera");
  RewriteChainFrom(2);
  auto r = vault_->VerifyAudit();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->bad_checkpoint_seq, signed_head);
  EXPECT_NE(r->problem.find("checkpoint at event " + std::to_string(signed_head)),
            std::string::npos)
      << r->problem;
}

TEST_F(AuditTrailTest, ForgedCheckpointSignatureIsNamed) {
  Add("interjet", "Asha Rao");
  ASSERT_TRUE(vault_->CheckpointAudit().ok());
  int64_t at = Head();
  Sql("UPDATE audit_checkpoints SET signature = randomblob(64)");
  auto r = vault_->VerifyAudit();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->bad_checkpoint_seq, at);
  EXPECT_NE(r->problem.find("the signature does not verify"), std::string::npos) << r->problem;
}

TEST_F(AuditTrailTest, EventsRemovedFromTheEndAreCaught) {
  Add("interjet", "Asha Rao");
  ASSERT_TRUE(vault_->CheckpointAudit().ok());
  int64_t at = Head();
  Sql("DELETE FROM audit WHERE seq >= " + std::to_string(at - 1));
  auto r = vault_->VerifyAudit();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->bad_checkpoint_seq, at);
}

TEST_F(AuditTrailTest, ReplacedSigningKeyIsRefused) {
  Add("interjet", "Asha Rao");
  ASSERT_TRUE(vault_->CheckpointAudit().ok());
  Sql("UPDATE audit_keys SET public_key = randomblob(32)");
  auto r = vault_->VerifyAudit();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
}

TEST_F(AuditTrailTest, SinceACheckpointVerifiesOnlyWhatFollows) {
  Add("interjet", "Asha Rao");
  ASSERT_TRUE(vault_->CheckpointAudit().ok());
  int64_t first = Head();
  Add("interjet", "Ravi");
  Add("interjet", "Meera");
  ASSERT_TRUE(vault_->CheckpointAudit().ok());
  auto r = vault_->VerifyAudit(first);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->ok) << r->problem;
  EXPECT_EQ(r->first_seq, first + 1);
  EXPECT_EQ(r->events, Head() - first);
  EXPECT_EQ(r->checkpoints, 2);  // the start and the one after
  // An edit before the checkpoint is outside an incremental run, not a full one.
  Sql("UPDATE audit SET event = replace(event, '\"ok\"', '\"miss\"') WHERE seq = 1");
  EXPECT_TRUE(vault_->VerifyAudit(first)->ok);
  EXPECT_FALSE(vault_->VerifyAudit()->ok);
  // After the checkpoint it is caught and named.
  Sql("UPDATE audit SET event = replace(event, '\"ok\"', '\"miss\"') WHERE seq = " +
      std::to_string(first + 1));
  auto bad = vault_->VerifyAudit(first);
  EXPECT_FALSE(bad->ok);
  EXPECT_EQ(bad->first_bad_seq, first + 1);
  // No checkpoint there.
  auto none = vault_->VerifyAudit(first + 1);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
}

TEST_F(AuditTrailTest, ExportVerifiesOfflineWithThePublicKeyOnly) {
  Add("interjet", "Asha Rao");
  Add("intnet", "Omar");
  ASSERT_TRUE(vault_->CheckpointAudit().ok());
  Add("interjet", "Ravi");
  auto key = vault_->AuditPublicKey();
  ASSERT_TRUE(key.ok());
  int64_t head = Head();
  std::string text;
  audit::ExportReport r = ExportAndVerify({}, *key, &text);
  EXPECT_TRUE(r.chain.ok) << r.chain.problem;
  EXPECT_FALSE(r.partial);
  EXPECT_EQ(r.chain.events, head);
  EXPECT_EQ(r.chain.checkpoints, 1);
  EXPECT_GT(r.unsigned_events, 0);
  // The export is on record.
  EXPECT_EQ(testing_util::AuditEvents((tmp_.path() / "data/custodian.db").string(), "audit.export")
                .size(),
            1u);
  // Another key: the checkpoint does not verify.
  std::istringstream in(text);
  std::string other(audit::kPublicKeySize, '\x05');
  auto wrong = audit::VerifyExport(in, other);
  ASSERT_TRUE(wrong.ok());
  EXPECT_FALSE(wrong->chain.ok);
  EXPECT_NE(wrong->chain.bad_checkpoint_seq, 0);
}

TEST_F(AuditTrailTest, RangeAndTenantExportsVerify) {
  Add("interjet", "Asha Rao");
  now_ms_ += 3600 * 1000;
  Add("intnet", "Omar");
  Add("interjet", "Ravi");
  ASSERT_TRUE(vault_->CheckpointAudit().ok());
  now_ms_ += 3600 * 1000;
  Add("interjet", "Meera");
  auto key = vault_->AuditPublicKey();
  AuditExportOptions range;
  range.from_ms = 1767225600000 + 3600 * 1000;
  range.to_ms = 1767225600000 + 2 * 3600 * 1000;
  audit::ExportReport r = ExportAndVerify(range, *key);
  EXPECT_TRUE(r.chain.ok) << r.chain.problem;
  EXPECT_GT(r.chain.first_seq, 1);
  EXPECT_EQ(r.chain.checkpoints, 1);
  AuditExportOptions tenant;
  tenant.tenant = "intnet";
  std::string text;
  audit::ExportReport t = ExportAndVerify(tenant, *key, &text);
  EXPECT_TRUE(t.chain.ok) << t.chain.problem;
  EXPECT_TRUE(t.partial);
  EXPECT_EQ(text.find("\"tenant\":\"interjet\""), std::string::npos);
  EXPECT_NE(text.find("\"tenant\":\"intnet\""), std::string::npos);
}

TEST_F(AuditTrailTest, ExportNeedsAuditorOrAdmin) {
  auto s = vault_->ExportAudit(kAgent, {}, [](std::string_view) { return Status::Ok(); });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kPermissionDenied);
}

TEST_F(AuditTrailTest, ListAuditIsForAuditorsAndShowsOnlyTheTenantsEvents) {
  std::string asha = Add("interjet", "Asha Rao");
  Add("intnet", "Omar");
  auto refused = vault_->ListAudit(kAgent, "interjet", {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  auto refusals = testing_util::AuditEvents((tmp_.path() / "data/custodian.db").string(),
                                            "audit.read");
  ASSERT_EQ(refusals.size(), 1u);
  EXPECT_NE(refusals[0].find("\"outcome\":\"refused\""), std::string::npos);

  auto page = vault_->ListAudit(kAuditor, "interjet", {});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_FALSE(page->events.empty());
  for (const auto& e : page->events) EXPECT_EQ(e.event.tenant, "interjet");
  EXPECT_FALSE(page->next_after.has_value());

  AuditQuery by_subject;
  by_subject.subject = asha;
  auto subject = vault_->ListAudit(kAuditor, "interjet", by_subject);
  ASSERT_EQ(subject->events.size(), 1u);
  EXPECT_EQ(subject->events[0].event.action, "subject.add");
  AuditQuery by_action;
  by_action.action = "audit.read";
  auto reads = vault_->ListAudit(kAuditor, "interjet", by_action);
  EXPECT_EQ(reads->events.size(), 3u);  // the refusal and the two reads above
  AuditQuery by_actor;
  by_actor.actor = "alice";
  EXPECT_EQ(vault_->ListAudit(kAuditor, "interjet", by_actor)->events.size(), 3u);  // its reads
  AuditQuery later;
  later.from_ms = now_ms_ + 1;
  EXPECT_TRUE(vault_->ListAudit(kAuditor, "interjet", later)->events.empty());
  // Another tenant's subject is never found.
  EXPECT_TRUE(vault_->ListAudit(kAuditor, "intnet", by_subject)->events.empty());
}

TEST_F(AuditTrailTest, ListAuditPagesByCursor) {
  for (int i = 0; i < 5; ++i) Add("interjet", "Person " + std::to_string(i));
  AuditQuery q;
  q.action = "subject.add";
  q.limit = 2;
  std::vector<int64_t> seqs;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = vault_->ListAudit(kAuditor, "interjet", q);
    ASSERT_TRUE(page.ok());
    for (const auto& e : page->events) seqs.push_back(e.seq);
    if (!page->next_after) break;
    q.after_seq = *page->next_after;
  }
  ASSERT_EQ(seqs.size(), 5u);
  EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end()));
  q.limit = 0;
  EXPECT_EQ(vault_->ListAudit(kAuditor, "interjet", q).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(AuditTrailTest, CheckpointerSignsEveryNEvents) {
  CheckpointerOptions o;
  o.every_events = 2;
  o.every_ms = 0;
  o.poll_ms = 5;
  AuditCheckpointer cp(*vault_, o);
  cp.Start();
  Add("interjet", "Asha Rao");
  Add("interjet", "Ravi");
  // Up to 30 s: a loaded machine (CI's two cores) can be slow to run the
  // checkpointer's thread; it normally signs within a few polls.
  for (int i = 0; i < 6000 && cp.checkpoints_made() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GE(cp.checkpoints_made(), 1);
  Add("interjet", "Meera");
  cp.Stop();  // signs what is left
  auto r = vault_->VerifyAudit();
  EXPECT_TRUE(r->ok) << r->problem;
  EXPECT_EQ(r->signed_seq, Head());
}

}  // namespace
}  // namespace custodian::service
