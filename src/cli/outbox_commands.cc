// custodian outbox list | run (docs/outbox.md): what is queued, and delivering
// due messages once (for a cron job, or when no server runs the worker).
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "outbox/worker.h"
#include "service/vault.h"

namespace custodian::cli {
namespace {

using nlohmann::ordered_json;

struct OutboxOpts : CommonOptions {
  std::string tenant;
  int limit = 50;
};

}  // namespace

void RegisterOutboxCommands(CLI::App& app, int& exit_code) {
  CLI::App* outbox = app.add_subcommand("outbox", "List and deliver outgoing messages");
  outbox->require_subcommand(1);

  auto list = std::make_shared<OutboxOpts>();
  list->role = "admin";
  CLI::App* l = outbox->add_subcommand("list", "The tenant's latest messages (never their text)");
  l->add_option("tenant", list->tenant, "Tenant id")->required();
  l->add_option("--limit", list->limit, "How many, newest first (default 50)");
  AddCommonOptions(l, *list, true, "Role acting (default admin)");
  l->callback([list, &exit_code] {
    WithVault(list->data_dir, exit_code, [&](service::Vault& vault) {
      auto messages = vault.ListMessages({list->actor, list->role}, list->tenant, list->limit);
      if (!messages.ok()) {
        exit_code = Fail(messages.status());
        return;
      }
      ordered_json arr = ordered_json::array();
      for (const service::MessageStatus& m : *messages) {
        if (list->json) {
          arr.push_back({{"id", m.id},
                         {"channel", m.channel},
                         {"subject", m.subject},
                         {"purpose", m.purpose},
                         {"state", m.state},
                         {"attempts", m.attempts},
                         {"last_error", m.last_error},
                         {"created", FormatTime(m.created_ms)}});
          continue;
        }
        std::cout << m.id << "  " << FormatTime(m.created_ms) << "  " << m.channel << "  "
                  << m.state << "  attempts " << m.attempts << "  "
                  << (m.purpose.empty() ? "(reply)" : m.purpose)
                  << (m.last_error.empty() ? "" : "  " + m.last_error) << "\n";
      }
      if (list->json) std::cout << ordered_json{{"messages", arr}}.dump(2) << "\n";
      if (!list->json && messages->empty()) std::cout << "no messages\n";
    });
  });

  auto run = std::make_shared<OutboxOpts>();
  CLI::App* r = outbox->add_subcommand(
      "run", "Deliver every message due now, for all tenants (exit 3 if some failed)");
  AddCommonOptions(r, *run, true, nullptr);
  r->callback([run, &exit_code] {
    WithVault(run->data_dir, exit_code, [&](service::Vault& vault) {
      auto counts = outbox::DeliverDue(vault, {});
      if (!counts.ok()) {
        exit_code = Fail(counts.status());
        return;
      }
      if (run->json) {
        std::cout << ordered_json{{"claimed", counts->claimed},
                                  {"sent", counts->sent},
                                  {"retried", counts->retried},
                                  {"failed", counts->failed},
                                  {"refused", counts->refused}}
                         .dump(2)
                  << "\n";
      } else {
        std::cout << counts->claimed + counts->refused << " due: " << counts->sent << " sent, "
                  << counts->retried << " to retry, " << counts->failed << " failed, "
                  << counts->refused << " refused (may no longer be sent)\n";
      }
      exit_code = counts->failed > 0 || counts->retried > 0 ? kExitPartial : kExitOk;
    });
  });
}

}  // namespace custodian::cli
