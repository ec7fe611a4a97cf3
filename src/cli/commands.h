// Registration of the CLI's subcommands. Each command parses its options,
// makes one library call and prints text (or JSON with --json). The callback
// stores the process exit code in `exit_code`.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>
#include <string>

#include "custodian/status.h"
#include "service/vault.h"

namespace custodian::cli {

// Options every vault command shares.
struct CommonOptions {
  std::string data_dir = DefaultDataDir();
  bool json = false;
  std::string role;
  std::string actor = "cli";
  static std::string DefaultDataDir();  // $CUSTODIAN_DATA_DIR or ./custodian-data
};

// Adds --data-dir, --actor, and optionally --json and --role (when role_help).
void AddCommonOptions(CLI::App* cmd, CommonOptions& c, bool json, const char* role_help);
Result<std::unique_ptr<service::Vault>> OpenVault(const std::string& data_dir);
// Prints "custodian: MESSAGE" to stderr and returns the error exit code.
int Fail(const Status& s);
// Opens the vault at `data_dir` and runs `fn` with it; when it cannot be
// opened, prints why and sets `exit_code`.
void WithVault(const std::string& data_dir, int& exit_code,
               const std::function<void(service::Vault&)>& fn);

// CATEGORY=VALUE arguments of `option` (--field, --correct) as field inputs;
// nullopt (usage error printed, exit_code set) when one has no '='.
std::optional<std::vector<service::FieldInput>> ParseFieldArgs(const std::vector<std::string>& args,
                                                                std::string_view option,
                                                                int& exit_code);

void RegisterPolicyCommands(CLI::App& app, int& exit_code);
void RegisterVaultCommands(CLI::App& app, int& exit_code);
void RegisterAuditCommands(CLI::App& app, int& exit_code);
void RegisterRecordCommands(CLI::App& app, int& exit_code);
void RegisterImportCommands(CLI::App& app, int& exit_code);
void RegisterAccessCommands(CLI::App& app, int& exit_code);
void RegisterServeCommand(CLI::App& app, int& exit_code);
void RegisterDemoCommand(CLI::App& app, int& exit_code);  // demo_command.cc
void RegisterBackupCommands(CLI::App& app, int& exit_code);  // backup, restore
void RegisterConsentCommands(CLI::App& app, int& exit_code);
void RegisterChannelCommands(CLI::App& app, int& exit_code);
void RegisterOutboxCommands(CLI::App& app, int& exit_code);
void RegisterRequestCommands(CLI::App& app, int& exit_code);
void RegisterRetentionCommands(CLI::App& app, int& exit_code);  // retention, hold
// disclose, disclosures, report (disclosure_commands.cc).
void RegisterDisclosureCommands(CLI::App& app, int& exit_code);
// `consent link` (channel_commands.cc), added by RegisterConsentCommands.
void AddConsentLinkCommand(CLI::App* consent, int& exit_code);

}  // namespace custodian::cli
