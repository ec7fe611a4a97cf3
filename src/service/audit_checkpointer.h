// Signs the audit chain head in the background: every `every_events` events
// committed through the vault's store, or every `every_ms` when any event was
// committed since the last checkpoint (docs/audit.md). `custodian serve` runs
// one. A failed checkpoint is reported through `on_error` and retried at the
// next tick; it never stops the server (the events stay chained meanwhile).
// Thread-safety: Start/Stop from one thread; the work runs on its own thread
// (a PeriodicThread).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>

#include "common/periodic_thread.h"
#include "service/vault.h"

namespace custodian::service {

struct CheckpointerOptions {
  int64_t every_events = 10000;   // 0: no count trigger
  int64_t every_ms = 60 * 1000;   // 0: no time trigger
  int64_t poll_ms = 250;          // how often the event count is looked at
  std::function<void(const Status&)> on_error;
};

class AuditCheckpointer {
 public:
  AuditCheckpointer(Vault& vault, CheckpointerOptions options);
  ~AuditCheckpointer();  // stops
  AuditCheckpointer(const AuditCheckpointer&) = delete;
  AuditCheckpointer& operator=(const AuditCheckpointer&) = delete;

  void Start();
  // Makes a last checkpoint of what was committed, then stops.
  void Stop();
  int64_t checkpoints_made() const;

 private:
  void Tick();  // one poll: a checkpoint if enough events or time went by
  void MakeOne();
  Vault& vault_;
  CheckpointerOptions options_;
  mutable std::mutex mu_;
  int64_t made_ = 0;
  int64_t seen_ = 0;  // events committed at the last checkpoint (the thread's own)
  std::chrono::steady_clock::time_point last_;
  PeriodicThread thread_;  // last: stopped before the rest goes
};

}  // namespace custodian::service
