// The server's retention sweep on a schedule (custodian serve): a thread
// that runs Retention::Sweep every `interval` (then Vault::ExpireRequests), and remembers how the last one
// went for /metrics. Several servers may share a store: the sweep's lease
// keeps to one sweep at a time, and a server that finds the lease taken skips
// that round.
//
// Thread-safety: Start/Stop/last from any thread.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>

#include "common/periodic_thread.h"
#include "service/retention.h"

namespace custodian::service {

struct ScheduleOptions {
  std::chrono::milliseconds interval{std::chrono::hours(1)};
  std::chrono::milliseconds first_delay{std::chrono::seconds(5)};  // after Start
  SweepOptions sweep;
  Actor actor{"retention-sweep", "admin"};
};

// What the last round of this schedule did.
struct ScheduledSweep {
  int64_t finished_ms = 0;
  double duration_s = 0;
  bool ok = false;
  bool skipped = false;   // another sweep held the lease
  SweepReport report;
};

class RetentionSchedule {
 public:
  RetentionSchedule(Vault& vault, ScheduleOptions options);
  ~RetentionSchedule();  // Stop()
  RetentionSchedule(const RetentionSchedule&) = delete;
  RetentionSchedule& operator=(const RetentionSchedule&) = delete;

  void Start();
  // Stops a sweep in progress after its current batch, then returns. Idempotent.
  void Stop();
  std::optional<ScheduledSweep> last() const;

 private:
  void Round();  // one sweep, then the request expiry

  Vault& vault_;
  Retention retention_;
  ScheduleOptions options_;
  mutable std::mutex mu_;
  std::optional<ScheduledSweep> last_;
  PeriodicThread thread_;  // last: stopped before the rest goes
};

}  // namespace custodian::service
