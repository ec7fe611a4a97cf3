// custodian disclose | disclosures | report processing|requests|access
// (docs/disclosures.md, docs/reports.md).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "service/disclosure_json.h"
#include "service/report_render.h"
#include "service/vault.h"

namespace custodian::cli {
namespace {

constexpr int64_t kYearMs = 365LL * 86400000;

// Writes `data` to `path` (mode 0600) through PATH.partial, synced, renamed.
Status WriteFileAtomically(const std::string& path, const std::string& data) {
  const std::string tmp = path + ".partial";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::FailedPrecondition("cannot create " + tmp + ": " + std::strerror(errno));
  }
  std::size_t off = 0;
  Status st = Status::Ok();
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      st = Status::Unavailable("cannot write " + tmp + ": " + std::strerror(errno));
      break;
    }
    off += static_cast<std::size_t>(n);
  }
  if (st.ok() && ::fsync(fd) != 0) st = Status::Unavailable("cannot sync " + tmp);
  ::close(fd);
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    st = Status::Unavailable("cannot rename " + tmp + " to " + path);
  }
  if (!st.ok()) ::unlink(tmp.c_str());
  return st;
}

struct DiscloseOpts : CommonOptions {
  std::string tenant, recipient, purpose, legal_reference, at, export_file;
  std::vector<std::string> categories, subjects, phones, emails, external_ids;
};

struct ReportOpts : CommonOptions {
  std::string tenant, from, to, format = "json", output;
};

void AddReport(CLI::App* report, const char* name, const char* help, bool period_required,
               int& exit_code) {
  auto o = std::make_shared<ReportOpts>();
  o->role = "auditor";
  CLI::App* cmd = report->add_subcommand(name, help);
  cmd->add_option("tenant", o->tenant, "Tenant id")->required();
  auto* from = cmd->add_option("--from", o->from,
                               "Start of the period (RFC 3339 or YYYY-MM-DD)" +
                                   std::string(period_required ? "" : "; default a year ago"));
  auto* to = cmd->add_option("--to", o->to,
                             "End of the period, excluded" +
                                 std::string(period_required ? "" : "; default now"));
  if (period_required) {
    from->required();
    to->required();
  }
  cmd->add_option("--format", o->format, "json (default), markdown or html")
      ->check(CLI::IsMember({"json", "markdown", "html"}));
  cmd->add_option("--output,-o", o->output, "Write to this file (mode 0600) instead of stdout");
  AddCommonOptions(cmd, *o, false, "Role acting: auditor (default) or admin");
  const std::string kind = name;
  cmd->callback([o, kind, &exit_code] {
    service::ReportPeriod period;
    const int64_t now = service::SystemClockMs();
    period.from_ms = now - kYearMs;
    period.to_ms = now;
    for (auto [text, out, flag] : {std::tuple<const std::string&, int64_t*, const char*>{
                                       o->from, &period.from_ms, "--from"},
                                   {o->to, &period.to_ms, "--to"}}) {
      if (text.empty()) continue;
      auto t = ParseTime(text);
      if (!t.ok()) {
        std::cerr << "custodian: " << t.status().WithContext(flag).message() << "\n";
        exit_code = kExitUsage;
        return;
      }
      *out = *t;
    }
    WithVault(o->data_dir, exit_code, [&](service::Vault& vault) {
      const service::Actor actor{o->actor, o->role};
      auto json = kind == "processing" ? vault.ReportProcessing(actor, o->tenant, period)
                  : kind == "requests" ? vault.ReportRequests(actor, o->tenant, period)
                                       : vault.ReportAccess(actor, o->tenant, period);
      if (!json.ok()) {
        exit_code = Fail(json.status());
        return;
      }
      auto text = service::RenderReport(*json, o->format);
      if (!text.ok()) {
        exit_code = Fail(text.status());
        return;
      }
      if (o->format == "json") *text += "\n";
      if (o->output.empty()) {
        std::cout << *text;
        return;
      }
      if (Status s = WriteFileAtomically(o->output, *text); !s.ok()) {
        exit_code = Fail(s);
        return;
      }
      std::cerr << "wrote the " << kind << " report to " << o->output << "\n";
    });
  });
}

}  // namespace

void RegisterDisclosureCommands(CLI::App& app, int& exit_code) {
  // disclose
  {
    auto o = std::make_shared<DiscloseOpts>();
    o->role = "admin";
    CLI::App* cmd = app.add_subcommand(
        "disclose",
        "Record that categories of subjects were shared with a declared recipient for a purpose "
        "(and with --export, produce what to hand over)");
    cmd->add_option("tenant", o->tenant, "Tenant id")->required();
    cmd->add_option("--recipient", o->recipient, "A recipient id of the policy")->required();
    cmd->add_option("--purpose", o->purpose, "The purpose it is shared for")->required();
    cmd->add_option("--category", o->categories, "A category disclosed, repeatable")->required();
    cmd->add_option("--subject", o->subjects, "A subject id, repeatable");
    cmd->add_option("--phone", o->phones, "A subject found by phone number, repeatable");
    cmd->add_option("--email", o->emails, "A subject found by email address, repeatable");
    cmd->add_option("--external-id", o->external_ids, "A subject found by external id, repeatable");
    cmd->add_option("--legal-reference", o->legal_reference,
                    "The order or case number requiring it (required for an authority)");
    cmd->add_option("--at", o->at, "When it was shared (RFC 3339 or YYYY-MM-DD; default now)");
    cmd->add_option("--export", o->export_file,
                    "Also read the disclosed categories for the purpose and write them to this "
                    "file (JSON, mode 0600): the payload to hand over");
    AddCommonOptions(cmd, *o, true, "Role acting (default admin)");
    cmd->callback([o, &exit_code] {
      service::DisclosureInput in;
      in.recipient = o->recipient;
      in.purpose = o->purpose;
      in.categories = o->categories;
      in.subjects = o->subjects;
      in.legal_reference = o->legal_reference;
      for (const auto& v : o->phones) in.lookups.push_back({"phone", v});
      for (const auto& v : o->emails) in.lookups.push_back({"email", v});
      for (const auto& v : o->external_ids) in.lookups.push_back({service::kExternalIdKind, v});
      if (!o->at.empty()) {
        auto t = ParseTime(o->at);
        if (!t.ok()) {
          std::cerr << "custodian: " << t.status().WithContext("--at").message() << "\n";
          exit_code = kExitUsage;
          return;
        }
        in.at_ms = *t;
      }
      in.export_payload = !o->export_file.empty();
      WithVault(o->data_dir, exit_code, [&](service::Vault& vault) {
        if (in.export_payload) {
          // Fail before anything is recorded when the payload cannot be written.
          const std::string probe = o->export_file + ".partial";
          int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
          if (fd < 0) {
            exit_code = Fail(Status::FailedPrecondition("cannot create " + probe + ": " +
                                                        std::strerror(errno)));
            return;
          }
          ::close(fd);
        }
        auto r = vault.Disclose({o->actor, o->role}, o->tenant, in);
        if (!r.ok()) {
          if (in.export_payload) ::unlink((o->export_file + ".partial").c_str());
          exit_code = Fail(r.status());
          return;
        }
        if (in.export_payload) {
          std::string payload = service::DisclosurePayloadJson(*r).dump(2) + "\n";
          Status s = WriteFileAtomically(o->export_file, payload);
          std::fill(payload.begin(), payload.end(), '\0');
          if (!s.ok()) {
            exit_code = Fail(s.WithContext("disclosure " + r->disclosure.id +
                                           " is recorded but its payload was not written"));
            return;
          }
        }
        if (o->json) {
          std::cout << service::DisclosureResultJson(*r).dump(2) << "\n";
        } else {
          const service::DisclosureView& d = r->disclosure;
          std::cout << d.id << "  " << d.subjects << " subject(s) to " << d.recipient << " ("
                    << d.recipient_kind << ") for " << d.purpose << ": ";
          for (std::size_t i = 0; i < d.categories.size(); ++i) {
            std::cout << (i ? ", " : "") << d.categories[i];
          }
          std::cout << "\n";
          if (!d.legal_reference.empty()) {
            std::cout << "  legal reference: " << d.legal_reference << "\n";
          }
          for (const auto& s : r->refused) {
            std::cout << "  left out " << s.subject << ": " << s.reason << "\n";
          }
          for (int i : r->unmatched_lookups) {
            std::cout << "  lookup " << i + 1 << " matched nobody\n";
          }
          if (in.export_payload) {
            std::cout << "  payload: " << o->export_file << " (" << r->payload.size()
                      << " subject(s))\n";
          }
        }
        if (!r->refused.empty() || !r->unmatched_lookups.empty()) exit_code = kExitPartial;
      });
    });
  }

  // disclosures TENANT SUBJECT
  {
    struct ListOpts : CommonOptions {
      std::string tenant, subject;
    };
    auto o = std::make_shared<ListOpts>();
    o->role = "admin";
    CLI::App* cmd = app.add_subcommand("disclosures", "List the disclosures of one subject");
    cmd->add_option("tenant", o->tenant, "Tenant id")->required();
    cmd->add_option("subject", o->subject, "Subject id")->required();
    AddCommonOptions(cmd, *o, true, "Role acting (default admin)");
    cmd->callback([o, &exit_code] {
      WithVault(o->data_dir, exit_code, [&](service::Vault& vault) {
        auto list = vault.ListDisclosures({o->actor, o->role}, o->tenant, o->subject);
        if (!list.ok()) {
          exit_code = Fail(list.status());
          return;
        }
        if (o->json) {
          nlohmann::ordered_json items = nlohmann::ordered_json::array();
          for (const auto& d : *list) items.push_back(service::DisclosureJson(d));
          std::cout << nlohmann::ordered_json{{"disclosures", items}}.dump(2) << "\n";
          return;
        }
        if (list->empty()) std::cout << "no disclosures\n";
        for (const auto& d : *list) {
          std::cout << d.id << "  " << FormatTime(d.at_ms) << "  to " << d.recipient << " for "
                    << d.purpose << ": ";
          for (std::size_t i = 0; i < d.categories.size(); ++i) {
            std::cout << (i ? ", " : "") << d.categories[i];
          }
          std::cout << (d.legal_reference.empty() ? "" : "  (" + d.legal_reference + ")") << "\n";
        }
      });
    });
  }

  // report
  CLI::App* report =
      app.add_subcommand("report", "Accountability reports: processing, requests, access");
  report->require_subcommand(1);
  AddReport(report, "processing",
            "The record of processing activities: per purpose its categories, basis, recipients, "
            "retention and counts",
            false, exit_code);
  AddReport(report, "requests",
            "Requests received in the period: by type, time to completion, overdue ones", true,
            exit_code);
  AddReport(report, "access",
            "Reads and refusals in the period by role, purpose and actor; unusual volumes", true,
            exit_code);
}

}  // namespace custodian::cli
