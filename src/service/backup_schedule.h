// Regular backups from the server (custodian serve --backup-dir, docs/backup.md):
// a thread that writes an encrypted backup (CreateBackup) into a directory
// every `interval`, named custodian-YYYYMMDDTHHMMSSZ.backup, and keeps the
// newest `keep` of them. The first one is due `interval` after the newest
// backup already there (a restarted server does not start the clock again),
// or `first_delay` after Start when there is none or it is overdue.
//
// Only files of that name pattern are ever deleted (and `.partial` files of
// it, which a crash mid-write left). One server per backup directory: two
// would each keep their own count and delete each other's partial files.
//
// Thread-safety: Start/Stop/last from any thread; RunOnce not beside Start.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/periodic_thread.h"
#include "service/backup.h"

namespace custodian::service {

struct BackupScheduleOptions {
  std::string data_dir;  // the vault's
  std::string dir;       // where the backups go (must exist)
  std::chrono::milliseconds interval{std::chrono::hours(24)};
  std::chrono::milliseconds first_delay{std::chrono::seconds(60)};
  int keep = 7;
  Actor actor{"backup-schedule", "admin"};
  // A backup that failed; it is tried again after min(interval, 10 minutes).
  std::function<void(const Status&)> on_error;
  std::function<int64_t()> clock = SystemClockMs;
};

// What the last round did.
struct ScheduledBackup {
  int64_t finished_ms = 0;
  double duration_s = 0;
  Status status;            // OK, or why it failed
  std::string file;         // the backup written
  int64_t file_bytes = 0;
  BackupSummary summary;
  std::vector<std::string> pruned;  // older backups deleted to keep `keep`
};

class BackupSchedule {
 public:
  BackupSchedule(Vault& vault, BackupScheduleOptions options);
  ~BackupSchedule();  // Stop()
  BackupSchedule(const BackupSchedule&) = delete;
  BackupSchedule& operator=(const BackupSchedule&) = delete;

  void Start();
  // Waits for a backup in progress to finish, then returns. Idempotent.
  void Stop();
  std::optional<ScheduledBackup> last() const;
  // Writes one backup and prunes, now (what each round does).
  ScheduledBackup RunOnce();
  // The backups of this schedule's name pattern in `dir`, oldest first.
  static std::vector<std::string> List(const std::string& dir);
  // How long after now the next backup is due, from the newest one in `dir`.
  std::chrono::milliseconds FirstWait() const;

 private:
  Vault& vault_;
  BackupScheduleOptions options_;
  mutable std::mutex mu_;
  std::optional<ScheduledBackup> last_;
  PeriodicThread thread_;  // last: stopped before the rest goes
};

}  // namespace custodian::service
