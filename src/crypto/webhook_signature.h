// Verification of Telnyx webhooks (API v2), which Telnyx signs with Ed25519.
//
// Each webhook carries two headers:
//   telnyx-signature-ed25519  standard base64 (with padding) of a 64-byte
//                             Ed25519 signature;
//   telnyx-timestamp          the sending time, Unix seconds in decimal.
// The signed message is `timestamp + "|" + raw_body`, so the signature covers
// the timestamp as well as every byte of the body exactly as received (verify
// before parsing or re-serializing the JSON). The key is the account's Telnyx
// public key (base64 of 32 bytes, from the Telnyx portal): configuration, not
// a secret.
//
// A fresh timestamp is what limits replay: a captured webhook can be resent
// only within the tolerance. Callers that must not act twice also deduplicate
// on the event id.
//
// Thread-safety: every function is thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

#include "custodian/status.h"

namespace custodian::crypto {

inline constexpr char kTelnyxSignatureHeader[] = "telnyx-signature-ed25519";
inline constexpr char kTelnyxTimestampHeader[] = "telnyx-timestamp";
inline constexpr int64_t kTelnyxDefaultToleranceSeconds = 300;

// Ok iff `signature_b64` is a valid Ed25519 signature by `public_key_b64` of
// `timestamp + "|" + body` and `timestamp` is within `tolerance_s` seconds
// (either way; a negative tolerance counts as 0) of `now_s`. Header values are
// taken as given: the HTTP adapter trims them. Checks run in this order and
// the first failure is returned; no message echoes a header or the body:
//   InvalidArgument  "the Telnyx public key is not a base64 Ed25519 public key
//                    (32 bytes)": the configuration is wrong, whatever the request;
//   Unauthenticated  "missing telnyx-signature-ed25519 header" (empty value),
//                    "missing telnyx-timestamp header" (empty value),
//                    "telnyx-signature-ed25519 is not a base64 Ed25519 signature",
//                    "telnyx-timestamp is not a Unix time in seconds" (anything
//                    but 1 to 19 ASCII digits that fit in int64),
//                    "telnyx-timestamp is N s away from now (tolerance T s); a
//                    replayed or delayed webhook",
//                    "signature does not match the body".
Status VerifyTelnyxSignature(std::string_view public_key_b64, std::string_view signature_b64,
                             std::string_view timestamp, std::string_view body, int64_t now_s,
                             int64_t tolerance_s = kTelnyxDefaultToleranceSeconds);

}  // namespace custodian::crypto
