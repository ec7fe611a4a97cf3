// The embedded default backend: one SQLite file in WAL mode with
// secure_delete, foreign keys and numbered migrations.
//
// One writer connection, guarded by a mutex that a write Transaction holds
// for its whole life (SQLite serializes writers anyway), and a pool of
// read-only connections for read transactions. Write transactions use BEGIN
// IMMEDIATE so two processes sharing the file cannot interleave audit appends.
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "store/sqlite/statement.h"
#include "store/store.h"

namespace custodian::store {
namespace {

using sqlite::Db;
using sqlite::Stmt;

// Numbered migrations; migration N moves the schema from N-1 to N.
const char* const kMigrations[] = {
    // 1: tenants, subjects, blind index, audit chain.
    R"sql(
CREATE TABLE tenants (
  id             TEXT PRIMARY KEY,
  wrapped_key    BLOB NOT NULL,
  key_version    INTEGER NOT NULL,
  policy_yaml    TEXT NOT NULL,
  policy_version TEXT NOT NULL,
  created_ms     INTEGER NOT NULL
);
CREATE TABLE subjects (
  tenant          TEXT NOT NULL REFERENCES tenants(id),
  id              TEXT NOT NULL,
  external_digest BLOB,
  wrapped_key     BLOB,
  state           INTEGER NOT NULL,
  created_ms      INTEGER NOT NULL,
  updated_ms      INTEGER NOT NULL,
  closed_ms       INTEGER,
  erased_ms       INTEGER,
  fields          BLOB,
  UNIQUE (tenant, id)
);
CREATE UNIQUE INDEX subjects_by_external ON subjects(tenant, external_digest)
  WHERE external_digest IS NOT NULL;
CREATE TABLE subject_index (
  tenant   TEXT NOT NULL,
  category TEXT NOT NULL,
  digest   BLOB NOT NULL,
  subject  TEXT NOT NULL,
  PRIMARY KEY (tenant, category, digest, subject),
  FOREIGN KEY (tenant, subject) REFERENCES subjects(tenant, id)
) WITHOUT ROWID;
CREATE INDEX subject_index_by_subject ON subject_index(tenant, subject);
CREATE TABLE audit (
  seq    INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL,
  event  TEXT NOT NULL,
  hash   BLOB NOT NULL
);
)sql",
    // 2: records attached to subjects, and their anchor events.
    R"sql(
CREATE TABLE records (
  tenant     TEXT NOT NULL,
  id         TEXT NOT NULL,
  subject    TEXT NOT NULL,
  kind       TEXT NOT NULL,
  at_ms      INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  payload    BLOB NOT NULL,
  PRIMARY KEY (tenant, id),
  FOREIGN KEY (tenant, subject) REFERENCES subjects(tenant, id)
);
CREATE INDEX records_by_subject ON records(tenant, subject, at_ms);
CREATE TABLE record_events (
  tenant TEXT NOT NULL,
  record TEXT NOT NULL,
  event  TEXT NOT NULL,
  at_ms  INTEGER NOT NULL,
  PRIMARY KEY (tenant, record, event),
  FOREIGN KEY (tenant, record) REFERENCES records(tenant, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX record_events_by_time ON record_events(tenant, event, at_ms);
)sql",
    // 3: bulk-import progress (src/import), one row per import.
    R"sql(
CREATE TABLE imports (
  tenant        TEXT NOT NULL REFERENCES tenants(id),
  kind          TEXT NOT NULL,
  digest        BLOB NOT NULL,
  offset        INTEGER NOT NULL,
  line          INTEGER NOT NULL,
  rows          INTEGER NOT NULL,
  added         INTEGER NOT NULL,
  updated       INTEGER NOT NULL,
  unchanged     INTEGER NOT NULL,
  rejected      INTEGER NOT NULL,
  rejects_bytes INTEGER NOT NULL,
  done          INTEGER NOT NULL,
  started_ms    INTEGER NOT NULL,
  updated_ms    INTEGER NOT NULL,
  PRIMARY KEY (tenant, kind, digest)
) WITHOUT ROWID;
)sql",
    // 4: credentials for the HTTP API and the console: tenant API keys,
    // operators (people: password + TOTP) and their sessions. Secrets are held
    // only as keyed digests, Argon2id hashes or sealed blobs.
    R"sql(
CREATE TABLE api_keys (
  id           TEXT PRIMARY KEY,
  tenant       TEXT NOT NULL REFERENCES tenants(id),
  name         TEXT NOT NULL,
  role         TEXT NOT NULL,
  digest       BLOB NOT NULL,
  created_ms   INTEGER NOT NULL,
  revoked_ms   INTEGER,
  last_used_ms INTEGER
);
CREATE INDEX api_keys_by_tenant ON api_keys(tenant, created_ms);
CREATE TABLE operators (
  tenant         TEXT NOT NULL REFERENCES tenants(id),
  id             TEXT NOT NULL,
  email_digest   BLOB NOT NULL,
  email_sealed   BLOB NOT NULL,
  role           TEXT NOT NULL,
  password_hash  TEXT NOT NULL,
  totp_sealed    BLOB NOT NULL,
  last_totp_step INTEGER NOT NULL,
  created_ms     INTEGER NOT NULL,
  PRIMARY KEY (tenant, id),
  UNIQUE (tenant, email_digest)
);
CREATE TABLE sessions (
  id           TEXT PRIMARY KEY,
  tenant       TEXT NOT NULL,
  operator     TEXT NOT NULL,
  token_digest BLOB NOT NULL,
  csrf_digest  BLOB NOT NULL,
  created_ms   INTEGER NOT NULL,
  expires_ms   INTEGER NOT NULL,
  revoked_ms   INTEGER,
  FOREIGN KEY (tenant, operator) REFERENCES operators(tenant, id)
);
CREATE INDEX sessions_by_tenant ON sessions(tenant, expires_ms);
)sql",
    // 5: the consent ledger: the current choice per (subject, purpose), and
    // the history of choices, sealed with the subject key; tenants' channel
    // settings (sealed), the outbox, website visitors' cookie choices,
    // data-subject requests and the inbound webhook events already applied.
    R"sql(
CREATE TABLE consents (
  tenant  TEXT NOT NULL,
  subject TEXT NOT NULL,
  purpose TEXT NOT NULL,
  state   INTEGER NOT NULL,
  at_ms   INTEGER NOT NULL,
  PRIMARY KEY (tenant, subject, purpose)
) WITHOUT ROWID;
CREATE TABLE consent_events (
  seq     INTEGER PRIMARY KEY,
  tenant  TEXT NOT NULL,
  subject TEXT NOT NULL,
  at_ms   INTEGER NOT NULL,
  sealed  BLOB NOT NULL
);
CREATE INDEX consent_events_by_subject ON consent_events(tenant, subject, seq);
CREATE TABLE channels (
  tenant     TEXT NOT NULL REFERENCES tenants(id),
  name       TEXT NOT NULL,
  sealed     BLOB NOT NULL,
  updated_ms INTEGER NOT NULL,
  PRIMARY KEY (tenant, name)
) WITHOUT ROWID;
CREATE TABLE outbox (
  tenant          TEXT NOT NULL REFERENCES tenants(id),
  id              TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  subject         TEXT NOT NULL,
  purpose         TEXT NOT NULL,
  channel         TEXT NOT NULL,
  sealed          BLOB NOT NULL,
  state           INTEGER NOT NULL,
  attempts        INTEGER NOT NULL,
  next_attempt_ms INTEGER NOT NULL,
  last_error      TEXT NOT NULL,
  provider_id     TEXT NOT NULL,
  created_ms      INTEGER NOT NULL,
  updated_ms      INTEGER NOT NULL,
  sent_ms         INTEGER,
  PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX outbox_by_key ON outbox(tenant, idempotency_key) WHERE idempotency_key != '';
CREATE INDEX outbox_due ON outbox(state, next_attempt_ms) WHERE state IN (1, 2);
CREATE INDEX outbox_by_time ON outbox(tenant, created_ms);
CREATE TABLE cookie_choices (
  seq            INTEGER PRIMARY KEY,
  tenant         TEXT NOT NULL REFERENCES tenants(id),
  visitor        TEXT NOT NULL,
  choices        TEXT NOT NULL,
  policy_version TEXT NOT NULL,
  at_ms          INTEGER NOT NULL
);
CREATE INDEX cookie_choices_by_visitor ON cookie_choices(tenant, visitor, seq);
CREATE TABLE requests (
  tenant       TEXT NOT NULL REFERENCES tenants(id),
  id           TEXT NOT NULL,
  subject      TEXT NOT NULL,
  type         TEXT NOT NULL,
  state        INTEGER NOT NULL,
  verification TEXT NOT NULL,
  assigned     TEXT NOT NULL,
  sealed       BLOB NOT NULL,
  received_ms  INTEGER NOT NULL,
  due_ms       INTEGER NOT NULL,
  updated_ms   INTEGER NOT NULL,
  closed_ms    INTEGER,
  otp_digest   BLOB NOT NULL,
  otp_expires  INTEGER NOT NULL,
  otp_attempts INTEGER NOT NULL,
  PRIMARY KEY (tenant, id)
);
CREATE INDEX requests_by_due ON requests(tenant, due_ms);
CREATE INDEX requests_by_subject ON requests(tenant, subject);
CREATE TABLE webhook_events (
  tenant      TEXT NOT NULL,
  provider    TEXT NOT NULL,
  event_id    TEXT NOT NULL,
  received_ms INTEGER NOT NULL,
  PRIMARY KEY (tenant, provider, event_id)
) WITHOUT ROWID;
)sql",
    // 6: what data-subject requests do: restriction of a subject's processing,
    // a request's extension, export bundles (sealed, downloadable once) and what
    // an erasure kept under a legal obligation, and until when.
    R"sql(
ALTER TABLE subjects ADD COLUMN restricted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN extended_ms INTEGER;
CREATE TABLE exports (
  tenant        TEXT NOT NULL REFERENCES tenants(id),
  id            TEXT NOT NULL,
  request_id    TEXT NOT NULL,
  subject       TEXT NOT NULL,
  sealed        BLOB,
  sha256        TEXT NOT NULL,
  bytes         INTEGER NOT NULL,
  token_digest  BLOB NOT NULL,
  created_ms    INTEGER NOT NULL,
  expires_ms    INTEGER NOT NULL,
  downloaded_ms INTEGER,
  PRIMARY KEY (tenant, id)
);
CREATE INDEX exports_by_subject ON exports(tenant, subject);
CREATE TABLE erasure_holds (
  tenant     TEXT NOT NULL REFERENCES tenants(id),
  request_id TEXT NOT NULL,
  subject    TEXT NOT NULL,
  item       TEXT NOT NULL,
  until_ms   INTEGER NOT NULL,
  rule       TEXT NOT NULL,
  reason     TEXT NOT NULL,
  purged_ms  INTEGER,
  PRIMARY KEY (tenant, request_id, item)
) WITHOUT ROWID;
CREATE INDEX erasure_holds_due ON erasure_holds(until_ms) WHERE purged_ms IS NULL;
CREATE INDEX erasure_holds_by_subject ON erasure_holds(tenant, subject);
)sql",
    // 7: the audit trail's signing key and signed checkpoints; audit events by
    // tenant (GET /v1/audit, tenant exports). docs/audit.md.
    R"sql(
CREATE TABLE audit_keys (
  id           INTEGER PRIMARY KEY,
  public_key   BLOB NOT NULL,
  wrapped_seed BLOB NOT NULL,
  created_ms   INTEGER NOT NULL
);
CREATE TABLE audit_checkpoints (
  seq       INTEGER PRIMARY KEY,
  head_hash BLOB NOT NULL,
  time_ms   INTEGER NOT NULL,
  key_id    TEXT NOT NULL,
  signature BLOB NOT NULL
);
CREATE INDEX audit_by_tenant ON audit(tenant, seq);
)sql",
    // 8: retention (docs/retention.md): indexes the sweep finds due items
    // by, legal holds, anonymized aggregates (no subject id), the store-wide
    // sweep lease and each tenant's last sweep.
    R"sql(
CREATE INDEX records_by_kind ON records(tenant, kind, at_ms);
CREATE INDEX subjects_closed ON subjects(tenant, closed_ms) WHERE state = 1;
CREATE TABLE retention_holds (
  tenant        TEXT NOT NULL REFERENCES tenants(id),
  id            TEXT NOT NULL,
  subject       TEXT NOT NULL,
  record        TEXT NOT NULL,
  reason_sealed BLOB NOT NULL,
  actor         TEXT NOT NULL,
  created_ms    INTEGER NOT NULL,
  until_ms      INTEGER,
  released_ms   INTEGER,
  released_by   TEXT NOT NULL,
  PRIMARY KEY (tenant, id)
);
CREATE INDEX retention_holds_by_subject ON retention_holds(tenant, subject);
CREATE TABLE retention_aggregates (
  tenant TEXT NOT NULL REFERENCES tenants(id),
  rule   TEXT NOT NULL,
  digest BLOB NOT NULL,
  sealed BLOB NOT NULL,
  count  INTEGER NOT NULL,
  PRIMARY KEY (tenant, rule, digest)
) WITHOUT ROWID;
CREATE TABLE retention_lease (
  name       TEXT PRIMARY KEY,
  holder     TEXT NOT NULL,
  expires_ms INTEGER NOT NULL
);
CREATE TABLE retention_sweeps (
  tenant      TEXT PRIMARY KEY,
  started_ms  INTEGER NOT NULL,
  finished_ms INTEGER NOT NULL,
  due         INTEGER NOT NULL,
  purged      INTEGER NOT NULL,
  held        INTEGER NOT NULL,
  overdue     INTEGER NOT NULL
);
)sql",
    // 9: disclosures to recipients (docs/disclosures.md): one row per
    // disclosure, one per (subject, disclosure) so that a subject's export
    // finds its disclosures by index.
    R"sql(
CREATE TABLE disclosures (
  tenant          TEXT NOT NULL REFERENCES tenants(id),
  id              TEXT NOT NULL,
  recipient       TEXT NOT NULL,
  purpose         TEXT NOT NULL,
  categories      TEXT NOT NULL,
  legal_reference TEXT NOT NULL,
  actor           TEXT NOT NULL,
  role            TEXT NOT NULL,
  at_ms           INTEGER NOT NULL,
  recorded_ms     INTEGER NOT NULL,
  subjects        INTEGER NOT NULL,
  exported        INTEGER NOT NULL,
  PRIMARY KEY (tenant, id)
);
CREATE INDEX disclosures_by_time ON disclosures(tenant, at_ms);
CREATE TABLE disclosure_subjects (
  tenant     TEXT NOT NULL,
  subject    TEXT NOT NULL,
  disclosure TEXT NOT NULL,
  PRIMARY KEY (tenant, subject, disclosure)
) WITHOUT ROWID;
)sql",
    // 10: subjects the retention sweep crypto-shredded whose records' rows
    // (noise without the key) wait for compaction (docs/retention.md); and
    // the records' kind in records_by_subject, so that the sweep finds a
    // subject's records of a kind, and their kinds, from the index alone.
    R"sql(
DROP INDEX records_by_subject;
CREATE INDEX records_by_subject ON records(tenant, subject, at_ms, kind);
CREATE TABLE shredded (
  tenant      TEXT NOT NULL,
  subject     TEXT NOT NULL,
  shredded_ms INTEGER NOT NULL,
  PRIMARY KEY (tenant, subject)
) WITHOUT ROWID;
)sql",
    // 11: each index entry knows its subject's rowid, so that a lookup reads
    // the subject with one B-tree descent (the table's) rather than two (the
    // (tenant, id) index's, then the table's). A hint only: the subject is
    // checked by tenant and id, and found by them if the rowid is stale
    // (VACUUM may renumber rowids).
    R"sql(
ALTER TABLE subject_index ADD COLUMN subject_rowid INTEGER;
UPDATE subject_index SET subject_rowid =
  (SELECT rowid FROM subjects s WHERE s.tenant = subject_index.tenant AND s.id = subject_index.subject);
)sql",
    // 12: a request rate limit of the key's own (NULL: the server's).
    R"sql(
ALTER TABLE api_keys ADD COLUMN rate_per_second REAL;
ALTER TABLE api_keys ADD COLUMN rate_burst REAL;
)sql",
    // 13: privacy-portal sign-ins: a code sent to a contact on file, then the
    // person's session (docs/portal.md). Digests only; no contact in clear.
    R"sql(
CREATE TABLE portal_sessions (
  id             TEXT PRIMARY KEY,
  tenant         TEXT NOT NULL,
  subject        TEXT NOT NULL,
  channel        TEXT NOT NULL,
  contact_digest BLOB NOT NULL,
  code_digest    BLOB,
  attempts       INTEGER NOT NULL,
  token_digest   BLOB,
  csrf_digest    BLOB,
  created_ms     INTEGER NOT NULL,
  expires_ms     INTEGER NOT NULL,
  revoked_ms     INTEGER
);
CREATE INDEX portal_sessions_by_contact ON portal_sessions(tenant, contact_digest, created_ms);
CREATE INDEX portal_sessions_by_subject ON portal_sessions(tenant, subject);
CREATE INDEX portal_sessions_by_time ON portal_sessions(created_ms);
)sql",
};
constexpr int kMigrationCount = sizeof(kMigrations) / sizeof(kMigrations[0]);
static_assert(kMigrationCount == kSchemaVersion);

class SqliteStore;

// One SQLite connection and its cached prepared statements. Not thread-safe:
// the writer is used under SqliteStore::mu_, a reader only by the transaction
// that took it from the pool. `stmts` is declared after `db`, so statements
// are finalized before the connection closes.
struct Conn {
  explicit Conn(Db d) : db(std::move(d)) {}
  Db db;
  struct Cached {
    std::unique_ptr<Stmt> stmt;
    bool changes_subjects = false;  // see WatchSubjectChanges
  };
  std::unordered_map<const char*, Cached> stmts;
  // The writer's only (WatchSubjectChanges): a statement that may change what
  // a subject read sees was prepared or taken from the cache since the
  // physical transaction began (SqliteStore::EndedLocked clears it), and
  // whether the statement being compiled is one.
  bool subjects_changed = false;
  bool compiling_subject_change = false;

  // Cached prepared statement for `sql`; reset after each use by the caller.
  Stmt& Prepare(const char* sql) {
    auto it = stmts.find(sql);
    if (it == stmts.end()) {
      compiling_subject_change = false;
      auto stmt = std::make_unique<Stmt>(db, sql);
      it = stmts.emplace(sql, Cached{std::move(stmt), compiling_subject_change}).first;
    }
    if (it->second.changes_subjects) subjects_changed = true;
    it->second.stmt->Reset();
    return *it->second.stmt;
  }
  // Runs one of the transaction-control statements (BEGIN, COMMIT, SAVEPOINT
  // ...), prepared once per connection: every request runs several.
  Status Control(const char* sql) { return Prepare(sql).Run(); }
  // Finishes every cached statement so COMMIT/ROLLBACK see no open cursor.
  void ResetAll() {
    for (auto& [sql, cached] : stmts) cached.stmt->Reset();
  }
};

// Tables that no subject read depends on. A subject read (a lookup, a show)
// reads the subject's row, its blind-index entries, its consents and the
// tenant; what it returns cannot change by appending audit events, adding
// records (a call is one) or touching credentials. Any table not named here,
// a table added later included, counts as one that can.
bool IndependentOfSubjectReads(std::string_view table) {
  static constexpr std::string_view kTables[] = {
      "audit",          "audit_checkpoints", "records",  "record_events",
      "webhook_events", "api_keys",          "sessions", "sqlite_sequence"};
  return std::find(std::begin(kTables), std::end(kTables), table) != std::end(kTables);
}

// The writer's authorizer (sqlite3_set_authorizer): SQLite calls it while it
// compiles a statement, for every table the statement reads or writes
// (triggers' and foreign-key actions' included), so which statements can
// change subject reads is SQLite's parser's answer, not a list kept by hand
// beside the SQL. A write to a table not independent of subject reads, or any
// change of the schema, marks the statement; a statement run through Db::Exec
// marks the connection at once. It authorizes everything.
int WatchSubjectChanges(void* conn, int action, const char* table, const char*, const char*,
                        const char*) {
  auto* c = static_cast<Conn*>(conn);
  switch (action) {
    case SQLITE_INSERT:
    case SQLITE_UPDATE:
    case SQLITE_DELETE:
      if (table != nullptr && IndependentOfSubjectReads(table)) return SQLITE_OK;
      break;
    case SQLITE_READ:
    case SQLITE_SELECT:
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
    case SQLITE_PRAGMA:
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    default:  // CREATE, DROP, ALTER, ATTACH, ...
      break;
  }
  c->compiling_subject_change = true;
  c->subjects_changed = true;
  return SQLITE_OK;
}

// Steps `st` through its rows, calling `fn` at each (it reads the row from
// `st`); an error of SQLite's ends it.
template <typename Fn>
Status ForEachRow(Stmt& st, Fn&& fn) {
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::Ok();
    fn();
  }
}

// A write transaction runs on the store's one writer connection and holds
// `lock` (SqliteStore::mu_); a read transaction owns a reader connection
// (`reader`, non-null) from the pool until it ends.
class SqliteTransaction final : public Transaction {
 public:
  SqliteTransaction(SqliteStore& store, Conn& conn, std::unique_lock<std::mutex> lock,
                    std::unique_ptr<Conn> reader)
      : store_(store), conn_(conn), lock_(std::move(lock)), reader_(std::move(reader)) {}
  ~SqliteTransaction() override;

  Result<std::optional<TenantRow>> GetTenant(std::string_view tenant) override;
  Status InsertTenant(const TenantRow& row) override;
  Result<std::vector<std::string>> ListTenants() override;
  Result<std::optional<SubjectRow>> GetSubject(std::string_view tenant,
                                               std::string_view subject) override;
  Result<std::optional<SubjectRow>> FindSubjectByExternalId(std::string_view tenant,
                                                            std::string_view digest) override;
  Result<std::vector<SubjectRow>> FindSubjectRowsByIndex(std::string_view tenant,
                                                         std::string_view category,
                                                         std::string_view digest) override;
  Result<std::vector<std::string>> FindSubjectsByIndex(std::string_view tenant,
                                                       std::string_view category,
                                                       std::string_view digest) override;
  Status PutSubject(const SubjectRow& row) override;
  Status ReplaceIndex(std::string_view tenant, std::string_view subject,
                      const std::vector<IndexEntry>& entries) override;
  Status EraseSubject(std::string_view tenant, std::string_view subject,
                      int64_t erased_ms) override;
  Result<int64_t> CountSubjects(std::string_view tenant) override;
  Status InsertRecord(const RecordRow& row) override;
  Result<bool> InsertRecordIfAbsent(const RecordRow& row) override;
  Result<std::optional<ConsentRow>> GetConsent(std::string_view tenant, std::string_view subject,
                                               std::string_view purpose) override;
  Result<std::vector<ConsentRow>> ListConsents(std::string_view tenant,
                                               std::string_view subject) override;
  Status PutConsent(const ConsentRow& row) override;
  Result<int64_t> AppendConsentEvent(const ConsentEventRow& row) override;
  Result<std::vector<ConsentEventRow>> ListConsentEvents(std::string_view tenant,
                                                         std::string_view subject) override;
  Result<std::optional<ChannelRow>> GetChannel(std::string_view tenant,
                                               std::string_view name) override;
  Status PutChannel(const ChannelRow& row) override;
  Result<bool> InsertWebhookEvent(std::string_view tenant, std::string_view provider,
                                  std::string_view event_id, int64_t received_ms) override;
  Result<bool> InsertMessage(const MessageRow& row) override;
  Result<std::optional<MessageRow>> GetMessage(std::string_view tenant,
                                               std::string_view id) override;
  Result<std::optional<MessageRow>> FindMessageByKey(std::string_view tenant,
                                                     std::string_view key) override;
  Result<std::vector<MessageRow>> DueMessages(int64_t now_ms, int limit) override;
  Status UpdateMessage(const MessageRow& row) override;
  Result<std::vector<MessageRow>> ListMessages(std::string_view tenant, int limit) override;
  Status InsertRequest(const RequestRow& row) override;
  Result<std::optional<RequestRow>> GetRequest(std::string_view tenant,
                                               std::string_view id) override;
  Status UpdateRequest(const RequestRow& row) override;
  Result<std::vector<RequestRow>> ListRequests(std::string_view tenant, bool open_only,
                                               std::string_view subject) override;
  Status InsertExport(const ExportRow& row) override;
  Result<std::optional<ExportRow>> GetExport(std::string_view tenant,
                                             std::string_view id) override;
  Status MarkExportDownloaded(std::string_view tenant, std::string_view id,
                              int64_t at_ms) override;
  Result<int64_t> DropExpiredExports(int64_t now_ms) override;
  Status InsertErasureHold(const ErasureHoldRow& row) override;
  Status InsertDisclosure(const DisclosureRow& row,
                          const std::vector<std::string>& subjects) override;
  Result<std::vector<DisclosureRow>> ListSubjectDisclosures(std::string_view tenant,
                                                            std::string_view subject) override;
  Result<std::vector<DisclosureRow>> ListDisclosures(std::string_view tenant,
                                                     std::optional<int64_t> from_ms,
                                                     std::optional<int64_t> to_ms) override;
  Status ScanSubjects(std::string_view tenant,
                      const std::function<bool(const SubjectRow&)>& fn) override;
  Result<std::vector<RecordKindCount>> CountRecords(std::string_view tenant,
                                                    std::optional<int64_t> from_ms,
                                                    std::optional<int64_t> to_ms) override;
  Result<std::vector<ErasureHoldRow>> ListErasureHolds(std::string_view tenant,
                                                       std::string_view subject) override;
  Result<int64_t> DeleteSubjectRecords(std::string_view tenant, std::string_view subject,
                                       const std::vector<std::string>& kinds) override;
  Status DeletePersonalExtras(std::string_view tenant, std::string_view subject) override;
  // EraseSubject and ShredSubject: everything but the records' rows.
  Status DropSubjectKey(std::string_view tenant, std::string_view subject, int64_t erased_ms);
  Result<int64_t> MarkErasureHoldsPurged(std::string_view tenant, std::string_view subject,
                                         bool all, int64_t now_ms) override;
  Result<int64_t> InsertCookieChoice(const CookieChoiceRow& row) override;
  Result<std::vector<CookieChoiceRow>> ListCookieChoices(std::string_view tenant,
                                                         std::string_view visitor) override;
  Result<std::optional<ImportRow>> GetImport(std::string_view tenant, std::string_view kind,
                                             std::string_view digest) override;
  Status PutImport(const ImportRow& row) override;
  Result<std::optional<RecordRow>> GetRecord(std::string_view tenant,
                                             std::string_view record) override;
  Result<std::vector<RecordRow>> ListRecords(std::string_view tenant, std::string_view subject,
                                             std::string_view kind) override;
  Status PutRecordEvent(std::string_view tenant, std::string_view record,
                        const RecordEventRow& event) override;
  Result<std::vector<RecordEventRow>> RecordEvents(std::string_view tenant,
                                                   std::string_view record) override;
  Status InsertApiKey(const ApiKeyRow& row) override;
  Result<std::optional<ApiKeyRow>> FindApiKey(std::string_view key_id) override;
  Result<std::vector<ApiKeyRow>> ListApiKeys(std::string_view tenant) override;
  Status RevokeApiKey(std::string_view tenant, std::string_view key_id,
                      int64_t revoked_ms) override;
  Status TouchApiKey(std::string_view tenant, std::string_view key_id, int64_t used_ms) override;
  Status InsertOperator(const OperatorRow& row) override;
  Result<std::optional<OperatorRow>> GetOperator(std::string_view tenant,
                                                 std::string_view operator_id) override;
  Result<std::optional<OperatorRow>> FindOperatorByEmail(std::string_view tenant,
                                                         std::string_view email_digest) override;
  Status SetOperatorTotpStep(std::string_view tenant, std::string_view operator_id,
                             int64_t step) override;
  Status InsertSession(const SessionRow& row) override;
  Result<std::optional<SessionRow>> FindSession(std::string_view session_id) override;
  Status RevokeSession(std::string_view tenant, std::string_view session_id,
                       int64_t revoked_ms) override;
  Status PurgeSessions(std::string_view tenant, int64_t before_ms) override;
  Status InsertPortalSession(const PortalSessionRow& row) override;
  Result<std::optional<PortalSessionRow>> FindPortalSession(std::string_view id) override;
  Status UpdatePortalSession(const PortalSessionRow& row) override;
  Result<int64_t> CountPortalStarts(std::string_view tenant, std::string_view contact_digest,
                                    int64_t since_ms) override;
  Status PurgePortalSessions(int64_t before_ms) override;
  Result<std::vector<int64_t>> DueRecordKeys(std::string_view tenant, std::string_view kind,
                                             RecordAnchor anchor, std::string_view event,
                                             int64_t before_ms) override;
  Result<std::vector<PurgedRecord>> DeleteRecordsByKey(std::string_view tenant,
                                                       const std::vector<int64_t>& keys,
                                                       int64_t now_ms) override;
  Result<std::vector<std::string>> RetentionSubjects(
      std::string_view tenant, int64_t closed_before_ms,
      std::optional<int64_t> updated_before_ms) override;
  Result<bool> HasRecords(std::string_view tenant, std::string_view subject) override;
  Result<std::vector<RecordKey>> SubjectRecordKeys(std::string_view tenant,
                                                   std::string_view subject) override;
  Status ShredSubject(std::string_view tenant, std::string_view subject,
                      int64_t erased_ms) override;
  Result<std::vector<int64_t>> ShreddedRecordKeys(std::string_view tenant) override;
  Result<std::map<std::string, int64_t>> ShreddedRecordsByKind(std::string_view tenant) override;
  Result<Compacted> CompactShredded(std::string_view tenant, int limit) override;
  Status DeleteIndexEntries(std::string_view tenant, std::string_view subject,
                            const std::vector<std::string>& categories) override;
  Status ScanSubjects(std::string_view tenant, bool closed_only,
                      const std::function<bool(const SubjectRow&)>& fn) override;
  Result<std::vector<DayCount>> RecordAnchorDays(std::string_view tenant, std::string_view kind,
                                                 RecordAnchor anchor, std::string_view event,
                                                 int offset_minutes) override;
  Result<int64_t> CountRecords(std::string_view tenant, std::string_view kind) override;
  Status InsertHold(const HoldRow& row) override;
  Result<std::optional<HoldRow>> GetHold(std::string_view tenant, std::string_view id) override;
  Status ReleaseHold(std::string_view tenant, std::string_view id, int64_t released_ms,
                     std::string_view released_by) override;
  Result<std::vector<HoldRow>> ListHolds(std::string_view tenant, std::string_view subject,
                                         std::optional<int64_t> standing_at) override;
  Status AddToAggregate(const AggregateRow& row) override;
  Result<std::vector<AggregateRow>> ListAggregates(std::string_view tenant) override;
  Result<bool> TakeLease(std::string_view name, std::string_view holder, int64_t now_ms,
                         int64_t expires_ms) override;
  Result<std::optional<std::pair<std::string, int64_t>>> GetLease(std::string_view name) override;
  Status ReleaseLease(std::string_view name, std::string_view holder) override;
  Status PutSweep(const SweepRow& row) override;
  Result<std::vector<SweepRow>> ListSweeps() override;
  Result<int64_t> AppendAudit(const audit::Event& event) override;
  Result<std::vector<AuditRow>> ListAudit(const AuditFilter& filter) override;
  Result<std::optional<std::pair<int64_t, std::string>>> AuditHead() override;
  Result<std::optional<std::string>> AuditHash(int64_t seq) override;
  Result<std::optional<std::pair<int64_t, int64_t>>> AuditSeqRange(
      std::string_view tenant, std::optional<int64_t> from_ms,
      std::optional<int64_t> to_ms) override;
  Result<std::optional<AuditKeyRow>> GetAuditKey() override;
  Status InsertAuditKey(const AuditKeyRow& row) override;
  Status InsertAuditCheckpoint(const audit::Checkpoint& cp) override;
  Result<std::vector<audit::Checkpoint>> ListAuditCheckpoints(int64_t after_seq, int64_t to_seq,
                                                              int limit) override;
  Result<std::optional<audit::Checkpoint>> GetAuditCheckpoint(int64_t seq) override;
  Result<std::optional<audit::Checkpoint>> LastAuditCheckpoint() override;
  bool SubjectsUnchangedSince(uint64_t token) override;
  Status Commit() override;
  void CommitThen(std::function<void(Status)> done) override;

 private:
  Result<std::optional<SubjectRow>> ReadSubject(Stmt& stmt);
  // Ends a read transaction and gives its connection back to the pool.
  Status FinishRead(const char* sql);
  SqliteStore& store_;
  Conn& conn_;
  std::unique_lock<std::mutex> lock_;
  std::unique_ptr<Conn> reader_;
  bool done_ = false;
  std::optional<std::string> last_hash_;  // audit head, read once per transaction
  int64_t last_seq_ = 0;
  int64_t appended_ = 0;  // audit events appended in this transaction
};

// Group commit (SqliteOptions::group_commit): logical transactions are
// savepoints inside one physical transaction, which the first committer to
// find no commit in progress (the leader) commits for everyone released into
// it so far. Commit() returns only once its physical transaction is durable
// (or with the error that ended it), so fail-closed holds as without it. The
// leader first lets the write transactions that began before it release into
// the batch (they are waiting for the connection or running), so that work
// done while the previous commit was being synced shares the next fsync.
//
// Read transactions (Begin(false)) run on their own connections from a small
// pool (SqliteOptions::read_connections), read-only: WAL lets them read the
// last committed state while the writer runs or syncs a commit, so reads never
// wait for the writer. They see only committed work: a group-committed
// transaction's writes become visible when its physical transaction commits,
// which is also when its Commit() returns.
class SqliteStore final : public Store {
 public:
  SqliteStore(Db db, const std::string& path, const SqliteOptions& options)
      : writer_(std::move(db)),
        path_(path),
        group_(options.group_commit),
        max_readers_(std::max(0, options.read_connections)),
        reader_cache_kib_(std::max<int64_t>(2048, options.cache_kib / 4)) {
    sqlite3_set_authorizer(writer_.db.raw(), WatchSubjectChanges, &writer_);
    data_version_ = DataVersionLocked();
  }

  uint64_t SubjectReadToken() const override {
    return subject_changes_.load(std::memory_order_acquire);
  }
  // With mu_ held, in a write transaction: SubjectsUnchangedSince.
  bool SubjectsUnchangedLocked(uint64_t token) {
    return !writer_.subjects_changed &&
           subject_changes_.load(std::memory_order_acquire) == token;
  }
  // With mu_ held, right after a physical write transaction began: if another
  // connection (another process, or another Store on the file) committed
  // since the last one, subject reads may have changed.
  void BegunLocked() {
    const int64_t version = DataVersionLocked();
    if (version != data_version_ || version < 0) {
      data_version_ = version;
      subject_changes_.fetch_add(1, std::memory_order_acq_rel);
    }
  }
  // With mu_ held, right after a physical transaction committed or rolled
  // back: if it wrote what subject reads depend on, they may have changed.
  // (After the commit, so that a token taken after the count moved is taken
  // after the commit too, and a read that follows sees it.)
  void EndedLocked() {
    if (!writer_.subjects_changed) return;
    writer_.subjects_changed = false;
    subject_changes_.fetch_add(1, std::memory_order_acq_rel);
  }

  Result<std::unique_ptr<Transaction>> Begin(bool write) override {
    if (!write && max_readers_ > 0) return BeginRead();
    if (group_) begun_.fetch_add(1);
    std::unique_lock<std::mutex> lock(mu_);
    if (!group_) {
      RETURN_IF_ERROR(writer_.Control(write ? "BEGIN IMMEDIATE" : "BEGIN"));
      if (write) BegunLocked();
      return std::unique_ptr<Transaction>(
          new SqliteTransaction(*this, writer_, std::move(lock), nullptr));
    }
    Status st = Status::Ok();
    if (!open_) {
      st = writer_.Control("BEGIN IMMEDIATE");
      if (st.ok()) BegunLocked();
    }
    if (st.ok()) {
      open_ = true;
      st = writer_.Control("SAVEPOINT logical");
    }
    if (!st.ok()) {
      Finished();
      return st;
    }
    return std::unique_ptr<Transaction>(
        new SqliteTransaction(*this, writer_, std::move(lock), nullptr));
  }

  bool group() const { return group_; }

  // With mu_ held: undoes a logical transaction. If the database rolled the
  // whole physical transaction back (an I/O error, a full disk), everything
  // released into it is lost: its epoch fails.
  void RollbackLogical() {
    writer_.ResetAll();
    (void)writer_.Control("ROLLBACK TO logical");
    (void)writer_.Control("RELEASE logical");
    Finished();
    if (AbandonIfGone()) return;
    if (open_ && released_ == 0) {
      // Nothing waits on this physical transaction: end it now, so that its
      // write lock does not outlive the work (other processes share the file).
      (void)writer_.Control("ROLLBACK");
      open_ = false;
      EndedLocked();
    }
  }
  // With mu_ held: keeps a logical transaction's work in the physical one.
  // Returns the epoch whose commit makes it durable.
  Result<int64_t> ReleaseLogical() {
    writer_.ResetAll();
    Status st = writer_.Control("RELEASE logical");
    if (!st.ok()) {
      RollbackLogical();
      return st;
    }
    Finished();
    if (AbandonIfGone()) {
      return Status::Unavailable("the database rolled the transaction back; retry");
    }
    ++released_;
    return epoch_;
  }
  // Without mu_: waits until `epoch` is committed (committing it as the
  // leader if no one is), and returns how that commit went.
  Status WaitCommitted(int64_t epoch) {
    while (true) {
      // The generation first: a publication after this line changes it, so
      // the wait below cannot miss it.
      const uint64_t generation = generation_.load(std::memory_order_acquire);
      if (published_.load(std::memory_order_acquire) >= epoch) break;
      std::unique_lock<std::mutex> g(group_mu_);
      if (committed_ >= epoch) break;
      if (leader_) {
        // Sleep until the next publication. Woken threads go on without
        // taking group_mu_ again (a condition variable would hand it from one
        // waker to the next, one context switch each).
        g.unlock();
        generation_.wait(generation, std::memory_order_acquire);
        continue;
      }
      leader_ = true;
      // Gather: the write transactions begun before now join this commit.
      // Bounded, so that a long transaction delays the batch by at most
      // kGather before the leader queues for the connection like everyone.
      const int64_t target = begun_.load();
      gathering_.store(true);
      gather_cv_.wait_for(g, kGather, [&] { return finished_.load() >= target; });
      gathering_.store(false);
      g.unlock();
      int64_t closing = 0;
      Status st;
      {
        std::unique_lock<std::mutex> lock(mu_);
        st = CommitOpenLocked(&closing);
      }
      g.lock();
      leader_ = false;
      PublishLocked(closing, st);
    }
    return EpochStatus(epoch);
  }

  // A read transaction ended: its connection goes back to the pool (or is
  // closed if SQLite left it inside a transaction).
  void ReturnReader(std::unique_ptr<Conn> conn) {
    conn->ResetAll();
    const bool idle = sqlite3_get_autocommit(conn->db.raw()) != 0;
    std::lock_guard<std::mutex> g(pool_mu_);
    if (idle) {
      idle_readers_.push_back(std::move(conn));
    } else {
      --open_readers_;
      conn.reset();
    }
    pool_cv_.notify_one();
  }

  Result<audit::VerifyReport> VerifyAudit() override {
    std::unique_lock<std::mutex> lock(mu_);
    RETURN_IF_ERROR(FlushLocked());
    RETURN_IF_ERROR(writer_.db.Exec("BEGIN"));
    audit::ChainVerifier verifier;
    Stmt& st = writer_.Prepare("SELECT seq, event, hash FROM audit ORDER BY seq");
    Status status;
    while (true) {
      auto step = st.Step();
      if (!step.ok()) {
        status = step.status();
        break;
      }
      if (!*step) break;
      audit::StoredEvent ev{st.ColumnInt64(0), st.ColumnText(1), st.ColumnBlob(2)};
      if (!verifier.Add(ev)) break;
    }
    st.Reset();
    (void)writer_.Control("COMMIT");
    if (!status.ok()) return status;
    return verifier.Finish();
  }

  Status ScanAudit(int64_t after_seq,
                   const std::function<bool(const audit::StoredEvent&)>& fn) override {
    std::unique_lock<std::mutex> lock(mu_);
    RETURN_IF_ERROR(FlushLocked());
    RETURN_IF_ERROR(writer_.db.Exec("BEGIN"));
    Stmt& st = writer_.Prepare("SELECT seq, event, hash FROM audit WHERE seq > ? ORDER BY seq");
    st.BindInt64(1, after_seq);
    Status status;
    audit::StoredEvent ev;
    while (true) {
      auto step = st.Step();
      if (!step.ok()) {
        status = step.status();
        break;
      }
      if (!*step) break;
      ev.seq = st.ColumnInt64(0);
      ev.canonical = st.ColumnText(1);
      ev.hash = st.ColumnBlob(2);
      if (!fn(ev)) break;
    }
    st.Reset();
    (void)writer_.Control("COMMIT");
    return status;
  }

  Status Checkpoint() override {
    std::unique_lock<std::mutex> lock(mu_);
    RETURN_IF_ERROR(FlushLocked());
    return writer_.db.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }

  // SQLite's online backup, from a connection of its own: one read
  // transaction over the whole copy, so the copy is one snapshot, and
  // writers carry on meanwhile (WAL).
  Status CopyTo(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      const int err = errno;
      if (err == EEXIST) return Status::AlreadyExists(path + " already exists");
      return Status::FailedPrecondition("cannot create " + path + ": " + std::strerror(err));
    }
    ::close(fd);
    ASSIGN_OR_RETURN(Db source, Db::Open(path_, /*create=*/false));
    ASSIGN_OR_RETURN(Db copy, Db::Open(path, /*create=*/true));
    RETURN_IF_ERROR(source.Exec("PRAGMA busy_timeout = 5000"));
    sqlite3_backup* backup = sqlite3_backup_init(copy.raw(), "main", source.raw(), "main");
    if (backup == nullptr) {
      return Status::Internal(std::string("cannot start the copy: ") + sqlite3_errmsg(copy.raw()));
    }
    int rc = sqlite3_backup_step(backup, -1);
    const int finished = sqlite3_backup_finish(backup);
    if (rc == SQLITE_DONE) rc = finished;
    if (rc != SQLITE_OK && rc != SQLITE_DONE) {
      return Status::Internal(std::string("copying the store failed: ") + sqlite3_errstr(rc));
    }
    // The copy is a plain file that nothing else opens: no WAL of its own.
    return copy.Exec("PRAGMA journal_mode = DELETE");
  }

  Status CheckIntegrity() override {
    std::unique_lock<std::mutex> lock(mu_);
    RETURN_IF_ERROR(FlushLocked());
    Stmt st(writer_.db, "PRAGMA integrity_check(8)");
    std::string problems;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      const std::string line = st.ColumnText(0);
      if (line != "ok") problems += (problems.empty() ? "" : "; ") + line;
    }
    if (problems.empty()) return Status::Ok();
    return Status::DataLoss("the database is damaged: " + problems);
  }

  void CountAuditEvents(int64_t n) { audit_committed_.fetch_add(n, std::memory_order_relaxed); }
  int64_t AuditEventsCommitted() const override {
    return audit_committed_.load(std::memory_order_relaxed);
  }

  ~SqliteStore() override {
    {
      std::lock_guard<std::mutex> g(callbacks_mu_);
      stop_committer_ = true;
    }
    callbacks_cv_.notify_all();
    if (committer_.joinable()) committer_.join();  // after the callbacks left
  }

  // CommitThen under group commit: `done` runs on the committer thread (one,
  // started with the first) once `epoch` is committed or has failed.
  void CallWhenCommitted(int64_t epoch, int64_t appended, std::function<void(Status)> done) {
    std::lock_guard<std::mutex> g(callbacks_mu_);
    if (!committer_.joinable()) committer_ = std::thread([this] { RunCommitter(); });
    callbacks_.push_back({epoch, appended, std::move(done)});
    ++callbacks_pending_;
    callbacks_cv_.notify_all();
  }

  void SubmitWrite(WriteJob job, std::function<void(Status)> done) override {
    if (!group_) return Store::SubmitWrite(std::move(job), std::move(done));
    std::lock_guard<std::mutex> g(callbacks_mu_);
    if (!committer_.joinable()) committer_ = std::thread([this] { RunCommitter(); });
    jobs_.push_back({std::move(job), std::move(done)});
    ++callbacks_pending_;
    callbacks_cv_.notify_all();
  }

  void WaitForCommitCallbacks() override {
    std::unique_lock<std::mutex> g(callbacks_mu_);
    callbacks_cv_.wait(g, [&] { return callbacks_pending_ == 0; });
  }

 private:
  struct CommitCallback {
    int64_t epoch = 0;
    int64_t appended = 0;  // audit events, counted once committed
    std::function<void(Status)> done;
  };

  // The committer: takes the callbacks registered so far, sees their last
  // epoch committed (leading that commit if no one else is, as a waiting
  // Commit() would), then runs them. Callbacks registered meanwhile join the
  // next round, and usually the next epoch.
  void RunCommitter() {
    std::unique_lock<std::mutex> g(callbacks_mu_);
    while (true) {
      callbacks_cv_.wait(
          g, [&] { return stop_committer_ || !callbacks_.empty() || !jobs_.empty(); });
      if (callbacks_.empty() && jobs_.empty()) return;  // stopping, and nothing is left
      if (!jobs_.empty()) {
        std::vector<WriteJobEntry> jobs;
        jobs.swap(jobs_);
        g.unlock();
        RunJobs(jobs);  // each commits with CommitThen: its callback joins callbacks_
        g.lock();
        callbacks_pending_ -= jobs.size();
      }
      if (callbacks_.empty()) {  // every job failed: nothing to commit
        callbacks_cv_.notify_all();
        continue;
      }
      std::vector<CommitCallback> batch;
      batch.swap(callbacks_);
      g.unlock();
      int64_t last = 0;
      for (const CommitCallback& c : batch) last = std::max(last, c.epoch);
      (void)WaitCommitted(last);
      for (CommitCallback& c : batch) {
        Status st = EpochStatus(c.epoch);
        if (st.ok()) CountAuditEvents(c.appended);
        try {
          c.done(std::move(st));
        } catch (...) {
          // A callback that throws loses its own answer, not the committer.
        }
      }
      const std::size_t ran = batch.size();
      batch.clear();  // what the callbacks held goes before the lock is taken
      g.lock();
      callbacks_pending_ -= ran;
      callbacks_cv_.notify_all();
    }
  }

  struct WriteJobEntry {
    WriteJob job;
    std::function<void(Status)> done;
  };

  // SubmitWrite's jobs, one logical transaction each, released into the open
  // physical transaction (committed by the callbacks' round that follows).
  void RunJobs(std::vector<WriteJobEntry>& jobs) {
    for (WriteJobEntry& j : jobs) {
      Status st;
      {
        auto tx = Begin(true);
        if (tx.ok()) {
          try {
            st = j.job(**tx);
          } catch (...) {
            st = Status::Internal("a write job threw");
          }
          if (st.ok()) {
            (*tx)->CommitThen(std::move(j.done));
            continue;
          }
        } else {
          st = tx.status();
        }
      }  // a failed job's transaction rolls back here, before its callback
      try {
        j.done(std::move(st));
      } catch (...) {
      }
    }
  }

  // How the commit of `epoch` (committed by now) went.
  Status EpochStatus(int64_t epoch) {
    if (failures_.load(std::memory_order_acquire) == 0) return Status::Ok();
    std::lock_guard<std::mutex> g(group_mu_);
    auto it = failed_.find(epoch);
    return it == failed_.end() ? Status::Ok() : it->second;
  }
  static constexpr std::chrono::milliseconds kGather{5};

  Result<std::unique_ptr<Transaction>> BeginRead() {
    ASSIGN_OR_RETURN(std::unique_ptr<Conn> conn, TakeReader());
    if (Status st = conn->Control("BEGIN"); !st.ok()) {
      ReturnReader(std::move(conn));
      return st;
    }
    Conn& c = *conn;
    return std::unique_ptr<Transaction>(new SqliteTransaction(*this, c, {}, std::move(conn)));
  }
  // An idle reader connection, opened when none is idle and fewer than
  // max_readers_ are open; otherwise waits for one.
  Result<std::unique_ptr<Conn>> TakeReader() {
    std::unique_lock<std::mutex> g(pool_mu_);
    pool_cv_.wait(g, [&] { return !idle_readers_.empty() || open_readers_ < max_readers_; });
    if (!idle_readers_.empty()) {
      std::unique_ptr<Conn> c = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return c;
    }
    ++open_readers_;
    g.unlock();
    auto conn = OpenReader();
    if (!conn.ok()) {
      g.lock();
      --open_readers_;
      pool_cv_.notify_one();
    }
    return conn;
  }
  Result<std::unique_ptr<Conn>> OpenReader() {
    ASSIGN_OR_RETURN(Db db, Db::Open(path_, /*create=*/false));
    RETURN_IF_ERROR(db.Exec("PRAGMA busy_timeout = 5000"));
    // A reader never writes: a write through it is a bug, refused here.
    RETURN_IF_ERROR(db.Exec("PRAGMA query_only = ON"));
    RETURN_IF_ERROR(db.Exec(("PRAGMA cache_size = -" + std::to_string(reader_cache_kib_)).c_str()));
    return std::make_unique<Conn>(std::move(db));
  }

  // A write transaction released or rolled back (group commit's gathering).
  void Finished() {
    finished_.fetch_add(1);
    if (gathering_.load()) {
      std::lock_guard<std::mutex> g(group_mu_);
      gather_cv_.notify_one();
    }
  }
  // With mu_ held: closes the open epoch, committing its physical transaction.
  Status CommitOpenLocked(int64_t* closing) {
    *closing = epoch_++;
    if (!open_) return Status::Ok();
    open_ = false;
    released_ = 0;
    writer_.ResetAll();
    Status st = writer_.Control("COMMIT");
    if (!st.ok()) (void)writer_.Control("ROLLBACK");
    EndedLocked();
    return st;
  }
  // With group_mu_ held.
  void PublishLocked(int64_t closing, const Status& st) {
    if (!st.ok()) {
      failed_[closing] = st;
      failures_.fetch_add(1, std::memory_order_release);
    }
    committed_ = std::max(committed_, closing);
    published_.store(committed_, std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_release);  // even if committed_ did not move
    generation_.notify_all();
  }
  // With mu_ held: commits what is open now (before a verification or a
  // checkpoint, which need no transaction of their own open).
  Status FlushLocked() {
    if (!group_ || !open_) return Status::Ok();
    int64_t closing = 0;
    Status st = CommitOpenLocked(&closing);
    std::lock_guard<std::mutex> g(group_mu_);
    PublishLocked(closing, st);
    return st;
  }
  // With mu_ held: true (and the epoch failed) if SQLite ended the physical
  // transaction on its own.
  bool AbandonIfGone() {
    if (!open_ || sqlite3_get_autocommit(writer_.db.raw()) == 0) return false;
    open_ = false;
    released_ = 0;
    EndedLocked();
    int64_t closing = epoch_++;
    std::lock_guard<std::mutex> g(group_mu_);
    PublishLocked(closing,
                  Status::Unavailable("the database rolled the transaction back; retry"));
    return true;
  }

  // With mu_ held: the writer's PRAGMA data_version, or -1 if it cannot be read.
  int64_t DataVersionLocked() {
    Stmt& st = writer_.Prepare("PRAGMA data_version");
    auto row = st.Step();
    const int64_t version = row.ok() && *row ? st.ColumnInt64(0) : -1;
    st.Reset();
    return version;
  }

  std::mutex mu_;  // the writer connection: one logical transaction at a time
  Conn writer_;
  // Subject reads (SubjectReadToken): physical transactions that wrote what
  // they depend on, plus other connections' commits seen; data_version_ is
  // the writer's PRAGMA data_version when last looked at, under mu_.
  std::atomic<uint64_t> subject_changes_{1};
  int64_t data_version_ = -1;
  const std::string path_;
  std::atomic<int64_t> audit_committed_{0};
  // Group commit. open_ and epoch_ are guarded by mu_; the rest by group_mu_.
  const bool group_;
  bool open_ = false;     // a physical transaction is open
  int64_t released_ = 0;  // logical commits in it, waiting for its commit
  int64_t epoch_ = 0;     // the physical transaction logical commits join now
  std::mutex group_mu_;
  int64_t committed_ = -1;  // every epoch up to this one is committed (or failed)
  std::atomic<int64_t> published_{-1};  // committed_, read without group_mu_
  std::atomic<int64_t> failures_{0};    // entries in failed_
  std::atomic<uint64_t> generation_{0};  // publications so far: what waiters sleep on
  bool leader_ = false;
  std::map<int64_t, Status> failed_;
  // Gathering: write transactions begun / ended (released or rolled back).
  std::atomic<int64_t> begun_{0};
  std::atomic<int64_t> finished_{0};
  std::atomic<bool> gathering_{false};
  std::condition_variable gather_cv_;  // with group_mu_
  // The reader pool, guarded by pool_mu_.
  const int max_readers_;
  const int64_t reader_cache_kib_;
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<Conn>> idle_readers_;
  int open_readers_ = 0;
  // CommitThen's callbacks and the committer thread, guarded by callbacks_mu_.
  std::mutex callbacks_mu_;
  std::condition_variable callbacks_cv_;
  std::vector<CommitCallback> callbacks_;
  std::vector<WriteJobEntry> jobs_;
  std::size_t callbacks_pending_ = 0;  // registered and not run yet
  bool stop_committer_ = false;
  std::thread committer_;  // last: joined by the destructor before the rest goes
};

SqliteTransaction::~SqliteTransaction() {
  if (done_) return;
  if (reader_) {
    (void)FinishRead("ROLLBACK");
    return;
  }
  if (store_.group()) {
    store_.RollbackLogical();
    return;
  }
  conn_.ResetAll();
  (void)conn_.Control("ROLLBACK");
  store_.EndedLocked();
}

bool SqliteTransaction::SubjectsUnchangedSince(uint64_t token) {
  // Only under the database's write lock: then nobody else can commit
  // between this answer and this transaction's own reads.
  if (done_ || reader_ || sqlite3_txn_state(conn_.db.raw(), "main") != SQLITE_TXN_WRITE) {
    return false;
  }
  return store_.SubjectsUnchangedLocked(token);
}

Status SqliteTransaction::FinishRead(const char* sql) {
  done_ = true;
  conn_.ResetAll();
  Status st = conn_.Control(sql);
  if (!st.ok()) (void)conn_.Control("ROLLBACK");
  store_.ReturnReader(std::move(reader_));
  return st;
}

Status SqliteTransaction::Commit() {
  if (done_) return Status::FailedPrecondition("transaction already finished");
  if (reader_) return FinishRead("COMMIT");
  done_ = true;
  if (store_.group()) {
    Result<int64_t> epoch = store_.ReleaseLogical();
    lock_.unlock();  // others join the physical transaction while this one waits
    if (!epoch.ok()) return epoch.status();
    Status st = store_.WaitCommitted(*epoch);
    if (st.ok()) store_.CountAuditEvents(appended_);
    return st;
  }
  conn_.ResetAll();
  Status st = conn_.Control("COMMIT");
  if (!st.ok()) (void)conn_.Control("ROLLBACK");
  store_.EndedLocked();
  if (st.ok()) store_.CountAuditEvents(appended_);
  lock_.unlock();  // the connection is free for the next transaction
  return st;
}

void SqliteTransaction::CommitThen(std::function<void(Status)> done) {
  if (done_ || reader_ || !store_.group()) {
    done(Commit());
    return;
  }
  done_ = true;
  Result<int64_t> epoch = store_.ReleaseLogical();
  lock_.unlock();
  if (!epoch.ok()) {
    done(epoch.status());
    return;
  }
  store_.CallWhenCommitted(*epoch, appended_, std::move(done));
}

Result<std::optional<TenantRow>> SqliteTransaction::GetTenant(std::string_view tenant) {
  Stmt& st = conn_.Prepare(
      "SELECT id, wrapped_key, key_version, policy_yaml, policy_version, created_ms "
      "FROM tenants WHERE id = ?");
  st.BindText(1, tenant);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<TenantRow>();
  TenantRow t;
  t.id = st.ColumnText(0);
  t.wrapped_key = st.ColumnBlob(1);
  t.key_version = static_cast<uint32_t>(st.ColumnInt64(2));
  t.policy_yaml = st.ColumnText(3);
  t.policy_version = st.ColumnText(4);
  t.created_ms = st.ColumnInt64(5);
  return std::optional<TenantRow>(std::move(t));
}

Status SqliteTransaction::InsertTenant(const TenantRow& row) {
  Stmt& st = conn_.Prepare(
      "INSERT INTO tenants (id, wrapped_key, key_version, policy_yaml, policy_version, "
      "created_ms) VALUES (?, ?, ?, ?, ?, ?)");
  st.BindText(1, row.id);
  st.BindBlob(2, row.wrapped_key);
  st.BindInt64(3, row.key_version);
  st.BindText(4, row.policy_yaml);
  st.BindText(5, row.policy_version);
  st.BindInt64(6, row.created_ms);
  Status s = st.Run();
  if (s.code() == StatusCode::kAlreadyExists) {
    return Status::AlreadyExists("tenant '" + row.id + "' already exists");
  }
  return s;
}

Result<std::vector<std::string>> SqliteTransaction::ListTenants() {
  Stmt& st = conn_.Prepare("SELECT id FROM tenants ORDER BY id");
  std::vector<std::string> out;
  RETURN_IF_ERROR(ForEachRow(st, [&] {
    out.push_back(st.ColumnText(0));
  }));
  return out;
}

constexpr const char* kSubjectColumns =
    "tenant, id, external_digest, wrapped_key, state, created_ms, updated_ms, closed_ms, "
    "erased_ms, fields, restricted";

// The subject row in `st`'s current row, kSubjectColumns from column `at`.
Result<SubjectRow> SubjectAt(Stmt& st, int at) {
  SubjectRow s;
  s.tenant = st.ColumnText(at);
  s.id = st.ColumnText(at + 1);
  s.external_digest = st.ColumnBlob(at + 2);
  s.wrapped_key = st.ColumnBlob(at + 3);
  int64_t state = st.ColumnInt64(at + 4);
  if (state < 0 || state > 2) return Status::DataLoss("subject row has an unknown state");
  s.state = static_cast<SubjectState>(state);
  s.created_ms = st.ColumnInt64(at + 5);
  s.updated_ms = st.ColumnInt64(at + 6);
  if (!st.ColumnIsNull(at + 7)) s.closed_ms = st.ColumnInt64(at + 7);
  if (!st.ColumnIsNull(at + 8)) s.erased_ms = st.ColumnInt64(at + 8);
  s.fields = st.ColumnBlob(at + 9);
  s.restricted = st.ColumnInt64(at + 10) != 0;
  return s;
}

Result<std::optional<SubjectRow>> SqliteTransaction::ReadSubject(Stmt& st) {
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<SubjectRow>();
  ASSIGN_OR_RETURN(SubjectRow s, SubjectAt(st, 0));
  return std::optional<SubjectRow>(std::move(s));
}

Result<std::optional<SubjectRow>> SqliteTransaction::GetSubject(std::string_view tenant,
                                                                std::string_view subject) {
  static const std::string sql =
      std::string("SELECT ") + kSubjectColumns + " FROM subjects WHERE tenant = ? AND id = ?";
  Stmt& st = conn_.Prepare(sql.c_str());
  st.BindText(1, tenant);
  st.BindText(2, subject);
  return ReadSubject(st);
}

Result<std::optional<SubjectRow>> SqliteTransaction::FindSubjectByExternalId(
    std::string_view tenant, std::string_view digest) {
  static const std::string sql = std::string("SELECT ") + kSubjectColumns +
                                 " FROM subjects WHERE tenant = ? AND external_digest = ?";
  Stmt& st = conn_.Prepare(sql.c_str());
  st.BindText(1, tenant);
  st.BindBlob(2, digest);
  return ReadSubject(st);
}

Result<std::vector<std::string>> SqliteTransaction::FindSubjectsByIndex(
    std::string_view tenant, std::string_view category, std::string_view digest) {
  Stmt& st = conn_.Prepare(
      "SELECT subject FROM subject_index WHERE tenant = ? AND category = ? AND digest = ? "
      "ORDER BY subject");
  st.BindText(1, tenant);
  st.BindText(2, category);
  st.BindBlob(3, digest);
  std::vector<std::string> out;
  RETURN_IF_ERROR(ForEachRow(st, [&] {
    out.push_back(st.ColumnText(0));
  }));
  return out;
}

Result<std::vector<SubjectRow>> SqliteTransaction::FindSubjectRowsByIndex(
    std::string_view tenant, std::string_view category, std::string_view digest) {
  // The subject by the entry's rowid hint, if it is still that subject's
  // (the entries' columns renamed, so that kSubjectColumns name the subject's).
  static const std::string sql =
      std::string("SELECT entry_subject, ") + kSubjectColumns +
      " FROM (SELECT subject AS entry_subject, subject_rowid AS entry_rowid, "
      "tenant AS entry_tenant FROM subject_index "
      "WHERE tenant = ? AND category = ? AND digest = ?) "
      "LEFT JOIN subjects ON subjects.rowid = entry_rowid AND subjects.tenant = entry_tenant "
      "AND subjects.id = entry_subject ORDER BY entry_subject";
  Stmt& st = conn_.Prepare(sql.c_str());
  st.BindText(1, tenant);
  st.BindText(2, category);
  st.BindBlob(3, digest);
  std::vector<SubjectRow> out;
  std::vector<std::pair<std::size_t, std::string>> stale;  // position, subject id
  Status decoded;
  RETURN_IF_ERROR(ForEachRow(st, [&] {
    if (!decoded.ok()) return;
    if (st.ColumnIsNull(2)) {  // no hint, or a stale one
      stale.emplace_back(out.size(), st.ColumnText(0));
      out.emplace_back();
      return;
    }
    auto row = SubjectAt(st, 1);
    if (!row.ok()) {
      decoded = row.status();
      return;
    }
    out.push_back(std::move(*row));
  }));
  RETURN_IF_ERROR(decoded);
  st.Reset();
  for (auto it = stale.rbegin(); it != stale.rend(); ++it) {
    ASSIGN_OR_RETURN(auto row, GetSubject(tenant, it->second));
    if (row) {
      out[it->first] = std::move(*row);
    } else {
      out.erase(out.begin() + static_cast<std::ptrdiff_t>(it->first));
    }
  }
  return out;
}

Status SqliteTransaction::PutSubject(const SubjectRow& row) {
  Stmt& st = conn_.Prepare(
      "INSERT INTO subjects (tenant, id, external_digest, wrapped_key, state, created_ms, "
      "updated_ms, closed_ms, erased_ms, fields, restricted) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (tenant, id) DO UPDATE SET external_digest = excluded.external_digest, "
      "wrapped_key = excluded.wrapped_key, state = excluded.state, "
      "updated_ms = excluded.updated_ms, closed_ms = excluded.closed_ms, "
      "erased_ms = excluded.erased_ms, fields = excluded.fields, "
      "restricted = excluded.restricted");
  st.BindText(1, row.tenant);
  st.BindText(2, row.id);
  st.BindBlobOrNull(3, row.external_digest);
  st.BindBlobOrNull(4, row.wrapped_key);
  st.BindInt64(5, static_cast<int64_t>(row.state));
  st.BindInt64(6, row.created_ms);
  st.BindInt64(7, row.updated_ms);
  st.BindOptionalInt64(8, row.closed_ms);
  st.BindOptionalInt64(9, row.erased_ms);
  st.BindBlobOrNull(10, row.fields);
  st.BindInt64(11, row.restricted ? 1 : 0);
  Status s = st.Run();
  if (s.code() == StatusCode::kAlreadyExists) {
    return Status::AlreadyExists("another subject of tenant '" + row.tenant +
                                 "' already has this external id");
  }
  return s;
}

Status SqliteTransaction::ReplaceIndex(std::string_view tenant, std::string_view subject,
                                       const std::vector<IndexEntry>& entries) {
  Stmt& del = conn_.Prepare("DELETE FROM subject_index WHERE tenant = ? AND subject = ?");
  del.BindText(1, tenant);
  del.BindText(2, subject);
  RETURN_IF_ERROR(del.Run());
  Stmt& ins = conn_.Prepare(
      "INSERT OR IGNORE INTO subject_index (tenant, category, digest, subject, subject_rowid) "
      "VALUES (?1, ?2, ?3, ?4, (SELECT rowid FROM subjects WHERE tenant = ?1 AND id = ?4))");
  for (const IndexEntry& e : entries) {
    ins.Reset();
    ins.BindText(1, tenant);
    ins.BindText(2, e.category);
    ins.BindBlob(3, e.digest);
    ins.BindText(4, subject);
    RETURN_IF_ERROR(ins.Run());
  }
  return Status::Ok();
}

Status SqliteTransaction::EraseSubject(std::string_view tenant, std::string_view subject,
                                       int64_t erased_ms) {
  Stmt& del = conn_.Prepare("DELETE FROM records WHERE tenant = ? AND subject = ?");
  del.BindText(1, tenant);
  del.BindText(2, subject);
  RETURN_IF_ERROR(del.Run());
  return DropSubjectKey(tenant, subject, erased_ms);
}

Status SqliteTransaction::DropSubjectKey(std::string_view tenant, std::string_view subject,
                                         int64_t erased_ms) {
  Stmt& del = conn_.Prepare("DELETE FROM subject_index WHERE tenant = ? AND subject = ?");
  del.BindText(1, tenant);
  del.BindText(2, subject);
  RETURN_IF_ERROR(del.Run());
  RETURN_IF_ERROR(DeletePersonalExtras(tenant, subject));
  Stmt& upd = conn_.Prepare(
      "UPDATE subjects SET wrapped_key = NULL, fields = NULL, external_digest = NULL, "
      "state = 2, erased_ms = ?, updated_ms = ? WHERE tenant = ? AND id = ?");
  upd.BindInt64(1, erased_ms);
  upd.BindInt64(2, erased_ms);
  upd.BindText(3, tenant);
  upd.BindText(4, subject);
  RETURN_IF_ERROR(upd.Run());
  if (sqlite3_changes(conn_.db.raw()) == 0) {
    return Status::NotFound("subject '" + std::string(subject) + "' does not exist in tenant '" +
                            std::string(tenant) + "'");
  }
  return Status::Ok();
}

Status SqliteTransaction::ShredSubject(std::string_view tenant, std::string_view subject,
                                       int64_t erased_ms) {
  RETURN_IF_ERROR(DropSubjectKey(tenant, subject, erased_ms));
  Stmt& queue = conn_.Prepare(
      "INSERT OR IGNORE INTO shredded (tenant, subject, shredded_ms) SELECT ?1, ?2, ?3 "
      "WHERE EXISTS (SELECT 1 FROM records WHERE tenant = ?1 AND subject = ?2)");
  queue.BindText(1, tenant);
  queue.BindText(2, subject);
  queue.BindInt64(3, erased_ms);
  return queue.Run();
}

Result<int64_t> SqliteTransaction::CountSubjects(std::string_view tenant) {
  Stmt& st = conn_.Prepare("SELECT count(*) FROM subjects WHERE tenant = ? AND state != 2");
  st.BindText(1, tenant);
  ASSIGN_OR_RETURN(bool row, st.Step());
  (void)row;
  return st.ColumnInt64(0);
}

Status SqliteTransaction::InsertRecord(const RecordRow& row) {
  Stmt& st = conn_.Prepare(
      "INSERT INTO records (tenant, id, subject, kind, at_ms, created_ms, payload) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)");
  st.BindText(1, row.tenant);
  st.BindText(2, row.id);
  st.BindText(3, row.subject);
  st.BindText(4, row.kind);
  st.BindInt64(5, row.at_ms);
  st.BindInt64(6, row.created_ms);
  st.BindBlob(7, row.payload);
  return st.Run();
}

Result<bool> SqliteTransaction::InsertRecordIfAbsent(const RecordRow& row) {
  Stmt& st = conn_.Prepare(
      "INSERT INTO records (tenant, id, subject, kind, at_ms, created_ms, payload) "
      "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, id) DO NOTHING");
  st.BindText(1, row.tenant);
  st.BindText(2, row.id);
  st.BindText(3, row.subject);
  st.BindText(4, row.kind);
  st.BindInt64(5, row.at_ms);
  st.BindInt64(6, row.created_ms);
  st.BindBlob(7, row.payload);
  RETURN_IF_ERROR(st.Run());
  return sqlite3_changes(conn_.db.raw()) > 0;
}

Result<std::optional<ConsentRow>> SqliteTransaction::GetConsent(std::string_view tenant,
                                                                std::string_view subject,
                                                                std::string_view purpose) {
  Stmt& st = conn_.Prepare(
      "SELECT state, at_ms FROM consents WHERE tenant = ? AND subject = ? AND purpose = ?");
  st.BindText(1, tenant);
  st.BindText(2, subject);
  st.BindText(3, purpose);
  ASSIGN_OR_RETURN(bool found, st.Step());
  if (!found) return std::optional<ConsentRow>();
  ConsentRow r{std::string(tenant), std::string(subject), std::string(purpose),
               static_cast<ConsentState>(st.ColumnInt64(0)), st.ColumnInt64(1)};
  st.Reset();
  return std::optional<ConsentRow>(std::move(r));
}

Result<std::vector<ConsentRow>> SqliteTransaction::ListConsents(std::string_view tenant,
                                                                std::string_view subject) {
  Stmt& st = conn_.Prepare(
      "SELECT purpose, state, at_ms FROM consents WHERE tenant = ? AND subject = ? "
      "ORDER BY purpose");
  st.BindText(1, tenant);
  st.BindText(2, subject);
  std::vector<ConsentRow> out;
  RETURN_IF_ERROR(ForEachRow(st, [&] {
    out.push_back({std::string(tenant), std::string(subject), st.ColumnText(0),
                   static_cast<ConsentState>(st.ColumnInt64(1)), st.ColumnInt64(2)});
  }));
  return out;
}

Status SqliteTransaction::PutConsent(const ConsentRow& row) {
  Stmt& st = conn_.Prepare(
      "INSERT OR REPLACE INTO consents (tenant, subject, purpose, state, at_ms) "
      "VALUES (?, ?, ?, ?, ?)");
  st.BindText(1, row.tenant);
  st.BindText(2, row.subject);
  st.BindText(3, row.purpose);
  st.BindInt64(4, static_cast<int64_t>(row.state));
  st.BindInt64(5, row.at_ms);
  return st.Run();
}

Result<int64_t> SqliteTransaction::AppendConsentEvent(const ConsentEventRow& row) {
  Stmt& st = conn_.Prepare(
      "INSERT INTO consent_events (tenant, subject, at_ms, sealed) VALUES (?, ?, ?, ?)");
  st.BindText(1, row.tenant);
  st.BindText(2, row.subject);
  st.BindInt64(3, row.at_ms);
  st.BindBlob(4, row.sealed);
  RETURN_IF_ERROR(st.Run());
  return static_cast<int64_t>(sqlite3_last_insert_rowid(conn_.db.raw()));
}

Result<std::vector<ConsentEventRow>> SqliteTransaction::ListConsentEvents(
    std::string_view tenant, std::string_view subject) {
  Stmt& st = conn_.Prepare(
      "SELECT seq, at_ms, sealed FROM consent_events WHERE tenant = ? AND subject = ? "
      "ORDER BY seq");
  st.BindText(1, tenant);
  st.BindText(2, subject);
  std::vector<ConsentEventRow> out;
  RETURN_IF_ERROR(ForEachRow(st, [&] {
    out.push_back({std::string(tenant), std::string(subject), st.ColumnInt64(0),
                   st.ColumnInt64(1), st.ColumnBlob(2)});
  }));
  return out;
}

Result<std::optional<ChannelRow>> SqliteTransaction::GetChannel(std::string_view tenant,
                                                                std::string_view name) {
  Stmt& st = conn_.Prepare(
      "SELECT sealed, updated_ms FROM channels WHERE tenant = ? AND name = ?");
  st.BindText(1, tenant);
  st.BindText(2, name);
  ASSIGN_OR_RETURN(bool found, st.Step());
  if (!found) return std::optional<ChannelRow>();
  ChannelRow r{std::string(tenant), std::string(name), st.ColumnBlob(0), st.ColumnInt64(1)};
  st.Reset();
  return std::optional<ChannelRow>(std::move(r));
}

Status SqliteTransaction::PutChannel(const ChannelRow& row) {
  Stmt& st = conn_.Prepare(
      "INSERT OR REPLACE INTO channels (tenant, name, sealed, updated_ms) VALUES (?, ?, ?, ?)");
  st.BindText(1, row.tenant);
  st.BindText(2, row.name);
  st.BindBlob(3, row.sealed);
  st.BindInt64(4, row.updated_ms);
  return st.Run();
}

Result<bool> SqliteTransaction::InsertWebhookEvent(std::string_view tenant,
                                                   std::string_view provider,
                                                   std::string_view event_id,
                                                   int64_t received_ms) {
  Stmt& st = conn_.Prepare(
      "INSERT INTO webhook_events (tenant, provider, event_id, received_ms) VALUES (?, ?, ?, ?) "
      "ON CONFLICT DO NOTHING");
  st.BindText(1, tenant);
  st.BindText(2, provider);
  st.BindText(3, event_id);
  st.BindInt64(4, received_ms);
  RETURN_IF_ERROR(st.Run());
  return sqlite3_changes(conn_.db.raw()) > 0;
}

constexpr const char* kMessageColumns =
    "tenant, id, idempotency_key, subject, purpose, channel, sealed, state, attempts, "
    "next_attempt_ms, last_error, provider_id, created_ms, updated_ms, sent_ms";

MessageRow ReadMessage(Stmt& st) {
  MessageRow r;
  r.tenant = st.ColumnText(0);
  r.id = st.ColumnText(1);
  r.idempotency_key = st.ColumnText(2);
  r.subject = st.ColumnText(3);
  r.purpose = st.ColumnText(4);
  r.channel = st.ColumnText(5);
  r.sealed = st.ColumnBlob(6);
  r.state = static_cast<MessageState>(st.ColumnInt64(7));
  r.attempts = st.ColumnInt64(8);
  r.next_attempt_ms = st.ColumnInt64(9);
  r.last_error = st.ColumnText(10);
  r.provider_id = st.ColumnText(11);
  r.created_ms = st.ColumnInt64(12);
  r.updated_ms = st.ColumnInt64(13);
  if (!st.ColumnIsNull(14)) r.sent_ms = st.ColumnInt64(14);
  return r;
}

void BindMessage(Stmt& st, const MessageRow& r) {
  st.BindText(1, r.tenant);
  st.BindText(2, r.id);
  st.BindText(3, r.idempotency_key);
  st.BindText(4, r.subject);
  st.BindText(5, r.purpose);
  st.BindText(6, r.channel);
  st.BindBlob(7, r.sealed);
  st.BindInt64(8, static_cast<int64_t>(r.state));
  st.BindInt64(9, r.attempts);
  st.BindInt64(10, r.next_attempt_ms);
  st.BindText(11, r.last_error);
  st.BindText(12, r.provider_id);
  st.BindInt64(13, r.created_ms);
  st.BindInt64(14, r.updated_ms);
  st.BindOptionalInt64(15, r.sent_ms);
}

Result<std::vector<MessageRow>> ReadMessages(Stmt& st) {
  std::vector<MessageRow> out;
  RETURN_IF_ERROR(ForEachRow(st, [&] {
    out.push_back(ReadMessage(st));
  }));
  return out;
}

Result<bool> SqliteTransaction::InsertMessage(const MessageRow& row) {
  static const std::string sql = std::string("INSERT INTO outbox (") + kMessageColumns +
                                 ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                                 "ON CONFLICT (tenant, idempotency_key) WHERE idempotency_key != "
                                 "'' DO NOTHING";
  Stmt& st = conn_.Prepare(sql.c_str());
  BindMessage(st, row);
  RETURN_IF_ERROR(st.Run());
  return sqlite3_changes(conn_.db.raw()) > 0;
}

Result<std::optional<MessageRow>> SqliteTransaction::GetMessage(std::string_view tenant,
                                                                std::string_view id) {
  static const std::string sql =
      std::string("SELECT ") + kMessageColumns + " FROM outbox WHERE tenant = ? AND id = ?";
  Stmt& st = conn_.Prepare(sql.c_str());
  st.BindText(1, tenant);
  st.BindText(2, id);
  ASSIGN_OR_RETURN(auto rows, ReadMessages(st));
  if (rows.empty()) return std::optional<MessageRow>();
  return std::optional<MessageRow>(std::move(rows.front()));
}

Result<std::optional<MessageRow>> SqliteTransaction::FindMessageByKey(std::string_view tenant,
                                                                      std::string_view key) {
  static const std::string sql = std::string("SELECT ") + kMessageColumns +
                                 " FROM outbox WHERE tenant = ? AND idempotency_key = ? AND "
                                 "idempotency_key != ''";
  Stmt& st = conn_.Prepare(sql.c_str());
  st.BindText(1, tenant);
  st.BindText(2, key);
  ASSIGN_OR_RETURN(auto rows, ReadMessages(st));
  if (rows.empty()) return std::optional<MessageRow>();
  return std::optional<MessageRow>(std::move(rows.front()));
}

Result<std::vector<MessageRow>> SqliteTransaction::DueMessages(int64_t now_ms, int limit) {
  static const std::string sql = std::string("SELECT ") + kMessageColumns +
                                 " FROM outbox WHERE state IN (1, 2) AND next_attempt_ms <= ? "
                                 "ORDER BY next_attempt_ms LIMIT ?";
  Stmt& st = conn_.Prepare(sql.c_str());
  st.BindInt64(1, now_ms);
  st.BindInt64(2, limit);
  return ReadMessages(st);
}

Status SqliteTransaction::UpdateMessage(const MessageRow& row) {
  Stmt& st = conn_.Prepare(
      "UPDATE outbox SET idempotency_key = ?3, subject = ?4, purpose = ?5, channel = ?6, "
      "sealed = ?7, state = ?8, attempts = ?9, next_attempt_ms = ?10, last_error = ?11, "
      "provider_id = ?12, created_ms = ?13, updated_ms = ?14, sent_ms = ?15 "
      "WHERE tenant = ?1 AND id = ?2");
  BindMessage(st, row);
  RETURN_IF_ERROR(st.Run());
  if (sqlite3_changes(conn_.db.raw()) == 0) {
    return Status::NotFound("message '" + row.id + "' does not exist");
  }
  return Status::Ok();
}

Result<std::vector<MessageRow>> SqliteTransaction::ListMessages(std::string_view tenant,
                                                                int limit) {
  static const std::string sql = std::string("SELECT ") + kMessageColumns +
                                 " FROM outbox WHERE tenant = ? ORDER BY created_ms DESC LIMIT ?";
  Stmt& st = conn_.Prepare(sql.c_str());
  st.BindText(1, tenant);
  st.BindInt64(2, limit);
  return ReadMessages(st);
}

constexpr const char* kRequestColumns =
    "tenant, id, subject, type, state, verification, assigned, sealed, received_ms, due_ms, "
    "updated_ms, closed_ms, otp_digest, otp_expires, otp_attempts, extended_ms";

void BindRequest(Stmt& st, const RequestRow& r) {
  st.BindText(1, r.tenant);
  st.BindText(2, r.id);
  st.BindText(3, r.subject);
  st.BindText(4, r.type);
  st.BindInt64(5, static_cast<int64_t>(r.state));
  st.BindText(6, r.verification);
  st.BindText(7, r.assigned);
  st.BindBlob(8, r.sealed);
  st.BindInt64(9, r.received_ms);
  st.BindInt64(10, r.due_ms);
  st.BindInt64(11, r.updated_ms);
  st.BindOptionalInt64(12, r.closed_ms);
  st.BindBlob(13, r.otp_digest);
  st.BindInt64(14, r.otp_expires_ms);
  st.BindInt64(15, r.otp_attempts);
  st.BindOptionalInt64(16, r.extended_ms);
}

Result<std::vector<RequestRow>> ReadRequests(Stmt& st) {
  std::vector<RequestRow> out;
  RETURN_IF_ERROR(ForEachRow(st, [&] {
    RequestRow r;
    r.tenant = st.ColumnText(0);
    r.id = st.ColumnText(1);
    r.subject = st.ColumnText(2);
    r.type = st.ColumnText(3);
    r.state = static_cast<RequestState>(st.ColumnInt64(4));
    r.verification = st.ColumnText(5);
    r.assigned = st.ColumnText(6);
    r.sealed = st.ColumnBlob(7);
    r.received_ms = st.ColumnInt64(8);
    r.due_ms = st.ColumnInt64(9);
    r.updated_ms = st.ColumnInt64(10);
    if (!st.ColumnIsNull(11)) r.closed_ms = st.ColumnInt64(11);
    r.otp_digest = st.ColumnBlob(12);
    r.otp_expires_ms = st.ColumnInt64(13);
    r.otp_attempts = st.ColumnInt64(14);
    if (!st.ColumnIsNull(15)) r.extended_ms = st.ColumnInt64(15);
    out.push_back(std::move(r));
  }));
  return out;
}

Status SqliteTransaction::InsertRequest(const RequestRow& row) {
  static const std::string sql = std::string("INSERT INTO requests (") + kRequestColumns +
                                 ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  Stmt& st = conn_.Prepare(sql.c_str());
  BindRequest(st, row);
  return st.Run();
}

Result<std::optional<RequestRow>> SqliteTransaction::GetRequest(std::string_view tenant,
                                                                std::string_view id) {
  static const std::string sql =
      std::string("SELECT ") + kRequestColumns + " FROM requests WHERE tenant = ? AND id = ?";
  Stmt& st = conn_.Prepare(sql.c_str());
  st.BindText(1, tenant);
  st.BindText(2, id);
  ASSIGN_OR_RETURN(auto rows, ReadRequests(st));
  if (rows.empty()) return std::optional<RequestRow>();
  return std::optional<RequestRow>(std::move(rows.front()));
}

Status SqliteTransaction::UpdateRequest(const RequestRow& row) {
  Stmt& st = conn_.Prepare(
      "UPDATE requests SET subject = ?3, type = ?4, state = ?5, verification = ?6, "
      "assigned = ?7, sealed = ?8, received_ms = ?9, due_ms = ?10, updated_ms = ?11, "
      "closed_ms = ?12, otp_digest = ?13, otp_expires = ?14, otp_attempts = ?15, "
      "extended_ms = ?16 "
      "WHERE tenant = ?1 AND id = ?2");
  BindRequest(st, row);
  RETURN_IF_ERROR(st.Run());
  if (sqlite3_changes(conn_.db.raw()) == 0) {
    return Status::NotFound("request '" + row.id + "' does not exist");
  }
  return Status::Ok();
}

Result<std::vector<RequestRow>> SqliteTransaction::ListRequests(std::string_view tenant,
                                                                bool open_only,
                                                                std::string_view subject) {
  static const std::string sql = std::string("SELECT ") + kRequestColumns +
                                 " FROM requests WHERE tenant = ?1 AND (?2 = 0 OR state NOT IN (5, 6, 7)) AND "
                                 "(?3 = '' OR subject = ?3) ORDER BY due_ms, id";
  Stmt& st = conn_.Prepare(sql.c_str());
  st.BindText(1, tenant);
  st.BindInt64(2, open_only ? 1 : 0);
  st.BindText(3, subject);
  return ReadRequests(st);
}

constexpr const char* kExportColumns =
    "tenant, id, request_id, subject, sealed, sha256, bytes, token_digest, created_ms, "
    "expires_ms, downloaded_ms";

Result<std::optional<ExportRow>> ReadExport(Stmt& st) {
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<ExportRow>();
  ExportRow e;
  e.tenant = st.ColumnText(0);
  e.id = st.ColumnText(1);
  e.request_id = st.ColumnText(2);
  e.subject = st.ColumnText(3);
  e.sealed = st.ColumnBlob(4);
  e.sha256 = st.ColumnText(5);
  e.bytes = st.ColumnInt64(6);
  e.token_digest = st.ColumnBlob(7);
  e.created_ms = st.ColumnInt64(8);
  e.expires_ms = st.ColumnInt64(9);
  if (!st.ColumnIsNull(10)) e.downloaded_ms = st.ColumnInt64(10);
  return std::optional<ExportRow>(std::move(e));
}

Status SqliteTransaction::InsertExport(const ExportRow& row) {
  static const std::string sql = std::string("INSERT INTO exports (") + kExportColumns +
                                 ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  Stmt& st = conn_.Prepare(sql.c_str());
  st.BindText(1, row.tenant);
  st.BindText(2, row.id);
  st.BindText(3, row.request_id);
  st.BindText(4, row.subject);
  st.BindBlobOrNull(5, row.sealed);
  st.BindText(6, row.sha256);
  st.BindInt64(7, row.bytes);
  st.BindBlob(8, row.token_digest);
  st.BindInt64(9, row.created_ms);
  st.BindInt64(10, row.expires_ms);
  st.BindOptionalInt64(11, row.downloaded_ms);
  return st.Run();
}

Result<std::optional<ExportRow>> SqliteTransaction::GetExport(std::string_view tenant,
                                                              std::string_view id) {
  static const std::string sql =
      std::string("SELECT ") + kExportColumns + " FROM exports WHERE tenant = ? AND id = ?";
  Stmt& st = conn_.Prepare(sql.c_str());
  st.BindText(1, tenant);
  st.BindText(2, id);
  return ReadExport(st);
}

Status SqliteTransaction::MarkExportDownloaded(std::string_view tenant, std::string_view id,
                                               int64_t at_ms) {
  Stmt& st = conn_.Prepare(
      "UPDATE exports SET sealed = NULL, downloaded_ms = ? WHERE tenant = ? AND id = ?");
  st.BindInt64(1, at_ms);
  st.BindText(2, tenant);
  st.BindText(3, id);
  RETURN_IF_ERROR(st.Run());
  if (sqlite3_changes(conn_.db.raw()) == 0) {
    return Status::NotFound("export '" + std::string(id) + "' does not exist");
  }
  return Status::Ok();
}

Result<int64_t> SqliteTransaction::DropExpiredExports(int64_t now_ms) {
  Stmt& st = conn_.Prepare(
      "UPDATE exports SET sealed = NULL WHERE sealed IS NOT NULL AND expires_ms < ?");
  st.BindInt64(1, now_ms);
  RETURN_IF_ERROR(st.Run());
  return static_cast<int64_t>(sqlite3_changes(conn_.db.raw()));
}

Status SqliteTransaction::InsertErasureHold(const ErasureHoldRow& row) {
  Stmt& st = conn_.Prepare(
      "INSERT INTO erasure_holds (tenant, request_id, subject, item, until_ms, rule, reason, "
      "purged_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  st.BindText(1, row.tenant);
  st.BindText(2, row.request_id);
  st.BindText(3, row.subject);
  st.BindText(4, row.item);
  st.BindInt64(5, row.until_ms);
  st.BindText(6, row.rule);
  st.BindText(7, row.reason);
  st.BindOptionalInt64(8, row.purged_ms);
  return st.Run();
}

Result<std::vector<ErasureHoldRow>> SqliteTransaction::ListErasureHolds(
    std::string_view tenant, std::string_view subject) {
  Stmt& st = conn_.Prepare(
      "SELECT tenant, request_id, subject, item, until_ms, rule, reason, purged_ms "
      "FROM erasure_holds WHERE tenant = ? AND subject = ? ORDER BY item, request_id");
  st.BindText(1, tenant);
  st.BindText(2, subject);
  std::vector<ErasureHoldRow> out;
  RETURN_IF_ERROR(ForEachRow(st, [&] {
    ErasureHoldRow h;
    h.tenant = st.ColumnText(0);
    h.request_id = st.ColumnText(1);
    h.subject = st.ColumnText(2);
    h.item = st.ColumnText(3);
    h.until_ms = st.ColumnInt64(4);
    h.rule = st.ColumnText(5);
    h.reason = st.ColumnText(6);
    if (!st.ColumnIsNull(7)) h.purged_ms = st.ColumnInt64(7);
    out.push_back(std::move(h));
  }));
  return out;
}

Result<int64_t> SqliteTransaction::MarkErasureHoldsPurged(std::string_view tenant,
                                                          std::string_view subject, bool all,
                                                          int64_t now_ms) {
  Stmt& st = conn_.Prepare(
      "UPDATE erasure_holds SET purged_ms = ?1 WHERE tenant = ?2 AND subject = ?3 AND "
      "purged_ms IS NULL AND (?4 = 1 OR until_ms <= ?1)");
  st.BindInt64(1, now_ms);
  st.BindText(2, tenant);
  st.BindText(3, subject);
  st.BindInt64(4, all ? 1 : 0);
  RETURN_IF_ERROR(st.Run());
  return static_cast<int64_t>(sqlite3_changes(conn_.db.raw()));
}

// Category keys are stored one per line (keys hold no line break).
std::string JoinLines(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& i : items) out += (out.empty() ? "" : "\n") + i;
  return out;
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (!text.empty() && start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

constexpr char kDisclosureColumns[] =
    "d.tenant, d.id, d.recipient, d.purpose, d.categories, d.legal_reference, d.actor, d.role, "
    "d.at_ms, d.recorded_ms, d.subjects, d.exported";

Result<std::vector<DisclosureRow>> ReadDisclosures(Stmt& st) {
  std::vector<DisclosureRow> out;
  RETURN_IF_ERROR(ForEachRow(st, [&] {
    DisclosureRow d;
    d.tenant = st.ColumnText(0);
    d.id = st.ColumnText(1);
    d.recipient = st.ColumnText(2);
    d.purpose = st.ColumnText(3);
    d.categories = SplitLines(st.ColumnText(4));
    d.legal_reference = st.ColumnText(5);
    d.actor = st.ColumnText(6);
    d.role = st.ColumnText(7);
    d.at_ms = st.ColumnInt64(8);
    d.recorded_ms = st.ColumnInt64(9);
    d.subjects = st.ColumnInt64(10);
    d.exported = st.ColumnInt64(11) != 0;
    out.push_back(std::move(d));
  }));
  return out;
}

Status SqliteTransaction::InsertDisclosure(const DisclosureRow& row,
                                           const std::vector<std::string>& subjects) {
  Stmt& st = conn_.Prepare(
      "INSERT INTO disclosures (tenant, id, recipient, purpose, categories, legal_reference, "
      "actor, role, at_ms, recorded_ms, subjects, exported) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  st.BindText(1, row.tenant);
  st.BindText(2, row.id);
  st.BindText(3, row.recipient);
  st.BindText(4, row.purpose);
  st.BindText(5, JoinLines(row.categories));
  st.BindText(6, row.legal_reference);
  st.BindText(7, row.actor);
  st.BindText(8, row.role);
  st.BindInt64(9, row.at_ms);
  st.BindInt64(10, row.recorded_ms);
  st.BindInt64(11, row.subjects);
  st.BindInt64(12, row.exported ? 1 : 0);
  RETURN_IF_ERROR(st.Run());
  Stmt& link = conn_.Prepare(
      "INSERT OR IGNORE INTO disclosure_subjects (tenant, subject, disclosure) VALUES (?, ?, ?)");
  for (const std::string& subject : subjects) {
    link.Reset();
    link.BindText(1, row.tenant);
    link.BindText(2, subject);
    link.BindText(3, row.id);
    RETURN_IF_ERROR(link.Run());
  }
  return Status::Ok();
}

Result<std::vector<DisclosureRow>> SqliteTransaction::ListSubjectDisclosures(
    std::string_view tenant, std::string_view subject) {
  static const std::string sql =
      std::string("SELECT ") + kDisclosureColumns +
      " FROM disclosure_subjects s JOIN disclosures d ON d.tenant = s.tenant AND d.id = "
      "s.disclosure WHERE s.tenant = ? AND s.subject = ? ORDER BY d.at_ms, d.id";
  Stmt& st = conn_.Prepare(sql.c_str());
  st.BindText(1, tenant);
  st.BindText(2, subject);
  return ReadDisclosures(st);
}

Result<std::vector<DisclosureRow>> SqliteTransaction::ListDisclosures(
    std::string_view tenant, std::optional<int64_t> from_ms, std::optional<int64_t> to_ms) {
  static const std::string sql = std::string("SELECT ") + kDisclosureColumns +
                                 " FROM disclosures d WHERE d.tenant = ? AND d.at_ms >= ? AND "
                                 "d.at_ms < ? ORDER BY d.at_ms, d.id";
  Stmt& st = conn_.Prepare(sql.c_str());
  st.BindText(1, tenant);
  st.BindInt64(2, from_ms.value_or(INT64_MIN));
  st.BindInt64(3, to_ms.value_or(INT64_MAX));
  return ReadDisclosures(st);
}

Status SqliteTransaction::ScanSubjects(std::string_view tenant,
                                       const std::function<bool(const SubjectRow&)>& fn) {
  static const std::string sql =
      std::string("SELECT ") + kSubjectColumns + " FROM subjects WHERE tenant = ? ORDER BY id";
  Stmt& st = conn_.Prepare(sql.c_str());
  st.BindText(1, tenant);
  while (true) {
    ASSIGN_OR_RETURN(std::optional<SubjectRow> row, ReadSubject(st));
    if (!row || !fn(*row)) break;
  }
  st.Reset();
  return Status::Ok();
}

Result<std::vector<RecordKindCount>> SqliteTransaction::CountRecords(
    std::string_view tenant, std::optional<int64_t> from_ms, std::optional<int64_t> to_ms) {
  std::vector<RecordKindCount> out;
  Stmt& counts = conn_.Prepare(
      "SELECT kind, SUM(at_ms >= ? AND at_ms < ?) FROM records WHERE tenant = ? GROUP BY kind "
      "ORDER BY kind");
  counts.BindInt64(1, from_ms.value_or(INT64_MIN));
  counts.BindInt64(2, to_ms.value_or(INT64_MAX));
  counts.BindText(3, tenant);
  RETURN_IF_ERROR(ForEachRow(counts, [&] {
    out.push_back({counts.ColumnText(0), counts.ColumnInt64(1), {}});
  }));
  Stmt& holders = conn_.Prepare(
      "SELECT DISTINCT subject FROM records WHERE tenant = ? AND kind = ? ORDER BY subject");
  for (RecordKindCount& k : out) {
    holders.Reset();
    holders.BindText(1, tenant);
    holders.BindText(2, k.kind);
    RETURN_IF_ERROR(ForEachRow(holders, [&] {
      k.subjects.push_back(holders.ColumnText(0));
    }));
  }
  return out;
}

Status SqliteTransaction::DeletePersonalExtras(std::string_view tenant, std::string_view subject) {
  for (const char* sql : {"DELETE FROM consents WHERE tenant = ? AND subject = ?",
                          "DELETE FROM consent_events WHERE tenant = ? AND subject = ?",
                          "UPDATE exports SET sealed = NULL WHERE tenant = ? AND subject = ?",
                          "DELETE FROM portal_sessions WHERE tenant = ? AND subject = ?"}) {
    Stmt& del = conn_.Prepare(sql);
    del.BindText(1, tenant);
    del.BindText(2, subject);
    RETURN_IF_ERROR(del.Run());
  }
  return Status::Ok();
}

Result<int64_t> SqliteTransaction::DeleteSubjectRecords(std::string_view tenant,
                                                        std::string_view subject,
                                                        const std::vector<std::string>& kinds) {
  Stmt& events = conn_.Prepare(
      "DELETE FROM record_events WHERE tenant = ?1 AND record IN "
      "(SELECT id FROM records WHERE tenant = ?1 AND subject = ?2 AND kind = ?3)");
  Stmt& del =
      conn_.Prepare("DELETE FROM records WHERE tenant = ? AND subject = ? AND kind = ?");
  int64_t deleted = 0;
  for (const std::string& kind : kinds) {
    events.Reset();
    events.BindText(1, tenant);
    events.BindText(2, subject);
    events.BindText(3, kind);
    RETURN_IF_ERROR(events.Run());
    del.Reset();
    del.BindText(1, tenant);
    del.BindText(2, subject);
    del.BindText(3, kind);
    RETURN_IF_ERROR(del.Run());
    deleted += sqlite3_changes(conn_.db.raw());
  }
  return deleted;
}

Result<int64_t> SqliteTransaction::InsertCookieChoice(const CookieChoiceRow& row) {
  Stmt& st = conn_.Prepare(
      "INSERT INTO cookie_choices (tenant, visitor, choices, policy_version, at_ms) "
      "VALUES (?, ?, ?, ?, ?)");
  st.BindText(1, row.tenant);
  st.BindText(2, row.visitor);
  st.BindText(3, row.choices);
  st.BindText(4, row.policy_version);
  st.BindInt64(5, row.at_ms);
  RETURN_IF_ERROR(st.Run());
  return static_cast<int64_t>(sqlite3_last_insert_rowid(conn_.db.raw()));
}

Result<std::vector<CookieChoiceRow>> SqliteTransaction::ListCookieChoices(
    std::string_view tenant, std::string_view visitor) {
  Stmt& st = conn_.Prepare(
      "SELECT seq, choices, policy_version, at_ms FROM cookie_choices WHERE tenant = ? AND "
      "visitor = ? ORDER BY seq");
  st.BindText(1, tenant);
  st.BindText(2, visitor);
  std::vector<CookieChoiceRow> out;
  RETURN_IF_ERROR(ForEachRow(st, [&] {
    out.push_back({std::string(tenant), std::string(visitor), st.ColumnInt64(0),
                   st.ColumnText(1), st.ColumnText(2), st.ColumnInt64(3)});
  }));
  return out;
}

Result<std::optional<ImportRow>> SqliteTransaction::GetImport(std::string_view tenant,
                                                              std::string_view kind,
                                                              std::string_view digest) {
  Stmt& st = conn_.Prepare(
      "SELECT offset, line, rows, added, updated, unchanged, rejected, rejects_bytes, done, "
      "started_ms, updated_ms FROM imports WHERE tenant = ? AND kind = ? AND digest = ?");
  st.BindText(1, tenant);
  st.BindText(2, kind);
  st.BindBlob(3, digest);
  ASSIGN_OR_RETURN(bool found, st.Step());
  if (!found) return std::optional<ImportRow>();
  ImportRow r;
  r.tenant = std::string(tenant);
  r.kind = std::string(kind);
  r.digest = std::string(digest);
  r.offset = static_cast<uint64_t>(st.ColumnInt64(0));
  r.line = static_cast<uint64_t>(st.ColumnInt64(1));
  r.rows = st.ColumnInt64(2);
  r.added = st.ColumnInt64(3);
  r.updated = st.ColumnInt64(4);
  r.unchanged = st.ColumnInt64(5);
  r.rejected = st.ColumnInt64(6);
  r.rejects_bytes = static_cast<uint64_t>(st.ColumnInt64(7));
  r.done = st.ColumnInt64(8) != 0;
  r.started_ms = st.ColumnInt64(9);
  r.updated_ms = st.ColumnInt64(10);
  return std::optional<ImportRow>(std::move(r));
}

Status SqliteTransaction::PutImport(const ImportRow& row) {
  Stmt& st = conn_.Prepare(
      "INSERT OR REPLACE INTO imports (tenant, kind, digest, offset, line, rows, added, updated, "
      "unchanged, rejected, rejects_bytes, done, started_ms, updated_ms) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  st.BindText(1, row.tenant);
  st.BindText(2, row.kind);
  st.BindBlob(3, row.digest);
  st.BindInt64(4, static_cast<int64_t>(row.offset));
  st.BindInt64(5, static_cast<int64_t>(row.line));
  st.BindInt64(6, row.rows);
  st.BindInt64(7, row.added);
  st.BindInt64(8, row.updated);
  st.BindInt64(9, row.unchanged);
  st.BindInt64(10, row.rejected);
  st.BindInt64(11, static_cast<int64_t>(row.rejects_bytes));
  st.BindInt64(12, row.done ? 1 : 0);
  st.BindInt64(13, row.started_ms);
  st.BindInt64(14, row.updated_ms);
  return st.Run();
}

constexpr const char* kRecordColumns = "tenant, id, subject, kind, at_ms, created_ms, payload";

RecordRow ReadRecord(Stmt& st) {
  RecordRow r;
  r.tenant = st.ColumnText(0);
  r.id = st.ColumnText(1);
  r.subject = st.ColumnText(2);
  r.kind = st.ColumnText(3);
  r.at_ms = st.ColumnInt64(4);
  r.created_ms = st.ColumnInt64(5);
  r.payload = st.ColumnBlob(6);
  return r;
}

Result<std::optional<RecordRow>> SqliteTransaction::GetRecord(std::string_view tenant,
                                                              std::string_view record) {
  static const std::string sql =
      std::string("SELECT ") + kRecordColumns + " FROM records WHERE tenant = ? AND id = ?";
  Stmt& st = conn_.Prepare(sql.c_str());
  st.BindText(1, tenant);
  st.BindText(2, record);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<RecordRow>();
  return std::optional<RecordRow>(ReadRecord(st));
}

Result<std::vector<RecordRow>> SqliteTransaction::ListRecords(std::string_view tenant,
                                                              std::string_view subject,
                                                              std::string_view kind) {
  static const std::string sql = std::string("SELECT ") + kRecordColumns +
                                 " FROM records WHERE tenant = ? AND subject = ? AND "
                                 "(?3 = '' OR kind = ?3) ORDER BY at_ms, id";
  Stmt& st = conn_.Prepare(sql.c_str());
  st.BindText(1, tenant);
  st.BindText(2, subject);
  st.BindText(3, kind);
  std::vector<RecordRow> out;
  RETURN_IF_ERROR(ForEachRow(st, [&] {
    out.push_back(ReadRecord(st));
  }));
  return out;
}

Status SqliteTransaction::PutRecordEvent(std::string_view tenant, std::string_view record,
                                         const RecordEventRow& event) {
  Stmt& st = conn_.Prepare(
      "INSERT INTO record_events (tenant, record, event, at_ms) VALUES (?, ?, ?, ?) "
      "ON CONFLICT (tenant, record, event) DO UPDATE SET at_ms = excluded.at_ms");
  st.BindText(1, tenant);
  st.BindText(2, record);
  st.BindText(3, event.event);
  st.BindInt64(4, event.at_ms);
  return st.Run();
}

Result<std::vector<RecordEventRow>> SqliteTransaction::RecordEvents(std::string_view tenant,
                                                                    std::string_view record) {
  Stmt& st = conn_.Prepare(
      "SELECT event, at_ms FROM record_events WHERE tenant = ? AND record = ? ORDER BY at_ms");
  st.BindText(1, tenant);
  st.BindText(2, record);
  std::vector<RecordEventRow> out;
  RETURN_IF_ERROR(ForEachRow(st, [&] {
    out.push_back({st.ColumnText(0), st.ColumnInt64(1)});
  }));
  return out;
}

Result<int64_t> SqliteTransaction::AppendAudit(const audit::Event& event) {
  int64_t seq = 1;
  if (!last_hash_) {
    Stmt& head = conn_.Prepare("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
    ASSIGN_OR_RETURN(bool row, head.Step());
    if (row) {
      last_seq_ = head.ColumnInt64(0);
      last_hash_ = head.ColumnBlob(1);
    } else {
      last_seq_ = 0;
      last_hash_ = audit::GenesisHash();
    }
  }
  seq = last_seq_ + 1;
  std::string canonical = event.Canonical();
  std::string hash = audit::ChainHash(*last_hash_, canonical);
  Stmt& ins = conn_.Prepare("INSERT INTO audit (seq, tenant, event, hash) VALUES (?, ?, ?, ?)");
  ins.BindInt64(1, seq);
  ins.BindText(2, event.tenant);
  ins.BindText(3, canonical);
  ins.BindBlob(4, hash);
  Status s = ins.Run();
  if (!s.ok()) return Status::Unavailable("audit log: cannot append event: " + s.message());
  last_seq_ = seq;
  last_hash_ = std::move(hash);
  ++appended_;
  return seq;
}

// The filters of ListAudit; unset ones (empty strings, NULL times) pass every
// event. ?2 after_seq, ?3 to_seq, ?4 subject, ?5 actor, ?6 action,
// ?7 purpose, ?8 from_ms, ?9 to_ms, ?10 with_prev, ?11 limit.
#define CUSTODIAN_AUDIT_FILTERS                                                           \
  " AND a.seq > ?2 AND (?3 = 0 OR a.seq <= ?3)"                                          \
  " AND (?4 = '' OR json_extract(a.event, '$.subject') = ?4 OR EXISTS"                   \
  " (SELECT 1 FROM json_each(a.event, '$.subjects') WHERE value = ?4))"                  \
  " AND (?5 = '' OR json_extract(a.event, '$.actor') = ?5)"                              \
  " AND (?6 = '' OR json_extract(a.event, '$.action') = ?6)"                             \
  " AND (?7 = '' OR json_extract(a.event, '$.purpose') = ?7)"                            \
  " AND (?8 IS NULL OR json_extract(a.event, '$.time_ms') >= ?8)"                        \
  " AND (?9 IS NULL OR json_extract(a.event, '$.time_ms') < ?9)"                         \
  " ORDER BY a.seq LIMIT ?11"
#define CUSTODIAN_AUDIT_COLUMNS \
  "SELECT a.seq, a.event, a.hash, CASE WHEN ?10 THEN (SELECT p.hash FROM audit p WHERE p.seq = a.seq - 1) END FROM audit a"

Result<std::vector<AuditRow>> SqliteTransaction::ListAudit(const AuditFilter& f) {
  // Two statements so that a tenant's query walks the (tenant, seq) index.
  Stmt& st = f.tenant.empty()
                 ? conn_.Prepare(CUSTODIAN_AUDIT_COLUMNS " WHERE ?1 = ''" CUSTODIAN_AUDIT_FILTERS)
                 : conn_.Prepare(CUSTODIAN_AUDIT_COLUMNS
                                  " WHERE a.tenant = ?1" CUSTODIAN_AUDIT_FILTERS);
  st.BindText(1, f.tenant);
  st.BindInt64(2, f.after_seq);
  st.BindInt64(3, f.to_seq);
  st.BindText(4, f.subject);
  st.BindText(5, f.actor);
  st.BindText(6, f.action);
  st.BindText(7, f.purpose);
  st.BindOptionalInt64(8, f.from_ms);
  st.BindOptionalInt64(9, f.to_ms);
  st.BindInt64(10, f.with_prev ? 1 : 0);
  st.BindInt64(11, f.limit);
  std::vector<AuditRow> out;
  RETURN_IF_ERROR(ForEachRow(st, [&] {
    AuditRow r;
    r.event.seq = st.ColumnInt64(0);
    r.event.canonical = st.ColumnText(1);
    r.event.hash = st.ColumnBlob(2);
    if (f.with_prev) {
      r.prev_hash = st.ColumnIsNull(3) ? audit::GenesisHash() : st.ColumnBlob(3);
    }
    out.push_back(std::move(r));
  }));
  return out;
}
#undef CUSTODIAN_AUDIT_FILTERS
#undef CUSTODIAN_AUDIT_COLUMNS

Result<std::optional<std::pair<int64_t, std::string>>> SqliteTransaction::AuditHead() {
  Stmt& st = conn_.Prepare("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<std::pair<int64_t, std::string>>();
  return std::optional<std::pair<int64_t, std::string>>(
      std::pair<int64_t, std::string>{st.ColumnInt64(0), st.ColumnBlob(1)});
}

Result<std::optional<std::string>> SqliteTransaction::AuditHash(int64_t seq) {
  Stmt& st = conn_.Prepare("SELECT hash FROM audit WHERE seq = ?");
  st.BindInt64(1, seq);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(st.ColumnBlob(0));
}

Result<std::optional<std::pair<int64_t, int64_t>>> SqliteTransaction::AuditSeqRange(
    std::string_view tenant, std::optional<int64_t> from_ms, std::optional<int64_t> to_ms) {
  Stmt& st = conn_.Prepare(
      "SELECT min(seq), max(seq) FROM audit WHERE (?1 = '' OR tenant = ?1)"
      " AND (?2 IS NULL OR json_extract(event, '$.time_ms') >= ?2)"
      " AND (?3 IS NULL OR json_extract(event, '$.time_ms') < ?3)");
  st.BindText(1, tenant);
  st.BindOptionalInt64(2, from_ms);
  st.BindOptionalInt64(3, to_ms);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row || st.ColumnIsNull(0)) return std::optional<std::pair<int64_t, int64_t>>();
  return std::optional<std::pair<int64_t, int64_t>>(
      std::pair<int64_t, int64_t>{st.ColumnInt64(0), st.ColumnInt64(1)});
}

Result<std::optional<AuditKeyRow>> SqliteTransaction::GetAuditKey() {
  Stmt& st = conn_.Prepare(
      "SELECT id, public_key, wrapped_seed, created_ms FROM audit_keys ORDER BY id DESC LIMIT 1");
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<AuditKeyRow>();
  return std::optional<AuditKeyRow>(
      AuditKeyRow{st.ColumnInt64(0), st.ColumnBlob(1), st.ColumnBlob(2), st.ColumnInt64(3)});
}

Status SqliteTransaction::InsertAuditKey(const AuditKeyRow& row) {
  Stmt& st = conn_.Prepare(
      "INSERT INTO audit_keys (id, public_key, wrapped_seed, created_ms) VALUES (?, ?, ?, ?)");
  st.BindInt64(1, row.id);
  st.BindBlob(2, row.public_key);
  st.BindBlob(3, row.wrapped_seed);
  st.BindInt64(4, row.created_ms);
  return st.Run();
}

Status SqliteTransaction::InsertAuditCheckpoint(const audit::Checkpoint& cp) {
  Stmt& st = conn_.Prepare(
      "INSERT INTO audit_checkpoints (seq, head_hash, time_ms, key_id, signature) "
      "VALUES (?, ?, ?, ?, ?)");
  st.BindInt64(1, cp.seq);
  st.BindBlob(2, cp.head_hash);
  st.BindInt64(3, cp.time_ms);
  st.BindText(4, cp.key_id);
  st.BindBlob(5, cp.signature);
  Status s = st.Run();
  if (s.code() == StatusCode::kAlreadyExists) {
    return Status::AlreadyExists("a checkpoint at audit event " + std::to_string(cp.seq) +
                                 " exists");
  }
  return s;
}

namespace {
constexpr const char* kCheckpointColumns = "seq, head_hash, time_ms, key_id, signature";
audit::Checkpoint ReadCheckpoint(Stmt& st) {
  return audit::Checkpoint{st.ColumnInt64(0), st.ColumnBlob(1), st.ColumnInt64(2),
                           st.ColumnText(3), st.ColumnBlob(4)};
}
}  // namespace

Result<std::vector<audit::Checkpoint>> SqliteTransaction::ListAuditCheckpoints(int64_t after_seq,
                                                                               int64_t to_seq,
                                                                               int limit) {
  static const std::string sql = std::string("SELECT ") + kCheckpointColumns +
                                 " FROM audit_checkpoints WHERE seq > ? AND (? = 0 OR seq <= ?) "
                                 "ORDER BY seq LIMIT ?";
  Stmt& st = conn_.Prepare(sql.c_str());
  st.BindInt64(1, after_seq);
  st.BindInt64(2, to_seq);
  st.BindInt64(3, to_seq);
  st.BindInt64(4, limit);
  std::vector<audit::Checkpoint> out;
  RETURN_IF_ERROR(ForEachRow(st, [&] {
    out.push_back(ReadCheckpoint(st));
  }));
  return out;
}

Result<std::optional<audit::Checkpoint>> SqliteTransaction::GetAuditCheckpoint(int64_t seq) {
  static const std::string sql =
      std::string("SELECT ") + kCheckpointColumns + " FROM audit_checkpoints WHERE seq = ?";
  Stmt& st = conn_.Prepare(sql.c_str());
  st.BindInt64(1, seq);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<audit::Checkpoint>();
  return std::optional<audit::Checkpoint>(ReadCheckpoint(st));
}

Result<std::optional<audit::Checkpoint>> SqliteTransaction::LastAuditCheckpoint() {
  static const std::string sql = std::string("SELECT ") + kCheckpointColumns +
                                 " FROM audit_checkpoints ORDER BY seq DESC LIMIT 1";
  Stmt& st = conn_.Prepare(sql.c_str());
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<audit::Checkpoint>();
  return std::optional<audit::Checkpoint>(ReadCheckpoint(st));
}

// --- credentials ----------------------------------------------------------------

constexpr const char* kApiKeyColumns =
    "tenant, id, name, role, digest, created_ms, revoked_ms, last_used_ms, rate_per_second, "
    "rate_burst";

ApiKeyRow ReadApiKey(Stmt& st) {
  ApiKeyRow r;
  r.tenant = st.ColumnText(0);
  r.id = st.ColumnText(1);
  r.name = st.ColumnText(2);
  r.role = st.ColumnText(3);
  r.digest = st.ColumnBlob(4);
  r.created_ms = st.ColumnInt64(5);
  if (!st.ColumnIsNull(6)) r.revoked_ms = st.ColumnInt64(6);
  if (!st.ColumnIsNull(7)) r.last_used_ms = st.ColumnInt64(7);
  if (!st.ColumnIsNull(8)) r.rate_per_second = st.ColumnDouble(8);
  if (!st.ColumnIsNull(9)) r.rate_burst = st.ColumnDouble(9);
  return r;
}

Status SqliteTransaction::InsertApiKey(const ApiKeyRow& row) {
  Stmt& st = conn_.Prepare(
      "INSERT INTO api_keys (tenant, id, name, role, digest, created_ms, revoked_ms, "
      "last_used_ms, rate_per_second, rate_burst) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  st.BindText(1, row.tenant);
  st.BindText(2, row.id);
  st.BindText(3, row.name);
  st.BindText(4, row.role);
  st.BindBlob(5, row.digest);
  st.BindInt64(6, row.created_ms);
  st.BindOptionalInt64(7, row.revoked_ms);
  st.BindOptionalInt64(8, row.last_used_ms);
  st.BindOptionalDouble(9, row.rate_per_second);
  st.BindOptionalDouble(10, row.rate_burst);
  Status s = st.Run();
  if (s.code() == StatusCode::kAlreadyExists) {
    return Status::AlreadyExists("api key '" + row.id + "' already exists");
  }
  return s;
}

Result<std::optional<ApiKeyRow>> SqliteTransaction::FindApiKey(std::string_view key_id) {
  static const std::string sql =
      std::string("SELECT ") + kApiKeyColumns + " FROM api_keys WHERE id = ?";
  Stmt& st = conn_.Prepare(sql.c_str());
  st.BindText(1, key_id);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<ApiKeyRow>();
  return std::optional<ApiKeyRow>(ReadApiKey(st));
}

Result<std::vector<ApiKeyRow>> SqliteTransaction::ListApiKeys(std::string_view tenant) {
  static const std::string sql = std::string("SELECT ") + kApiKeyColumns +
                                 " FROM api_keys WHERE tenant = ? ORDER BY created_ms, id";
  Stmt& st = conn_.Prepare(sql.c_str());
  st.BindText(1, tenant);
  std::vector<ApiKeyRow> out;
  RETURN_IF_ERROR(ForEachRow(st, [&] {
    out.push_back(ReadApiKey(st));
  }));
  return out;
}

Status SqliteTransaction::RevokeApiKey(std::string_view tenant, std::string_view key_id,
                                       int64_t revoked_ms) {
  Stmt& st = conn_.Prepare("UPDATE api_keys SET revoked_ms = ? WHERE tenant = ? AND id = ?");
  st.BindInt64(1, revoked_ms);
  st.BindText(2, tenant);
  st.BindText(3, key_id);
  RETURN_IF_ERROR(st.Run());
  if (sqlite3_changes(conn_.db.raw()) == 0) {
    return Status::NotFound("api key '" + std::string(key_id) + "' does not exist in tenant '" +
                            std::string(tenant) + "'");
  }
  return Status::Ok();
}

Status SqliteTransaction::TouchApiKey(std::string_view tenant, std::string_view key_id,
                                      int64_t used_ms) {
  Stmt& st = conn_.Prepare("UPDATE api_keys SET last_used_ms = ? WHERE tenant = ? AND id = ?");
  st.BindInt64(1, used_ms);
  st.BindText(2, tenant);
  st.BindText(3, key_id);
  return st.Run();
}

constexpr const char* kOperatorColumns =
    "tenant, id, email_digest, email_sealed, role, password_hash, totp_sealed, last_totp_step, "
    "created_ms";

Result<std::optional<OperatorRow>> ReadOperator(Stmt& st) {
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<OperatorRow>();
  OperatorRow r;
  r.tenant = st.ColumnText(0);
  r.id = st.ColumnText(1);
  r.email_digest = st.ColumnBlob(2);
  r.email_sealed = st.ColumnBlob(3);
  r.role = st.ColumnText(4);
  r.password_hash = st.ColumnText(5);
  r.totp_sealed = st.ColumnBlob(6);
  r.last_totp_step = st.ColumnInt64(7);
  r.created_ms = st.ColumnInt64(8);
  return std::optional<OperatorRow>(std::move(r));
}

Status SqliteTransaction::InsertOperator(const OperatorRow& row) {
  Stmt& st = conn_.Prepare(
      "INSERT INTO operators (tenant, id, email_digest, email_sealed, role, password_hash, "
      "totp_sealed, last_totp_step, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  st.BindText(1, row.tenant);
  st.BindText(2, row.id);
  st.BindBlob(3, row.email_digest);
  st.BindBlob(4, row.email_sealed);
  st.BindText(5, row.role);
  st.BindText(6, row.password_hash);
  st.BindBlob(7, row.totp_sealed);
  st.BindInt64(8, row.last_totp_step);
  st.BindInt64(9, row.created_ms);
  Status s = st.Run();
  if (s.code() == StatusCode::kAlreadyExists) {
    return Status::AlreadyExists("an operator with this email already exists in tenant '" +
                                 row.tenant + "'");
  }
  return s;
}

Result<std::optional<OperatorRow>> SqliteTransaction::GetOperator(std::string_view tenant,
                                                                  std::string_view operator_id) {
  static const std::string sql = std::string("SELECT ") + kOperatorColumns +
                                 " FROM operators WHERE tenant = ? AND id = ?";
  Stmt& st = conn_.Prepare(sql.c_str());
  st.BindText(1, tenant);
  st.BindText(2, operator_id);
  return ReadOperator(st);
}

Result<std::optional<OperatorRow>> SqliteTransaction::FindOperatorByEmail(
    std::string_view tenant, std::string_view email_digest) {
  static const std::string sql = std::string("SELECT ") + kOperatorColumns +
                                 " FROM operators WHERE tenant = ? AND email_digest = ?";
  Stmt& st = conn_.Prepare(sql.c_str());
  st.BindText(1, tenant);
  st.BindBlob(2, email_digest);
  return ReadOperator(st);
}

Status SqliteTransaction::SetOperatorTotpStep(std::string_view tenant,
                                              std::string_view operator_id, int64_t step) {
  Stmt& st =
      conn_.Prepare("UPDATE operators SET last_totp_step = ? WHERE tenant = ? AND id = ?");
  st.BindInt64(1, step);
  st.BindText(2, tenant);
  st.BindText(3, operator_id);
  RETURN_IF_ERROR(st.Run());
  if (sqlite3_changes(conn_.db.raw()) == 0) {
    return Status::NotFound("operator '" + std::string(operator_id) +
                            "' does not exist in tenant '" + std::string(tenant) + "'");
  }
  return Status::Ok();
}

Status SqliteTransaction::InsertSession(const SessionRow& row) {
  Stmt& st = conn_.Prepare(
      "INSERT INTO sessions (id, tenant, operator, token_digest, csrf_digest, created_ms, "
      "expires_ms, revoked_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  st.BindText(1, row.id);
  st.BindText(2, row.tenant);
  st.BindText(3, row.operator_id);
  st.BindBlob(4, row.token_digest);
  st.BindBlob(5, row.csrf_digest);
  st.BindInt64(6, row.created_ms);
  st.BindInt64(7, row.expires_ms);
  st.BindOptionalInt64(8, row.revoked_ms);
  return st.Run();
}

Result<std::optional<SessionRow>> SqliteTransaction::FindSession(std::string_view session_id) {
  Stmt& st = conn_.Prepare(
      "SELECT tenant, id, operator, token_digest, csrf_digest, created_ms, expires_ms, "
      "revoked_ms FROM sessions WHERE id = ?");
  st.BindText(1, session_id);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<SessionRow>();
  SessionRow r;
  r.tenant = st.ColumnText(0);
  r.id = st.ColumnText(1);
  r.operator_id = st.ColumnText(2);
  r.token_digest = st.ColumnBlob(3);
  r.csrf_digest = st.ColumnBlob(4);
  r.created_ms = st.ColumnInt64(5);
  r.expires_ms = st.ColumnInt64(6);
  if (!st.ColumnIsNull(7)) r.revoked_ms = st.ColumnInt64(7);
  return std::optional<SessionRow>(std::move(r));
}

Status SqliteTransaction::RevokeSession(std::string_view tenant, std::string_view session_id,
                                        int64_t revoked_ms) {
  Stmt& st = conn_.Prepare(
      "UPDATE sessions SET revoked_ms = coalesce(revoked_ms, ?) WHERE tenant = ? AND id = ?");
  st.BindInt64(1, revoked_ms);
  st.BindText(2, tenant);
  st.BindText(3, session_id);
  RETURN_IF_ERROR(st.Run());
  if (sqlite3_changes(conn_.db.raw()) == 0) {
    return Status::NotFound("session '" + std::string(session_id) +
                            "' does not exist in tenant '" + std::string(tenant) + "'");
  }
  return Status::Ok();
}

Status SqliteTransaction::PurgeSessions(std::string_view tenant, int64_t before_ms) {
  Stmt& st = conn_.Prepare(
      "DELETE FROM sessions WHERE tenant = ?1 AND (expires_ms < ?2 OR revoked_ms < ?2)");
  st.BindText(1, tenant);
  st.BindInt64(2, before_ms);
  return st.Run();
}

Status SqliteTransaction::InsertPortalSession(const PortalSessionRow& row) {
  Stmt& st = conn_.Prepare(
      "INSERT INTO portal_sessions (id, tenant, subject, channel, contact_digest, code_digest, "
      "attempts, token_digest, csrf_digest, created_ms, expires_ms, revoked_ms) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  st.BindText(1, row.id);
  st.BindText(2, row.tenant);
  st.BindText(3, row.subject);
  st.BindText(4, row.channel);
  st.BindBlob(5, row.contact_digest);
  st.BindBlobOrNull(6, row.code_digest);
  st.BindInt64(7, row.attempts);
  st.BindBlobOrNull(8, row.token_digest);
  st.BindBlobOrNull(9, row.csrf_digest);
  st.BindInt64(10, row.created_ms);
  st.BindInt64(11, row.expires_ms);
  st.BindOptionalInt64(12, row.revoked_ms);
  return st.Run();
}

Result<std::optional<PortalSessionRow>> SqliteTransaction::FindPortalSession(
    std::string_view id) {
  Stmt& st = conn_.Prepare(
      "SELECT tenant, id, subject, channel, contact_digest, code_digest, attempts, "
      "token_digest, csrf_digest, created_ms, expires_ms, revoked_ms FROM portal_sessions "
      "WHERE id = ?");
  st.BindText(1, id);
  ASSIGN_OR_RETURN(bool found, st.Step());
  if (!found) return std::optional<PortalSessionRow>();
  PortalSessionRow r;
  r.tenant = st.ColumnText(0);
  r.id = st.ColumnText(1);
  r.subject = st.ColumnText(2);
  r.channel = st.ColumnText(3);
  r.contact_digest = st.ColumnBlob(4);
  r.code_digest = st.ColumnBlob(5);
  r.attempts = st.ColumnInt64(6);
  r.token_digest = st.ColumnBlob(7);
  r.csrf_digest = st.ColumnBlob(8);
  r.created_ms = st.ColumnInt64(9);
  r.expires_ms = st.ColumnInt64(10);
  if (!st.ColumnIsNull(11)) r.revoked_ms = st.ColumnInt64(11);
  return std::optional<PortalSessionRow>(std::move(r));
}

Status SqliteTransaction::UpdatePortalSession(const PortalSessionRow& row) {
  Stmt& st = conn_.Prepare(
      "UPDATE portal_sessions SET code_digest = ?, attempts = ?, token_digest = ?, "
      "csrf_digest = ?, expires_ms = ?, revoked_ms = ? WHERE tenant = ? AND id = ?");
  st.BindBlobOrNull(1, row.code_digest);
  st.BindInt64(2, row.attempts);
  st.BindBlobOrNull(3, row.token_digest);
  st.BindBlobOrNull(4, row.csrf_digest);
  st.BindInt64(5, row.expires_ms);
  st.BindOptionalInt64(6, row.revoked_ms);
  st.BindText(7, row.tenant);
  st.BindText(8, row.id);
  RETURN_IF_ERROR(st.Run());
  if (sqlite3_changes(conn_.db.raw()) == 0) {
    return Status::NotFound("portal sign-in '" + row.id + "' does not exist in tenant '" +
                            row.tenant + "'");
  }
  return Status::Ok();
}

Result<int64_t> SqliteTransaction::CountPortalStarts(std::string_view tenant,
                                                     std::string_view contact_digest,
                                                     int64_t since_ms) {
  Stmt& st = conn_.Prepare(
      "SELECT count(*) FROM portal_sessions WHERE tenant = ? AND contact_digest = ? AND "
      "created_ms > ?");
  st.BindText(1, tenant);
  st.BindBlob(2, contact_digest);
  st.BindInt64(3, since_ms);
  ASSIGN_OR_RETURN(bool row, st.Step());
  (void)row;
  return st.ColumnInt64(0);
}

Status SqliteTransaction::PurgePortalSessions(int64_t before_ms) {
  Stmt& st = conn_.Prepare("DELETE FROM portal_sessions WHERE created_ms < ?");
  st.BindInt64(1, before_ms);
  return st.Run();
}

// --- Retention -----------------------------------------------------------------

Result<std::vector<int64_t>> SqliteTransaction::DueRecordKeys(std::string_view tenant,
                                                              std::string_view kind,
                                                              RecordAnchor anchor,
                                                              std::string_view event,
                                                              int64_t before_ms) {
  // Joins start from the closed subjects (a partial index) or the anchor
  // events, and find records by subject or id: `+r.kind` keeps SQLite from
  // scanning every record of the kind for each of them instead.
  const char* sql = nullptr;
  switch (anchor) {
    case RecordAnchor::kCollected:
      sql = "SELECT rowid FROM records WHERE tenant = ?1 AND kind = ?2 AND at_ms < ?3";
      break;
    case RecordAnchor::kClosed:
      sql =
          "SELECT r.rowid FROM subjects s CROSS JOIN records r ON r.tenant = s.tenant AND "
          "r.subject = s.id WHERE s.tenant = ?1 AND s.state = 1 AND s.closed_ms < ?3 AND "
          "+r.kind = ?2";
      break;
    case RecordAnchor::kEvent:
      sql =
          "SELECT r.rowid FROM record_events e CROSS JOIN records r ON r.tenant = e.tenant AND "
          "r.id = e.record WHERE e.tenant = ?1 AND e.event = ?4 AND e.at_ms < ?3 AND +r.kind = ?2";
      break;
  }
  Stmt& st = conn_.Prepare(sql);
  st.BindText(1, tenant);
  st.BindText(2, kind);
  st.BindInt64(3, before_ms);
  if (anchor == RecordAnchor::kEvent) st.BindText(4, event);
  std::vector<int64_t> out;
  RETURN_IF_ERROR(ForEachRow(st, [&] {
    out.push_back(st.ColumnInt64(0));
  }));
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<PurgedRecord>> SqliteTransaction::DeleteRecordsByKey(
    std::string_view tenant, const std::vector<int64_t>& keys, int64_t now_ms) {
  // The hold check is part of the delete itself: a record under a standing
  // hold cannot be deleted by the sweep, whatever the caller computed.
  Stmt& st = conn_.Prepare(
      "DELETE FROM records WHERE rowid = ?1 AND tenant = ?2 AND NOT EXISTS ("
      "SELECT 1 FROM retention_holds h WHERE h.tenant = records.tenant AND "
      "h.subject = records.subject AND (h.record = '' OR h.record = records.id) AND "
      "h.released_ms IS NULL AND (h.until_ms IS NULL OR h.until_ms > ?3)) "
      "RETURNING subject, id");
  std::vector<PurgedRecord> out;
  out.reserve(keys.size());
  for (int64_t key : keys) {
    st.Reset();
    st.BindInt64(1, key);
    st.BindText(2, tenant);
    st.BindInt64(3, now_ms);
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) continue;
    out.push_back({st.ColumnText(0), st.ColumnText(1)});
    ASSIGN_OR_RETURN(bool more, st.Step());
    (void)more;
  }
  st.Reset();
  return out;
}

Result<std::vector<std::string>> SqliteTransaction::RetentionSubjects(
    std::string_view tenant, int64_t closed_before_ms, std::optional<int64_t> updated_before_ms) {
  std::vector<std::string> out;
  Stmt& closed = conn_.Prepare(
      "SELECT id FROM subjects WHERE tenant = ? AND state = 1 AND closed_ms < ?");
  closed.BindText(1, tenant);
  closed.BindInt64(2, closed_before_ms);
  RETURN_IF_ERROR(ForEachRow(closed, [&] {
    out.push_back(closed.ColumnText(0));
  }));
  if (updated_before_ms) {
    Stmt& active = conn_.Prepare(
        "SELECT id FROM subjects WHERE tenant = ? AND state = 0 AND updated_ms < ?");
    active.BindText(1, tenant);
    active.BindInt64(2, *updated_before_ms);
    RETURN_IF_ERROR(ForEachRow(active, [&] {
      out.push_back(active.ColumnText(0));
    }));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<RecordKey>> SqliteTransaction::SubjectRecordKeys(std::string_view tenant,
                                                                   std::string_view subject) {
  Stmt& st = conn_.Prepare("SELECT rowid, kind FROM records WHERE tenant = ? AND subject = ?");
  st.BindText(1, tenant);
  st.BindText(2, subject);
  std::vector<RecordKey> out;
  RETURN_IF_ERROR(ForEachRow(st, [&] {
    out.push_back({st.ColumnInt64(0), st.ColumnText(1)});
  }));
  return out;
}

Result<std::vector<int64_t>> SqliteTransaction::ShreddedRecordKeys(std::string_view tenant) {
  Stmt& st = conn_.Prepare(
      "SELECT r.rowid FROM shredded s CROSS JOIN records r ON r.tenant = s.tenant AND "
      "r.subject = s.subject WHERE s.tenant = ?");
  st.BindText(1, tenant);
  std::vector<int64_t> out;
  RETURN_IF_ERROR(ForEachRow(st, [&] {
    out.push_back(st.ColumnInt64(0));
  }));
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::map<std::string, int64_t>> SqliteTransaction::ShreddedRecordsByKind(
    std::string_view tenant) {
  Stmt& st = conn_.Prepare(
      "SELECT r.kind, count(*) FROM shredded s CROSS JOIN records r ON r.tenant = s.tenant AND "
      "r.subject = s.subject WHERE s.tenant = ? GROUP BY r.kind");
  st.BindText(1, tenant);
  std::map<std::string, int64_t> out;
  RETURN_IF_ERROR(ForEachRow(st, [&] {
    out[st.ColumnText(0)] = st.ColumnInt64(1);
  }));
  return out;
}

Result<Compacted> SqliteTransaction::CompactShredded(std::string_view tenant, int limit) {
  std::vector<std::string> subjects;
  {
    Stmt& st = conn_.Prepare("SELECT subject FROM shredded WHERE tenant = ? LIMIT ?");
    st.BindText(1, tenant);
    st.BindInt64(2, limit);
    RETURN_IF_ERROR(ForEachRow(st, [&] {
      subjects.push_back(st.ColumnText(0));
    }));
  }
  Compacted out;
  Stmt& del = conn_.Prepare("DELETE FROM records WHERE tenant = ? AND subject = ?");
  Stmt& done = conn_.Prepare("DELETE FROM shredded WHERE tenant = ? AND subject = ?");
  for (const std::string& subject : subjects) {
    for (Stmt* st : {&del, &done}) {
      st->Reset();
      st->BindText(1, tenant);
      st->BindText(2, subject);
      RETURN_IF_ERROR(st->Run());
      if (st == &del) out.records += sqlite3_changes(conn_.db.raw());
    }
    ++out.subjects;
  }
  return out;
}

Result<bool> SqliteTransaction::HasRecords(std::string_view tenant, std::string_view subject) {
  Stmt& st =
      conn_.Prepare("SELECT EXISTS (SELECT 1 FROM records WHERE tenant = ? AND subject = ?)");
  st.BindText(1, tenant);
  st.BindText(2, subject);
  ASSIGN_OR_RETURN(bool row, st.Step());
  (void)row;
  return st.ColumnInt64(0) != 0;
}

Status SqliteTransaction::DeleteIndexEntries(std::string_view tenant, std::string_view subject,
                                             const std::vector<std::string>& categories) {
  Stmt& del = conn_.Prepare(
      "DELETE FROM subject_index WHERE tenant = ? AND subject = ? AND category = ?");
  for (const std::string& c : categories) {
    del.Reset();
    del.BindText(1, tenant);
    del.BindText(2, subject);
    del.BindText(3, c);
    RETURN_IF_ERROR(del.Run());
  }
  return Status::Ok();
}

Status SqliteTransaction::ScanSubjects(std::string_view tenant, bool closed_only,
                                       const std::function<bool(const SubjectRow&)>& fn) {
  static const std::string all = std::string("SELECT ") + kSubjectColumns +
                                 " FROM subjects WHERE tenant = ? AND state != 2";
  static const std::string closed =
      std::string("SELECT ") + kSubjectColumns + " FROM subjects WHERE tenant = ? AND state = 1";
  Stmt& st = conn_.Prepare(closed_only ? closed.c_str() : all.c_str());
  st.BindText(1, tenant);
  while (true) {
    ASSIGN_OR_RETURN(std::optional<SubjectRow> row, ReadSubject(st));
    if (!row) break;
    if (!fn(*row)) break;
  }
  st.Reset();
  return Status::Ok();
}

Result<std::vector<DayCount>> SqliteTransaction::RecordAnchorDays(std::string_view tenant,
                                                                  std::string_view kind,
                                                                  RecordAnchor anchor,
                                                                  std::string_view event,
                                                                  int offset_minutes) {
  // Local day = floor((t + offset) / day); the +/- shift keeps the integer
  // division a floor for times before 1970 too.
  const char* sql = nullptr;
  switch (anchor) {
    case RecordAnchor::kCollected:
      sql =
          "SELECT (at_ms + ?3 + 3155760000000000) / 86400000 - 36525000 AS d, count(*) "
          "FROM records WHERE tenant = ?1 AND kind = ?2 GROUP BY d";
      break;
    case RecordAnchor::kClosed:
      sql =
          "SELECT (s.closed_ms + ?3 + 3155760000000000) / 86400000 - 36525000 AS d, count(*) "
          "FROM subjects s CROSS JOIN records r ON r.tenant = s.tenant AND r.subject = s.id "
          "WHERE s.tenant = ?1 AND s.state = 1 AND +r.kind = ?2 GROUP BY d";
      break;
    case RecordAnchor::kEvent:
      sql =
          "SELECT (e.at_ms + ?3 + 3155760000000000) / 86400000 - 36525000 AS d, count(*) "
          "FROM record_events e CROSS JOIN records r ON r.tenant = e.tenant AND r.id = e.record "
          "WHERE e.tenant = ?1 AND e.event = ?4 AND +r.kind = ?2 GROUP BY d";
      break;
  }
  Stmt& st = conn_.Prepare(sql);
  st.BindText(1, tenant);
  st.BindText(2, kind);
  st.BindInt64(3, int64_t{offset_minutes} * 60'000);
  if (anchor == RecordAnchor::kEvent) st.BindText(4, event);
  std::vector<DayCount> out;
  RETURN_IF_ERROR(ForEachRow(st, [&] {
    out.push_back({st.ColumnInt64(0), st.ColumnInt64(1)});
  }));
  return out;
}

Result<int64_t> SqliteTransaction::CountRecords(std::string_view tenant, std::string_view kind) {
  Stmt& st = conn_.Prepare("SELECT count(*) FROM records WHERE tenant = ? AND kind = ?");
  st.BindText(1, tenant);
  st.BindText(2, kind);
  ASSIGN_OR_RETURN(bool row, st.Step());
  (void)row;
  return st.ColumnInt64(0);
}

constexpr const char* kHoldColumns =
    "tenant, id, subject, record, reason_sealed, actor, created_ms, until_ms, released_ms, "
    "released_by";

HoldRow ReadHold(Stmt& st) {
  HoldRow h;
  h.tenant = st.ColumnText(0);
  h.id = st.ColumnText(1);
  h.subject = st.ColumnText(2);
  h.record = st.ColumnText(3);
  h.reason_sealed = st.ColumnBlob(4);
  h.actor = st.ColumnText(5);
  h.created_ms = st.ColumnInt64(6);
  if (!st.ColumnIsNull(7)) h.until_ms = st.ColumnInt64(7);
  if (!st.ColumnIsNull(8)) h.released_ms = st.ColumnInt64(8);
  h.released_by = st.ColumnText(9);
  return h;
}

Status SqliteTransaction::InsertHold(const HoldRow& row) {
  static const std::string sql = std::string("INSERT INTO retention_holds (") + kHoldColumns +
                                 ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  Stmt& st = conn_.Prepare(sql.c_str());
  st.BindText(1, row.tenant);
  st.BindText(2, row.id);
  st.BindText(3, row.subject);
  st.BindText(4, row.record);
  st.BindBlob(5, row.reason_sealed);
  st.BindText(6, row.actor);
  st.BindInt64(7, row.created_ms);
  st.BindOptionalInt64(8, row.until_ms);
  st.BindOptionalInt64(9, row.released_ms);
  st.BindText(10, row.released_by);
  return st.Run();
}

Result<std::optional<HoldRow>> SqliteTransaction::GetHold(std::string_view tenant,
                                                          std::string_view id) {
  static const std::string sql = std::string("SELECT ") + kHoldColumns +
                                 " FROM retention_holds WHERE tenant = ? AND id = ?";
  Stmt& st = conn_.Prepare(sql.c_str());
  st.BindText(1, tenant);
  st.BindText(2, id);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<HoldRow>();
  return std::optional<HoldRow>(ReadHold(st));
}

Status SqliteTransaction::ReleaseHold(std::string_view tenant, std::string_view id,
                                      int64_t released_ms, std::string_view released_by) {
  Stmt& st = conn_.Prepare(
      "UPDATE retention_holds SET released_ms = ?, released_by = ? WHERE tenant = ? AND id = ?");
  st.BindInt64(1, released_ms);
  st.BindText(2, released_by);
  st.BindText(3, tenant);
  st.BindText(4, id);
  RETURN_IF_ERROR(st.Run());
  if (sqlite3_changes(conn_.db.raw()) == 0) {
    return Status::NotFound("hold '" + std::string(id) + "' does not exist in tenant '" +
                            std::string(tenant) + "'");
  }
  return Status::Ok();
}

Result<std::vector<HoldRow>> SqliteTransaction::ListHolds(std::string_view tenant,
                                                          std::string_view subject,
                                                          std::optional<int64_t> standing_at) {
  static const std::string sql =
      std::string("SELECT ") + kHoldColumns +
      " FROM retention_holds WHERE tenant = ?1 AND (?2 = '' OR subject = ?2) ORDER BY "
      "created_ms, id";
  Stmt& st = conn_.Prepare(sql.c_str());
  st.BindText(1, tenant);
  st.BindText(2, subject);
  std::vector<HoldRow> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    HoldRow h = ReadHold(st);
    if (standing_at && !h.Stands(*standing_at)) continue;
    out.push_back(std::move(h));
  }
  return out;
}

Status SqliteTransaction::AddToAggregate(const AggregateRow& row) {
  Stmt& st = conn_.Prepare(
      "INSERT INTO retention_aggregates (tenant, rule, digest, sealed, count) "
      "VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant, rule, digest) "
      "DO UPDATE SET count = count + excluded.count");
  st.BindText(1, row.tenant);
  st.BindText(2, row.rule);
  st.BindBlob(3, row.digest);
  st.BindBlob(4, row.sealed);
  st.BindInt64(5, row.count);
  return st.Run();
}

Result<std::vector<AggregateRow>> SqliteTransaction::ListAggregates(std::string_view tenant) {
  Stmt& st = conn_.Prepare(
      "SELECT tenant, rule, digest, sealed, count FROM retention_aggregates WHERE tenant = ? "
      "ORDER BY rule, count DESC, digest");
  st.BindText(1, tenant);
  std::vector<AggregateRow> out;
  RETURN_IF_ERROR(ForEachRow(st, [&] {
    out.push_back({st.ColumnText(0), st.ColumnText(1), st.ColumnBlob(2), st.ColumnBlob(3),
                   st.ColumnInt64(4)});
  }));
  return out;
}

Result<bool> SqliteTransaction::TakeLease(std::string_view name, std::string_view holder,
                                          int64_t now_ms, int64_t expires_ms) {
  Stmt& st = conn_.Prepare(
      "INSERT INTO retention_lease (name, holder, expires_ms) VALUES (?1, ?2, ?4) "
      "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
      "expires_ms = excluded.expires_ms WHERE retention_lease.holder = ?2 OR "
      "retention_lease.holder = '' OR retention_lease.expires_ms <= ?3");
  st.BindText(1, name);
  st.BindText(2, holder);
  st.BindInt64(3, now_ms);
  st.BindInt64(4, expires_ms);
  RETURN_IF_ERROR(st.Run());
  return sqlite3_changes(conn_.db.raw()) > 0;
}

Result<std::optional<std::pair<std::string, int64_t>>> SqliteTransaction::GetLease(
    std::string_view name) {
  Stmt& st = conn_.Prepare(
      "SELECT holder, expires_ms FROM retention_lease WHERE name = ? AND holder != ''");
  st.BindText(1, name);
  ASSIGN_OR_RETURN(bool row, st.Step());
  using Lease = std::optional<std::pair<std::string, int64_t>>;
  if (!row) return Lease();
  return Lease(std::make_pair(st.ColumnText(0), st.ColumnInt64(1)));
}

Status SqliteTransaction::ReleaseLease(std::string_view name, std::string_view holder) {
  Stmt& st = conn_.Prepare(
      "UPDATE retention_lease SET holder = '', expires_ms = 0 WHERE name = ? AND holder = ?");
  st.BindText(1, name);
  st.BindText(2, holder);
  return st.Run();
}

Status SqliteTransaction::PutSweep(const SweepRow& row) {
  Stmt& st = conn_.Prepare(
      "INSERT OR REPLACE INTO retention_sweeps (tenant, started_ms, finished_ms, due, purged, "
      "held, overdue) VALUES (?, ?, ?, ?, ?, ?, ?)");
  st.BindText(1, row.tenant);
  st.BindInt64(2, row.started_ms);
  st.BindInt64(3, row.finished_ms);
  st.BindInt64(4, row.due);
  st.BindInt64(5, row.purged);
  st.BindInt64(6, row.held);
  st.BindInt64(7, row.overdue);
  return st.Run();
}

Result<std::vector<SweepRow>> SqliteTransaction::ListSweeps() {
  Stmt& st = conn_.Prepare(
      "SELECT tenant, started_ms, finished_ms, due, purged, held, overdue FROM retention_sweeps "
      "ORDER BY tenant");
  std::vector<SweepRow> out;
  RETURN_IF_ERROR(ForEachRow(st, [&] {
    out.push_back({st.ColumnText(0), st.ColumnInt64(1), st.ColumnInt64(2), st.ColumnInt64(3),
                   st.ColumnInt64(4), st.ColumnInt64(5), st.ColumnInt64(6)});
  }));
  return out;
}

Status Migrate(Db& db) {
  RETURN_IF_ERROR(db.Exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
      "applied_ms INTEGER NOT NULL)"));
  Stmt cur(db, "SELECT coalesce(max(version), 0) FROM schema_migrations");
  ASSIGN_OR_RETURN(bool row, cur.Step());
  (void)row;
  int64_t version = cur.ColumnInt64(0);
  cur.Reset();
  if (version > kSchemaVersion) {
    return Status::FailedPrecondition(
        "the data directory was written by a newer custodian (schema version " +
        std::to_string(version) + ", this build knows up to " + std::to_string(kSchemaVersion) +
        "); upgrade custodian to open it");
  }
  for (int v = static_cast<int>(version) + 1; v <= kSchemaVersion; ++v) {
    RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
    Status s = db.Exec(kMigrations[v - 1]);
    if (s.ok()) {
      Stmt mark(db,
                "INSERT INTO schema_migrations (version, applied_ms) "
                "VALUES (?, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))");
      mark.BindInt64(1, v);
      s = mark.Run();
    }
    if (!s.ok()) {
      (void)db.Exec("ROLLBACK");
      return s.WithContext("schema migration " + std::to_string(v));
    }
    RETURN_IF_ERROR(db.Exec("COMMIT"));
  }
  return Status::Ok();
}

}  // namespace

const char* SubjectStateName(SubjectState s) {
  switch (s) {
    case SubjectState::kActive: return "active";
    case SubjectState::kClosed: return "closed";
    case SubjectState::kErased: return "erased";
  }
  return "unknown";
}

const char* RequestStateName(RequestState s) {
  switch (s) {
    case RequestState::kReceived: return "received";
    case RequestState::kVerifying: return "verifying";
    case RequestState::kVerified: return "verified";
    case RequestState::kInProgress: return "in_progress";
    case RequestState::kCompleted: return "completed";
    case RequestState::kRejected: return "rejected";
    case RequestState::kExpired: return "expired";
    case RequestState::kHeld: return "held";
  }
  return "unknown";
}

const char* MessageStateName(MessageState s) {
  switch (s) {
    case MessageState::kQueued: return "queued";
    case MessageState::kSending: return "sending";
    case MessageState::kSent: return "sent";
    case MessageState::kDead: return "dead";
    case MessageState::kRefused: return "refused";
  }
  return "unknown";
}

const char* ConsentStateName(ConsentState s) {
  switch (s) {
    case ConsentState::kGranted: return "granted";
    case ConsentState::kWithdrawn: return "withdrawn";
    case ConsentState::kObjected: return "objected";
    case ConsentState::kNotObjected: return "not_objected";
  }
  return "unknown";
}

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const SqliteOptions& options) {
  if (options.checkpoint_pages < 1) {
    return Status::InvalidArgument("checkpoint_pages must be 1 or more, not " +
                                   std::to_string(options.checkpoint_pages));
  }
  ASSIGN_OR_RETURN(Db db, Db::Open(path, options.create_if_missing));
  RETURN_IF_ERROR(db.Exec("PRAGMA journal_mode = WAL"));
  RETURN_IF_ERROR(db.Exec("PRAGMA secure_delete = ON"));
  RETURN_IF_ERROR(db.Exec("PRAGMA foreign_keys = ON"));
  RETURN_IF_ERROR(db.Exec("PRAGMA synchronous = FULL"));
  RETURN_IF_ERROR(db.Exec("PRAGMA busy_timeout = 5000"));
  // SQLite's default page cache is 2 MiB; the blind-index and external-id
  // B-trees take random inserts, so a small cache turns every batch into
  // reads of pages just evicted.
  RETURN_IF_ERROR(db.Exec(("PRAGMA cache_size = -" + std::to_string(options.cache_kib)).c_str()));
  // SqliteOptions::checkpoint_pages: by default every 64 MiB of WAL rather
  // than SQLite's 4 MiB, so that a page rewritten by several commits is copied
  // to the database once, with fewer checkpoint fsyncs.
  RETURN_IF_ERROR(db.Exec(
      ("PRAGMA wal_autocheckpoint = " + std::to_string(options.checkpoint_pages)).c_str()));
  RETURN_IF_ERROR(db.Exec("PRAGMA journal_size_limit = 67108864"));
  RETURN_IF_ERROR(Migrate(db).WithContext(path));
  return std::unique_ptr<Store>(new SqliteStore(std::move(db), path, options));
}

}  // namespace custodian::store
