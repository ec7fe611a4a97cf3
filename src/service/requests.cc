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
#include <nlohmann/json.hpp>

#include "common/time.h"
#include "policy/jurisdiction.h"
#include "service/authorize.h"
#include "service/vault.h"
#include "service/vault_internal.h"

namespace custodian::service {
namespace {

using nlohmann::json;
using store::RequestRow;
using store::RequestState;

constexpr std::size_t kMaxDetails = 8 * 1024;
constexpr int64_t kDayMs = 86400000;

std::string SealAd(std::string_view id) { return "custodian.request.v1:" + std::string(id); }

bool IsOpen(RequestState s) {
  return s != RequestState::kCompleted && s != RequestState::kRejected &&
         s != RequestState::kExpired;
}

struct Texts {
  std::string details;
  std::string resolution;
};

Texts OpenTexts(const TenantContext& t, const RequestRow& r) {
  auto plain = t.channel_seal.Open(r.sealed, SealAd(r.id));
  if (!plain.ok()) return {};
  json j = json::parse(*plain, nullptr, false);
  sodium_memzero(plain->data(), plain->size());
  if (!j.is_object()) return {};
  return {j.value("details", ""), j.value("resolution", "")};
}

std::string SealTexts(const TenantContext& t, std::string_view id, const Texts& texts) {
  std::string plain = json{{"details", texts.details}, {"resolution", texts.resolution}}.dump();
  std::string sealed = t.channel_seal.Seal(plain, SealAd(id));
  sodium_memzero(plain.data(), plain.size());
  return sealed;
}

RequestView ViewOf(const TenantContext& t, const RequestRow& r, int64_t now) {
  Texts texts = OpenTexts(t, r);
  RequestView v;
  v.id = r.id;
  v.type = r.type;
  v.subject = r.subject;
  v.state = store::RequestStateName(r.state);
  v.verification = r.verification;
  v.assigned = r.assigned;
  v.details = std::move(texts.details);
  v.resolution = std::move(texts.resolution);
  v.received_ms = r.received_ms;
  v.due_ms = r.due_ms;
  v.overdue = IsOpen(r.state) && now > r.due_ms;
  v.closed_ms = r.closed_ms;
  return v;
}

}  // namespace

Result<RequestView> Vault::SubmitRequest(const Actor& actor, std::string_view tenant,
                                         const RequestInput& in) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  audit::Event ev = impl_->Event(actor, tenant, "request.submit");
  ev.subject = in.subject;
  if (Status allowed = AuthorizeOperator(t->policy, actor.role, "recording requests");
      !allowed.ok()) {
    return impl_->AuditRefusal(ev, allowed);
  }
  if (std::none_of(std::begin(kRequestTypes), std::end(kRequestTypes),
                   [&](const char* type) { return in.type == type; })) {
    return Status::InvalidArgument(
        "request type " + Quote(in.type) +
        " is not known; use access, portability, correction, erasure, objection, restriction, "
        "consent_withdrawal or grievance");
  }
  if (in.subject.empty() && in.type != "grievance") {
    return Status::InvalidArgument("a request of type " + Quote(in.type) +
                                   " must name its subject (only a grievance may come from "
                                   "someone not on file)");
  }
  if (in.details.size() > kMaxDetails) {
    return Status::InvalidArgument("the details may be at most 8 KiB");
  }
  RETURN_IF_ERROR(crypto::ValidateUtf8(in.details).WithContext("details"));

  const policy::Right* right = t->policy.FindRight(in.type);
  policy::JurisdictionDefaults law = policy::DefaultsFor(t->policy.organization.jurisdiction);
  int64_t days = in.type == "grievance" ? law.grievance_deadline_days : law.rights_deadline_days;
  if (right && right->deadline_days) days = *right->deadline_days;
  std::string verification =
      right && !right->verification.empty() ? right->verification : t->policy.rights_verification;
  if (verification.empty()) verification = "otp";

  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  if (!in.subject.empty()) {
    ASSIGN_OR_RETURN(store::SubjectRow row, LiveSubject(*tx, tenant, in.subject));
    (void)row;
  }
  const int64_t now = impl_->Now();
  RequestRow row;
  row.tenant = t->id;
  row.id = NewId("req_");
  row.subject = in.subject;
  row.type = in.type;
  row.state = verification == "none" ? RequestState::kVerified : RequestState::kVerifying;
  row.verification = verification;
  row.sealed = SealTexts(*t, row.id, {in.details, ""});
  row.received_ms = now;
  row.due_ms = now + days * kDayMs;
  row.updated_ms = now;
  RETURN_IF_ERROR(tx->InsertRequest(row));
  ev.outcome = "ok";
  ev.reason = in.type + " due " + FormatTime(row.due_ms);
  ASSIGN_OR_RETURN(int64_t seq, tx->AppendAudit(ev));
  (void)seq;
  RETURN_IF_ERROR(tx->Commit());
  return ViewOf(*t, row, now);
}

Result<RequestView> Vault::GetRequest(const Actor& actor, std::string_view tenant,
                                      std::string_view id) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  RETURN_IF_ERROR(AuthorizeOperator(t->policy, actor.role, "reading requests"));
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(false));
  ASSIGN_OR_RETURN(auto row, tx->GetRequest(tenant, id));
  if (!row) return Status::NotFound("request " + Quote(id) + " does not exist");
  return ViewOf(*t, *row, impl_->Now());
}

Result<std::vector<RequestView>> Vault::ListRequests(const Actor& actor, std::string_view tenant,
                                                     bool open_only, bool overdue_only) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  RETURN_IF_ERROR(AuthorizeOperator(t->policy, actor.role, "reading requests"));
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(false));
  ASSIGN_OR_RETURN(auto rows, tx->ListRequests(tenant, open_only || overdue_only, ""));
  const int64_t now = impl_->Now();
  std::vector<RequestView> out;
  for (const RequestRow& r : rows) {
    RequestView v = ViewOf(*t, r, now);
    if (overdue_only && !v.overdue) continue;
    out.push_back(std::move(v));
  }
  return out;
}

Result<RequestView> Vault::AdvanceRequest(const Actor& actor, std::string_view tenant,
                                          std::string_view id, RequestAction action,
                                          std::string_view reason) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  static const char* const kNames[] = {"verify", "start", "complete", "reject"};
  const std::string name = kNames[static_cast<int>(action)];
  audit::Event ev = impl_->Event(actor, tenant, "request." + name);
  if (Status allowed = AuthorizeOperator(t->policy, actor.role, "handling requests");
      !allowed.ok()) {
    return impl_->AuditRefusal(ev, allowed);
  }
  if ((action == RequestAction::kVerify || action == RequestAction::kReject) && reason.empty()) {
    return Status::InvalidArgument("say why: " + name + " needs a reason (it is kept as evidence)");
  }
  if (reason.size() > kMaxDetails)
    return Status::InvalidArgument("the reason may be at most 8 KiB");
  RETURN_IF_ERROR(crypto::ValidateUtf8(reason).WithContext("reason"));
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  ASSIGN_OR_RETURN(auto found, tx->GetRequest(tenant, id));
  if (!found) return Status::NotFound("request " + Quote(id) + " does not exist");
  RequestRow row = std::move(*found);
  ev.subject = row.subject;
  const RequestState from = row.state;
  RequestState to = from;
  switch (action) {
    case RequestAction::kVerify:
      if (from == RequestState::kVerifying || from == RequestState::kReceived) {
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
  }
  if (to == from) {
    return Status::FailedPrecondition(
        "request " + Quote(id) + " is " + store::RequestStateName(from) + "; it cannot " + name +
        (from == RequestState::kVerifying ? " before the person's identity is verified" : ""));
  }
  const int64_t now = impl_->Now();
  Texts texts = OpenTexts(*t, row);
  if (!reason.empty()) texts.resolution = std::string(reason);
  row.sealed = SealTexts(*t, row.id, texts);
  row.state = to;
  row.updated_ms = now;
  if (action == RequestAction::kStart) row.assigned = actor.id;
  if (!IsOpen(to)) row.closed_ms = now;
  RETURN_IF_ERROR(tx->UpdateRequest(row));
  ev.outcome = "ok";
  ev.reason = row.type + " " + store::RequestStateName(to);
  ASSIGN_OR_RETURN(int64_t seq, tx->AppendAudit(ev));
  (void)seq;
  RETURN_IF_ERROR(tx->Commit());
  return ViewOf(*t, row, now);
}

}  // namespace custodian::service
