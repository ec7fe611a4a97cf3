// Internals shared by the credential code (access.cc: API keys; operators.cc:
// operators, sign-in, sessions). Not part of the API.
//
// Thread-safety: AccessState is shared by every thread using the Vault; its
// members guard themselves.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <semaphore>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "service/vault.h"
#include "service/vault_internal.h"

namespace custodian::service {
namespace internal {

inline constexpr std::string_view kApiKeyPrefix = "cst_";
inline constexpr std::string_view kSessionPrefix = "css_";
inline constexpr std::size_t kTokenIdChars = 20;      // NewId("") length
inline constexpr std::size_t kTokenSecretBytes = 32;  // 52 base32 characters

// "<prefix><id>_<secret>" split into its parts; nullopt unless the id is 20
// characters of NewId's alphabet and the secret 52 of lower-case base32.
struct TokenParts {
  std::string_view id;
  std::string_view secret;
};
std::optional<TokenParts> ParseToken(std::string_view token, std::string_view prefix);
// Whether `id` is a token id: kTokenIdChars characters of NewId's alphabet.
bool IsTokenId(std::string_view id);

// A fresh random secret: kTokenSecretBytes as lower-case base32.
std::string NewTokenSecret();

// Keyed digest of a token secret; `label` says what it is ("api_key", "session",
// "csrf") and the id binds it to its row.
std::string CredentialDigest(const TenantContext& t, std::string_view label, std::string_view id,
                             std::string_view secret);

// Credentials may be given the roles the tenant's purposes use, and admin and
// auditor. InvalidArgument naming the allowed roles otherwise.
Status CheckCredentialRole(const policy::Policy& policy, std::string_view tenant,
                           std::string_view role);
// Managing credentials is for admins.
Status CheckAdmin(const Actor& actor, std::string_view what);

struct CachedApiKey {
  std::shared_ptr<const TenantContext> tenant;
  std::string digest;
  std::string role;
  bool revoked = false;
  int64_t loaded_ms = 0;
  ApiKeyLimit limit;
};

// Counts failed sign-ins per key (an account or a remote address) in a sliding
// window, and locks a key that reaches the limit. In memory only: a restart
// forgets, and each process counts on its own.
class LoginLimiter {
 public:
  explicit LoginLimiter(LoginLimits limits) : limits_(limits) {}
  // When the key's lock ends; 0 when it is not locked at `now`.
  int64_t LockedUntil(const std::string& key, int64_t now);
  // Records a failure; true iff it locked the key just now.
  bool Fail(const std::string& key, int64_t now);
  void Clear(const std::string& key);
  const LoginLimits& limits() const { return limits_; }

 private:
  struct Entry {
    std::deque<int64_t> failures;
    int64_t locked_until = 0;
  };
  static constexpr std::size_t kPruneAbove = 100000;
  void PruneLocked(int64_t now);

  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  LoginLimits limits_;
};

}  // namespace internal

struct AccessState {
  explicit AccessState(const VaultOptions& options) : limiter(options.login_limits) {}

  std::shared_mutex keys_mu;
  std::unordered_map<std::string, internal::CachedApiKey> keys;  // by key id

  internal::LoginLimiter limiter;
  // Argon2id takes 64 MiB per call: at most two at once.
  std::counting_semaphore<2> argon_slots{2};
  // A hash to verify against when the email is unknown, so that an unknown
  // email costs the same Argon2id time as a known one.
  std::once_flag dummy_once;
  std::string dummy_hash;
};

}  // namespace custodian::service
