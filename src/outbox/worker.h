// The outbox's delivery worker: claims due messages from the vault (which
// checks consent, erasure and contacts again at send time), hands each to the
// tenant's transport (Telnyx for SMS and WhatsApp, SMTP for email, from the
// tenant's channel settings) and records the outcome (sent, retried with
// backoff, dead). docs/outbox.md.
//
// Thread-safety: DeliverDue may run on any thread; a Worker runs one thread
// of its own. Several workers (or processes) may share a store: a claim is a
// lease, so no message is handed to two of them at once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>

#include "custodian/status.h"
#include "outbox/transport.h"
#include "common/periodic_thread.h"
#include "service/vault.h"

namespace custodian::outbox {

// Makes the transport for one delivery from the tenant's settings. Tests
// point it at local sinks.
using TransportFactory = std::function<Result<std::unique_ptr<Transport>>(
    const service::ChannelSettings& settings, std::string_view channel)>;

// Telnyx for sms and whatsapp, SMTP for email. FailedPrecondition when the
// tenant has no settings for the channel (the message is dead: nothing to
// retry until someone configures it).
Result<std::unique_ptr<Transport>> SettingsTransport(const service::ChannelSettings& settings,
                                                     std::string_view channel);

struct WorkerOptions {
  int batch = 32;                        // messages claimed at a time
  std::chrono::milliseconds idle{1000};  // poll interval when nothing is due
  service::OutboxOptions outbox;         // attempts, backoff, lease
  TransportFactory transports = SettingsTransport;
};

struct DeliveryCounts {
  int64_t claimed = 0;
  int64_t sent = 0;
  int64_t retried = 0;  // temporary failures, queued again
  int64_t failed = 0;   // permanent failures and attempts used up (dead)
  int64_t refused = 0;  // may no longer go: consent withdrawn, subject erased...
};

// Claims and delivers due messages in batches until none is due now.
Result<DeliveryCounts> DeliverDue(service::Vault& vault, const WorkerOptions& options);

// DeliverDue in a background thread, every `idle` or when woken.
class Worker {
 public:
  Worker(service::Vault& vault, WorkerOptions options);
  ~Worker();  // Stop()
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void Start();
  // Finishes the delivery in progress, then returns. Idempotent.
  void Stop();
  // A message was queued: deliver now rather than at the next poll.
  void Wake();
  // Totals since Start (for metrics).
  DeliveryCounts totals() const;

 private:
  void Round();  // delivers what is due, adds to the totals

  service::Vault& vault_;
  WorkerOptions options_;
  mutable std::mutex mu_;
  DeliveryCounts totals_;
  PeriodicThread thread_;  // last: stopped before the rest goes
};

}  // namespace custodian::outbox
