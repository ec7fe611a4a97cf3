// Operators (people) of a tenant, their sign-in and sessions: Vault::AddOperator,
// Login, AuthenticateSession, CheckCsrf, Logout. docs/access.md describes them.
//
// An operator row holds a keyed digest of the normalized email (for sign-in),
// the email and the TOTP secret sealed with the tenant key's kOperatorSeal
// subkey, an Argon2id password hash and the last TOTP step accepted. A session
// token is "css_<id>_<secret>"; the store keeps keyed digests of its secret and
// of the CSRF token, like API keys.
#include <sodium.h>

#include <algorithm>

#include "crypto/keys.h"
#include "crypto/normalize.h"
#include "crypto/otp.h"
#include "crypto/password.h"
#include "service/access_internal.h"
#include "service/vault_internal.h"

namespace custodian::service {
namespace {

constexpr char kEmailLabel[] = "operator_email";

Status SignInFailed() {
  return Status::Unauthenticated("sign-in failed: wrong email, password or one-time code");
}
Status SignInLocked() {
  return Status::Unauthenticated("too many failed sign-ins; try again later");
}
Status BadSession() { return Status::Unauthenticated("invalid or expired session"); }

std::string OperatorAd(std::string_view tenant, std::string_view op, std::string_view what) {
  return crypto::FieldAssociatedData(tenant, "operator:" + std::string(op), what);
}

Status CheckPassword(std::string_view password) {
  if (password.size() > crypto::kMaxPasswordSize) {
    return Status::InvalidArgument("the password must be at most " +
                                   std::to_string(crypto::kMaxPasswordSize) + " bytes");
  }
  RETURN_IF_ERROR(crypto::ValidateUtf8(password).WithContext("the password"));
  std::size_t chars = 0;
  for (unsigned char c : password) chars += (c & 0xC0) != 0x80;
  if (chars < kMinOperatorPasswordChars) {
    return Status::InvalidArgument("the password must be at least " +
                                   std::to_string(kMinOperatorPasswordChars) + " characters");
  }
  return Status::Ok();
}

// The email as it goes in an otpauth:// label: RFC 3986 unreserved and '@'
// kept, everything else percent-encoded.
std::string UriEncode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.' || c == '_' || c == '~' || c == '@';
    if (keep) {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

// The limiter's key for an account: an unkeyed hash of tenant and email, held
// in memory only, the same whether or not the account exists.
std::string AccountKey(std::string_view tenant, std::string_view email) {
  std::string input = std::string(tenant) + '\0' + std::string(email);
  unsigned char h[16];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size(), nullptr, 0);
  sodium_memzero(input.data(), input.size());
  return "account:" + std::string(reinterpret_cast<const char*>(h), sizeof h);
}

std::string Minutes(int64_t ms) { return std::to_string(ms / 60000) + " min"; }

}  // namespace

Result<OperatorEnrollment> Vault::AddOperator(const Actor& actor, std::string_view tenant,
                                              std::string_view email, std::string_view role,
                                              std::string_view password) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  audit::Event ev = impl_->Event(actor, t->id, "operator.add");
  Status admin = CheckAdmin(actor, "add operators");
  if (!admin.ok()) return impl_->AuditRefusal(ev, admin);
  RETURN_IF_ERROR(CheckCredentialRole(t->policy, t->id, role));
  auto normalized = crypto::NormalizeEmail(email);
  if (!normalized.ok()) {
    return Status::InvalidArgument("the operator's email: " + normalized.status().message());
  }
  RETURN_IF_ERROR(CheckPassword(password));

  store::OperatorRow row;
  row.tenant = t->id;
  row.id = NewId("");
  row.role = std::string(role);
  row.email_digest = t->credentials.Digest(kEmailLabel, *normalized);
  row.email_sealed = t->operator_seal.Seal(*normalized, OperatorAd(t->id, row.id, "email"));
  {
    // Argon2id outside the write transaction.
    AccessState& access = *impl_->access;
    access.argon_slots.acquire();
    auto hash = crypto::HashPassword(password);
    access.argon_slots.release();
    if (!hash.ok()) return hash.status();
    row.password_hash = std::move(hash).value();
  }
  crypto::SecretBytes totp = crypto::SecretBytes::Random(crypto::kTotpSecretSize);
  row.totp_sealed = t->operator_seal.Seal(totp.view(), OperatorAd(t->id, row.id, "totp"));
  row.created_ms = impl_->Now();

  OperatorEnrollment enrollment;
  enrollment.operator_id = row.id;
  enrollment.role = row.role;
  enrollment.totp_secret = crypto::Base32Encode(totp.view());
  enrollment.otpauth_uri = "otpauth://totp/custodian:" + UriEncode(*normalized) +
                           "?secret=" + enrollment.totp_secret +
                           "&issuer=custodian&algorithm=SHA1&digits=6&period=30";

  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  RETURN_IF_ERROR(tx->InsertOperator(row));
  ev.outcome = "ok";
  ev.reason = "operator " + row.id + ", role " + row.role;
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  RETURN_IF_ERROR(tx->Commit());
  return enrollment;
}

Result<LoginResult> Vault::Login(std::string_view tenant, std::string_view email,
                                 std::string_view password, std::string_view totp_code,
                                 std::string_view remote_addr, int64_t* locked_ms) {
  AccessState& access = *impl_->access;
  const LoginLimits& limits = access.limiter.limits();
  const int64_t now = impl_->Now();
  if (locked_ms != nullptr) *locked_ms = 0;

  // An unknown tenant is an unknown account: the same answer, the same work.
  std::shared_ptr<const TenantContext> t;
  if (ValidateTenantId(tenant).ok()) {
    auto found = TenantFor(tenant);
    if (found.ok()) {
      t = std::move(found).value();
    } else if (found.status().code() != StatusCode::kNotFound) {
      return found.status();
    }
  }
  auto normalized = crypto::NormalizeEmail(email);
  const std::string account_key =
      AccountKey(tenant, normalized.ok() ? std::string_view(*normalized) : email);
  const std::string address_key =
      remote_addr.empty() ? std::string() : "address:" + std::string(remote_addr);

  // Writes operator.login (refused) and any lockout it caused, then answers
  // with `answer`. Fails closed: if the events cannot be written, that error.
  auto refuse = [&](const std::string& operator_id, const std::string& role,
                    const std::string& reason, bool count, Status answer) -> Status {
    bool account_locked = count && access.limiter.Fail(account_key, now);
    bool address_locked = count && !address_key.empty() && access.limiter.Fail(address_key, now);
    if (t == nullptr) return answer;  // no tenant to audit in
    Actor who{operator_id.empty() ? "anonymous" : "op:" + operator_id, role};
    ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
    audit::Event ev = impl_->Event(who, t->id, "operator.login");
    ev.outcome = "refused";
    ev.reason = reason;
    RETURN_IF_ERROR(tx->AppendAudit(ev).status());
    std::string rule = std::to_string(limits.max_failures) + " failed sign-ins within " +
                       Minutes(limits.window_ms) + "; locked for " + Minutes(limits.lockout_ms);
    for (auto [locked, what] : {std::pair{account_locked, "account"},
                                std::pair{address_locked, "remote address"}}) {
      if (!locked) continue;
      audit::Event lock = impl_->Event(who, t->id, "operator.lockout");
      lock.outcome = "locked";
      lock.reason = std::string(what) + ": " + rule;
      ASSIGN_OR_RETURN(int64_t s, tx->AppendAudit(lock));
      (void)s;
    }
    RETURN_IF_ERROR(tx->Commit());
    return answer;
  };

  std::optional<store::OperatorRow> op;
  if (t != nullptr && normalized.ok()) {
    ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(false));
    ASSIGN_OR_RETURN(op, tx->FindOperatorByEmail(
                             t->id, t->credentials.Digest(kEmailLabel, *normalized)));
  }
  const std::string op_id = op ? op->id : "";
  const std::string op_role = op ? op->role : "";

  const int64_t locked_until =
      std::max(access.limiter.LockedUntil(account_key, now),
               address_key.empty() ? int64_t{0} : access.limiter.LockedUntil(address_key, now));
  if (locked_until > now) {
    if (locked_ms != nullptr) *locked_ms = locked_until - now;
    return refuse(op_id, op_role, "locked out", false, SignInLocked());
  }

  bool password_ok = false;
  {
    std::call_once(access.dummy_once, [&] {
      auto h = crypto::HashPassword("custodian: no such operator");
      access.dummy_hash = h.ok() ? *h : "";
    });
    access.argon_slots.acquire();
    password_ok = crypto::VerifyPassword(op ? op->password_hash : access.dummy_hash, password);
    access.argon_slots.release();
  }
  if (!op) return refuse("", "", "unknown operator", true, SignInFailed());
  if (!password_ok) return refuse(op_id, op_role, "wrong password", true, SignInFailed());

  uint64_t step = 0;
  {
    auto sealed = t->operator_seal.Open(op->totp_sealed, OperatorAd(t->id, op->id, "totp"));
    if (!sealed.ok()) {
      return Status::DataLoss("the one-time code secret of operator " + Quote(op->id) +
                              " failed its integrity check");
    }
    auto secret = crypto::SecretBytes::Copy(*sealed);
    sodium_memzero(sealed->data(), sealed->size());
    if (!secret.ok()) return secret.status();
    auto matched = crypto::ValidateTotp(*secret, now / 1000, 1, totp_code);
    if (!matched.ok()) return refuse(op_id, op_role, "wrong one-time code", true, SignInFailed());
    step = *matched;
  }
  if (static_cast<int64_t>(step) <= op->last_totp_step) {
    return refuse(op_id, op_role, "replayed one-time code", true, SignInFailed());
  }

  LoginResult result;
  result.tenant = t->id;
  result.actor = Actor{"op:" + op->id, op->role};
  result.session_id = NewId("");
  std::string secret = NewTokenSecret();
  result.session_token = std::string(kSessionPrefix) + result.session_id + "_" + secret;
  result.csrf_token = NewTokenSecret();
  result.expires_ms = now + impl_->options.session_ttl_ms;
  store::SessionRow session;
  session.tenant = t->id;
  session.id = result.session_id;
  session.operator_id = op->id;
  session.token_digest = CredentialDigest(*t, "session", session.id, secret);
  session.csrf_digest = CredentialDigest(*t, "csrf", session.id, result.csrf_token);
  session.created_ms = now;
  session.expires_ms = result.expires_ms;
  sodium_memzero(secret.data(), secret.size());
  {
    ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
    // Re-read under the write lock: two sign-ins racing with the same code
    // must not both pass.
    ASSIGN_OR_RETURN(auto current, tx->GetOperator(t->id, op->id));
    if (!current || static_cast<int64_t>(step) <= current->last_totp_step) {
      tx.reset();
      return refuse(op_id, op_role, "replayed one-time code", true, SignInFailed());
    }
    RETURN_IF_ERROR(tx->SetOperatorTotpStep(t->id, op->id, static_cast<int64_t>(step)));
    RETURN_IF_ERROR(tx->PurgeSessions(t->id, now));
    RETURN_IF_ERROR(tx->InsertSession(session));
    audit::Event ev = impl_->Event(result.actor, t->id, "operator.login");
    ev.outcome = "ok";
    ev.reason = "session " + session.id;
    RETURN_IF_ERROR(tx->AppendAudit(ev).status());
    RETURN_IF_ERROR(tx->Commit());
  }
  access.limiter.Clear(account_key);
  return result;
}

Result<Session> Vault::AuthenticateSession(std::string_view session_token) {
  std::optional<TokenParts> parts = ParseToken(session_token, kSessionPrefix);
  if (!parts) return BadSession();
  const int64_t now = impl_->Now();
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(false));
  ASSIGN_OR_RETURN(auto row, tx->FindSession(parts->id));
  if (!row) return BadSession();
  ASSIGN_OR_RETURN(auto t, impl_->Tenant(*tx, row->tenant));
  std::string digest = CredentialDigest(*t, "session", row->id, parts->secret);
  bool match = crypto::ConstantTimeEquals(digest, row->token_digest);
  if (!match || row->revoked_ms || now >= row->expires_ms) return BadSession();
  ASSIGN_OR_RETURN(auto op, tx->GetOperator(row->tenant, row->operator_id));
  if (!op) return BadSession();
  return Session{row->tenant, Actor{"op:" + op->id, op->role}, row->id, op->id, row->expires_ms,
                 row->csrf_digest};
}

Status Vault::CheckCsrf(const Session& session, std::string_view csrf_header) {
  ASSIGN_OR_RETURN(auto t, TenantFor(session.tenant));
  std::string digest = CredentialDigest(*t, "csrf", session.session_id, csrf_header);
  if (csrf_header.empty() || !crypto::ConstantTimeEquals(digest, session.csrf_digest)) {
    return Status::PermissionDenied("missing or wrong CSRF token");
  }
  return Status::Ok();
}

Status Vault::Logout(std::string_view session_token) {
  ASSIGN_OR_RETURN(Session s, AuthenticateSession(session_token));
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  RETURN_IF_ERROR(tx->RevokeSession(s.tenant, s.session_id, impl_->Now()));
  audit::Event ev = impl_->Event(s.actor, s.tenant, "operator.logout");
  ev.outcome = "ok";
  ev.reason = "session " + s.session_id;
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  return tx->Commit();
}

}  // namespace custodian::service
