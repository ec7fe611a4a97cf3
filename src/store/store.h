// The Store: where tenants, subjects, their sealed fields, blind-index entries
// and the audit chain live. Shaped by the service's use cases, not by SQL, so
// that the SQLite backend (store/sqlite) and a later PostgreSQL backend pass the
// same tests.
//
// Everything the store holds about a subject is already sealed by the service
// (store never sees a plaintext value or an unwrapped key). Every method takes
// the tenant, and every query is scoped by it: no method can reach another
// tenant's rows.
//
// Work happens in a Transaction: the service reads, writes and appends its
// audit event in one transaction, and the operation counts only if Commit()
// succeeds (fail closed). A Transaction that is destroyed uncommitted rolls
// back. Thread-safety: a Store may be shared between threads; a Transaction
// belongs to one thread. The SQLite backend runs one write transaction at a
// time: Begin(true) and VerifyAudit() wait while another write transaction is
// open. Read transactions (Begin(false)) run beside it on their own
// connections and see the last committed state (never another transaction's
// uncommitted work); they may not write. A thread must finish (commit or
// destroy) its transaction before starting more store work.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/checkpoint.h"
#include "audit/event.h"
#include "custodian/status.h"

namespace custodian::store {

struct TenantRow {
  std::string id;                 // "interjet"
  std::string wrapped_key;        // tenant key, wrapped by the master key
  uint32_t key_version = 1;
  std::string policy_yaml;        // the policy document in force
  std::string policy_version;     // its `version:`
  int64_t created_ms = 0;
};

enum class SubjectState { kActive, kClosed, kErased };
const char* SubjectStateName(SubjectState s);

struct SubjectRow {
  std::string tenant;
  std::string id;                  // "sub_..." random, not personal
  std::string external_digest;     // keyed digest of the caller's external id ("" = none)
  std::string wrapped_key;         // subject key wrapped by the tenant key ("" once erased)
  SubjectState state = SubjectState::kActive;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  std::optional<int64_t> closed_ms;
  std::optional<int64_t> erased_ms;
  std::string fields;              // sealed fields, encoded by the service ("" once erased)
  // Processing restricted (a restriction request, or what an erasure kept
  // under a legal obligation): only purposes resting on a legal obligation
  // (or vital interests) may read it.
  bool restricted = false;
};

struct IndexEntry {
  std::string category;
  std::string digest;              // blind-index digest (raw bytes)
};

// A time-stamped item attached to a subject (billing line, service log,
// media reference...). The payload is sealed by the service with the
// subject's key; kind, times and anchor events stay in clear for retention.
struct RecordRow {
  std::string tenant;
  std::string id;        // "rec_..." random
  std::string subject;
  std::string kind;      // a record kind declared in the policy
  int64_t at_ms = 0;     // when it happened
  int64_t created_ms = 0;
  std::string payload;   // sealed JSON object
};

// The progress of one bulk import (src/import): where the next batch starts in
// the input and what the batches so far did. Written in the same transaction
// as the batch's rows, so a crash leaves the rows and the position in step.
struct ImportRow {
  std::string tenant;
  std::string kind;       // "subjects" or "records:<kind>"
  std::string digest;     // keyed digest naming the import (file identity + mapping)
  uint64_t offset = 0;    // byte offset of the next unread CSV record
  uint64_t line = 1;      // its line number
  int64_t rows = 0;       // data rows read so far
  int64_t added = 0;
  int64_t updated = 0;
  int64_t unchanged = 0;
  int64_t rejected = 0;
  uint64_t rejects_bytes = 0;  // length of the rejects file that goes with this state
  bool done = false;      // the last batch has been committed
  int64_t started_ms = 0;
  int64_t updated_ms = 0;
};

struct RecordEventRow {
  std::string event;     // an anchor declared by the record's kind ("verified")
  int64_t at_ms = 0;
};

// --- Consent ledger (service/consent.cc) ------------------------------------
// The current choice per (subject, purpose) in clear, so that a read or a send
// checks it with one point lookup; the history sealed with the subject key, so
// that erasure shreds it.

enum class ConsentState {
  kGranted = 1,       // consent-based purpose: the subject agreed
  kWithdrawn = 2,     // consent-based purpose: the subject said no (or withdrew)
  kObjected = 3,      // legitimate-interest purpose: the subject objected
  kNotObjected = 4,   // legitimate-interest purpose: an objection was lifted
};
const char* ConsentStateName(ConsentState s);  // "granted", "not_objected"...

struct ConsentRow {
  std::string tenant;
  std::string subject;
  std::string purpose;
  ConsentState state = ConsentState::kWithdrawn;
  int64_t at_ms = 0;     // when the subject made the choice
};

struct ConsentEventRow {
  std::string tenant;
  std::string subject;
  int64_t seq = 0;       // assigned by the store, increasing
  int64_t at_ms = 0;
  std::string sealed;    // the event (state, source, actor, evidence...), sealed
};

// --- Channels (service/channels.cc): per-tenant delivery settings ----------
struct ChannelRow {
  std::string tenant;
  std::string name;      // "settings"
  std::string sealed;    // the settings document, sealed with the tenant's channel key
  int64_t updated_ms = 0;
};

// --- The outbox (service/outbox.cc) ----------------------------------------
enum class MessageState {
  kQueued = 1,    // waiting for its next attempt (next_attempt_ms)
  kSending = 2,   // claimed by a worker until next_attempt_ms (its lease)
  kSent = 3,      // the provider accepted it
  kDead = 4,      // failed for good (permanent error or attempts used up)
  kRefused = 5,   // not sent: consent missing at send time, subject erased...
};
const char* MessageStateName(MessageState s);  // "queued", "sending"...

struct MessageRow {
  std::string tenant;
  std::string id;               // "msg_..."
  std::string idempotency_key;  // the caller's key ("" = none)
  std::string subject;          // the recipient subject ("" = an address given directly)
  std::string purpose;          // the purpose it serves
  std::string channel;          // sms | whatsapp | email
  std::string sealed;           // recipient address (when given), email subject, text: sealed
  MessageState state = MessageState::kQueued;
  int64_t attempts = 0;
  int64_t next_attempt_ms = 0;
  std::string last_error;       // safe to show: never an address or text
  std::string provider_id;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  std::optional<int64_t> sent_ms;
};

// A website visitor's cookie choice (service/cookies.cc): append-only.
struct CookieChoiceRow {
  std::string tenant;
  std::string visitor;         // the random id the banner made (a pseudonymous online id)
  int64_t seq = 0;             // assigned by the store
  std::string choices;         // JSON object: category id -> true/false
  std::string policy_version;  // the policy the banner showed
  int64_t at_ms = 0;
};

// --- Data-subject requests (service/requests.cc) ---------------------------
enum class RequestState {
  kReceived = 1,
  kVerifying = 2,
  kVerified = 3,
  kInProgress = 4,
  kCompleted = 5,
  kRejected = 6,
  kExpired = 7,
  kHeld = 8,        // verification failed too often: an operator must verify by hand
};
const char* RequestStateName(RequestState s);  // "received", "in_progress"...

struct RequestRow {
  std::string tenant;
  std::string id;              // "req_..."
  std::string subject;         // "" for a grievance from someone not on file
  std::string type;            // access | portability | correction | erasure | objection |
                               // restriction | consent_withdrawal | grievance
  RequestState state = RequestState::kReceived;
  std::string verification;    // otp | operator | none
  std::string assigned;        // operator or actor handling it ("" = nobody yet)
  std::string sealed;          // details and resolution text, sealed
  int64_t received_ms = 0;
  int64_t due_ms = 0;
  int64_t updated_ms = 0;
  std::optional<int64_t> closed_ms;  // completed, rejected or expired
  std::string otp_digest;      // keyed digest of the verification code sent ("" = none)
  int64_t otp_expires_ms = 0;
  int64_t otp_attempts = 0;    // wrong codes entered
  std::optional<int64_t> extended_ms;  // when the deadline was extended (at most once)
};

// An access or portability export (service/exports.cc): the zip bundle,
// sealed with the tenant's channel key, downloadable once through a token
// naming the tenant and export, with a random secret of which only a keyed
// digest is kept. `sealed` is dropped ("") at
// the download or when it expires.
struct ExportRow {
  std::string tenant;
  std::string id;              // "exp_..."
  std::string request_id;
  std::string subject;
  std::string sealed;
  std::string sha256;          // hex SHA-256 of the zip (evidence)
  int64_t bytes = 0;
  std::string token_digest;
  int64_t created_ms = 0;
  int64_t expires_ms = 0;
  std::optional<int64_t> downloaded_ms;
};

// What an erasure kept because a legal obligation requires it (a category
// key, or "records:<kind>"), until when, under which retention rule. The
// retention sweep purges it at until_ms and sets purged_ms.
struct ErasureHoldRow {
  std::string tenant;
  std::string request_id;
  std::string subject;
  std::string item;
  int64_t until_ms = 0;
  std::string rule;
  std::string reason;
  std::optional<int64_t> purged_ms;
};

// --- Disclosures (service/disclosures.cc, docs/disclosures.md) --------------
// That categories of some subjects went to a recipient declared in the policy,
// for a purpose. No personal value: ids, policy keys, the legal reference
// (checked by the service to be a reference, not prose) and times. Kept when
// a subject is erased: they are the controller's evidence of what went where.
struct DisclosureRow {
  std::string tenant;
  std::string id;                       // "dis_..."
  std::string recipient;                // a recipient id of the policy
  std::string purpose;
  std::vector<std::string> categories;  // category keys
  std::string legal_reference;          // an authority's order number ("" = none)
  std::string actor;
  std::string role;
  int64_t at_ms = 0;                    // when the data was shared
  int64_t recorded_ms = 0;              // when custodian recorded it
  int64_t subjects = 0;                 // how many subjects it covers
  bool exported = false;                // custodian produced the payload
};

// What a report counts about one record kind.
struct RecordKindCount {
  std::string kind;
  int64_t records = 0;                  // records with at_ms in the period
  std::vector<std::string> subjects;    // subjects with a record of the kind (any time), sorted
};

// --- Credentials (service/access.cc): API keys, operators, sessions ---------
// Secrets are never stored: only keyed digests (BLAKE2b under the tenant's
// credential subkey) and, for operators, Argon2id hashes and sealed blobs.

struct ApiKeyRow {
  std::string tenant;
  std::string id;                  // the key id (public: it is in the token)
  std::string name;                // what it is for ("crm"), may be ""
  std::string role;                // the role the key acts in
  std::string digest;              // keyed digest of the secret part (raw bytes)
  int64_t created_ms = 0;
  std::optional<int64_t> revoked_ms;
  std::optional<int64_t> last_used_ms;
  // The key's own request rate limit (requests a second, and at once after
  // idle); none: the server's (`custodian serve --api-key-rate`).
  std::optional<double> rate_per_second;
  std::optional<double> rate_burst;
};

struct OperatorRow {
  std::string tenant;
  std::string id;
  std::string email_digest;        // keyed digest of the normalized email (login lookup)
  std::string email_sealed;        // the normalized email, sealed
  std::string role;
  std::string password_hash;       // Argon2id, self-describing
  std::string totp_sealed;         // the TOTP secret, sealed
  int64_t last_totp_step = 0;      // the last time step accepted (replay guard)
  int64_t created_ms = 0;
};

struct SessionRow {
  std::string tenant;
  std::string id;                  // the session id (public: it is in the token)
  std::string operator_id;
  std::string token_digest;        // keyed digest of the token's secret part
  std::string csrf_digest;         // keyed digest of the CSRF token
  int64_t created_ms = 0;
  int64_t expires_ms = 0;
  std::optional<int64_t> revoked_ms;
};

// A privacy-portal sign-in (service/portal.cc, docs/portal.md): first a
// challenge (a code sent to a contact on file), then, once the code was
// right, the person's session. Secrets are keyed digests, as for sessions.
struct PortalSessionRow {
  std::string tenant;
  std::string id;                  // public: it is in the challenge and the token
  std::string subject;             // "" when the contact matched no one subject (no code sent)
  std::string channel;             // sms | email: where the code went
  std::string contact_digest;      // keyed digest of the normalized contact (rate limit)
  std::string code_digest;         // keyed digest of the code; "" once used or dead
  int64_t attempts = 0;            // wrong codes so far
  std::string token_digest;        // "" until signed in
  std::string csrf_digest;         // "" until signed in
  int64_t created_ms = 0;
  int64_t expires_ms = 0;          // the code's, then the session's
  std::optional<int64_t> revoked_ms;  // signed out
};

// The audit trail's signing key (docs/audit.md): an Ed25519 key whose 32-byte
// seed is wrapped by the master key; the public key is kept in clear.
struct AuditKeyRow {
  int64_t id = 0;              // 1, 2 ... (the newest signs)
  std::string public_key;      // raw 32 bytes
  std::string wrapped_seed;    // the seed, wrapped by the master key
  int64_t created_ms = 0;
};

// Which audit events ListAudit returns: seq order, after `after_seq`, up to
// `to_seq` (0: no bound), at most `limit`. Empty strings and unset times do
// not filter. `subject` matches an event's subject or one of its subjects.
struct AuditFilter {
  std::string tenant;          // "" = every tenant
  int64_t after_seq = 0;
  int64_t to_seq = 0;
  std::string subject, actor, action, purpose;
  std::optional<int64_t> from_ms;  // event time >= from_ms
  std::optional<int64_t> to_ms;    // event time < to_ms
  int limit = 1000;
  bool with_prev = false;      // fill AuditRow::prev_hash
};

struct AuditRow {
  audit::StoredEvent event;
  std::string prev_hash;       // raw 32 bytes, with AuditFilter::with_prev
};

// --- Retention (service/retention*.cc, docs/retention.md) -------------------

// A legal hold: while it stands (not released, `until_ms` not reached) the
// retention sweep purges nothing of the subject (record == "") or of the record.
struct HoldRow {
  std::string tenant;
  std::string id;                    // "hold_..."
  std::string subject;
  std::string record;                // "" = the whole subject
  std::string reason_sealed;         // the reason, sealed with a tenant key
  std::string actor;                 // who placed it
  int64_t created_ms = 0;
  std::optional<int64_t> until_ms;   // lapses by itself then
  std::optional<int64_t> released_ms;
  std::string released_by;
  bool Stands(int64_t now_ms) const {
    return !released_ms && (!until_ms || now_ms < *until_ms);
  }
};

// An anonymized aggregate: how many closed accounts had this combination of
// generalized values (sealed), under one anonymize rule. No subject id.
struct AggregateRow {
  std::string tenant;
  std::string rule;
  std::string digest;    // keyed digest of the combination: the row's identity
  std::string sealed;    // the combination (JSON), sealed with a tenant key
  int64_t count = 0;
};

// What the last retention sweep of a tenant found and did.
struct SweepRow {
  std::string tenant;
  int64_t started_ms = 0;
  int64_t finished_ms = 0;
  int64_t due = 0;       // items due when it started (held ones excluded)
  int64_t purged = 0;    // items deleted or anonymized
  int64_t held = 0;      // due items kept by a legal hold
  int64_t overdue = 0;   // due items it left (an error or a lost lease stopped it)
};

// What a record's retention period counts from.
enum class RecordAnchor {
  kCollected,  // the record's at_ms
  kClosed,     // its subject's closed_ms (closed subjects only)
  kEvent,      // the time of one of its anchor events
};

// A count of items whose anchor fell on one local day (days since 1970-01-01).
struct DayCount {
  int64_t day = 0;
  int64_t count = 0;
};

// A record the sweep deleted.
struct PurgedRecord {
  std::string subject;
  std::string id;
};

// A record's opaque key (as DueRecordKeys returns them) and its kind.
struct RecordKey {
  int64_t key = 0;
  std::string kind;
};

// What one CompactShredded call removed.
struct Compacted {
  int64_t subjects = 0;
  int64_t records = 0;
};

class Transaction {
 public:
  virtual ~Transaction() = default;

  virtual Result<std::optional<TenantRow>> GetTenant(std::string_view tenant) = 0;
  // AlreadyExists if the id is taken.
  virtual Status InsertTenant(const TenantRow& row) = 0;
  virtual Result<std::vector<std::string>> ListTenants() = 0;

  virtual Result<std::optional<SubjectRow>> GetSubject(std::string_view tenant,
                                                       std::string_view subject) = 0;
  virtual Result<std::optional<SubjectRow>> FindSubjectByExternalId(std::string_view tenant,
                                                                    std::string_view digest) = 0;
  // Subject ids whose `category` index holds `digest`, in id order.
  virtual Result<std::vector<std::string>> FindSubjectsByIndex(std::string_view tenant,
                                                               std::string_view category,
                                                               std::string_view digest) = 0;
  // The rows of the subjects FindSubjectsByIndex finds, in the same order.
  virtual Result<std::vector<SubjectRow>> FindSubjectRowsByIndex(std::string_view tenant,
                                                                 std::string_view category,
                                                                 std::string_view digest) {
    ASSIGN_OR_RETURN(auto ids, FindSubjectsByIndex(tenant, category, digest));
    std::vector<SubjectRow> out;
    for (const std::string& id : ids) {
      ASSIGN_OR_RETURN(auto row, GetSubject(tenant, id));
      if (row) out.push_back(std::move(*row));
    }
    return out;
  }
  // Inserts the subject or replaces the row with the same (tenant, id).
  virtual Status PutSubject(const SubjectRow& row) = 0;
  // Replaces every index entry of the subject with `entries`.
  virtual Status ReplaceIndex(std::string_view tenant, std::string_view subject,
                              const std::vector<IndexEntry>& entries) = 0;
  // Crypto-shredding: drops the wrapped key, the sealed fields, the index
  // entries, the subject's records, consent ledger and export bundles; keeps a tombstone
  // (id, state erased, times). NotFound if absent.
  virtual Status EraseSubject(std::string_view tenant, std::string_view subject,
                              int64_t erased_ms) = 0;
  virtual Result<int64_t> CountSubjects(std::string_view tenant) = 0;

  virtual Status InsertRecord(const RecordRow& row) = 0;
  // Inserts the record unless one with the same (tenant, id) exists: true if
  // inserted, false if it was already there (left untouched).
  virtual Result<bool> InsertRecordIfAbsent(const RecordRow& row) = 0;
  virtual Result<std::optional<RecordRow>> GetRecord(std::string_view tenant,
                                                     std::string_view record) = 0;
  // The subject's records in time order, optionally of one kind ("" = all).
  virtual Result<std::vector<RecordRow>> ListRecords(std::string_view tenant,
                                                     std::string_view subject,
                                                     std::string_view kind) = 0;
  // Sets (or moves) the time of an anchor event of a record.
  virtual Status PutRecordEvent(std::string_view tenant, std::string_view record,
                                const RecordEventRow& event) = 0;
  virtual Result<std::vector<RecordEventRow>> RecordEvents(std::string_view tenant,
                                                           std::string_view record) = 0;

  // --- Consent ledger ---------------------------------------------------------
  virtual Result<std::optional<ConsentRow>> GetConsent(std::string_view tenant,
                                                       std::string_view subject,
                                                       std::string_view purpose) = 0;
  // The subject's current choices, by purpose.
  virtual Result<std::vector<ConsentRow>> ListConsents(std::string_view tenant,
                                                       std::string_view subject) = 0;
  // Inserts or replaces the choice for (tenant, subject, purpose).
  virtual Status PutConsent(const ConsentRow& row) = 0;
  // Appends to the subject's history; returns the event's seq.
  virtual Result<int64_t> AppendConsentEvent(const ConsentEventRow& row) = 0;
  // The subject's history, oldest appended first.
  virtual Result<std::vector<ConsentEventRow>> ListConsentEvents(std::string_view tenant,
                                                                 std::string_view subject) = 0;

  // --- Channels and inbound webhooks -----------------------------------------
  virtual Result<std::optional<ChannelRow>> GetChannel(std::string_view tenant,
                                                       std::string_view name) = 0;
  virtual Status PutChannel(const ChannelRow& row) = 0;
  // Remembers a delivered webhook event: true if new, false if it was seen
  // before (a retry or replay; the caller does nothing twice).
  virtual Result<bool> InsertWebhookEvent(std::string_view tenant, std::string_view provider,
                                          std::string_view event_id, int64_t received_ms) = 0;

  // --- The outbox -------------------------------------------------------------
  // Inserts the message; false (nothing written) if the tenant already has a
  // message with the same non-empty idempotency key.
  virtual Result<bool> InsertMessage(const MessageRow& row) = 0;
  virtual Result<std::optional<MessageRow>> GetMessage(std::string_view tenant,
                                                       std::string_view id) = 0;
  virtual Result<std::optional<MessageRow>> FindMessageByKey(std::string_view tenant,
                                                             std::string_view key) = 0;
  // Messages of every tenant that are queued, or sending with a lease that
  // ran out (a worker died), whose next_attempt_ms <= now_ms; oldest first.
  // Not scoped by tenant: the delivery worker serves all tenants.
  virtual Result<std::vector<MessageRow>> DueMessages(int64_t now_ms, int limit) = 0;
  // Replaces the row with the same (tenant, id). NotFound if absent.
  virtual Status UpdateMessage(const MessageRow& row) = 0;
  // The tenant's messages, newest first, at most `limit`.
  virtual Result<std::vector<MessageRow>> ListMessages(std::string_view tenant, int limit) = 0;

  // --- Cookie choices -----------------------------------------------------------
  virtual Result<int64_t> InsertCookieChoice(const CookieChoiceRow& row) = 0;
  // The visitor's choices, oldest first.
  virtual Result<std::vector<CookieChoiceRow>> ListCookieChoices(std::string_view tenant,
                                                                 std::string_view visitor) = 0;

  // --- Data-subject requests ---------------------------------------------------
  virtual Status InsertRequest(const RequestRow& row) = 0;
  virtual Result<std::optional<RequestRow>> GetRequest(std::string_view tenant,
                                                       std::string_view id) = 0;
  // NotFound if absent.
  virtual Status UpdateRequest(const RequestRow& row) = 0;
  // The tenant's requests, oldest due first; only open ones (not completed,
  // rejected or expired) when `open_only`; only the subject's when `subject`
  // is not empty.
  virtual Result<std::vector<RequestRow>> ListRequests(std::string_view tenant, bool open_only,
                                                       std::string_view subject) = 0;

  // --- Exports and erasure holds ---------------------------------------------------
  virtual Status InsertExport(const ExportRow& row) = 0;
  virtual Result<std::optional<ExportRow>> GetExport(std::string_view tenant,
                                                     std::string_view id) = 0;
  // Marks the export downloaded and drops its bundle. NotFound if absent.
  virtual Status MarkExportDownloaded(std::string_view tenant, std::string_view id,
                                      int64_t at_ms) = 0;
  // Drops the bundles of every tenant's exports whose link expired before
  // `now_ms`; returns how many.
  virtual Result<int64_t> DropExpiredExports(int64_t now_ms) = 0;
  virtual Status InsertErasureHold(const ErasureHoldRow& row) = 0;
  // The holds of one subject (purged or not), by item.
  virtual Result<std::vector<ErasureHoldRow>> ListErasureHolds(std::string_view tenant,
                                                               std::string_view subject) = 0;
  // Marks the subject's erasure holds purged at `now_ms`: those whose end has
  // come (until_ms <= now_ms), or all of them when `all` (the subject was
  // shredded). Returns how many.
  virtual Result<int64_t> MarkErasureHoldsPurged(std::string_view tenant, std::string_view subject,
                                                 bool all, int64_t now_ms) = 0;
  // Deletes what an erasure removes besides fields, index and records: the
  // consent ledger (standing choices and history), export bundles and
  // privacy-portal sign-ins.
  virtual Status DeletePersonalExtras(std::string_view tenant, std::string_view subject) = 0;
  // Deletes the subject's records of the given kinds; returns how many.
  virtual Result<int64_t> DeleteSubjectRecords(std::string_view tenant, std::string_view subject,
                                               const std::vector<std::string>& kinds) = 0;

  // --- Disclosures and reports -------------------------------------------------
  // Inserts the disclosure and one (subject, disclosure) row per subject.
  // AlreadyExists if the id is taken.
  virtual Status InsertDisclosure(const DisclosureRow& row,
                                  const std::vector<std::string>& subjects) = 0;
  // The disclosures that cover `subject`, oldest first (an index hit).
  virtual Result<std::vector<DisclosureRow>> ListSubjectDisclosures(std::string_view tenant,
                                                                    std::string_view subject) = 0;
  // The tenant's disclosures with at_ms in [from_ms, to_ms) (unset: unbounded),
  // oldest first.
  virtual Result<std::vector<DisclosureRow>> ListDisclosures(std::string_view tenant,
                                                             std::optional<int64_t> from_ms,
                                                             std::optional<int64_t> to_ms) = 0;
  // Calls `fn` with every subject row of the tenant (erased ones too), in id
  // order, until it returns false. For reports: nothing is opened.
  virtual Status ScanSubjects(std::string_view tenant,
                              const std::function<bool(const SubjectRow&)>& fn) = 0;
  // Per record kind: the records with at_ms in [from_ms, to_ms) and the
  // subjects holding one, by kind.
  virtual Result<std::vector<RecordKindCount>> CountRecords(std::string_view tenant,
                                                            std::optional<int64_t> from_ms,
                                                            std::optional<int64_t> to_ms) = 0;

  // Bulk-import progress, by (tenant, kind, digest); nullopt if never stored.
  virtual Result<std::optional<ImportRow>> GetImport(std::string_view tenant,
                                                     std::string_view kind,
                                                     std::string_view digest) = 0;
  // Inserts or replaces the progress row with the same (tenant, kind, digest).
  virtual Status PutImport(const ImportRow& row) = 0;

  // --- Credentials -----------------------------------------------------------
  // FindApiKey and FindSession are the only lookups not scoped by tenant:
  // authentication learns the tenant from the row. Every other method is.

  // AlreadyExists if the key id is taken.
  virtual Status InsertApiKey(const ApiKeyRow& row) = 0;
  virtual Result<std::optional<ApiKeyRow>> FindApiKey(std::string_view key_id) = 0;
  // The tenant's keys (revoked ones too), oldest first.
  virtual Result<std::vector<ApiKeyRow>> ListApiKeys(std::string_view tenant) = 0;
  // Sets revoked_ms. NotFound if the tenant has no such key.
  virtual Status RevokeApiKey(std::string_view tenant, std::string_view key_id,
                              int64_t revoked_ms) = 0;
  // Sets last_used_ms (best effort bookkeeping).
  virtual Status TouchApiKey(std::string_view tenant, std::string_view key_id,
                             int64_t used_ms) = 0;

  // AlreadyExists if the id or the email digest is taken in the tenant.
  virtual Status InsertOperator(const OperatorRow& row) = 0;
  virtual Result<std::optional<OperatorRow>> GetOperator(std::string_view tenant,
                                                         std::string_view operator_id) = 0;
  virtual Result<std::optional<OperatorRow>> FindOperatorByEmail(
      std::string_view tenant, std::string_view email_digest) = 0;
  // Sets last_totp_step. NotFound if absent.
  virtual Status SetOperatorTotpStep(std::string_view tenant, std::string_view operator_id,
                                     int64_t step) = 0;

  virtual Status InsertSession(const SessionRow& row) = 0;
  virtual Result<std::optional<SessionRow>> FindSession(std::string_view session_id) = 0;
  // Sets revoked_ms. NotFound if the tenant has no such session.
  virtual Status RevokeSession(std::string_view tenant, std::string_view session_id,
                               int64_t revoked_ms) = 0;
  // Deletes the tenant's sessions that expired or were revoked before `before_ms`.
  virtual Status PurgeSessions(std::string_view tenant, int64_t before_ms) = 0;

  // Privacy-portal sign-ins (PortalSessionRow). FindPortalSession is not
  // scoped by tenant (the id is random); the caller checks the tenant.
  virtual Status InsertPortalSession(const PortalSessionRow& row) = 0;
  virtual Result<std::optional<PortalSessionRow>> FindPortalSession(std::string_view id) = 0;
  // Replaces the mutable columns (code, attempts, token, CSRF, expiry, revocation).
  virtual Status UpdatePortalSession(const PortalSessionRow& row) = 0;
  // How many sign-ins the tenant started for the contact after `after_ms`.
  virtual Result<int64_t> CountPortalStarts(std::string_view tenant,
                                            std::string_view contact_digest,
                                            int64_t after_ms) = 0;
  // Deletes every tenant's portal rows created before `before_ms`.
  virtual Status PurgePortalSessions(int64_t before_ms) = 0;

  // Chains the event onto the audit log. Returns its sequence number.
  virtual Result<int64_t> AppendAudit(const audit::Event& event) = 0;
  // The audit events `filter` selects, in seq order.
  virtual Result<std::vector<AuditRow>> ListAudit(const AuditFilter& filter) = 0;
  // The seq and hash of the newest audit event; nullopt when there is none.
  virtual Result<std::optional<std::pair<int64_t, std::string>>> AuditHead() = 0;
  // The stored hash of event `seq`; nullopt when there is no such event.
  virtual Result<std::optional<std::string>> AuditHash(int64_t seq) = 0;
  // The first and last seq of the events (of `tenant`, "" = all) whose time is
  // in [from_ms, to_ms) (unset: unbounded); nullopt when there is none.
  virtual Result<std::optional<std::pair<int64_t, int64_t>>> AuditSeqRange(
      std::string_view tenant, std::optional<int64_t> from_ms, std::optional<int64_t> to_ms) = 0;

  // The newest audit signing key; nullopt when none was made yet.
  virtual Result<std::optional<AuditKeyRow>> GetAuditKey() = 0;
  virtual Status InsertAuditKey(const AuditKeyRow& row) = 0;
  // AlreadyExists when a checkpoint at that seq exists.
  virtual Status InsertAuditCheckpoint(const audit::Checkpoint& cp) = 0;
  // Checkpoints with seq in (after_seq, to_seq] (to_seq 0: no bound), in seq order, at most `limit`.
  virtual Result<std::vector<audit::Checkpoint>> ListAuditCheckpoints(int64_t after_seq,
                                                                      int64_t to_seq,
                                                                      int limit) = 0;
  virtual Result<std::optional<audit::Checkpoint>> GetAuditCheckpoint(int64_t seq) = 0;
  virtual Result<std::optional<audit::Checkpoint>> LastAuditCheckpoint() = 0;

  // --- Retention ---------------------------------------------------------------
  // Opaque keys (stable while the row lives, ascending) of the tenant's records
  // of `kind` whose anchor lies before `before_ms` (event: the anchor event's
  // name for RecordAnchor::kEvent; records without that event are not returned).
  virtual Result<std::vector<int64_t>> DueRecordKeys(std::string_view tenant,
                                                     std::string_view kind, RecordAnchor anchor,
                                                     std::string_view event,
                                                     int64_t before_ms) = 0;
  // Deletes the tenant's records with these keys, and their events, except
  // those under a hold that stands at `now_ms` (on the record or its subject).
  // Returns the records deleted; keys of records gone or held are skipped.
  virtual Result<std::vector<PurgedRecord>> DeleteRecordsByKey(std::string_view tenant,
                                                               const std::vector<int64_t>& keys,
                                                               int64_t now_ms) = 0;
  // Ids of the tenant's closed subjects with closed_ms < closed_before_ms, and
  // (when `updated_before_ms` is set) of active ones last updated before it.
  virtual Result<std::vector<std::string>> RetentionSubjects(
      std::string_view tenant, int64_t closed_before_ms,
      std::optional<int64_t> updated_before_ms) = 0;
  virtual Result<bool> HasRecords(std::string_view tenant, std::string_view subject) = 0;
  // The keys and kinds of all of the subject's records.
  virtual Result<std::vector<RecordKey>> SubjectRecordKeys(std::string_view tenant,
                                                           std::string_view subject) = 0;
  // Crypto-shreds the subject as EraseSubject does (key, fields, index
  // entries, ledger and bundles gone; the row an erased tombstone), except
  // that its records' rows stay, sealed under the key just destroyed, until
  // CompactShredded removes them: the subject is queued for that.
  virtual Status ShredSubject(std::string_view tenant, std::string_view subject,
                              int64_t erased_ms) = 0;
  // Keys (ascending) of the records of shredded subjects not compacted yet.
  virtual Result<std::vector<int64_t>> ShreddedRecordKeys(std::string_view tenant) = 0;
  // How many such records there are, by kind.
  virtual Result<std::map<std::string, int64_t>> ShreddedRecordsByKind(std::string_view tenant) = 0;
  // Deletes the records (and their events) of up to `limit` queued shredded
  // subjects, and takes them off the queue.
  virtual Result<Compacted> CompactShredded(std::string_view tenant, int limit) = 0;
  // Drops the subject's blind-index entries of these categories.
  virtual Status DeleteIndexEntries(std::string_view tenant, std::string_view subject,
                                    const std::vector<std::string>& categories) = 0;
  // Calls `fn` with every subject of the tenant that is not erased (only
  // closed ones when `closed_only`), in no particular order; stops early when
  // `fn` returns false.
  virtual Status ScanSubjects(std::string_view tenant, bool closed_only,
                              const std::function<bool(const SubjectRow&)>& fn) = 0;
  // Records of `kind` by the local day of their anchor (`offset_minutes` east
  // of UTC); records with no anchor yet are not counted.
  virtual Result<std::vector<DayCount>> RecordAnchorDays(std::string_view tenant,
                                                         std::string_view kind,
                                                         RecordAnchor anchor,
                                                         std::string_view event,
                                                         int offset_minutes) = 0;
  virtual Result<int64_t> CountRecords(std::string_view tenant, std::string_view kind) = 0;

  virtual Status InsertHold(const HoldRow& row) = 0;
  virtual Result<std::optional<HoldRow>> GetHold(std::string_view tenant, std::string_view id) = 0;
  // Sets released_ms and released_by. NotFound if absent.
  virtual Status ReleaseHold(std::string_view tenant, std::string_view id, int64_t released_ms,
                             std::string_view released_by) = 0;
  // The tenant's holds, oldest first; only the subject's when `subject` is
  // not empty; released and lapsed ones too unless `standing_at` is set.
  virtual Result<std::vector<HoldRow>> ListHolds(std::string_view tenant,
                                                 std::string_view subject,
                                                 std::optional<int64_t> standing_at) = 0;

  // Adds row.count to the aggregate (tenant, rule, digest), creating it.
  virtual Status AddToAggregate(const AggregateRow& row) = 0;
  virtual Result<std::vector<AggregateRow>> ListAggregates(std::string_view tenant) = 0;

  // The store-wide sweep lease `name`: taken (true) when free, expired at
  // `now_ms`, or already `holder`'s; then it is `holder`'s until `expires_ms`.
  virtual Result<bool> TakeLease(std::string_view name, std::string_view holder, int64_t now_ms,
                                 int64_t expires_ms) = 0;
  // The lease's holder and expiry; nullopt when nobody holds it.
  virtual Result<std::optional<std::pair<std::string, int64_t>>> GetLease(
      std::string_view name) = 0;
  // Frees the lease if `holder` has it.
  virtual Status ReleaseLease(std::string_view name, std::string_view holder) = 0;
  // Inserts or replaces the tenant's last-sweep row.
  virtual Status PutSweep(const SweepRow& row) = 0;
  virtual Result<std::vector<SweepRow>> ListSweeps() = 0;

  // In a write transaction: true only if nothing that a subject read (the
  // subject's row, its blind-index entries, its consents, the tenant) depends
  // on can have been committed since Store::SubjectReadToken() returned
  // `token`, by this process or another, nor written earlier in this
  // transaction or in the transactions sharing its commit. Then what a read
  // transaction begun after that token found still holds here, and need not
  // be read again. False whenever the backend cannot tell.
  virtual bool SubjectsUnchangedSince(uint64_t /*token*/) { return false; }

  virtual Status Commit() = 0;
  // Commits, and calls `done` with what Commit() would have returned once
  // that is known: at once on this thread where a commit is synchronous, or
  // later from the store's own committer thread when commits are grouped
  // (SqliteOptions::group_commit), so that the caller need not wait for the
  // commit. `done` runs exactly once; it must not block or begin a write
  // transaction.
  virtual void CommitThen(std::function<void(Status)> done) { done(Commit()); }
};

class Store {
 public:
  virtual ~Store() = default;
  // `write` transactions take the write lock up front (serialized). Read
  // transactions (`write` false) must not write: the SQLite backend refuses
  // it when it runs them on read connections.
  virtual Result<std::unique_ptr<Transaction>> Begin(bool write) = 0;
  // A token for Transaction::SubjectsUnchangedSince: take it before the read
  // transaction whose findings a write transaction will rely on.
  virtual uint64_t SubjectReadToken() const { return 0; }
  // Streams the whole audit chain through a verifier.
  virtual Result<audit::VerifyReport> VerifyAudit() = 0;
  // Streams the audit events after `after_seq` in seq order to `fn`, in one
  // read transaction, until `fn` returns false. Other work waits meanwhile.
  virtual Status ScanAudit(int64_t after_seq,
                           const std::function<bool(const audit::StoredEvent&)>& fn) = 0;
  // Moves the WAL into the main file and truncates it.
  virtual Status Checkpoint() = 0;
  // Writes a consistent copy of the whole store to the new file `path`
  // (mode 0600) while others keep reading and writing (service/backup.h).
  // AlreadyExists if `path` exists.
  virtual Status CopyTo(const std::string& /*path*/) {
    return Status::FailedPrecondition("this store cannot copy itself");
  }
  // The backend's own check of its files (SQLite's integrity_check):
  // DataLoss naming the first problems found.
  virtual Status CheckIntegrity() { return Status::Ok(); }
  // Audit events committed through this Store object since it was opened (for
  // metrics; other processes' appends are not counted).
  virtual int64_t AuditEventsCommitted() const { return 0; }
  // Returns once every CommitThen and SubmitWrite callback registered so far
  // has run.
  virtual void WaitForCommitCallbacks() {}
  // Runs `job` in a write transaction of its own and commits it, then calls
  // `done` with the outcome (the job's error, or the commit's), as
  // Begin(true), the job and CommitThen would. Under group commit all of it
  // happens on the store's committer thread, which runs the jobs submitted
  // meanwhile into one physical commit: the caller neither takes the writer
  // nor waits. Otherwise, on this thread before returning. `job` must not
  // block on other work of this store; `done` as for CommitThen.
  using WriteJob = std::function<Status(Transaction&)>;
  virtual void SubmitWrite(WriteJob job, std::function<void(Status)> done) {
    auto tx = Begin(true);
    if (!tx.ok()) return done(tx.status());
    Status st = job(**tx);
    if (!st.ok()) return done(st);  // the transaction rolls back as it goes
    (*tx)->CommitThen(std::move(done));
  }
};

inline constexpr int kSchemaVersion = 13;

struct SqliteOptions {
  bool create_if_missing = true;
  // The page cache, in KiB (SQLite's own default is 2 MiB). Imports and
  // lookups touch index pages at random; 64 MiB keeps a few million index
  // entries' interior and hot leaf pages in memory.
  int64_t cache_kib = 64 * 1024;
  // Group commit: concurrent transactions share one commit (one fsync); each
  // Commit() still returns only once its work is durable. Off: every
  // transaction commits on its own.
  bool group_commit = false;
  // Read-only connections for read transactions (opened as needed, at most
  // this many; each with a page cache of cache_kib / 4, at least 2 MiB). Reads
  // then proceed while the writer works or syncs a commit. 0: read
  // transactions share the writer connection and wait for it, as writes do.
  int read_connections = 4;
  // The writer checkpoints the WAL into the database once it holds this many
  // pages (4 KiB each). A checkpoint runs inside the commit that crosses the
  // mark, so every transaction waiting for the writer waits for it: bulk
  // writers (imports) want few, large ones (a page rewritten by several
  // commits is copied once); a server answering each request after its
  // commit wants short ones (docs/http.md). The WAL file is truncated back to
  // 64 MiB after each.
  int checkpoint_pages = 16384;
};

// Opens (and migrates) the SQLite store at `path`. A file from a newer schema
// version is refused with FailedPrecondition, untouched.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const SqliteOptions& options = {});

}  // namespace custodian::store
