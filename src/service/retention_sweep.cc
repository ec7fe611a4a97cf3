// The retention sweep (Retention::Sweep): finds what is due in a read
// transaction, then purges it in bounded batches, each ONE write transaction
// holding its deletions, its audit events and the renewal of the sweep lease.
// A crash loses at most the batch in flight; the next sweep recomputes what is
// due from the store, so nothing is purged twice and nothing is missed.
#include <sys/types.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "crypto/keys.h"
#include "policy/calendar.h"
#include "service/authorize.h"
#include "service/field_codec.h"
#include "service/retention.h"
#include "service/retention_rules.h"
#include "service/vault_internal.h"

namespace custodian::service {

namespace internal {
std::string RetentionAggregateAd(std::string_view tenant, std::string_view rule);
}

namespace {

using policy::RetentionRule;
namespace rt = retention;

constexpr char kLease[] = "retention";

// "host:pid:random": who holds the lease, and enough to tell that a holder on
// this machine died (kill -9) so its lease need not be waited out.
std::string Holder() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host) + ":" + std::to_string(::getpid()) + ":" + NewId("");
}

bool DeadHereAndNow(const std::string& holder) {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) return false;
  std::size_t a = holder.find(':');
  std::size_t b = a == std::string::npos ? a : holder.find(':', a + 1);
  if (b == std::string::npos || holder.substr(0, a) != host) return false;
  pid_t pid = static_cast<pid_t>(std::atoll(holder.substr(a + 1, b - a - 1).c_str()));
  if (pid <= 0 || pid == ::getpid()) return false;
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

struct Batch {
  // rule name -> (categories, subjects, items) for one audit event
  struct Purge {
    std::set<std::string> categories;
    std::set<std::string> subjects;
    int64_t items = 0;
  };
  std::map<std::string, Purge> deleted;
  std::map<std::string, Purge> anonymized;
  std::set<std::string> erased;
};

}  // namespace

class Retention::Sweeper {
 public:
  Sweeper(Vault::Impl& v, const Actor& actor, const SweepOptions& o, std::string holder)
      : v_(v), actor_(actor), o_(o), holder_(std::move(holder)) {}

  Status Tenant(const TenantContext& t, TenantSweep& out) {
    now_ = v_.Now();
    offset_ = policy::UtcOffsetMinutes(t.policy.organization.jurisdiction);
    out.tenant = t.id;
    // Rows a crashed or compaction-less sweep left behind go first, so that
    // what is due below is computed over live records only.
    if (o_.compact && !o_.dry_run) RETURN_IF_ERROR(Compact(t, out));
    ASSIGN_OR_RETURN(std::vector<DueKind> due, DueRecords(t));
    RETURN_IF_ERROR(Subjects(t, due, out));
    RETURN_IF_ERROR(Records(t, due, out));
    if (o_.compact && !o_.dry_run) RETURN_IF_ERROR(Compact(t, out));
    // Move the purged pages out of the WAL now (as Vault::EraseSubject does):
    // secure_delete zeroed them in the database, but the WAL still holds the
    // images from before until a checkpoint.
    if (out.records_deleted + out.records_compacted + out.fields_deleted + out.subjects_erased >
        0) {
      (void)v_.store->Checkpoint();
    }
    return Status::Ok();
  }

  Status CompactOnly(const TenantContext& t, TenantSweep& out) {
    out.tenant = t.id;
    RETURN_IF_ERROR(Compact(t, out));
    if (out.records_compacted > 0) (void)v_.store->Checkpoint();
    return Status::Ok();
  }

  // Removes the rows of the records of subjects shredded with them: noise
  // since their key went. Batches of o_.batch_subjects subjects, each with a
  // retention.compact event (counts only: the shred already named them).
  Status Compact(const TenantContext& t, TenantSweep& out) {
    while (true) {
      ASSIGN_OR_RETURN(auto tx, BeginBatch());
      ASSIGN_OR_RETURN(store::Compacted c,
                       tx->CompactShredded(t.id, std::max(1, o_.batch_subjects)));
      if (c.subjects == 0) return Status::Ok();  // the empty transaction rolls back
      audit::Event ev = v_.Event(actor_, t.id, "retention.compact");
      ev.reason = "rows of " + std::to_string(c.records) + " records of " +
                  std::to_string(c.subjects) +
                  " subjects shredded by retention (unreadable since) removed";
      ev.outcome = "ok";
      ev.count = c.records;
      RETURN_IF_ERROR(tx->AppendAudit(ev).status());
      RETURN_IF_ERROR(tx->Commit());
      out.records_compacted += c.records;
      RETURN_IF_ERROR(CheckCancelled());
    }
  }

  static Status AppendBatchAudit(store::Transaction& tx, Vault::Impl& v, const Actor& actor,
                          std::string_view tenant, const Batch& b) {
    auto emit = [&](const char* action, const std::string& rule, const Batch::Purge& p) -> Status {
      audit::Event ev = v.Event(actor, tenant, action);
      ev.categories.assign(p.categories.begin(), p.categories.end());
      ev.subjects.assign(p.subjects.begin(), p.subjects.end());
      ev.reason = "rule " + rule;
      ev.outcome = "ok";
      ev.count = p.items;
      RETURN_IF_ERROR(tx.AppendAudit(ev).status());
      return Status::Ok();
    };
    for (const auto& [rule, p] : b.deleted) RETURN_IF_ERROR(emit("retention.purge", rule, p));
    for (const auto& [rule, p] : b.anonymized) RETURN_IF_ERROR(emit("retention.anonymize", rule, p));
    if (!b.erased.empty()) {
      audit::Event ev = v.Event(actor, tenant, "retention.erase");
      ev.subjects.assign(b.erased.begin(), b.erased.end());
      ev.reason = "nothing of these subjects is kept any longer: keys destroyed";
      ev.outcome = "ok";
      ev.count = static_cast<int64_t>(b.erased.size());
      RETURN_IF_ERROR(tx.AppendAudit(ev).status());
    }
    return Status::Ok();
  }

 private:
  // A write transaction for one batch, with the lease renewed in it: if
  // another sweep took the lease over, this one stops before writing.
  Result<std::unique_ptr<store::Transaction>> BeginBatch() {
    ASSIGN_OR_RETURN(auto tx, v_.store->Begin(true));
    ASSIGN_OR_RETURN(bool ours, tx->TakeLease(kLease, holder_, v_.Now(), v_.Now() + o_.lease_ms));
    if (!ours) {
      return Status::Unavailable(
          "the retention sweep lost its lease to another sweep; what it committed stands and "
          "the other sweep goes on with the rest");
    }
    return tx;
  }

  Status CheckCancelled() {
    if (o_.cancelled && o_.cancelled()) {
      return Status::Unavailable("the retention sweep was stopped; the next one goes on from here");
    }
    return Status::Ok();
  }

  void Progress(const TenantSweep& s) {
    if (o_.on_batch) o_.on_batch({s.tenant, s.due, s.due - s.overdue});
  }

  // The records due now, per kind with rules, computed in one read
  // transaction, minus the rows of subjects already shredded (noise waiting
  // for compaction, purged when their subject was).
  struct DueKind {
    const policy::RecordKind* kind = nullptr;
    std::string rule_name;       // "a+b" when several rules must all be due
    std::vector<int64_t> keys;   // ascending
  };

  Result<std::vector<DueKind>> DueRecords(const TenantContext& t) {
    std::vector<DueKind> out;
    ASSIGN_OR_RETURN(auto tx, v_.store->Begin(false));
    ASSIGN_OR_RETURN(std::vector<int64_t> noise, tx->ShreddedRecordKeys(t.id));
    for (const policy::RecordKind& kind : t.policy.record_kinds) {
      auto rules = rt::RulesForKind(t.policy, kind.id);
      if (rules.empty()) continue;
      DueKind d;
      d.kind = &kind;
      for (const RetentionRule* r : rules) {
        d.rule_name += (d.rule_name.empty() ? "" : "+") + r->name;
      }
      ASSIGN_OR_RETURN(d.keys, rt::DueKeys(*tx, t.id, kind.id, rules, now_, offset_, noise));
      out.push_back(std::move(d));
    }
    return out;
  }

  // The due records left after Subjects shredded whole subjects (their keys
  // taken out of `due`), deleted row by row in batches.
  Status Records(const TenantContext& t, const std::vector<DueKind>& due_kinds,
                 TenantSweep& out) {
    for (const DueKind& d : due_kinds) {
      const std::vector<int64_t>& due = d.keys;
      if (due.empty()) continue;
      out.due += static_cast<int64_t>(due.size());
      out.overdue += static_cast<int64_t>(due.size());
      if (o_.dry_run) continue;
      const std::size_t step = static_cast<std::size_t>(std::max(1, o_.batch_records));
      for (std::size_t at = 0; at < due.size(); at += step) {
        std::vector<int64_t> keys(due.begin() + static_cast<std::ptrdiff_t>(at),
                                  due.begin() + static_cast<std::ptrdiff_t>(
                                                    std::min(due.size(), at + step)));
        ASSIGN_OR_RETURN(auto tx, BeginBatch());
        ASSIGN_OR_RETURN(auto purged, tx->DeleteRecordsByKey(t.id, keys, now_));
        Batch b;
        Batch::Purge& p = b.deleted[d.rule_name];
        p.categories.insert(d.kind->category);
        p.items = static_cast<int64_t>(purged.size());
        for (const store::PurgedRecord& r : purged) p.subjects.insert(r.subject);
        for (const std::string& s : p.subjects) {
          RETURN_IF_ERROR(AfterRetentionPurge(*tx, t.id, s, false, now_));
        }
        if (p.items > 0) RETURN_IF_ERROR(AppendBatchAudit(*tx, v_, actor_, t.id, b));
        RETURN_IF_ERROR(tx->Commit());
        // Keys not deleted belong to records under a hold (or erased meanwhile).
        out.records_deleted += p.items;
        out.held += static_cast<int64_t>(keys.size()) - p.items;
        out.overdue -= static_cast<int64_t>(keys.size());
        Progress(out);
        RETURN_IF_ERROR(CheckCancelled());
      }
    }
    return Status::Ok();
  }

  // The due kind a record of `kind` with `key` is due under, or null when
  // that record is not due.
  static const DueKind* DueUnder(const std::vector<DueKind>& due, const store::RecordKey& r) {
    for (const DueKind& d : due) {
      if (d.kind->id == r.kind) {
        return std::binary_search(d.keys.begin(), d.keys.end(), r.key) ? &d : nullptr;
      }
    }
    return nullptr;
  }

  // One subject inside a batch: its due fields deleted (anonymized first when
  // the deciding rule says so), or the whole subject crypto-shredded when it
  // is closed and nothing of it is kept any longer: no field, and every record
  // due. A shredded subject's records are purged with its key (their keys go
  // to `shredded`, for Records to skip); their rows wait for Compact.
  Status Subject(store::Transaction& tx, const TenantContext& t, const std::string& id,
                 const std::vector<DueKind>& due_records, Batch& b, TenantSweep& out,
                 std::vector<int64_t>& shredded) {
    ASSIGN_OR_RETURN(auto row, tx.GetSubject(t.id, id));
    if (!row || row->state == store::SubjectState::kErased) return Status::Ok();
    ASSIGN_OR_RETURN(SealedFields fields, DecodeFields(row->fields));
    std::map<const RetentionRule*, std::vector<std::string>> due_by_rule;
    SealedFields kept;
    int64_t due_count = 0;
    for (auto& [category, blob] : fields) {
      auto due = rt::FieldDueAt(rt::RulesForCategory(t.policy, category), *row, offset_);
      if (due && due->due_ms <= now_) {
        due_by_rule[due->rule].push_back(category);
        ++due_count;
      } else {
        kept.emplace_back(category, std::move(blob));
      }
    }
    const bool closed = row->state == store::SubjectState::kClosed;
    bool shred = false;
    std::vector<store::RecordKey> records;
    if (closed && kept.empty()) {
      ASSIGN_OR_RETURN(records, tx.SubjectRecordKeys(t.id, id));
      shred = std::all_of(records.begin(), records.end(), [&](const store::RecordKey& r) {
        return DueUnder(due_records, r) != nullptr;
      });
    }
    if (due_count == 0 && !shred) return Status::Ok();
    ASSIGN_OR_RETURN(auto holds, tx.ListHolds(t.id, id, now_));
    bool held = std::any_of(holds.begin(), holds.end(),
                            [](const store::HoldRow& h) { return h.record.empty(); });
    // A hold on one record keeps the subject's key: its other due records go
    // one by one (Records), the held one stays readable.
    if (!holds.empty()) shred = shred && records.empty();
    out.due += due_count;
    if (o_.dry_run) {
      out.overdue += due_count;
      return Status::Ok();
    }
    if (held) {
      out.held += due_count;
      return Status::Ok();
    }
    // Anonymize rules: the kept categories, generalized, join the rule's
    // aggregate; nothing that names the subject goes with them.
    std::optional<crypto::Aead> aead;
    for (const auto& [rule, categories] : due_by_rule) {
      if (rule->action != policy::RetentionAction::kAnonymize) continue;
      nlohmann::json combo = nlohmann::json::object();
      for (const std::string& category : categories) {
        if (std::find(rule->keep.begin(), rule->keep.end(), category) == rule->keep.end()) {
          continue;
        }
        if (!aead) {
          ASSIGN_OR_RETURN(crypto::Aead a, v_.SubjectAead(t, *row));
          aead.emplace(std::move(a));
        }
        auto it = std::find_if(fields.begin(), fields.end(),
                               [&](const auto& f) { return f.first == category; });
        auto plain = aead->Open(it->second, crypto::FieldAssociatedData(t.id, id, category));
        if (!plain.ok()) {
          return Status::DataLoss("field " + Quote(category) + " of subject " + Quote(id) +
                                  " failed its integrity check");
        }
        std::string general = rt::Generalize(t.policy.FindCategory(category), category, *plain);
        if (!general.empty()) combo[category] = general;
      }
      Batch::Purge& p = b.anonymized[rule->name];
      p.categories.insert(categories.begin(), categories.end());
      p.subjects.insert(id);
      p.items += static_cast<int64_t>(categories.size());
      if (combo.empty()) continue;
      std::string json = combo.dump();
      store::AggregateRow agg;
      agg.tenant = t.id;
      agg.rule = rule->name;
      agg.digest = t.index.Digest("retention:" + rule->name, json);
      agg.sealed = t.tenant_aead.Seal(json, internal::RetentionAggregateAd(t.id, rule->name));
      agg.count = 1;
      RETURN_IF_ERROR(tx.AddToAggregate(agg));
      ++out.subjects_anonymized;
    }
    std::vector<std::string> gone;
    for (const auto& [rule, categories] : due_by_rule) {
      gone.insert(gone.end(), categories.begin(), categories.end());
      if (rule->action == policy::RetentionAction::kAnonymize) continue;
      Batch::Purge& p = b.deleted[rule->name];
      p.categories.insert(categories.begin(), categories.end());
      p.subjects.insert(id);
      p.items += static_cast<int64_t>(categories.size());
    }
    out.fields_deleted += due_count;
    if (shred) {
      // Erasure by key: the key goes, so does everything sealed under it,
      // the records included (their rows are noise until compacted).
      RETURN_IF_ERROR(tx.ShredSubject(t.id, id, now_));
      b.erased.insert(id);
      ++out.subjects_erased;
      for (const store::RecordKey& r : records) {
        const DueKind* d = DueUnder(due_records, r);
        Batch::Purge& p = b.deleted[d->rule_name];
        p.categories.insert(d->kind->category);
        p.subjects.insert(id);
        ++p.items;
        shredded.push_back(r.key);
      }
      out.due += static_cast<int64_t>(records.size());
      out.records_deleted += static_cast<int64_t>(records.size());
    } else {
      row->fields = EncodeFields(kept);  // updated_ms stays: it anchors `collected`
      RETURN_IF_ERROR(tx.PutSubject(*row));
      RETURN_IF_ERROR(tx.DeleteIndexEntries(t.id, id, gone));
    }
    return AfterRetentionPurge(tx, t.id, id, shred, now_);
  }

  Status Subjects(const TenantContext& t, std::vector<DueKind>& due_records, TenantSweep& out) {
    // Candidates: every closed subject (fields due at or after closure, and
    // shredding once nothing is kept), and active subjects whose last update
    // is older than the shortest `after: collected` period of a field rule.
    std::optional<int64_t> updated_before;
    for (const RetentionRule& rule : t.policy.retention) {
      bool field_rule = !rule.categories.empty();
      if (!field_rule || rt::FieldAnchorOf(rule) != rt::FieldAnchor::kUpdated) continue;
      int64_t c = rt::Cutoff(rule, now_, offset_);
      updated_before = std::max(updated_before.value_or(c), c);
    }
    std::vector<std::string> ids;
    {
      ASSIGN_OR_RETURN(auto tx, v_.store->Begin(false));
      ASSIGN_OR_RETURN(ids, tx->RetentionSubjects(t.id, now_ + 1, updated_before));
    }
    const std::size_t step = static_cast<std::size_t>(std::max(1, o_.batch_subjects));
    std::vector<int64_t> all_shredded;
    for (std::size_t at = 0; at < ids.size(); at += step) {
      const std::size_t end = std::min(ids.size(), at + step);
      std::unique_ptr<store::Transaction> tx;
      if (o_.dry_run) {
        ASSIGN_OR_RETURN(tx, v_.store->Begin(false));
      } else {
        ASSIGN_OR_RETURN(tx, BeginBatch());
      }
      Batch b;
      TenantSweep batch;
      std::vector<int64_t> shredded;
      for (std::size_t i = at; i < end; ++i) {
        RETURN_IF_ERROR(Subject(*tx, t, ids[i], due_records, b, batch, shredded));
      }
      if (o_.dry_run) {
        out.due += batch.due;
        out.overdue += batch.overdue;
        continue;
      }
      RETURN_IF_ERROR(AppendBatchAudit(*tx, v_, actor_, t.id, b));
      RETURN_IF_ERROR(tx->Commit());
      all_shredded.insert(all_shredded.end(), shredded.begin(), shredded.end());
      out.due += batch.due;
      out.records_deleted += batch.records_deleted;
      out.fields_deleted += batch.fields_deleted;
      out.subjects_anonymized += batch.subjects_anonymized;
      out.subjects_erased += batch.subjects_erased;
      out.held += batch.held;
      Progress(out);
      RETURN_IF_ERROR(CheckCancelled());
    }
    // The shredded subjects' records are purged: not Records' to delete.
    std::sort(all_shredded.begin(), all_shredded.end());
    for (DueKind& d : due_records) d.keys = rt::Without(d.keys, all_shredded);
    return Status::Ok();
  }

  Vault::Impl& v_;
  const Actor& actor_;
  const SweepOptions& o_;
  std::string holder_;
  int64_t now_ = 0;
  int offset_ = 0;
};

Result<SweepReport> Retention::Sweep(const Actor& actor, const SweepOptions& options) {
  return Run(actor, options, false);
}

Result<SweepReport> Retention::Compact(const Actor& actor, const SweepOptions& options) {
  SweepOptions o = options;
  o.dry_run = false;
  return Run(actor, o, true);
}

Result<SweepReport> Retention::Run(const Actor& actor, const SweepOptions& options,
                                   bool compact_only) {
  Vault::Impl& v = *vault_.impl_;
  std::vector<std::string> tenants;
  if (!options.tenant.empty()) {
    tenants.push_back(options.tenant);
  } else {
    ASSIGN_OR_RETURN(auto tx, v.store->Begin(false));
    ASSIGN_OR_RETURN(tenants, tx->ListTenants());
  }
  std::vector<std::shared_ptr<const TenantContext>> contexts;
  for (const std::string& tenant : tenants) {
    ASSIGN_OR_RETURN(auto t, vault_.TenantFor(tenant));
    contexts.push_back(std::move(t));
  }
  if (Status allowed = AuthorizeAdmin(actor.role, compact_only
                                                      ? "compacting what retention shredded"
                                                      : "running the retention sweep");
      !allowed.ok()) {
    audit::Event ev =
        v.Event(actor, options.tenant, compact_only ? "retention.compact" : "retention.sweep");
    return v.AuditRefusal(ev, allowed);
  }
  SweepReport report;
  report.dry_run = options.dry_run;
  report.started_ms = v.Now();
  const std::string holder = Holder();
  if (!options.dry_run) {
    ASSIGN_OR_RETURN(auto tx, v.store->Begin(true));
    ASSIGN_OR_RETURN(bool taken, tx->TakeLease(kLease, holder, v.Now(), v.Now() + options.lease_ms));
    if (!taken) {
      ASSIGN_OR_RETURN(auto lease, tx->GetLease(kLease));
      if (lease && DeadHereAndNow(lease->first)) {
        // Its process is gone (killed mid-sweep): take the lease over.
        RETURN_IF_ERROR(tx->ReleaseLease(kLease, lease->first));
        ASSIGN_OR_RETURN(taken, tx->TakeLease(kLease, holder, v.Now(), v.Now() + options.lease_ms));
      }
      if (!taken) {
        return Status::FailedPrecondition(
            "another retention sweep is running (" + (lease ? lease->first : std::string("?")) +
            ", lease until " + std::to_string(lease ? lease->second : 0) +
            " ms); it purges what is due, or try again when it is done");
      }
    }
    RETURN_IF_ERROR(tx->Commit());
  }
  Sweeper sweeper(v, actor, options, holder);
  Status failed;
  for (const auto& t : contexts) {
    TenantSweep s;
    const int64_t started = v.Now();
    Status st = compact_only ? sweeper.CompactOnly(*t, s) : sweeper.Tenant(*t, s);
    if (!options.dry_run && !compact_only) {
      // The tenant's last sweep, for metrics and `retention plan`; and one
      // summary event. A failing store may refuse these too: the error wins.
      auto tx = v.store->Begin(true);
      if (tx.ok()) {
        store::SweepRow row{t->id, started, v.Now(), s.due - s.held, s.records_deleted + s.fields_deleted,
                            s.held, s.overdue};
        audit::Event ev = v.Event(actor, t->id, "retention.sweep");
        ev.outcome = st.ok() ? "ok" : "error";
        ev.reason = st.ok() ? "" : st.message();
        ev.count = row.purged;
        if ((*tx)->PutSweep(row).ok() && (*tx)->AppendAudit(ev).ok()) (void)(*tx)->Commit();
      }
    }
    report.tenants.push_back(s);
    if (!st.ok()) {
      failed = st.WithContext("retention sweep of tenant " + Quote(t->id));
      break;
    }
  }
  if (!options.dry_run) {
    auto tx = v.store->Begin(true);
    if (tx.ok() && (*tx)->ReleaseLease(kLease, holder).ok()) (void)(*tx)->Commit();
  }
  if (!failed.ok()) return failed;
  report.finished_ms = v.Now();
  return report;
}

}  // namespace custodian::service
