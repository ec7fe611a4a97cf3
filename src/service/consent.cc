// The consent ledger (Vault::GetConsents, SetConsents, ConsentAllowed,
// ImportConsentBatch) and the check every read makes (ConsentAllows).
//
// The standing choice per (subject, purpose) is kept in clear so that a check
// is one point lookup; the history of choices is sealed with the subject key,
// so erasure shreds it. Audit events name the purpose, the new state and the
// source, never the evidence.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "service/authorize.h"
#include "service/vault.h"
#include "service/vault_internal.h"

namespace custodian::service {
namespace {

using store::ConsentState;

constexpr char kConsentField[] = "consent";  // associated data of sealed history entries
constexpr std::size_t kMaxEvidenceBytes = 256;

bool HasChoice(const policy::Purpose& p) {
  return p.basis == policy::LegalBasis::kConsent ||
         p.basis == policy::LegalBasis::kLegitimateInterest;
}

// What holds when the subject never chose.
ConsentStatus DefaultStatus(const policy::Purpose& p) {
  ConsentStatus s;
  s.purpose = p.key;
  s.basis = policy::LegalBasisName(*p.basis);
  if (p.basis == policy::LegalBasis::kConsent) {
    s.state = p.default_granted ? "granted" : "withdrawn";
    s.allowed = p.default_granted;
  } else {
    s.state = "not_objected";
    s.allowed = true;
  }
  return s;
}

ConsentStatus StatusOf(const policy::Purpose& p, const std::optional<store::ConsentRow>& row) {
  ConsentStatus s = DefaultStatus(p);
  if (!row) return s;
  s.state = store::ConsentStateName(row->state);
  s.allowed = row->state == ConsentState::kGranted || row->state == ConsentState::kNotObjected;
  s.is_default = false;
  s.at_ms = row->at_ms;
  return s;
}

Status NotDeclared(const policy::Policy& policy, std::string_view purpose) {
  return Status::InvalidArgument("purpose " + Quote(purpose) +
                                 " is not declared in the policy (version " + policy.version + ")");
}

// The purpose and state of a change, checked against the policy.
Result<std::pair<const policy::Purpose*, ConsentState>> CheckChange(const policy::Policy& policy,
                                                                    const ConsentChange& c) {
  const policy::Purpose* p = policy.FindPurpose(c.purpose);
  if (p == nullptr) return NotDeclared(policy, c.purpose);
  if (!HasChoice(*p)) {
    return Status::InvalidArgument(
        "purpose " + Quote(c.purpose) + " rests on " + policy::LegalBasisName(*p->basis) +
        ", not on consent or legitimate interest, so there is no choice to record; a person "
        "who disagrees can ask for erasure or restriction instead");
  }
  bool consent = p->basis == policy::LegalBasis::kConsent;
  static const std::pair<const char*, ConsentState> kStates[] = {
      {"granted", ConsentState::kGranted},
      {"withdrawn", ConsentState::kWithdrawn},
      {"objected", ConsentState::kObjected},
      {"not_objected", ConsentState::kNotObjected}};
  for (const auto& [name, state] : kStates) {
    bool fits = consent ? (state == ConsentState::kGranted || state == ConsentState::kWithdrawn)
                        : (state == ConsentState::kObjected || state == ConsentState::kNotObjected);
    if (c.state == name && fits) return std::make_pair(p, state);
  }
  return Status::InvalidArgument(
      "state " + Quote(c.state) + " does not apply to purpose " + Quote(c.purpose) +
      ", which rests on " + policy::LegalBasisName(*p->basis) +
      (consent ? "; use 'granted' or 'withdrawn'" : "; use 'objected' or 'not_objected'"));
}

Status CheckSource(std::string_view source) {
  for (const char* s : kConsentSources) {
    if (source == s) return Status::Ok();
  }
  return Status::InvalidArgument(
      "consent source " + Quote(source) +
      " is not known; use api, portal, operator, sms, whatsapp, email_link or import");
}

Status CheckEvidence(std::string_view value, const char* name) {
  if (value.size() > kMaxEvidenceBytes) {
    return Status::InvalidArgument(std::string(name) + " may be at most 256 bytes");
  }
  return crypto::ValidateUtf8(value).WithContext(name);
}

// Checks a change against the policy and the rules for sources and evidence.
// `field` (when given) is set to the ConsentImportField at fault.
Result<std::pair<const policy::Purpose*, ConsentState>> CheckAll(const policy::Policy& policy,
                                                                 const ConsentChange& c,
                                                                 int* field = nullptr) {
  auto fault = [&](int f, Status s) {
    if (field) *field = f;
    return s;
  };
  auto checked = CheckChange(policy, c);
  if (!checked.ok()) {
    const policy::Purpose* p = policy.FindPurpose(c.purpose);
    return fault(p && HasChoice(*p) ? kConsentState : kConsentPurpose, checked.status());
  }
  if (Status s = CheckSource(c.source); !s.ok()) return fault(kConsentSource, s);
  if (Status s = CheckEvidence(c.message_id, "message_id"); !s.ok()) {
    return fault(kConsentMessageId, s);
  }
  if (Status s = CheckEvidence(c.request_id, "request_id"); !s.ok()) {
    return fault(kConsentRequestId, s);
  }
  return checked;
}

std::string SealEvent(const Aead& aead, const TenantContext& t, std::string_view subject,
                      const ConsentEvent& e) {
  nlohmann::ordered_json j = {{"purpose", e.purpose},
                              {"state", e.state},
                              {"source", e.source},
                              {"actor", e.actor},
                              {"policy_version", e.policy_version},
                              {"message_id", e.message_id},
                              {"request_id", e.request_id},
                              {"at_ms", e.at_ms},
                              {"recorded_ms", e.recorded_ms}};
  return aead.Seal(j.dump(), crypto::FieldAssociatedData(t.id, subject, kConsentField));
}

Result<ConsentEvent> OpenEvent(const Aead& aead, const TenantContext& t, std::string_view subject,
                               const store::ConsentEventRow& row) {
  auto plain = aead.Open(row.sealed, crypto::FieldAssociatedData(t.id, subject, kConsentField));
  if (!plain.ok()) {
    return Status::DataLoss("consent history entry " + std::to_string(row.seq) + " of subject " +
                            Quote(subject) + " failed its integrity check");
  }
  nlohmann::json j = nlohmann::json::parse(*plain, nullptr, false);
  if (!j.is_object()) {
    return Status::DataLoss("consent history entry " + std::to_string(row.seq) +
                            " is not readable");
  }
  ConsentEvent e;
  e.purpose = j.value("purpose", "");
  e.state = j.value("state", "");
  e.source = j.value("source", "");
  e.actor = j.value("actor", "");
  e.policy_version = j.value("policy_version", "");
  e.message_id = j.value("message_id", "");
  e.request_id = j.value("request_id", "");
  e.at_ms = j.value("at_ms", int64_t{0});
  e.recorded_ms = j.value("recorded_ms", int64_t{0});
  return e;
}

}  // namespace

Status CheckConsentChange(const policy::Policy& policy, const ConsentChange& change, int* field) {
  return CheckAll(policy, change, field).status();
}

Status RestrictionAllows(const store::SubjectRow& subject, const policy::Purpose& purpose) {
  if (!subject.restricted || purpose.basis == policy::LegalBasis::kLegalObligation ||
      purpose.basis == policy::LegalBasis::kVitalInterest) {
    return Status::Ok();
  }
  return Status::PermissionDenied(
      "the subject's processing is restricted (a restriction request, or data kept after an "
      "erasure because the law requires it): only purposes resting on a legal obligation may "
      "use it, not " + Quote(purpose.key));
}

Status ConsentAllows(store::Transaction& tx, std::string_view tenant,
                     const policy::Purpose& purpose, const store::SubjectRow& subject) {
  RETURN_IF_ERROR(RestrictionAllows(subject, purpose));
  if (!HasChoice(purpose)) return Status::Ok();
  ASSIGN_OR_RETURN(auto row, tx.GetConsent(tenant, subject.id, purpose.key));
  if (StatusOf(purpose, row).allowed) return Status::Ok();
  if (purpose.basis == policy::LegalBasis::kConsent) {
    return Status::PermissionDenied("purpose " + Quote(purpose.key) +
                                    " rests on consent, and the subject has not given it");
  }
  return Status::PermissionDenied("the subject objected to purpose " + Quote(purpose.key) +
                                  " (legitimate interest)");
}

Result<std::vector<ConsentStatus>> ConsentStatuses(store::Transaction& tx,
                                                   const policy::Policy& policy,
                                                   std::string_view tenant,
                                                   std::string_view subject) {
  ASSIGN_OR_RETURN(auto rows, tx.ListConsents(tenant, subject));
  std::vector<ConsentStatus> out;
  for (const policy::Purpose& p : policy.purposes) {
    if (!HasChoice(p)) continue;
    auto it = std::find_if(rows.begin(), rows.end(),
                           [&](const store::ConsentRow& r) { return r.purpose == p.key; });
    out.push_back(StatusOf(p, it == rows.end() ? std::nullopt : std::make_optional(*it)));
  }
  return out;
}

Result<ConsentView> ReadConsents(store::Transaction& tx, const TenantContext& t, const Aead& aead,
                                 std::string_view subject) {
  ConsentView view;
  view.subject = std::string(subject);
  ASSIGN_OR_RETURN(view.purposes, ConsentStatuses(tx, t.policy, t.id, subject));
  ASSIGN_OR_RETURN(auto events, tx.ListConsentEvents(t.id, subject));
  for (const store::ConsentEventRow& e : events) {
    ASSIGN_OR_RETURN(ConsentEvent opened, OpenEvent(aead, t, subject, e));
    view.history.push_back(std::move(opened));
  }
  return view;
}

Result<ConsentView> Vault::GetConsents(const Actor& actor, std::string_view tenant,
                                       std::string_view subject) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  audit::Event ev = impl_->Event(actor, tenant, "consent.show");
  ev.subject = std::string(subject);
  if (Status allowed = AuthorizeOperator(t->policy, actor.role, "reading consents");
      !allowed.ok()) {
    return impl_->AuditRefusal(ev, allowed);
  }
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  ASSIGN_OR_RETURN(store::SubjectRow row, LiveSubject(*tx, tenant, subject));
  ASSIGN_OR_RETURN(Aead aead, impl_->SubjectAead(*t, row));
  ASSIGN_OR_RETURN(ConsentView view, ReadConsents(*tx, *t, aead, row.id));
  ev.outcome = "ok";
  ev.count = static_cast<int64_t>(view.history.size());
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  RETURN_IF_ERROR(tx->Commit());
  return view;
}

namespace {

// Records one checked change for a live subject inside `tx`.
Result<ConsentStatus> Record(store::Transaction& tx, const TenantContext& t, const Aead& aead,
                             const audit::Event& base, std::string_view subject,
                             const policy::Purpose& p, ConsentState state, const ConsentChange& c,
                             int64_t now) {
  ConsentEvent e;
  e.purpose = p.key;
  e.state = store::ConsentStateName(state);
  e.source = c.source;
  e.actor = base.actor;
  e.policy_version = t.policy.version;
  e.message_id = c.message_id;
  e.request_id = c.request_id;
  e.at_ms = c.at_ms.value_or(now);
  e.recorded_ms = now;
  ASSIGN_OR_RETURN(int64_t seq, tx.AppendConsentEvent({t.id, std::string(subject), 0, e.at_ms,
                                                       SealEvent(aead, t, subject, e)}));
  (void)seq;
  ASSIGN_OR_RETURN(auto standing, tx.GetConsent(t.id, subject, p.key));
  // The latest choice stands; an older one (imported late) only joins the history.
  if (!standing || standing->at_ms <= e.at_ms) {
    standing = store::ConsentRow{t.id, std::string(subject), p.key, state, e.at_ms};
    RETURN_IF_ERROR(tx.PutConsent(*standing));
  }
  audit::Event ev = base;
  ev.action = "consent." + e.state;
  ev.subject = std::string(subject);
  ev.purpose = p.key;
  ev.outcome = "ok";
  ev.reason = "source " + c.source;
  ev.count = 1;
  ASSIGN_OR_RETURN(int64_t audit_seq, tx.AppendAudit(ev));
  (void)audit_seq;
  return StatusOf(p, standing);
}

}  // namespace

Status RecordConsent(store::Transaction& tx, const TenantContext& t, const Aead& subject_aead,
                     const audit::Event& base, std::string_view subject,
                     const policy::Purpose& purpose, const ConsentChange& change, int64_t now) {
  ASSIGN_OR_RETURN(auto checked, CheckAll(t.policy, change));
  return Record(tx, t, subject_aead, base, subject, purpose, checked.second, change, now).status();
}

Result<std::vector<ConsentStatus>> Vault::SetConsents(const Actor& actor, std::string_view tenant,
                                                      std::string_view subject,
                                                      const std::vector<ConsentChange>& changes) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  audit::Event base = impl_->Event(actor, tenant, "consent.record");
  base.subject = std::string(subject);
  if (Status allowed = AuthorizeOperator(t->policy, actor.role, "recording consents");
      !allowed.ok()) {
    return impl_->AuditRefusal(base, allowed);
  }
  return RecordConsents(*t, std::move(base), subject, changes);
}

Result<std::vector<ConsentStatus>> Vault::RecordConsents(const TenantContext& tc,
                                                         audit::Event base,
                                                         std::string_view subject,
                                                         const std::vector<ConsentChange>& changes) {
  const TenantContext* t = &tc;
  std::string_view tenant = tc.id;
  std::vector<std::pair<const policy::Purpose*, ConsentState>> checked;
  for (std::size_t i = 0; i < changes.size(); ++i) {
    auto c = CheckAll(t->policy, changes[i]);
    if (!c.ok()) {
      return changes.size() == 1 ? c.status()
                                 : c.status().WithContext("choice " + std::to_string(i + 1));
    }
    checked.push_back(*c);
  }
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  ASSIGN_OR_RETURN(store::SubjectRow row, LiveSubject(*tx, tenant, subject));
  ASSIGN_OR_RETURN(Aead aead, impl_->SubjectAead(*t, row));
  std::vector<ConsentStatus> out;
  int64_t now = impl_->Now();
  for (std::size_t i = 0; i < changes.size(); ++i) {
    ASSIGN_OR_RETURN(ConsentStatus s, Record(*tx, *t, aead, base, subject, *checked[i].first,
                                             checked[i].second, changes[i], now));
    out.push_back(std::move(s));
  }
  RETURN_IF_ERROR(tx->Commit());
  return out;
}

Result<std::vector<bool>> Vault::ConsentAllowed(std::string_view tenant, std::string_view purpose,
                                                const std::vector<std::string>& subjects) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  const policy::Purpose* p = t->policy.FindPurpose(std::string(purpose));
  if (p == nullptr) return NotDeclared(t->policy, purpose);
  std::vector<bool> out(subjects.size(), false);
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(false));
  for (std::size_t i = 0; i < subjects.size(); ++i) {
    // Erasure deletes a subject's ledger rows, so a standing choice implies a
    // live subject: the common case is one point lookup.
    std::optional<store::ConsentRow> standing;
    if (HasChoice(*p)) {
      ASSIGN_OR_RETURN(standing, tx->GetConsent(tenant, subjects[i], p->key));
    }
    bool allowed = HasChoice(*p) ? StatusOf(*p, standing).allowed : true;
    if (allowed && !standing) {
      // Allowed by default: only if the subject exists and is not erased.
      ASSIGN_OR_RETURN(auto row, tx->GetSubject(tenant, subjects[i]));
      allowed = row && row->state != store::SubjectState::kErased &&
                RestrictionAllows(*row, *p).ok();
    }
    out[i] = allowed;
  }
  return out;
}

Result<std::vector<ImportRowResult>> Vault::ImportConsentBatch(
    const Actor& actor, std::string_view tenant, const std::vector<ConsentImportInput>& rows) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  audit::Event base = impl_->Event(actor, tenant, "consent.import");
  if (Status allowed = AuthorizeAdmin(actor.role, "importing consents"); !allowed.ok()) {
    return impl_->AuditRefusal(base, allowed);
  }
  std::vector<ImportRowResult> results(rows.size());
  std::vector<std::optional<std::pair<const policy::Purpose*, ConsentState>>> checked(rows.size());
  std::vector<std::string> digests(rows.size());
  auto reject = [&](std::size_t i, int field, const Status& s) {
    results[i].outcome = ImportOutcome::kRejected;
    results[i].field = field;
    results[i].reason = s.message();
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (Status s = ValidateExternalId(rows[i].subject_external_id); !s.ok()) {
      reject(i, kConsentExternalId, s);
      continue;
    }
    int field = -1;
    auto c = CheckAll(t->policy, rows[i].change, &field);
    if (!c.ok()) {
      reject(i, field, c.status());
      continue;
    }
    checked[i] = *c;
    digests[i] = t->index.Digest(kExternalIdCategory, rows[i].subject_external_id);
  }
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  int64_t now = impl_->Now();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (!checked[i]) continue;
    ASSIGN_OR_RETURN(auto row, tx->FindSubjectByExternalId(t->id, digests[i]));
    if (!row || row->state == store::SubjectState::kErased) {
      reject(i, kConsentExternalId, Status::NotFound("no subject has this external id"));
      continue;
    }
    const ConsentChange& c = rows[i].change;
    const std::string state = store::ConsentStateName(checked[i]->second);
    const int64_t at = c.at_ms.value_or(now);
    ASSIGN_OR_RETURN(Aead aead, impl_->SubjectAead(*t, *row));
    // Importing the same file again records nothing twice: a choice already
    // in the history (same purpose, state, time and source) is unchanged.
    ASSIGN_OR_RETURN(auto standing, tx->GetConsent(t->id, row->id, checked[i]->first->key));
    bool known = false;
    if (standing) {
      ASSIGN_OR_RETURN(auto events, tx->ListConsentEvents(t->id, row->id));
      for (const store::ConsentEventRow& er : events) {
        if (er.at_ms != at) continue;
        ASSIGN_OR_RETURN(ConsentEvent e, OpenEvent(aead, *t, row->id, er));
        if (e.purpose == c.purpose && e.state == state && e.source == c.source) {
          known = true;
          break;
        }
      }
    }
    if (known) {
      results[i].outcome = ImportOutcome::kUnchanged;
      continue;
    }
    ASSIGN_OR_RETURN(ConsentStatus s, Record(*tx, *t, aead, base, row->id, *checked[i]->first,
                                             checked[i]->second, rows[i].change, now));
    (void)s;
    results[i].outcome = ImportOutcome::kAdded;
  }
  RETURN_IF_ERROR(tx->Commit());
  return results;
}

}  // namespace custodian::service
