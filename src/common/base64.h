// The characters of base64 text, checked before libsodium decodes it.
//
// libsodium 1.0.18 (Debian 12's) decodes every byte from 0x80 up as the
// alphabet's last character ('/' or '_'), in every variant: "AAA\xDC" decodes
// to the bytes "AAA/" does. Without this check a token, a signature or a key
// has many spellings that all decode alike (found by fuzz/link_token_fuzz.cc).
//
// Thread-safety: a pure function.
#pragma once

#include <string_view>

namespace custodian {

enum class Base64Alphabet {
  kStandard,  // A-Z a-z 0-9 + /  (RFC 4648 section 4)
  kUrlSafe,   // A-Z a-z 0-9 - _  (RFC 4648 section 5)
};

// True iff every byte of `text` is in `alphabet` or is the padding '='. Where
// the padding may go, and whether it must, is left to the decoder.
bool IsBase64Text(std::string_view text, Base64Alphabet alphabet);

}  // namespace custodian
