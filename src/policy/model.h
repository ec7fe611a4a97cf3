// The policy model: one tenant's privacy policy as plain value types.
//
// A policy is loaded from YAML (policy/loader.h), checked (policy/validator.h)
// and rendered as a notice (policy/render.h). Everything here is a value type
// with no behaviour beyond small lookups; it is safe to copy and to share
// read-only between threads. docs/policy-format.md documents every YAML key;
// the comments below name the key each member comes from.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace custodian::policy {

// Where a value came from in the source file (1-based; 0 = unknown).
struct SourcePos {
  int line = 0;
  int column = 0;
};

// "12 months", "90 days", "1 year", "6 weeks". Calendar units are kept as such
// so that "12 months after 31 January" is 31 January of the next year.
struct Duration {
  enum class Unit { kDays, kWeeks, kMonths, kYears };
  int64_t count = 0;
  Unit unit = Unit::kDays;
  std::string ToString() const;  // "12 months", "1 day"
  bool operator==(const Duration&) const = default;
};

// A calendar date, YYYY-MM-DD.
struct Date {
  int year = 0;
  int month = 0;
  int day = 0;
  std::string ToString() const;  // "2026-04-07"
  bool operator==(const Date&) const = default;
  auto operator<=>(const Date&) const = default;
};

struct ContactChannel {
  std::string channel;  // email | phone | whatsapp | sms | web | post | in_person
  std::string value;    // "admin@interjet.in", "+91 8870-100-100"
  SourcePos pos;
};

struct GrievanceOfficer {
  std::string name;      // optional: a role title is fine ("Grievance Officer")
  std::string title;     // optional
  std::vector<ContactChannel> contacts;
};

// organization:
struct Organization {
  std::string name;           // trading name shown in the notice: "Interjet"
  std::string legal_name;     // "Interjet Technologies Pvt Ltd"
  std::string jurisdiction;   // ISO 3166-1 alpha-2, upper case: "IN"; selects default deadlines
  std::string default_region; // phone numbering region; defaults to jurisdiction
  std::string role = "controller";  // controller | processor (for processors: who the controllers are)
  std::string role_note;      // "Agencies that upload customer data are the controllers."
  std::string website;
  std::vector<ContactChannel> contacts;
  GrievanceOfficer grievance_officer;
  SourcePos pos;
};

enum class Normalizer { kText, kPhone, kEmail, kDate };
enum class DataSource { kProvided, kObserved, kDerived };

// categories: <fideslang data category key>:
struct Category {
  std::string key;           // "user.contact.phone_number"
  std::string label;         // "Phone number"; defaults to the taxonomy label
  std::string description;
  bool sensitive = false;
  DataSource source = DataSource::kProvided;  // provided | observed | derived
  bool index_exact = false;  // index: exact  -> blind-indexed for lookup
  Normalizer normalize = Normalizer::kText;  // text | phone | email | date (default by key)
  bool custom = false;       // custom: true -> key extends a known taxonomy parent
  SourcePos pos;
};

enum class LegalBasis {
  kContract,
  kLegalObligation,
  kConsent,
  kLegitimateInterest,
  kVitalInterest,
  kPublicTask,
};

// purposes: <fideslang data use key>:
struct Purpose {
  std::string key;          // "marketing.communications.sms"
  std::string label;
  std::string description;
  std::optional<LegalBasis> basis;  // basis: (required; optional only so the validator can say so)
  std::vector<std::string> categories;  // categories it may use
  std::vector<std::string> roles;       // roles allowed to use it
  // Consent-based purposes only:
  std::vector<std::string> opt_out;     // sms_stop | whatsapp_stop | email_link | portal | operator
  std::vector<std::string> channels;    // marketing channels used: sms | whatsapp | email | push | phone
  bool default_granted = false;         // default: opted_in | opted_out (opted_out when absent)
  bool custom = false;
  SourcePos pos;
  SourcePos basis_pos;
};

enum class RecipientKind { kProcessor, kThirdParty, kAffiliate, kAuthority };

// recipients: <id>:
struct Recipient {
  std::string id;            // "razorpay"
  std::string label;         // "Payment service providers (Razorpay, banks, UPI partners)"
  RecipientKind kind = RecipientKind::kProcessor;
  std::vector<std::string> purposes;
  std::vector<std::string> categories;
  std::string country;       // ISO 3166-1 alpha-2 where the data goes
  std::string description;
  std::string notify;        // email for notices of corrections, erasures, restrictions (art. 19)
  SourcePos pos;
};

// record_kinds: <id>:  time-stamped items attached to a subject (billing lines, media...).
struct RecordKind {
  std::string id;            // "billing"
  std::string label;         // "Billing records"
  std::string category;      // the category its payload belongs to
  std::vector<std::string> anchors;  // custom anchor events, e.g. [verified]
  SourcePos pos;
};

enum class AnchorKind {
  kWhileActive,   // while: active  -> kept while the subject is active; due at closure
  kAfterEvent,    // after: closed | collected | verified | <custom anchor>
};

enum class RetentionAction { kDelete, kAnonymize };

// retention: - rule
struct RetentionRule {
  std::string name;                       // optional id; generated "retention[2]" when absent
  std::vector<std::string> categories;    // categories it covers
  std::vector<std::string> records;       // record kinds it covers
  AnchorKind anchor = AnchorKind::kWhileActive;
  std::string after;                      // anchor event name for kAfterEvent
  std::optional<Duration> duration;       // for: 12 months  (none with while: active = at closure)
  RetentionAction action = RetentionAction::kDelete;
  std::vector<std::string> keep;          // anonymize: fields kept, generalized
  // anonymize: the fewest accounts a combination of kept values must hold to
  // be shown among the aggregates; smaller groups are withheld (1: all shown).
  int64_t min_group = 1;
  std::string reason;                     // legal reason for keeping
  SourcePos pos;
};

// rights: <right>:
struct Right {
  std::string name;            // access | correction | erasure | objection | restriction |
                               // portability | consent_withdrawal | grievance
  std::optional<int64_t> deadline_days;  // when absent: the jurisdiction's default
  std::optional<int64_t> extension_days; // how much longer it may take, if the law allows
  // Set from the jurisdiction (never from the policy) when the law counts in
  // calendar months and the policy gives no days: requests are then due this
  // many months after receipt, instead of deadline_days / extension_days.
  std::optional<int64_t> deadline_months;
  std::optional<int64_t> extension_months;
  std::string verification;    // otp | operator | none; default from rights.verification
  std::vector<std::string> self_service;  // correction: categories the person may edit
  std::vector<std::string> exceptions;    // erasure: legal carve-outs, in words
  std::string how;             // how to exercise it, in words (defaults from contacts)
  SourcePos pos;
};

// cookies: <id>:
struct CookieCategory {
  std::string id;              // strictly_necessary | analytics | advertising ...
  std::string label;
  std::string purpose;         // a purpose key of this policy
  bool consent_required = true;
  std::vector<std::string> examples;
  std::string description;
  SourcePos pos;
};

// security: <measure>:
struct SecurityMeasure {
  std::string id;              // "operator_2fa"
  std::string label;
  // enforced: <setting> when custodian enforces it (e.g. "required"), empty when declared only.
  std::string enforced;
  SourcePos pos;
};

// changes:
struct ChangePolicy {
  std::string notice = "posted";  // posted | opt_in_out (how people learn of a change)
  std::string url;                // where changes are posted
  std::string text;               // e.g. "Continued use implies consent to the updated policy."
};

struct Policy {
  std::string file;            // path it was loaded from (for messages)
  std::string version;         // version: "2026.04"
  std::optional<Date> effective;  // effective: 2026-04-07
  std::optional<Date> updated;    // updated: (last updated) optional
  Organization organization;
  std::vector<Category> categories;
  std::vector<Purpose> purposes;
  std::vector<Recipient> recipients;
  std::vector<RecordKind> record_kinds;
  std::vector<RetentionRule> retention;
  std::string rights_verification = "otp";  // rights.verification default for every right
  std::vector<Right> rights;
  std::vector<CookieCategory> cookies;
  std::vector<SecurityMeasure> security;
  ChangePolicy changes;

  const Category* FindCategory(const std::string& key) const;
  const Purpose* FindPurpose(const std::string& key) const;
  const Recipient* FindRecipient(const std::string& id) const;
  const RecordKind* FindRecordKind(const std::string& id) const;
  const Right* FindRight(const std::string& name) const;
};

// Names used in YAML and in messages.
const char* LegalBasisName(LegalBasis b);            // "legitimate_interest"
const char* LegalBasisPlainWords(LegalBasis b);      // "because you asked us to (consent)"...
const char* RecipientKindName(RecipientKind k);      // "third_party"
const char* NormalizerName(Normalizer n);            // "phone"
const char* DataSourceName(DataSource s);            // "observed"
const char* RetentionActionName(RetentionAction a);  // "anonymize"

}  // namespace custodian::policy
