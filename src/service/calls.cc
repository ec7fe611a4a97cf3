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

namespace {

Status CheckCall(const CallInput& call) {
  if (call.caller.empty()) return Status::InvalidArgument("the caller's number is empty");
  if (call.call_id.size() > 256 || call.callee.size() > 64) {
    return Status::InvalidArgument("the call id (256 bytes) or callee (64 bytes) is too long");
  }
  return Status::Ok();
}

// The flags a support agent needs beside the match: with no match, the
// policy's defaults for the consent-based purposes; else the first subject's
// own choices on them, its open requests, and whether its account is closed.
Status FillCallFlags(store::Store& store, const policy::Policy& policy, std::string_view tenant,
                     const std::vector<SubjectView>& views, CallMatch& match) {
  if (views.empty()) {
    for (const policy::Purpose& p : policy.purposes) {
      if (p.basis == policy::LegalBasis::kConsent) {
        match.consents.emplace_back(p.key, p.default_granted);
      }
    }
    return Status::Ok();
  }
  const SubjectView& first = views.front();
  match.account_closed = first.state == "closed";
  ASSIGN_OR_RETURN(auto tx, store.Begin(false));
  ASSIGN_OR_RETURN(auto statuses, ConsentStatuses(*tx, policy, tenant, first.id));
  for (const ConsentStatus& s : statuses) {
    if (s.basis == "consent") match.consents.emplace_back(s.purpose, s.allowed);
  }
  ASSIGN_OR_RETURN(auto open, tx->ListRequests(tenant, /*open_only=*/true, first.id));
  match.open_requests = static_cast<int64_t>(open.size());
  return Status::Ok();
}

// The call, as the record of kind `call` kept on the matched subject.
RecordInput CallRecordInput(const CallInput& call, int64_t now_ms) {
  nlohmann::ordered_json payload = {{"direction", "inbound"}};
  if (!call.call_id.empty()) payload["call_id"] = call.call_id;
  if (!call.callee.empty()) payload["callee"] = call.callee;
  return {kCallKind, call.at_ms ? call.at_ms : now_ms, payload.dump()};
}

}  // namespace

Result<CallMatch> Vault::MatchCall(const Actor& actor, std::string_view tenant,
                                   const CallInput& call, std::string_view purpose) {
  RETURN_IF_ERROR(CheckCall(call));
  ASSIGN_OR_RETURN(auto policy, TenantPolicy(tenant));
  ASSIGN_OR_RETURN(auto views, Lookup(actor, tenant, {"phone", call.caller}, purpose));
  CallMatch match;
  RETURN_IF_ERROR(FillCallFlags(*impl_->store, *policy, tenant, views, match));
  match.subjects = std::move(views);
  if (match.subjects.empty()) return match;
  if (policy->FindRecordKind(kCallKind) == nullptr) return match;
  ASSIGN_OR_RETURN(match.call_record, AddRecord(actor, tenant, match.subjects.front().id,
                                                CallRecordInput(call, impl_->Now())));
  return match;
}

void Vault::MatchCallThen(const Actor& actor, std::string_view tenant, const CallInput& call,
                          std::string_view purpose,
                          std::function<void(Result<CallMatch>)> done) {
  if (Status st = CheckCall(call); !st.ok()) return done(st);
  auto t = TenantFor(tenant);
  if (!t.ok()) return done(t.status());
  const policy::Policy& policy = (*t)->policy;
  auto pending = PrepareLookup(actor, tenant, {{"phone", call.caller}}, purpose);
  if (!pending.ok()) return done(pending.status());
  if (!pending->refused.ok()) {  // its event written by the committer, then the refusal
    impl_->store->SubmitWrite(std::move(pending->write),
                              [refused = pending->refused, done = std::move(done)](Status st) {
                                done(st.ok() ? refused : st);
                              });
    return;
  }
  auto match = std::make_shared<CallMatch>();
  const std::vector<SubjectView>& views = pending->views->front();
  if (Status st = FillCallFlags(*impl_->store, policy, tenant, views, *match); !st.ok()) {
    return done(st);
  }
  store::Store::WriteJob write = std::move(pending->write);
  const policy::RecordKind* kind = policy.FindRecordKind(kCallKind);
  auto refused = std::make_shared<Status>();  // the call record's refusal, if any
  if (!views.empty() && kind != nullptr) {
    if (Status may = AuthorizeWrite(policy, actor.role, {kind->category}); !may.ok()) {
      // The role may look the caller up but not keep the call: as in
      // MatchCall, the lookup's events, then the call record's refusal
      // (audited as AddRecord audits it), and the refusal is the answer.
      audit::Event ev = impl_->Event(actor, tenant, "record.add");
      ev.categories = {kind->category};
      write = [ev = Impl::RefusalEvent(std::move(ev), may), may, refused,
               views = pending->views, lookup = std::move(write)](store::Transaction& tx) mutable
          -> Status {
        RETURN_IF_ERROR(lookup(tx));
        if (views->front().empty()) return Status::Ok();  // gone since the read
        ev.subject = views->front().front().id;
        RETURN_IF_ERROR(tx.AppendAudit(ev).status());
        *refused = may;
        return Status::Ok();
      };
    } else {
      // One transaction: the lookup's events, then the call record on the
      // subject the lookup returns once it is checked again there.
      write = [this, actor, t = *t, kind, record = CallRecordInput(call, impl_->Now()),
               views = pending->views, match,
               lookup = std::move(write)](store::Transaction& tx) -> Status {
        RETURN_IF_ERROR(lookup(tx));
        if (views->front().empty()) return Status::Ok();  // gone since the read
        ASSIGN_OR_RETURN(match->call_record,
                         WriteRecord(tx, *t, actor, views->front().front().id, record, *kind));
        return Status::Ok();
      };
    }
  }
  impl_->store->SubmitWrite(
      std::move(write),
      [views = pending->views, match, refused, done = std::move(done)](Status st) {
        if (!st.ok()) return done(std::move(st));
        if (!refused->ok()) return done(*refused);
        match->subjects = std::move(views->front());
        done(std::move(*match));
      });
}

}  // namespace custodian::service
