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

#include <algorithm>
#include <cstddef>
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

// Failed operator sign-ins allowed per account and per remote address before
// that account or address is locked (service/access.cc).
struct LoginLimits {
  int max_failures = 5;                    // within window_ms
  int64_t window_ms = 15 * 60 * 1000;
  int64_t lockout_ms = 15 * 60 * 1000;
};

struct VaultOptions {
  std::string data_dir;
  Clock clock = SystemClockMs;
  // Operator sessions last this long after sign-in.
  int64_t session_ttl_ms = 12 * 60 * 60 * 1000;
  // A validated API key is trusted from memory for this long; a revocation made
  // by another process (or another Vault on the same store) takes effect within
  // it. Revocations through this Vault take effect at once.
  int64_t api_key_cache_ttl_ms = 5000;
  LoginLimits login_limits;
  // Concurrent operations share one store commit (store::SqliteOptions::
  // group_commit); each still returns only once its audit event is durable.
  bool group_commit = false;
  // Lookup values whose blind-index digests are remembered, so that a repeat
  // skips normalizing (service/probe_cache.h): at most this many, for all
  // tenants together, ~220 bytes each with one phone category (~56 MiB
  // full). 0 remembers none.
  std::size_t probe_cache_entries = std::size_t{1} << 18;
  // store::SqliteOptions::checkpoint_pages; 0: the store's default (64 MiB of
  // WAL). `custodian serve` uses kServeCheckpointPages.
  int checkpoint_pages = 0;
  // The master key file when CUSTODIAN_MASTER_KEY is not set; "" is
  // DATA_DIR/master.key. (A restore opens its staging copy with the data
  // directory's key.)
  std::string master_key_file;
};

// The WAL checkpoint interval of `custodian serve`, in pages: SQLite's own
// default (~4 MiB). A checkpoint holds up every commit while it runs; at 64
// MiB each one stalled the lookups waiting for their audit events long
// enough to set the p99 (docs/benchmarks.md).
inline constexpr int kServeCheckpointPages = 1000;

inline constexpr std::size_t kMaxValueBytes = 64 * 1024;

struct FieldInput {
  std::string category;  // a category key declared in the tenant's policy
  std::string value;
};

struct SubjectInput {
  std::vector<FieldInput> fields;
  std::optional<std::string> external_id;
};

// Which part of an input a Check* function refused, for an adapter to point
// at (an HTTP problem's JSON pointer). It names members, never values.
struct InputFault {
  std::string member;  // the member at fault ("fields", "categories"...); "" for none
  int index = -1;      // the element of `member` at fault, by position; -1: the member
};

// Checks a subject's input against `policy` exactly as AddSubject and
// UpdateSubject do (every field normalized, at least one, the external id),
// without touching the store; on error `fault` (when given) is "fields" with
// the index of the field at fault, or "external_id".
Status CheckSubjectInput(const policy::Policy& policy, const SubjectInput& input,
                         InputFault* fault = nullptr);

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

// LookupQuery::kind for the company's own customer number (as given to
// AddSubject's external_id or an import's external_id column).
inline constexpr char kExternalIdKind[] = "external_id";

// Lookup by an indexed value: `kind` is a normalizer name ("phone", "email")
// matching every indexed category with that normalizer, a category key, or
// kExternalIdKind.

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

// An incoming call (POST /v1/calls): the caller's number as the carrier sent
// it, the number called, the carrier's call id, and when (0: now).
struct CallInput {
  std::string caller;
  std::string callee;
  std::string call_id;
  int64_t at_ms = 0;
};

// What a support agent needs when the phone rings.
struct CallMatch {
  std::vector<SubjectView> subjects;  // the caller's projection(s); empty: no match
  bool account_closed = false;        // the (first) matched subject is closed
  // Each consent-based purpose and whether it may be used now for the matched
  // subject (its choice in the consent ledger, else the declared default; the
  // defaults when nothing matched).
  std::vector<std::pair<std::string, bool>> consents;
  int64_t open_requests = 0;          // the matched subject's open data-subject requests
  std::optional<std::string> call_record;  // the `call` record stored, when the policy has the kind
};

// --- Consent ledger (service/consent.cc, docs/consent.md) ------------------

// Where a choice came from.
inline constexpr const char* kConsentSources[] = {"api", "portal", "operator", "sms",
                                                  "whatsapp", "email_link", "import"};

// One choice of a subject about one purpose. A consent-based purpose takes
// `granted` or `withdrawn`; a legitimate-interest purpose takes `objected` or
// `not_objected` (the objection lifted). No other purpose has a choice.
struct ConsentChange {
  std::string purpose;
  std::string state;
  std::string source = "api";     // one of kConsentSources
  std::optional<int64_t> at_ms;   // when the subject chose (imports: the original time); now if unset
  std::string message_id;         // evidence: the message that carried the choice (<= 256 bytes)
  std::string request_id;         // evidence: the data-subject request or HTTP request id
};

// Where a subject stands on one purpose.
struct ConsentStatus {
  std::string purpose;
  std::string basis;              // consent | legitimate_interest
  std::string state;              // granted | withdrawn | objected | not_objected
  bool allowed = false;           // the purpose may be used for this subject now
  bool is_default = true;         // no choice recorded: the policy's declared default holds
  std::optional<int64_t> at_ms;   // when the standing choice was made
};

// One entry of the append-only history (sealed with the subject key).
struct ConsentEvent {
  std::string purpose;
  std::string state;
  std::string source;
  std::string actor;              // who recorded it ("key:...", "op:...", "telnyx", "cli")
  std::string policy_version;     // the policy in force when it was recorded
  std::string message_id;
  std::string request_id;
  int64_t at_ms = 0;              // when the subject chose
  int64_t recorded_ms = 0;        // when custodian recorded it
};

struct ConsentView {
  std::string subject;
  std::vector<ConsentStatus> purposes;  // every consent and legitimate-interest purpose
  std::vector<ConsentEvent> history;    // oldest first
};

// One row of a consent import: the subject by external id, and the choice
// with its original time. A rejected row's ImportRowResult::field says which
// part was at fault.
enum ConsentImportField {
  kConsentExternalId = 0,
  kConsentPurpose,
  kConsentState,
  kConsentSource,
  kConsentMessageId,
  kConsentRequestId,
};
struct ConsentImportInput {
  std::string subject_external_id;
  ConsentChange change;
};

// Checks a change against `policy` exactly as SetConsents does, without
// touching the store: for callers that want to point at the bad part. On
// error `field` (when given) is the ConsentImportField at fault.
Status CheckConsentChange(const policy::Policy& policy, const ConsentChange& change,
                          int* field = nullptr);

// --- Channels (service/channels.cc, docs/channels.md) ----------------------
// How a tenant's messages go out and come in. Held sealed; secrets (api_key,
// password) are never printed, logged or audited.

struct TelnyxSettings {
  std::string public_key;             // base64 Ed25519 key Telnyx signs webhooks with
  std::string api_key;                // secret: sends messages
  std::string base_url = "https://api.telnyx.com";
  std::string from;                   // E.164 number messages are sent from
  std::vector<std::string> numbers;   // E.164 numbers the tenant receives on (`from` included)
  std::string messaging_profile_id;
};

struct SmtpSettings {
  std::string url;                    // smtp://host:port or smtps://host:port
  std::string from;                   // envelope and From: address
  std::string username;
  std::string password;               // secret
  bool require_tls = false;
};

struct ChannelSettings {
  std::optional<TelnyxSettings> telnyx;
  std::optional<SmtpSettings> smtp;
  std::string public_url;             // custodian's public address, for links in messages
  int64_t link_ttl_days = 365;        // unsubscribe links stay valid this long
};

// An inbound SMS or WhatsApp message (POST /v1/webhooks/telnyx), already
// authenticated by the caller.
struct InboundMessage {
  std::string channel;      // sms | whatsapp
  std::string from;         // the sender's number as the carrier gave it
  std::string message_id;   // the provider's id (evidence)
  std::string text;
};

// What an inbound message did. The same whether or not the sender is a known
// subject, so the answer never says who is a customer.
struct InboundResult {
  std::string keyword;                // stop | start | help | none
  std::vector<std::string> purposes;  // the purposes a STOP/START applies to (by channel)
  std::string reply;                  // the text to send back ("" for none)
};

// What an unsubscribe token is for.
struct UnsubscribeTarget {
  std::string tenant;
  std::string organization;   // the policy's organization name
  std::string subject;
  std::string purpose;
  std::string purpose_label;
  bool withdrawn = false;     // already withdrawn (or now, after Unsubscribe)
};

// --- The outbox (service/outbox.cc, docs/outbox.md) ------------------------

// A message to send. To a subject (its phone or email on file, read at send
// time for the purpose) or, for replies to a person's own message (STOP
// confirmations, HELP), to an address given directly with no purpose.
struct MessageRequest {
  std::string channel;          // sms | whatsapp | email
  std::string subject;          // the recipient subject ("" = `to`)
  std::string to;               // an address, only without a subject (internal replies)
  std::string purpose;          // the purpose it serves (required with a subject)
  std::string email_subject;    // email only
  std::string text;             // the body: 1..1600 bytes (SMS, WhatsApp), ..64 KiB (email)
  std::string idempotency_key;  // the same key again returns the first message (<= 128 bytes)
};

struct MessageStatus {
  std::string id;
  std::string channel;
  std::string purpose;
  std::string subject;
  std::string state;            // queued | sending | sent | dead | refused
  int64_t attempts = 0;
  std::string last_error;       // safe to show
  std::string provider_id;
  int64_t created_ms = 0;
  std::optional<int64_t> next_attempt_ms;  // queued/sending
  std::optional<int64_t> sent_ms;
  bool duplicate = false;       // returned for an idempotency key already used
};

// A message claimed for delivery, with everything a transport needs.
struct Delivery {
  std::string tenant;
  std::string id;
  std::string channel;
  std::string to;
  std::string email_subject;
  std::string text;
  std::vector<std::pair<std::string, std::string>> headers;  // email: List-Unsubscribe...
  int64_t attempt = 0;          // 1 for the first try
};

// Checks a request's shape as EnqueueMessage does; on error `field` (when
// given) names the member at fault ("channel", "text"...; "" for none).
Status CheckMessageRequest(const MessageRequest& request, std::string* field = nullptr);

struct OutboxOptions {
  int max_attempts = 8;                      // then the message is dead
  int64_t base_backoff_ms = 30 * 1000;       // attempt n waits base * 2^(n-1), +-20% jitter
  int64_t max_backoff_ms = 6 * 3600 * 1000;  // at most this
  int64_t lease_ms = 2 * 60 * 1000;          // a claimed message returns to the queue after this
};

// --- Cookie choices (service/cookies.cc, docs/cookies.md) ------------------

struct CookieCategoryInfo {
  std::string id;            // strictly_necessary | analytics | ...
  std::string label;
  std::string description;
  bool required = false;     // no consent needed (strictly necessary): always on
};

// What the banner shows: public, from the tenant's policy.
struct CookieBanner {
  std::string tenant;
  std::string organization;
  std::string policy_version;
  std::vector<CookieCategoryInfo> categories;
};

// A visitor's choice as the banner sends it.
struct CookieChoice {
  std::string visitor;                                // 16-64 of [A-Za-z0-9_-], random
  std::vector<std::pair<std::string, bool>> choices;  // category id -> accepted
  std::string policy_version;                         // the version the banner showed
};

// Checks a choice against `policy` exactly as RecordCookieChoice does; on
// error `field` (when given) names the member at fault ("visitor",
// "policy_version", "choices").
Status CheckCookieChoice(const policy::Policy& policy, const CookieChoice& choice,
                         std::string* field = nullptr);

struct CookieChoiceRecord {
  std::string visitor;
  std::vector<std::pair<std::string, bool>> choices;  // every category; required ones true
  std::string policy_version;
  int64_t at_ms = 0;
};

// --- Data-subject requests (service/requests.cc, docs/requests.md) ---------

inline constexpr const char* kRequestTypes[] = {"access",      "portability", "correction",
                                                "erasure",     "objection",   "restriction",
                                                "consent_withdrawal", "grievance"};

struct RequestInput {
  std::string type;      // one of kRequestTypes
  std::string subject;   // the subject it is about ("" only for a grievance)
  std::string details;   // free text: the complaint, what to correct... (<= 8 KiB, sealed)
  // objection: the purpose objected to (required; legitimate interest or
  // consent); consent_withdrawal: the purpose ("" = every consent purpose).
  std::string purpose;
  // correction: the new values (1..32; each checked as AddSubject checks it).
  std::vector<FieldInput> corrections;
};

// What an operator does to a request. verify: the person's identity was
// checked by hand (reason required: "ID checked at the store"); start: take it
// on (assigns the actor); complete: carry it out and close it (see
// docs/requests.md: an export, the corrections, the erasure...); reject:
// close it without (reason required); extend: push the due date out by the
// right's extension, once, before the first due date (reason required: it is
// sent to the person).
enum class RequestAction { kVerify, kStart, kComplete, kReject, kExtend };

// What an erasure kept because a legal obligation requires it.
struct KeptItem {
  std::string item;      // a category key, or "records:<kind>"
  std::string label;     // "Billing records"
  int64_t until_ms = 0;  // purged then by the retention sweep
  std::string rule;      // the retention rule that keeps it
  std::string reason;    // its legal reason, in the policy's words
  std::optional<int64_t> purged_ms;  // when the retention sweep purged it
};

// What a completed request did: its evidence.
struct RequestEvidence {
  std::string done;                     // in words: "exported 12 fields and 1000 records"
  std::string by;                       // who completed it
  int64_t at_ms = 0;
  std::vector<std::string> erased;      // erasure: categories, and "records:<kind> x<n>"
  std::vector<KeptItem> kept;           // erasure: kept under a legal obligation
  std::vector<std::string> corrected;   // correction: the categories changed
  std::vector<std::string> purposes;    // objection, withdrawal, restriction: purposes now refused
  std::string export_id;                // access / portability: the bundle
  std::string export_sha256;            // hex SHA-256 of the zip
  int64_t export_bytes = 0;
  int64_t export_expires_ms = 0;
  std::vector<std::string> recipients;  // recipients told of a correction, erasure or restriction
  std::vector<std::string> notices;     // outbox message ids: the person's notice, recipients'
};

// Checks a request's input against `policy` exactly as SubmitRequest does
// (but not whether its subject exists); on error `fault` (when given) names
// the member at fault ("type", "subject", "details", "purpose",
// "corrections", with the index of a bad correction).
Status CheckRequestInput(const policy::Policy& policy, const RequestInput& input,
                         InputFault* fault = nullptr);

// A downloaded export bundle (one time).
struct ExportDownload {
  std::string tenant;
  std::string request_id;
  std::string filename;   // "custodian-export-<request id>.zip"
  std::string sha256;
  std::string zip;
};

struct RequestView {
  std::string id;
  std::string type;
  std::string subject;
  std::string state;          // received | verifying | verified | in_progress | completed |
                              // rejected | expired
  std::string verification;   // otp | operator | none
  std::string assigned;
  std::string details;
  std::string resolution;     // why rejected / how completed / how verified
  int64_t received_ms = 0;
  int64_t due_ms = 0;         // from the policy's deadline, else the jurisdiction's
  bool overdue = false;       // open and past due_ms
  std::optional<int64_t> closed_ms;
  std::string purpose;        // objection / consent_withdrawal
  // correction: the proposed values while pending; once applied only the
  // categories are kept (value "").
  std::vector<FieldValue> corrections;
  std::string officer;        // grievance: the grievance officer named in the policy
  std::optional<int64_t> extended_ms;
  std::optional<RequestEvidence> evidence;  // once completed
  // access / portability: the download token, only in the answer to the
  // action that completed the request (never stored, never shown again).
  std::string download_token;
};

// --- The privacy portal (service/portal.cc, docs/portal.md) ---------------

inline constexpr int64_t kPortalCodeMs = 10 * 60 * 1000;     // a code is valid 10 minutes
inline constexpr int64_t kPortalSessionMs = 30 * 60 * 1000;  // a session lasts 30 minutes
inline constexpr int64_t kPortalCodesPerHour = 5;            // per contact

struct PortalChallenge {
  std::string id;        // send it back with the code
  std::string channel;   // sms | email: where the code went, if the contact is on file
  int64_t expires_ms = 0;
};

struct PortalSignIn {
  std::string token;       // "cps_<id>_<secret>": the session cookie's value
  std::string csrf_token;  // for X-CSRF-Token on unsafe methods
  int64_t expires_ms = 0;
};

struct PortalSession {
  std::string tenant;
  std::string subject;
  std::string session_id;
  int64_t expires_ms = 0;
  std::string csrf_digest;  // for CheckPortalCsrf
};

struct PortalOverview {
  std::string subject;
  std::string organization;              // the policy's organization name
  std::vector<std::string> rights;       // request types the person may make here
  std::vector<ConsentStatus> consents;   // every consent and legitimate-interest purpose
  std::vector<RequestView> requests;     // theirs, soonest due first
};

inline constexpr std::size_t kMaxEraseBatch = 100000;

struct EraseBatchResult {
  int64_t erased = 0;
  int64_t already_erased = 0;
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

// --- The audit trail (service/audit_trail.cc, docs/audit.md) ----------------

struct AuditCheckpointInfo {
  int64_t seq = 0;        // the last event it covers
  std::string head_hex;   // that event's chain hash
  int64_t time_ms = 0;
  std::string key_id;     // the signing key (audit::KeyId)
};

// What `custodian audit export` writes: the events (of one tenant, or of
// every tenant: the whole chain, verifiable offline) from the first one at or
// after from_ms to the last one before to_ms, every event in between included.
struct AuditExportOptions {
  std::string tenant;                      // "" = every tenant
  std::optional<int64_t> from_ms, to_ms;   // unset: unbounded
  int page_size = 10000;                   // events read per store transaction
};

struct AuditExportSummary {
  int64_t events = 0;
  int64_t checkpoints = 0;
  int64_t first_seq = 0;  // 0 when no event matched
  int64_t last_seq = 0;
};

// GET /v1/audit: the tenant's events, oldest first, after the cursor.
struct AuditQuery {
  std::string subject, actor, action, purpose;  // "" = any
  std::optional<int64_t> from_ms, to_ms;        // event time in [from, to)
  int64_t after_seq = 0;                        // the cursor: events after this seq
  int limit = 100;                              // 1..1000
};

struct AuditEntry {
  int64_t seq = 0;
  audit::Event event;
  std::string hash_hex;
};

struct AuditPage {
  std::vector<AuditEntry> events;
  std::optional<int64_t> next_after;  // pass as after_seq for the next page; unset at the end
};

// --- Disclosures (service/disclosures.cc, docs/disclosures.md) -------------

// At most this many subjects in one disclosure (ids and lookup matches together).
inline constexpr std::size_t kMaxDisclosureSubjects = 10000;

// That `categories` of some subjects were (or are being) shared with
// `recipient` for `purpose`. The recipient must be declared in the policy,
// list the purpose and every category, and the purpose must use every category.
struct DisclosureInput {
  std::string recipient;                // a recipient id of the policy
  std::string purpose;
  std::vector<std::string> categories;  // 1..64 category keys
  std::vector<std::string> subjects;    // subject ids
  std::vector<LookupQuery> lookups;     // and/or subjects found by phone, email, external id
  // An authority's order or case number: required for an `authority`,
  // optional otherwise. 1-128 characters of letters, digits, space and
  // . / : _ # ( ) , - with at least one digit (a reference, never prose).
  std::string legal_reference;
  std::optional<int64_t> at_ms;         // when it was shared (default now; never in the future)
  // Produce the payload: the disclosed categories of each subject, read for
  // the purpose through the purpose-bound read path.
  bool export_payload = false;
};

struct DisclosureView {
  std::string id;
  std::string recipient;
  std::string recipient_label;   // from the policy ("" if no longer declared)
  std::string recipient_kind;    // processor | third_party | affiliate | authority
  std::string purpose;
  std::vector<std::string> categories;
  std::string legal_reference;
  std::string actor;
  std::string role;
  int64_t at_ms = 0;
  int64_t recorded_ms = 0;
  int64_t subjects = 0;
  bool exported = false;
};

// One subject's share of an exported payload: only the disclosed categories.
struct DisclosedSubject {
  std::string subject;
  std::vector<FieldValue> fields;
  std::vector<RecordView> records;  // records of kinds whose category is disclosed
};

struct RefusedSubject {
  std::string subject;   // the subject id
  std::string reason;    // why it was left out (consent, objection, restriction, not found)
};

struct DisclosureResult {
  DisclosureView disclosure;
  std::vector<std::string> subjects;     // disclosed, sorted
  std::vector<RefusedSubject> refused;   // left out, and not recorded for them
  std::vector<int> unmatched_lookups;    // indexes of lookups that found nobody
  std::vector<DisclosedSubject> payload; // with export_payload
};

// Checks a disclosure against `policy` as Disclose does, before any subject
// is looked at (the role is checked by Disclose). PermissionDenied for what
// the policy does not declare, InvalidArgument for malformed input. On error
// `fault` (when given) names the member at fault ("recipient", "purpose",
// "categories", "legal_reference", "subjects", "lookups", "at"), with the
// index of a bad category or subject id.
Status CheckDisclosureInput(const policy::Policy& policy, const DisclosureInput& input,
                            int64_t now_ms, InputFault* fault = nullptr);

// --- Reports (service/reports.cc, docs/reports.md) -------------------------

// The period a report covers: [from_ms, to_ms).
struct ReportPeriod {
  int64_t from_ms = 0;
  int64_t to_ms = 0;
};

// The access report flags an actor whose distinct subjects read in the
// period exceed kOutlierFactor x the median of the other actors of the same
// role, when they read at least kOutlierMinSubjects.
inline constexpr int64_t kOutlierFactor = 3;
inline constexpr int64_t kOutlierMinSubjects = 10;

// --- Credentials (service/access.cc, docs/access.md) -----------------------

// A new API key. `key` ("cst_<id>_<secret>") is returned only here, once; the
// store keeps a keyed digest of the secret.
// A key's own request rate limit, which the HTTP API applies instead of the
// server's (`custodian serve --api-key-rate`). Neither set: the server's.
struct ApiKeyLimit {
  std::optional<double> per_second;  // > 0
  std::optional<double> burst;       // >= 1, only with per_second (default: per_second, >= 1)
  bool operator==(const ApiKeyLimit&) const = default;
  // The burst in force when per_second is set: `burst`, else per_second; at least 1.
  double BurstInForce() const {
    return std::max(1.0, burst.value_or(per_second.value_or(1.0)));
  }
};

struct CreatedApiKey {
  std::string id;
  std::string key;
  std::string role;
  std::string name;
};

// What ListApiKeys shows: never a secret or digest.
struct ApiKeyInfo {
  std::string id;
  std::string name;
  std::string role;
  int64_t created_ms = 0;
  std::optional<int64_t> revoked_ms;
  std::optional<int64_t> last_used_ms;  // updated at most once a minute
  ApiKeyLimit limit;
};

// Who a valid API key is: its tenant, and Actor{"key:<id>", role}.
struct ApiKeyIdentity {
  std::string tenant;
  Actor actor;
  std::string key_id;
  ApiKeyLimit limit;
};

// A new operator and the TOTP enrollment, shown once: the 20-byte secret in
// base32 and the otpauth:// URI an authenticator app scans.
struct OperatorEnrollment {
  std::string operator_id;
  std::string role;
  std::string totp_secret;  // RFC 4648 base32, no padding
  std::string otpauth_uri;
};

// A successful sign-in. The session token and CSRF token are returned only
// here; the store keeps keyed digests of them.
struct LoginResult {
  std::string tenant;
  Actor actor;                 // {"op:<operator id>", role}
  std::string session_id;
  std::string session_token;   // "css_<session id>_<secret>": the cookie value
  std::string csrf_token;      // send back in a header on state-changing requests
  int64_t expires_ms = 0;
};

// A live session, from AuthenticateSession.
struct Session {
  std::string tenant;
  Actor actor;                 // {"op:<operator id>", role}
  std::string session_id;
  std::string operator_id;
  int64_t expires_ms = 0;
  std::string csrf_digest;     // for CheckCsrf; not a secret, not for display
};

inline constexpr std::size_t kMinOperatorPasswordChars = 12;

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

  // Replaces the given fields of an existing subject (others are kept).
  // NotFound if it does not exist or was erased. Same checks as AddSubject.
  Result<AddSubjectResult> UpdateSubject(const Actor& actor, std::string_view tenant,
                                         std::string_view subject,
                                         const std::vector<FieldInput>& fields);

  // The batch form: one transaction for the whole batch, all or nothing.
  // Every subject is validated and normalized before anything is written.
  Result<std::vector<AddSubjectResult>> AddSubjects(const Actor& actor, std::string_view tenant,
                                                    const std::vector<SubjectInput>& batch);

  Result<SubjectView> ShowSubject(const Actor& actor, std::string_view tenant,
                                  std::string_view subject, std::string_view purpose);
  Result<std::vector<SubjectView>> Lookup(const Actor& actor, std::string_view tenant,
                                          const LookupQuery& query, std::string_view purpose);
  // Many lookups for one purpose in one write transaction (one audit event
  // per hit or miss, as for single lookups); result i answers query i. The
  // reads run first in a read transaction (they do not wait for commits in
  // flight); the write transaction checks that each subject read is unchanged
  // (row and consent outcome; else it reads again itself) before appending the
  // events, so the answer is as if read there. Returns only once the events
  // are durable; if they cannot be written, an error and nothing else.
  Result<std::vector<std::vector<SubjectView>>> LookupMany(const Actor& actor,
                                                           std::string_view tenant,
                                                           const std::vector<LookupQuery>& queries,
                                                           std::string_view purpose);
  // Lookup, with the answer given to `done` instead of returned: once the
  // audit events are durable, which under group commit is on the store's
  // committer thread after this returns (the caller does not wait for the
  // commit); at once on this thread when the lookup fails before it. `done`
  // must not block.
  void LookupThen(const Actor& actor, std::string_view tenant, const LookupQuery& query,
                  std::string_view purpose,
                  std::function<void(Result<std::vector<SubjectView>>)> done);
  // Marks the subject closed at `at_ms` (default: now): the retention anchor.
  Status CloseSubject(const Actor& actor, std::string_view tenant, std::string_view subject,
                      std::optional<int64_t> at_ms);
  // Crypto-shreds the subject.
  Status EraseSubject(const Actor& actor, std::string_view tenant, std::string_view subject);
  // Crypto-shreds up to kMaxEraseBatch subjects in one transaction with one
  // audit event naming them all (admin only). All or nothing: an unknown id
  // is NotFound and erases nobody; subjects already erased are counted, not
  // refused, so a batch can be re-run. `reason` goes into the audit event.
  Result<EraseBatchResult> EraseSubjects(const Actor& actor, std::string_view tenant,
                                         const std::vector<std::string>& subjects,
                                         std::string_view reason = "batch");

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

  // Looks the caller up by phone for `purpose` (audited as a lookup) and, on a
  // match, stores the call as a record of kind `call` on the first subject
  // when the policy declares that kind. (service/calls.cc)
  Result<CallMatch> MatchCall(const Actor& actor, std::string_view tenant, const CallInput& call,
                              std::string_view purpose);
  // MatchCall with the answer given to `done` once the lookup's events and
  // the call record are durable, in one transaction that the store's
  // committer runs under group commit (as LookupThen).
  void MatchCallThen(const Actor& actor, std::string_view tenant, const CallInput& call,
                     std::string_view purpose, std::function<void(Result<CallMatch>)> done);

  // --- Consent ledger (service/consent.cc) ---
  // Any role a purpose of the policy lists may read and record choices (an
  // agent records a withdrawal made on the phone); refusals are audited.

  // The subject's standing on every consent and legitimate-interest purpose,
  // and the history of its choices. Audited (consent.show).
  Result<ConsentView> GetConsents(const Actor& actor, std::string_view tenant,
                                  std::string_view subject);
  // Records choices, in one transaction: each is appended to the history and
  // becomes the standing choice unless a later one already stands (an import
  // of old choices never overrides a newer one). Audited per choice
  // (consent.granted, consent.withdrawn, consent.objected, consent.not_objected).
  // InvalidArgument for an undeclared purpose, a purpose without a choice
  // (contract, legal obligation...), a state the purpose does not take, or a
  // bad source; nothing is written then.
  Result<std::vector<ConsentStatus>> SetConsents(const Actor& actor, std::string_view tenant,
                                                 std::string_view subject,
                                                 const std::vector<ConsentChange>& changes);
  // Whether `purpose` may be used for each of `subjects` now (the check reads
  // and sends make), in one read transaction; not audited. Unknown or erased
  // subjects are false. InvalidArgument for an undeclared purpose.
  Result<std::vector<bool>> ConsentAllowed(std::string_view tenant, std::string_view purpose,
                                           const std::vector<std::string>& subjects);
  // A batch of a consent import (`custodian import consents`): rows are
  // checked one by one; a bad row or unknown subject is rejected with a reason
  // and the others are recorded, in one transaction. A choice already in the
  // history (same purpose, state, time and source) is kUnchanged.
  Result<std::vector<ImportRowResult>> ImportConsentBatch(const Actor& actor,
                                                          std::string_view tenant,
                                                          const std::vector<ConsentImportInput>& rows);

  // --- Channels and inbound messages (service/channels.cc) ---
  // Replaces the tenant's channel settings with `json_text` (docs/channels.md),
  // checked first: InvalidArgument naming the JSON pointer at fault. Admin only.
  Status SetChannelSettings(const Actor& actor, std::string_view tenant,
                            std::string_view json_text);
  // The tenant's settings (with secrets: for the server and the outbox, not
  // for display); defaults when none were set.
  Result<ChannelSettings> GetChannelSettings(std::string_view tenant);
  // The tenant whose Telnyx settings list `number` (E.164) among the numbers
  // it receives on. NotFound otherwise.
  Result<std::string> TenantForNumber(std::string_view number);
  // A signed, expiring unsubscribe token for (subject, purpose): one per
  // subject x consent purpose, verified without a database lookup
  // (crypto/link_token.h, keyed by the tenant's link subkey). Valid for the
  // settings' link_ttl_days.
  Result<std::string> UnsubscribeToken(std::string_view tenant, std::string_view subject,
                                       std::string_view purpose);
  // What a token would unsubscribe from, for the confirmation page. Errors
  // as crypto::VerifyLinkToken (malformed, tampered, expired), and NotFound
  // for a token of an unknown tenant or a purpose no longer in the policy.
  Result<UnsubscribeTarget> CheckUnsubscribeToken(std::string_view token);
  // Withdraws the token's consent (source email_link; RFC 8058 one-click).
  // Idempotent: a second use leaves it withdrawn and records nothing new.
  Result<UnsubscribeTarget> Unsubscribe(std::string_view token);
  // Opt-out keywords (STOP, START, HELP...) of an inbound message: STOP
  // withdraws, START re-grants, every consent purpose whose channels list the
  // message's channel, for every subject holding the sender's number (source
  // sms/whatsapp, the message id as evidence). Audited whether or not the
  // sender is known. Remembers `event_id` (when not empty): a second delivery
  // of the same event changes nothing and returns FailedPrecondition
  // "duplicate event".
  Result<InboundResult> ApplyInboundMessage(std::string_view tenant, const InboundMessage& m,
                                            std::string_view event_id);
  // Audits a refused inbound webhook of `tenant` (bad signature, stale
  // timestamp): action webhook.<provider>, outcome refused, the reason.
  void AuditWebhookRefusal(std::string_view tenant, std::string_view provider,
                           const Status& refusal);

  // --- The outbox (service/outbox.cc) ---
  // Queues a message. With a subject: the actor's role must be allowed the
  // purpose and the purpose the contact category the channel needs; a
  // purpose resting on consent needs the subject's consent now (and again at
  // send time); an objection to a legitimate-interest purpose refuses it.
  // Refusals are PermissionDenied and audited. An idempotency key already used
  // returns the first message (duplicate = true) and queues nothing.
  Result<MessageStatus> EnqueueMessage(const Actor& actor, std::string_view tenant,
                                       const MessageRequest& request);
  // Reading the outbox: any operational role. Every read is audited, message.read:
  // the subjects' ids and the count when allowed, the rule when refused; if the
  // event cannot be written the read fails (Unavailable) and returns nothing.
  Result<MessageStatus> GetMessage(const Actor& actor, std::string_view tenant,
                                   std::string_view id);
  Result<std::vector<MessageStatus>> ListMessages(const Actor& actor, std::string_view tenant,
                                                  int limit);
  // The delivery side (outbox/worker.h): claims up to `limit` due messages of
  // every tenant for OutboxOptions::lease_ms, checking each again (consent,
  // erasure, a contact on file): those that may no longer go are marked
  // refused and not returned.
  // `refused` (when given) is increased by the number marked refused.
  Result<std::vector<Delivery>> ClaimDeliveries(int limit, const OutboxOptions& options = {},
                                                int64_t* refused = nullptr);
  // Records a delivery attempt's outcome: OK -> sent; Unavailable -> queued
  // again with backoff, or dead after max_attempts; anything else -> dead.
  // `outcome`'s message must be safe to show (transports never put an address
  // or text in it). Audited (message.sent / message.retry / message.dead).
  Status CompleteDelivery(const Delivery& delivery, const Status& outcome,
                          std::string_view provider_id, const OutboxOptions& options = {});

  // --- Cookie choices (service/cookies.cc) ---
  // The banner's content. NotFound for an unknown tenant.
  Result<CookieBanner> GetCookieBanner(std::string_view tenant);
  // Records a visitor's choice (public: the tenant's website calls it).
  // Every category of the policy gets a value: required ones are always
  // true, others false unless accepted. InvalidArgument for a bad visitor
  // id, an unknown category or a policy version that is not the current one.
  // Audited as cookie.choice with the count accepted, never the visitor id.
  Result<CookieChoiceRecord> RecordCookieChoice(std::string_view tenant, const CookieChoice& choice);
  // A visitor's recorded choices, oldest first (evidence). Operator roles
  // (audited, cookie.read: the count shown, never the visitor id; the rule when
  // refused; if the event cannot be written the read fails and returns nothing).
  Result<std::vector<CookieChoiceRecord>> CookieChoices(const Actor& actor, std::string_view tenant,
                                                        std::string_view visitor);

  // --- Data-subject requests (service/requests.cc) ---
  // Records a request: due date = received + the right's `deadline` in the
  // policy, else the jurisdiction's default (calendar months where the law
  // counts in months; grievances: its grievance deadline). Verification by the
  // right's method (policy `rights.verification` by default): `none` starts
  // verified, otp/operator start verifying. Input checked as CheckRequestInput;
  // the same right already open for the subject is AlreadyExists (grievances
  // and corrections excepted). Types that need no operator (access,
  // portability, objection, restriction, consent_withdrawal, self-service
  // corrections) are carried out as soon as they are verified — here when the
  // method is `none`. Any operational role. Audited (request.submit).
  Result<RequestView> SubmitRequest(const Actor& actor, std::string_view tenant,
                                    const RequestInput& input);
  // Reading requests: any operational role. Every read is audited, request.read:
  // the subjects' ids, the request id or list filter and the count when allowed,
  // the rule when refused; if the event cannot be written the read fails
  // (Unavailable) and returns nothing.
  Result<RequestView> GetRequest(const Actor& actor, std::string_view tenant, std::string_view id);
  // Oldest due first; only open ones when `open_only`; only overdue ones when `overdue_only`.
  Result<std::vector<RequestView>> ListRequests(const Actor& actor, std::string_view tenant,
                                                bool open_only, bool overdue_only);
  // Moves a request along its state machine. `complete` carries the request
  // out (docs/requests.md: the export, corrections, erasure with its legal
  // holds, ledger entries, the grievance's answer) with its evidence and
  // notices, in one transaction; `verify` does the same for the types that
  // need no operator. FailedPrecondition naming the state when the action does
  // not apply (or a legal hold stops an erasure, or no extension is allowed);
  // InvalidArgument when a reason is required and missing. Audited
  // (request.verify, request.start, request.complete, ...).
  Result<RequestView> AdvanceRequest(const Actor& actor, std::string_view tenant,
                                     std::string_view id, RequestAction action,
                                     std::string_view reason);
  // The export bundle behind a download token, once: the bundle is dropped
  // as it is handed over. NotFound for an unknown token; FailedPrecondition
  // "already downloaded" or "expired". Audited (export.download).
  Result<ExportDownload> DownloadExport(std::string_view token);
  // Requests still waiting for the person (received, verifying, held) past
  // their due date become expired (audited request.expire), and export
  // bundles past their link's expiry are dropped. Returns how many requests.
  Result<int64_t> ExpireRequests();
  // Open and overdue requests per tenant, for monitoring (counts only; no
  // actor: nothing personal is returned).
  struct RequestCounts {
    std::string tenant;
    int64_t open = 0;
    int64_t overdue = 0;
  };
  Result<std::vector<RequestCounts>> CountRequests();
  // OTP verification: sends a 6-digit code, valid 10 minutes, through the
  // outbox to a contact already on file for the subject (its phone for sms or
  // whatsapp, its email for email; never an address given with the request).
  // A new code replaces the previous one. FailedPrecondition unless the
  // request is verifying by otp; NotFound when the subject has no such contact.
  Result<RequestView> SendVerificationCode(const Actor& actor, std::string_view tenant,
                                           std::string_view id, std::string_view channel);
  // Checks a code the person typed (constant time). Right: verified (and
  // carried out when the type needs no operator). Wrong or
  // expired: Unauthenticated saying how many attempts are left; the 5th wrong
  // code holds the request (state held, audited), after which only an
  // operator's `verify` with a reason moves it on.
  Result<RequestView> CheckVerificationCode(std::string_view tenant, std::string_view id,
                                            std::string_view code);
  // The same, relayed by `caller` (an operator or a system typing in the code
  // the person read out): any operational role, checked before the request is
  // looked at (a refusal is audited, request.code_checked).
  Result<RequestView> CheckVerificationCode(const Actor& caller, std::string_view tenant,
                                            std::string_view id, std::string_view code);

  // --- The privacy portal (service/portal.cc, docs/portal.md) ---
  // A person signs in with a code sent to a contact the company has on file,
  // then sees their requests and consents and makes requests of their own.
  // Asks for a code: `contact` is {"phone"|"email", value}. When it matches
  // exactly one live subject of the tenant (through the blind index), a
  // 6-digit code valid 10 minutes goes to that contact through the outbox;
  // otherwise nothing is sent. The answer is the same either way, so the
  // portal never tells who is a customer. InvalidArgument for a value that
  // is not a phone number / email; FailedPrecondition when the policy indexes
  // no category of that kind, and when the contact has asked for
  // kPortalCodesPerHour codes in the last hour (`*retry_after_ms` then says
  // how long to wait). Audited: portal.code (ok with the subject, or refused
  // "no single subject on file").
  Result<PortalChallenge> StartPortalSignIn(std::string_view tenant, const LookupQuery& contact,
                                            int64_t* retry_after_ms = nullptr);
  // Checks the code of a challenge (constant time). Right and in time: the
  // person's session (kPortalSessionMs). Wrong, expired, unknown or for no
  // one: Unauthenticated "wrong or expired code (N attempts left)"; the 5th
  // wrong code ends the challenge. Audited (portal.sign_in).
  Result<PortalSignIn> OpenPortalSession(std::string_view tenant, std::string_view challenge,
                                         std::string_view code);
  // The live portal session of a token for `tenant`. Unauthenticated
  // ("invalid or expired session") for a malformed, unknown, tampered,
  // expired, signed-out or other tenant's token, or a subject since erased.
  Result<PortalSession> AuthenticatePortal(std::string_view tenant, std::string_view token);
  // OK iff `csrf` is the session's CSRF token (constant time).
  Status CheckPortalCsrf(const PortalSession& session, std::string_view csrf);
  // Signs the session out server-side (portal.sign_out).
  Status ClosePortalSession(const PortalSession& session);
  // What the person sees: their consents and their requests. Audited (portal.read).
  Result<PortalOverview> ReadPortal(const PortalSession& session);
  // A request of the signed-in person about themselves, as SubmitRequest; the
  // sign-in's code is the verification `otp` asks for (a policy that says
  // `operator` still needs an operator), so access, portability, objection,
  // restriction, consent withdrawal and self-service corrections are carried
  // out at once. `in.subject` must be empty (it is the session's).
  Result<RequestView> SubmitPortalRequest(const PortalSession& session, RequestInput in);
  // The signed-in person gives (`granted`) or withdraws consent for a
  // consent-based purpose, recorded in the ledger with source `portal`
  // (audited as SetConsents). FailedPrecondition for a purpose that does not
  // rest on consent (an objection is a request); InvalidArgument for an
  // undeclared purpose or another state.
  Result<ConsentStatus> SetPortalConsent(const PortalSession& session, std::string_view purpose,
                                         std::string_view state);

  // --- Bulk import (service/import_batch.cc) ---
  // Whether `actor` may import into `tenant`, or see an import's progress and
  // rejected rows (which hold personal data): role admin only. A refusal is
  // audited as `action` ("import.start", "import.read") and returned; for
  // adapters that run imports (import::RunImport checks again per batch).
  Status AuthorizeImport(const Actor& actor, std::string_view tenant, std::string_view action);
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

  // --- Credentials (service/access.cc; docs/access.md) ---
  // Creating keys and operators and revoking keys needs actor.role "admin"
  // (PermissionDenied otherwise, audited). A credential's role must be one a
  // purpose of the tenant's policy lists, or admin or auditor (InvalidArgument
  // naming the roles allowed). Nothing secret is audited or logged.

  // A new API key for `tenant` acting in `role`; `name` (0-64 of [A-Za-z0-9._-])
  // says what it is for; `limit` is its own request rate limit, if any
  // (InvalidArgument for a rate not above 0, a burst under 1, a burst without
  // a rate, or a value that is not finite). The key is in the result only.
  Result<CreatedApiKey> CreateApiKey(const Actor& actor, std::string_view tenant,
                                     std::string_view role, std::string_view name,
                                     const ApiKeyLimit& limit = {});
  // The tenant's keys, revoked ones included, oldest first. NotFound if no such
  // tenant. The caller authorizes (no actor: listing shows no secret).
  Result<std::vector<ApiKeyInfo>> ListApiKeys(std::string_view tenant);
  // NotFound if the tenant has no such key; FailedPrecondition if already revoked.
  Status RevokeApiKey(const Actor& actor, std::string_view tenant, std::string_view key_id);
  // The tenant and actor of a bearer token. Unauthenticated("invalid or revoked
  // API key") for a malformed, unknown, tampered or revoked key alike. Fast:
  // validated keys are cached (see VaultOptions::api_key_cache_ttl_ms); not
  // audited (the request it authenticates is).
  Result<ApiKeyIdentity> AuthenticateApiKey(std::string_view bearer_token);

  // A new operator (a person) of `tenant`: password (>= 12 characters, hashed
  // with Argon2id) plus a fresh TOTP secret (sealed). AlreadyExists if the
  // email is taken in the tenant.
  Result<OperatorEnrollment> AddOperator(const Actor& actor, std::string_view tenant,
                                         std::string_view email, std::string_view role,
                                         std::string_view password);
  // Signs an operator in with password and TOTP code (one step of clock skew
  // either way; a step already used is refused). Every failure is
  // Unauthenticated with the same message, whether the tenant or email exists
  // or the password or code was wrong; after LoginLimits::max_failures the
  // account and the remote address are locked (Unauthenticated, "too many
  // failed sign-ins; try again later"). Audited: operator.login (ok/refused),
  // operator.lockout; never the email, password or code. When refused because
  // the account or address is locked, `*locked_ms` (when given) is how long
  // the lock still lasts (the longer of the two), else 0.
  Result<LoginResult> Login(std::string_view tenant, std::string_view email,
                            std::string_view password, std::string_view totp_code,
                            std::string_view remote_addr, int64_t* locked_ms = nullptr);
  // The live session of a token. Unauthenticated("invalid or expired session")
  // for a malformed, unknown, tampered, expired or signed-out token alike.
  Result<Session> AuthenticateSession(std::string_view session_token);
  // OK iff `csrf_header` is the session's CSRF token (constant time);
  // PermissionDenied("missing or wrong CSRF token") otherwise.
  Status CheckCsrf(const Session& session, std::string_view csrf_header);
  // Revokes the session server-side (operator.logout). Unauthenticated as
  // AuthenticateSession for a token that is not a live session.
  Status Logout(std::string_view session_token);

  // --- Disclosures (service/disclosures.cc, docs/disclosures.md) ---
  // Records a disclosure, and with export_payload produces its payload, in one
  // transaction with its audit events. Checked in order, each refusal audited
  // (action "disclose", outcome refused) with nothing recorded:
  // CheckDisclosureInput; the role may use the purpose (Authorize), and a
  // disclosure to an `authority` needs role admin; lookups by a category the
  // purpose may not use are refused. Then each subject: unknown or erased
  // ones, and those the purpose may not be used for now (consent,
  // objection, restriction), are left out and reported in `refused` (one
  // refused event each); when every subject is left out nothing is recorded
  // and the single subject's error (or PermissionDenied) is returned.
  Result<DisclosureResult> Disclose(const Actor& actor, std::string_view tenant,
                                    const DisclosureInput& input);
  // The disclosures of one subject, oldest first (the access export and the
  // portal show the same). Any role a purpose lists, or auditor. Audited
  // (disclosure.list). NotFound for an unknown subject.
  Result<std::vector<DisclosureView>> ListDisclosures(const Actor& actor, std::string_view tenant,
                                                      std::string_view subject);

  // --- Reports (service/reports.cc, docs/reports.md) ---
  // Each is JSON text (the source of truth; RenderReport in
  // service/report_render.h turns it into markdown or HTML), holds no personal
  // value, needs role admin or auditor (others PermissionDenied, audited) and
  // is audited (report.processing, report.requests, report.access).
  // InvalidArgument when the period is empty or reversed.
  // The record of processing activities: per purpose its categories, basis,
  // roles, recipients, retention, and counts in the period.
  Result<std::string> ReportProcessing(const Actor& actor, std::string_view tenant,
                                       const ReportPeriod& period);
  // Requests received in the period: by type and state, median and worst
  // time to completion, the overdue ones.
  Result<std::string> ReportRequests(const Actor& actor, std::string_view tenant,
                                     const ReportPeriod& period);
  // Reads and refusals in the period from the audit trail, by role, purpose
  // and actor, with unusual volumes flagged (kOutlierFactor).
  Result<std::string> ReportAccess(const Actor& actor, std::string_view tenant,
                                   const ReportPeriod& period);

  // --- The audit trail (service/audit_trail.cc, docs/audit.md) ---
  // The audit signing key's public key (raw 32 bytes). The key is made on
  // first use and kept in the store, its seed wrapped by the master key.
  Result<std::string> AuditPublicKey();
  // Signs the chain head now. nullopt when there is no event or the head
  // already has a checkpoint. Unavailable when the store fails.
  Result<std::optional<AuditCheckpointInfo>> CheckpointAudit();
  // Checkpoints after event `after_seq`, oldest first, at most `limit`.
  Result<std::vector<AuditCheckpointInfo>> ListAuditCheckpoints(int64_t after_seq, int limit);
  // Checks the chain and every checkpoint's signature with the store's
  // signing key (whose seed must open with the master key and match the
  // public key kept beside it). With `since_seq`: starts at the checkpoint at
  // that event, whose signature must verify, and checks only what follows
  // (NotFound when there is no checkpoint there).
  Result<audit::VerifyReport> VerifyAudit(std::optional<int64_t> since_seq = std::nullopt);
  // Streams the export (audit/export.h) to `write`, reading the store page by
  // page (constant memory). Audited first (audit.export), so the export
  // itself is on record; an error from `write` stops it.
  Result<AuditExportSummary> ExportAudit(const Actor& actor, const AuditExportOptions& options,
                                         const std::function<Status(std::string_view)>& write);
  // The tenant's own events (never another tenant's, never store-wide ones)
  // for roles auditor and admin; others PermissionDenied, audited. Each read
  // is audited (audit.read) in the same transaction (fail closed).
  Result<AuditPage> ListAudit(const Actor& actor, std::string_view tenant,
                              const AuditQuery& query);
  store::Store& store();

 private:
  struct Impl;
  struct PreparedSubject;
  explicit Vault(std::unique_ptr<Impl> impl);
  Result<std::shared_ptr<const TenantContext>> TenantFor(std::string_view tenant);
  // A lookup read and projected: the answer, and the write that must commit
  // (its audit events) before the answer is given, which may update it.
  // A lookup between its read and its write. `write` appends its audit
  // events; once it is committed the answer is `views`, or, if `refused` is
  // not OK, that refusal (then `write` appends the refusal event, and the
  // caller that commits it answers without a commit of its own on its thread).
  struct PendingLookup {
    std::function<Status(store::Transaction&)> write;
    std::shared_ptr<std::vector<std::vector<SubjectView>>> views;
    Status refused;
  };
  Result<PendingLookup> PrepareLookup(const Actor& actor, std::string_view tenant,
                                      const std::vector<LookupQuery>& queries,
                                      std::string_view purpose);
  friend struct LookupTestPeer;  // service/lookup_test.cc: changes between read and write
  // AddRecord's write, in `tx`, for a kind the caller may write: the record
  // sealed under the live subject's key, and its audit event. Its id.
  Result<std::string> WriteRecord(store::Transaction& tx, const TenantContext& t,
                                  const Actor& actor, std::string_view subject,
                                  const RecordInput& record, const policy::RecordKind& kind);
  friend struct PreparedImportBatch;
  // SetConsents once the actor may: checks every change, then records them in
  // one transaction, each audited from `base`.
  Result<std::vector<ConsentStatus>> RecordConsents(const TenantContext& t, audit::Event base,
                                                    std::string_view subject,
                                                    const std::vector<ConsentChange>& changes);
  // SubmitRequest once the actor may: checks `in`, records it, carries it out
  // when verified and its type needs no operator. `verified_by_code`, when
  // not empty, is how the person already proved a code (the resolution).
  Result<RequestView> RecordRequest(const TenantContext& t, const Actor& actor, audit::Event ev,
                                    const RequestInput& in, std::string_view verified_by_code);
  // Carries out a verified request inside `tx` (service/request_fulfill.cc).
  struct RequestWork;
  Status Fulfill(store::Transaction& tx, const TenantContext& t, const Actor& actor,
                 RequestWork& work);
  // Fulfill, when the request's type needs no operator (FulfilledOnVerification).
  Status MaybeFulfill(store::Transaction& tx, const TenantContext& t, const Actor& actor,
                      RequestWork& work);
  // Pushes the due date out by the law's extension and tells the person.
  Status Extend(store::Transaction& tx, const TenantContext& t, const Actor& actor,
                RequestWork& work, std::string_view reason);
  // The erasure part of Fulfill: shreds what no legal obligation keeps and
  // records the rest's holds in `evidence`.
  Status EraseForRequest(store::Transaction& tx, const TenantContext& t, const Actor& actor,
                         const store::RequestRow& request, const store::SubjectRow& subject,
                         RequestEvidence& evidence);
  // The access bundle of a live subject, sealed and stored as an export of
  // the request; fills the evidence's export fields and the download token.
  Status BuildExport(store::Transaction& tx, const TenantContext& t, RequestWork& work,
                     const store::SubjectRow& subject, RequestEvidence& evidence);
  friend class Retention;  // service/retention.h
  Result<PreparedSubject> Prepare(const TenantContext& t, const SubjectInput& in);
  // The blind-index digests of the indexed fields.
  void Finish(const TenantContext& t, PreparedSubject& p);
  // The row `p` becomes if it is a new subject: id, wrapped key, sealed fields.
  Status SealAhead(const TenantContext& t, PreparedSubject& p);
  Result<AddSubjectResult> Write(store::Transaction& tx, const TenantContext& t,
                                 const Actor& actor, PreparedSubject& in);
  Status WriteRecords(store::Transaction& tx, const TenantContext& t, const Actor& actor,
                      const PreparedImportBatch& batch, std::vector<ImportRowResult>& results);
  std::unique_ptr<Impl> impl_;
};

}  // namespace custodian::service
