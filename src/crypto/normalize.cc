// Text and email normalization (NormalizePhone is in normalize_phone.cc).
#include "crypto/normalize.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <memory>

#include "common/time.h"

namespace custodian::crypto {
namespace {

constexpr size_t kMaxEmailSize = 254;      // RFC 5321 path limit minus "<>"
constexpr size_t kMaxEmailLocalSize = 64;  // RFC 5321

bool IsAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// Unicode White_Space, plus U+FEFF (a byte-order mark that leaks into CSVs).
bool IsSpace(int32_t cp) {
  constexpr int32_t kSingles[] = {0x20,   0x85,   0xA0,   0x1680, 0x2028,
                                  0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF};
  if ((cp >= 0x09 && cp <= 0x0D) || (cp >= 0x2000 && cp <= 0x200A)) return true;
  return std::find(std::begin(kSingles), std::end(kSingles), cp) != std::end(kSingles);
}

// Decodes the code point at `s[i]` of valid UTF-8; returns its length.
size_t Decode(std::string_view s, size_t i, int32_t* cp) {
  utf8proc_ssize_t n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                                        static_cast<utf8proc_ssize_t>(s.size() - i), cp);
  return n > 0 ? static_cast<size_t>(n) : 1;  // n <= 0 cannot happen on valid input
}

// `s` (valid UTF-8) without leading and trailing IsSpace code points.
std::string_view TrimSpace(std::string_view s) {
  size_t begin = 0;
  size_t end = 0;  // one past the last non-space code point
  bool seen = false;
  for (size_t i = 0; i < s.size();) {
    int32_t cp = 0;
    size_t n = Decode(s, i, &cp);
    if (!IsSpace(cp)) {
      if (!seen) begin = i;
      seen = true;
      end = i + n;
    }
    i += n;
  }
  return seen ? s.substr(begin, end - begin) : std::string_view();
}

// NFC of valid UTF-8.
Result<std::string> Nfc(std::string_view s) {
  if (IsAscii(s)) return std::string(s);
  utf8proc_uint8_t* out = nullptr;
  utf8proc_ssize_t n = utf8proc_map(
      reinterpret_cast<const utf8proc_uint8_t*>(s.data()), static_cast<utf8proc_ssize_t>(s.size()),
      &out, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(out, &std::free);
  if (n < 0) {
    if (n == UTF8PROC_ERROR_NOMEM) return Status::Unavailable("out of memory normalizing text");
    return Status::InvalidArgument("cannot be normalized to Unicode NFC");
  }
  return std::string(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
}

// Lower-cases every code point of valid UTF-8 (simple case mapping).
std::string LowerUnicode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    int32_t cp = 0;
    i += Decode(s, i, &cp);
    utf8proc_uint8_t buf[4];
    utf8proc_ssize_t n = utf8proc_encode_char(utf8proc_tolower(cp), buf);
    out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
  }
  return out;
}

void LowerAscii(std::string& s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
}

bool IsEmailSpecial(char c) {
  return std::string_view("\"(),:;<>[\\]").find(c) != std::string_view::npos;
}

}  // namespace

Status ValidateUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    int32_t cp = 0;
    utf8proc_ssize_t n =
        utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(text.data() + i),
                         static_cast<utf8proc_ssize_t>(text.size() - i), &cp);
    if (n <= 0 || cp < 0) {
      return Status::InvalidArgument("not valid UTF-8: invalid byte sequence at byte offset " +
                                     std::to_string(i));
    }
    i += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Result<std::string> NormalizeText(std::string_view raw) {
  RETURN_IF_ERROR(ValidateUtf8(raw).WithContext("text"));
  if (size_t nul = raw.find('\0'); nul != std::string_view::npos) {
    return Status::InvalidArgument("text contains a NUL character at byte offset " +
                                   std::to_string(nul));
  }
  auto nfc = Nfc(raw);
  if (!nfc.ok()) return nfc.status().WithContext("text");
  std::string_view trimmed = TrimSpace(*nfc);
  if (trimmed.empty()) return Status::InvalidArgument("text is empty");
  if (trimmed.size() == nfc->size()) return std::move(nfc).value();
  return std::string(trimmed);
}

Result<std::string> NormalizeEmail(std::string_view raw) {
  constexpr std::string_view kWhat = "email address";
  RETURN_IF_ERROR(ValidateUtf8(raw).WithContext(kWhat));
  auto nfc = Nfc(raw);
  if (!nfc.ok()) return nfc.status().WithContext(kWhat);
  std::string_view email = TrimSpace(*nfc);
  auto invalid = [](std::string_view why) {
    return Status::InvalidArgument("not a valid email address: " + std::string(why));
  };
  if (email.empty()) return invalid("it is empty");
  if (email.size() > kMaxEmailSize) return invalid("longer than 254 bytes");
  for (size_t i = 0; i < email.size();) {
    int32_t cp = 0;
    size_t n = Decode(email, i, &cp);
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) || IsSpace(cp)) {
      return invalid("white space or a control character inside it");
    }
    if (n == 1 && IsEmailSpecial(static_cast<char>(cp))) {
      return invalid("expected no unquoted special character (\"(),:;<>[\\])");
    }
    i += n;
  }
  size_t at = email.find('@');
  if (at == std::string_view::npos || email.find('@', at + 1) != std::string_view::npos) {
    return invalid("expected exactly one '@'");
  }
  std::string_view local = email.substr(0, at);
  std::string_view domain = email.substr(at + 1);
  if (local.empty()) return invalid("expected a local part before '@'");
  if (local.size() > kMaxEmailLocalSize) return invalid("local part longer than 64 bytes");
  if (domain.find('.') == std::string_view::npos) {
    return invalid("expected a domain with a dot after '@' (like example.com)");
  }
  if (domain.front() == '.' || domain.back() == '.' ||
      domain.find("..") != std::string_view::npos) {
    return invalid("expected a domain without empty labels (no leading, trailing or double dot)");
  }
  std::string out(local);
  LowerAscii(out);
  out.push_back('@');
  if (IsAscii(domain)) {
    std::string lower(domain);
    LowerAscii(lower);
    out += lower;
  } else {
    // Lower-casing can decompose; recompose to keep the result in NFC.
    auto lower = Nfc(LowerUnicode(domain));
    if (!lower.ok()) return lower.status().WithContext(kWhat);
    out += *lower;
  }
  // Lower-casing can lengthen the domain (U+023A is 2 bytes, its lower case
  // 3): the limit holds for the canonical form too, which must read as itself.
  if (out.size() > kMaxEmailSize) return invalid("longer than 254 bytes");
  return out;
}

Result<std::string> NormalizeDate(std::string_view raw) {
  RETURN_IF_ERROR(ValidateUtf8(raw).WithContext("date"));
  std::string_view d = TrimSpace(raw);
  auto invalid = [](std::string_view why) {
    return Status::InvalidArgument("not a valid date: " + std::string(why));
  };
  auto digits = [&](std::size_t from, std::size_t n) {
    int v = 0;
    for (std::size_t i = from; i < from + n; ++i) {
      if (d[i] < '0' || d[i] > '9') return -1;
      v = v * 10 + (d[i] - '0');
    }
    return v;
  };
  if (d.size() != 10 || d[4] != d[7] || (d[4] != '-' && d[4] != '/')) {
    return invalid("expected YYYY-MM-DD (day-first and month-first forms are ambiguous)");
  }
  int year = digits(0, 4), month = digits(5, 2), day = digits(8, 2);
  if (year < 0 || month < 0 || day < 0) {
    return invalid("expected YYYY-MM-DD (day-first and month-first forms are ambiguous)");
  }
  if (year < 1000) return invalid("the year must be 1000 to 9999");
  if (month < 1 || month > 12) return invalid("the month must be 01 to 12");
  if (day < 1 || day > DaysInMonth(year, month)) return invalid("that month has no such day");
  std::string out(d);
  out[4] = out[7] = '-';
  return out;
}

}  // namespace custodian::crypto
