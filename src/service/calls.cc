// Real-time call matching (Vault::MatchCall): an incoming call's number is
// looked up through the phone blind index for the caller's purpose, and the
// call is kept as a record of kind `call` on the matched subject when the
// policy declares that kind.
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>

#include "service/authorize.h"
#include "service/vault.h"
#include "service/vault_internal.h"

namespace custodian::service {

inline constexpr char kCallKind[] = "call";

Result<CallMatch> Vault::MatchCall(const Actor& actor, std::string_view tenant,
                                   const CallInput& call, std::string_view purpose) {
  if (call.caller.empty()) return Status::InvalidArgument("the caller's number is empty");
  if (call.call_id.size() > 256 || call.callee.size() > 64) {
    return Status::InvalidArgument("the call id (256 bytes) or callee (64 bytes) is too long");
  }
  ASSIGN_OR_RETURN(auto policy, TenantPolicy(tenant));
  ASSIGN_OR_RETURN(auto views, Lookup(actor, tenant, {"phone", call.caller}, purpose));
  CallMatch match;
  if (views.empty()) {
    for (const policy::Purpose& p : policy->purposes) {
      if (p.basis == policy::LegalBasis::kConsent) {
        match.consents.emplace_back(p.key, p.default_granted);
      }
    }
    return match;
  }
  match.subjects = std::move(views);
  const SubjectView& first = match.subjects.front();
  match.account_closed = first.state == "closed";
  {
    // The matched subject's own choices on the consent-based purposes.
    ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(false));
    ASSIGN_OR_RETURN(auto statuses, ConsentStatuses(*tx, *policy, tenant, first.id));
    for (const ConsentStatus& s : statuses) {
      if (s.basis == "consent") match.consents.emplace_back(s.purpose, s.allowed);
    }
    ASSIGN_OR_RETURN(auto open, tx->ListRequests(tenant, /*open_only=*/true, first.id));
    match.open_requests = static_cast<int64_t>(open.size());
  }
  const policy::RecordKind* kind = policy->FindRecordKind(kCallKind);
  if (kind == nullptr) return match;
  nlohmann::ordered_json payload = {{"direction", "inbound"}};
  if (!call.call_id.empty()) payload["call_id"] = call.call_id;
  if (!call.callee.empty()) payload["callee"] = call.callee;
  ASSIGN_OR_RETURN(std::string record,
                   AddRecord(actor, tenant, first.id,
                             {kCallKind, call.at_ms ? call.at_ms : impl_->Now(), payload.dump()}));
  match.call_record = std::move(record);
  return match;
}

void Vault::MatchCallThen(const Actor& actor, std::string_view tenant, const CallInput& call,
                          std::string_view purpose,
                          std::function<void(Result<CallMatch>)> done) {
  if (call.caller.empty() || call.call_id.size() > 256 || call.callee.size() > 64) {
    return done(MatchCall(actor, tenant, call, purpose));  // its error, at once
  }
  auto t = TenantFor(tenant);
  if (!t.ok()) return done(t.status());
  const policy::Policy& policy = (*t)->policy;
  auto pending = PrepareLookup(actor, tenant, {{"phone", call.caller}}, purpose);
  if (!pending.ok()) return done(pending.status());
  auto match = std::make_shared<CallMatch>();
  const std::vector<SubjectView>& views = pending->views->front();
  store::Store::WriteJob write = std::move(pending->write);
  if (views.empty()) {
    for (const policy::Purpose& p : policy.purposes) {
      if (p.basis == policy::LegalBasis::kConsent) {
        match->consents.emplace_back(p.key, p.default_granted);
      }
    }
  } else {
    const SubjectView& first = views.front();
    match->account_closed = first.state == "closed";
    // The matched subject's own choices on the consent-based purposes.
    auto flags = [&]() -> Status {
      ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(false));
      ASSIGN_OR_RETURN(auto statuses, ConsentStatuses(*tx, policy, tenant, first.id));
      for (const ConsentStatus& s : statuses) {
        if (s.basis == "consent") match->consents.emplace_back(s.purpose, s.allowed);
      }
      ASSIGN_OR_RETURN(auto open, tx->ListRequests(tenant, /*open_only=*/true, first.id));
      match->open_requests = static_cast<int64_t>(open.size());
      return Status::Ok();
    };
    if (Status st = flags(); !st.ok()) return done(st);
    const policy::RecordKind* kind = policy.FindRecordKind(kCallKind);
    if (kind != nullptr) {
      if (!AuthorizeWrite(policy, actor.role, {kind->category}).ok()) {
        return done(MatchCall(actor, tenant, call, purpose));  // audits the refusal
      }
      nlohmann::ordered_json payload = {{"direction", "inbound"}};
      if (!call.call_id.empty()) payload["call_id"] = call.call_id;
      if (!call.callee.empty()) payload["callee"] = call.callee;
      RecordInput record{kCallKind, call.at_ms ? call.at_ms : impl_->Now(), payload.dump()};
      // One transaction: the lookup's events, then the call record on the
      // subject the lookup returns once it is checked again there.
      write = [this, actor, t = *t, kind, record = std::move(record), views = pending->views, match,
               lookup = std::move(write)](store::Transaction& tx) -> Status {
        RETURN_IF_ERROR(lookup(tx));
        if (views->front().empty()) return Status::Ok();  // gone since the read
        ASSIGN_OR_RETURN(std::string id,
                         WriteRecord(tx, *t, actor, views->front().front().id,
                                     record, *kind));
        match->call_record = std::move(id);
        return Status::Ok();
      };
    }
  }
  impl_->store->SubmitWrite(
      std::move(write),
      [views = pending->views, match, done = std::move(done)](Status st) {
        if (!st.ok()) return done(std::move(st));
        match->subjects = std::move(views->front());
        done(std::move(*match));
      });
}

}  // namespace custodian::service
