// The key hierarchy: master key, wrapped tenant and subject keys, derived
// subkeys, and the associated data that binds a value to its row.
//
//   master key (key file or CUSTODIAN_MASTER_KEY)
//     └─ wraps tenant key         context TenantKeyContext(tenant)
//          ├─ DeriveSubkey(kKeyWrapping) wraps subject keys
//          │                      context SubjectKeyContext(tenant, subject)
//          │     └─ subject key seals field values with FieldAssociatedData(...)
//          ├─ DeriveSubkey(kBlindIndex)  keys the tenant's BlindIndex
//          ├─ DeriveSubkey(kAuditHash)   keys the labelled hashes in audit events
//          ├─ DeriveSubkey(kCredentialHash) keys the digests of API key and
//          │                      session secrets and operator emails
//          ├─ DeriveSubkey(kOperatorSeal) Aead that seals operators' TOTP
//          │                      secrets and emails
//          ├─ DeriveSubkey(kLinkToken) MACs signed unsubscribe links
//          └─ DeriveSubkey(kChannelSeal) Aead that seals channel settings
//                                 (Telnyx and SMTP credentials)
//
// Rotating the master key rewraps tenant keys; erasing a subject destroys its
// wrapped subject key, after which its values are noise (crypto-shredding).
//
// Errors name files and sizes, never key bytes.
// Thread-safety: every function is thread-safe, except that MasterKeyFromEnv()
// must not race with setenv()/unsetenv() (a libc rule).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/aead.h"
#include "crypto/secret.h"
#include "custodian/status.h"

namespace custodian::crypto {

inline constexpr size_t kMasterKeySize = 32;
inline constexpr char kMasterKeyEnvVar[] = "CUSTODIAN_MASTER_KEY";

// --- the master key ---------------------------------------------------------
// Format (file and environment): the 32-byte key in standard base64 with
// padding (44 characters); trailing whitespace such as a newline is ignored.

// Reads the master key file at `path`.
//   NotFound            the file does not exist;
//   FailedPrecondition  it cannot be opened, is not a regular file, or its mode
//                       grants more than 0600 ("... has mode 0644; it must be
//                       0600 or stricter: chmod 600 PATH");
//   InvalidArgument     the content is not 32 bytes as base64.
Result<SecretBytes> LoadMasterKeyFile(const std::string& path);

// Reads the master key from $CUSTODIAN_MASTER_KEY. NotFound if it is unset or
// empty, InvalidArgument if it is not 32 bytes as base64. The variable itself
// stays in the process environment (and /proc/PID/environ, readable by the same
// user); the key file is the better home for a long-running server.
Result<SecretBytes> MasterKeyFromEnv();

// Creates a master key file holding a fresh random key, atomically: the key is
// written and fsync'ed to a temporary file created with O_CREAT|O_EXCL and mode
// 0600 in the same directory, then linked to `path` (which never overwrites) and
// the directory fsync'ed. A crash leaves either no key file or a complete one.
//   AlreadyExists       `path` exists (it is left untouched);
//   FailedPrecondition  the directory is missing or not writable, or I/O failed.
Status CreateMasterKeyFile(const std::string& path);

// --- key wrapping -------------------------------------------------------------
// `context` says what the key is for and is bound into the wrapped blob: a
// wrapped key copied to another tenant or subject fails to unwrap. Build it
// with TenantKeyContext / SubjectKeyContext.

std::string WrapKey(const Aead& kek, const SecretBytes& key, std::string_view context);

// The key wrapped by WrapKey with the same kek and context. DataLoss (Aead's
// generic integrity error) for anything else. The key goes straight from the
// decryption into secure memory.
Result<SecretBytes> UnwrapKey(const Aead& kek, std::string_view wrapped, std::string_view context);

std::string TenantKeyContext(std::string_view tenant);
std::string SubjectKeyContext(std::string_view tenant, std::string_view subject);

// The associated data that binds a field value to its tenant, subject and
// field. Each part is length-prefixed, so ("a|b","c",f) and ("a","b|c",f)
// differ. (The key version is bound by the Aead blob header.)
std::string FieldAssociatedData(std::string_view tenant, std::string_view subject,
                                std::string_view field);

// --- derived subkeys ------------------------------------------------------------
// Each purpose gets its own subkey so that no key is used by two algorithms.
enum class Subkey {
  kKeyWrapping,  // Aead that wraps the tenant's subject keys
  kBlindIndex,   // BlindIndex over normalized values of indexed categories
  kAuditHash,    // keyed hashes of values named in audit events
  kCredentialHash,  // keyed BLAKE2b of API key / session secrets, operator emails
  kOperatorSeal,    // Aead that seals operator TOTP secrets and emails
  kLinkToken,       // MAC key of signed unsubscribe links (link_token.h)
  kChannelSeal,     // Aead that seals the tenant's channel settings (provider keys)
};

// A 32-byte subkey of `parent_key` (a 32-byte tenant key) for `purpose`, with
// crypto_kdf_derive_from_key (BLAKE2b). InvalidArgument if `parent_key` is not
// 32 bytes. Deterministic: the same parent key always yields the same subkey.
Result<SecretBytes> DeriveSubkey(const SecretBytes& parent_key, Subkey purpose);

}  // namespace custodian::crypto
