// libFuzzer target for what the public sends custodian's consent code
// without any credential: unsubscribe link tokens (crypto/link_token.h) and
// inbound SMS keywords (crypto/sms_keywords.h).
//
// From the input the target takes claims (which may be invalid), a time, a
// list of edits and a raw text, and checks:
//   - SignLinkToken signs exactly the valid claims (fields of 1 to their
//     maximum printable ASCII bytes, an expiry in 1970..9999) into a
//     URL-safe token of one '.'; VerifyLinkToken gives the claims back before
//     the expiry, FailedPrecondition from it on, and Unauthenticated under
//     another key; PeekLinkTenant gives the tenant;
//   - a token changed by any edits verifies only if the edits gave back the
//     very same text: no second spelling of a token is accepted (base64url
//     padding bits, case, separators);
//   - a raw text that verifies is exactly the token its claims sign to, and
//     when PeekLinkTenant reads a tenant from one, that is 1 to 63 printable
//     bytes;
//   - ClassifySmsKeyword agrees with a reference written here another way.
// A broken invariant aborts with a message; ASan/UBSan catch memory errors.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "crypto/link_token.h"
#include "crypto/secret.h"
#include "crypto/sms_keywords.h"
#include "fuzz_util.h"

namespace custodian::crypto {
namespace {

using fuzz::Check;

const SecretBytes& Key(int which) {
  static const SecretBytes a = SecretBytes::Copy(std::string(kLinkKeySize, 'a')).value();
  static const SecretBytes b = SecretBytes::Copy(std::string(kLinkKeySize, 'b')).value();
  return which == 0 ? a : b;
}

bool ValidField(const std::string& s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

bool UrlSafe(const std::string& token) {
  size_t dots = 0;
  for (char c : token) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
    dots += c == '.';
  }
  return dots == 1;
}

// Trim ASCII white space; drop trailing '.' and '!'; trim again; upper-case
// ASCII; look the rest up.
SmsKeyword ReferenceKeyword(std::string_view body) {
  static const std::map<std::string, SmsKeyword, std::less<>> kWords = {
      {"STOP", SmsKeyword::kStop},   {"STOPALL", SmsKeyword::kStop}, {"UNSUBSCRIBE", SmsKeyword::kStop},
      {"CANCEL", SmsKeyword::kStop}, {"END", SmsKeyword::kStop},     {"QUIT", SmsKeyword::kStop},
      {"START", SmsKeyword::kStart}, {"UNSTOP", SmsKeyword::kStart}, {"YES", SmsKeyword::kStart},
      {"HELP", SmsKeyword::kHelp},   {"INFO", SmsKeyword::kHelp}};
  const std::string_view space = " \t\n\r\v\f";
  std::string s(body);
  auto trim_end = [&] {
    const size_t last = s.find_last_not_of(space);
    s.erase(last == std::string::npos ? 0 : last + 1);
  };
  const size_t first = s.find_first_not_of(space);
  s.erase(0, first == std::string::npos ? s.size() : first);
  trim_end();
  const size_t mark = s.find_last_not_of(".!");
  s.erase(mark == std::string::npos ? 0 : mark + 1);
  trim_end();
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  auto it = kWords.find(s);
  return it == kWords.end() ? SmsKeyword::kNone : it->second;
}

void FuzzSigned(FuzzedDataProvider& in) {
  LinkClaims claims;
  claims.tenant = in.ConsumeRandomLengthString(80);
  claims.subject = in.ConsumeRandomLengthString(80);
  claims.purpose = in.ConsumeRandomLengthString(150);
  claims.expires_s = in.ConsumeBool() ? in.ConsumeIntegral<int64_t>()
                                      : in.ConsumeIntegralInRange<int64_t>(0, 4102444800);
  const bool valid = ValidField(claims.tenant, kLinkTenantMaxSize) &&
                     ValidField(claims.subject, kLinkSubjectMaxSize) &&
                     ValidField(claims.purpose, kLinkPurposeMaxSize) && claims.expires_s >= 0 &&
                     claims.expires_s <= kLinkMaxExpiresSeconds;
  auto token = SignLinkToken(Key(0), claims);
  Check(token.ok() == valid, "SignLinkToken signs other claims than the valid ones");
  if (!token.ok()) return;
  Check(UrlSafe(*token), "a token that is not URL-safe with one '.'");

  const int64_t now = in.ConsumeIntegralInRange<int64_t>(-1, kLinkMaxExpiresSeconds + 1);
  auto verified = VerifyLinkToken(Key(0), *token, now);
  if (now < claims.expires_s) {
    Check(verified.ok() && *verified == claims, "a token does not verify to its claims");
  } else {
    Check(!verified.ok() && verified.status().code() == StatusCode::kFailedPrecondition,
          "an expired token is not refused as expired");
  }
  auto other = VerifyLinkToken(Key(1), *token, 0);
  Check(!other.ok() && other.status().code() == StatusCode::kUnauthenticated,
        "a token verifies under another key");
  auto tenant = PeekLinkTenant(*token);
  Check(tenant.ok() && *tenant == claims.tenant, "PeekLinkTenant reads another tenant");

  // Edits: replace, insert or delete characters, or cut the token short.
  std::string edited = *token;
  for (int n = in.ConsumeIntegralInRange(1, 4); n > 0 && !edited.empty(); --n) {
    const size_t at = in.ConsumeIntegralInRange<size_t>(0, edited.size() - 1);
    const char c = in.ConsumeIntegral<char>();
    switch (in.ConsumeIntegralInRange(0, 3)) {
      case 0: edited[at] = c; break;
      case 1: edited.insert(edited.begin() + static_cast<std::ptrdiff_t>(at), c); break;
      case 2: edited.erase(at, 1); break;
      default: edited.resize(at); break;
    }
  }
  auto edited_verified = VerifyLinkToken(Key(0), edited, 0);
  if (edited != *token) {
    Check(!edited_verified.ok(), "an edited token verifies: a second spelling is accepted");
  }
  auto edited_tenant = PeekLinkTenant(edited);
  if (edited_tenant.ok()) {
    Check(ValidField(*edited_tenant, kLinkTenantMaxSize), "Peek reads a tenant out of bounds");
  }
}

}  // namespace
}  // namespace custodian::crypto

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace custodian::crypto;
  FuzzedDataProvider in(data, size);
  const std::string raw = in.ConsumeRandomLengthString(512);
  FuzzSigned(in);
  // The fuzzer can learn tokens this process signed (it sees the target's
  // comparisons), so a raw text may verify: then it is exactly the token
  // its claims sign to, never another spelling of it.
  auto raw_claims = VerifyLinkToken(Key(0), raw, 0);
  if (raw_claims.ok()) {
    auto resigned = SignLinkToken(Key(0), *raw_claims);
    Check(resigned.ok() && *resigned == raw, "a text that verifies is not its claims' token");
  }
  auto peeked = PeekLinkTenant(raw);
  if (peeked.ok()) {
    Check(!peeked->empty() && peeked->size() <= kLinkTenantMaxSize &&
              std::all_of(peeked->begin(), peeked->end(),
                          [](char c) { return c >= 0x20 && c <= 0x7e; }),
          "Peek reads a tenant out of bounds");
  }
  Check(ClassifySmsKeyword(raw) == ReferenceKeyword(raw),
        "ClassifySmsKeyword disagrees with the reference");
  return 0;
}
