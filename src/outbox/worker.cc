#include "outbox/worker.h"

#include <iostream>

namespace custodian::outbox {

Result<std::unique_ptr<Transport>> SettingsTransport(const service::ChannelSettings& settings,
                                                     std::string_view channel) {
  if (channel == "email") {
    if (!settings.smtp) {
      return Status::FailedPrecondition("the tenant has no SMTP settings (custodian channels set)");
    }
    const service::SmtpSettings& s = *settings.smtp;
    return NewSmtpTransport({s.url, s.from, s.username, s.password, s.require_tls});
  }
  if (!settings.telnyx || settings.telnyx->from.empty()) {
    return Status::FailedPrecondition(
        "the tenant has no Telnyx sending number (custodian channels set)");
  }
  const service::TelnyxSettings& t = *settings.telnyx;
  return NewTelnyxTransport({t.base_url, t.api_key, t.from, t.messaging_profile_id});
}

namespace {

Channel ChannelOf(std::string_view name) {
  if (name == "email") return Channel::kEmail;
  if (name == "whatsapp") return Channel::kWhatsapp;
  return Channel::kSms;
}

}  // namespace

Result<DeliveryCounts> DeliverDue(service::Vault& vault, const WorkerOptions& options) {
  DeliveryCounts counts;
  while (true) {
    ASSIGN_OR_RETURN(std::vector<service::Delivery> batch,
                     vault.ClaimDeliveries(options.batch, options.outbox, &counts.refused));
    if (batch.empty()) return counts;
    for (const service::Delivery& d : batch) {
      ++counts.claimed;
      Status outcome = Status::Ok();
      std::string provider_id;
      auto settings = vault.GetChannelSettings(d.tenant);
      auto transport = settings.ok() ? options.transports(*settings, d.channel)
                                     : Result<std::unique_ptr<Transport>>(settings.status());
      if (!transport.ok()) {
        outcome = transport.status();
      } else {
        OutgoingMessage m{d.id, ChannelOf(d.channel), d.to, d.email_subject, d.text, d.headers};
        auto sent = (*transport)->Send(m);
        if (sent.ok()) {
          provider_id = sent->provider_id;
        } else {
          outcome = sent.status();
        }
      }
      RETURN_IF_ERROR(vault.CompleteDelivery(d, outcome, provider_id, options.outbox));
      if (outcome.ok()) {
        ++counts.sent;
      } else if (outcome.code() == StatusCode::kUnavailable &&
                 d.attempt < options.outbox.max_attempts) {
        ++counts.retried;
      } else {
        ++counts.failed;
      }
    }
  }
}

Worker::Worker(service::Vault& vault, WorkerOptions options)
    : vault_(vault), options_(std::move(options)) {}

Worker::~Worker() { Stop(); }

void Worker::Start() {
  thread_.Start(std::chrono::milliseconds(0), [this] {
    Round();
    return std::chrono::duration_cast<std::chrono::milliseconds>(options_.idle);
  });
}

void Worker::Stop() { thread_.Stop(); }

void Worker::Wake() { thread_.Wake(); }

DeliveryCounts Worker::totals() const {
  std::lock_guard<std::mutex> lock(mu_);
  return totals_;
}

void Worker::Round() {
  auto counts = DeliverDue(vault_, options_);
  std::lock_guard<std::mutex> lock(mu_);
  if (counts.ok()) {
    totals_.claimed += counts->claimed;
    totals_.sent += counts->sent;
    totals_.retried += counts->retried;
    totals_.failed += counts->failed;
    totals_.refused += counts->refused;
  } else {
    // The store is failing: say so (no personal data in a Status) and retry later.
    std::cerr << "custodian: outbox: " << counts.status().message() << "\n";
  }
}

}  // namespace custodian::outbox
