// Data-subject requests (Vault::SubmitRequest, GetRequest, ListRequests,
// AdvanceRequest): each has a type, a due date from the policy (or the
// jurisdiction's default) and a state machine
//
//   received -> verifying -> verified -> in_progress -> completed
//                    \-----------\-------------\-----> rejected (with a reason)
//
// Details and resolutions are free text a person wrote, so they are sealed
// (tenant channel key); audit events carry the type, state and ids only.
#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "common/time.h"
#include "policy/jurisdiction.h"
#include "service/authorize.h"
#include "policy/duration.h"
#include "service/requests_internal.h"
#include "service/vault.h"
#include "service/vault_internal.h"

namespace custodian::service {
namespace {

using nlohmann::json;
using store::RequestRow;
using store::RequestState;

constexpr std::size_t kMaxDetails = 8 * 1024;
constexpr std::size_t kMaxCorrections = 32;
constexpr int64_t kDayMs = 86400000;

std::string SealAd(std::string_view id) { return "custodian.request.v1:" + std::string(id); }

bool IsOpen(RequestState s) {
  return s != RequestState::kCompleted && s != RequestState::kRejected &&
         s != RequestState::kExpired;
}

// `ms` plus `count` calendar months (UTC): the same day of the month and time
// of day, or the month's last day when it has no such day.
int64_t AddMonths(int64_t ms, int64_t count) {
  const int64_t days = ms >= 0 ? ms / kDayMs : (ms - kDayMs + 1) / kDayMs;
  const int64_t time_of_day = ms - days * kDayMs;
  policy::Date date = policy::DateFromDaysSinceEpoch(days);
  policy::Date due =
      policy::AddDuration(date, policy::Duration{count, policy::Duration::Unit::kMonths});
  return policy::DaysSinceEpoch(due) * kDayMs + time_of_day;
}

}  // namespace

// The sealed part of a request: what the person wrote and what was done.
//   {"details", "resolution", "purpose", "corrections": [{"category", "value"}],
//    "evidence": {...}}
json OpenRequestDoc(const TenantContext& t, const RequestRow& r) {
  auto plain = t.channel_seal.Open(r.sealed, SealAd(r.id));
  if (!plain.ok()) return json::object();
  json j = json::parse(*plain, nullptr, false);
  sodium_memzero(plain->data(), plain->size());
  return j.is_object() ? j : json::object();
}

std::string SealRequestDoc(const TenantContext& t, std::string_view id, const json& doc) {
  std::string plain = doc.dump();
  std::string sealed = t.channel_seal.Seal(plain, SealAd(id));
  sodium_memzero(plain.data(), plain.size());
  return sealed;
}

int64_t RequestDueMs(const policy::Policy& policy, std::string_view type, int64_t received_ms) {
  const policy::Right* right = policy.FindRight(std::string(type));
  policy::JurisdictionDefaults law = policy::DefaultsFor(policy.organization.jurisdiction);
  const bool grievance = type == "grievance";
  if (right && right->deadline_months) return AddMonths(received_ms, *right->deadline_months);
  if (!right && !grievance && law.rights_deadline_months > 0) {
    return AddMonths(received_ms, law.rights_deadline_months);
  }
  int64_t days = grievance ? law.grievance_deadline_days : law.rights_deadline_days;
  if (right && right->deadline_days) days = *right->deadline_days;
  return received_ms + days * kDayMs;
}

// The due date after the one extension the law allows, or nullopt when it
// allows none.
std::optional<int64_t> ExtendedDueMs(const policy::Policy& policy, std::string_view type,
                                     int64_t due_ms) {
  const policy::Right* right = policy.FindRight(std::string(type));
  policy::JurisdictionDefaults law = policy::DefaultsFor(policy.organization.jurisdiction);
  if (type == "grievance") return std::nullopt;
  if (right && right->extension_months) return AddMonths(due_ms, *right->extension_months);
  int64_t days = law.extension_days;
  if (right && right->extension_days) days = *right->extension_days;
  if (!right && law.extension_months > 0) return AddMonths(due_ms, law.extension_months);
  if (days <= 0) return std::nullopt;
  return due_ms + days * kDayMs;
}

RequestEvidence EvidenceFromJson(const json& j) {
  RequestEvidence e;
  e.done = j.value("done", "");
  e.by = j.value("by", "");
  e.at_ms = j.value("at_ms", int64_t{0});
  e.erased = j.value("erased", std::vector<std::string>{});
  for (const json& k : j.value("kept", json::array())) {
    e.kept.push_back({k.value("item", ""), k.value("label", ""), k.value("until_ms", int64_t{0}),
                      k.value("rule", ""), k.value("reason", "")});
  }
  e.corrected = j.value("corrected", std::vector<std::string>{});
  e.purposes = j.value("purposes", std::vector<std::string>{});
  e.export_id = j.value("export_id", "");
  e.export_sha256 = j.value("export_sha256", "");
  e.export_bytes = j.value("export_bytes", int64_t{0});
  e.export_expires_ms = j.value("export_expires_ms", int64_t{0});
  e.recipients = j.value("recipients", std::vector<std::string>{});
  e.notices = j.value("notices", std::vector<std::string>{});
  return e;
}

json EvidenceToJson(const RequestEvidence& e) {
  json kept = json::array();
  for (const KeptItem& k : e.kept) {
    kept.push_back({{"item", k.item}, {"label", k.label}, {"until_ms", k.until_ms},
                    {"rule", k.rule}, {"reason", k.reason}});
  }
  return {{"done", e.done},
          {"by", e.by},
          {"at_ms", e.at_ms},
          {"erased", e.erased},
          {"kept", kept},
          {"corrected", e.corrected},
          {"purposes", e.purposes},
          {"export_id", e.export_id},
          {"export_sha256", e.export_sha256},
          {"export_bytes", e.export_bytes},
          {"export_expires_ms", e.export_expires_ms},
          {"recipients", e.recipients},
          {"notices", e.notices}};
}

RequestView RequestViewOf(const TenantContext& t, const RequestRow& r, int64_t now) {
  json doc = OpenRequestDoc(t, r);
  RequestView v;
  v.id = r.id;
  v.type = r.type;
  v.subject = r.subject;
  v.state = store::RequestStateName(r.state);
  v.verification = r.verification;
  v.assigned = r.assigned;
  v.details = doc.value("details", "");
  v.resolution = doc.value("resolution", "");
  v.purpose = doc.value("purpose", "");
  for (const json& c : doc.value("corrections", json::array())) {
    const std::string category = c.value("category", "");
    const policy::Category* cat = t.policy.FindCategory(category);
    v.corrections.push_back({category, cat ? cat->label : category, c.value("value", "")});
  }
  if (r.type == "grievance") {
    const policy::GrievanceOfficer& o = t.policy.organization.grievance_officer;
    v.officer = !o.name.empty() ? o.name : o.title;
  }
  v.received_ms = r.received_ms;
  v.due_ms = r.due_ms;
  v.overdue = IsOpen(r.state) && now > r.due_ms;
  v.closed_ms = r.closed_ms;
  v.extended_ms = r.extended_ms;
  if (doc.contains("evidence") && doc["evidence"].is_object()) {
    v.evidence = EvidenceFromJson(doc["evidence"]);
  }
  return v;
}

Status CheckRequestInput(const policy::Policy& policy, const RequestInput& in, InputFault* fault) {
  auto bad = [&](const char* member, Status s, int index = -1) {
    if (fault) *fault = {member, index};
    return s;
  };
  if (std::none_of(std::begin(kRequestTypes), std::end(kRequestTypes),
                   [&](const char* type) { return in.type == type; })) {
    return bad("type", Status::InvalidArgument(
        "request type " + Quote(in.type) +
        " is not known; use access, portability, correction, erasure, objection, restriction, "
        "consent_withdrawal or grievance"));
  }
  if (in.subject.empty() && in.type != "grievance") {
    return bad("subject", Status::InvalidArgument(
                              "a request of type " + Quote(in.type) +
                              " must name its subject (only a grievance may come from "
                              "someone not on file)"));
  }
  if (in.details.size() > kMaxDetails) {
    return bad("details", Status::InvalidArgument("the details may be at most 8 KiB"));
  }
  if (Status utf8 = crypto::ValidateUtf8(in.details); !utf8.ok()) {
    return bad("details", utf8.WithContext("details"));
  }
  if (in.type == "objection" || in.type == "consent_withdrawal") {
    if (in.purpose.empty() && in.type == "objection") {
      return bad("purpose", Status::InvalidArgument(
                                "an objection names the purpose objected to (`purpose`: a "
                                "purpose of the policy resting on legitimate interest or "
                                "consent)"));
    }
    if (!in.purpose.empty()) {
      const policy::Purpose* p = policy.FindPurpose(in.purpose);
      if (p == nullptr) {
        return bad("purpose", Status::InvalidArgument("purpose " + Quote(in.purpose) +
                                                      " is not declared in the policy"));
      }
      const bool consent = p->basis == policy::LegalBasis::kConsent;
      const bool interest = p->basis == policy::LegalBasis::kLegitimateInterest;
      if (in.type == "consent_withdrawal" ? !consent : !(consent || interest)) {
        return bad("purpose", Status::InvalidArgument(
            "purpose " + Quote(in.purpose) + " rests on " + policy::LegalBasisName(*p->basis) +
            (in.type == "consent_withdrawal"
                 ? std::string(", not consent: there is no consent to withdraw")
                 : std::string(", so an objection does not apply to it; ask for restriction "
                               "or erasure instead"))));
      }
    }
  } else if (!in.purpose.empty()) {
    return bad("purpose", Status::InvalidArgument(
                              "`purpose` applies only to objection and consent_withdrawal "
                              "requests, not to " + Quote(in.type)));
  }
  if (in.type == "correction") {
    if (in.corrections.empty() || in.corrections.size() > kMaxCorrections) {
      return bad("corrections", Status::InvalidArgument(
                                    "a correction lists the new values (`corrections`: 1 to 32 "
                                    "category/value pairs)"));
    }
    int index = -1;
    auto normalized = NormalizeFields(policy, in.corrections, {}, &index);
    if (!normalized.ok()) return bad("corrections", normalized.status(), index);
    for (NormalizedField& f : *normalized) sodium_memzero(f.value.data(), f.value.size());
  } else if (!in.corrections.empty()) {
    return bad("corrections",
               Status::InvalidArgument("`corrections` applies only to correction requests, not "
                                       "to " + Quote(in.type)));
  }
  return Status::Ok();
}

Result<RequestView> Vault::SubmitRequest(const Actor& actor, std::string_view tenant,
                                         const RequestInput& in) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  audit::Event ev = impl_->Event(actor, tenant, "request.submit");
  ev.subject = in.subject;
  if (Status allowed = AuthorizeOperator(t->policy, actor.role, "recording requests");
      !allowed.ok()) {
    return impl_->AuditRefusal(ev, allowed);
  }
  return RecordRequest(*t, actor, std::move(ev), in, "");
}

Result<RequestView> Vault::RecordRequest(const TenantContext& tc, const Actor& actor,
                                         audit::Event ev, const RequestInput& in,
                                         std::string_view verified_by_code) {
  const TenantContext* t = &tc;
  std::string_view tenant = tc.id;
  RETURN_IF_ERROR(CheckRequestInput(t->policy, in));
  const policy::Right* right = t->policy.FindRight(in.type);
  std::string verification =
      right && !right->verification.empty() ? right->verification : t->policy.rights_verification;
  if (verification.empty()) verification = "otp";
  // A code the person already proved (the privacy portal's sign-in) is the
  // verification `otp` asks for; `operator` still needs an operator.
  const bool verified =
      verification == "none" || (verification == "otp" && !verified_by_code.empty());

  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  if (!in.subject.empty()) {
    ASSIGN_OR_RETURN(store::SubjectRow row, LiveSubject(*tx, tenant, in.subject));
    (void)row;
    // The same right asked twice while the first is open is one request (a
    // person may have several grievances or corrections open at once).
    if (in.type != "grievance" && in.type != "correction") {
      ASSIGN_OR_RETURN(auto open, tx->ListRequests(tenant, /*open_only=*/true, in.subject));
      for (const RequestRow& r : open) {
        if (r.type != in.type) continue;
        if (!in.purpose.empty() || in.type == "consent_withdrawal") {
          if (OpenRequestDoc(*t, r).value("purpose", "") != in.purpose) continue;
        }
        return Status::AlreadyExists("request " + Quote(r.id) + " (" + r.type + ", " +
                                     store::RequestStateName(r.state) +
                                     ") is already open for this subject; follow it up "
                                     "instead of opening another");
      }
    }
  }
  const int64_t now = impl_->Now();
  RequestWork work;
  RequestRow& row = work.row;
  row.tenant = t->id;
  row.id = NewId("req_");
  row.subject = in.subject;
  row.type = in.type;
  row.state = verified ? RequestState::kVerified : RequestState::kVerifying;
  row.verification = verification;
  work.doc = {{"details", in.details},
              {"resolution", verified && verification == "otp" ? std::string(verified_by_code)
                                                               : std::string()},
              {"purpose", in.purpose}};
  if (!in.corrections.empty()) {
    ASSIGN_OR_RETURN(auto normalized, NormalizeFields(t->policy, in.corrections));
    json corrections = json::array();
    for (NormalizedField& f : normalized) {
      corrections.push_back({{"category", f.category}, {"value", f.value}});
      sodium_memzero(f.value.data(), f.value.size());
    }
    work.doc["corrections"] = std::move(corrections);
  }
  row.received_ms = now;
  row.due_ms = RequestDueMs(t->policy, in.type, now);
  row.updated_ms = now;
  row.sealed = SealRequestDoc(*t, row.id, work.doc);
  RETURN_IF_ERROR(tx->InsertRequest(row));
  ev.outcome = "ok";
  ev.reason = in.type + " due " + FormatTime(row.due_ms);
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  if (row.state == RequestState::kVerified) {
    RETURN_IF_ERROR(MaybeFulfill(*tx, *t, actor, work));
  }
  if (row.state == RequestState::kCompleted) {
    row.sealed = SealRequestDoc(*t, row.id, work.doc);
    RETURN_IF_ERROR(tx->UpdateRequest(row));
  }
  RETURN_IF_ERROR(tx->Commit());
  RequestView view = RequestViewOf(*t, row, now);
  view.download_token = std::move(work.download_token);
  return view;
}

namespace {

// An erasure's kept items with the time the retention sweep purged each.
Status AttachPurges(store::Transaction& tx, std::string_view tenant, RequestView& v) {
  if (v.type != "erasure" || !v.evidence || v.evidence->kept.empty()) return Status::Ok();
  ASSIGN_OR_RETURN(auto holds, tx.ListErasureHolds(tenant, v.subject));
  for (KeptItem& k : v.evidence->kept) {
    for (const store::ErasureHoldRow& h : holds) {
      if (h.request_id == v.id && h.item == k.item) k.purged_ms = h.purged_ms;
    }
  }
  return Status::Ok();
}

}  // namespace

Result<RequestView> Vault::GetRequest(const Actor& actor, std::string_view tenant,
                                      std::string_view id) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  audit::Event ev = impl_->Event(actor, tenant, "request.read");
  if (Status allowed = AuthorizeOperator(t->policy, actor.role, "reading requests");
      !allowed.ok()) {
    return impl_->AuditRefusal(ev, allowed);
  }
  // A write transaction: the read and its audit event commit together.
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  ASSIGN_OR_RETURN(auto row, tx->GetRequest(tenant, id));
  if (!row) return Status::NotFound("request " + Quote(id) + " does not exist");
  RequestView v = RequestViewOf(*t, *row, impl_->Now());
  RETURN_IF_ERROR(AttachPurges(*tx, tenant, v));
  ev.subject = row->subject;
  ev.outcome = "ok";
  ev.reason = "request " + row->id;
  ev.count = 1;
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  RETURN_IF_ERROR(tx->Commit());
  return v;
}

Result<std::vector<RequestView>> Vault::ListRequests(const Actor& actor, std::string_view tenant,
                                                     bool open_only, bool overdue_only) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  audit::Event ev = impl_->Event(actor, tenant, "request.read");
  if (Status allowed = AuthorizeOperator(t->policy, actor.role, "reading requests");
      !allowed.ok()) {
    return impl_->AuditRefusal(ev, allowed);
  }
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  ASSIGN_OR_RETURN(auto rows, tx->ListRequests(tenant, open_only || overdue_only, ""));
  const int64_t now = impl_->Now();
  std::vector<RequestView> out;
  std::set<std::string> subjects;
  for (const RequestRow& r : rows) {
    RequestView v = RequestViewOf(*t, r, now);
    if (overdue_only && !v.overdue) continue;
    RETURN_IF_ERROR(AttachPurges(*tx, tenant, v));
    if (!r.subject.empty()) subjects.insert(r.subject);
    out.push_back(std::move(v));
  }
  // The subjects whose requests were shown (ids only), and how many requests.
  SetEventSubjects(ev, {subjects.begin(), subjects.end()});
  ev.outcome = "ok";
  ev.reason = overdue_only ? "overdue" : open_only ? "open" : "";
  ev.count = static_cast<int64_t>(out.size());
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  RETURN_IF_ERROR(tx->Commit());
  return out;
}

Result<RequestView> Vault::AdvanceRequest(const Actor& actor, std::string_view tenant,
                                          std::string_view id, RequestAction action,
                                          std::string_view reason) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  static const char* const kNames[] = {"verify", "start", "complete", "reject", "extend"};
  const std::string name = kNames[static_cast<int>(action)];
  audit::Event ev = impl_->Event(actor, tenant, "request." + name);
  if (Status allowed = AuthorizeOperator(t->policy, actor.role, "handling requests");
      !allowed.ok()) {
    return impl_->AuditRefusal(ev, allowed);
  }
  if ((action == RequestAction::kVerify || action == RequestAction::kReject ||
       action == RequestAction::kExtend) &&
      reason.empty()) {
    return Status::InvalidArgument("say why: " + name + " needs a reason (it is kept as evidence" +
                                   (action == RequestAction::kExtend
                                        ? std::string(" and sent to the person)")
                                        : std::string(")")));
  }
  if (reason.size() > kMaxDetails)
    return Status::InvalidArgument("the reason may be at most 8 KiB");
  RETURN_IF_ERROR(crypto::ValidateUtf8(reason).WithContext("reason"));
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  ASSIGN_OR_RETURN(auto found, tx->GetRequest(tenant, id));
  if (!found) return Status::NotFound("request " + Quote(id) + " does not exist");
  RequestWork work;
  work.row = std::move(*found);
  RequestRow& row = work.row;
  ev.subject = row.subject;
  const RequestState from = row.state;
  RequestState to = from;
  switch (action) {
    case RequestAction::kVerify:
      if (from == RequestState::kVerifying || from == RequestState::kReceived ||
          from == RequestState::kHeld) {
        to = RequestState::kVerified;
      }
      break;
    case RequestAction::kStart:
      if (from == RequestState::kVerified) to = RequestState::kInProgress;
      break;
    case RequestAction::kComplete:
      if (from == RequestState::kVerified || from == RequestState::kInProgress) {
        to = RequestState::kCompleted;
      }
      break;
    case RequestAction::kReject:
      if (IsOpen(from)) to = RequestState::kRejected;
      break;
    case RequestAction::kExtend:
      if (IsOpen(from)) to = from;
      break;
  }
  if (to == from && action != RequestAction::kExtend) {
    return Status::FailedPrecondition(
        "request " + Quote(id) + " is " + store::RequestStateName(from) + "; it cannot " + name +
        (from == RequestState::kVerifying ? " before the person's identity is verified" : ""));
  }
  const int64_t now = impl_->Now();
  work.doc = OpenRequestDoc(*t, row);
  if (action == RequestAction::kExtend) {
    RETURN_IF_ERROR(Extend(*tx, *t, actor, work, reason));
    ev.reason = row.type + " due " + FormatTime(row.due_ms);
  } else if (action == RequestAction::kComplete) {
    if (row.type == "grievance" && reason.empty()) {
      return Status::InvalidArgument(
          "say how the grievance was resolved: complete needs a reason for a grievance (it is "
          "the answer the person receives)");
    }
    if (!reason.empty()) work.doc["resolution"] = std::string(reason);
    RETURN_IF_ERROR(Fulfill(*tx, *t, actor, work));
  } else {
    if (!reason.empty()) work.doc["resolution"] = std::string(reason);
    row.state = to;
    row.updated_ms = now;
    if (action == RequestAction::kStart) row.assigned = actor.id;
    if (!IsOpen(to)) row.closed_ms = now;
    ev.reason = row.type + " " + store::RequestStateName(to);
  }
  if (action == RequestAction::kVerify) {
    RETURN_IF_ERROR(MaybeFulfill(*tx, *t, actor, work));
  }
  row.sealed = SealRequestDoc(*t, row.id, work.doc);
  RETURN_IF_ERROR(tx->UpdateRequest(row));
  if (action != RequestAction::kComplete) {  // Fulfill audited the completion
    ev.outcome = "ok";
    RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  }
  RETURN_IF_ERROR(tx->Commit());
  if (row.type == "erasure" && row.state == RequestState::kCompleted) {
    // As EraseSubject: move the erased pages out of the WAL now.
    (void)impl_->store->Checkpoint();
  }
  RequestView view = RequestViewOf(*t, row, now);
  view.download_token = std::move(work.download_token);
  return view;
}

Result<int64_t> Vault::ExpireRequests() {
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  ASSIGN_OR_RETURN(std::vector<std::string> tenants, tx->ListTenants());
  const int64_t now = impl_->Now();
  int64_t expired = 0;
  for (const std::string& tenant : tenants) {
    ASSIGN_OR_RETURN(auto rows, tx->ListRequests(tenant, /*open_only=*/true, ""));
    for (RequestRow& r : rows) {
      if (r.due_ms >= now) break;  // oldest due first
      if (r.state != RequestState::kReceived && r.state != RequestState::kVerifying &&
          r.state != RequestState::kHeld) {
        continue;  // verified work the company owes: it stays open, overdue
      }
      r.state = RequestState::kExpired;
      r.closed_ms = now;
      r.updated_ms = now;
      r.otp_digest.clear();
      RETURN_IF_ERROR(tx->UpdateRequest(r));
      audit::Event ev = impl_->Event({"custodian", ""}, tenant, "request.expire");
      ev.subject = r.subject;
      ev.outcome = "ok";
      ev.reason = r.type + " not verified by its due date";
      RETURN_IF_ERROR(tx->AppendAudit(ev).status());
      ++expired;
    }
  }
  ASSIGN_OR_RETURN(int64_t dropped, tx->DropExpiredExports(now));
  (void)dropped;
  // Privacy-portal sign-ins live at most 40 minutes; kept an hour for the
  // per-contact limit, then deleted.
  RETURN_IF_ERROR(tx->PurgePortalSessions(now - 60 * 60 * 1000));
  RETURN_IF_ERROR(tx->Commit());
  return expired;
}

namespace {

constexpr int64_t kCodeTtlMs = 10 * 60 * 1000;
constexpr int64_t kMaxCodeAttempts = 5;
constexpr char kOtpCategory[] = "custodian.request_otp";

std::string CodeDigest(const TenantContext& t, std::string_view id, std::string_view code) {
  return t.credentials.Digest(kOtpCategory, std::string(id) + ":" + std::string(code));
}

}  // namespace

Result<std::vector<Vault::RequestCounts>> Vault::CountRequests() {
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(false));
  ASSIGN_OR_RETURN(std::vector<std::string> tenants, tx->ListTenants());
  const int64_t now = impl_->Now();
  std::vector<RequestCounts> out;
  for (const std::string& tenant : tenants) {
    ASSIGN_OR_RETURN(auto rows, tx->ListRequests(tenant, /*open_only=*/true, ""));
    RequestCounts c{tenant, static_cast<int64_t>(rows.size()), 0};
    for (const RequestRow& r : rows) c.overdue += now > r.due_ms ? 1 : 0;
    out.push_back(std::move(c));
  }
  return out;
}

Result<RequestView> Vault::SendVerificationCode(const Actor& actor, std::string_view tenant,
                                                std::string_view id, std::string_view channel) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  audit::Event ev = impl_->Event(actor, tenant, "request.code_sent");
  if (Status allowed = AuthorizeOperator(t->policy, actor.role, "handling requests");
      !allowed.ok()) {
    return impl_->AuditRefusal(ev, allowed);
  }
  if (channel != "sms" && channel != "whatsapp" && channel != "email") {
    return Status::InvalidArgument("channel " + Quote(channel) +
                                   " is not known; use sms, whatsapp or email");
  }
  std::string to;
  int code_number = 0;
  {
    ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
    ASSIGN_OR_RETURN(auto found, tx->GetRequest(tenant, id));
    if (!found) return Status::NotFound("request " + Quote(id) + " does not exist");
    RequestRow row = std::move(*found);
    if (row.state != RequestState::kVerifying || row.verification != "otp") {
      return Status::FailedPrecondition(
          "request " + Quote(id) + " is " + store::RequestStateName(row.state) +
          (row.verification == "otp" ? std::string("; no code is needed now")
                                     : "; it is verified by " + row.verification));
    }
    ASSIGN_OR_RETURN(store::SubjectRow subject, LiveSubject(*tx, tenant, row.subject));
    ASSIGN_OR_RETURN(auto contact, impl_->ContactOnFile(*t, subject, channel));
    if (!contact) {
      return Status::NotFound("the subject has no " +
                              std::string(channel == "email" ? "email address" : "phone number") +
                              " on file to send a code to");
    }
    to = std::move(contact->to);
    code_number = static_cast<int>(randombytes_uniform(1000000));
    char code[7];
    std::snprintf(code, sizeof code, "%06d", code_number);
    const int64_t now = impl_->Now();
    row.otp_digest = CodeDigest(*t, row.id, code);
    row.otp_expires_ms = now + kCodeTtlMs;
    row.updated_ms = now;
    sodium_memzero(code, sizeof code);
    RETURN_IF_ERROR(tx->UpdateRequest(row));
    ev.subject = row.subject;
    ev.outcome = "ok";
    ev.reason = "channel " + std::string(channel);
    RETURN_IF_ERROR(tx->AppendAudit(ev).status());
    RETURN_IF_ERROR(tx->Commit());
  }
  char code[7];
  std::snprintf(code, sizeof code, "%06d", code_number);
  std::string text = t->policy.organization.name + ": your verification code is " + code +
                     ". It expires in 10 minutes. If you did not ask us for anything, ignore "
                     "this message.";
  sodium_memzero(code, sizeof code);
  MessageRequest message{std::string(channel), "", to, "", "", text, ""};
  if (channel == "email")
    message.email_subject = t->policy.organization.name + " verification code";
  auto queued = EnqueueMessage({"requests", ""}, tenant, message);
  sodium_memzero(text.data(), text.size());
  if (!queued.ok()) return queued.status();
  // The request as it now stands (the send is audited above; no request.read).
  ASSIGN_OR_RETURN(auto read, impl_->store->Begin(false));
  ASSIGN_OR_RETURN(auto current, read->GetRequest(tenant, id));
  if (!current) return Status::NotFound("request " + Quote(id) + " does not exist");
  RequestView v = RequestViewOf(*t, *current, impl_->Now());
  RETURN_IF_ERROR(AttachPurges(*read, tenant, v));
  return v;
}

Result<RequestView> Vault::CheckVerificationCode(const Actor& caller, std::string_view tenant,
                                                 std::string_view id, std::string_view code) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  if (Status allowed = AuthorizeOperator(t->policy, caller.role, "handling requests");
      !allowed.ok()) {
    return impl_->AuditRefusal(impl_->Event(caller, tenant, "request.code_checked"), allowed);
  }
  return CheckVerificationCode(tenant, id, code);
}

Result<RequestView> Vault::CheckVerificationCode(std::string_view tenant, std::string_view id,
                                                 std::string_view code) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  ASSIGN_OR_RETURN(auto found, tx->GetRequest(tenant, id));
  if (!found) return Status::NotFound("request " + Quote(id) + " does not exist");
  RequestWork work;
  work.row = std::move(*found);
  RequestRow& row = work.row;
  if (row.state != RequestState::kVerifying || row.otp_digest.empty()) {
    return Status::FailedPrecondition("request " + Quote(id) + " is not waiting for a code");
  }
  const int64_t now = impl_->Now();
  const std::string digest = CodeDigest(*t, row.id, code);
  const bool right = code.size() == 6 && digest.size() == row.otp_digest.size() &&
                     sodium_memcmp(digest.data(), row.otp_digest.data(), digest.size()) == 0 &&
                     now < row.otp_expires_ms;
  const Actor person{"subject", ""};
  audit::Event ev = impl_->Event(person, tenant, "request.code_checked");
  ev.subject = row.subject;
  row.updated_ms = now;
  Status answer = Status::Ok();
  if (right) {
    row.state = RequestState::kVerified;
    row.otp_digest.clear();
    work.doc = OpenRequestDoc(*t, row);
    work.doc["resolution"] = "verified by a code sent to a contact on file";
    ev.outcome = "ok";
  } else {
    ++row.otp_attempts;
    ev.outcome = "refused";
    if (row.otp_attempts >= kMaxCodeAttempts) {
      row.state = RequestState::kHeld;
      row.otp_digest.clear();
      ev.action = "request.held";
      ev.reason = "5 wrong codes";
      answer = Status::FailedPrecondition(
          "too many wrong codes: the request is held until an operator verifies the person");
    } else {
      ev.reason = "wrong or expired code";
      answer = Status::Unauthenticated("wrong or expired code (" +
                                       std::to_string(kMaxCodeAttempts - row.otp_attempts) +
                                       " attempts left)");
    }
  }
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  if (right) {
    RETURN_IF_ERROR(MaybeFulfill(*tx, *t, person, work));
    row.sealed = SealRequestDoc(*t, row.id, work.doc);
  }
  RETURN_IF_ERROR(tx->UpdateRequest(row));
  RETURN_IF_ERROR(tx->Commit());
  if (!answer.ok()) return answer;
  RequestView view = RequestViewOf(*t, row, now);
  view.download_token = std::move(work.download_token);
  return view;
}

}  // namespace custodian::service
