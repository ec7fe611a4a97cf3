#include "cli/app.h"

#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli/commands.h"

namespace custodian::cli {

int Main(int argc, char** argv) {
  CLI::App app{
      "custodian: your privacy policy, executable.\n"
      "Policy as code, every value encrypted, every read purpose-bound and audited."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "custodian 0.1.0");
  int exit_code = kExitOk;
  RegisterPolicyCommands(app, exit_code);
  RegisterVaultCommands(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  return exit_code;
}

}  // namespace custodian::cli
