#include "crypto/password.h"

#include <sodium.h>

#include <cstring>

#include "crypto/internal.h"

namespace custodian::crypto {
namespace {

constexpr std::string_view kArgon2idPrefix = "$argon2id$";

// A NUL-terminated copy of `hash` in the buffer libsodium expects, or false if
// it cannot be one of ours.
bool ToHashBuffer(std::string_view hash, char (&out)[crypto_pwhash_STRBYTES]) {
  if (hash.size() >= sizeof out || hash.substr(0, kArgon2idPrefix.size()) != kArgon2idPrefix ||
      hash.find('\0') != std::string_view::npos) {
    return false;
  }
  std::memset(out, 0, sizeof out);
  std::memcpy(out, hash.data(), hash.size());
  return true;
}

}  // namespace

Result<std::string> HashPassword(std::string_view password) {
  internal::EnsureSodium();
  if (password.empty()) return Status::InvalidArgument("a password must not be empty");
  if (password.size() > kMaxPasswordSize) {
    return Status::InvalidArgument("a password must be at most " +
                                   std::to_string(kMaxPasswordSize) + " bytes");
  }
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::Unavailable("password hashing ran out of memory");
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view stored_hash, std::string_view password) {
  internal::EnsureSodium();
  char hash[crypto_pwhash_STRBYTES];
  if (!ToHashBuffer(stored_hash, hash)) return false;
  if (password.size() > kMaxPasswordSize) return false;
  return crypto_pwhash_str_verify(hash, password.data(), password.size()) == 0;
}

bool PasswordNeedsRehash(std::string_view stored_hash) {
  internal::EnsureSodium();
  char hash[crypto_pwhash_STRBYTES];
  if (!ToHashBuffer(stored_hash, hash)) return true;
  return crypto_pwhash_str_needs_rehash(hash, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0;
}

}  // namespace custodian::crypto
