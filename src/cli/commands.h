// Registration of the CLI's subcommands. Each command parses its options,
// makes one library call and prints text (or JSON with --json). The callback
// stores the process exit code in `exit_code`.
#pragma once

#include <CLI/CLI.hpp>

namespace custodian::cli {

void RegisterPolicyCommands(CLI::App& app, int& exit_code);
void RegisterVaultCommands(CLI::App& app, int& exit_code);

}  // namespace custodian::cli
