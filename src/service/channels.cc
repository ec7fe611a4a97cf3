// Channels (Vault::SetChannelSettings, GetChannelSettings, TenantForNumber),
// signed unsubscribe links (UnsubscribeToken, CheckUnsubscribeToken,
// Unsubscribe) and inbound opt-out keywords (ApplyInboundMessage).
//
// The settings document is sealed with the tenant's channel subkey; it holds
// provider credentials, which never appear in errors, logs or audit events.
#include <sodium.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "crypto/link_token.h"
#include "crypto/sms_keywords.h"
#include "service/authorize.h"
#include "service/vault.h"
#include "service/vault_internal.h"

namespace custodian::service {
namespace {

using nlohmann::json;

constexpr char kSettingsRow[] = "settings";
constexpr char kSettingsAd[] = "custodian.channels.v1";
constexpr std::size_t kMaxSettingsBytes = 64 * 1024;

Status Bad(std::string_view pointer, std::string_view what) {
  return Status::InvalidArgument("channel settings " + std::string(pointer) + ": " +
                                 std::string(what));
}

// Checks that `obj` (at `pointer`) has only `allowed` keys.
Status OnlyKeys(const json& obj, std::string_view pointer,
                std::initializer_list<std::string_view> allowed) {
  if (!obj.is_object()) return Bad(pointer, "must be an object");
  for (const auto& [key, value] : obj.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string expected;
      for (std::string_view a : allowed)
        expected += (expected.empty() ? "" : ", ") + std::string(a);
      return Bad(std::string(pointer) + "/" + key, "unknown field; expected " + expected);
    }
  }
  return Status::Ok();
}

Result<std::string> String(const json& obj, std::string_view pointer, const char* key,
                           bool required) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) return Bad(std::string(pointer) + "/" + key, "is required");
    return std::string();
  }
  if (!it->is_string()) return Bad(std::string(pointer) + "/" + key, "must be a string");
  return it->get<std::string>();
}

bool HasScheme(std::string_view url, std::initializer_list<std::string_view> schemes) {
  return std::any_of(schemes.begin(), schemes.end(), [&](std::string_view s) {
    return url.size() > s.size() && url.substr(0, s.size()) == s;
  });
}

Result<ChannelSettings> ParseSettings(std::string_view text, const policy::Policy& policy) {
  if (text.size() > kMaxSettingsBytes) return Bad("", "the document is over 64 KiB");
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Bad("", "is not valid JSON");
  RETURN_IF_ERROR(OnlyKeys(doc, "", {"telnyx", "smtp", "public_url", "link_ttl_days"}));
  ChannelSettings s;
  ASSIGN_OR_RETURN(s.public_url, String(doc, "", "public_url", false));
  if (!s.public_url.empty() && !HasScheme(s.public_url, {"https://", "http://"})) {
    return Bad("/public_url", "must be an http:// or https:// URL");
  }
  while (!s.public_url.empty() && s.public_url.back() == '/') s.public_url.pop_back();
  if (auto it = doc.find("link_ttl_days"); it != doc.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > 3650) {
      return Bad("/link_ttl_days", "must be a whole number of days from 1 to 3650");
    }
    s.link_ttl_days = it->get<int64_t>();
  }
  if (auto it = doc.find("telnyx"); it != doc.end()) {
    const json& t = *it;
    RETURN_IF_ERROR(
        OnlyKeys(t, "/telnyx",
                 {"public_key", "api_key", "base_url", "from", "numbers", "messaging_profile_id"}));
    TelnyxSettings tx;
    ASSIGN_OR_RETURN(tx.public_key, String(t, "/telnyx", "public_key", true));
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    size_t pk_len = 0;
    if (!IsBase64Text(tx.public_key, Base64Alphabet::kStandard) ||
        sodium_base642bin(pk, sizeof pk, tx.public_key.data(), tx.public_key.size(), nullptr,
                          &pk_len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        pk_len != sizeof pk) {
      return Bad("/telnyx/public_key", "must be a base64 Ed25519 public key (32 bytes)");
    }
    ASSIGN_OR_RETURN(tx.api_key, String(t, "/telnyx", "api_key", false));
    ASSIGN_OR_RETURN(std::string base, String(t, "/telnyx", "base_url", false));
    if (!base.empty()) tx.base_url = base;
    while (!tx.base_url.empty() && tx.base_url.back() == '/') tx.base_url.pop_back();
    if (!HasScheme(tx.base_url, {"https://", "http://"})) {
      return Bad("/telnyx/base_url", "must be an http:// or https:// URL");
    }
    ASSIGN_OR_RETURN(tx.messaging_profile_id, String(t, "/telnyx", "messaging_profile_id", false));
    ASSIGN_OR_RETURN(std::string from, String(t, "/telnyx", "from", false));
    const std::string_view region = PhoneRegion(policy);
    if (!from.empty()) {
      auto e164 = crypto::NormalizePhone(from, region);
      if (!e164.ok()) return Bad("/telnyx/from", e164.status().message());
      tx.from = *e164;
      tx.numbers.push_back(tx.from);
    }
    if (auto n = t.find("numbers"); n != t.end()) {
      if (!n->is_array()) return Bad("/telnyx/numbers", "must be an array of phone numbers");
      for (std::size_t i = 0; i < n->size(); ++i) {
        const std::string pointer = "/telnyx/numbers/" + std::to_string(i);
        if (!(*n)[i].is_string()) return Bad(pointer, "must be a string");
        auto e164 = crypto::NormalizePhone((*n)[i].get<std::string>(), region);
        if (!e164.ok()) return Bad(pointer, e164.status().message());
        if (std::find(tx.numbers.begin(), tx.numbers.end(), *e164) == tx.numbers.end()) {
          tx.numbers.push_back(*e164);
        }
      }
    }
    if (!tx.from.empty() && tx.api_key.empty()) {
      return Bad("/telnyx/api_key", "is required to send from a number");
    }
    s.telnyx = std::move(tx);
  }
  if (auto it = doc.find("smtp"); it != doc.end()) {
    const json& m = *it;
    RETURN_IF_ERROR(OnlyKeys(m, "/smtp", {"url", "from", "username", "password", "require_tls"}));
    SmtpSettings smtp;
    ASSIGN_OR_RETURN(smtp.url, String(m, "/smtp", "url", true));
    if (!HasScheme(smtp.url, {"smtp://", "smtps://"})) {
      return Bad("/smtp/url", "must be an smtp:// or smtps:// URL");
    }
    ASSIGN_OR_RETURN(std::string from, String(m, "/smtp", "from", true));
    auto email = crypto::NormalizeEmail(from);
    if (!email.ok()) return Bad("/smtp/from", email.status().message());
    smtp.from = *email;
    ASSIGN_OR_RETURN(smtp.username, String(m, "/smtp", "username", false));
    ASSIGN_OR_RETURN(smtp.password, String(m, "/smtp", "password", false));
    if (auto tls = m.find("require_tls"); tls != m.end()) {
      if (!tls->is_boolean()) return Bad("/smtp/require_tls", "must be true or false");
      smtp.require_tls = tls->get<bool>();
    }
    s.smtp = std::move(smtp);
  }
  return s;
}

json SettingsJson(const ChannelSettings& s) {
  json j = json::object();
  if (!s.public_url.empty()) j["public_url"] = s.public_url;
  j["link_ttl_days"] = s.link_ttl_days;
  if (s.telnyx) {
    j["telnyx"] = {{"public_key", s.telnyx->public_key},
                   {"api_key", s.telnyx->api_key},
                   {"base_url", s.telnyx->base_url},
                   {"from", s.telnyx->from},
                   {"numbers", s.telnyx->numbers},
                   {"messaging_profile_id", s.telnyx->messaging_profile_id}};
  }
  if (s.smtp) {
    j["smtp"] = {{"url", s.smtp->url},
                 {"from", s.smtp->from},
                 {"username", s.smtp->username},
                 {"password", s.smtp->password},
                 {"require_tls", s.smtp->require_tls}};
  }
  return j;
}

}  // namespace

Result<ChannelSettings> LoadChannelSettings(store::Transaction& tx, const TenantContext& t) {
  ASSIGN_OR_RETURN(auto row, tx.GetChannel(t.id, kSettingsRow));
  if (!row) return ChannelSettings{};
  auto plain = t.channel_seal.Open(row->sealed, kSettingsAd);
  if (!plain.ok()) {
    return Status::DataLoss("the channel settings of tenant " + Quote(t.id) +
                            " failed their integrity check");
  }
  auto parsed = ParseSettings(*plain, t.policy);
  sodium_memzero(plain->data(), plain->size());
  return parsed;
}

namespace {

// Purposes resting on consent whose declared channels include `channel`.
std::vector<const policy::Purpose*> PurposesUsing(const policy::Policy& policy,
                                                  std::string_view channel) {
  std::vector<const policy::Purpose*> out;
  for (const policy::Purpose& p : policy.purposes) {
    if (p.basis == policy::LegalBasis::kConsent &&
        std::find(p.channels.begin(), p.channels.end(), channel) != p.channels.end()) {
      out.push_back(&p);
    }
  }
  return out;
}

std::string HelpText(const policy::Policy& policy) {
  const policy::Organization& o = policy.organization;
  std::string contact;
  for (const auto& c : o.grievance_officer.contacts) {
    contact += (contact.empty() ? "" : " or ") + c.value;
  }
  if (contact.empty()) {
    for (const auto& c : o.contacts) contact += (contact.empty() ? "" : " or ") + c.value;
  }
  std::string who = !o.grievance_officer.name.empty()    ? o.grievance_officer.name
                    : !o.grievance_officer.title.empty() ? o.grievance_officer.title
                                                         : std::string("us");
  return o.name + ": for privacy questions contact " + who +
         (contact.empty() ? "" : " at " + contact) +
         ". Reply STOP to stop offers, START to get them again.";
}

}  // namespace

Status Vault::SetChannelSettings(const Actor& actor, std::string_view tenant,
                                 std::string_view json_text) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  audit::Event ev = impl_->Event(actor, tenant, "channels.set");
  if (Status allowed = AuthorizeAdmin(actor.role, "changing channel settings"); !allowed.ok()) {
    return impl_->AuditRefusal(ev, allowed);
  }
  ASSIGN_OR_RETURN(ChannelSettings settings, ParseSettings(json_text, t->policy));
  // Another tenant may not claim a number this one receives on.
  if (settings.telnyx) {
    for (const std::string& number : settings.telnyx->numbers) {
      auto owner = TenantForNumber(number);
      if (owner.ok() && *owner != t->id) {
        return Status::AlreadyExists(
            "channel settings /telnyx/numbers: a number is already "
            "used by tenant " +
            Quote(*owner));
      }
    }
  }
  std::string canonical = SettingsJson(settings).dump();
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  RETURN_IF_ERROR(tx->PutChannel(
      {t->id, kSettingsRow, t->channel_seal.Seal(canonical, kSettingsAd), impl_->Now()}));
  sodium_memzero(canonical.data(), canonical.size());
  ev.outcome = "ok";
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  return tx->Commit();
}

Result<ChannelSettings> Vault::GetChannelSettings(std::string_view tenant) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(false));
  return LoadChannelSettings(*tx, *t);
}

Result<std::string> Vault::TenantForNumber(std::string_view number) {
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(false));
  ASSIGN_OR_RETURN(std::vector<std::string> tenants, tx->ListTenants());
  for (const std::string& id : tenants) {
    ASSIGN_OR_RETURN(auto t, impl_->Tenant(*tx, id));
    ASSIGN_OR_RETURN(ChannelSettings s, LoadChannelSettings(*tx, *t));
    if (s.telnyx && std::find(s.telnyx->numbers.begin(), s.telnyx->numbers.end(), number) !=
                        s.telnyx->numbers.end()) {
      return id;
    }
  }
  return Status::NotFound("no tenant receives messages at this number");
}

Result<std::string> Vault::UnsubscribeToken(std::string_view tenant, std::string_view subject,
                                            std::string_view purpose) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  const policy::Purpose* p = t->policy.FindPurpose(std::string(purpose));
  if (p == nullptr || p->basis != policy::LegalBasis::kConsent) {
    return Status::InvalidArgument("purpose " + Quote(purpose) +
                                   " does not rest on consent; only consent can be unsubscribed");
  }
  ASSIGN_OR_RETURN(ChannelSettings s, GetChannelSettings(tenant));
  int64_t expires = impl_->Now() / 1000 + s.link_ttl_days * 86400;
  return crypto::SignLinkToken(t->link_key, {t->id, std::string(subject), p->key, expires});
}

Result<UnsubscribeTarget> Vault::CheckUnsubscribeToken(std::string_view token) {
  ASSIGN_OR_RETURN(std::string tenant, crypto::PeekLinkTenant(token));
  auto t = TenantFor(tenant);
  if (!t.ok()) {
    // An unknown tenant reads as a bad signature: the link names nothing real.
    return Status::Unauthenticated(
        "unsubscribe token signature does not match (tampered or signed with another key)");
  }
  ASSIGN_OR_RETURN(crypto::LinkClaims claims,
                   crypto::VerifyLinkToken((*t)->link_key, token, impl_->Now() / 1000));
  const policy::Purpose* p = (*t)->policy.FindPurpose(claims.purpose);
  if (p == nullptr) {
    return Status::NotFound(
        "this link is for a purpose the policy no longer declares; nothing "
        "is sent for it any more");
  }
  UnsubscribeTarget target{(*t)->id, (*t)->policy.organization.name,       claims.subject,
                           p->key,   p->label.empty() ? p->key : p->label, false};
  ASSIGN_OR_RETURN(auto allowed, ConsentAllowed(tenant, p->key, {claims.subject}));
  target.withdrawn = !allowed.front();
  return target;
}

Result<UnsubscribeTarget> Vault::Unsubscribe(std::string_view token) {
  ASSIGN_OR_RETURN(UnsubscribeTarget target, CheckUnsubscribeToken(token));
  if (!target.withdrawn) {
    ConsentChange change{target.purpose, "withdrawn", "email_link", std::nullopt, "", ""};
    auto r = SetConsents({"email_link", kAdminRole}, target.tenant, target.subject, {change});
    if (!r.ok() && r.status().code() != StatusCode::kNotFound) return r.status();
    target.withdrawn = true;
  }
  return target;
}

void Vault::AuditWebhookRefusal(std::string_view tenant, std::string_view provider,
                                const Status& refusal) {
  audit::Event ev =
      impl_->Event({std::string(provider), ""}, tenant, "webhook." + std::string(provider));
  (void)impl_->AuditRefusal(ev, refusal);
}

Result<InboundResult> Vault::ApplyInboundMessage(std::string_view tenant, const InboundMessage& m,
                                                 std::string_view event_id) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  if (m.channel != "sms" && m.channel != "whatsapp") {
    return Status::InvalidArgument("inbound channel must be sms or whatsapp");
  }
  InboundResult result;
  switch (crypto::ClassifySmsKeyword(m.text)) {
    case crypto::SmsKeyword::kStop:
      result.keyword = "stop";
      break;
    case crypto::SmsKeyword::kStart:
      result.keyword = "start";
      break;
    case crypto::SmsKeyword::kHelp:
      result.keyword = "help";
      break;
    case crypto::SmsKeyword::kNone:
      result.keyword = "none";
      break;
  }
  const Actor actor{"telnyx", kAdminRole};
  audit::Event ev = impl_->Event(actor, tenant, "inbound." + result.keyword);
  ev.reason = "channel " + m.channel;
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  if (!event_id.empty()) {
    ASSIGN_OR_RETURN(bool fresh, tx->InsertWebhookEvent(t->id, "telnyx", event_id, impl_->Now()));
    if (!fresh) return Status::FailedPrecondition("duplicate event: already applied");
  }
  std::vector<const policy::Purpose*> purposes;
  if (result.keyword == "stop" || result.keyword == "start") {
    purposes = PurposesUsing(t->policy, m.channel);
    for (const policy::Purpose* p : purposes) result.purposes.push_back(p->key);
  }
  std::vector<std::string> subjects;
  if (!purposes.empty()) {
    // Every indexed phone category, as a lookup by phone probes them; a sender
    // whose number does not parse matches nobody.
    auto probes = IndexProbes(t->policy, {"phone", m.from});
    if (probes.ok()) {
      for (const IndexProbe& probe : *probes) {
        ASSIGN_OR_RETURN(auto found,
                         tx->FindSubjectsByIndex(t->id, probe.category,
                                                 t->index.Digest(probe.category, probe.value)));
        for (std::string& id : found) {
          if (std::find(subjects.begin(), subjects.end(), id) == subjects.end()) {
            subjects.push_back(std::move(id));
          }
        }
      }
    }
  }
  ConsentChange change{"",
                       result.keyword == "stop" ? "withdrawn" : "granted",
                       m.channel,
                       std::nullopt,
                       m.message_id.substr(0, 256),
                       ""};
  int64_t changed = 0;
  for (const std::string& id : subjects) {
    ASSIGN_OR_RETURN(auto row, tx->GetSubject(t->id, id));
    if (!row || row->state == store::SubjectState::kErased) continue;
    ASSIGN_OR_RETURN(Aead aead, impl_->SubjectAead(*t, *row));
    for (const policy::Purpose* p : purposes) {
      change.purpose = p->key;
      ASSIGN_OR_RETURN(auto standing, tx->GetConsent(t->id, id, p->key));
      bool granted =
          standing ? standing->state == store::ConsentState::kGranted : p->default_granted;
      if (granted == (change.state == "granted")) continue;  // already so
      RETURN_IF_ERROR(RecordConsent(*tx, *t, aead, ev, id, *p, change, impl_->Now()));
      ++changed;
    }
  }
  if (result.keyword == "help") result.reply = HelpText(t->policy);
  if (result.keyword == "stop") {
    result.reply = t->policy.organization.name +
                   ": you will get no more offers on this number. Reply START to get them again.";
  }
  if (result.keyword == "start") {
    result.reply = t->policy.organization.name +
                   ": you will get offers on this number again. Reply STOP to stop them.";
  }
  // One event for the message itself, matched or not (the count says how
  // many choices changed; the audit log never holds the number).
  ev.outcome = subjects.empty() && !purposes.empty() ? "miss" : "ok";
  ev.count = changed;
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  RETURN_IF_ERROR(tx->Commit());
  return result;
}

}  // namespace custodian::service
