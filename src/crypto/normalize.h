// Canonical forms of personal values, so that equal values meet in the blind
// index (crypto/blind_index.h) however they were typed.
//
// Each function returns the canonical form or InvalidArgument. Error messages
// say what was expected and, for encoding errors, the byte offset; they never
// contain the value or any part of it.
//
// Thread-safety: every function is thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "custodian/status.h"

namespace custodian::crypto {

// OK iff `text` is well-formed UTF-8 (no overlong forms, surrogates or code
// points above U+10FFFF). Otherwise InvalidArgument naming the byte offset of
// the first bad sequence.
Status ValidateUtf8(std::string_view text);

// Free text (names, addresses): valid UTF-8 without NUL characters, in Unicode
// NFC, with leading and trailing white space (Unicode White_Space and U+FEFF)
// removed. InvalidArgument if invalid or empty after trimming.
Result<std::string> NormalizeText(std::string_view raw);

// An email address: NFC, trimmed, the local part's ASCII letters lower-cased
// and the domain lower-cased. Shape checks only: at most 254 bytes, exactly one
// '@', a non-empty local part of at most 64 bytes, a domain with a dot and no
// empty label, no white space, control characters or unquoted specials
// ("(),:;<>[\]). Quoted local parts are not supported. Not checked: that
// the domain exists or receives mail.
Result<std::string> NormalizeEmail(std::string_view raw);

// A phone number in E.164 ("+918870100100"), parsed and validated against
// libphonenumber's numbering plans. Numbers without a country code are read
// as national numbers of `default_region` (ISO 3166-1 alpha-2 such as "IN",
// "US", "ID"; case-insensitive; empty accepts only international numbers).
// Digits that begin with the region's country code but are not a valid
// national number are retried as international ("918870100100" in IN).
// An extension, if any, is dropped. InvalidArgument if the region is unknown
// or the number is not a valid number.
Result<std::string> NormalizePhone(std::string_view raw, std::string_view default_region);

// NormalizePhone's first reading of `raw` (parsed as a number of
// `default_region` unless it has a country code), in E.164, without checking
// that it is a valid number; nullopt if it does not parse. For lookups: if the
// reading is a normalized number (one NormalizePhone returns as itself, as
// every value in a blind index is), NormalizePhone(raw) returns exactly it, so
// a reading found in the index needs no check; only a miss needs
// NormalizePhone (most of its CPU is after the parse). A number written as
// "+", digits, spaces and hyphens is read without libphonenumber: "+" and the
// digits, which keeps that promise (and only that one: "+91 098..." reads as
// "+91098...", which is no normalized number). Bad input (not UTF-8, too
// long, an unknown region) fails as in NormalizePhone.
Result<std::optional<std::string>> ReadPhoneUnchecked(std::string_view raw,
                                                      std::string_view default_region);

// A calendar date ("YYYY-MM-DD"), trimmed of surrounding white space. Accepts
// ISO 8601 "YYYY-MM-DD" and "YYYY/MM/DD" with a four-digit year 1000-9999 and
// a day that exists in that month (leap years included). Day-first and
// month-first forms are refused rather than guessed: "03/04/1990" is
// ambiguous. InvalidArgument otherwise.
Result<std::string> NormalizeDate(std::string_view raw);

}  // namespace custodian::crypto
