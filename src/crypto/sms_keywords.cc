#include "crypto/sms_keywords.h"

namespace custodian::crypto {
namespace {

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Equal up to ASCII case. `upper` is an upper-case ASCII keyword.
bool EqualsIgnoringAsciiCase(std::string_view text, std::string_view upper) {
  if (text.size() != upper.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != upper[i]) return false;
  }
  return true;
}

struct Keyword {
  std::string_view word;
  SmsKeyword kind;
};

constexpr Keyword kKeywords[] = {
    {"STOP", SmsKeyword::kStop},        {"STOPALL", SmsKeyword::kStop},
    {"UNSUBSCRIBE", SmsKeyword::kStop}, {"CANCEL", SmsKeyword::kStop},
    {"END", SmsKeyword::kStop},         {"QUIT", SmsKeyword::kStop},
    {"START", SmsKeyword::kStart},      {"UNSTOP", SmsKeyword::kStart},
    {"YES", SmsKeyword::kStart},        {"HELP", SmsKeyword::kHelp},
    {"INFO", SmsKeyword::kHelp},
};

}  // namespace

SmsKeyword ClassifySmsKeyword(std::string_view body) {
  // Whitespace, then trailing '.'/'!' ("Stop !!"), then whitespace again.
  while (!body.empty() && IsAsciiSpace(body.front())) body.remove_prefix(1);
  while (!body.empty() && IsAsciiSpace(body.back())) body.remove_suffix(1);
  while (!body.empty() && (body.back() == '.' || body.back() == '!')) body.remove_suffix(1);
  while (!body.empty() && IsAsciiSpace(body.back())) body.remove_suffix(1);
  for (const Keyword& k : kKeywords) {
    if (EqualsIgnoringAsciiCase(body, k.word)) return k.kind;
  }
  return SmsKeyword::kNone;
}

}  // namespace custodian::crypto
