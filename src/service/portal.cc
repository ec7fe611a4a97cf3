// The privacy portal (docs/portal.md): a person signs in with a code sent to
// a contact the company already has on file, then sees their consents and
// requests and makes requests about themselves.
//
// The sign-in never tells who is a customer: a contact that matches no one
// (or more than one person) gets the same answer as one that matches, a
// challenge id, only no code is sent and every code is wrong. A challenge row
// is written either way, so the per-contact limit counts both alike. A
// session token is "cps_<id>_<secret>"; the store keeps keyed digests of its
// secret, of the CSRF token and of the code, as for operators' sessions.
#include <sodium.h>

#include <algorithm>
#include <cstdio>

#include "common/time.h"
#include "crypto/secret.h"
#include "service/access_internal.h"
#include "service/authorize.h"
#include "service/requests_internal.h"
#include "service/vault_internal.h"

namespace custodian::service {
namespace {

constexpr std::string_view kPortalPrefix = "cps_";
constexpr int64_t kMaxCodeAttempts = 5;
constexpr int64_t kHourMs = 60 * 60 * 1000;
constexpr char kVerifiedByPortal[] =
    "verified by a code sent to a contact on file (privacy portal sign-in)";

// Who acts in the portal: the person, as when they type a request's code.
const Actor& Person() {
  static const Actor person{"subject", ""};
  return person;
}

Status BadSession() { return Status::Unauthenticated("invalid or expired session"); }

Status WrongCode(int64_t attempts) {
  if (attempts >= kMaxCodeAttempts) {
    return Status::Unauthenticated("too many wrong codes; ask for a new code");
  }
  return Status::Unauthenticated("wrong or expired code (" +
                                 std::to_string(kMaxCodeAttempts - attempts) +
                                 " attempts left)");
}

}  // namespace

Result<PortalChallenge> Vault::StartPortalSignIn(std::string_view tenant,
                                                 const LookupQuery& contact,
                                                 int64_t* retry_after_ms) {
  if (retry_after_ms != nullptr) *retry_after_ms = 0;
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  if (contact.kind != "phone" && contact.kind != "email") {
    return Status::InvalidArgument("sign in with a phone number or an email address");
  }
  auto indexed = [&](std::string_view kind) {
    return std::any_of(t->policy.categories.begin(), t->policy.categories.end(),
                       [&](const policy::Category& c) {
                         return c.index_exact && policy::NormalizerName(c.normalize) == kind;
                       });
  };
  if (!indexed(contact.kind)) {
    const bool phone = contact.kind == "phone";
    return Status::FailedPrecondition(
        "the privacy portal of " + t->policy.organization.name + " cannot find people by " +
        (phone ? "phone number" : "email address") +
        (indexed(phone ? "email" : "phone")
             ? std::string("; sign in with your ") + (phone ? "email address" : "phone number")
             : std::string()));
  }
  // The value, checked and normalized for every category indexed by it.
  auto checked = IndexProbes(t->policy, contact);
  if (!checked.ok()) {
    std::string why = checked.status().message();
    const std::string prefix = "lookup by " + contact.kind + ": ";
    if (why.rfind(prefix, 0) == 0) why.erase(0, prefix.size());
    return Status::InvalidArgument(why);
  }
  std::vector<IndexProbe> probes = std::move(checked).value();
  const std::string& to = probes.front().value;  // normalized alike for every category
  const std::string channel = contact.kind == "email" ? "email" : "sms";
  const int64_t now = impl_->Now();
  audit::Event ev = impl_->Event(Person(), t->id, "portal.code");

  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  store::PortalSessionRow row;
  row.tenant = t->id;
  row.id = NewId("");
  row.channel = channel;
  row.contact_digest = t->credentials.Digest("portal_contact", contact.kind + ":" + to);
  row.created_ms = now;
  row.expires_ms = now + kPortalCodeMs;
  ASSIGN_OR_RETURN(int64_t recent, tx->CountPortalStarts(t->id, row.contact_digest, now - kHourMs));
  if (recent >= kPortalCodesPerHour) {
    if (retry_after_ms != nullptr) *retry_after_ms = kHourMs;
    ev.outcome = "refused";
    ev.reason = "too many codes asked for one contact";
    RETURN_IF_ERROR(tx->AppendAudit(ev).status());
    RETURN_IF_ERROR(tx->Commit());
    return Status::FailedPrecondition("this contact has asked for " +
                                      std::to_string(kPortalCodesPerHour) +
                                      " codes in the last hour; wait an hour before asking again");
  }
  std::vector<std::string> found;
  for (const IndexProbe& p : probes) {
    ASSIGN_OR_RETURN(auto rows, tx->FindSubjectRowsByIndex(t->id, p.category,
                                                           t->index.Digest(p.category, p.value)));
    for (const store::SubjectRow& r : rows) {
      if (r.state == store::SubjectState::kErased) continue;
      if (std::find(found.begin(), found.end(), r.id) == found.end()) found.push_back(r.id);
    }
  }
  std::string text;
  if (found.size() == 1) {
    row.subject = found.front();
    char code[7];
    std::snprintf(code, sizeof code, "%06u",
                  static_cast<unsigned>(randombytes_uniform(1000000)));
    row.code_digest = CredentialDigest(*t, "portal_code", row.id, code);
    text = t->policy.organization.name + ": your privacy portal code is " + code +
           ". It expires in 10 minutes. If you did not ask for it, ignore this message.";
    sodium_memzero(code, sizeof code);
    ev.subject = row.subject;
    ev.outcome = "ok";
    ev.reason = "code sent by " + channel;
  } else {
    ev.outcome = "refused";
    ev.reason = found.empty() ? "no subject on file with this contact"
                              : "more than one subject on file with this contact";
  }
  RETURN_IF_ERROR(tx->InsertPortalSession(row));
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  if (!row.subject.empty()) {
    audit::Event base = impl_->Event(Person(), t->id, "message.enqueue");
    base.subject = row.subject;
    auto queued = QueueDirectMessage(*tx, *t, base, channel, to,
                                     t->policy.organization.name + " privacy portal code", text,
                                     now);
    sodium_memzero(text.data(), text.size());
    RETURN_IF_ERROR(queued.status());
  }
  RETURN_IF_ERROR(tx->Commit());
  return PortalChallenge{row.id, channel, row.expires_ms};
}

Result<PortalSignIn> Vault::OpenPortalSession(std::string_view tenant, std::string_view challenge,
                                              std::string_view code) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  const Status expired = Status::Unauthenticated("wrong or expired code; ask for a new code");
  if (!IsTokenId(challenge)) return expired;
  const int64_t now = impl_->Now();
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  ASSIGN_OR_RETURN(auto found, tx->FindPortalSession(challenge));
  // Another tenant's challenge, or one already used, is as good as none.
  if (!found || found->tenant != t->id || !found->token_digest.empty()) return expired;
  store::PortalSessionRow row = std::move(*found);
  audit::Event ev = impl_->Event(Person(), t->id, "portal.sign_in");
  ev.subject = row.subject;
  const std::string digest = CredentialDigest(*t, "portal_code", row.id, code);
  const bool right = code.size() == 6 && !row.code_digest.empty() &&
                     crypto::ConstantTimeEquals(digest, row.code_digest) &&
                     row.attempts < kMaxCodeAttempts && now < row.expires_ms;
  if (!right) {
    if (row.attempts < kMaxCodeAttempts) ++row.attempts;
    if (row.attempts >= kMaxCodeAttempts) row.code_digest.clear();
    RETURN_IF_ERROR(tx->UpdatePortalSession(row));
    ev.outcome = "refused";
    ev.reason = row.attempts >= kMaxCodeAttempts ? "5 wrong codes" : "wrong or expired code";
    RETURN_IF_ERROR(tx->AppendAudit(ev).status());
    RETURN_IF_ERROR(tx->Commit());
    return WrongCode(row.attempts);
  }
  PortalSignIn in;
  std::string secret = NewTokenSecret();
  in.token = std::string(kPortalPrefix) + row.id + "_" + secret;
  in.csrf_token = NewTokenSecret();
  in.expires_ms = now + kPortalSessionMs;
  row.code_digest.clear();
  row.token_digest = CredentialDigest(*t, "portal_session", row.id, secret);
  row.csrf_digest = CredentialDigest(*t, "portal_csrf", row.id, in.csrf_token);
  row.expires_ms = in.expires_ms;
  sodium_memzero(secret.data(), secret.size());
  RETURN_IF_ERROR(tx->UpdatePortalSession(row));
  ev.outcome = "ok";
  ev.reason = "session " + row.id;
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  RETURN_IF_ERROR(tx->Commit());
  return in;
}

Result<PortalSession> Vault::AuthenticatePortal(std::string_view tenant, std::string_view token) {
  std::optional<TokenParts> parts = ParseToken(token, kPortalPrefix);
  if (!parts) return BadSession();
  auto t = TenantFor(tenant);
  if (!t.ok()) return BadSession();
  const int64_t now = impl_->Now();
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(false));
  ASSIGN_OR_RETURN(auto row, tx->FindPortalSession(parts->id));
  if (!row || row->tenant != (*t)->id || row->token_digest.empty()) return BadSession();
  const std::string digest = CredentialDigest(**t, "portal_session", row->id, parts->secret);
  if (!crypto::ConstantTimeEquals(digest, row->token_digest) || row->revoked_ms ||
      now >= row->expires_ms) {
    return BadSession();
  }
  ASSIGN_OR_RETURN(auto subject, tx->GetSubject(row->tenant, row->subject));
  if (!subject || subject->state == store::SubjectState::kErased) return BadSession();
  return PortalSession{row->tenant, row->subject, row->id, row->expires_ms, row->csrf_digest};
}

Status Vault::CheckPortalCsrf(const PortalSession& session, std::string_view csrf) {
  ASSIGN_OR_RETURN(auto t, TenantFor(session.tenant));
  const std::string digest = CredentialDigest(*t, "portal_csrf", session.session_id, csrf);
  if (csrf.empty() || !crypto::ConstantTimeEquals(digest, session.csrf_digest)) {
    return Status::PermissionDenied("missing or wrong CSRF token");
  }
  return Status::Ok();
}

Status Vault::ClosePortalSession(const PortalSession& session) {
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  ASSIGN_OR_RETURN(auto row, tx->FindPortalSession(session.session_id));
  if (!row || row->tenant != session.tenant) return BadSession();
  row->revoked_ms = impl_->Now();
  RETURN_IF_ERROR(tx->UpdatePortalSession(*row));
  audit::Event ev = impl_->Event(Person(), session.tenant, "portal.sign_out");
  ev.subject = session.subject;
  ev.outcome = "ok";
  ev.reason = "session " + session.session_id;
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  return tx->Commit();
}

Result<PortalOverview> Vault::ReadPortal(const PortalSession& session) {
  ASSIGN_OR_RETURN(auto t, TenantFor(session.tenant));
  PortalOverview out;
  out.subject = session.subject;
  out.organization = t->policy.organization.name;
  for (const char* type : kRequestTypes) {
    if (t->policy.FindRight(type) != nullptr) out.rights.emplace_back(type);
  }
  // A write transaction: the read and its audit event commit together.
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  RETURN_IF_ERROR(LiveSubject(*tx, t->id, session.subject).status());
  ASSIGN_OR_RETURN(out.consents, ConsentStatuses(*tx, t->policy, t->id, session.subject));
  ASSIGN_OR_RETURN(auto rows, tx->ListRequests(t->id, /*open_only=*/false, session.subject));
  const int64_t now = impl_->Now();
  for (const store::RequestRow& r : rows) out.requests.push_back(RequestViewOf(*t, r, now));
  audit::Event ev = impl_->Event(Person(), t->id, "portal.read");
  ev.subject = session.subject;
  ev.outcome = "ok";
  ev.reason = "consents and requests";
  ev.count = static_cast<int64_t>(out.requests.size());
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  RETURN_IF_ERROR(tx->Commit());
  return out;
}

Result<ConsentStatus> Vault::SetPortalConsent(const PortalSession& session,
                                              std::string_view purpose, std::string_view state) {
  ASSIGN_OR_RETURN(auto t, TenantFor(session.tenant));
  const policy::Purpose* p = t->policy.FindPurpose(std::string(purpose));
  if (p == nullptr) {
    return Status::InvalidArgument("purpose " + Quote(purpose) + " is not declared in the policy");
  }
  if (p->basis != policy::LegalBasis::kConsent) {
    return Status::FailedPrecondition(
        "purpose " + Quote(purpose) + " does not rest on consent" +
        (p->basis == policy::LegalBasis::kLegitimateInterest
             ? std::string("; to stop it, make an objection request")
             : std::string("; there is no choice to make")));
  }
  if (state != "granted" && state != "withdrawn") {
    return Status::InvalidArgument("the state of a consent is granted or withdrawn, not " +
                                   Quote(state));
  }
  ConsentChange change;
  change.purpose = std::string(purpose);
  change.state = std::string(state);
  change.source = "portal";
  change.request_id = "portal session " + session.session_id;
  audit::Event base = impl_->Event(Person(), t->id, "consent.record");
  base.subject = session.subject;
  ASSIGN_OR_RETURN(auto recorded, RecordConsents(*t, std::move(base), session.subject, {change}));
  return recorded.front();
}

Result<RequestView> Vault::SubmitPortalRequest(const PortalSession& session, RequestInput in) {
  ASSIGN_OR_RETURN(auto t, TenantFor(session.tenant));
  if (!in.subject.empty()) {
    return Status::InvalidArgument(
        "a portal request is about the person signed in; leave out `subject`");
  }
  in.subject = session.subject;
  const bool known = std::any_of(std::begin(kRequestTypes), std::end(kRequestTypes),
                                 [&](const char* type) { return in.type == type; });
  if (known && t->policy.FindRight(in.type) == nullptr) {
    std::string offered;
    for (const char* type : kRequestTypes) {
      if (t->policy.FindRight(type) == nullptr) continue;
      offered += (offered.empty() ? "" : ", ") + std::string(type);
    }
    return Status::FailedPrecondition(
        "the privacy policy of " + t->policy.organization.name + " offers no " + Quote(in.type) +
        " requests here (it offers: " + (offered.empty() ? "none" : offered) + ")");
  }
  audit::Event ev = impl_->Event(Person(), t->id, "request.submit");
  ev.subject = in.subject;
  return RecordRequest(*t, Person(), std::move(ev), in, kVerifiedByPortal);
}

}  // namespace custodian::service
