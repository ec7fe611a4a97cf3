// What each data-subject request does when it is completed (Vault::Fulfill),
// inside the transaction that closes it, so the request, its effect, its
// evidence, its audit events and the notices it sends commit together:
//
//   access, portability  an export bundle (service/exports.cc), downloadable once
//   correction           the proposed values replace the held ones; the request
//                        then keeps only which categories changed
//   erasure              everything not kept under a legal obligation is shredded;
//                        what is kept is restricted and recorded with its end date
//   objection            the purpose's objection (or withdrawal) in the consent ledger
//   consent_withdrawal   withdrawal of one or every consent purpose in the ledger
//   restriction          the subject restricted to legal-obligation purposes, and
//                        every purpose with a choice refused in the ledger
//   grievance            the answer (the operator's resolution) sent to the person
//
// The person is told through the outbox at a contact already on file (read
// before an erasure removes it); recipients the subject's affected categories
// were disclosed to (recorded disclosures, service/disclosures.cc) are told of
// corrections, erasures and restrictions (GDPR art. 19) when the policy gives
// their `notify` address.
#include <sodium.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/time.h"
#include "policy/calendar.h"
#include "policy/duration.h"
#include "service/requests_internal.h"
#include "service/vault.h"
#include "service/vault_internal.h"

namespace custodian::service {
namespace {

using nlohmann::json;
using store::RequestState;

constexpr int64_t kDayMs = 86400000;

bool IsChoicePurpose(const policy::Purpose& p) {
  return p.basis == policy::LegalBasis::kConsent ||
         p.basis == policy::LegalBasis::kLegitimateInterest;
}

// Whether some purpose resting on a legal obligation uses `category`.
bool LegallyRequired(const policy::Policy& policy, const std::string& category) {
  for (const policy::Purpose& p : policy.purposes) {
    if (p.basis != policy::LegalBasis::kLegalObligation) continue;
    if (std::find(p.categories.begin(), p.categories.end(), category) != p.categories.end()) {
      return true;
    }
  }
  return false;
}

std::string Plural(int64_t n, const std::string& one) {
  return std::to_string(n) + " " + one + (n == 1 ? "" : "s");
}

// The tenant's calendar day of `ms` ("2027-03-01"), as the retention sweep counts days.
std::string Day(const policy::Policy& policy, int64_t ms) {
  const int offset = policy::UtcOffsetMinutes(policy.organization.jurisdiction);
  return policy::DateFromDaysSinceEpoch(policy::LocalDay(ms, offset)).ToString();
}

// When an item anchored at `anchor_ms` falls due under `duration`: 00:00 of
// its due day in the tenant's calendar, when the retention sweep purges it.
int64_t DueMs(const policy::Policy& policy, int64_t anchor_ms, const policy::Duration& duration) {
  const int offset = policy::UtcOffsetMinutes(policy.organization.jurisdiction);
  return policy::LocalMidnightMs(policy::DueDay(policy::LocalDay(anchor_ms, offset), duration),
                                 offset);
}

// The source a choice made through a request is recorded with.
std::string ChoiceSource(const Actor& actor) {
  if (actor.id == "subject") return "portal";
  return actor.id.rfind("key:", 0) == 0 ? "api" : "operator";
}

// Clears the free text of a request's sealed part (details, resolution,
// correction values, the extension's reason); the rest is evidence.
void WipeRequestText(json& doc) {
  for (const char* key : {"details", "resolution", "extension_reason"}) {
    if (doc.contains(key)) doc[key] = "";
  }
  if (doc.contains("corrections")) {
    for (json& c : doc["corrections"]) c["value"] = "";
  }
}

}  // namespace

bool FulfilledOnVerification(const policy::Policy& policy, const store::RequestRow& row,
                             const json& doc) {
  const std::string& type = row.type;
  if (type == "access" || type == "portability" || type == "objection" ||
      type == "restriction" || type == "consent_withdrawal") {
    return true;
  }
  if (type != "correction") return false;
  const policy::Right* right = policy.FindRight("correction");
  if (right == nullptr || right->self_service.empty()) return false;
  for (const json& c : doc.value("corrections", json::array())) {
    const std::string category = c.value("category", "");
    if (std::find(right->self_service.begin(), right->self_service.end(), category) ==
        right->self_service.end()) {
      return false;
    }
  }
  return true;
}

Status Vault::MaybeFulfill(store::Transaction& tx, const TenantContext& t, const Actor& actor,
                           RequestWork& work) {
  if (work.row.state != RequestState::kVerified ||
      !FulfilledOnVerification(t.policy, work.row, work.doc)) {
    return Status::Ok();
  }
  return Fulfill(tx, t, actor, work);
}

Status Vault::Extend(store::Transaction& tx, const TenantContext& t, const Actor& actor,
                     RequestWork& work, std::string_view reason) {
  store::RequestRow& row = work.row;
  if (row.extended_ms) {
    return Status::FailedPrecondition("request " + Quote(row.id) + " was already extended on " +
                                      Day(t.policy, *row.extended_ms) + "; the law allows one extension");
  }
  const int64_t now = impl_->Now();
  if (now > row.due_ms) {
    return Status::FailedPrecondition(
        "request " + Quote(row.id) + " was due " + Day(t.policy, row.due_ms) +
        "; an extension must be decided, and the person told, before the first deadline");
  }
  std::optional<int64_t> due = ExtendedDueMs(t.policy, row.type, row.due_ms);
  if (!due) {
    return Status::FailedPrecondition(
        "neither the policy (rights." + row.type + ".extension_days) nor the law of " +
        (t.policy.organization.jurisdiction.empty() ? std::string("the tenant")
                                                    : t.policy.organization.jurisdiction) +
        " allows extending a " + row.type + " request");
  }
  row.due_ms = *due;
  row.extended_ms = now;
  row.updated_ms = now;
  work.doc["extension_reason"] = std::string(reason);
  if (!row.subject.empty()) {
    ASSIGN_OR_RETURN(store::SubjectRow subject, LiveSubject(tx, t.id, row.subject));
    ASSIGN_OR_RETURN(auto contact, impl_->ContactOnFile(t, subject, ""));
    if (contact) {
      audit::Event base = impl_->Event(actor, t.id, "message.enqueue");
      base.subject = row.subject;
      std::string text = t.policy.organization.name + ": we need more time for your " +
                         row.type + " request (" + row.id + "). We will answer by " +
                         Day(t.policy, row.due_ms) + ". Why: " + std::string(reason);
      ASSIGN_OR_RETURN(std::string id,
                       QueueDirectMessage(tx, t, base, contact->channel, contact->to,
                                          t.policy.organization.name + ": your request",
                                          text, now));
      sodium_memzero(text.data(), text.size());
      work.doc["extension_notice"] = id;
    }
  }
  return Status::Ok();
}

Status Vault::Fulfill(store::Transaction& tx, const TenantContext& t, const Actor& actor,
                      RequestWork& work) {
  store::RequestRow& row = work.row;
  const policy::Policy& policy = t.policy;
  const int64_t now = impl_->Now();
  RequestEvidence evidence;
  evidence.by = actor.id;
  evidence.at_ms = now;
  audit::Event done = impl_->Event(actor, t.id, "request.complete");
  done.subject = row.subject;

  std::optional<store::SubjectRow> subject;
  std::optional<Impl::Contact> contact;
  if (!row.subject.empty()) {
    ASSIGN_OR_RETURN(store::SubjectRow s, LiveSubject(tx, t.id, row.subject));
    subject = std::move(s);
    // Read now: an erasure removes it.
    ASSIGN_OR_RETURN(contact, impl_->ContactOnFile(t, *subject, ""));
  }
  const std::string org = policy.organization.name;
  std::string notice;                  // to the person
  std::set<std::string> affected;      // categories recipients must hear about

  const std::string& type = row.type;
  if (type == "access" || type == "portability") {
    RETURN_IF_ERROR(BuildExport(tx, t, work, *subject, evidence));
    notice = org + ": the copy of your data you asked for (" + row.id + ") is ready. ";
    ASSIGN_OR_RETURN(ChannelSettings settings, LoadChannelSettings(tx, t));
    if (!settings.public_url.empty()) {
      notice += "Download it once, before " + Day(policy, evidence.export_expires_ms) + ": " +
                settings.public_url + "/v1/exports/" + work.download_token;
    } else {
      notice += "Ask us for the download link; it works once, until " +
                Day(policy, evidence.export_expires_ms) + ".";
    }
    done.count = evidence.export_bytes;
  } else if (type == "correction") {
    std::vector<FieldInput> fields;
    json corrections = work.doc.value("corrections", json::array());
    for (const json& c : corrections) {
      fields.push_back({c.value("category", ""), c.value("value", "")});
    }
    if (fields.empty() || fields.front().value.empty()) {
      return Status::FailedPrecondition("request " + Quote(row.id) +
                                        " has no corrections left to apply");
    }
    ASSIGN_OR_RETURN(PreparedSubject prepared, Prepare(t, SubjectInput{fields, std::nullopt}));
    prepared.subject_id = row.subject;
    ASSIGN_OR_RETURN(AddSubjectResult written, Write(tx, t, actor, prepared));
    (void)written;
    for (json& c : corrections) {
      std::string value = c.value("value", "");
      sodium_memzero(value.data(), value.size());
      c["value"] = "";  // applied: the request no longer holds the values
      evidence.corrected.push_back(c.value("category", ""));
      affected.insert(c.value("category", ""));
    }
    for (FieldInput& f : fields) sodium_memzero(f.value.data(), f.value.size());
    work.doc["corrections"] = std::move(corrections);
    evidence.done = "corrected " + Plural(static_cast<int64_t>(evidence.corrected.size()), "field");
    notice = org + ": we corrected your " +
             Plural(static_cast<int64_t>(evidence.corrected.size()), "detail") +
             " as you asked (request " + row.id + ").";
    done.categories = evidence.corrected;
  } else if (type == "erasure") {
    RETURN_IF_ERROR(EraseForRequest(tx, t, actor, row, *subject, evidence));
    // The subject's requests keep their type, dates and evidence, not what
    // the person or an operator wrote (it may name them): it is sealed with
    // the tenant's key, so the subject key's destruction would not reach it.
    ASSIGN_OR_RETURN(auto others, tx.ListRequests(t.id, false, row.subject));
    for (store::RequestRow& other : others) {
      if (other.id == row.id) continue;
      nlohmann::json doc = OpenRequestDoc(t, other);
      WipeRequestText(doc);
      other.sealed = SealRequestDoc(t, other.id, doc);
      RETURN_IF_ERROR(tx.UpdateRequest(other));
    }
    WipeRequestText(work.doc);
    for (const std::string& e : evidence.erased) {
      if (e.rfind("records:", 0) != 0) affected.insert(e);
    }
    notice = org + ": we erased your data (request " + row.id + "): " + evidence.done + ".";
    for (const KeptItem& k : evidence.kept) {
      notice += " We keep " + k.label + " until " + Day(policy, k.until_ms) + " (" + k.reason +
                "), used for nothing else, then delete it.";
    }
    done.categories = {};
  } else if (type == "objection" || type == "consent_withdrawal" || type == "restriction") {
    ASSIGN_OR_RETURN(Aead aead, impl_->SubjectAead(t, *subject));
    const std::string purpose = work.doc.value("purpose", "");
    audit::Event base = impl_->Event(actor, t.id, "consent");
    base.subject = row.subject;
    for (const policy::Purpose& p : policy.purposes) {
      if (!IsChoicePurpose(p)) continue;
      const bool consent = p.basis == policy::LegalBasis::kConsent;
      if (type == "objection" && p.key != purpose) continue;
      if (type == "consent_withdrawal" && (!consent || (!purpose.empty() && p.key != purpose))) {
        continue;
      }
      ConsentChange change;
      change.purpose = p.key;
      change.state = consent ? "withdrawn" : "objected";
      change.source = ChoiceSource(actor);
      change.request_id = row.id;
      RETURN_IF_ERROR(RecordConsent(tx, t, aead, base, row.subject, p, change, now));
      evidence.purposes.push_back(p.key);
    }
    if (type == "restriction") {
      store::SubjectRow restricted = *subject;
      restricted.restricted = true;
      restricted.updated_ms = now;
      RETURN_IF_ERROR(tx.PutSubject(restricted));
      for (const policy::Purpose& p : policy.purposes) {
        if (!IsChoicePurpose(p) && !RestrictionAllows(restricted, p).ok()) {
          evidence.purposes.push_back(p.key);
        }
      }
      ASSIGN_OR_RETURN(SealedFields held, DecodeFields(subject->fields));
      for (const auto& [category, blob] : held) affected.insert(category);
      evidence.done = "restricted: only purposes resting on a legal obligation may use the data";
      notice = org + ": we restricted the use of your data as you asked (request " + row.id +
               "). We keep it, and use it only where the law obliges us to.";
    } else {
      evidence.done = (type == "objection" ? "objection recorded for " : "consent withdrawn for ") +
                      Plural(static_cast<int64_t>(evidence.purposes.size()), "purpose");
      notice = org + ": " +
               (type == "objection" ? std::string("we recorded your objection")
                                    : std::string("we recorded the withdrawal of your consent")) +
               " (request " + row.id + "). It applies from now on.";
    }
    done.count = static_cast<int64_t>(evidence.purposes.size());
  } else if (type == "grievance") {
    const std::string resolution = work.doc.value("resolution", "");
    const policy::GrievanceOfficer& officer = policy.organization.grievance_officer;
    evidence.done = "answered";
    notice = org + ": our answer to your grievance (" + row.id + ")" +
             (officer.name.empty() ? std::string() : ", from " + officer.name) + ": " +
             resolution;
  }

  // Recipients the affected categories actually went to (GDPR art. 19): those
  // a recorded disclosure of this subject names, with a category affected.
  if (!affected.empty() && (type == "correction" || type == "erasure" || type == "restriction")) {
    ASSIGN_OR_RETURN(auto disclosed, tx.ListSubjectDisclosures(t.id, row.subject));
    std::set<std::string> told;
    for (const store::DisclosureRow& d : disclosed) {
      const bool shares = std::any_of(d.categories.begin(), d.categories.end(),
                                      [&](const std::string& c) { return affected.count(c) > 0; });
      if (!shares || !told.insert(d.recipient).second) continue;
      const policy::Recipient* r = policy.FindRecipient(d.recipient);
      if (r == nullptr) {
        evidence.recipients.push_back(d.recipient + ": no longer declared in the policy");
        continue;
      }
      if (r->kind == policy::RecipientKind::kAuthority) continue;
      if (r->notify.empty()) {
        evidence.recipients.push_back(r->id + ": no notify address in the policy");
        continue;
      }
      std::string text = org + " (" + policy.organization.legal_name + ") tells you, as a recipient " +
                         "of personal data, of a " + type + " by data subject " + row.subject +
                         " (request " + row.id + ", " + Day(policy, now) +
                         "). Apply it to any copy you hold.";
      ASSIGN_OR_RETURN(std::string id,
                       QueueDirectMessage(tx, t, done, "email", r->notify,
                                          org + ": data subject " + type, text, now));
      evidence.recipients.push_back(r->id);
      evidence.notices.push_back(id);
    }
  }
  if (contact && !notice.empty()) {
    ASSIGN_OR_RETURN(std::string id,
                     QueueDirectMessage(tx, t, done, contact->channel, contact->to,
                                        org + ": your request " + row.id, notice, now));
    evidence.notices.insert(evidence.notices.begin(), id);
  }
  sodium_memzero(notice.data(), notice.size());

  row.state = RequestState::kCompleted;
  row.closed_ms = now;
  row.updated_ms = now;
  if (row.assigned.empty()) row.assigned = actor.id;
  work.doc["evidence"] = EvidenceToJson(evidence);
  done.outcome = "ok";
  done.reason = type + " completed" +
                (evidence.export_sha256.empty() ? "" : "; bundle sha256 " + evidence.export_sha256);
  RETURN_IF_ERROR(tx.AppendAudit(done).status());
  return Status::Ok();
}

Status Vault::EraseForRequest(store::Transaction& tx, const TenantContext& t, const Actor& actor,
                              const store::RequestRow& request, const store::SubjectRow& subject,
                              RequestEvidence& evidence) {
  const policy::Policy& policy = t.policy;
  const int64_t now = impl_->Now();
  // A legal hold (docs/retention.md) stands against any deletion: the
  // request waits, or is rejected citing it (GDPR art. 17(3)(e)).
  ASSIGN_OR_RETURN(auto holds, tx.ListHolds(t.id, subject.id, now));
  if (!holds.empty()) {
    return Status::FailedPrecondition(
        "subject " + Quote(subject.id) + " is under legal hold " + Quote(holds.front().id) +
        (holds.front().record.empty() ? std::string() : " (on one of its records)") +
        "; nothing can be erased while it stands: release it, or reject the request citing it");
  }
  ASSIGN_OR_RETURN(SealedFields held, DecodeFields(subject.fields));
  ASSIGN_OR_RETURN(auto records, tx.ListRecords(t.id, subject.id, ""));
  std::map<std::string, std::vector<const store::RecordRow*>> by_kind;
  for (const store::RecordRow& r : records) by_kind[r.kind].push_back(&r);

  // The time a rule's anchor gives the item: erasure closes the account, so
  // `after: closed` runs from the closure (now, unless already closed).
  const int64_t closed = subject.closed_ms.value_or(now);
  auto anchor_time = [&](const policy::RetentionRule& rule,
                         const std::string& kind) -> Result<int64_t> {
    if (rule.after == "closed") return closed;
    if (kind.empty()) return rule.after == "collected" ? subject.updated_ms : now;
    int64_t latest = 0;
    for (const store::RecordRow* r : by_kind[kind]) {
      if (rule.after == "collected") {
        latest = std::max(latest, r->at_ms);
        continue;
      }
      ASSIGN_OR_RETURN(auto events, tx.RecordEvents(t.id, r->id));
      bool found = false;
      for (const store::RecordEventRow& e : events) {
        if (e.event == rule.after) latest = std::max(latest, e.at_ms), found = true;
      }
      if (!found) latest = std::max(latest, now);  // not anchored yet: the rule has not started
    }
    return latest;
  };

  // What a legal obligation keeps: items of rules with an end (`after:` and
  // `for:`) and a legal reason, in categories a legal-obligation purpose uses.
  std::map<std::string, KeptItem> kept;  // item -> until (the latest rule wins)
  auto keep = [&](const std::string& item, const std::string& label, int64_t until,
                  const policy::RetentionRule& rule) {
    if (until <= now) return;
    KeptItem& k = kept[item];
    if (k.until_ms >= until) return;
    k = {item, label, until, rule.name, rule.reason};
  };
  for (const policy::RetentionRule& rule : policy.retention) {
    if (rule.anchor != policy::AnchorKind::kAfterEvent || !rule.duration || rule.reason.empty()) {
      continue;
    }
    for (const std::string& category : rule.categories) {
      if (!LegallyRequired(policy, category)) continue;
      for (const auto& [held_category, blob] : held) {
        if (held_category != category) continue;
        ASSIGN_OR_RETURN(int64_t from, anchor_time(rule, ""));
        const policy::Category* c = policy.FindCategory(held_category);
        keep(held_category, c ? c->label : held_category, DueMs(policy, from, *rule.duration),
             rule);
      }
    }
    for (const std::string& kind : rule.records) {
      const policy::RecordKind* k = policy.FindRecordKind(kind);
      if (k == nullptr || by_kind[kind].empty() || !LegallyRequired(policy, k->category)) continue;
      ASSIGN_OR_RETURN(int64_t from, anchor_time(rule, kind));
      keep("records:" + kind, k->label, DueMs(policy, from, *rule.duration), rule);
    }
  }

  audit::Event ev = impl_->Event(actor, t.id, "erase");
  ev.subject = subject.id;
  SealedFields kept_fields;
  for (auto& [category, blob] : held) {
    if (kept.count(category)) {
      kept_fields.emplace_back(category, blob);
    } else {
      evidence.erased.push_back(category);
      ev.categories.push_back(category);
    }
  }
  std::vector<std::string> erased_kinds;
  int64_t erased_records = 0;
  for (const auto& [kind, rows] : by_kind) {
    if (kept.count("records:" + kind) || rows.empty()) continue;
    erased_kinds.push_back(kind);
    erased_records += static_cast<int64_t>(rows.size());
    evidence.erased.push_back("records:" + kind + " x" + std::to_string(rows.size()));
  }
  evidence.done = "erased " + Plural(static_cast<int64_t>(held.size() - kept_fields.size()),
                                      "field") +
                  " and " + Plural(erased_records, "record");
  ev.outcome = "ok";
  ev.count = static_cast<int64_t>(held.size() - kept_fields.size()) + erased_records;

  if (kept.empty()) {
    // Nothing is kept: crypto-shred the subject, as EraseSubject does.
    RETURN_IF_ERROR(tx.EraseSubject(t.id, subject.id, now));
    ev.reason = "request " + request.id;
  } else {
    // Keep only what the law requires, unreachable by lookup and restricted
    // to legal-obligation purposes; the retention sweep purges it at its end.
    store::SubjectRow row = subject;
    row.fields = EncodeFields(kept_fields);
    row.external_digest.clear();
    row.restricted = true;
    if (row.state == store::SubjectState::kActive) {
      row.state = store::SubjectState::kClosed;
      row.closed_ms = now;
    }
    row.updated_ms = now;
    RETURN_IF_ERROR(tx.PutSubject(row));
    RETURN_IF_ERROR(tx.ReplaceIndex(t.id, subject.id, {}));
    ASSIGN_OR_RETURN(int64_t deleted, tx.DeleteSubjectRecords(t.id, subject.id, erased_kinds));
    (void)deleted;
    RETURN_IF_ERROR(tx.DeletePersonalExtras(t.id, subject.id));
    for (const auto& [item, k] : kept) {
      RETURN_IF_ERROR(tx.InsertErasureHold(
          {t.id, request.id, subject.id, item, k.until_ms, k.rule, k.reason, std::nullopt}));
      evidence.kept.push_back(k);
    }
    ev.reason = "request " + request.id + "; " + Plural(static_cast<int64_t>(kept.size()), "item") +
                " kept under a legal obligation";
  }
  RETURN_IF_ERROR(tx.AppendAudit(ev).status());
  return Status::Ok();
}

}  // namespace custodian::service
