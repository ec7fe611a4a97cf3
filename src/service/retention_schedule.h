// The server's retention sweep on a schedule (custodian serve): a thread
// that runs Retention::Sweep every `interval` (then Vault::ExpireRequests), and remembers how the last one
// went for /metrics. Several servers may share a store: the sweep's lease
// keeps to one sweep at a time, and a server that finds the lease taken skips
// that round.
//
// Thread-safety: Start/Stop/last from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

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
  void Run();

  Vault& vault_;
  Retention retention_;
  ScheduleOptions options_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::optional<ScheduledSweep> last_;
};

}  // namespace custodian::service
