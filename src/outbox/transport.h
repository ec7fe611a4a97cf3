// Transports: deliver one outgoing message, once, to one provider, and say
// whether a failure is worth retrying. The outbox worker owns retries,
// backoff and bookkeeping; a Transport only makes one attempt.
//
//   Telnyx (SMS, WhatsApp) over HTTPS, libcurl:
//     SMS       POST {base_url}/v2/messages
//               {"from", "to", "text", "messaging_profile_id" (when set)}
//     WhatsApp  POST {base_url}/v2/messages/whatsapp
//               {"from", "to", "whatsapp_message": {"type": "text",
//                "text": {"body": text}}}
//               (Telnyx's documented shape; free-form text only reaches a
//               recipient inside WhatsApp's 24-hour customer-service window,
//               otherwise Telnyx refuses it with a 4xx: permanent.)
//     Headers: Authorization: Bearer {api_key}, Content-Type:
//     application/json, Idempotency-Key: {message id}, so that a retry after
//     a timeout never sends the message twice on Telnyx's side.
//     "from" is left out when empty (Telnyx then picks a number from the
//     messaging profile's pool). DeliveryResult::provider_id is "data.id" of
//     the reply, "" if a 2xx reply lacks it.
//   Email over SMTP or SMTPS, libcurl: the transport writes the RFC 5322
//     message itself (Date in UTC, From, To, Subject as RFC 2047 encoded
//     words when not plain ASCII, Message-ID <{id}@custodian>, MIME-Version,
//     text/plain UTF-8 in 7bit/8bit, or base64 when a line is too long for
//     SMTP, then the message's extra headers) with CRLF line endings; curl
//     dot-stuffs it. provider_id is that Message-ID. SMTP has no
//     idempotency key: an attempt that times out after the final "." may
//     have been delivered; the stable Message-ID lets receivers dedupe.
//     require_tls: STARTTLS is required (smtps:// is TLS from the start).
//     Credentials are never sent over a connection that is not TLS: with a
//     username, smtp:// without require_tls is refused (FailedPrecondition).
//
// Failures of Send (the Status code is the retry decision):
//   Unavailable         worth retrying: connection refused or reset, DNS,
//                       timeout, HTTP 408/425/429/5xx, SMTP 4xx.
//   InvalidArgument     permanent, the message is unsendable: a bad
//                       recipient or message id, text that is not UTF-8, an
//                       extra header with CR/LF (header injection) or one we
//                       generate ourselves, a channel the transport does not
//                       carry; HTTP 400/422. Nothing is sent when the message
//                       is refused before the attempt.
//   FailedPrecondition  permanent until an operator acts: other HTTP 3xx/4xx
//                       (401 bad key, 403, 404, ...), SMTP 5xx, TLS or
//                       authentication failures, an unusable configuration.
// Messages say what failed (HTTP status and Telnyx's error code, curl's error
// text, the SMTP reply code), never the recipient, the subject, the text,
// a header value, or a credential; they are safe to log.
//
// Thread-safety: Send is thread-safe; each call uses its own curl handle and
// connection. A Transport holds no state between calls besides its config.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "custodian/status.h"

namespace custodian::outbox {

enum class Channel { kSms, kWhatsapp, kEmail };

struct OutgoingMessage {
  // The outbox's message id, e.g. "msg_..."; the idempotency key and the
  // local part of the Message-ID. 1 to 200 characters among RFC 5322 atext
  // and '.'.
  std::string id;
  Channel channel = Channel::kSms;
  std::string to;       // E.164 phone number ("+15551234567") or email address
  std::string subject;  // email only
  std::string text;     // body, plain text, UTF-8
  // Email only: extra headers, e.g. {"List-Unsubscribe", "<https://...>"},
  // {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}.
  std::vector<std::pair<std::string, std::string>> headers;
};

struct TelnyxConfig {
  std::string base_url = "https://api.telnyx.com";  // no trailing "/v2"
  std::string api_key;
  std::string from;                  // E.164 number, short code or alphanumeric sender id
  std::string messaging_profile_id;  // optional; SMS only
};

struct SmtpConfig {
  std::string url;       // smtp://host:port or smtps://host:port
  std::string from;      // "noreply@example.org" or "Example <noreply@example.org>"
  std::string username;  // optional; AUTH only over TLS
  std::string password;
  bool require_tls = false;  // smtp://: STARTTLS or fail
};

struct DeliveryResult {
  // Telnyx: data.id of the reply; SMTP: the Message-ID header we generated.
  std::string provider_id;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // One delivery attempt of `m`; see the top of this file for the failures.
  virtual Result<DeliveryResult> Send(const OutgoingMessage& m) = 0;
};

// Carries kSms and kWhatsapp; kEmail is InvalidArgument. `timeout` bounds
// the whole attempt (connect, send, reply).
std::unique_ptr<Transport> NewTelnyxTransport(
    TelnyxConfig config, std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Carries kEmail only; others are InvalidArgument.
std::unique_ptr<Transport> NewSmtpTransport(
    SmtpConfig config, std::chrono::milliseconds timeout = std::chrono::seconds(20));

// Sends nothing: appends each message (time, channel, recipient, id, email
// subject, text) to the file at `path` (created 0600), every channel. For
// `custodian demo` only, where the people are made up: the file holds what
// the real transports would have carried, codes included.
std::unique_ptr<Transport> NewFileTransport(std::string path);

}  // namespace custodian::outbox
