// Pieces the transports share: libcurl setup, the classification of curl
// failures, and checks of values that end up in a protocol line (where CR or
// LF would inject commands or headers). Private to src/outbox.
// Thread-safety: every function is thread-safe.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <string>
#include <string_view>

#include "custodian/status.h"

namespace custodian::outbox::internal {

struct CurlEasyDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct CurlSlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;

// A new easy handle after curl_global_init (once per process), or Internal.
Result<CurlEasy> NewCurlEasy();

// Appends `line` to `list` (which may hold null). Internal on allocation failure.
Status AppendSlist(CurlSlist& list, const std::string& line);

// The Status for a failed curl_easy_perform, prefixed with `who` ("telnyx",
// "smtp"): curl's generic error text and number, never curl's error buffer
// (which may hold a URL). Unavailable for network trouble, FailedPrecondition
// for configuration (TLS verification, login, protocol, URL).
Status CurlFailure(std::string_view who, CURLcode code);

// Well-formed UTF-8 (no overlong forms, surrogates, or values past U+10FFFF).
bool IsValidUtf8(std::string_view s);

// 1 to 200 characters among RFC 5322 atext and '.': safe as an HTTP header
// value and as the local part of a Message-ID.
bool IsValidMessageId(std::string_view id);

// "+" and 2 to 15 digits, the first not 0.
bool IsE164(std::string_view number);

// A plain addr-spec "local@domain" of at most 254 bytes: no whitespace,
// control characters or RFC 5322 specials other than '.' and '@' (so no
// quoted local parts or address literals); UTF-8 allowed (SMTPUTF8).
bool IsValidEmailAddress(std::string_view address);

}  // namespace custodian::outbox::internal
