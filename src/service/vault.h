// The vault: the one door to a tenant's personal data.
//
// Every use case authorizes (tenant x role x purpose, from the tenant's
// policy), works in one store transaction, appends its audit event in that same
// transaction and returns only after the commit: if the audit event cannot be
// written, the operation fails and nothing is returned (fail closed).
// Values are sealed with the subject's key before they reach the store;
// indexed categories also get a blind-index digest of their normalized value.
// Erasure destroys the subject key (crypto-shredding) and its index entries.
//
// Errors are Status codes with messages safe to log: they name tenants,
// subject ids, categories and purposes, never a personal value or a key.
// Thread-safety: a Vault may be shared between threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/event.h"
#include "custodian/status.h"
#include "policy/model.h"
#include "store/store.h"

namespace custodian::service {

// Who is asking. `role` is checked against the policy's purposes.
struct Actor {
  std::string id = "cli";
  std::string role;
};

// Milliseconds since the Unix epoch; injected so tests can set the time.
using Clock = std::function<int64_t()>;
int64_t SystemClockMs();

struct VaultOptions {
  std::string data_dir;
  Clock clock = SystemClockMs;
};

inline constexpr std::size_t kMaxValueBytes = 64 * 1024;

struct FieldInput {
  std::string category;  // a category key declared in the tenant's policy
  std::string value;
};

struct SubjectInput {
  std::vector<FieldInput> fields;
  std::optional<std::string> external_id;
};

struct AddSubjectResult {
  std::string subject_id;
  bool created = false;
  int fields_changed = 0;    // written because new or different
  int fields_unchanged = 0;  // already held with the same value
};

struct FieldValue {
  std::string category;
  std::string label;
  std::string value;
};

// What a purpose-bound read returns.
struct SubjectView {
  std::string id;
  std::string state;  // active | closed
  int64_t created_ms = 0;
  std::optional<int64_t> closed_ms;
  std::vector<FieldValue> fields;      // only the categories the purpose may use
  std::vector<std::string> withheld;   // categories held but not shown (keys only)
};

// Lookup by an indexed value: `kind` is a normalizer name ("phone", "email")
// matching every indexed category with that normalizer, or a category key.
struct LookupQuery {
  std::string kind;
  std::string value;
};

inline constexpr std::size_t kMaxRecordPayloadBytes = 256 * 1024;

struct RecordInput {
  std::string kind;          // a record kind declared in the policy
  int64_t at_ms = 0;         // when it happened
  std::string payload_json;  // a JSON object
};

struct RecordView {
  std::string id;
  std::string subject;
  std::string kind;
  std::string category;      // the kind's category
  int64_t at_ms = 0;
  std::string payload_json;  // decrypted, as stored
  std::vector<std::pair<std::string, int64_t>> events;  // anchor event -> time
};

struct RecordList {
  std::vector<RecordView> records;     // kinds the purpose may use
  std::vector<std::string> withheld;   // kinds held but not shown ("billing x3")
};

struct TenantInfo {
  std::string id;
  std::string policy_version;
  int64_t subjects = 0;
};

// Bulk import (service/import_batch.cc; the CSV side is src/import). A batch's
// rows are validated one by one: a bad row gets kRejected with a reason (never
// a value) and the others are written.
enum class ImportOutcome { kAdded, kUpdated, kUnchanged, kRejected };

struct ImportRowResult {
  ImportOutcome outcome = ImportOutcome::kAdded;
  int field = -1;      // kRejected: index of the input field at fault, or -1 (the whole row)
  std::string reason;  // kRejected: what is wrong, safe to log
};

struct RecordImportInput {
  std::string subject_external_id;  // the subject's external id, as given to subject imports
  RecordInput record;
};

// Runs inside a batch's transaction once every row has its outcome, before the
// commit: the importer writes (and syncs) what goes with the batch, such as
// its rejects, and returns the rejects file's new length, stored with the
// progress. An error rolls the batch back.
using ImportBeforeCommit = std::function<Result<uint64_t>(const std::vector<ImportRowResult>&)>;

struct TenantContext;
struct NormalizedField;
struct PreparedImportBatch;

class Vault {
 public:
  // Creates `data_dir` (0700) with a new store and, unless CUSTODIAN_MASTER_KEY
  // is set, a master key file `master.key` (0600). AlreadyExists if the
  // directory already holds a store.
  static Status Init(const std::string& data_dir);
  // Opens an initialized data directory. The master key comes from
  // CUSTODIAN_MASTER_KEY when set, else from DATA_DIR/master.key.
  static Result<std::unique_ptr<Vault>> Open(VaultOptions options);
  static std::string StorePath(const std::string& data_dir);
  static std::string MasterKeyPath(const std::string& data_dir);

  ~Vault();

  // Registers a tenant with its policy (YAML text, checked first; `source_name`
  // names it in diagnostics) and a fresh tenant key wrapped by the master key.
  Status CreateTenant(const Actor& actor, std::string_view tenant, std::string_view policy_yaml,
                      const std::string& source_name);
  Result<TenantInfo> GetTenant(std::string_view tenant);

  // Adds a subject, or with `external_id` upserts: fields given replace those
  // held for the same category; others are kept.
  Result<AddSubjectResult> AddSubject(const Actor& actor, std::string_view tenant,
                                      const std::vector<FieldInput>& fields,
                                      const std::optional<std::string>& external_id);

  // The batch form: one transaction for the whole batch, all or nothing.
  // Every subject is validated and normalized before anything is written.
  Result<std::vector<AddSubjectResult>> AddSubjects(const Actor& actor, std::string_view tenant,
                                                    const std::vector<SubjectInput>& batch);

  Result<SubjectView> ShowSubject(const Actor& actor, std::string_view tenant,
                                  std::string_view subject, std::string_view purpose);
  Result<std::vector<SubjectView>> Lookup(const Actor& actor, std::string_view tenant,
                                          const LookupQuery& query, std::string_view purpose);
  // Many lookups for one purpose in one transaction (one audit event per hit
  // or miss, as for single lookups); result i answers query i.
  Result<std::vector<std::vector<SubjectView>>> LookupMany(const Actor& actor,
                                                           std::string_view tenant,
                                                           const std::vector<LookupQuery>& queries,
                                                           std::string_view purpose);
  // Marks the subject closed at `at_ms` (default: now): the retention anchor.
  Status CloseSubject(const Actor& actor, std::string_view tenant, std::string_view subject,
                      std::optional<int64_t> at_ms);
  // Crypto-shreds the subject.
  Status EraseSubject(const Actor& actor, std::string_view tenant, std::string_view subject);

  // Records: sealed under the subject's key, read only for a purpose that may
  // use the kind's category, audited like fields.
  Result<std::string> AddRecord(const Actor& actor, std::string_view tenant,
                                std::string_view subject, const RecordInput& record);
  // Sets the time of an anchor event the record's kind declares ("verified").
  Status RecordEvent(const Actor& actor, std::string_view tenant, std::string_view record,
                     std::string_view event, int64_t at_ms);
  Result<RecordList> ListRecords(const Actor& actor, std::string_view tenant,
                                 std::string_view subject, std::string_view purpose,
                                 std::string_view kind);

  // --- Bulk import (service/import_batch.cc) ---
  // The tenant's policy (for checking an import mapping). NotFound if no such tenant.
  Result<std::shared_ptr<const policy::Policy>> TenantPolicy(std::string_view tenant);
  // The id under which an import's progress is kept: a digest of `identity`
  // (what names the import: file, size, first bytes, mapping) keyed with the
  // tenant's index key, so the store holds nothing derived from data in clear.
  Result<std::string> ImportId(std::string_view tenant, std::string_view identity);
  // The stored progress of import (kind, id), nullopt if none.
  Result<std::optional<store::ImportRow>> GetImport(std::string_view tenant, std::string_view kind,
                                                    std::string_view import_id);
  // One batch of a subject import, in ONE transaction: every valid row is
  // upserted by external id (as AddSubjects, one audit event per subject),
  // `before_commit` runs, and `progress` (the caller's new position, row and
  // reject counts; this adds the outcome counts and the rejects length) is
  // stored. Result i is row i's outcome. `phone_region` overrides the
  // policy's region for phone numbers without a country code ("" = policy's).
  // On error nothing is written and `progress` is unchanged.
  Result<std::vector<ImportRowResult>> ImportSubjectBatch(const Actor& actor,
                                                          std::string_view tenant,
                                                          std::string_view phone_region,
                                                          const std::vector<SubjectInput>& rows,
                                                          store::ImportRow& progress,
                                                          const ImportBeforeCommit& before_commit);
  // The same for records of one kind. A record's id is a keyed digest of
  // (kind, subject, time, payload), so importing the same row twice inserts
  // it once (the second is kUnchanged). A row whose subject does not exist is
  // rejected. One audit event per batch ("record.import") lists every subject touched.
  Result<std::vector<ImportRowResult>> ImportRecordBatch(
      const Actor& actor, std::string_view tenant, std::string_view kind,
      const std::vector<RecordImportInput>& rows, store::ImportRow& progress,
      const ImportBeforeCommit& before_commit);

  // The two halves of the batch calls above, so that an importer can prepare
  // batch N+1 on one thread while batch N commits on another. Prepare*
  // validates, normalizes, digests and (subjects) seals new subjects ahead,
  // without touching the store; it may run on any thread. CommitImportBatch
  // writes one prepared batch in one transaction, exactly as Import*Batch.
  // Import*Batch(...) == Commit(Prepare(...)).
  Result<std::shared_ptr<PreparedImportBatch>> PrepareSubjectBatch(
      std::string_view tenant, std::string_view phone_region, const std::vector<SubjectInput>& rows);
  Result<std::shared_ptr<PreparedImportBatch>> PrepareRecordBatch(
      std::string_view tenant, std::string_view kind, std::vector<RecordImportInput> rows);
  Result<std::vector<ImportRowResult>> CommitImportBatch(const Actor& actor,
                                                         PreparedImportBatch& batch,
                                                         store::ImportRow& progress,
                                                         const ImportBeforeCommit& before_commit);

  Result<audit::VerifyReport> VerifyAudit();
  store::Store& store();

 private:
  struct Impl;
  struct PreparedSubject;
  explicit Vault(std::unique_ptr<Impl> impl);
  Result<std::shared_ptr<const TenantContext>> TenantFor(std::string_view tenant);
  friend struct PreparedImportBatch;
  Result<PreparedSubject> Prepare(const TenantContext& t, const SubjectInput& in);
  // Digests of the indexed fields and, with seal_ahead, the row of a new subject.
  void Finish(const TenantContext& t, PreparedSubject& p, bool seal_ahead);
  Result<AddSubjectResult> Write(store::Transaction& tx, const TenantContext& t,
                                 const Actor& actor, PreparedSubject& in);
  Status WriteRecords(store::Transaction& tx, const TenantContext& t, const Actor& actor,
                      const PreparedImportBatch& batch, std::vector<ImportRowResult>& results);
  std::unique_ptr<Impl> impl_;
};

}  // namespace custodian::service
