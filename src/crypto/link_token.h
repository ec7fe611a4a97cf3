// Signed, expiring, stateless tokens for links in emails (unsubscribe): the
// link itself says which tenant, subject and purpose it is for and until when,
// and a MAC proves custodian made it, so following it needs no database lookup.
//
// Format (URL-safe: only [A-Za-z0-9_.-], no padding, no escaping needed):
//
//   token   = b64url(payload) "." b64url(mac)
//   payload = 0x01 (version)
//             || u8 len(tenant)  || tenant
//             || u8 len(subject) || subject
//             || u8 len(purpose) || purpose
//             || expires_s as 8 bytes big-endian
//   mac     = BLAKE2b-256 keyed with the 32-byte link key (crypto_generichash)
//             over "custodian.link.v1" || payload
//
// Each field is length-prefixed, so no field can spill into another ("a|b","c"
// and "a","b|c" are different payloads). The MAC is checked in constant time
// before any field is read. The payload is signed, not encrypted: anyone
// holding the link can read the tenant, subject and purpose, so a subject must
// be an opaque id, never an email address. A token stays valid until it
// expires; revoking one means rotating the key (which revokes all).
//
// The key is a dedicated 32-byte secret (e.g. a subkey derived for this one
// purpose), never a key that also encrypts or indexes data.
//
// Thread-safety: every function is thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/secret.h"
#include "custodian/status.h"

namespace custodian::crypto {

inline constexpr size_t kLinkKeySize = 32;
inline constexpr size_t kLinkTenantMaxSize = 63;
inline constexpr size_t kLinkSubjectMaxSize = 64;
inline constexpr size_t kLinkPurposeMaxSize = 128;
// 9999-12-31T23:59:59Z, the last second RFC 3339 can write.
inline constexpr int64_t kLinkMaxExpiresSeconds = 253402300799;

struct LinkClaims {
  std::string tenant;     // 1..63 printable ASCII bytes (0x20..0x7e)
  std::string subject;    // 1..64 printable ASCII bytes, an opaque id
  std::string purpose;    // 1..128 printable ASCII bytes, e.g. "unsubscribe:newsletter"
  int64_t expires_s = 0;  // Unix seconds; the token is valid while now < expires_s

  friend bool operator==(const LinkClaims&, const LinkClaims&) = default;
};

// The token for `claims`. Deterministic: the same key and claims always give
// the same token. InvalidArgument if the key is not kLinkKeySize bytes, a field
// is empty, too long or not printable ASCII (the message names the field and
// its limit, never its value), or expires_s is outside 0..kLinkMaxExpiresSeconds.
Result<std::string> SignLinkToken(const SecretBytes& key, const LinkClaims& claims);

// The claims of `token` if `key` signed it and it has not expired at `now_s`.
//   InvalidArgument     "malformed unsubscribe token": not two base64url parts
//                       joined by '.', a MAC that is not 32 bytes, an unknown
//                       version, or fields that do not parse; also "the
//                       unsubscribe link key must be 32 bytes" for a bad key;
//   Unauthenticated     "unsubscribe token signature does not match (tampered
//                       or signed with another key)";
//   FailedPrecondition  "unsubscribe token expired at 2026-01-31T10:20:30Z"
//                       (now_s >= expires_s).
// Messages never contain the token or its fields.
Result<LinkClaims> VerifyLinkToken(const SecretBytes& key, std::string_view token, int64_t now_s);

// The tenant a token claims, NOT verified: only to choose which tenant's key
// to verify it with (VerifyLinkToken). InvalidArgument "malformed unsubscribe
// token" when it does not parse that far.
Result<std::string> PeekLinkTenant(std::string_view token);

}  // namespace custodian::crypto
