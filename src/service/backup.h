// Encrypted backups that keep erasures erased (docs/backup.md).
//
// A backup is one file: a consistent snapshot of the store (SQLite's online
// backup, taken while the server keeps serving), encrypted in 1 MiB chunks
// with XChaCha20-Poly1305 under a fresh key that the master key wraps. Its
// clear header (format, id, time, counts, the audit chain's head) is bound
// into the key's wrapping, and each chunk's associated data holds the
// backup's id, the chunk's number and whether it is the last: a changed,
// reordered, dropped or cut-off byte fails to open, and so does the whole
// file under another master key.
//
// Restoring verifies everything first (every chunk, SQLite's integrity check,
// the audit chain, that the master key opens every tenant's key), then
// re-applies the erasures made after the backup, read from newer copies of
// the store: the data directory's own store that the restore replaces, and
// any newer backup or store given. A newer copy must continue the backup's
// audit chain, so an older or foreign one cannot pass for later. Every
// subject erased there is erased again (crypto-shredded, audited as
// `erase` with reason "re-applied after restore"), and every subject an
// erasure request restricted there to what a legal obligation keeps is
// restricted again to the same fields, record kinds and holds. Then the
// retention sweep purges what is due (what the newer copy had already
// purged on time is due again). Only then does the restored store take the
// place of the old one, which is kept beside it.
//
// Thread-safety: each call is independent; CreateBackup runs beside other
// users of the vault.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "audit/event.h"
#include "custodian/status.h"
#include "service/vault.h"

namespace custodian::service {

// What a backup's header says (and verification confirms).
struct BackupSummary {
  std::string id;           // 32 hex digits, random
  int64_t created_ms = 0;
  int schema = 0;           // the store's schema version
  int64_t bytes = 0;        // of the snapshot, before encryption
  int64_t audit_events = 0;  // the chain's last sequence number
  std::string audit_head;   // its hash, hex ("" with no event)
  int tenants = 0;
  int64_t subjects = 0;     // not erased, all tenants
};

// Writes the vault's store to `path`, a new file (mode 0600; AlreadyExists
// if it exists), via `path`.partial renamed into place once complete and
// synced. The plaintext snapshot lives only in the data directory while it
// is encrypted, and is removed. A store-wide `backup` audit event (the
// backup's id and file, by `actor`) is appended first, so the backup holds
// the record of its own making.
Result<BackupSummary> CreateBackup(Vault& vault, const std::string& data_dir,
                                   const std::string& path, const Actor& actor = {"cli", "admin"});

struct BackupCheck {
  BackupSummary summary;
  audit::VerifyReport audit;
};

// Opens every chunk of the backup at `path` with the master key of
// `data_dir` (CUSTODIAN_MASTER_KEY, else DATA_DIR/master.key), and checks the
// snapshot: SQLite's integrity check, the audit chain, the master key opening
// every tenant's key, and the header's counts. Nothing is written but a
// temporary copy, removed. Errors name the file and the byte where it broke.
Result<BackupCheck> VerifyBackup(const std::string& data_dir, const std::string& path);

struct RestoreOptions {
  // The data directory holds a store already: move it aside (its erasures
  // are re-applied) instead of refusing.
  bool replace = false;
  // Newer backups (or custodian.db files) whose erasures are re-applied too.
  std::vector<std::string> erasures_from;
  Actor actor{"restore", "admin"};
};

struct RestoreReport {
  BackupSummary summary;
  std::vector<std::string> sources;  // where erasures were read from
  int64_t erasures_reapplied = 0;    // subjects erased (or restricted) again
  int64_t retention_purged = 0;      // items the retention sweep purged after it
  std::string replaced;              // where the replaced store went ("" if none)
};

// Restores the backup at `path` into `data_dir` (created if missing; the
// master key must be there, or in CUSTODIAN_MASTER_KEY). Nothing in
// `data_dir` changes unless every check passes. FailedPrecondition if its
// store is in use (its WAL exists: stop `custodian serve` first).
Result<RestoreReport> RestoreBackup(const std::string& data_dir, const std::string& path,
                                    const RestoreOptions& options);

// Removes what a crash in the middle of a backup, a verification or a restore
// left in `data_dir`: its staging directories (`.backup-*`, `.verify-*`,
// `.restore-*`, holding a plaintext copy of the store) whose lock no live
// process holds, and those without a lock file older than 10 minutes. A
// staging directory in use is left alone. Vault::Open calls it, so that a copy
// left by a crash cannot outlive a later erasure. The names removed, sorted.
Result<std::vector<std::string>> RemoveStaleStaging(const std::string& data_dir);

}  // namespace custodian::service
