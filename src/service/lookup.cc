// Lookups (Vault::Lookup, Vault::LookupMany): blind-index probes, consent,
// projection, and one audit event per subject found (or one per miss).
//
// The reads and the decryption run in a read transaction, outside the write
// transaction, so that they overlap other requests' commits (the SQLite
// store's read connections do not wait for the writer); the write transaction
// then checks that what was read still holds and appends the events, and the
// answer leaves only once they are durable (group commit shares that commit).
#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "service/authorize.h"
#include "service/vault.h"
#include "service/vault_internal.h"

namespace custodian::service {

Result<std::vector<SubjectView>> Vault::Lookup(const Actor& actor, std::string_view tenant,
                                               const LookupQuery& query,
                                               std::string_view purpose) {
  ASSIGN_OR_RETURN(auto all, LookupMany(actor, tenant, {query}, purpose));
  return std::move(all.front());
}

namespace {

// What a lookup read about one subject it found: the row, and whether
// consent lets the purpose see it (ok) or why not.
struct LookupHit {
  store::SubjectRow row;
  Status consent;
};
using LookupFound = std::vector<std::vector<LookupHit>>;  // per query, in query order

// A lookup between its read and its write (Vault::PrepareLookup).
struct LookupState {
  std::shared_ptr<const TenantContext> t;
  std::string tenant;
  Grant grant;
  audit::Event ev;
  std::vector<std::vector<std::pair<std::string, std::string>>> probes;  // category, digest
  LookupFound found;
  uint64_t read_token = 0;  // Store::SubjectReadToken() before the read
};

// The index probes of every query, the subjects they find, and the consent
// check of each, read in `tx`.
Result<LookupFound> FindForLookup(
    store::Transaction& tx, std::string_view tenant_id, std::string_view tenant,
    const policy::Purpose& purpose,
    const std::vector<std::vector<std::pair<std::string, std::string>>>& probes) {
  LookupFound found;
  found.reserve(probes.size());
  for (const auto& query_probes : probes) {
    std::vector<store::SubjectRow> rows;  // each subject once, in the order found
    auto add = [&rows](store::SubjectRow row) {
      for (const store::SubjectRow& r : rows) {
        if (r.id == row.id) return;
      }
      rows.push_back(std::move(row));
    };
    for (const auto& [category, digest] : query_probes) {
      if (category == kExternalIdCategory) {
        ASSIGN_OR_RETURN(auto row, tx.FindSubjectByExternalId(tenant_id, digest));
        if (row && row->state != store::SubjectState::kErased) add(std::move(*row));
        continue;
      }
      ASSIGN_OR_RETURN(auto hits, tx.FindSubjectRowsByIndex(tenant, category, digest));
      for (auto& row : hits) add(std::move(row));
    }
    auto& out = found.emplace_back();
    for (store::SubjectRow& row : rows) {
      Status consent = ConsentAllows(tx, tenant, purpose, row);
      out.push_back(LookupHit{std::move(row), std::move(consent)});
    }
  }
  return found;
}

// True if every subject in `found` still reads the same in `tx`, with the same
// consent outcome: then answering from `found` is answering from `tx`.
Result<bool> StillHolds(store::Transaction& tx, std::string_view tenant,
                        const policy::Purpose& purpose, const LookupFound& found) {
  for (const auto& hits : found) {
    for (const LookupHit& hit : hits) {
      ASSIGN_OR_RETURN(auto row, tx.GetSubject(tenant, hit.row.id));
      if (!row || !SameSubjectRow(*row, hit.row)) return false;
      Status consent = ConsentAllows(tx, tenant, purpose, *row);
      if (!SameOutcome(consent, hit.consent)) return false;
    }
  }
  return true;
}

}  // namespace

Result<std::vector<std::vector<SubjectView>>> Vault::LookupMany(
    const Actor& actor, std::string_view tenant, const std::vector<LookupQuery>& queries,
    std::string_view purpose) {
  ASSIGN_OR_RETURN(PendingLookup pending, PrepareLookup(actor, tenant, queries, purpose));
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  RETURN_IF_ERROR(pending.write(*tx));
  RETURN_IF_ERROR(tx->Commit());
  if (!pending.refused.ok()) return pending.refused;
  return std::move(*pending.views);
}

void Vault::LookupThen(const Actor& actor, std::string_view tenant, const LookupQuery& query,
                       std::string_view purpose,
                       std::function<void(Result<std::vector<SubjectView>>)> done) {
  auto pending = PrepareLookup(actor, tenant, {query}, purpose);
  if (!pending.ok()) {
    done(pending.status());
    return;
  }
  impl_->store->SubmitWrite(
      std::move(pending->write),
      [views = pending->views, refused = pending->refused, done = std::move(done)](Status st) {
        if (!st.ok()) {
          done(std::move(st));
          return;
        }
        if (!refused.ok()) {
          done(refused);
          return;
        }
        done(std::move(views->front()));
      });
}

Result<Vault::PendingLookup> Vault::PrepareLookup(const Actor& actor, std::string_view tenant,
                                                  const std::vector<LookupQuery>& queries,
                                                  std::string_view purpose) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  audit::Event ev = impl_->Event(actor, tenant, "lookup");
  ev.purpose = std::string(purpose);
  // A refusal is audited by the lookup's write like any outcome, so that
  // LookupThen's caller does not wait for a commit of its own.
  auto refuse = [&](const Status& why) {
    PendingLookup refused;
    refused.refused = why;
    refused.views = std::make_shared<std::vector<std::vector<SubjectView>>>(queries.size());
    refused.write = [event = Impl::RefusalEvent(ev, why)](store::Transaction& tx) {
      return tx.AppendAudit(event).status();
    };
    return refused;
  };
  auto grant = Authorize(t->policy, actor.role, purpose);
  if (!grant.ok()) return refuse(grant.status());
  // Normalize and digest every query before the transaction starts. A phone
  // number is read without its validity check first (IndexProbes'
  // `unchecked`): found in the index, it was valid when stored; only a miss
  // pays for the check, after the read.
  std::vector<std::vector<std::pair<std::string, std::string>>> probes;  // category, digest
  std::vector<ProbeCache::Probes> unchecked(queries.size());  // all digests, while unchecked
  probes.reserve(queries.size());
  auto allowed = [&](const ProbeCache::Probes& digests,
                     std::vector<std::pair<std::string, std::string>>& out) -> Status {
    out.clear();
    for (const auto& [category, digest] : digests) {
      // Searching by a category is using it: the purpose must allow it, or a
      // lookup would confirm who is a customer to a purpose that may not know.
      if (grant->categories.count(category)) out.emplace_back(category, digest);
    }
    if (!out.empty()) return Status::Ok();
    return Status::PermissionDenied("purpose " + Quote(purpose) + " may not use category " +
                                    Quote(digests.front().first) +
                                    ", so it cannot look subjects up by it");
  };
  auto digest_all = [&](const std::vector<IndexProbe>& ps) {
    ProbeCache::Probes digests;
    for (const IndexProbe& p : ps) {
      digests.emplace_back(p.category, t->index.Digest(p.category, p.value));
    }
    return digests;
  };
  for (std::size_t i = 0; i < queries.size(); ++i) {
    const LookupQuery& q = queries[i];
    auto& out = probes.emplace_back();
    if (q.kind == kExternalIdKind) {
      // The company's own customer number: not personal data of a category,
      // so any purpose the role may use can find a subject by it.
      RETURN_IF_ERROR(ValidateExternalId(q.value));
      out.emplace_back(kExternalIdCategory, t->index.Digest(kExternalIdCategory, q.value));
      continue;
    }
    // A value seen before skips normalization (phone parsing is most of a
    // lookup's CPU): its digests are remembered by a keyed hash of it.
    std::optional<ProbeCache::Probes> digests = t->probes->Find(q.kind, q.value);
    if (!digests) {
      bool was_unchecked = false;
      ASSIGN_OR_RETURN(std::vector<IndexProbe> ps, IndexProbes(t->policy, q, &was_unchecked));
      digests = digest_all(ps);
      if (was_unchecked) {
        unchecked[i] = *digests;
      } else {
        t->probes->Put(q.kind, q.value, *digests);
      }
    }
    if (Status st = allowed(*digests, out); !st.ok()) return refuse(st);
  }
  const policy::Purpose& use = *grant->purpose;
  // Read, then decrypt and project, outside the write transaction: a read
  // transaction does not wait for the writer nor for a commit being synced,
  // so this work overlaps other requests' commits.
  LookupFound found;
  const uint64_t read_token = impl_->store->SubjectReadToken();
  {
    ASSIGN_OR_RETURN(auto rtx, impl_->store->Begin(false));
    ASSIGN_OR_RETURN(found, FindForLookup(*rtx, t->id, tenant, use, probes));
  }
  // The unchecked phone readings that found nobody: checked now. The checked
  // probes are the same unless the number is invalid (the error, as before)
  // or its valid reading is another one ("918870100100" in IN), read then.
  bool read_again = false;
  for (std::size_t i = 0; i < queries.size(); ++i) {
    if (unchecked[i].empty()) continue;
    if (!found[i].empty()) {
      t->probes->Put(queries[i].kind, queries[i].value, std::move(unchecked[i]));
      continue;
    }
    ASSIGN_OR_RETURN(std::vector<IndexProbe> ps, IndexProbes(t->policy, queries[i]));
    ProbeCache::Probes checked = digest_all(ps);
    if (checked != unchecked[i]) {
      if (Status st = allowed(checked, probes[i]); !st.ok()) return refuse(st);
      read_again = true;
    }
    t->probes->Put(queries[i].kind, queries[i].value, std::move(checked));
  }
  if (read_again) {
    ASSIGN_OR_RETURN(auto rtx, impl_->store->Begin(false));
    ASSIGN_OR_RETURN(found, FindForLookup(*rtx, t->id, tenant, use, probes));
  }
  // What the write needs of all this, kept for when it runs (on the store's
  // committer thread, for LookupThen).
  auto state = std::make_shared<LookupState>();
  state->t = t;
  state->tenant = std::string(tenant);
  state->grant = *std::move(grant);
  state->ev = std::move(ev);
  state->probes = std::move(probes);
  state->found = std::move(found);
  state->read_token = read_token;
  Impl* impl = impl_.get();
  auto project = [impl](const LookupState& st) -> Result<std::vector<std::vector<SubjectView>>> {
    std::vector<std::vector<SubjectView>> all;
    all.reserve(st.found.size());
    for (const auto& hits : st.found) {
      auto& views = all.emplace_back();
      for (const LookupHit& hit : hits) {
        if (!hit.consent.ok()) continue;
        ASSIGN_OR_RETURN(SubjectView view, impl->Project(*st.t, hit.row, st.grant.categories));
        views.push_back(std::move(view));
      }
    }
    return all;
  };
  auto views = std::make_shared<std::vector<std::vector<SubjectView>>>();
  ASSIGN_OR_RETURN(*views, project(*state));
  // Write: the audit events, in a write transaction that first checks that
  // every subject read is still as read (row and consent outcome). So the
  // answer is what a lookup inside this transaction would give, and an
  // erasure, an update or a consent withdrawal committed since the read is
  // never bypassed; if one was, the lookup reads again here. (A subject added
  // since the read is not in the answer: it was not there when it was read,
  // and the events say exactly what was returned.) The check is skipped when
  // the store can tell that nothing subject reads depend on has been written
  // since the read began (SubjectsUnchangedSince): it is serial work on the
  // committer, ~7% of a lookup's CPU. The events are durable before anything
  // is returned, and if they cannot be written nothing is.
  PendingLookup pending;
  pending.views = views;
  pending.write = [state, views, project](store::Transaction& tx) -> Status {
    const policy::Purpose& used = *state->grant.purpose;
    bool holds = tx.SubjectsUnchangedSince(state->read_token);
    if (!holds) {
      ASSIGN_OR_RETURN(holds, StillHolds(tx, state->tenant, used, state->found));
    }
    if (!holds) {
      ASSIGN_OR_RETURN(state->found,
                       FindForLookup(tx, state->t->id, state->tenant, used, state->probes));
      ASSIGN_OR_RETURN(*views, project(*state));
    }
    const LookupFound& hits_now = state->found;
    const auto& all = *views;
    for (std::size_t q = 0; q < hits_now.size(); ++q) {
      bool refused = false;
      std::size_t shown = 0;
      for (const LookupHit& hit : hits_now[q]) {
        audit::Event e = state->ev;
        e.subject = hit.row.id;
        // A subject who said no to the purpose is not shown to it, and the
        // caller cannot tell such a subject from no match.
        if (!hit.consent.ok()) {
          e.outcome = "refused";
          e.reason = hit.consent.message();
          refused = true;
        } else {
          const SubjectView& view = all[q][shown++];
          e.outcome = "hit";
          for (const auto& f : view.fields) e.categories.push_back(f.category);
          e.count = static_cast<int64_t>(view.fields.size());
        }
        RETURN_IF_ERROR(tx.AppendAudit(e).status());
      }
      if (all[q].empty() && !refused) {
        audit::Event miss = state->ev;
        for (const auto& [category, digest] : state->probes[q]) {
          if (category != kExternalIdCategory) miss.categories.push_back(category);
        }
        miss.outcome = "miss";
        RETURN_IF_ERROR(tx.AppendAudit(miss).status());
      }
    }
    return Status::Ok();
  };
  return pending;
}

}  // namespace custodian::service
