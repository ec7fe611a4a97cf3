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
    std::set<std::string> contacts;
    for (const policy::Category& c : t->policy.categories) {
      if (c.normalize ==
          (channel == "email" ? policy::Normalizer::kEmail : policy::Normalizer::kPhone)) {
        contacts.insert(c.key);
      }
    }
    ASSIGN_OR_RETURN(SubjectView view, impl_->Project(*t, subject, contacts));
    if (view.fields.empty()) {
      return Status::NotFound("the subject has no " +
                              std::string(channel == "email" ? "email address" : "phone number") +
                              " on file to send a code to");
    }
    to = view.fields.front().value;
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
    ASSIGN_OR_RETURN(int64_t seq, tx->AppendAudit(ev));
    (void)seq;
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
  return GetRequest(actor, tenant, id);
}

Result<RequestView> Vault::CheckVerificationCode(std::string_view tenant, std::string_view id,
                                                 std::string_view code) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  ASSIGN_OR_RETURN(auto found, tx->GetRequest(tenant, id));
  if (!found) return Status::NotFound("request " + Quote(id) + " does not exist");
  RequestRow row = std::move(*found);
  if (row.state != RequestState::kVerifying || row.otp_digest.empty()) {
    return Status::FailedPrecondition("request " + Quote(id) + " is not waiting for a code");
  }
  const int64_t now = impl_->Now();
  const std::string digest = CodeDigest(*t, row.id, code);
  const bool right = code.size() == 6 && digest.size() == row.otp_digest.size() &&
                     sodium_memcmp(digest.data(), row.otp_digest.data(), digest.size()) == 0 &&
                     now < row.otp_expires_ms;
  audit::Event ev = impl_->Event({"subject", ""}, tenant, "request.code_checked");
  ev.subject = row.subject;
  row.updated_ms = now;
  Status answer = Status::Ok();
  if (right) {
    row.state = RequestState::kVerified;
    row.otp_digest.clear();
    Texts texts = OpenTexts(*t, row);
    texts.resolution = "verified by a code sent to a contact on file";
    row.sealed = SealTexts(*t, row.id, texts);
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
  RETURN_IF_ERROR(tx->UpdateRequest(row));
  ASSIGN_OR_RETURN(int64_t seq, tx->AppendAudit(ev));
  (void)seq;
  RETURN_IF_ERROR(tx->Commit());
  if (!answer.ok()) return answer;
  return ViewOf(*t, row, now);
}

}  // namespace custodian::service
