// custodian request submit | list | show | verify | start | complete | reject |
// extend | download | expire (docs/requests.md).
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "service/request_json.h"
#include "service/vault.h"

namespace custodian::cli {
namespace {

using nlohmann::ordered_json;

using service::RequestJson;

struct RequestOpts : CommonOptions {
  std::string tenant, id, type, subject, details, reason, purpose, out;
  std::vector<std::string> corrections;
  bool open = false, overdue = false;
};

void PrintLine(const service::RequestView& r) {
  std::cout << r.id << "  " << r.type << "  " << r.state << "  due " << FormatTime(r.due_ms)
            << (r.overdue ? "  OVERDUE" : "") << (r.subject.empty() ? "" : "  subject " + r.subject)
            << (r.assigned.empty() ? "" : "  with " + r.assigned) << "\n";
}

void Print(const service::RequestView& r, bool json) {
  if (json) {
    std::cout << RequestJson(r).dump(2) << "\n";
    return;
  }
  PrintLine(r);
  if (!r.purpose.empty()) std::cout << "  purpose: " << r.purpose << "\n";
  for (const auto& c : r.corrections) {
    std::cout << "  correct " << c.category << (c.value.empty() ? " (applied)" : " to: " + c.value)
              << "\n";
  }
  if (!r.officer.empty()) std::cout << "  grievance officer: " << r.officer << "\n";
  if (!r.details.empty()) std::cout << "  details: " << r.details << "\n";
  if (!r.resolution.empty()) std::cout << "  resolution: " << r.resolution << "\n";
  if (r.evidence) {
    const service::RequestEvidence& e = *r.evidence;
    std::cout << "  done: " << e.done << " (by " << e.by << ", " << FormatTime(e.at_ms) << ")\n";
    for (const auto& k : e.kept) {
      std::cout << "  kept: " << k.label << " until " << FormatTime(k.until_ms) << " ("
                << k.reason << ")\n";
    }
    if (!e.export_id.empty()) {
      std::cout << "  export: " << e.export_id << ", " << e.export_bytes << " bytes, sha256 "
                << e.export_sha256 << ", link expires " << FormatTime(e.export_expires_ms) << "\n";
    }
    for (const auto& n : e.notices) std::cout << "  notice: " << n << "\n";
  }
  if (!r.download_token.empty()) {
    std::cout << "  download (once): custodian request download " << r.download_token
              << " --out FILE.zip\n";
  }
}

void AddAction(CLI::App* request, const char* name, const char* help, service::RequestAction action,
               bool reason_required, int& exit_code) {
  auto o = std::make_shared<RequestOpts>();
  o->role = "admin";
  CLI::App* cmd = request->add_subcommand(name, help);
  cmd->add_option("tenant", o->tenant, "Tenant id")->required();
  cmd->add_option("id", o->id, "Request id")->required();
  auto* reason = cmd->add_option("--reason", o->reason, "Why, kept as evidence");
  if (reason_required) reason->required();
  AddCommonOptions(cmd, *o, true, "Role acting (default admin)");
  cmd->callback([o, action, &exit_code] {
    WithVault(o->data_dir, exit_code, [&](service::Vault& vault) {
      auto r = vault.AdvanceRequest({o->actor, o->role}, o->tenant, o->id, action, o->reason);
      if (!r.ok()) {
        exit_code = Fail(r.status());
        return;
      }
      Print(*r, o->json);
    });
  });
}

}  // namespace

void RegisterRequestCommands(CLI::App& app, int& exit_code) {
  CLI::App* request =
      app.add_subcommand("request", "Data-subject requests: submit, list, move along");
  request->require_subcommand(1);

  auto submit = std::make_shared<RequestOpts>();
  submit->role = "admin";
  CLI::App* s = request->add_subcommand("submit", "Record a request (its due date is computed)");
  s->add_option("tenant", submit->tenant, "Tenant id")->required();
  s->add_option("--type", submit->type,
                "access, portability, correction, erasure, objection, restriction, "
                "consent_withdrawal or grievance")
      ->required();
  s->add_option("--subject", submit->subject, "The subject id (optional for a grievance)");
  s->add_option("--details", submit->details, "What the person asks or complains about");
  s->add_option("--purpose", submit->purpose,
                "objection: the purpose objected to; consent_withdrawal: one purpose (default all)");
  s->add_option("--correct", submit->corrections, "correction: CATEGORY=NEW_VALUE, repeatable");
  AddCommonOptions(s, *submit, true, "Role acting (default admin)");
  s->callback([submit, &exit_code] {
    WithVault(submit->data_dir, exit_code, [&](service::Vault& vault) {
      auto corrections = ParseFieldArgs(submit->corrections, "--correct", exit_code);
      if (!corrections) return;
      auto r = vault.SubmitRequest(
          {submit->actor, submit->role}, submit->tenant,
          {submit->type, submit->subject, submit->details, submit->purpose, *corrections});
      if (!r.ok()) {
        exit_code = Fail(r.status());
        return;
      }
      Print(*r, submit->json);
    });
  });

  auto list = std::make_shared<RequestOpts>();
  list->role = "admin";
  CLI::App* l = request->add_subcommand("list", "Requests, the soonest due first");
  l->add_option("tenant", list->tenant, "Tenant id")->required();
  l->add_flag("--open", list->open, "Only open ones");
  l->add_flag("--overdue", list->overdue, "Only open ones past their due date");
  AddCommonOptions(l, *list, true, "Role acting (default admin)");
  l->callback([list, &exit_code] {
    WithVault(list->data_dir, exit_code, [&](service::Vault& vault) {
      auto r =
          vault.ListRequests({list->actor, list->role}, list->tenant, list->open, list->overdue);
      if (!r.ok()) {
        exit_code = Fail(r.status());
        return;
      }
      if (list->json) {
        ordered_json arr = ordered_json::array();
        for (const auto& v : *r) arr.push_back(RequestJson(v));
        std::cout << ordered_json{{"requests", arr}}.dump(2) << "\n";
        return;
      }
      if (r->empty()) std::cout << "no requests\n";
      for (const auto& v : *r) PrintLine(v);
    });
  });

  auto show = std::make_shared<RequestOpts>();
  show->role = "admin";
  CLI::App* sh = request->add_subcommand("show", "One request, with its details");
  sh->add_option("tenant", show->tenant, "Tenant id")->required();
  sh->add_option("id", show->id, "Request id")->required();
  AddCommonOptions(sh, *show, true, "Role acting (default admin)");
  sh->callback([show, &exit_code] {
    WithVault(show->data_dir, exit_code, [&](service::Vault& vault) {
      auto r = vault.GetRequest({show->actor, show->role}, show->tenant, show->id);
      if (!r.ok()) {
        exit_code = Fail(r.status());
        return;
      }
      Print(*r, show->json);
    });
  });

  AddAction(request, "verify", "The person's identity was checked by hand (say how)",
            service::RequestAction::kVerify, true, exit_code);
  AddAction(request, "start", "Take a verified request on", service::RequestAction::kStart, false,
            exit_code);
  AddAction(request, "complete",
            "Carry a request out and close it (export, correction, erasure...; a grievance's "
            "--reason is the answer)",
            service::RequestAction::kComplete, false, exit_code);
  AddAction(request, "reject", "Close a request as refused (say why)",
            service::RequestAction::kReject, true, exit_code);
  AddAction(request, "extend",
            "Extend the deadline once, as the law allows (say why: the person is told)",
            service::RequestAction::kExtend, true, exit_code);

  auto download = std::make_shared<RequestOpts>();
  CLI::App* d = request->add_subcommand(
      "download", "Fetch an access export through its one-time link token");
  d->add_option("token", download->id, "The download token")->required();
  d->add_option("--out", download->out, "Where to write the zip")->required();
  AddCommonOptions(d, *download, false, nullptr);
  d->callback([download, &exit_code] {
    WithVault(download->data_dir, exit_code, [&](service::Vault& vault) {
      auto bundle = vault.DownloadExport(download->id);
      if (!bundle.ok()) {
        exit_code = Fail(bundle.status());
        return;
      }
      std::ofstream out(download->out, std::ios::binary | std::ios::trunc);
      out.write(bundle->zip.data(), static_cast<std::streamsize>(bundle->zip.size()));
      out.close();
      if (!out) {
        exit_code = Fail(Status::Internal("cannot write " + download->out));
        return;
      }
      std::cout << download->out << ": " << bundle->zip.size() << " bytes, sha256 "
                << bundle->sha256 << "\n";
    });
  });

  auto expire = std::make_shared<RequestOpts>();
  CLI::App* e = request->add_subcommand(
      "expire", "Expire requests never verified by their due date; drop expired export bundles");
  AddCommonOptions(e, *expire, false, nullptr);
  e->callback([expire, &exit_code] {
    WithVault(expire->data_dir, exit_code, [&](service::Vault& vault) {
      auto n = vault.ExpireRequests();
      if (!n.ok()) {
        exit_code = Fail(n.status());
        return;
      }
      std::cout << *n << " request(s) expired\n";
    });
  });
}

}  // namespace custodian::cli
