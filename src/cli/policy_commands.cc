// custodian policy check FILE... / custodian policy render FILE --format F [-o OUT]
#include <cstdio>
#include <fstream>
#include <iostream>

#include "cli/app.h"
#include "cli/commands.h"
#include "policy/loader.h"
#include "policy/render.h"

namespace custodian::cli {
namespace {

struct CheckOptions {
  std::vector<std::string> files;
  bool quiet = false;
};

struct RenderOptions {
  std::string file;
  std::string format = "markdown";
  std::string output;
};

int RunCheck(const CheckOptions& o) {
  int failed = 0;
  for (const std::string& file : o.files) {
    policy::LoadResult r = policy::LoadPolicyFile(file);
    for (const auto& d : r.diagnostics) std::cerr << d.ToString() << "\n";
    if (!r.ok()) {
      ++failed;
      std::cerr << file << ": " << r.error_count() << " error(s), " << r.warning_count()
                << " warning(s)\n";
    } else if (!o.quiet) {
      const policy::Policy& p = *r.policy;
      std::cout << file << ": ok (" << p.organization.name << ", version " << p.version << ", "
                << p.categories.size() << " categories, " << p.purposes.size() << " purposes, "
                << p.recipients.size() << " recipients, " << p.retention.size()
                << " retention rules";
      if (r.warning_count() > 0) std::cout << ", " << r.warning_count() << " warning(s)";
      std::cout << ")\n";
    }
  }
  return failed == 0 ? kExitOk : kExitError;
}

int RunRender(const RenderOptions& o) {
  policy::NoticeFormat format = policy::NoticeFormat::kMarkdown;
  if (o.format == "html") {
    format = policy::NoticeFormat::kHtml;
  } else if (o.format == "json") {
    format = policy::NoticeFormat::kJson;
  }
  policy::LoadResult r = policy::LoadPolicyFile(o.file);
  for (const auto& d : r.diagnostics) std::cerr << d.ToString() << "\n";
  if (!r.ok()) {
    std::cerr << o.file << ": not rendered: fix the errors above (custodian policy check)\n";
    return kExitError;
  }
  std::string notice = policy::RenderNotice(*r.policy, format);
  if (o.output.empty() || o.output == "-") {
    std::cout << notice;
    return kExitOk;
  }
  std::ofstream out(o.output, std::ios::binary | std::ios::trunc);
  out << notice;
  out.close();
  if (!out) {
    std::cerr << "custodian: cannot write " << o.output << "\n";
    return kExitError;
  }
  return kExitOk;
}

}  // namespace

void RegisterPolicyCommands(CLI::App& app, int& exit_code) {
  CLI::App* policy_cmd = app.add_subcommand("policy", "Check and render policy documents");
  policy_cmd->require_subcommand(1);

  auto check = std::make_shared<CheckOptions>();
  CLI::App* c = policy_cmd->add_subcommand(
      "check", "Validate policy files; prints FILE:LINE:COL for every problem");
  c->add_option("files", check->files, "Policy YAML files")->required()->check(CLI::ExistingFile);
  c->add_flag("-q,--quiet", check->quiet, "Print only problems");
  c->callback([check, &exit_code] { exit_code = RunCheck(*check); });

  auto render = std::make_shared<RenderOptions>();
  CLI::App* r = policy_cmd->add_subcommand("render", "Render the privacy notice from a policy");
  r->add_option("file", render->file, "Policy YAML file")->required()->check(CLI::ExistingFile);
  r->add_option("--format", render->format, "markdown | html | json")
      ->check(CLI::IsMember({"markdown", "html", "json"}));
  r->add_option("-o,--output", render->output, "Write to this file instead of stdout");
  r->callback([render, &exit_code] { exit_code = RunRender(*render); });
}

}  // namespace custodian::cli
