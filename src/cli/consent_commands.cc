// custodian consent show | grant | withdraw | object | lift-objection
// (docs/consent.md). Choices entered here are recorded with source
// `operator` unless --source says otherwise.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "service/consent_json.h"
#include "service/vault.h"

namespace custodian::cli {
namespace {

struct ConsentOpts : CommonOptions {
  std::string tenant, subject, purpose, source = "operator", at, message_id, request_id;
};

void PrintStatus(const service::ConsentStatus& s) {
  std::cout << s.purpose << "  " << s.state << (s.allowed ? " (may be used)" : " (may not be used)")
            << "  " << s.basis << ", "
            << (s.is_default ? std::string("policy default") : "chosen " + FormatTime(*s.at_ms))
            << "\n";
}

void PrintView(const service::ConsentView& v, const std::string& purpose) {
  std::cout << "subject " << v.subject << "\n";
  for (const auto& s : v.purposes) {
    if (purpose.empty() || s.purpose == purpose) PrintStatus(s);
  }
  std::cout << "history:" << (v.history.empty() ? " none" : "") << "\n";
  for (const auto& e : v.history) {
    if (!purpose.empty() && e.purpose != purpose) continue;
    std::cout << "  " << FormatTime(e.at_ms) << "  " << e.purpose << "  " << e.state << "  via "
              << e.source << " by " << e.actor << " (policy " << e.policy_version << ")";
    if (!e.message_id.empty()) std::cout << " message " << e.message_id;
    if (!e.request_id.empty()) std::cout << " request " << e.request_id;
    std::cout << "\n";
  }
}

void AddChangeCommand(CLI::App* consent, const char* name, const char* help, const char* state,
                      int& exit_code) {
  auto o = std::make_shared<ConsentOpts>();
  o->role = "admin";
  CLI::App* cmd = consent->add_subcommand(name, help);
  cmd->add_option("tenant", o->tenant, "Tenant id")->required();
  cmd->add_option("subject", o->subject, "Subject id")->required();
  cmd->add_option("purpose", o->purpose, "A purpose of the policy")->required();
  cmd->add_option("--source", o->source,
                  "Where the choice was made: operator (default), api, portal, sms, whatsapp, "
                  "email_link, import");
  cmd->add_option("--at", o->at, "When the subject chose: YYYY-MM-DD or RFC 3339 (default now)");
  cmd->add_option("--message-id", o->message_id, "Evidence: the message that carried the choice");
  cmd->add_option("--request-id", o->request_id, "Evidence: the request it came with");
  AddCommonOptions(cmd, *o, true, "Role acting (default admin)");
  cmd->callback([o, state, &exit_code] {
    service::ConsentChange change{o->purpose,   state,         o->source,
                                  std::nullopt, o->message_id, o->request_id};
    if (!o->at.empty()) {
      auto t = ParseTime(o->at);
      if (!t.ok()) {
        std::cerr << "custodian: --at: " << t.status().message() << "\n";
        exit_code = kExitUsage;
        return;
      }
      change.at_ms = *t;
    }
    WithVault(o->data_dir, exit_code, [&](service::Vault& vault) {
      auto r = vault.SetConsents({o->actor, o->role}, o->tenant, o->subject, {change});
      if (!r.ok()) {
        exit_code = Fail(r.status());
        return;
      }
      if (o->json) {
        std::cout << service::ConsentStatusJson(r->front()).dump(2) << "\n";
      } else {
        PrintStatus(r->front());
      }
    });
  });
}

}  // namespace

void RegisterConsentCommands(CLI::App& app, int& exit_code) {
  CLI::App* consent =
      app.add_subcommand("consent", "Show and record subjects' consents and objections");
  consent->require_subcommand(1);

  auto show = std::make_shared<ConsentOpts>();
  show->role = "admin";
  CLI::App* s = consent->add_subcommand(
      "show", "Where a subject stands on each consent or legitimate-interest purpose, and why");
  s->add_option("tenant", show->tenant, "Tenant id")->required();
  s->add_option("subject", show->subject, "Subject id")->required();
  s->add_option("purpose", show->purpose, "Only this purpose");
  AddCommonOptions(s, *show, true, "Role acting (default admin)");
  s->callback([show, &exit_code] {
    WithVault(show->data_dir, exit_code, [&](service::Vault& vault) {
      auto v = vault.GetConsents({show->actor, show->role}, show->tenant, show->subject);
      if (!v.ok()) {
        exit_code = Fail(v.status());
        return;
      }
      if (show->json) {
        std::cout << service::ConsentViewJson(*v).dump(2) << "\n";
      } else {
        PrintView(*v, show->purpose);
      }
    });
  });

  AddChangeCommand(consent, "grant", "Record that the subject consents to a purpose", "granted",
                   exit_code);
  AddChangeCommand(consent, "withdraw", "Record that the subject withdraws (or refuses) consent",
                   "withdrawn", exit_code);
  AddChangeCommand(consent, "object",
                   "Record that the subject objects to a legitimate-interest purpose", "objected",
                   exit_code);
  AddChangeCommand(consent, "lift-objection", "Record that the subject's objection is lifted",
                   "not_objected", exit_code);
  AddConsentLinkCommand(consent, exit_code);
}

}  // namespace custodian::cli
