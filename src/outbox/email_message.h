// The RFC 5322 / MIME text of an outgoing email, as the SMTP transport hands
// it to curl: CRLF line endings, not yet dot-stuffed (curl does that).
//
//   Date: Tue, 03 Mar 2026 10:20:30 +0000
//   From: Example <noreply@example.org>
//   To: <someone@example.com>
//   Subject: plain ASCII, or =?UTF-8?B?...?= encoded words folded by CRLF SP
//   Message-ID: <{id}@custodian>
//   MIME-Version: 1.0
//   Content-Type: text/plain; charset=UTF-8
//   Content-Transfer-Encoding: 7bit | 8bit | base64
//   {extra headers in order}
//
//   {body}
//
// The body's line breaks (LF, CR or CRLF) become CRLF. It goes as 7bit when
// ASCII, 8bit otherwise, and base64 (76-character lines) when a line is longer
// than SMTP's 998 octets or holds a NUL.
// Thread-safety: every function is thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "custodian/status.h"
#include "outbox/transport.h"

namespace custodian::outbox::internal {

struct Mailbox {
  std::string address;       // addr-spec: the SMTP envelope's address
  std::string display_name;  // may be empty
};

// "a@example.org" or "Display Name <a@example.org>". InvalidArgument (never
// echoing the text) when the address is not IsValidEmailAddress or the name
// holds control characters or is not UTF-8.
Result<Mailbox> ParseMailbox(std::string_view text);

// A header's unstructured text: as is when printable ASCII of modest length
// without "=?", otherwise RFC 2047 "=?UTF-8?B?...?=" words of at most 39
// bytes each (never splitting a character), separated by CRLF SP.
// `utf8` must be valid UTF-8 without CR or LF.
std::string EncodeHeaderText(std::string_view utf8);

// RFC 5322 date-time in UTC: "Tue, 03 Mar 2026 10:20:30 +0000".
std::string FormatEmailDate(std::chrono::system_clock::time_point t);

// "<{id}@custodian>"
std::string MessageIdFor(std::string_view id);

// The whole message. InvalidArgument for a bad message id or recipient, a
// subject or text that is not UTF-8 or a subject with CR/LF, or an extra
// header that is malformed, contains CR/LF/NUL, is longer than 998 octets,
// or is one the builder writes itself. Messages name the problem and, for a
// well-formed header name, that name; never a value.
Result<std::string> BuildEmail(const OutgoingMessage& m, const Mailbox& from,
                               std::chrono::system_clock::time_point now);

}  // namespace custodian::outbox::internal
