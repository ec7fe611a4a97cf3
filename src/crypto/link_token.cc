#include "crypto/link_token.h"

#include <sodium.h>

#include "common/base64.h"
#include "common/time.h"
#include "crypto/internal.h"

namespace custodian::crypto {
namespace {

static_assert(kLinkKeySize == crypto_generichash_KEYBYTES);
static_assert(kLinkPurposeMaxSize <= 255, "field lengths are one byte");

constexpr uint8_t kVersion = 1;
constexpr char kDomain[] = "custodian.link.v1";
constexpr size_t kMacSize = 32;
constexpr int kB64 = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
constexpr size_t kMaxPayloadSize =
    1 + 3 + kLinkTenantMaxSize + kLinkSubjectMaxSize + kLinkPurposeMaxSize + 8;

Status Malformed() { return Status::InvalidArgument("malformed unsubscribe token"); }
Status BadKey() { return Status::InvalidArgument("the unsubscribe link key must be 32 bytes"); }

bool IsPrintableAscii(std::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

Status CheckField(std::string_view name, std::string_view value, size_t max_size) {
  if (value.empty() || value.size() > max_size || !IsPrintableAscii(value)) {
    return Status::InvalidArgument("unsubscribe token " + std::string(name) + " must be 1 to " +
                                   std::to_string(max_size) + " printable ASCII characters");
  }
  return Status::Ok();
}

void Mac(const SecretBytes& key, std::string_view payload, uint8_t out[kMacSize]) {
  crypto_generichash_state state;
  crypto_generichash_init(&state, key.data(), key.size(), kMacSize);
  crypto_generichash_update(&state, reinterpret_cast<const uint8_t*>(kDomain), sizeof kDomain - 1);
  crypto_generichash_update(&state, reinterpret_cast<const uint8_t*>(payload.data()),
                            payload.size());
  crypto_generichash_final(&state, out, kMacSize);
}

std::string Base64Url(const void* bytes, size_t size) {
  std::string out(sodium_base64_ENCODED_LEN(size, kB64), '\0');
  sodium_bin2base64(out.data(), out.size(), static_cast<const uint8_t*>(bytes), size, kB64);
  out.pop_back();  // NUL
  return out;
}

// Decodes canonical unpadded base64url of at most `max` bytes into `out`
// (libsodium refuses non-zero trailing bits, so each byte string has one text).
bool FromBase64Url(std::string_view text, uint8_t* out, size_t max, size_t& size) {
  return IsBase64Text(text, Base64Alphabet::kUrlSafe) &&
         sodium_base642bin(out, max, text.data(), text.size(), /*ignore=*/nullptr, &size,
                           /*b64_end=*/nullptr, kB64) == 0;
}

// Reads one length-prefixed field at payload[pos], advancing pos.
bool ReadField(std::string_view payload, size_t& pos, size_t max_size, std::string& out) {
  if (pos >= payload.size()) return false;
  const size_t size = static_cast<uint8_t>(payload[pos++]);
  if (size == 0 || size > max_size || payload.size() - pos < size) return false;
  out.assign(payload.substr(pos, size));
  pos += size;
  return IsPrintableAscii(out);
}

}  // namespace

Result<std::string> SignLinkToken(const SecretBytes& key, const LinkClaims& claims) {
  internal::EnsureSodium();
  if (key.size() != kLinkKeySize) return BadKey();
  RETURN_IF_ERROR(CheckField("tenant", claims.tenant, kLinkTenantMaxSize));
  RETURN_IF_ERROR(CheckField("subject", claims.subject, kLinkSubjectMaxSize));
  RETURN_IF_ERROR(CheckField("purpose", claims.purpose, kLinkPurposeMaxSize));
  if (claims.expires_s < 0 || claims.expires_s > kLinkMaxExpiresSeconds) {
    return Status::InvalidArgument(
        "unsubscribe token expiry must be between 1970-01-01 and 9999-12-31 (Unix seconds)");
  }
  std::string payload;
  payload.reserve(kMaxPayloadSize);
  payload.push_back(static_cast<char>(kVersion));
  for (const std::string* field : {&claims.tenant, &claims.subject, &claims.purpose}) {
    payload.push_back(static_cast<char>(field->size()));
    payload.append(*field);
  }
  uint8_t expires[8];
  internal::StoreBigEndian32(static_cast<uint32_t>(static_cast<uint64_t>(claims.expires_s) >> 32),
                             expires);
  internal::StoreBigEndian32(static_cast<uint32_t>(claims.expires_s), expires + 4);
  payload.append(reinterpret_cast<const char*>(expires), sizeof expires);

  uint8_t mac[kMacSize];
  Mac(key, payload, mac);
  return Base64Url(payload.data(), payload.size()) + "." + Base64Url(mac, sizeof mac);
}

Result<LinkClaims> VerifyLinkToken(const SecretBytes& key, std::string_view token, int64_t now_s) {
  internal::EnsureSodium();
  if (key.size() != kLinkKeySize) return BadKey();

  // Shape: payload "." mac, both canonical base64url, sizes within bounds.
  const size_t dot = token.find('.');
  if (dot == std::string_view::npos) return Malformed();
  uint8_t payload_bytes[kMaxPayloadSize];
  uint8_t mac[kMacSize];
  size_t payload_size = 0;
  size_t mac_size = 0;
  if (!FromBase64Url(token.substr(0, dot), payload_bytes, sizeof payload_bytes, payload_size) ||
      !FromBase64Url(token.substr(dot + 1), mac, sizeof mac, mac_size) || mac_size != kMacSize ||
      payload_size == 0 || payload_bytes[0] != kVersion) {
    return Malformed();
  }
  const std::string_view payload(reinterpret_cast<const char*>(payload_bytes), payload_size);

  // Authenticity before reading any field.
  uint8_t expected[kMacSize];
  Mac(key, payload, expected);
  const bool authentic = crypto_verify_32(mac, expected) == 0;
  sodium_memzero(expected, sizeof expected);
  if (!authentic) {
    return Status::Unauthenticated(
        "unsubscribe token signature does not match (tampered or signed with another key)");
  }

  // Only reached for payloads this key signed; parsed strictly all the same.
  LinkClaims claims;
  size_t pos = 1;
  if (!ReadField(payload, pos, kLinkTenantMaxSize, claims.tenant) ||
      !ReadField(payload, pos, kLinkSubjectMaxSize, claims.subject) ||
      !ReadField(payload, pos, kLinkPurposeMaxSize, claims.purpose) || payload.size() - pos != 8) {
    return Malformed();
  }
  const uint8_t* expires = payload_bytes + pos;
  const uint64_t expires_u =
      (uint64_t{internal::LoadBigEndian32(expires)} << 32) | internal::LoadBigEndian32(expires + 4);
  if (expires_u > static_cast<uint64_t>(kLinkMaxExpiresSeconds)) return Malformed();
  claims.expires_s = static_cast<int64_t>(expires_u);

  if (now_s >= claims.expires_s) {
    return Status::FailedPrecondition("unsubscribe token expired at " +
                                      FormatTime(claims.expires_s * 1000));
  }
  return claims;
}

Result<std::string> PeekLinkTenant(std::string_view token) {
  internal::EnsureSodium();
  const size_t dot = token.find('.');
  if (dot == std::string_view::npos) return Malformed();
  uint8_t payload_bytes[kMaxPayloadSize];
  size_t payload_size = 0;
  if (!FromBase64Url(token.substr(0, dot), payload_bytes, sizeof payload_bytes, payload_size) ||
      payload_size == 0 || payload_bytes[0] != kVersion) {
    return Malformed();
  }
  const std::string_view payload(reinterpret_cast<const char*>(payload_bytes), payload_size);
  std::string tenant;
  size_t pos = 1;
  if (!ReadField(payload, pos, kLinkTenantMaxSize, tenant)) return Malformed();
  return tenant;
}

}  // namespace custodian::crypto
