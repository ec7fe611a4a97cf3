// The SMTP transport: the message from email_message.h, sent through curl.
#include <curl/curl.h>

#include <algorithm>
#include <cstring>

#include "outbox/email_message.h"
#include "outbox/internal.h"
#include "outbox/transport.h"

namespace custodian::outbox {
namespace {

using internal::CurlEasy;
using internal::CurlSlist;

struct Upload {
  const std::string* data;
  size_t offset = 0;
};

size_t ReadUpload(char* buffer, size_t size, size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  size_t n = std::min(size * count, upload->data->size() - upload->offset);
  std::memcpy(buffer, upload->data->data() + upload->offset, n);
  upload->offset += n;
  return n;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// A failed attempt: the server's reply code when it gave one, else curl's error.
Status SmtpFailure(CURLcode rc, long reply_code) {
  if (reply_code >= 400 && reply_code <= 599) {
    std::string message =
        "smtp: server replied " + std::to_string(reply_code) + " (" + curl_easy_strerror(rc) + ")";
    if (reply_code < 500) return Status::Unavailable(std::move(message));
    return Status::FailedPrecondition(std::move(message));
  }
  return internal::CurlFailure("smtp", rc);
}

class SmtpTransport final : public Transport {
 public:
  SmtpTransport(SmtpConfig config, std::chrono::milliseconds timeout)
      : config_(std::move(config)), timeout_(timeout) {}

  Result<DeliveryResult> Send(const OutgoingMessage& m) override {
    bool tls_url = StartsWithIgnoreCase(config_.url, "smtps://");
    if (!tls_url && !StartsWithIgnoreCase(config_.url, "smtp://")) {
      return Status::FailedPrecondition("smtp: url must start with smtp:// or smtps://");
    }
    if (config_.url.find('@') != std::string::npos) {
      return Status::FailedPrecondition("smtp: credentials go in username/password, not the url");
    }
    if (!config_.username.empty() && !tls_url && !config_.require_tls) {
      return Status::FailedPrecondition(
          "smtp: credentials need TLS: use smtps:// or set require_tls");
    }
    auto from = internal::ParseMailbox(config_.from);
    if (!from.ok()) return Status::FailedPrecondition("smtp: configured sender is not a mailbox");
    if (m.channel != Channel::kEmail) {
      return Status::InvalidArgument("smtp: only the email channel goes through SMTP");
    }
    auto built = internal::BuildEmail(m, *from, std::chrono::system_clock::now());
    if (!built.ok()) return built.status().WithContext("smtp");
    const std::string& message = *built;

    ASSIGN_OR_RETURN(CurlEasy curl, internal::NewCurlEasy());
    CurlSlist recipients;
    RETURN_IF_ERROR(internal::AppendSlist(recipients, "<" + m.to + ">"));
    std::string mail_from = "<" + from->address + ">";
    Upload upload{&message};

    CURL* h = curl.get();
    curl_easy_setopt(h, CURLOPT_URL, config_.url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout_.count()));
    if (config_.require_tls)
      curl_easy_setopt(h, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
    if (!config_.username.empty()) {
      curl_easy_setopt(h, CURLOPT_USERNAME, config_.username.c_str());
      curl_easy_setopt(h, CURLOPT_PASSWORD, config_.password.c_str());
    }
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, mail_from.c_str());
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, recipients.get());
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, ReadUpload);
    curl_easy_setopt(h, CURLOPT_READDATA, &upload);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));

    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
      long reply_code = 0;
      curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply_code);
      return SmtpFailure(rc, reply_code);
    }
    return DeliveryResult{internal::MessageIdFor(m.id)};
  }

 private:
  SmtpConfig config_;
  std::chrono::milliseconds timeout_;
};

}  // namespace

std::unique_ptr<Transport> NewSmtpTransport(SmtpConfig config, std::chrono::milliseconds timeout) {
  return std::make_unique<SmtpTransport>(std::move(config), timeout);
}

}  // namespace custodian::outbox
