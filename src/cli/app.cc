#include "cli/app.h"

#include <CLI/CLI.hpp>

namespace custodian::cli {

int Main(int argc, char** argv) {
  CLI::App app{"custodian: your privacy policy, executable"};
  app.require_subcommand(1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  return kExitOk;
}

}  // namespace custodian::cli
