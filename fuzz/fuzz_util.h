// What the libFuzzer targets (fuzz/*_fuzz.cc) share: compiled into each.
#pragma once

#include <cerrno>  // program_invocation_short_name
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace custodian::fuzz {

// Aborts, naming the target and the invariant, unless `ok`: libFuzzer then
// saves the input that broke it.
inline void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "%s: invariant broken: %s\n", program_invocation_short_name, what);
    std::abort();
  }
}

// Well-formed UTF-8 (RFC 3629), decoded the long way, independently of the
// code under test: a lead byte gives the length, continuation bytes carry 6
// bits each, and the code point must need that length, lie outside the
// surrogates and not pass U+10FFFF.
inline bool ReferenceUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    uint32_t cp = 0;
    if (b < 0x80) {
      len = 1;
      cp = b;
    } else if ((b >> 5) == 0x6) {
      len = 2;
      cp = b & 0x1F;
    } else if ((b >> 4) == 0xE) {
      len = 3;
      cp = b & 0x0F;
    } else if ((b >> 3) == 0x1E) {
      len = 4;
      cp = b & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c >> 6) != 0x2) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// `s` with each run of digits as '#', to hold a message against its template.
inline std::string Masked(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') {
      out += s[i];
    } else if (i == 0 || s[i - 1] < '0' || s[i - 1] > '9') {
      out += '#';
    }
  }
  return out;
}

}  // namespace custodian::fuzz
