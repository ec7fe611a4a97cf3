// Cookie choices (Vault::GetCookieBanner, RecordCookieChoice, CookieChoices):
// what a tenant's website banner shows comes from the policy's `cookies:`
// section, and every choice a visitor makes is kept, append-only, with the
// policy version the banner showed.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "service/authorize.h"
#include "service/vault.h"
#include "service/vault_internal.h"

namespace custodian::service {
namespace {

using nlohmann::ordered_json;

bool ValidVisitor(std::string_view v) {
  return v.size() >= 16 && v.size() <= 64 && std::all_of(v.begin(), v.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
         });
}

std::vector<std::pair<std::string, bool>> ParseChoices(const std::string& json_text) {
  std::vector<std::pair<std::string, bool>> out;
  auto j = ordered_json::parse(json_text, nullptr, false);
  if (!j.is_object()) return out;
  for (const auto& [k, v] : j.items()) out.emplace_back(k, v.is_boolean() && v.get<bool>());
  return out;
}

}  // namespace

Status CheckCookieChoice(const policy::Policy& policy, const CookieChoice& choice,
                         std::string* field) {
  auto bad = [&](const char* f, Status s) {
    if (field) *field = f;
    return s;
  };
  if (!ValidVisitor(choice.visitor)) {
    return bad("visitor", Status::InvalidArgument(
                              "the visitor id must be 16 to 64 letters, digits, '-' or '_' (a "
                              "random id the banner makes)"));
  }
  if (choice.policy_version != policy.version) {
    return bad("policy_version",
               Status::FailedPrecondition("the banner showed policy version " +
                                          Quote(choice.policy_version) + "; the current one is " +
                                          Quote(policy.version) + ": reload the banner"));
  }
  for (const auto& [id, accepted] : choice.choices) {
    bool known = std::any_of(policy.cookies.begin(), policy.cookies.end(),
                             [&](const policy::CookieCategory& c) { return c.id == id; });
    if (!known) {
      return bad("choices", Status::InvalidArgument("cookie category " + Quote(id) +
                                                    " is not declared in the policy"));
    }
  }
  return Status::Ok();
}

Result<CookieBanner> Vault::GetCookieBanner(std::string_view tenant) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  CookieBanner b;
  b.tenant = t->id;
  b.organization = t->policy.organization.name;
  b.policy_version = t->policy.version;
  for (const policy::CookieCategory& c : t->policy.cookies) {
    b.categories.push_back(
        {c.id, c.label.empty() ? c.id : c.label, c.description, !c.consent_required});
  }
  return b;
}

Result<CookieChoiceRecord> Vault::RecordCookieChoice(std::string_view tenant,
                                                     const CookieChoice& choice) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  RETURN_IF_ERROR(CheckCookieChoice(t->policy, choice));
  CookieChoiceRecord record;
  record.visitor = choice.visitor;
  record.policy_version = t->policy.version;
  record.at_ms = impl_->Now();
  ordered_json stored = ordered_json::object();
  int64_t accepted_count = 0;
  for (const policy::CookieCategory& c : t->policy.cookies) {
    bool on = !c.consent_required;
    for (const auto& [id, accepted] : choice.choices) {
      if (id == c.id && accepted) on = true;
    }
    record.choices.emplace_back(c.id, on);
    stored[c.id] = on;
    if (on && c.consent_required) ++accepted_count;
  }
  audit::Event ev = impl_->Event({"website", ""}, tenant, "cookie.choice");
  ev.outcome = "ok";
  ev.count = accepted_count;
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  ASSIGN_OR_RETURN(int64_t seq, tx->InsertCookieChoice({t->id, choice.visitor, 0, stored.dump(),
                                                        t->policy.version, record.at_ms}));
  (void)seq;
  ASSIGN_OR_RETURN(int64_t audit_seq, tx->AppendAudit(ev));
  (void)audit_seq;
  RETURN_IF_ERROR(tx->Commit());
  return record;
}

Result<std::vector<CookieChoiceRecord>> Vault::CookieChoices(const Actor& actor,
                                                             std::string_view tenant,
                                                             std::string_view visitor) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  audit::Event ev = impl_->Event(actor, tenant, "cookie.read");
  if (Status allowed = AuthorizeOperator(t->policy, actor.role, "reading cookie choices");
      !allowed.ok()) {
    return impl_->AuditRefusal(ev, allowed);
  }
  // A write transaction: the read and its audit event commit together. The
  // event counts the choices shown; it never names the visitor (as cookie.choice).
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  ASSIGN_OR_RETURN(auto rows, tx->ListCookieChoices(tenant, visitor));
  std::vector<CookieChoiceRecord> out;
  for (const store::CookieChoiceRow& r : rows) {
    out.push_back({r.visitor, ParseChoices(r.choices), r.policy_version, r.at_ms});
  }
  ev.outcome = "ok";
  ev.count = static_cast<int64_t>(out.size());
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  RETURN_IF_ERROR(tx->Commit());
  return out;
}

}  // namespace custodian::service
