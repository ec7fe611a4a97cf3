// Disclosures (docs/disclosures.md): categories of subjects shared with a
// recipient the policy declares, for a purpose it declares for that recipient.
// Everything undeclared is refused and audited before any subject is looked at;
// subjects the purpose may not be used for now are left out and reported. The
// optional payload is read through the purpose-bound path (the purpose's
// grant, narrowed to the disclosed categories), in the transaction that
// records the disclosure, so what leaves is exactly what is on record.
#include <sodium.h>

#include <algorithm>
#include <set>

#include "common/time.h"
#include "service/authorize.h"
#include "service/disclosure_json.h"
#include "service/vault.h"
#include "service/vault_internal.h"

namespace custodian::service {
namespace {

constexpr std::size_t kMaxCategories = 64;
constexpr std::size_t kMaxReferenceBytes = 128;

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

Status CheckLegalReference(std::string_view ref) {
  const auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view(" ./:_#(),-").find(c) != std::string_view::npos;
  };
  if (ref.size() > kMaxReferenceBytes || !std::all_of(ref.begin(), ref.end(), allowed) ||
      std::none_of(ref.begin(), ref.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Status::InvalidArgument(
        "the legal reference must be an order or case number: 1-128 characters of letters, "
        "digits, space and . / : _ # ( ) , - with at least one digit (no names or prose)");
  }
  return Status::Ok();
}

Status Refuse(InputFault* fault, const char* member, Status s, int index = -1) {
  if (fault) *fault = {member, index};
  return s;
}

}  // namespace

Status CheckDisclosureInput(const policy::Policy& policy, const DisclosureInput& in, int64_t now_ms,
                            InputFault* fault) {
  const policy::Recipient* r = policy.FindRecipient(in.recipient);
  if (r == nullptr) {
    std::vector<std::string> ids;
    for (const auto& x : policy.recipients) ids.push_back(x.id);
    return Refuse(fault, "recipient",
                  Status::PermissionDenied(
                      "recipient " + Quote(in.recipient) +
                      " is not declared in the policy (version " + policy.version +
                      "); declared recipients: " + (ids.empty() ? std::string("none") : Join(ids)) +
                      ". Declare it under `recipients` before sharing anything with it"));
  }
  const policy::Purpose* p = policy.FindPurpose(in.purpose);
  if (p == nullptr) {
    return Refuse(fault, "purpose",
                  Status::PermissionDenied("purpose " + Quote(in.purpose) +
                                           " is not declared in the policy (version " +
                                           policy.version + ")"));
  }
  if (!Contains(r->purposes, in.purpose)) {
    return Refuse(fault, "purpose",
                  Status::PermissionDenied("recipient " + Quote(r->id) +
                                           " is not declared for purpose " + Quote(in.purpose) +
                                           " (it receives data for: " + Join(r->purposes) + ")"));
  }
  if (in.categories.empty() || in.categories.size() > kMaxCategories) {
    return Refuse(fault, "categories",
                  Status::InvalidArgument("name 1 to 64 categories disclosed (the recipient may "
                                          "receive: " +
                                          Join(r->categories) + ")"));
  }
  std::set<std::string> seen;
  for (std::size_t i = 0; i < in.categories.size(); ++i) {
    const std::string& c = in.categories[i];
    const int at = static_cast<int>(i);
    if (!seen.insert(c).second) {
      return Refuse(fault, "categories",
                    Status::InvalidArgument("category " + Quote(c) + " is named twice"), at);
    }
    if (policy.FindCategory(c) == nullptr) {
      return Refuse(
          fault, "categories",
          Status::PermissionDenied("category " + Quote(c) + " is not declared in the policy"), at);
    }
    if (!Contains(r->categories, c)) {
      return Refuse(
          fault, "categories",
          Status::PermissionDenied("category " + Quote(c) + " is not declared for recipient " +
                                   Quote(r->id) + " (it may receive: " + Join(r->categories) + ")"),
          at);
    }
    if (!Contains(p->categories, c)) {
      return Refuse(
          fault, "categories",
          Status::PermissionDenied("purpose " + Quote(p->key) + " does not use category " +
                                   Quote(c) + ", so it cannot be disclosed for it"),
          at);
    }
  }
  if (r->kind == policy::RecipientKind::kAuthority && in.legal_reference.empty()) {
    return Refuse(fault, "legal_reference",
                  Status::InvalidArgument("a disclosure to authority " + Quote(r->id) +
                                          " needs the legal reference that requires it (the "
                                          "order or case number)"));
  }
  if (!in.legal_reference.empty()) {
    if (Status s = CheckLegalReference(in.legal_reference); !s.ok()) {
      return Refuse(fault, "legal_reference", s);
    }
  }
  if (in.subjects.empty() && in.lookups.empty()) {
    return Refuse(fault, "subjects",
                  Status::InvalidArgument("name the subjects disclosed: subject ids, lookups, or "
                                          "both"));
  }
  if (in.subjects.size() + in.lookups.size() > kMaxDisclosureSubjects) {
    return Refuse(fault, in.subjects.size() > in.lookups.size() ? "subjects" : "lookups",
                  Status::InvalidArgument(std::to_string(in.subjects.size() + in.lookups.size()) +
                                          " subjects and lookups; one disclosure covers at most " +
                                          std::to_string(kMaxDisclosureSubjects) + ": split it"));
  }
  for (std::size_t i = 0; i < in.subjects.size(); ++i) {
    if (in.subjects[i].empty() || in.subjects[i].size() > 64) {
      return Refuse(fault, "subjects",
                    Status::InvalidArgument("a subject id must be 1 to 64 bytes"),
                    static_cast<int>(i));
    }
  }
  if (in.at_ms && *in.at_ms > now_ms) {
    return Refuse(fault, "at",
                  Status::InvalidArgument("the disclosure time is in the future; record a "
                                          "disclosure when it happens"));
  }
  return Status::Ok();
}

Result<DisclosureResult> Vault::Disclose(const Actor& actor, std::string_view tenant,
                                         const DisclosureInput& in) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  const policy::Policy& policy = t->policy;
  const int64_t now = impl_->Now();
  audit::Event ev = impl_->Event(actor, tenant, "disclose");
  ev.purpose = in.purpose;
  ev.categories = in.categories;
  std::sort(ev.categories.begin(), ev.categories.end());
  // Refusals before any subject is looked at: their own transaction.
  const auto refuse = [&](const Status& s) -> Status { return impl_->AuditRefusal(ev, s); };
  ev.reason = "to recipient " + Quote(in.recipient);
  if (Status s = CheckDisclosureInput(policy, in, now); !s.ok()) return refuse(s);
  auto grant = Authorize(policy, actor.role, in.purpose);
  if (!grant.ok()) return refuse(grant.status());
  const policy::Recipient& recipient = *policy.FindRecipient(in.recipient);
  if (recipient.kind == policy::RecipientKind::kAuthority) {
    if (Status s = AuthorizeAdmin(actor.role, "a disclosure to an authority"); !s.ok()) {
      return refuse(s);
    }
  }
  // Lookups: normalized and digested before the transaction; a category the
  // purpose may not use cannot be searched by (as Vault::LookupMany).
  std::vector<std::vector<std::pair<std::string, std::string>>> probes;
  for (std::size_t i = 0; i < in.lookups.size(); ++i) {
    const LookupQuery& q = in.lookups[i];
    auto& out = probes.emplace_back();
    if (q.kind == kExternalIdKind) {
      if (Status s = ValidateExternalId(q.value); !s.ok()) {
        return refuse(s.WithContext("lookup " + std::to_string(i + 1)));
      }
      out.emplace_back(kExternalIdCategory, t->index.Digest(kExternalIdCategory, q.value));
      continue;
    }
    auto ps = IndexProbes(policy, q);
    if (!ps.ok()) return refuse(ps.status().WithContext("lookup " + std::to_string(i + 1)));
    for (const IndexProbe& p : *ps) {
      if (grant->categories.count(p.category)) {
        out.emplace_back(p.category, t->index.Digest(p.category, p.value));
      }
    }
    if (out.empty()) {
      return refuse(Status::PermissionDenied(
          "lookup " + std::to_string(i + 1) + ": purpose " + Quote(in.purpose) +
          " may not use category " + Quote(ps->front().category) +
          ", so it cannot find subjects by it"));
    }
  }

  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  DisclosureResult result;
  std::vector<std::string> ids = in.subjects;
  for (std::size_t i = 0; i < probes.size(); ++i) {
    std::size_t before = ids.size();
    for (const auto& [category, digest] : probes[i]) {
      if (category == kExternalIdCategory) {
        ASSIGN_OR_RETURN(auto row, tx->FindSubjectByExternalId(t->id, digest));
        if (row && row->state != store::SubjectState::kErased) ids.push_back(row->id);
        continue;
      }
      ASSIGN_OR_RETURN(auto found, tx->FindSubjectsByIndex(t->id, category, digest));
      ids.insert(ids.end(), found.begin(), found.end());
    }
    if (ids.size() == before) result.unmatched_lookups.push_back(static_cast<int>(i));
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (ids.size() > kMaxDisclosureSubjects) {
    tx.reset();
    return refuse(Status::InvalidArgument(
        "the lookups match " + std::to_string(ids.size()) +
        " subjects; one disclosure covers at most " + std::to_string(kMaxDisclosureSubjects) +
        ": split it"));
  }

  // The payload's categories: the purpose's grant narrowed to those disclosed.
  const std::set<std::string> disclosed(in.categories.begin(), in.categories.end());
  std::vector<std::string> kinds;
  for (const policy::RecordKind& k : policy.record_kinds) {
    if (disclosed.count(k.category)) kinds.push_back(k.id);
  }
  Status last_refusal = Status::Ok();
  for (const std::string& id : ids) {
    ASSIGN_OR_RETURN(auto row, tx->GetSubject(t->id, id));
    Status refusal = Status::Ok();
    if (!row) {
      refusal = SubjectNotFound(t->id, id);
    } else if (row->state == store::SubjectState::kErased) {
      refusal = Status::NotFound("subject " + Quote(id) + " has been erased");
    } else {
      refusal = ConsentAllows(*tx, t->id, *grant->purpose, *row);
    }
    if (!refusal.ok()) {
      audit::Event e = ev;
      e.subject = id;
      e.outcome = "refused";
      e.reason += ": " + refusal.message();
      RETURN_IF_ERROR(tx->AppendAudit(e).status());
      result.refused.push_back({id, refusal.message()});
      last_refusal = refusal;
      continue;
    }
    result.subjects.push_back(id);
    if (!in.export_payload) continue;
    DisclosedSubject out;
    out.subject = id;
    ASSIGN_OR_RETURN(SubjectView view, impl_->Project(*t, *row, disclosed));
    out.fields = std::move(view.fields);
    if (!kinds.empty()) {
      ASSIGN_OR_RETURN(auto records, tx->ListRecords(t->id, id, ""));
      std::optional<Aead> aead;
      for (const store::RecordRow& r : records) {
        if (!Contains(kinds, r.kind)) continue;
        if (!aead) {
          ASSIGN_OR_RETURN(Aead a, impl_->SubjectAead(*t, *row));
          aead.emplace(std::move(a));
        }
        ASSIGN_OR_RETURN(RecordView v, OpenRecord(*tx, *t, *aead, r));
        out.records.push_back(std::move(v));
      }
    }
    result.payload.push_back(std::move(out));
  }
  if (result.subjects.empty()) {
    Status none = ids.size() == 1 ? last_refusal
                  : ids.empty()
                      ? Status::NotFound("the lookups found no subject; nothing was disclosed")
                      : Status::PermissionDenied(
                            "none of the " + std::to_string(ids.size()) +
                            " subjects may be disclosed for purpose " + Quote(in.purpose) +
                            " (each refusal is in the audit trail); nothing was recorded");
    if (ids.empty()) {
      audit::Event e = ev;
      e.outcome = "refused";
      e.reason += ": " + none.message();
      RETURN_IF_ERROR(tx->AppendAudit(e).status());
    }
    RETURN_IF_ERROR(tx->Commit());
    return none;
  }

  store::DisclosureRow row;
  row.tenant = t->id;
  row.id = NewId("dis_");
  row.recipient = recipient.id;
  row.purpose = in.purpose;
  row.categories = in.categories;
  row.legal_reference = in.legal_reference;
  row.actor = actor.id;
  row.role = actor.role;
  row.at_ms = in.at_ms.value_or(now);
  row.recorded_ms = now;
  row.subjects = static_cast<int64_t>(result.subjects.size());
  row.exported = in.export_payload;
  RETURN_IF_ERROR(tx->InsertDisclosure(row, result.subjects));
  ev.outcome = "ok";
  SetEventSubjects(ev, result.subjects);
  ev.count = row.subjects;
  ev.reason = "disclosure " + row.id + " to recipient " + Quote(recipient.id) + " (" +
              policy::RecipientKindName(recipient.kind) + ")" +
              (in.export_payload ? "; payload exported" : "; recorded") +
              (result.refused.empty()
                   ? ""
                   : "; " + std::to_string(result.refused.size()) + " subject(s) left out") +
              (result.unmatched_lookups.empty()
                   ? ""
                   : "; " + std::to_string(result.unmatched_lookups.size()) +
                         " lookup(s) matched nobody");
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  RETURN_IF_ERROR(tx->Commit());
  result.disclosure = DisclosureRowView(policy, row);
  return result;
}

Result<std::vector<DisclosureView>> Vault::ListDisclosures(const Actor& actor,
                                                           std::string_view tenant,
                                                           std::string_view subject) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  audit::Event ev = impl_->Event(actor, tenant, "disclosure.list");
  ev.subject = std::string(subject);
  if (actor.role != "auditor") {
    if (Status s = AuthorizeOperator(t->policy, actor.role, "listing disclosures"); !s.ok()) {
      return impl_->AuditRefusal(ev, s);
    }
  }
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  ASSIGN_OR_RETURN(auto row, tx->GetSubject(tenant, subject));
  if (!row) return SubjectNotFound(tenant, subject);
  ASSIGN_OR_RETURN(auto rows, tx->ListSubjectDisclosures(tenant, subject));
  std::vector<DisclosureView> out;
  for (const store::DisclosureRow& d : rows) out.push_back(DisclosureRowView(t->policy, d));
  ev.outcome = "ok";
  ev.count = static_cast<int64_t>(out.size());
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  RETURN_IF_ERROR(tx->Commit());
  return out;
}

}  // namespace custodian::service
