// Accountability reports (docs/reports.md): the record of processing
// activities, the requests report and the access report. Each is JSON built
// from the policy and the live store (counts, ids, policy keys, times: never a
// personal value, nothing is decrypted), read in one transaction that also
// appends the report's audit event.
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/time.h"
#include "policy/render.h"
#include "service/authorize.h"
#include "service/vault.h"
#include "service/vault_internal.h"

namespace custodian::service {
namespace {

using nlohmann::ordered_json;

constexpr int64_t kDayMs = 86400000;

Status CheckReportReader(const Actor& actor) {
  if (actor.role == kAdminRole || actor.role == "auditor") return Status::Ok();
  return Status::PermissionDenied("reports need role 'admin' or 'auditor' (not " +
                                  Quote(actor.role) + ")");
}

Status CheckPeriod(const ReportPeriod& p) {
  if (p.to_ms <= p.from_ms) {
    return Status::InvalidArgument("the period is empty: --to (" + FormatTime(p.to_ms) +
                                   ") must be after --from (" + FormatTime(p.from_ms) + ")");
  }
  return Status::Ok();
}

ordered_json Header(const std::string& report, const TenantContext& t, const ReportPeriod& p,
                    int64_t now) {
  const policy::Organization& org = t.policy.organization;
  return {{"report", report},
          {"tenant", t.id},
          {"organization", org.legal_name.empty() ? org.name : org.legal_name},
          {"policy_version", t.policy.version},
          {"generated_at", FormatTime(now)},
          {"period", {{"from", FormatTime(p.from_ms)}, {"to", FormatTime(p.to_ms)}}}};
}

double Days(int64_t ms) { return static_cast<double>(ms * 10 / kDayMs) / 10.0; }

// The median of `v` (sorted in place); 0 for none.
double Median(std::vector<int64_t>& v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? static_cast<double>(v[n / 2])
               : (static_cast<double>(v[n / 2 - 1]) + static_cast<double>(v[n / 2])) / 2.0;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Audits the report in `tx` and commits.
Status FinishReport(store::Transaction& tx, audit::Event ev, int64_t count) {
  ev.outcome = "ok";
  ev.count = count;
  RETURN_IF_ERROR(tx.AppendAudit(ev).status());
  return tx.Commit();
}

}  // namespace

Result<std::string> Vault::ReportProcessing(const Actor& actor, std::string_view tenant,
                                            const ReportPeriod& period) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  const policy::Policy& policy = t->policy;
  audit::Event ev = impl_->Event(actor, tenant, "report.processing");
  if (Status s = CheckReportReader(actor); !s.ok()) return impl_->AuditRefusal(ev, s);
  RETURN_IF_ERROR(CheckPeriod(period));
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));

  // Which categories each live subject holds (the keys of its sealed fields).
  std::map<std::string, std::set<std::string>> holders;  // category -> subjects
  int64_t live = 0;
  Status scan_error = Status::Ok();
  RETURN_IF_ERROR(tx->ScanSubjects(t->id, [&](const store::SubjectRow& row) {
    if (row.state == store::SubjectState::kErased) return true;
    ++live;
    auto fields = DecodeFields(row.fields);
    if (!fields.ok()) {
      scan_error = Status::DataLoss("the fields of subject " + Quote(row.id) +
                                    " cannot be decoded");
      return false;
    }
    for (const auto& [category, blob] : *fields) holders[category].insert(row.id);
    return true;
  }));
  RETURN_IF_ERROR(scan_error);
  ASSIGN_OR_RETURN(auto kinds, tx->CountRecords(t->id, period.from_ms, period.to_ms));
  ASSIGN_OR_RETURN(auto disclosures, tx->ListDisclosures(t->id, period.from_ms, period.to_ms));
  ASSIGN_OR_RETURN(auto requests, tx->ListRequests(t->id, false, ""));

  ordered_json purposes = ordered_json::array();
  int64_t records_total = 0;
  for (const auto& k : kinds) records_total += k.records;
  for (const policy::Purpose& p : policy.purposes) {
    std::set<std::string> subjects;
    for (const std::string& c : p.categories) {
      auto it = holders.find(c);
      if (it != holders.end()) subjects.insert(it->second.begin(), it->second.end());
    }
    std::vector<std::string> record_kinds;
    int64_t records = 0;
    for (const policy::RecordKind& k : policy.record_kinds) {
      if (!Contains(p.categories, k.category)) continue;
      record_kinds.push_back(k.id);
      for (const auto& count : kinds) {
        if (count.kind != k.id) continue;
        records += count.records;
        subjects.insert(count.subjects.begin(), count.subjects.end());
      }
    }
    ordered_json recipients = ordered_json::array();
    for (const policy::Recipient& r : policy.recipients) {
      if (!Contains(r.purposes, p.key)) continue;
      std::vector<std::string> shared;
      for (const std::string& c : r.categories) {
        if (Contains(p.categories, c)) shared.push_back(c);
      }
      recipients.push_back({{"recipient", r.id},
                            {"label", r.label},
                            {"kind", policy::RecipientKindName(r.kind)},
                            {"country", r.country},
                            {"categories", shared}});
    }
    ordered_json retention = ordered_json::array();
    for (const policy::RetentionRule& rule : policy.retention) {
      bool applies = false;
      for (const std::string& c : rule.categories) applies = applies || Contains(p.categories, c);
      for (const std::string& k : rule.records) applies = applies || Contains(record_kinds, k);
      if (!applies) continue;
      retention.push_back({{"rule", rule.name},
                           {"text", policy::DescribeRetentionRule(policy, rule)},
                           {"reason", rule.reason}});
    }
    int64_t disclosed = 0, disclosed_subjects = 0;
    for (const store::DisclosureRow& d : disclosures) {
      if (d.purpose != p.key) continue;
      ++disclosed;
      disclosed_subjects += d.subjects;
    }
    purposes.push_back(
        {{"purpose", p.key},
         {"label", p.label},
         {"basis", p.basis ? policy::LegalBasisName(*p.basis) : ""},
         {"categories", p.categories},
         {"record_kinds", record_kinds},
         {"roles", p.roles},
         {"recipients", recipients},
         {"retention", retention},
         {"counts",
          {{"subjects", static_cast<int64_t>(subjects.size())},
           {"records", records},
           {"disclosures", disclosed},
           {"subjects_disclosed", disclosed_subjects}}}});
  }
  std::map<std::string, int64_t> by_type;
  int64_t received = 0;
  for (const char* type : kRequestTypes) by_type[type] = 0;
  for (const store::RequestRow& r : requests) {
    if (r.received_ms < period.from_ms || r.received_ms >= period.to_ms) continue;
    ++received;
    ++by_type[r.type];
  }
  ordered_json types = ordered_json::object();
  for (const char* type : kRequestTypes) types[type] = by_type[type];
  ordered_json report = Header("processing", *t, period, impl_->Now());
  report["totals"] = {{"subjects", live},
                      {"records", records_total},
                      {"disclosures", static_cast<int64_t>(disclosures.size())},
                      {"requests", received}};
  report["purposes"] = purposes;
  report["requests"] = {{"received", received}, {"by_type", types}};
  RETURN_IF_ERROR(FinishReport(*tx, ev, static_cast<int64_t>(policy.purposes.size())));
  return report.dump(2);
}

Result<std::string> Vault::ReportRequests(const Actor& actor, std::string_view tenant,
                                          const ReportPeriod& period) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  audit::Event ev = impl_->Event(actor, tenant, "report.requests");
  if (Status s = CheckReportReader(actor); !s.ok()) return impl_->AuditRefusal(ev, s);
  RETURN_IF_ERROR(CheckPeriod(period));
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  ASSIGN_OR_RETURN(auto requests, tx->ListRequests(t->id, false, ""));
  const int64_t now = impl_->Now();

  struct TypeStats {
    int64_t received = 0, completed = 0, rejected = 0, expired = 0, open = 0, overdue = 0;
    std::vector<int64_t> durations;  // completed: received -> closed
  };
  std::map<std::string, TypeStats> stats;
  for (const char* type : kRequestTypes) stats[type];
  TypeStats all;
  ordered_json overdue = ordered_json::array();
  for (const store::RequestRow& r : requests) {
    if (r.received_ms < period.from_ms || r.received_ms >= period.to_ms) continue;
    TypeStats& s = stats[r.type];
    const bool open = !r.closed_ms;
    const bool late = open ? now > r.due_ms : *r.closed_ms > r.due_ms;
    for (TypeStats* x : {&s, &all}) {
      ++x->received;
      if (r.state == store::RequestState::kCompleted) {
        ++x->completed;
        x->durations.push_back(*r.closed_ms - r.received_ms);
      }
      if (r.state == store::RequestState::kRejected) ++x->rejected;
      if (r.state == store::RequestState::kExpired) ++x->expired;
      if (open) ++x->open;
      if (late) ++x->overdue;
    }
    if (late) {
      const int64_t late_ms = (open ? now : *r.closed_ms) - r.due_ms;
      overdue.push_back({{"id", r.id},
                         {"type", r.type},
                         {"state", store::RequestStateName(r.state)},
                         {"received_at", FormatTime(r.received_ms)},
                         {"due_at", FormatTime(r.due_ms)},
                         {"closed_at", r.closed_ms ? ordered_json(FormatTime(*r.closed_ms))
                                                   : ordered_json()},
                         {"days_late", Days(late_ms)}});
    }
  }
  const auto stats_json = [](TypeStats& s) {
    const bool any = !s.durations.empty();
    const double median = Median(s.durations);
    const int64_t worst = any ? s.durations.back() : 0;  // sorted by Median
    return ordered_json{
        {"received", s.received},
        {"completed", s.completed},
        {"rejected", s.rejected},
        {"expired", s.expired},
        {"open", s.open},
        {"overdue", s.overdue},
        {"median_days_to_complete",
         any ? ordered_json(Days(static_cast<int64_t>(median))) : ordered_json()},
        {"worst_days_to_complete", any ? ordered_json(Days(worst)) : ordered_json()}};
  };
  ordered_json by_type = ordered_json::array();
  for (const char* type : kRequestTypes) {
    ordered_json j = {{"type", type}};
    j.update(stats_json(stats[type]));
    by_type.push_back(std::move(j));
  }
  ordered_json report = Header("requests", *t, period, now);
  report["totals"] = stats_json(all);
  report["by_type"] = by_type;
  report["overdue"] = overdue;
  RETURN_IF_ERROR(FinishReport(*tx, ev, all.received));
  return report.dump(2);
}

Result<std::string> Vault::ReportAccess(const Actor& actor, std::string_view tenant,
                                        const ReportPeriod& period) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  audit::Event ev = impl_->Event(actor, tenant, "report.access");
  if (Status s = CheckReportReader(actor); !s.ok()) return impl_->AuditRefusal(ev, s);
  RETURN_IF_ERROR(CheckPeriod(period));
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));

  struct Tally {
    int64_t reads = 0;
    int64_t refusals = 0;
    std::set<std::string> subjects;
  };
  std::map<std::string, Tally> by_role, by_purpose;
  std::map<std::pair<std::string, std::string>, Tally> by_actor;  // (role, actor)
  std::map<std::string, int64_t> refusals_by_action;
  int64_t reads = 0, refusals = 0, misses = 0, events = 0;
  static const std::set<std::string> kReads = {"subject.show", "lookup", "record.list",
                                               "disclose"};
  store::AuditFilter f;
  f.tenant = t->id;
  f.from_ms = period.from_ms;
  f.to_ms = period.to_ms;
  while (true) {
    ASSIGN_OR_RETURN(auto rows, tx->ListAudit(f));
    if (rows.empty()) break;
    f.after_seq = rows.back().event.seq;
    for (const store::AuditRow& row : rows) {
      auto e = audit::Event::FromCanonical(row.event.canonical);
      if (!e.ok()) {
        return Status::DataLoss("audit event " + std::to_string(row.event.seq) +
                                " is not a valid event; run `custodian audit verify`");
      }
      ++events;
      Tally& actor_tally = by_actor[{e->role, e->actor}];
      if (e->outcome == "refused") {
        ++refusals;
        ++refusals_by_action[e->action];
        ++actor_tally.refusals;
        ++by_role[e->role].refusals;
        if (!e->purpose.empty()) ++by_purpose[e->purpose].refusals;
        continue;
      }
      if (e->outcome == "miss") ++misses;
      if (!kReads.count(e->action) || (e->outcome != "ok" && e->outcome != "hit")) continue;
      ++reads;
      std::vector<std::string> subjects = e->subjects;
      if (!e->subject.empty()) subjects.push_back(e->subject);
      for (Tally* x : {&by_role[e->role], &by_purpose[e->purpose], &actor_tally}) {
        ++x->reads;
        x->subjects.insert(subjects.begin(), subjects.end());
      }
    }
  }

  const auto tally_json = [](const Tally& x) {
    return ordered_json{{"reads", x.reads},
                        {"subjects", static_cast<int64_t>(x.subjects.size())},
                        {"refusals", x.refusals}};
  };
  ordered_json roles = ordered_json::array();
  for (const auto& [role, x] : by_role) {
    ordered_json j = {{"role", role}};
    j.update(tally_json(x));
    roles.push_back(std::move(j));
  }
  ordered_json purposes = ordered_json::array();
  for (const auto& [purpose, x] : by_purpose) {
    ordered_json j = {{"purpose", purpose}};
    j.update(tally_json(x));
    purposes.push_back(std::move(j));
  }
  ordered_json actors = ordered_json::array();
  ordered_json outliers = ordered_json::array();
  for (const auto& [key, x] : by_actor) {
    ordered_json j = {{"actor", key.second}, {"role", key.first}};
    j.update(tally_json(x));
    actors.push_back(std::move(j));
    // Peers: the other actors of the same role.
    std::vector<int64_t> peers;
    for (const auto& [other, y] : by_actor) {
      if (other.first == key.first && other.second != key.second) {
        peers.push_back(static_cast<int64_t>(y.subjects.size()));
      }
    }
    const int64_t mine = static_cast<int64_t>(x.subjects.size());
    if (peers.empty() || mine < kOutlierMinSubjects) continue;
    const double median = Median(peers);
    if (static_cast<double>(mine) > static_cast<double>(kOutlierFactor) * median) {
      outliers.push_back({{"actor", key.second},
                          {"role", key.first},
                          {"subjects", mine},
                          {"peers", static_cast<int64_t>(peers.size())},
                          {"peer_median", median}});
    }
  }
  ordered_json refused = ordered_json::array();
  for (const auto& [action, n] : refusals_by_action) {
    refused.push_back({{"action", action}, {"refusals", n}});
  }
  ordered_json report = Header("access", *t, period, impl_->Now());
  report["totals"] = {{"events", events},
                      {"reads", reads},
                      {"refusals", refusals},
                      {"lookup_misses", misses}};
  report["by_role"] = roles;
  report["by_purpose"] = purposes;
  report["by_actor"] = actors;
  report["refusals_by_action"] = refused;
  report["outliers"] = outliers;
  report["outlier_rule"] =
      "an actor who read more than " + std::to_string(kOutlierFactor) +
      " times the median number of distinct subjects of the other actors of the same role, "
      "and at least " + std::to_string(kOutlierMinSubjects);
  RETURN_IF_ERROR(FinishReport(*tx, ev, events));
  return report.dump(2);
}

}  // namespace custodian::service
