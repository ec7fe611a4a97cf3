#include "outbox/email_message.h"

#include <array>
#include <cstdint>
#include <ctime>

#include "outbox/internal.h"

namespace custodian::outbox::internal {
namespace {

constexpr size_t kMaxLineOctets = 998;    // RFC 5322 2.1.1, without CRLF
constexpr size_t kMaxRawSubject = 900;    // beyond: encoded words, which fold
constexpr size_t kEncodedWordBytes = 39;  // 52 base64 chars + 12 = 64 per word

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int shift : {18, 12, 6, 0}) out.push_back(kAlphabet[(v >> shift) & 63]);
  }
  if (size_t rest = in.size() - i; rest > 0) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (rest == 2) v |= uint8_t(in[i + 1]) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

bool IsPrintableAscii(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

bool HasLineBreakOrNul(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

bool HasControl(std::string_view s) {
  for (unsigned char c : s) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return true;
  }
  return false;
}

// RFC 5322 atext, and space: a display name that needs no quoting.
bool IsPlainPhrase(std::string_view s) {
  static constexpr std::string_view kAtextSpecials = "!#$%&'*+-/=?^_`{|}~ ";
  if (s.empty() || s.front() == ' ' || s.back() == ' ') return false;
  for (char c : s) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && kAtextSpecials.find(c) == std::string_view::npos) return false;
  }
  return true;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = char(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = char(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// A field name: printable ASCII except ':' (RFC 5322 ftext).
bool IsFieldName(std::string_view name) {
  if (name.empty() || name.size() > 76) return false;
  for (unsigned char c : name) {
    if (c < 33 || c > 126 || c == ':') return false;
  }
  return true;
}

Status CheckExtraHeader(std::string_view name, std::string_view value) {
  static constexpr std::array<std::string_view, 8> kOwn = {
      "Date",       "From",         "To",           "Subject",
      "Message-ID", "MIME-Version", "Content-Type", "Content-Transfer-Encoding"};
  if (HasLineBreakOrNul(name)) {
    return Status::InvalidArgument("an email header name contains CR, LF or NUL");
  }
  if (!IsFieldName(name)) return Status::InvalidArgument("an email header name is malformed");
  std::string label = "email header '" + std::string(name) + "'";
  for (std::string_view own : kOwn) {
    if (EqualsIgnoreCase(name, own)) {
      return Status::InvalidArgument(label + " is written by the transport itself");
    }
  }
  if (HasLineBreakOrNul(value)) return Status::InvalidArgument(label + " contains CR, LF or NUL");
  if (HasControl(value) || !IsValidUtf8(value)) {
    return Status::InvalidArgument(label + " has control characters or is not UTF-8");
  }
  if (name.size() + 2 + value.size() > kMaxLineOctets) {
    return Status::InvalidArgument(label + " is longer than 998 octets");
  }
  return Status::Ok();
}

// The body with CRLF line breaks, ending in CRLF, and its transfer encoding.
std::pair<std::string, std::string_view> EncodeBody(std::string_view text) {
  std::string body;
  body.reserve(text.size() + text.size() / 32 + 2);
  bool ascii = true, needs_base64 = false;
  size_t line = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      body += "\r\n";
      line = 0;
      continue;
    }
    if (c == '\0') needs_base64 = true;
    if (static_cast<unsigned char>(c) >= 0x80) ascii = false;
    if (++line > kMaxLineOctets) needs_base64 = true;
    body.push_back(c);
  }
  if (body.size() < 2 || body.compare(body.size() - 2, 2, "\r\n") != 0) body += "\r\n";
  if (!needs_base64) return {std::move(body), ascii ? "7bit" : "8bit"};
  std::string encoded = Base64(body);
  std::string wrapped;
  wrapped.reserve(encoded.size() + encoded.size() / 38 + 2);
  for (size_t i = 0; i < encoded.size(); i += 76) {
    wrapped.append(encoded, i, 76);
    wrapped += "\r\n";
  }
  return {std::move(wrapped), "base64"};
}

}  // namespace

Result<Mailbox> ParseMailbox(std::string_view text) {
  Mailbox box;
  std::string_view address = text;
  if (!text.empty() && text.back() == '>') {
    size_t open = text.rfind('<');
    if (open == std::string_view::npos) return Status::InvalidArgument("mailbox is malformed");
    address = text.substr(open + 1, text.size() - open - 2);
    std::string_view name = text.substr(0, open);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
      name = name.substr(1, name.size() - 2);
    }
    if (HasControl(name) || name.find('\t') != std::string_view::npos || !IsValidUtf8(name)) {
      return Status::InvalidArgument("mailbox display name has control characters or is not UTF-8");
    }
    box.display_name = std::string(name);
  }
  if (!IsValidEmailAddress(address)) {
    return Status::InvalidArgument("mailbox address is not a valid email address");
  }
  box.address = std::string(address);
  return box;
}

namespace {

// RFC 2047 encoded words, always; see EncodeHeaderText.
std::string EncodedWords(std::string_view utf8) {
  std::string out;
  size_t i = 0;
  while (i < utf8.size()) {
    size_t end = i;
    while (end < utf8.size()) {
      size_t next = end + 1;  // to the end of this character
      while (next < utf8.size() && (static_cast<unsigned char>(utf8[next]) & 0xC0) == 0x80) ++next;
      if (next - i > kEncodedWordBytes && end > i) break;
      end = next;
    }
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + Base64(utf8.substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

}  // namespace

std::string EncodeHeaderText(std::string_view utf8) {
  if (IsPrintableAscii(utf8) && utf8.size() <= kMaxRawSubject &&
      utf8.find("=?") == std::string_view::npos) {
    return std::string(utf8);
  }
  return EncodedWords(utf8);
}

std::string FormatEmailDate(std::chrono::system_clock::time_point t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::string MessageIdFor(std::string_view id) { return "<" + std::string(id) + "@custodian>"; }

Result<std::string> BuildEmail(const OutgoingMessage& m, const Mailbox& from,
                               std::chrono::system_clock::time_point now) {
  if (!IsValidMessageId(m.id)) return Status::InvalidArgument("message id is malformed");
  if (!IsValidEmailAddress(m.to)) {
    return Status::InvalidArgument("recipient is not a valid email address");
  }
  if (HasLineBreakOrNul(m.subject)) {
    return Status::InvalidArgument("subject contains CR, LF or NUL");
  }
  if (!IsValidUtf8(m.subject)) return Status::InvalidArgument("subject is not UTF-8");
  if (!IsValidUtf8(m.text)) return Status::InvalidArgument("message text is not UTF-8");
  for (const auto& [name, value] : m.headers) RETURN_IF_ERROR(CheckExtraHeader(name, value));

  std::string out;
  out += "Date: " + FormatEmailDate(now) + "\r\n";
  out += "From: ";
  if (!from.display_name.empty()) {
    // A phrase with specials (",", ".", quotes) would need quoting: encoded words need none.
    out += IsPlainPhrase(from.display_name) ? from.display_name : EncodedWords(from.display_name);
    out += " ";
  }
  out += "<" + from.address + ">\r\n";
  out += "To: <" + m.to + ">\r\n";
  if (!m.subject.empty()) out += "Subject: " + EncodeHeaderText(m.subject) + "\r\n";
  out += "Message-ID: " + MessageIdFor(m.id) + "\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: text/plain; charset=UTF-8\r\n";
  auto [body, encoding] = EncodeBody(m.text);
  out += "Content-Transfer-Encoding: " + std::string(encoding) + "\r\n";
  for (const auto& [name, value] : m.headers) out += name + ": " + value + "\r\n";
  out += "\r\n";
  out += body;
  return out;
}

}  // namespace custodian::outbox::internal
