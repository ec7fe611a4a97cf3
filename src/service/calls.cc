// Real-time call matching (Vault::MatchCall): an incoming call's number is
// looked up through the phone blind index for the caller's purpose, and the
// call is kept as a record of kind `call` on the matched subject when the
// policy declares that kind.
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

}  // namespace custodian::service
