#include "cli/app.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "cli/commands.h"

namespace custodian::cli {

std::string CommonOptions::DefaultDataDir() {
  const char* env = std::getenv("CUSTODIAN_DATA_DIR");
  return env && *env ? env : "custodian-data";
}

void AddCommonOptions(CLI::App* cmd, CommonOptions& c, bool json, const char* role_help) {
  cmd->add_option("--data-dir", c.data_dir,
                  "Data directory (default $CUSTODIAN_DATA_DIR or ./custodian-data)");
  if (json) cmd->add_flag("--json", c.json, "Print JSON");
  if (role_help) cmd->add_option("--role", c.role, role_help);
  cmd->add_option("--actor", c.actor, "Who is acting, for the audit trail");
}

Result<std::unique_ptr<service::Vault>> OpenVault(const std::string& data_dir) {
  service::VaultOptions o;
  o.data_dir = data_dir;
  return service::Vault::Open(std::move(o));
}

int Fail(const Status& s) {
  std::cerr << "custodian: " << s.message() << "\n";
  return kExitError;
}

void WithVault(const std::string& data_dir, int& exit_code,
               const std::function<void(service::Vault&)>& fn) {
  auto vault = OpenVault(data_dir);
  if (!vault.ok()) {
    exit_code = Fail(vault.status());
    return;
  }
  fn(**vault);
}

std::optional<std::vector<service::FieldInput>> ParseFieldArgs(const std::vector<std::string>& args,
                                                                std::string_view option,
                                                                int& exit_code) {
  std::vector<service::FieldInput> fields;
  for (const auto& f : args) {
    auto eq = f.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "custodian: " << option
                << " expects CATEGORY=VALUE (e.g. user.name=\"Full Name\"), got an argument "
                   "without '='\n";
      exit_code = kExitUsage;
      return std::nullopt;
    }
    fields.push_back({f.substr(0, eq), f.substr(eq + 1)});
  }
  return fields;
}

int Main(int argc, char** argv) {
  CLI::App app{
      "custodian: your privacy policy, executable.\n"
      "Policy as code, every value encrypted, every read purpose-bound and audited."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "custodian 0.1.0");
  int exit_code = kExitOk;
  RegisterPolicyCommands(app, exit_code);
  RegisterVaultCommands(app, exit_code);
  RegisterAuditCommands(app, exit_code);
  RegisterRecordCommands(app, exit_code);
  RegisterImportCommands(app, exit_code);
  RegisterAccessCommands(app, exit_code);
  RegisterConsentCommands(app, exit_code);
  RegisterChannelCommands(app, exit_code);
  RegisterOutboxCommands(app, exit_code);
  RegisterRequestCommands(app, exit_code);
  RegisterRetentionCommands(app, exit_code);
  RegisterDisclosureCommands(app, exit_code);
  RegisterServeCommand(app, exit_code);
  RegisterDemoCommand(app, exit_code);
  RegisterBackupCommands(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 echoes stray arguments and unconvertible values. Here they may be
    // personal data (an unquoted --field user.name=Jane Doe leaves "Doe"
    // over), and stderr ends up in logs: say what is wrong, not what was typed.
    if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr ||
        dynamic_cast<const CLI::ConversionError*>(&e) != nullptr) {
      std::cerr << "custodian: "
                << (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr
                        ? "unexpected arguments"
                        : "an option was given a value it does not take")
                << " (not repeated here, as they may hold personal data); quote values that "
                   "contain spaces, e.g. --field user.name=\"Full Name\"\n"
                   "Run with --help for more information.\n";
      return kExitUsage;
    }
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  return exit_code;
}

}  // namespace custodian::cli
