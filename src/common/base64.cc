#include "common/base64.h"

namespace custodian {

bool IsBase64Text(std::string_view text, Base64Alphabet alphabet) {
  const char c62 = alphabet == Base64Alphabet::kStandard ? '+' : '-';
  const char c63 = alphabet == Base64Alphabet::kStandard ? '/' : '_';
  for (char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == c62 || c == c63 || c == '=';
    if (!ok) return false;
  }
  return true;
}

}  // namespace custodian
