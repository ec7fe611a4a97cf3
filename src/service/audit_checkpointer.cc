#include "service/audit_checkpointer.h"

#include <chrono>

namespace custodian::service {

AuditCheckpointer::AuditCheckpointer(Vault& vault, CheckpointerOptions options)
    : vault_(vault), options_(std::move(options)) {}

AuditCheckpointer::~AuditCheckpointer() { Stop(); }

void AuditCheckpointer::Start() {
  seen_ = vault_.store().AuditEventsCommitted();
  last_ = std::chrono::steady_clock::now();
  const std::chrono::milliseconds poll(options_.poll_ms);
  thread_.Start(poll, [this, poll] {
    Tick();
    return poll;
  });
}

void AuditCheckpointer::Stop() {
  // What this server committed since the last tick is signed too.
  if (thread_.Stop()) MakeOne();
}

int64_t AuditCheckpointer::checkpoints_made() const {
  std::lock_guard<std::mutex> lock(mu_);
  return made_;
}

void AuditCheckpointer::MakeOne() {
  auto cp = vault_.CheckpointAudit();
  if (!cp.ok()) {
    if (options_.on_error) options_.on_error(cp.status());
    return;
  }
  if (*cp) {
    std::lock_guard<std::mutex> lock(mu_);
    ++made_;
  }
}

void AuditCheckpointer::Tick() {
  using SteadyClock = std::chrono::steady_clock;
  const int64_t now_count = vault_.store().AuditEventsCommitted();
  const int64_t elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - last_).count();
  const bool by_count = options_.every_events > 0 && now_count - seen_ >= options_.every_events;
  const bool by_time = options_.every_ms > 0 && elapsed >= options_.every_ms;
  if (!by_count && !by_time) return;
  // By time, CheckpointAudit signs only when the head moved (other
  // processes' events count too), so an idle store gets no new checkpoints.
  MakeOne();
  seen_ = now_count;
  last_ = SteadyClock::now();
}

}  // namespace custodian::service
