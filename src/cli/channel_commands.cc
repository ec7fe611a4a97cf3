// custodian channels set | show, and custodian consent link (docs/channels.md).
// `show` never prints a secret (API key, SMTP password): only whether one is set.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "service/vault.h"

namespace custodian::cli {
namespace {

using nlohmann::ordered_json;

ordered_json Redacted(const service::ChannelSettings& s) {
  ordered_json j = ordered_json::object();
  j["public_url"] = s.public_url;
  j["link_ttl_days"] = s.link_ttl_days;
  if (s.telnyx) {
    j["telnyx"] = {{"public_key", s.telnyx->public_key},
                   {"api_key", s.telnyx->api_key.empty() ? "" : "(set)"},
                   {"base_url", s.telnyx->base_url},
                   {"from", s.telnyx->from},
                   {"numbers", s.telnyx->numbers},
                   {"messaging_profile_id", s.telnyx->messaging_profile_id}};
  }
  if (s.smtp) {
    j["smtp"] = {{"url", s.smtp->url},
                 {"from", s.smtp->from},
                 {"username", s.smtp->username},
                 {"password", s.smtp->password.empty() ? "" : "(set)"},
                 {"require_tls", s.smtp->require_tls}};
  }
  return j;
}

struct ChannelOpts : CommonOptions {
  std::string tenant, file, subject, purpose;
};

}  // namespace

void RegisterChannelCommands(CLI::App& app, int& exit_code) {
  CLI::App* channels =
      app.add_subcommand("channels", "Set and show how a tenant's messages go out and come in");
  channels->require_subcommand(1);

  auto set = std::make_shared<ChannelOpts>();
  set->role = "admin";
  CLI::App* s = channels->add_subcommand(
      "set", "Replace the tenant's channel settings with a JSON file (Telnyx, SMTP, links)");
  s->add_option("tenant", set->tenant, "Tenant id")->required();
  s->add_option("file", set->file, "The settings, JSON (docs/channels.md)")->required();
  AddCommonOptions(s, *set, false, "Role acting (default admin)");
  s->callback([set, &exit_code] {
    auto text = ReadWholeFile(set->file);
    if (!text.ok()) {
      exit_code = Fail(text.status());
      return;
    }
    WithVault(set->data_dir, exit_code, [&](service::Vault& vault) {
      Status st = vault.SetChannelSettings({set->actor, set->role}, set->tenant, *text);
      if (!st.ok()) {
        exit_code = Fail(st.WithContext(set->file));
        return;
      }
      std::cout << "channel settings of " << set->tenant << " replaced (secrets sealed)\n";
    });
  });

  auto show = std::make_shared<ChannelOpts>();
  CLI::App* sh = channels->add_subcommand("show", "Show the settings, secrets redacted");
  sh->add_option("tenant", show->tenant, "Tenant id")->required();
  AddCommonOptions(sh, *show, false, nullptr);
  sh->callback([show, &exit_code] {
    WithVault(show->data_dir, exit_code, [&](service::Vault& vault) {
      auto settings = vault.GetChannelSettings(show->tenant);
      if (!settings.ok()) {
        exit_code = Fail(settings.status());
        return;
      }
      std::cout << Redacted(*settings).dump(2) << "\n";
    });
  });
}

// custodian consent link TENANT SUBJECT PURPOSE: the unsubscribe link.
void AddConsentLinkCommand(CLI::App* consent, int& exit_code) {
  auto o = std::make_shared<ChannelOpts>();
  CLI::App* cmd = consent->add_subcommand(
      "link", "Print the signed unsubscribe link of a subject for a consent purpose");
  cmd->add_option("tenant", o->tenant, "Tenant id")->required();
  cmd->add_option("subject", o->subject, "Subject id")->required();
  cmd->add_option("purpose", o->purpose, "A purpose resting on consent")->required();
  AddCommonOptions(cmd, *o, false, nullptr);
  cmd->callback([o, &exit_code] {
    WithVault(o->data_dir, exit_code, [&](service::Vault& vault) {
      auto token = vault.UnsubscribeToken(o->tenant, o->subject, o->purpose);
      auto settings = vault.GetChannelSettings(o->tenant);
      if (!token.ok() || !settings.ok()) {
        exit_code = Fail(token.ok() ? settings.status() : token.status());
        return;
      }
      std::cout << settings->public_url << "/v1/unsubscribe?token=" << *token << "\n";
    });
  });
}

}  // namespace custodian::cli
