#include "http/url.h"

#include <cstdint>

namespace custodian::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (n - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) {
      return false;  // overlong
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

Result<std::string> PercentDecode(std::string_view in, bool plus_as_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      int hi = (i + 1 < in.size()) ? HexValue(in[i + 1]) : -1;
      int lo = (i + 2 < in.size()) ? HexValue(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return Status::InvalidArgument("invalid percent-escape at offset " + std::to_string(i));
      }
      c = static_cast<char>(hi * 16 + lo);
      if (c == '\0') {
        return Status::InvalidArgument("percent-escape of a NUL byte at offset " +
                                       std::to_string(i));
      }
      i += 2;
    } else if (c == '+' && plus_as_space) {
      c = ' ';
    } else if (c == '\0') {
      return Status::InvalidArgument("a NUL byte at offset " + std::to_string(i));
    }
    out.push_back(c);
  }
  if (!IsValidUtf8(out)) return Status::InvalidArgument("decoded text is not valid UTF-8");
  return out;
}

Result<Params> ParseQuery(std::string_view query) {
  Params params;
  size_t start = 0;
  while (start <= query.size()) {
    size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view piece = query.substr(start, amp - start);
    start = amp + 1;
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    std::string_view name = piece.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);
    auto n = PercentDecode(name, /*plus_as_space=*/true);
    if (!n.ok()) return n.status().WithContext("query parameter name");
    auto v = PercentDecode(value, /*plus_as_space=*/true);
    if (!v.ok()) return v.status().WithContext("query parameter value");
    params.emplace_back(std::move(n).value(), std::move(v).value());
  }
  return params;
}

}  // namespace custodian::http
