// Credential commands: `apikey create|list|revoke` and `operator add`.
// Secrets (an API key, a TOTP enrollment) are printed once, on stdout, and
// never on stderr; a password is read from stdin or the environment, never
// from the command line (where ps and shell history would see it).
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "service/vault.h"

namespace custodian::cli {
namespace {

using nlohmann::ordered_json;

constexpr char kPasswordEnv[] = "CUSTODIAN_OPERATOR_PASSWORD";

ordered_json TimeOrNull(const std::optional<int64_t>& ms) {
  return ms ? ordered_json(FormatTime(*ms)) : ordered_json(nullptr);
}

// All of stdin, without one trailing newline (as `echo` and here-strings add).
std::string ReadPasswordFromStdin() {
  std::string s{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  if (!s.empty() && s.back() == '\n') s.pop_back();
  if (!s.empty() && s.back() == '\r') s.pop_back();
  return s;
}

std::string Pad(const std::string& s, std::size_t width) {
  return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' ');
}

// ", its own rate 50/s (burst 200)", or "" for a key on the server's rate.
std::string RateText(const service::ApiKeyLimit& limit) {
  if (!limit.per_second) return "";
  std::ostringstream out;
  out << ", its own rate " << *limit.per_second << "/s (burst " << limit.BurstInForce() << ")";
  return out.str();
}

// {"per_second": 50, "burst": 200}, or null for a key on the server's rate.
ordered_json RateJson(const service::ApiKeyLimit& limit) {
  if (!limit.per_second) return nullptr;
  return ordered_json{{"per_second", *limit.per_second}, {"burst", limit.BurstInForce()}};
}

}  // namespace

void RegisterAccessCommands(CLI::App& app, int& exit_code) {
  CLI::App* apikey = app.add_subcommand("apikey", "Create, list and revoke tenant API keys");
  apikey->require_subcommand(1);

  // apikey create
  {
    struct CreateOpts : CommonOptions {
      std::string tenant, key_role, name;
      double rate = 0, burst = 0;
    };
    auto o = std::make_shared<CreateOpts>();
    CLI::App* cmd = apikey->add_subcommand("create", "Create an API key (shown once)");
    cmd->add_option("tenant", o->tenant, "Tenant id")->required();
    cmd->add_option("--role", o->key_role,
                    "Role the key acts in: one the policy's purposes use, or admin or auditor")
        ->required();
    cmd->add_option("--name", o->name, "What the key is for (letters, digits, '.', '_', '-')");
    CLI::Option* rate = cmd->add_option(
        "--rate", o->rate,
        "Requests a second this key may send over HTTP, instead of the server's "
        "--api-key-rate (over it: 429 with Retry-After)");
    CLI::Option* burst = cmd->add_option(
        "--burst", o->burst, "Requests it may send at once after idle (default: the rate)");
    AddCommonOptions(cmd, *o, true, nullptr);
    cmd->callback([o, rate, burst, &exit_code] {
      service::ApiKeyLimit limit;
      if (rate->count() > 0) limit.per_second = o->rate;
      if (burst->count() > 0) limit.burst = o->burst;
      auto vault = OpenVault(o->data_dir);
      if (!vault.ok()) {
        exit_code = Fail(vault.status());
        return;
      }
      auto k = (*vault)->CreateApiKey({o->actor, "admin"}, o->tenant, o->key_role, o->name, limit);
      if (!k.ok()) {
        exit_code = Fail(k.status());
        return;
      }
      if (o->json) {
        ordered_json j{{"id", k->id}, {"key", k->key}, {"role", k->role}, {"name", k->name}};
        std::cout << j.dump(2) << "\n";
        return;
      }
      std::cout << k->key << "\n"
                << "api key " << k->id << " for tenant " << o->tenant << ", role " << k->role
                << (k->name.empty() ? "" : ", name " + k->name) << RateText(limit) << "\n"
                << "This key is shown only now and cannot be recovered: store it securely.\n";
    });
  }

  // apikey list
  {
    struct ListOpts : CommonOptions {
      std::string tenant;
    };
    auto o = std::make_shared<ListOpts>();
    CLI::App* cmd = apikey->add_subcommand("list", "List a tenant's API keys (never the secrets)");
    cmd->add_option("tenant", o->tenant, "Tenant id")->required();
    AddCommonOptions(cmd, *o, true, nullptr);
    cmd->callback([o, &exit_code] {
      auto vault = OpenVault(o->data_dir);
      if (!vault.ok()) {
        exit_code = Fail(vault.status());
        return;
      }
      auto keys = (*vault)->ListApiKeys(o->tenant);
      if (!keys.ok()) {
        exit_code = Fail(keys.status());
        return;
      }
      if (o->json) {
        ordered_json arr = ordered_json::array();
        for (const auto& k : *keys) {
          arr.push_back(ordered_json{{"id", k.id},
                                     {"name", k.name},
                                     {"role", k.role},
                                     {"created", FormatTime(k.created_ms)},
                                     {"revoked", TimeOrNull(k.revoked_ms)},
                                     {"last_used", TimeOrNull(k.last_used_ms)},
                                     {"rate", RateJson(k.limit)}});
        }
        std::cout << ordered_json{{"keys", arr}}.dump(2) << "\n";
        return;
      }
      if (keys->empty()) {
        std::cout << "no API keys\n";
        return;
      }
      std::cout << Pad("ID", 21) << Pad("ROLE", 12) << Pad("NAME", 16) << Pad("CREATED", 21)
                << "STATUS\n";
      for (const auto& k : *keys) {
        std::cout << Pad(k.id, 21) << Pad(k.role, 12) << Pad(k.name.empty() ? "-" : k.name, 16)
                  << Pad(FormatTime(k.created_ms), 21)
                  << (k.revoked_ms ? "revoked " + FormatTime(*k.revoked_ms) : "active")
                  << RateText(k.limit) << "\n";
      }
    });
  }

  // apikey revoke
  {
    struct RevokeOpts : CommonOptions {
      std::string tenant, key_id;
    };
    auto o = std::make_shared<RevokeOpts>();
    CLI::App* cmd = apikey->add_subcommand("revoke", "Revoke an API key");
    cmd->add_option("tenant", o->tenant, "Tenant id")->required();
    cmd->add_option("key_id", o->key_id, "Key id (from `apikey list`)")->required();
    AddCommonOptions(cmd, *o, false, nullptr);
    cmd->callback([o, &exit_code] {
      auto vault = OpenVault(o->data_dir);
      if (!vault.ok()) {
        exit_code = Fail(vault.status());
        return;
      }
      Status s = (*vault)->RevokeApiKey({o->actor, "admin"}, o->tenant, o->key_id);
      if (!s.ok()) {
        exit_code = Fail(s);
        return;
      }
      std::cout << "api key " << o->key_id << " revoked\n";
    });
  }

  // operator add
  {
    CLI::App* op = app.add_subcommand("operator", "Manage operators (people) of a tenant");
    op->require_subcommand(1);
    struct AddOpts : CommonOptions {
      std::string tenant, email, op_role;
      bool password_stdin = false;
    };
    auto o = std::make_shared<AddOpts>();
    CLI::App* cmd = op->add_subcommand(
        "add", "Add an operator with a password and a TOTP enrollment (shown once)");
    cmd->add_option("tenant", o->tenant, "Tenant id")->required();
    cmd->add_option("email", o->email, "The operator's email address (their sign-in name)")
        ->required();
    cmd->add_option("--role", o->op_role,
                    "Role: one the policy's purposes use, or admin or auditor")
        ->required();
    cmd->add_flag("--password-stdin", o->password_stdin,
                  "Read the password from stdin (else $CUSTODIAN_OPERATOR_PASSWORD)");
    AddCommonOptions(cmd, *o, true, nullptr);
    cmd->callback([o, &exit_code] {
      std::string password;
      if (o->password_stdin) {
        password = ReadPasswordFromStdin();
      } else if (const char* env = std::getenv(kPasswordEnv); env != nullptr && *env != '\0') {
        password = env;
      } else {
        std::cerr << "custodian: operator add needs a password: pipe it in with --password-stdin "
                     "or set "
                  << kPasswordEnv << "\n";
        exit_code = kExitUsage;
        return;
      }
      auto vault = OpenVault(o->data_dir);
      if (!vault.ok()) {
        exit_code = Fail(vault.status());
        return;
      }
      auto e =
          (*vault)->AddOperator({o->actor, "admin"}, o->tenant, o->email, o->op_role, password);
      std::fill(password.begin(), password.end(), '\0');
      if (!e.ok()) {
        exit_code = Fail(e.status());
        return;
      }
      if (o->json) {
        ordered_json j{{"id", e->operator_id},
                       {"role", e->role},
                       {"totp_secret", e->totp_secret},
                       {"otpauth_uri", e->otpauth_uri}};
        std::cout << j.dump(2) << "\n";
        return;
      }
      std::cout << "operator " << e->operator_id << " added to tenant " << o->tenant << " (role "
                << e->role << ")\n"
                << "TOTP enrollment, shown only now: open it in an authenticator app\n"
                << e->otpauth_uri << "\n";
    });
  }
}

}  // namespace custodian::cli
