// custodian request submit | list | show | verify | start | complete | reject
// (docs/requests.md).
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "service/vault.h"

namespace custodian::cli {
namespace {

using nlohmann::ordered_json;

struct RequestOpts : CommonOptions {
  std::string tenant, id, type, subject, details, reason;
  bool open = false, overdue = false;
};

ordered_json RequestJson(const service::RequestView& r) {
  return {{"id", r.id},
          {"type", r.type},
          {"subject", r.subject.empty() ? ordered_json() : ordered_json(r.subject)},
          {"state", r.state},
          {"verification", r.verification},
          {"assigned", r.assigned.empty() ? ordered_json() : ordered_json(r.assigned)},
          {"received", FormatTime(r.received_ms)},
          {"due", FormatTime(r.due_ms)},
          {"overdue", r.overdue},
          {"closed", r.closed_ms ? ordered_json(FormatTime(*r.closed_ms)) : ordered_json()},
          {"details", r.details},
          {"resolution", r.resolution}};
}

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
  if (!r.details.empty()) std::cout << "  details: " << r.details << "\n";
  if (!r.resolution.empty()) std::cout << "  resolution: " << r.resolution << "\n";
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
  AddCommonOptions(s, *submit, true, "Role acting (default admin)");
  s->callback([submit, &exit_code] {
    WithVault(submit->data_dir, exit_code, [&](service::Vault& vault) {
      auto r = vault.SubmitRequest({submit->actor, submit->role}, submit->tenant,
                                   {submit->type, submit->subject, submit->details});
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
  AddAction(request, "complete", "Close a request as done", service::RequestAction::kComplete,
            false, exit_code);
  AddAction(request, "reject", "Close a request as refused (say why)",
            service::RequestAction::kReject, true, exit_code);
}

}  // namespace custodian::cli
