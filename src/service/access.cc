// Tenant API keys (Vault::CreateApiKey, ListApiKeys, RevokeApiKey,
// AuthenticateApiKey) and what the credential code shares: token format,
// digests, role checks, the sign-in limiter. docs/access.md describes the
// format and what is stored.
//
// A key is "cst_<id>_<secret>": the id (20 characters of NewId's alphabet) is
// public and names the row; the secret (32 random bytes, lower-case base32) is
// returned once and stored only as BLAKE2b keyed with the tenant key's
// kCredentialHash subkey, over ("api_key", id, secret). A digest moved to
// another row or tenant does not match.
#include <sodium.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "crypto/otp.h"
#include "service/access_internal.h"
#include "service/vault_internal.h"

namespace custodian::service {

void AccessStateDeleter::operator()(AccessState* state) const { delete state; }
AccessState* NewAccessState(const VaultOptions& options) { return new AccessState(options); }

namespace internal {
namespace {

constexpr std::string_view kIdAlphabet = "abcdefghijkmnpqrstuvwxyz23456789";
constexpr std::string_view kBase32Lower = "abcdefghijklmnopqrstuvwxyz234567";
constexpr std::size_t kTokenSecretChars = (kTokenSecretBytes * 8 + 4) / 5;
constexpr int64_t kTouchEveryMs = 60 * 1000;
constexpr std::size_t kMaxKeyName = 64;

bool AllOf(std::string_view s, std::string_view alphabet) {
  return std::all_of(s.begin(), s.end(),
                     [&](char c) { return alphabet.find(c) != std::string_view::npos; });
}

Status BadApiKey() { return Status::Unauthenticated("invalid or revoked API key"); }

Status ValidateKeyName(std::string_view name) {
  bool ok = name.size() <= kMaxKeyName && std::all_of(name.begin(), name.end(), [](char c) {
              return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '.' || c == '_' || c == '-';
            });
  if (!ok) {
    return Status::InvalidArgument(
        "the key name must be at most 64 letters, digits, '.', '_' or '-'");
  }
  return Status::Ok();
}

Status ValidateKeyLimit(const ApiKeyLimit& limit) {
  if (limit.per_second && !(std::isfinite(*limit.per_second) && *limit.per_second > 0)) {
    return Status::InvalidArgument(
        "a key's rate must be a number of requests a second above 0");
  }
  if (limit.burst && !limit.per_second) {
    return Status::InvalidArgument("a key's burst needs its rate: give both, or neither");
  }
  if (limit.burst && !(std::isfinite(*limit.burst) && *limit.burst >= 1)) {
    return Status::InvalidArgument("a key's burst must be a number of requests, 1 or more");
  }
  return Status::Ok();
}

ApiKeyLimit LimitOf(const store::ApiKeyRow& row) {
  return ApiKeyLimit{row.rate_per_second, row.rate_burst};
}

}  // namespace

bool IsTokenId(std::string_view id) { return id.size() == kTokenIdChars && AllOf(id, kIdAlphabet); }

std::optional<TokenParts> ParseToken(std::string_view token, std::string_view prefix) {
  if (token.size() != prefix.size() + kTokenIdChars + 1 + kTokenSecretChars) return std::nullopt;
  if (token.substr(0, prefix.size()) != prefix) return std::nullopt;
  std::string_view id = token.substr(prefix.size(), kTokenIdChars);
  if (token[prefix.size() + kTokenIdChars] != '_') return std::nullopt;
  std::string_view secret = token.substr(prefix.size() + kTokenIdChars + 1);
  if (!IsTokenId(id) || !AllOf(secret, kBase32Lower)) return std::nullopt;
  return TokenParts{id, secret};
}

std::string NewTokenSecret() {
  unsigned char raw[kTokenSecretBytes];
  randombytes_buf(raw, sizeof raw);
  std::string secret =
      crypto::Base32Encode(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
  sodium_memzero(raw, sizeof raw);
  for (char& c : secret) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return secret;
}

std::string CredentialDigest(const TenantContext& t, std::string_view label, std::string_view id,
                             std::string_view secret) {
  return t.credentials.Digest(std::string(label) + ":" + std::string(id), secret);
}

Status CheckCredentialRole(const policy::Policy& policy, std::string_view tenant,
                           std::string_view role) {
  std::set<std::string> allowed = {"admin", "auditor"};
  for (const auto& p : policy.purposes) allowed.insert(p.roles.begin(), p.roles.end());
  if (allowed.count(std::string(role))) return Status::Ok();
  std::string list;
  for (const auto& r : allowed) list += (list.empty() ? "" : ", ") + r;
  return Status::InvalidArgument("role " + Quote(role) + " is not used by the policy of tenant " +
                                 Quote(tenant) + "; allowed roles: " + list);
}

Status CheckAdmin(const Actor& actor, std::string_view what) {
  if (actor.role == "admin") return Status::Ok();
  return Status::PermissionDenied("only the admin role may " + std::string(what) + " (role " +
                                  Quote(actor.role) + ")");
}

int64_t LoginLimiter::LockedUntil(const std::string& key, int64_t now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  return it != entries_.end() && it->second.locked_until > now ? it->second.locked_until : 0;
}

bool LoginLimiter::Fail(const std::string& key, int64_t now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.size() > kPruneAbove) PruneLocked(now);
  Entry& e = entries_[key];
  if (e.locked_until > now) return false;
  while (!e.failures.empty() && e.failures.front() <= now - limits_.window_ms) {
    e.failures.pop_front();
  }
  e.failures.push_back(now);
  if (static_cast<int>(e.failures.size()) < limits_.max_failures) return false;
  e.failures.clear();
  e.locked_until = now + limits_.lockout_ms;
  return true;
}

void LoginLimiter::Clear(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase(key);
}

void LoginLimiter::PruneLocked(int64_t now) {
  std::erase_if(entries_, [&](const auto& kv) {
    const Entry& e = kv.second;
    return e.locked_until <= now &&
           (e.failures.empty() || e.failures.back() <= now - limits_.window_ms);
  });
}

}  // namespace internal

Result<CreatedApiKey> Vault::CreateApiKey(const Actor& actor, std::string_view tenant,
                                          std::string_view role, std::string_view name,
                                          const ApiKeyLimit& limit) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  audit::Event ev = impl_->Event(actor, t->id, "apikey.create");
  Status admin = CheckAdmin(actor, "create API keys");
  if (!admin.ok()) return impl_->AuditRefusal(ev, admin);
  RETURN_IF_ERROR(CheckCredentialRole(t->policy, t->id, role));
  RETURN_IF_ERROR(ValidateKeyName(name));
  RETURN_IF_ERROR(ValidateKeyLimit(limit));

  store::ApiKeyRow row;
  row.tenant = t->id;
  row.id = NewId("");
  row.name = std::string(name);
  row.role = std::string(role);
  row.rate_per_second = limit.per_second;
  row.rate_burst = limit.burst;
  std::string secret = NewTokenSecret();
  row.digest = CredentialDigest(*t, "api_key", row.id, secret);
  row.created_ms = impl_->Now();
  CreatedApiKey created{row.id, std::string(kApiKeyPrefix) + row.id + "_" + secret, row.role,
                        row.name};
  sodium_memzero(secret.data(), secret.size());

  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  RETURN_IF_ERROR(tx->InsertApiKey(row));
  ev.outcome = "ok";
  ev.reason = "key " + row.id + ", role " + row.role;
  if (limit.per_second) ev.reason += ", own rate limit";
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  RETURN_IF_ERROR(tx->Commit());
  return created;
}

Result<std::vector<ApiKeyInfo>> Vault::ListApiKeys(std::string_view tenant) {
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(false));
  ASSIGN_OR_RETURN(auto t, impl_->Tenant(*tx, tenant));
  ASSIGN_OR_RETURN(std::vector<store::ApiKeyRow> rows, tx->ListApiKeys(t->id));
  std::vector<ApiKeyInfo> out;
  out.reserve(rows.size());
  for (auto& r : rows) {
    ApiKeyLimit own = LimitOf(r);
    out.push_back({std::move(r.id), std::move(r.name), std::move(r.role), r.created_ms,
                   r.revoked_ms, r.last_used_ms, own});
  }
  return out;
}

Status Vault::RevokeApiKey(const Actor& actor, std::string_view tenant, std::string_view key_id) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  audit::Event ev = impl_->Event(actor, t->id, "apikey.revoke");
  Status admin = CheckAdmin(actor, "revoke API keys");
  if (!admin.ok()) return impl_->AuditRefusal(ev, admin);
  {
    ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
    ASSIGN_OR_RETURN(auto row, tx->FindApiKey(key_id));
    if (!row || row->tenant != t->id) {
      return Status::NotFound("api key " + Quote(key_id) + " does not exist in tenant " +
                              Quote(t->id));
    }
    if (row->revoked_ms) {
      return Status::FailedPrecondition("api key " + Quote(key_id) + " is already revoked");
    }
    RETURN_IF_ERROR(tx->RevokeApiKey(t->id, key_id, impl_->Now()));
    ev.outcome = "ok";
    ev.reason = "key " + std::string(key_id);
    RETURN_IF_ERROR(tx->AppendAudit(ev).status());
    RETURN_IF_ERROR(tx->Commit());
  }
  std::unique_lock<std::shared_mutex> lock(impl_->access->keys_mu);
  impl_->access->keys.erase(std::string(key_id));
  return Status::Ok();
}

Result<ApiKeyIdentity> Vault::AuthenticateApiKey(std::string_view bearer_token) {
  std::optional<TokenParts> parts = ParseToken(bearer_token, kApiKeyPrefix);
  if (!parts) return BadApiKey();
  const std::string id(parts->id);
  const int64_t now = impl_->Now();
  AccessState& access = *impl_->access;

  std::optional<CachedApiKey> entry;
  {
    std::shared_lock<std::shared_mutex> lock(access.keys_mu);
    auto it = access.keys.find(id);
    if (it != access.keys.end() && now - it->second.loaded_ms < impl_->options.api_key_cache_ttl_ms &&
        now >= it->second.loaded_ms) {
      entry = it->second;
    }
  }
  if (!entry) {
    bool touch = false;
    {
      ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(false));
      ASSIGN_OR_RETURN(auto row, tx->FindApiKey(id));
      if (!row) return BadApiKey();
      ASSIGN_OR_RETURN(auto t, impl_->Tenant(*tx, row->tenant));
      entry = CachedApiKey{std::move(t), row->digest,   row->role,
                           row->revoked_ms.has_value(), now, LimitOf(*row)};
      touch = !row->revoked_ms && (!row->last_used_ms || now - *row->last_used_ms >= kTouchEveryMs);
    }
    {
      std::unique_lock<std::shared_mutex> lock(access.keys_mu);
      access.keys[id] = *entry;
    }
    if (touch) {
      // Bookkeeping only: a failure here must not refuse a valid key, and
      // the caller (an HTTP I/O thread) does not wait for its commit: under
      // group commit the store's committer writes it with the next batch.
      impl_->store->SubmitWrite(
          [tenant_id = entry->tenant->id, id, now](store::Transaction& tx) {
            return tx.TouchApiKey(tenant_id, id, now);
          },
          [](Status) {});
    }
  }
  std::string digest = CredentialDigest(*entry->tenant, "api_key", id, parts->secret);
  bool match = crypto::ConstantTimeEquals(digest, entry->digest);
  if (!match || entry->revoked) return BadApiKey();
  return ApiKeyIdentity{entry->tenant->id, Actor{"key:" + id, entry->role}, id, entry->limit};
}

}  // namespace custodian::service
