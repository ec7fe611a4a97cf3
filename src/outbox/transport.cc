// The Telnyx transport, and the curl plumbing both transports share.
#include "outbox/transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string_view>

#include "outbox/internal.h"

namespace custodian::outbox {
namespace internal {

Result<CurlEasy> NewCurlEasy() {
  static std::once_flag once;
  static CURLcode init = CURLE_OK;
  std::call_once(once, [] { init = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (init != CURLE_OK) return Status::Internal("curl_global_init failed");
  CurlEasy handle(curl_easy_init());
  if (!handle) return Status::Internal("curl_easy_init failed");
  return handle;
}

Status AppendSlist(CurlSlist& list, const std::string& line) {
  curl_slist* appended = curl_slist_append(list.get(), line.c_str());
  if (appended == nullptr) return Status::Internal("curl_slist_append failed");
  list.release();  // now owned by `appended`'s chain
  list.reset(appended);
  return Status::Ok();
}

Status CurlFailure(std::string_view who, CURLcode code) {
  std::string message = std::string(who) + ": " + curl_easy_strerror(code) + " (curl " +
                        std::to_string(static_cast<int>(code)) + ")";
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_REMOTE_ACCESS_DENIED:
    case CURLE_LOGIN_DENIED:
    case CURLE_AUTH_ERROR:
    case CURLE_USE_SSL_FAILED:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_UNKNOWN_OPTION:
    case CURLE_BAD_FUNCTION_ARGUMENT:
      return Status::FailedPrecondition(std::move(message));
    default:  // refused, reset, DNS, timeout, empty or cut reply, ...: retry
      return Status::Unavailable(std::move(message));
  }
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1, cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2, cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= n; ++k) {
      unsigned char d = s[i + k];
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

bool IsValidMessageId(std::string_view id) {
  static constexpr std::string_view kSpecials = "!#$%&'*+-/=?^_`{|}~.";
  if (id.empty() || id.size() > 200) return false;
  for (char c : id) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && kSpecials.find(c) == std::string_view::npos) return false;
  }
  return true;
}

bool IsE164(std::string_view number) {
  if (number.size() < 3 || number.size() > 16 || number[0] != '+' || number[1] == '0') return false;
  for (char c : number.substr(1)) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool IsValidEmailAddress(std::string_view address) {
  static constexpr std::string_view kForbidden = "()<>[]:;,\\\"";
  if (address.empty() || address.size() > 254) return false;
  size_t at = address.rfind('@');
  if (at == 0 || at == std::string_view::npos || at + 1 == address.size()) return false;
  for (unsigned char c : address) {
    if (c <= 0x20 || c == 0x7f || kForbidden.find(static_cast<char>(c)) != std::string_view::npos) {
      return false;
    }
  }
  return IsValidUtf8(address);
}

}  // namespace internal

namespace {

using internal::CurlEasy;
using internal::CurlSlist;

constexpr size_t kMaxReplyBytes = 64 << 10;  // enough for any Telnyx reply we read

size_t AppendReply(char* data, size_t size, size_t count, void* user) {
  auto* reply = static_cast<std::string*>(user);
  size_t n = size * count;
  if (reply->size() < kMaxReplyBytes)
    reply->append(data, std::min(n, kMaxReplyBytes - reply->size()));
  return n;  // the rest is read and dropped
}

bool IsRetryableHttp(long status) {
  return status == 408 || status == 425 || status == 429 || status >= 500;
}

// Telnyx's own error code ("errors":[{"code":"40310",...}]) if it looks like
// one; the title and detail are left out, as they may quote the recipient.
std::string TelnyxErrorCode(const std::string& reply) {
  nlohmann::json json = nlohmann::json::parse(reply, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return "";
  auto errors = json.find("errors");
  if (errors == json.end() || !errors->is_array() || errors->empty()) return "";
  const nlohmann::json& first = errors->front();
  if (!first.is_object()) return "";
  auto code = first.find("code");
  if (code == first.end()) return "";
  std::string text = code->is_string()           ? code->get<std::string>()
                     : code->is_number_integer() ? std::to_string(code->get<int64_t>())
                                                 : "";
  if (text.empty() || text.size() > 16) return "";
  for (char c : text) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '_' || c == '-';
    if (!ok) return "";
  }
  return text;
}

Status HttpFailure(long status, const std::string& reply) {
  std::string message = "telnyx: HTTP " + std::to_string(status);
  if (std::string code = TelnyxErrorCode(reply); !code.empty()) {
    message += " (Telnyx error " + code + ")";
  }
  if (IsRetryableHttp(status)) return Status::Unavailable(std::move(message));
  if (status == 400 || status == 422) return Status::InvalidArgument(std::move(message));
  return Status::FailedPrecondition(std::move(message));
}

bool IsPrintableToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

class TelnyxTransport final : public Transport {
 public:
  TelnyxTransport(TelnyxConfig config, std::chrono::milliseconds timeout)
      : config_(std::move(config)), timeout_(timeout) {
    while (!config_.base_url.empty() && config_.base_url.back() == '/') config_.base_url.pop_back();
  }

  Result<DeliveryResult> Send(const OutgoingMessage& m) override {
    RETURN_IF_ERROR(CheckConfig());
    RETURN_IF_ERROR(CheckMessage(m));
    std::string body = RequestBody(m);
    std::string url = config_.base_url +
                      (m.channel == Channel::kWhatsapp ? "/v2/messages/whatsapp" : "/v2/messages");

    ASSIGN_OR_RETURN(CurlEasy curl, internal::NewCurlEasy());
    CurlSlist headers;
    RETURN_IF_ERROR(internal::AppendSlist(headers, "Authorization: Bearer " + config_.api_key));
    RETURN_IF_ERROR(internal::AppendSlist(headers, "Content-Type: application/json"));
    RETURN_IF_ERROR(internal::AppendSlist(headers, "Accept: application/json"));
    RETURN_IF_ERROR(internal::AppendSlist(headers, "Idempotency-Key: " + m.id));
    RETURN_IF_ERROR(internal::AppendSlist(headers, "Expect:"));  // no 100-continue round trip

    std::string reply;
    CURL* h = curl.get();
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout_.count()));
    curl_easy_setopt(h, CURLOPT_USERAGENT, "custodian");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, AppendReply);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply);

    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) return internal::CurlFailure("telnyx", rc);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) return HttpFailure(status, reply);

    DeliveryResult result;
    nlohmann::json json = nlohmann::json::parse(reply, nullptr, /*allow_exceptions=*/false);
    if (json.is_object()) {
      auto data = json.find("data");
      if (data != json.end() && data->is_object()) {
        auto id = data->find("id");
        if (id != data->end() && id->is_string()) result.provider_id = id->get<std::string>();
      }
    }
    return result;
  }

 private:
  Status CheckConfig() const {
    if (config_.base_url.rfind("https://", 0) != 0 && config_.base_url.rfind("http://", 0) != 0) {
      return Status::FailedPrecondition("telnyx: base url must start with https:// or http://");
    }
    if (!IsPrintableToken(config_.api_key)) {
      return Status::FailedPrecondition("telnyx: api key is empty or not printable ASCII");
    }
    if (!config_.from.empty() && !IsPrintableToken(config_.from)) {
      return Status::FailedPrecondition("telnyx: sender is not printable ASCII");
    }
    if (!config_.messaging_profile_id.empty() && !IsPrintableToken(config_.messaging_profile_id)) {
      return Status::FailedPrecondition("telnyx: messaging profile id is not printable ASCII");
    }
    return Status::Ok();
  }

  static Status CheckMessage(const OutgoingMessage& m) {
    if (m.channel == Channel::kEmail) {
      return Status::InvalidArgument("telnyx: the email channel goes through SMTP");
    }
    if (!internal::IsValidMessageId(m.id)) {
      return Status::InvalidArgument("telnyx: message id is malformed");
    }
    if (!internal::IsE164(m.to)) {
      return Status::InvalidArgument("telnyx: recipient is not an E.164 number");
    }
    if (m.text.empty()) return Status::InvalidArgument("telnyx: message text is empty");
    if (!internal::IsValidUtf8(m.text)) {
      return Status::InvalidArgument("telnyx: message text is not UTF-8");
    }
    return Status::Ok();
  }

  std::string RequestBody(const OutgoingMessage& m) const {
    nlohmann::json body = nlohmann::json::object();
    if (!config_.from.empty()) body["from"] = config_.from;
    body["to"] = m.to;
    if (m.channel == Channel::kWhatsapp) {
      body["whatsapp_message"] = {{"type", "text"}, {"text", {{"body", m.text}}}};
    } else {
      body["text"] = m.text;
      if (!config_.messaging_profile_id.empty()) {
        body["messaging_profile_id"] = config_.messaging_profile_id;
      }
    }
    // The text was checked to be UTF-8; `replace` only keeps dump() from ever throwing.
    return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }

  TelnyxConfig config_;
  std::chrono::milliseconds timeout_;
};

}  // namespace

std::unique_ptr<Transport> NewTelnyxTransport(TelnyxConfig config,
                                              std::chrono::milliseconds timeout) {
  return std::make_unique<TelnyxTransport>(std::move(config), timeout);
}

}  // namespace custodian::outbox
