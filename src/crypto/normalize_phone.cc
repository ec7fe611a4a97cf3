// NormalizePhone, over libphonenumber.
#include <phonenumbers/logger.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <cctype>
#include <optional>
#include <string>

#include "crypto/normalize.h"

namespace custodian::crypto {
namespace {

using i18n::phonenumbers::NullLogger;
using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

// Far above any written phone number (libphonenumber's own limit is 250).
constexpr size_t kMaxPhoneInputSize = 100;

const PhoneNumberUtil& Util() {
  // libphonenumber can log the input it parses; make sure it never logs.
  static const PhoneNumberUtil* const util = [] {
    PhoneNumberUtil* u = PhoneNumberUtil::GetInstance();
    u->SetLogger(new NullLogger());  // takes ownership
    return u;
  }();
  return *util;
}

// The ASCII digits of `s` that come before any letter, in order.
std::string LeadingDigits(std::string_view s) {
  std::string digits;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      digits.push_back(c);
    } else if (std::isalpha(static_cast<unsigned char>(c))) {
      break;
    }
  }
  return digits;
}

bool HasPlus(std::string_view s) {
  return s.find('+') != std::string_view::npos ||
         s.find("\xEF\xBC\x8B") != std::string_view::npos;  // U+FF0B FULLWIDTH PLUS SIGN
}

// Parses `raw` and returns E.164 if it is a valid number.
bool ParseValid(const std::string& raw, const std::string& region, std::string* e164,
                PhoneNumberUtil::ErrorType* error) {
  const PhoneNumberUtil& util = Util();
  PhoneNumber number;
  *error = util.Parse(raw, region, &number);
  if (*error != PhoneNumberUtil::NO_PARSING_ERROR || !util.IsValidNumber(number)) return false;
  util.Format(number, PhoneNumberUtil::E164, e164);
  return true;
}

std::string Expected(const std::string& region) {
  if (region == "ZZ") return "expected an international number (+<country code> <number>)";
  return "expected an international number (+<country code> <number>) or a number of region " +
         region;
}

// What NormalizePhone checks before parsing: UTF-8, the size, and the region
// (upper-cased into *region, "ZZ" when none; its country code, 0 for none).
Status CheckPhoneInput(std::string_view raw, std::string_view default_region, std::string* region,
                       int* country_code) {
  RETURN_IF_ERROR(ValidateUtf8(raw).WithContext("phone number"));
  if (raw.size() > kMaxPhoneInputSize) {
    return Status::InvalidArgument("not a valid phone number: longer than " +
                                   std::to_string(kMaxPhoneInputSize) + " bytes");
  }
  *region = "ZZ";  // libphonenumber's "unknown region"
  *country_code = 0;
  if (default_region.empty()) return Status::Ok();
  region->clear();
  for (char c : default_region) {
    region->push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  bool printable = region->size() <= 3;
  for (char c : *region) printable = printable && std::isalnum(static_cast<unsigned char>(c));
  *country_code = printable ? Util().GetCountryCodeForRegion(*region) : 0;
  if (*country_code == 0) {
    return Status::InvalidArgument(
        (printable ? "unknown default region '" + *region + "'" : "unknown default region") +
        ": expected an ISO 3166-1 alpha-2 code such as IN, US or ID");
  }
  return Status::Ok();
}

}  // namespace

// "+" and the digits of `raw` if it is written as an international number of
// ASCII digits that only spaces and hyphens separate ("+91 98765-43210"), the
// way call metadata and most CRMs give numbers; nullopt otherwise.
// libphonenumber drops those separators before it reads anything, and with a
// '+' the default region plays no part, so it reads `raw` as it reads the
// result. If the result is stored in a blind index, it is a normalized number,
// which libphonenumber reads as itself: so its reading of `raw` is the result
// too, without running it. (Property-tested in normalize_test.cc.)
std::optional<std::string> PlainInternational(std::string_view raw) {
  if (raw.size() < 2 || raw[0] != '+') return std::nullopt;
  std::string out = "+";
  for (char c : raw.substr(1)) {
    if (c >= '0' && c <= '9') {
      out.push_back(c);
    } else if (c != ' ' && c != '-') {
      return std::nullopt;
    }
  }
  if (out.size() == 1) return std::nullopt;
  return out;
}

Result<std::optional<std::string>> ReadPhoneUnchecked(std::string_view raw,
                                                      std::string_view default_region) {
  std::string region;
  int country_code = 0;
  RETURN_IF_ERROR(CheckPhoneInput(raw, default_region, &region, &country_code));
  if (auto plain = PlainInternational(raw)) return plain;
  const PhoneNumberUtil& util = Util();
  PhoneNumber number;
  if (util.Parse(std::string(raw), region, &number) != PhoneNumberUtil::NO_PARSING_ERROR) {
    return std::optional<std::string>();
  }
  std::string e164;
  util.Format(number, PhoneNumberUtil::E164, &e164);
  return std::optional<std::string>(std::move(e164));
}

Result<std::string> NormalizePhone(std::string_view raw, std::string_view default_region) {
  std::string region;
  int country_code = 0;
  RETURN_IF_ERROR(CheckPhoneInput(raw, default_region, &region, &country_code));

  const std::string input(raw);
  std::string e164;
  PhoneNumberUtil::ErrorType error = PhoneNumberUtil::NO_PARSING_ERROR;
  if (ParseValid(input, region, &e164, &error)) return e164;

  // "918870100100" in region IN: the country code written without '+'.
  if (country_code != 0 && !HasPlus(raw) &&
      LeadingDigits(raw).starts_with(std::to_string(country_code))) {
    PhoneNumberUtil::ErrorType retry_error = PhoneNumberUtil::NO_PARSING_ERROR;
    if (ParseValid("+" + input, region, &e164, &retry_error)) return e164;
  }

  std::string why;
  switch (error) {
    case PhoneNumberUtil::NO_PARSING_ERROR:
      why = "not a valid number in its country's numbering plan";
      break;
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
      why = "no valid country code; " + Expected(region);
      break;
    case PhoneNumberUtil::NOT_A_NUMBER:
      why = "not a number; " + Expected(region);
      break;
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
    case PhoneNumberUtil::TOO_SHORT_NSN:
      why = "too short";
      break;
    case PhoneNumberUtil::TOO_LONG_NSN:
      why = "too long";
      break;
  }
  return Status::InvalidArgument("not a valid phone number: " + why);
}

}  // namespace custodian::crypto
