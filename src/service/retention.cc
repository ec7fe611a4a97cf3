// The retention engine's read side and legal holds: Plan, holds, anonymized
// aggregates. The sweep itself is in retention_sweep.cc.
#include "service/retention.h"

#include <algorithm>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "crypto/keys.h"
#include "policy/calendar.h"
#include "service/authorize.h"
#include "service/retention_rules.h"
#include "service/vault_internal.h"

namespace custodian::service {

using policy::RetentionRule;
namespace rt = retention;

Status AfterRetentionPurge(store::Transaction& tx, std::string_view tenant,
                           std::string_view subject, bool erased, int64_t now_ms) {
  // What an erasure request kept under a legal obligation is gone once its
  // retention ends: the request's evidence shows each item's purge time.
  return tx.MarkErasureHoldsPurged(tenant, subject, erased, now_ms).status();
}

namespace {

constexpr std::size_t kMaxHoldReason = 1024;

std::string HoldAd(std::string_view tenant, std::string_view id) {
  return crypto::FieldAssociatedData(tenant, "retention", "hold:" + std::string(id));
}
std::string AggregateAd(std::string_view tenant, std::string_view rule) {
  return crypto::FieldAssociatedData(tenant, "retention", "aggregate:" + std::string(rule));
}

// Per rule: counts by bucket ("" = due now, "~" = waiting, else a month).
struct Tally {
  std::map<std::string, int64_t> records;
  std::map<std::string, int64_t> subjects;
};

void Fill(RulePlan& out, const Tally& t) {
  std::map<std::string, PlanMonth> months;
  for (const auto& [bucket, n] : t.records) {
    if (bucket.empty()) out.due_records += n;
    else if (bucket == "~") out.waiting_records += n;
    else months[bucket].records += n;
  }
  for (const auto& [bucket, n] : t.subjects) {
    if (bucket.empty()) out.due_subjects += n;
    else if (bucket == "~") out.waiting_subjects += n;
    else months[bucket].subjects += n;
  }
  for (auto& [month, m] : months) {
    m.month = month;
    out.months.push_back(m);
  }
}

}  // namespace

Result<RetentionPlan> Retention::Plan(const Actor& actor, std::string_view tenant,
                                      std::optional<int64_t> at_ms) {
  Vault::Impl& v = *vault_.impl_;
  ASSIGN_OR_RETURN(auto t, vault_.TenantFor(tenant));
  const policy::Policy& policy = t->policy;
  audit::Event ev = v.Event(actor, t->id, "retention.plan");
  if (Status allowed = AuthorizeOperator(policy, actor.role, "planning retention");
      !allowed.ok()) {
    return v.AuditRefusal(ev, allowed);
  }
  const int64_t now = at_ms.value_or(v.Now());
  const int offset = policy::UtcOffsetMinutes(policy.organization.jurisdiction);
  const int64_t today = policy::LocalDay(now, offset);
  auto bucket = [&](int64_t due_ms) {
    return due_ms <= now ? std::string() : policy::MonthOfDay(policy::LocalDay(due_ms, offset));
  };

  // Records and fields are counted at once, on two read connections (the
  // store's readers run beside each other): records by the day of their
  // anchor, in the store; fields by a scan of the subjects. Each side has its
  // own snapshot, so a purge committing in between may show on one side only;
  // the plan is a forecast and says when it was made.
  auto count_records = [&]() -> Result<std::map<const RetentionRule*, Tally>> {
    std::map<const RetentionRule*, Tally> tally;
    ASSIGN_OR_RETURN(auto tx, v.store->Begin(false));
    // Rows of records shredded with their subject wait for compaction: they
    // were purged (every one was due), and are neither due nor waiting.
    ASSIGN_OR_RETURN(auto shredded_by_kind, tx->ShreddedRecordsByKind(t->id));
    std::vector<int64_t> shredded_keys;
    if (!shredded_by_kind.empty()) {
      ASSIGN_OR_RETURN(shredded_keys, tx->ShreddedRecordKeys(t->id));
    }
    for (const policy::RecordKind& kind : policy.record_kinds) {
      auto rules = rt::RulesForKind(policy, kind.id);
      if (rules.empty()) continue;
      ASSIGN_OR_RETURN(int64_t total, tx->CountRecords(t->id, kind.id));
      auto noise_it = shredded_by_kind.find(kind.id);
      const int64_t noise = noise_it == shredded_by_kind.end() ? 0 : noise_it->second;
      total -= noise;
      if (total == 0) continue;
      Tally& out = tally[rules.front()];
      if (rules.size() > 1) {
        // Several rules: due when all are (the intersection of their due
        // sets); dates are not broken down by month.
        ASSIGN_OR_RETURN(auto due,
                         rt::DueKeys(*tx, t->id, kind.id, rules, now, offset, shredded_keys));
        out.records[""] += static_cast<int64_t>(due.size());
        out.records["~"] += total - static_cast<int64_t>(due.size());
        continue;
      }
      const RetentionRule& rule = *rules.front();
      ASSIGN_OR_RETURN(auto days, tx->RecordAnchorDays(t->id, kind.id, rt::RecordAnchorOf(rule),
                                                       rule.after, offset));
      int64_t anchored = 0;
      for (const store::DayCount& d : days) {
        anchored += d.count;
        if (rule.anchor == policy::AnchorKind::kWhileActive || !rule.duration) {
          out.records[""] += d.count;  // closed accounts: due at closure
          continue;
        }
        int64_t due_day = policy::DueDay(d.day, *rule.duration);
        out.records[due_day <= today ? std::string() : policy::MonthOfDay(due_day)] += d.count;
      }
      // Anchored by their own time or event (a closed anchor is the subject's,
      // gone with the shred), the shredded rows were counted as due: not so.
      if (noise > 0 && rt::RecordAnchorOf(rule) != store::RecordAnchor::kClosed) {
        out.records[""] -= noise;
        anchored -= noise;
      }
      out.records["~"] += total - anchored;
    }
    return tally;
  };
  auto records_tally = std::async(std::launch::async, count_records);

  std::map<const RetentionRule*, Tally> tally;
  // Fields: every subject not erased, by the categories it holds (their
  // names are in clear in the fields blob; nothing is decrypted).
  std::map<std::string, std::vector<const RetentionRule*>> rules_of;
  for (const policy::Category& c : policy.categories) {
    rules_of[c.key] = rt::RulesForCategory(policy, c.key);
  }
  ASSIGN_OR_RETURN(auto tx, v.store->Begin(false));
  Status scan = tx->ScanSubjects(t->id, false, [&](const store::SubjectRow& row) {
    std::map<const RetentionRule*, std::string> buckets;  // one count per rule and subject
    for (const std::string& category : rt::FieldCategories(row.fields)) {
      auto it = rules_of.find(category);
      if (it == rules_of.end() || it->second.empty()) continue;
      auto due = rt::FieldDueAt(it->second, row, offset);
      const RetentionRule* rule = due ? due->rule : it->second.front();
      std::string b = due ? bucket(due->due_ms) : std::string("~");
      auto [slot, inserted] = buckets.emplace(rule, b);
      if (!inserted && b < slot->second) slot->second = b;  // the soonest of its fields
    }
    for (const auto& [rule, b] : buckets) ++tally[rule].subjects[b];
    return true;
  });
  auto holds = scan.ok() ? tx->ListHolds(t->id, "", now) : Result<std::vector<store::HoldRow>>(scan);
  tx.reset();
  auto records = records_tally.get();  // joined before any return
  RETURN_IF_ERROR(scan);
  RETURN_IF_ERROR(holds.status());
  ASSIGN_OR_RETURN(auto by_records, std::move(records));
  for (auto& [rule, counted] : by_records) tally[rule].records = std::move(counted.records);

  RetentionPlan plan;
  plan.tenant = t->id;
  plan.at_ms = now;
  plan.time_zone = policy::UtcOffsetName(offset);
  plan.holds = static_cast<int64_t>(holds->size());
  for (const RetentionRule& rule : policy.retention) {
    RulePlan rp;
    rp.rule = rule.name;
    rp.action = policy::RetentionActionName(rule.action);
    rp.period = rt::PeriodText(rule);
    rp.reason = rule.reason;
    auto it = tally.find(&rule);
    if (it != tally.end()) Fill(rp, it->second);
    plan.rules.push_back(std::move(rp));
  }
  ev.outcome = "ok";
  ASSIGN_OR_RETURN(auto wtx, v.store->Begin(true));
  RETURN_IF_ERROR(wtx->AppendAudit(ev).status());
  RETURN_IF_ERROR(wtx->Commit());
  return plan;
}

namespace {

Result<HoldView> ViewOf(const TenantContext& t, const store::HoldRow& row, int64_t now) {
  HoldView h;
  h.id = row.id;
  h.subject = row.subject;
  h.record = row.record;
  auto reason = t.tenant_aead.Open(row.reason_sealed, HoldAd(t.id, row.id));
  if (!reason.ok()) {
    return Status::DataLoss("the reason of hold '" + row.id + "' failed its integrity check");
  }
  h.reason = std::move(reason).value();
  h.actor = row.actor;
  h.created_ms = row.created_ms;
  h.until_ms = row.until_ms;
  h.released_ms = row.released_ms;
  h.released_by = row.released_by;
  h.standing = row.Stands(now);
  return h;
}

}  // namespace

Result<HoldView> Retention::AddHold(const Actor& actor, std::string_view tenant,
                                    const HoldInput& in) {
  Vault::Impl& v = *vault_.impl_;
  ASSIGN_OR_RETURN(auto t, vault_.TenantFor(tenant));
  audit::Event ev = v.Event(actor, t->id, "retention.hold");
  ev.subject = in.subject;
  if (Status allowed = AuthorizeAdmin(actor.role, "placing a legal hold"); !allowed.ok()) {
    return v.AuditRefusal(ev, allowed);
  }
  if (in.reason.empty() || in.reason.size() > kMaxHoldReason) {
    return Status::InvalidArgument("a legal hold needs a reason of 1 to " +
                                   std::to_string(kMaxHoldReason) +
                                   " bytes (the court order, the dispute...)");
  }
  RETURN_IF_ERROR(crypto::ValidateUtf8(in.reason).WithContext("the reason"));
  const int64_t now = v.Now();
  if (in.until_ms && *in.until_ms <= now) {
    return Status::InvalidArgument("the hold's end (--until) is already past; give a later date");
  }
  ASSIGN_OR_RETURN(auto tx, v.store->Begin(true));
  ASSIGN_OR_RETURN(store::SubjectRow row, LiveSubject(*tx, t->id, in.subject));
  if (!in.record.empty()) {
    ASSIGN_OR_RETURN(auto rec, tx->GetRecord(t->id, in.record));
    if (!rec || rec->subject != row.id) {
      return Status::NotFound("record " + Quote(in.record) + " does not exist or is not subject " +
                              Quote(in.subject) + "'s");
    }
  }
  store::HoldRow h;
  h.tenant = t->id;
  h.id = NewId("hold_");
  h.subject = row.id;
  h.record = in.record;
  h.reason_sealed = t->tenant_aead.Seal(in.reason, HoldAd(t->id, h.id));
  h.actor = actor.id;
  h.created_ms = now;
  h.until_ms = in.until_ms;
  RETURN_IF_ERROR(tx->InsertHold(h));
  ev.outcome = "ok";
  ev.reason = "hold " + h.id + (h.record.empty() ? "" : ", record " + h.record);
  ev.count = 1;
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  RETURN_IF_ERROR(tx->Commit());
  return ViewOf(*t, h, now);
}

Result<HoldView> Retention::ReleaseHold(const Actor& actor, std::string_view tenant,
                                        std::string_view id) {
  Vault::Impl& v = *vault_.impl_;
  ASSIGN_OR_RETURN(auto t, vault_.TenantFor(tenant));
  audit::Event ev = v.Event(actor, t->id, "retention.release");
  if (Status allowed = AuthorizeAdmin(actor.role, "releasing a legal hold"); !allowed.ok()) {
    return v.AuditRefusal(ev, allowed);
  }
  const int64_t now = v.Now();
  ASSIGN_OR_RETURN(auto tx, v.store->Begin(true));
  ASSIGN_OR_RETURN(auto row, tx->GetHold(t->id, id));
  if (!row) {
    return Status::NotFound("hold " + Quote(id) + " does not exist in tenant " + Quote(t->id) +
                            "; `custodian hold list " + t->id + "` shows the holds");
  }
  if (row->released_ms) {
    return Status::FailedPrecondition("hold " + Quote(id) + " was already released");
  }
  RETURN_IF_ERROR(tx->ReleaseHold(t->id, id, now, actor.id));
  row->released_ms = now;
  row->released_by = actor.id;
  ev.subject = row->subject;
  ev.outcome = "ok";
  ev.reason = "hold " + row->id;
  ev.count = 1;
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  RETURN_IF_ERROR(tx->Commit());
  return ViewOf(*t, *row, now);
}

Result<std::vector<HoldView>> Retention::ListHolds(const Actor& actor, std::string_view tenant,
                                                   std::string_view subject, bool standing_only) {
  Vault::Impl& v = *vault_.impl_;
  ASSIGN_OR_RETURN(auto t, vault_.TenantFor(tenant));
  audit::Event ev = v.Event(actor, t->id, "retention.holds");
  ev.subject = std::string(subject);
  if (Status allowed = AuthorizeOperator(t->policy, actor.role, "listing legal holds");
      !allowed.ok()) {
    return v.AuditRefusal(ev, allowed);
  }
  const int64_t now = v.Now();
  ASSIGN_OR_RETURN(auto tx, v.store->Begin(true));
  ASSIGN_OR_RETURN(auto rows, tx->ListHolds(t->id, subject,
                                            standing_only ? std::optional<int64_t>(now)
                                                          : std::nullopt));
  std::vector<HoldView> out;
  for (const store::HoldRow& row : rows) {
    ASSIGN_OR_RETURN(HoldView h, ViewOf(*t, row, now));
    out.push_back(std::move(h));
  }
  ev.outcome = "ok";
  ev.count = static_cast<int64_t>(out.size());
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  RETURN_IF_ERROR(tx->Commit());
  return out;
}

Result<AggregateReport> Retention::Aggregates(const Actor& actor, std::string_view tenant) {
  Vault::Impl& v = *vault_.impl_;
  ASSIGN_OR_RETURN(auto t, vault_.TenantFor(tenant));
  audit::Event ev = v.Event(actor, t->id, "retention.aggregates");
  if (Status allowed = AuthorizeOperator(t->policy, actor.role, "reading anonymized aggregates");
      !allowed.ok()) {
    return v.AuditRefusal(ev, allowed);
  }
  ASSIGN_OR_RETURN(auto tx, v.store->Begin(true));
  ASSIGN_OR_RETURN(auto rows, tx->ListAggregates(t->id));
  AggregateReport out;
  std::map<std::string, int64_t> withheld;  // rule -> groups under its min_group
  for (const store::AggregateRow& row : rows) {
    // A rule no longer in the policy keeps the strictest reading: shown only
    // if the policy's rule allows it; an unknown rule's groups are shown.
    const policy::RetentionRule* rule = nullptr;
    for (const policy::RetentionRule& r : t->policy.retention) {
      if (r.name == row.rule) rule = &r;
    }
    if (rule != nullptr && row.count < rule->min_group) {
      ++withheld[row.rule];
      continue;  // not even opened
    }
    auto plain = t->tenant_aead.Open(row.sealed, AggregateAd(t->id, row.rule));
    if (!plain.ok()) {
      return Status::DataLoss("an aggregate of rule '" + row.rule +
                              "' failed its integrity check");
    }
    auto json = nlohmann::json::parse(*plain, nullptr, false);
    AggregateView a;
    a.rule = row.rule;
    a.count = row.count;
    if (json.is_object()) {
      for (auto& [k, val] : json.items()) {
        a.values.emplace_back(k, val.is_string() ? val.get<std::string>() : val.dump());
      }
    }
    out.groups.push_back(std::move(a));
  }
  for (const policy::RetentionRule& r : t->policy.retention) {
    auto w = withheld.find(r.name);
    if (w != withheld.end()) out.withheld.push_back({r.name, r.min_group, w->second});
  }
  ev.outcome = "ok";
  ev.count = static_cast<int64_t>(out.groups.size());
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  RETURN_IF_ERROR(tx->Commit());
  return out;
}

Result<std::vector<store::SweepRow>> Retention::LastSweeps() {
  ASSIGN_OR_RETURN(auto tx, vault_.impl_->store->Begin(false));
  return tx->ListSweeps();
}

namespace internal {
// The associated data aggregates are sealed with (retention_sweep.cc).
std::string RetentionAggregateAd(std::string_view tenant, std::string_view rule) {
  return AggregateAd(tenant, rule);
}
}  // namespace internal

}  // namespace custodian::service
