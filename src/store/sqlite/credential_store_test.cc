// The store's credential tables (migration 4): API keys, operators, sessions,
// scoped by tenant except the two lookups authentication needs.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "store/store.h"
#include "test_util.h"

namespace custodian::store {
namespace {

class CredentialStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (dir_.path() / "custodian.db").string();
    Open();
    auto tx = Begin();
    ASSERT_TRUE(tx->InsertTenant({"alpha", "wrapped-a", 1, "yaml", "1", 1}).ok());
    ASSERT_TRUE(tx->InsertTenant({"beta", "wrapped-b", 1, "yaml", "1", 1}).ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  void Open() {
    store_.reset();
    auto s = OpenSqliteStore(path_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  std::unique_ptr<Transaction> Begin() {
    auto tx = store_->Begin(true);
    EXPECT_TRUE(tx.ok()) << tx.status().ToString();
    return std::move(tx).value();
  }
  static ApiKeyRow Key(const std::string& tenant, const std::string& id, int64_t created) {
    ApiKeyRow r;
    r.tenant = tenant;
    r.id = id;
    r.name = "crm";
    r.role = "agent";
    r.digest = std::string("\x00\x01digest", 8);
    r.created_ms = created;
    return r;
  }
  static OperatorRow Operator(const std::string& tenant, const std::string& id,
                              const std::string& email_digest) {
    OperatorRow r;
    r.tenant = tenant;
    r.id = id;
    r.email_digest = email_digest;
    r.email_sealed = "sealed-email";
    r.role = "admin";
    r.password_hash = "$argon2id$...";
    r.totp_sealed = "sealed-totp";
    r.created_ms = 7;
    return r;
  }
  static SessionRow Session(const std::string& tenant, const std::string& id,
                            const std::string& op, int64_t expires) {
    SessionRow r;
    r.tenant = tenant;
    r.id = id;
    r.operator_id = op;
    r.token_digest = "tok";
    r.csrf_digest = "csrf";
    r.created_ms = 1;
    r.expires_ms = expires;
    return r;
  }

  testing_util::TempDir dir_;
  std::string path_;
  std::unique_ptr<Store> store_;
};

TEST_F(CredentialStoreTest, ApiKeysRoundTripListAndRevokeWithinTheirTenant) {
  auto tx = Begin();
  ASSERT_TRUE(tx->InsertApiKey(Key("alpha", "k2", 20)).ok());
  ASSERT_TRUE(tx->InsertApiKey(Key("alpha", "k1", 10)).ok());
  ASSERT_TRUE(tx->InsertApiKey(Key("beta", "k3", 5)).ok());
  Status dup = tx->InsertApiKey(Key("beta", "k1", 5));
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.message(), "api key 'k1' already exists");
  ASSERT_TRUE(tx->Commit().ok());

  tx = Begin();
  auto found = tx->FindApiKey("k1");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->tenant, "alpha");
  EXPECT_EQ((*found)->digest, std::string("\x00\x01digest", 8));
  EXPECT_EQ((*found)->name, "crm");
  EXPECT_EQ((*found)->role, "agent");
  EXPECT_FALSE((*found)->revoked_ms.has_value());
  EXPECT_FALSE((*found)->last_used_ms.has_value());
  EXPECT_FALSE(tx->FindApiKey("nope")->has_value());

  auto alpha = tx->ListApiKeys("alpha");
  ASSERT_TRUE(alpha.ok());
  ASSERT_EQ(alpha->size(), 2u);
  EXPECT_EQ((*alpha)[0].id, "k1");  // oldest first
  EXPECT_EQ((*alpha)[1].id, "k2");
  EXPECT_EQ(tx->ListApiKeys("gamma")->size(), 0u);

  // Another tenant's key can be neither revoked nor touched.
  Status other = tx->RevokeApiKey("beta", "k1", 30);
  EXPECT_EQ(other.code(), StatusCode::kNotFound);
  EXPECT_EQ(other.message(), "api key 'k1' does not exist in tenant 'beta'");
  ASSERT_TRUE(tx->TouchApiKey("beta", "k1", 31).ok());
  EXPECT_FALSE((*tx->FindApiKey("k1"))->last_used_ms.has_value());

  ASSERT_TRUE(tx->RevokeApiKey("alpha", "k1", 30).ok());
  ASSERT_TRUE(tx->TouchApiKey("alpha", "k2", 32).ok());
  ASSERT_TRUE(tx->Commit().ok());
  tx = Begin();
  EXPECT_EQ((*tx->FindApiKey("k1"))->revoked_ms, 30);
  EXPECT_EQ((*tx->FindApiKey("k2"))->last_used_ms, 32);
  EXPECT_FALSE((*tx->FindApiKey("k3"))->revoked_ms.has_value());
}

TEST_F(CredentialStoreTest, ApiKeyNeedsAnExistingTenant) {
  auto tx = Begin();
  EXPECT_FALSE(tx->InsertApiKey(Key("gamma", "k1", 1)).ok());
}

TEST_F(CredentialStoreTest, OperatorsAreUniqueByEmailDigestPerTenant) {
  auto tx = Begin();
  ASSERT_TRUE(tx->InsertOperator(Operator("alpha", "op1", "E")).ok());
  ASSERT_TRUE(tx->InsertOperator(Operator("beta", "op1", "E")).ok());  // same id and email
  Status dup = tx->InsertOperator(Operator("alpha", "op2", "E"));
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.message(), "an operator with this email already exists in tenant 'alpha'");
  ASSERT_TRUE(tx->Commit().ok());

  tx = Begin();
  auto op = tx->FindOperatorByEmail("alpha", "E");
  ASSERT_TRUE(op.ok() && op->has_value());
  EXPECT_EQ((*op)->id, "op1");
  EXPECT_EQ((*op)->password_hash, "$argon2id$...");
  EXPECT_EQ((*op)->totp_sealed, "sealed-totp");
  EXPECT_EQ((*op)->email_sealed, "sealed-email");
  EXPECT_EQ((*op)->last_totp_step, 0);
  EXPECT_FALSE(tx->FindOperatorByEmail("gamma", "E")->has_value());
  EXPECT_FALSE(tx->GetOperator("alpha", "op2")->has_value());

  ASSERT_TRUE(tx->SetOperatorTotpStep("alpha", "op1", 12345).ok());
  EXPECT_EQ((*tx->GetOperator("alpha", "op1"))->last_totp_step, 12345);
  EXPECT_EQ((*tx->GetOperator("beta", "op1"))->last_totp_step, 0);
  EXPECT_EQ(tx->SetOperatorTotpStep("alpha", "op9", 1).code(), StatusCode::kNotFound);
}

TEST_F(CredentialStoreTest, SessionsRevokeAndPurge) {
  auto tx = Begin();
  ASSERT_TRUE(tx->InsertOperator(Operator("alpha", "op1", "E")).ok());
  ASSERT_TRUE(tx->InsertSession(Session("alpha", "s1", "op1", 100)).ok());
  ASSERT_TRUE(tx->InsertSession(Session("alpha", "s2", "op1", 500)).ok());
  ASSERT_TRUE(tx->InsertSession(Session("alpha", "s3", "op1", 500)).ok());
  // A session must belong to an operator of its tenant.
  EXPECT_FALSE(tx->InsertSession(Session("beta", "s4", "op1", 500)).ok());
  ASSERT_TRUE(tx->Commit().ok());

  tx = Begin();
  auto s = tx->FindSession("s1");
  ASSERT_TRUE(s.ok() && s->has_value());
  EXPECT_EQ((*s)->tenant, "alpha");
  EXPECT_EQ((*s)->operator_id, "op1");
  EXPECT_EQ((*s)->token_digest, "tok");
  EXPECT_EQ((*s)->csrf_digest, "csrf");
  EXPECT_EQ((*s)->expires_ms, 100);
  EXPECT_EQ(tx->RevokeSession("beta", "s2", 50).code(), StatusCode::kNotFound);
  ASSERT_TRUE(tx->RevokeSession("alpha", "s2", 50).ok());
  ASSERT_TRUE(tx->RevokeSession("alpha", "s2", 60).ok());  // keeps the first time
  EXPECT_EQ((*tx->FindSession("s2"))->revoked_ms, 50);
  ASSERT_TRUE(tx->PurgeSessions("beta", 200).ok());  // not beta's
  EXPECT_TRUE(tx->FindSession("s1")->has_value());
  ASSERT_TRUE(tx->PurgeSessions("alpha", 200).ok());
  EXPECT_FALSE(tx->FindSession("s1")->has_value());  // expired
  EXPECT_FALSE(tx->FindSession("s2")->has_value());  // revoked
  EXPECT_TRUE(tx->FindSession("s3")->has_value());   // live
}

TEST_F(CredentialStoreTest, PortalSignInsRoundTripCountByContactAndPurge) {
  auto tx = Begin();
  PortalSessionRow a{"alpha", "p1", "sub_1", "sms", "C1", "code", 0, "", "", 100, 700, {}};
  PortalSessionRow decoy{"alpha", "p2", "", "email", "C2", "", 0, "", "", 200, 800, {}};
  PortalSessionRow other{"beta", "p3", "sub_9", "sms", "C1", "code", 0, "", "", 300, 900, {}};
  for (const auto& row : {a, decoy, other}) ASSERT_TRUE(tx->InsertPortalSession(row).ok());
  EXPECT_FALSE(tx->InsertPortalSession(a).ok());  // the id is taken
  ASSERT_TRUE(tx->Commit().ok());

  tx = Begin();
  auto found = tx->FindPortalSession("p1");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->tenant, "alpha");
  EXPECT_EQ((*found)->subject, "sub_1");
  EXPECT_EQ((*found)->channel, "sms");
  EXPECT_EQ((*found)->contact_digest, "C1");
  EXPECT_EQ((*found)->code_digest, "code");
  EXPECT_TRUE((*found)->token_digest.empty());
  EXPECT_EQ((*found)->expires_ms, 700);
  EXPECT_FALSE((*found)->revoked_ms.has_value());
  EXPECT_EQ((*tx->FindPortalSession("p2"))->subject, "");
  EXPECT_FALSE(tx->FindPortalSession("p4")->has_value());

  PortalSessionRow signed_in = **found;
  signed_in.code_digest.clear();
  signed_in.attempts = 2;
  signed_in.token_digest = "tok";
  signed_in.csrf_digest = "csrf";
  signed_in.expires_ms = 5000;
  signed_in.revoked_ms = 4000;
  ASSERT_TRUE(tx->UpdatePortalSession(signed_in).ok());
  auto updated = *tx->FindPortalSession("p1");
  EXPECT_TRUE(updated->code_digest.empty());
  EXPECT_EQ(updated->attempts, 2);
  EXPECT_EQ(updated->token_digest, "tok");
  EXPECT_EQ(updated->csrf_digest, "csrf");
  EXPECT_EQ(updated->expires_ms, 5000);
  EXPECT_EQ(updated->revoked_ms, 4000);
  PortalSessionRow wrong_tenant = signed_in;
  wrong_tenant.tenant = "beta";
  EXPECT_EQ(tx->UpdatePortalSession(wrong_tenant).code(), StatusCode::kNotFound);

  // Counted per tenant and contact, from a time on.
  EXPECT_EQ(*tx->CountPortalStarts("alpha", "C1", 0), 1);
  EXPECT_EQ(*tx->CountPortalStarts("alpha", "C1", 99), 1);
  EXPECT_EQ(*tx->CountPortalStarts("alpha", "C1", 100), 0);
  EXPECT_EQ(*tx->CountPortalStarts("beta", "C1", 0), 1);
  EXPECT_EQ(*tx->CountPortalStarts("alpha", "C3", 0), 0);

  // An erasure deletes the subject's sign-ins; the purge, every tenant's old ones.
  ASSERT_TRUE(tx->DeletePersonalExtras("alpha", "sub_1").ok());
  EXPECT_FALSE(tx->FindPortalSession("p1")->has_value());
  ASSERT_TRUE(tx->PurgePortalSessions(250).ok());
  EXPECT_FALSE(tx->FindPortalSession("p2")->has_value());
  EXPECT_TRUE(tx->FindPortalSession("p3")->has_value());
}

// Migrations 4 to the latest on a version-3 file: add the credential, consent,
// outbox, request and export tables and keep everything that was there.
TEST_F(CredentialStoreTest, MigratesAVersionThreeFile) {
  {
    auto tx = Begin();
    SubjectRow r;
    r.tenant = "alpha";
    r.id = "sub_1";
    r.wrapped_key = "k";
    r.fields = "f";
    ASSERT_TRUE(tx->PutSubject(r).ok());
    ASSERT_TRUE(tx->ReplaceIndex("alpha", "sub_1", {{"phone", "digest"}}).ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  store_.reset();
  {
    // Turn the file back into what schema version 3 left.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "DROP TABLE sessions; DROP TABLE operators; DROP TABLE api_keys; "
                           "DROP TABLE consents; DROP TABLE consent_events; DROP TABLE outbox; "
                           "DROP TABLE channels; DROP TABLE webhook_events; DROP TABLE cookie_choices; "
                           "DROP TABLE requests; DROP TABLE exports; DROP TABLE erasure_holds; "
                           "ALTER TABLE subjects DROP COLUMN restricted; "
                           "DROP TABLE audit_keys; DROP TABLE audit_checkpoints; "
                           "DROP INDEX audit_by_tenant; "
                           "DROP INDEX records_by_kind; DROP INDEX subjects_closed; "
                           "DROP TABLE retention_holds; DROP TABLE retention_aggregates; "
                           "DROP TABLE retention_lease; DROP TABLE retention_sweeps; "
                           "DROP TABLE disclosures; DROP TABLE disclosure_subjects; DROP TABLE shredded; "
                           "ALTER TABLE subject_index DROP COLUMN subject_rowid; "
                           "DROP TABLE portal_sessions; "
                           "DELETE FROM schema_migrations WHERE version >= 4;",
                           nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  Open();
  auto tx = Begin();
  EXPECT_TRUE(tx->GetSubject("alpha", "sub_1")->has_value());
  // Schema 11 gave the old index entry its subject's rowid.
  auto rows = tx->FindSubjectRowsByIndex("alpha", "phone", "digest");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().id, "sub_1");
  ASSERT_TRUE(tx->InsertApiKey(Key("alpha", "k1", 1)).ok());
  EXPECT_TRUE(tx->FindApiKey("k1")->has_value());
  // Schema 12: a key's own rate limit, none unless given.
  EXPECT_FALSE((*tx->FindApiKey("k1"))->rate_per_second.has_value());
  ApiKeyRow limited = Key("alpha", "k2", 2);
  limited.rate_per_second = 2.5;
  limited.rate_burst = 10;
  ASSERT_TRUE(tx->InsertApiKey(limited).ok());
  auto k2 = tx->FindApiKey("k2");
  ASSERT_TRUE(k2.ok() && k2->has_value());
  EXPECT_EQ((*k2)->rate_per_second, 2.5);
  EXPECT_EQ((*k2)->rate_burst, 10.0);
  ASSERT_TRUE(tx->PutConsent({"alpha", "sub_1", "marketing", ConsentState::kGranted, 1}).ok());
  EXPECT_TRUE(tx->GetConsent("alpha", "sub_1", "marketing")->has_value());
  // Schema 13: privacy-portal sign-ins.
  PortalSessionRow portal{"alpha", "p1", "sub_1", "sms", "contact", "code", 0, "", "", 5, 10, {}};
  ASSERT_TRUE(tx->InsertPortalSession(portal).ok());
  EXPECT_TRUE(tx->FindPortalSession("p1")->has_value());
  ASSERT_TRUE(tx->Commit().ok());
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_migrations", -1, &st, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(st, 0), kSchemaVersion);
  EXPECT_EQ(kSchemaVersion, 13);
  sqlite3_finalize(st);
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM subject_index WHERE subject_rowid IS NULL",
                               -1, &st, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(st, 0), 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

}  // namespace
}  // namespace custodian::store
