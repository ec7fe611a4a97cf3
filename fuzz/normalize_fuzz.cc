// libFuzzer target for the canonical forms of personal values
// (crypto/normalize.h), which decide what meets in the blind index.
//
// The first byte picks the default region (a known one, none, or two bytes
// of the input as an arbitrary region); the rest is the raw value, read as a
// phone number, an email address, free text and a date. For each:
//   - ValidateUtf8 agrees with an independent decoder written here;
//   - a canonical form is a fixed point (normalizing it again gives it back)
//     and has its shape: E.164 for a phone, one '@' within 254 bytes for an
//     email, trimmed UTF-8 for text, YYYY-MM-DD for a date;
//   - a phone number's canonical form reads as itself in any region;
//   - ReadPhoneUnchecked keeps the promise lookups rely on to skip the
//     validity check: when its reading of the input is a canonical number,
//     NormalizePhone of the input is exactly that number; and it refuses
//     exactly the input NormalizePhone refuses before parsing;
//   - every error message is one of the known templates with only numbers
//     and the caller's region filled in: a value must not reach a log
//     through one.
// A broken invariant aborts with a message; ASan/UBSan catch memory errors.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/normalize.h"
#include "fuzz_util.h"

namespace custodian::crypto {
namespace {

using fuzz::Check;
using fuzz::Masked;
using fuzz::ReferenceUtf8;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// An error message is one of the known templates with only numbers (an
// offset, a size) and the caller's region filled in, so no byte of a value
// can reach a log through it. (A substring test would not do: libFuzzer
// learns the strings a target compares and writes the templates as input.)
void CheckMessage(const Status& st, std::string_view what, std::string_view region) {
  std::string r;
  for (char c : region) r += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::string expected =
      r.empty() ? "expected an international number (+<country code> <number>)"
                : "expected an international number (+<country code> <number>) or a number of "
                  "region " + r;
  const std::string utf8 = "not valid UTF-8: invalid byte sequence at byte offset 0";
  std::vector<std::string> known;
  if (what == "phone") {
    known = {"phone number: " + utf8,
             "not a valid phone number: longer than 100 bytes",
             "unknown default region '" + r +
                 "': expected an ISO 3166-1 alpha-2 code such as IN, US or ID",
             "unknown default region: expected an ISO 3166-1 alpha-2 code such as IN, US or ID",
             "not a valid phone number: not a valid number in its country's numbering plan",
             "not a valid phone number: no valid country code; " + expected,
             "not a valid phone number: not a number; " + expected,
             "not a valid phone number: too short",
             "not a valid phone number: too long"};
  } else if (what == "email") {
    const std::string invalid = "not a valid email address: ";
    known = {"email address: " + utf8,
             "email address: cannot be normalized to Unicode NFC",
             invalid + "it is empty",
             invalid + "longer than 254 bytes",
             invalid + "white space or a control character inside it",
             invalid + "expected no unquoted special character (\"(),:;<>[\\])",
             invalid + "expected exactly one '@'",
             invalid + "expected a local part before '@'",
             invalid + "local part longer than 64 bytes",
             invalid + "expected a domain with a dot after '@' (like example.com)",
             invalid + "expected a domain without empty labels (no leading, trailing or double dot)"};
  } else if (what == "text") {
    known = {"text: " + utf8, "text contains a NUL character at byte offset 0",
             "text: cannot be normalized to Unicode NFC", "text is empty"};
  } else {
    const std::string invalid = "not a valid date: ";
    known = {"date: " + utf8,
             invalid + "expected YYYY-MM-DD (day-first and month-first forms are ambiguous)",
             invalid + "the year must be 1000 to 9999", invalid + "the month must be 01 to 12",
             invalid + "that month has no such day"};
  }
  const std::string m = Masked(st.message());
  for (const std::string& k : known) {
    if (m == Masked(k)) return;
  }
  std::fprintf(stderr, "normalize_fuzz: unknown %s message: %s\n", std::string(what).c_str(),
               st.message().c_str());
  std::abort();
}

void FuzzPhone(std::string_view raw, std::string_view region) {
  auto normal = NormalizePhone(raw, region);
  auto unchecked = ReadPhoneUnchecked(raw, region);
  if (normal.ok()) {
    const std::string& n = *normal;
    // '+', a country code of up to 3 digits and a national number of up to
    // 17 (libphonenumber's bound: its German plan has numbers past E.164's 15).
    Check(n.size() >= 3 && n.size() <= 21 && n[0] == '+', "a phone number not in E.164");
    for (size_t i = 1; i < n.size(); ++i) Check(IsDigit(n[i]), "a non-digit in E.164");
    auto again = NormalizePhone(n, "");
    Check(again.ok() && *again == n, "a canonical phone number does not read as itself");
    auto in_region = NormalizePhone(n, region);
    Check(in_region.ok() && *in_region == n, "a canonical number reads otherwise in a region");
    Check(unchecked.ok(), "ReadPhoneUnchecked refuses input NormalizePhone takes");
  } else {
    CheckMessage(normal.status(), "phone", region);
  }
  if (!unchecked.ok()) {
    // Refused before parsing, as NormalizePhone refuses it.
    Check(!normal.ok() && unchecked.status().message() == normal.status().message(),
          "ReadPhoneUnchecked refuses otherwise than NormalizePhone");
    return;
  }
  if (!unchecked->has_value()) return;
  const std::string& reading = **unchecked;
  auto canonical = NormalizePhone(reading, "");
  if (canonical.ok() && *canonical == reading) {
    Check(normal.ok() && *normal == reading,
          "an unchecked reading that is a canonical number is not NormalizePhone's answer");
  }
}

// The canonical form of an input, or nullptr once the refusal's message has
// been checked.
const std::string* Taken(const Result<std::string>& r, std::string_view what) {
  if (r.ok()) return &*r;
  CheckMessage(r.status(), what, "");
  return nullptr;
}

// Normalizing a canonical form again gives it back.
void CheckFixedPoint(Result<std::string> (*normalize)(std::string_view), const std::string& form,
                     const char* what) {
  auto again = normalize(form);
  Check(again.ok() && *again == form, what);
}

void FuzzEmail(std::string_view raw) {
  auto email = NormalizeEmail(raw);
  const std::string* e = Taken(email, "email");
  if (e == nullptr) return;
  Check(e->size() <= 254, "an email longer than 254 bytes");
  const size_t at = e->find('@');
  Check(at != std::string::npos && at > 0 && e->find('@', at + 1) == std::string::npos,
        "an email without exactly one '@' after a local part");
  Check(ReferenceUtf8(*e), "an email that is not UTF-8");
  CheckFixedPoint(NormalizeEmail, *e, "a canonical email does not read as itself");
}

void FuzzText(std::string_view raw) {
  auto text = NormalizeText(raw);
  const std::string* t = Taken(text, "text");
  if (t == nullptr) return;
  Check(!t->empty(), "empty canonical text");
  Check(ReferenceUtf8(*t), "canonical text that is not UTF-8");
  Check(t->find('\0') == std::string::npos, "canonical text with a NUL");
  const std::string_view ascii_space = " \t\n\v\f\r";
  Check(ascii_space.find(t->front()) == std::string_view::npos &&
            ascii_space.find(t->back()) == std::string_view::npos,
        "canonical text not trimmed");
  CheckFixedPoint(NormalizeText, *t, "canonical text does not read as itself");
}

void FuzzDate(std::string_view raw) {
  auto date = NormalizeDate(raw);
  const std::string* d = Taken(date, "date");
  if (d == nullptr) return;
  Check(d->size() == 10 && (*d)[4] == '-' && (*d)[7] == '-', "a date not in YYYY-MM-DD");
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) Check(IsDigit((*d)[i]), "a date with a non-digit");
  CheckFixedPoint(NormalizeDate, *d, "a canonical date does not read as itself");
}

}  // namespace
}  // namespace custodian::crypto

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace custodian::crypto;
  if (size == 0) return 0;
  static constexpr std::string_view kRegions[] = {"", "IN", "US", "ID", "GB", "DE",
                                                  "BR", "in", "FR", "AU", "XX", "ZZ"};
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string region;
  if (data[0] >= 240 && input.size() >= 2) {
    region.assign(input.substr(0, 2));  // any two bytes, as a caller might pass
    input.remove_prefix(2);
  } else {
    region.assign(kRegions[data[0] % std::size(kRegions)]);
  }
  Check(ValidateUtf8(input).ok() == ReferenceUtf8(input),
        "ValidateUtf8 disagrees with the reference decoder");
  FuzzPhone(input, region);
  FuzzEmail(input);
  FuzzText(input);
  FuzzDate(input);
  return 0;
}
