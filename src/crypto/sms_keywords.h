// The opt-out keywords of SMS and WhatsApp messaging: which inbound messages
// mean "stop", "start again" or "help" under US carrier (CTIA) conventions.
//
// A keyword counts only when it is the whole message: "stop" and " Stop! " are
// STOP; "don't stop", "stopping" and "stop it" are not. Matching folds ASCII
// case only and ignores surrounding ASCII whitespace and trailing '.' and '!'.
// Nothing else is folded: full-width or accented letters, non-ASCII spaces and
// other punctuation ("stop?") make a message that is no keyword.
//
// Lives in the crypto layer for now because it sits beside the consent
// primitives; it uses no cryptography and no state.
//
// Thread-safety: a pure function.
#pragma once

#include <string_view>

namespace custodian::crypto {

enum class SmsKeyword {
  kNone,   // an ordinary message
  kStop,   // STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT: opt out
  kStart,  // START, UNSTOP, YES: opt back in
  kHelp,   // HELP, INFO: reply with the program's help text
};

// The keyword that `body` (the raw message text, any bytes) consists of.
SmsKeyword ClassifySmsKeyword(std::string_view body);

}  // namespace custodian::crypto
