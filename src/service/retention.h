// The retention engine (docs/retention.md): applies the `retention` rules of
// each tenant's policy. Plan says what falls due when; Sweep purges what is
// due now (deletes records and fields, anonymizes, crypto-shreds subjects with
// nothing left), in bounded batches that each commit with their audit event,
// so a crash loses at most one uncommitted batch and the next sweep finds the
// rest still due. Legal holds stop the sweep for a subject or a record.
//
// Errors are Status codes with messages safe to log (ids, rule names, counts;
// never a personal value). Thread-safety: a Retention may be shared between
// threads; one sweep runs at a time per store (a lease in the store, which
// also keeps several processes sharing the store from sweeping together).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "custodian/status.h"
#include "service/vault.h"
#include "store/store.h"

namespace custodian::service {

// Items of one rule that fall due in one month of the tenant's calendar.
struct PlanMonth {
  std::string month;      // "2027-01"
  int64_t records = 0;    // records deleted then
  int64_t subjects = 0;   // subjects whose fields under the rule are purged then
};

struct RulePlan {
  std::string rule;
  std::string action;              // delete | anonymize
  std::string period;              // "while active", "12 months after closed"
  std::string reason;
  int64_t due_records = 0;         // due at the plan's time: the next sweep purges them
  int64_t due_subjects = 0;
  std::vector<PlanMonth> months;   // due later, oldest month first
  int64_t waiting_records = 0;     // anchor not reached yet (account open, not verified)
  int64_t waiting_subjects = 0;
};

struct RetentionPlan {
  std::string tenant;
  int64_t at_ms = 0;
  std::string time_zone;           // "UTC+05:30"
  std::vector<RulePlan> rules;     // in policy order
  int64_t holds = 0;               // legal holds standing at at_ms (their items are
                                   // counted above; the sweep keeps them)
};

// After each committed batch of a sweep.
struct SweepProgress {
  std::string tenant;
  int64_t due = 0;        // items due in this tenant
  int64_t done = 0;       // purged or held so far
};

struct SweepOptions {
  std::string tenant;             // "" = every tenant
  bool dry_run = false;           // find what is due, change nothing
  int batch_records = 5000;       // records per batch (one transaction)
  int batch_subjects = 500;       // subjects per batch
  int64_t lease_ms = 60'000;      // the lease is renewed by every batch
  // Remove the rows of records shredded with their subject (noise without
  // the key) before and after the purge. Off: they wait for a sweep with it
  // on, or Retention::Compact; the purge itself is the same.
  bool compact = true;
  std::function<void(const SweepProgress&)> on_batch;
  // Asked after each batch: true stops the sweep there (Unavailable).
  std::function<bool()> cancelled;
};

struct TenantSweep {
  std::string tenant;
  int64_t due = 0;                // items due (records + fields), held ones included
  int64_t records_deleted = 0;    // deleted, or shredded with their subject's key
  int64_t records_compacted = 0;  // rows of shredded records removed
  int64_t fields_deleted = 0;     // subject x category, deleted or anonymized
  int64_t subjects_anonymized = 0;
  int64_t subjects_erased = 0;    // crypto-shredded: nothing of them was kept any longer
  int64_t held = 0;               // due but kept by a legal hold
  int64_t overdue = 0;            // due and not purged (the sweep stopped early)
};

struct SweepReport {
  int64_t started_ms = 0;
  int64_t finished_ms = 0;
  bool dry_run = false;
  std::vector<TenantSweep> tenants;
};

struct HoldInput {
  std::string subject;
  std::string record;             // "" = the whole subject
  std::string reason;             // required, 1..1024 bytes, kept sealed
  std::optional<int64_t> until_ms;
};

struct HoldView {
  std::string id;
  std::string subject;
  std::string record;
  std::string reason;
  std::string actor;
  int64_t created_ms = 0;
  std::optional<int64_t> until_ms;
  std::optional<int64_t> released_ms;
  std::string released_by;
  bool standing = false;
};

// One combination of generalized values kept by an anonymize rule, and how
// many closed accounts had it.
struct AggregateView {
  std::string rule;
  std::vector<std::pair<std::string, std::string>> values;  // category -> general form
  int64_t count = 0;
};

// What anonymize rules kept, as Retention::Aggregates shows it: the groups of
// kept values shared by at least their rule's `min_group` accounts; of the
// smaller ones only how many there are, per rule (no value, no count).
struct AggregateReport {
  std::vector<AggregateView> groups;
  struct Withheld {
    std::string rule;
    int64_t min_group = 0;
    int64_t groups = 0;  // combinations with fewer accounts than min_group
  };
  std::vector<Withheld> withheld;  // rules with any, in policy order
};

// Called inside a sweep batch's transaction after the sweep purged items of
// `subject` (erased: the subject was crypto-shredded): marks what erasure
// requests kept under a legal obligation purged once its end has come (or
// all of it when the subject was shredded), which the requests' evidence shows.
Status AfterRetentionPurge(store::Transaction& tx, std::string_view tenant,
                           std::string_view subject, bool erased, int64_t now_ms);

class Retention {
 public:
  explicit Retention(Vault& vault) : vault_(vault) {}

  // What falls due when, per rule, counted (never a value). `at_ms`: the
  // time to plan for (default now). Any operator role.
  Result<RetentionPlan> Plan(const Actor& actor, std::string_view tenant,
                             std::optional<int64_t> at_ms = std::nullopt);

  // Purges what is due now. Admin only. FailedPrecondition when another
  // sweep holds the lease; the report of the tenants done so far is lost on
  // error, but every committed batch stands (and is audited).
  Result<SweepReport> Sweep(const Actor& actor, const SweepOptions& options);

  // Removes the rows of records shredded with their subject (see
  // SweepOptions::compact) in batches of options.batch_subjects subjects,
  // under the sweep's lease. Admin only. Returns the rows removed per tenant.
  Result<SweepReport> Compact(const Actor& actor, const SweepOptions& options);

  // Legal holds. Add and release: admin; list: any operator role. Audited
  // (retention.hold, retention.release) without the reason.
  Result<HoldView> AddHold(const Actor& actor, std::string_view tenant, const HoldInput& hold);
  Result<HoldView> ReleaseHold(const Actor& actor, std::string_view tenant, std::string_view id);
  // Oldest first; the subject's only when `subject` is set; released and
  // lapsed holds too unless `standing_only`.
  Result<std::vector<HoldView>> ListHolds(const Actor& actor, std::string_view tenant,
                                          std::string_view subject, bool standing_only);

  // The anonymized aggregates (decrypted), each group under its rule's
  // `min_group` withheld. Any operator role; audited (the count of groups
  // shown).
  Result<AggregateReport> Aggregates(const Actor& actor, std::string_view tenant);

  // Each tenant's last sweep (for metrics; counts only).
  Result<std::vector<store::SweepRow>> LastSweeps();

 private:
  class Sweeper;  // retention_sweep.cc
  Result<SweepReport> Run(const Actor& actor, const SweepOptions& options, bool compact_only);
  Vault& vault_;
};

}  // namespace custodian::service
