// The file transport (transport.h): every message appended to one file
// instead of being sent, for `custodian demo`.
#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "common/fd.h"
#include "common/time.h"
#include "outbox/transport.h"
#include "service/vault.h"

namespace custodian::outbox {
namespace {

const char* ChannelName(Channel c) {
  switch (c) {
    case Channel::kSms: return "sms";
    case Channel::kWhatsapp: return "whatsapp";
    case Channel::kEmail: return "email";
  }
  return "?";
}

class FileTransport final : public Transport {
 public:
  explicit FileTransport(std::string path) : path_(std::move(path)) {}

  Result<DeliveryResult> Send(const OutgoingMessage& m) override {
    std::string entry = "--- " + FormatTime(service::SystemClockMs()) + "  " + ChannelName(m.channel) + " to " +
                        m.to + "  (" + m.id + ")\n";
    if (!m.subject.empty()) entry += "Subject: " + m.subject + "\n";
    entry += m.text + "\n\n";
    std::lock_guard<std::mutex> lock(mu_);
    UniqueFd fd(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (fd.get() < 0) {
      return Status::FailedPrecondition("cannot open the message file: " +
                                        std::string(std::strerror(errno)));
    }
    if (int err = WriteAll(fd.get(), entry); err != 0) {
      return Status::Unavailable("cannot write the message file: " +
                                 std::string(std::strerror(err)));
    }
    return DeliveryResult{"file:" + m.id};
  }

 private:
  const std::string path_;
  std::mutex mu_;
};

}  // namespace

std::unique_ptr<Transport> NewFileTransport(std::string path) {
  return std::make_unique<FileTransport>(std::move(path));
}

}  // namespace custodian::outbox
