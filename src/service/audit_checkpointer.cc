#include "service/audit_checkpointer.h"

#include <chrono>

namespace custodian::service {

AuditCheckpointer::AuditCheckpointer(Vault& vault, CheckpointerOptions options)
    : vault_(vault), options_(std::move(options)) {}

AuditCheckpointer::~AuditCheckpointer() { Stop(); }

void AuditCheckpointer::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void AuditCheckpointer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  thread_ = std::thread();
  MakeOne();  // what this server committed since the last tick is signed too
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

void AuditCheckpointer::Run() {
  using SteadyClock = std::chrono::steady_clock;
  int64_t seen = vault_.store().AuditEventsCommitted();
  auto last = SteadyClock::now();
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_ms), [this] { return stop_; });
    if (stop_) break;
    int64_t now_count = vault_.store().AuditEventsCommitted();
    int64_t elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - last).count();
    bool by_count = options_.every_events > 0 && now_count - seen >= options_.every_events;
    bool by_time = options_.every_ms > 0 && elapsed >= options_.every_ms;
    if (!by_count && !by_time) continue;
    lock.unlock();
    // By time, CheckpointAudit signs only when the head moved (other
    // processes' events count too), so an idle store gets no new checkpoints.
    MakeOne();
    lock.lock();
    seen = now_count;
    last = SteadyClock::now();
  }
}

}  // namespace custodian::service
