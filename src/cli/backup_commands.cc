// custodian backup create|verify, custodian restore (docs/backup.md).
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "service/backup.h"

namespace custodian::cli {
namespace {

using nlohmann::ordered_json;

ordered_json SummaryJson(const service::BackupSummary& s) {
  return {{"id", s.id},
          {"created", FormatTime(s.created_ms)},
          {"schema", s.schema},
          {"bytes", s.bytes},
          {"tenants", s.tenants},
          {"subjects", s.subjects},
          {"audit_events", s.audit_events},
          {"audit_head", s.audit_head}};
}

// "2 tenants, 1,234 subjects, audit chain through event 567"
std::string Describe(const service::BackupSummary& s) {
  return std::to_string(s.tenants) + " tenant" + (s.tenants == 1 ? "" : "s") + ", " +
         std::to_string(s.subjects) + " subject" + (s.subjects == 1 ? "" : "s") +
         ", audit chain through event " + std::to_string(s.audit_events) + ", made " +
         FormatTime(s.created_ms) + ", id " + s.id;
}

struct BackupOptions {
  CommonOptions common;
  std::string file;
  bool replace = false;
  std::vector<std::string> erasures_from;
};

}  // namespace

void RegisterBackupCommands(CLI::App& app, int& exit_code) {
  CLI::App* backup = app.add_subcommand(
      "backup", "Encrypted backups of the data directory's store (docs/backup.md)");
  backup->require_subcommand(1);
  {
    auto o = std::make_shared<BackupOptions>();
    CLI::App* cmd = backup->add_subcommand(
        "create", "Write an encrypted backup to FILE while the store stays in use");
    cmd->add_option("FILE", o->file, "The backup file to write (must not exist)")->required();
    AddCommonOptions(cmd, o->common, /*json=*/true, nullptr);
    cmd->callback([o, &exit_code] {
      WithVault(o->common.data_dir, exit_code, [&](service::Vault& v) {
        auto made =
            service::CreateBackup(v, o->common.data_dir, o->file, {o->common.actor, "admin"});
        if (!made.ok()) {
          exit_code = Fail(made.status());
          return;
        }
        if (o->common.json) {
          ordered_json out = SummaryJson(*made);
          out["file"] = o->file;
          std::cout << out.dump() << "\n";
          return;
        }
        std::cout << "backup written to " << o->file << ": " << Describe(*made) << "\n"
                  << "It opens only with this data directory's master key: keep the key, and "
                     "copies of it, apart from the backups.\n";
      });
    });
  }
  {
    auto o = std::make_shared<BackupOptions>();
    CLI::App* cmd = backup->add_subcommand(
        "verify", "Open every part of a backup and check what it holds, without restoring it");
    cmd->add_option("FILE", o->file, "The backup file")->required();
    AddCommonOptions(cmd, o->common, /*json=*/true, nullptr);
    cmd->callback([o, &exit_code] {
      auto check = service::VerifyBackup(o->common.data_dir, o->file);
      if (!check.ok()) {
        exit_code = Fail(check.status());
        return;
      }
      if (o->common.json) {
        ordered_json out = SummaryJson(check->summary);
        out["ok"] = true;
        out["file"] = o->file;
        std::cout << out.dump() << "\n";
        return;
      }
      std::cout << "backup " << o->file << " ok: " << Describe(check->summary) << "\n"
                << "  every chunk opened with the master key; the database passed SQLite's "
                   "integrity check; the audit chain verified ("
                << check->audit.events << " events, head " << check->audit.head_hash_hex
                << "); every tenant key opens\n";
    });
  }
  {
    auto o = std::make_shared<BackupOptions>();
    CLI::App* cmd = app.add_subcommand(
        "restore",
        "Restore a backup into the data directory, re-applying the erasures made since");
    cmd->add_option("FILE", o->file, "The backup file")->required();
    cmd->add_flag("--replace", o->replace,
                  "The data directory holds a store: restore over it (it is kept beside as "
                  "custodian.db.replaced-TIME, and its erasures are re-applied)");
    cmd->add_option("--erasures-from", o->erasures_from,
                    "A newer backup or custodian.db whose erasures are re-applied too "
                    "(repeatable)");
    AddCommonOptions(cmd, o->common, /*json=*/true, nullptr);
    cmd->callback([o, &exit_code] {
      service::RestoreOptions ro;
      ro.replace = o->replace;
      ro.erasures_from = o->erasures_from;
      ro.actor.id = o->common.actor == "cli" ? "restore" : o->common.actor;
      auto r = service::RestoreBackup(o->common.data_dir, o->file, ro);
      if (!r.ok()) {
        exit_code = Fail(r.status());
        return;
      }
      if (o->common.json) {
        ordered_json out = SummaryJson(r->summary);
        out["file"] = o->file;
        out["data_dir"] = o->common.data_dir;
        out["erasures_from"] = r->sources;
        out["erasures_reapplied"] = r->erasures_reapplied;
        out["retention_purged"] = r->retention_purged;
        out["replaced"] = r->replaced.empty() ? ordered_json() : ordered_json(r->replaced);
        std::cout << out.dump() << "\n";
        return;
      }
      std::cout << "restored " << o->file << " into " << o->common.data_dir << ": "
                << Describe(r->summary) << "\n";
      std::cout << "  erasures re-applied: " << r->erasures_reapplied;
      if (r->sources.empty()) {
        std::cout << " (no newer copy of the store was given: erasures made after this backup "
                     "are not known here; see --erasures-from)";
      } else {
        std::cout << " (read from ";
        for (std::size_t i = 0; i < r->sources.size(); ++i) {
          std::cout << (i ? ", " : "") << r->sources[i];
        }
        std::cout << ")";
      }
      std::cout << "\n  retention sweep: " << r->retention_purged << " item"
                << (r->retention_purged == 1 ? "" : "s") << " due purged\n";
      if (!r->replaced.empty()) {
        std::cout << "  the store it replaced is kept as " << r->replaced
                  << " (delete it once you are sure)\n";
      }
    });
  }
}

}  // namespace custodian::cli
