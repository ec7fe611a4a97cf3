#include "service/retention_schedule.h"

#include <iostream>

namespace custodian::service {

RetentionSchedule::RetentionSchedule(Vault& vault, ScheduleOptions options)
    : vault_(vault), retention_(vault), options_(std::move(options)) {
  // Stop() ends a sweep between batches rather than after all of them.
  options_.sweep.cancelled = [this] { return thread_.stopping(); };
}

RetentionSchedule::~RetentionSchedule() { Stop(); }

void RetentionSchedule::Start() {
  thread_.Start(options_.first_delay, [this] {
    Round();
    return options_.interval;
  });
}

void RetentionSchedule::Stop() { thread_.Stop(); }

std::optional<ScheduledSweep> RetentionSchedule::last() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_;
}

void RetentionSchedule::Round() {
  auto start = std::chrono::steady_clock::now();
  auto report = retention_.Sweep(options_.actor, options_.sweep);
  ScheduledSweep s;
  s.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  s.finished_ms = SystemClockMs();
  if (report.ok()) {
    s.ok = true;
    s.report = std::move(report).value();
  } else if (report.status().code() == StatusCode::kFailedPrecondition) {
    s.skipped = true;  // another sweep holds the lease
  } else if (options_.sweep.cancelled()) {
    return;  // stopped mid-sweep: the next start goes on from there
  } else {
    std::cerr << "custodian: retention sweep: " << report.status().message() << "\n";
  }
  // Data-subject requests never verified by their due date expire on the
  // same schedule (and export links past their expiry lose their bundles).
  if (auto expired = vault_.ExpireRequests(); !expired.ok()) {
    std::cerr << "custodian: expiring requests: " << expired.status().message() << "\n";
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!s.skipped) last_ = std::move(s);
}

}  // namespace custodian::service
