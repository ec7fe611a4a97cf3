// `custodian demo`: the five example tenants, a few people in each and an
// admin API key per tenant in a data directory of their own, then `serve` on
// it, so that the API, the privacy notices and the privacy portals can be
// tried at once (docs/cli.md#demo). The example policies are compiled in
// (cmake/EmbedFile.cmake), so the command needs no checkout.
//
// A second run on the same directory serves what is there (the keys were
// written to DIR/demo-keys.json at the first).
#include <fcntl.h>
#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/serve_settings.h"
#include "common/fd.h"

namespace custodian::cli {

// generated from examples/policies/*.yaml (CMakeLists.txt)
extern const char kExampleInterjet[];
extern const char kExampleInterindo[];
extern const char kExampleIntnetIq[];
extern const char kExampleInetbills[];
extern const char kExampleContetra[];

namespace {

using nlohmann::ordered_json;

struct Example {
  const char* tenant;  // also the policy's file name, without .yaml
  const char* yaml;
  const char* phone_prefix;  // E.164, the jurisdiction's, less the last digit
  const char* email_domain;
};

const Example kExamples[] = {
    {"interjet", kExampleInterjet, "+91984501000", "example.in"},
    {"interindo", kExampleInterindo, "+628123456780", "example.co.id"},
    {"intnet-iq", kExampleIntnetIq, "+91984502000", "example.in"},
    {"inetbills", kExampleInetbills, "+91984503000", "example.in"},
    {"contetra", kExampleContetra, "+91984504000", "example.in"},
};

const char* const kPeople[] = {"Asha Rao", "Ravi Kumar", "Meera Iyer"};

// The first category the policy declares with `normalize`, or "".
std::string CategoryNormalizedAs(const policy::Policy& policy, policy::Normalizer n) {
  for (const policy::Category& c : policy.categories) {
    if (c.normalize == n) return c.key;
  }
  return "";
}

// Creates the tenants, people and keys; what it made, as demo-keys.json says it.
Result<ordered_json> Populate(service::Vault& vault) {
  const service::Actor actor{"demo", "admin"};
  ordered_json made = ordered_json::object();
  for (const Example& e : kExamples) {
    RETURN_IF_ERROR(
        vault.CreateTenant(actor, e.tenant, e.yaml, std::string(e.tenant) + ".yaml"));
    ASSIGN_OR_RETURN(auto policy, vault.TenantPolicy(e.tenant));
    const std::string phone = CategoryNormalizedAs(*policy, policy::Normalizer::kPhone);
    const std::string email = CategoryNormalizedAs(*policy, policy::Normalizer::kEmail);
    const bool named = policy->FindCategory("user.name") != nullptr;
    ordered_json people = ordered_json::array();
    for (std::size_t i = 0; i < std::size(kPeople); ++i) {
      const std::string name = kPeople[i];
      std::string login = name;
      for (char& c : login) c = c == ' ' ? '.' : static_cast<char>(std::tolower(c));
      std::vector<service::FieldInput> fields;
      ordered_json person = {{"external_id", "DEMO-" + std::to_string(i + 1)}};
      if (named) {
        fields.push_back({"user.name", name});
        person["name"] = name;
      }
      if (!phone.empty()) {
        fields.push_back({phone, e.phone_prefix + std::to_string(i + 1)});
        person["phone"] = fields.back().value;
      }
      if (!email.empty()) {
        fields.push_back({email, login + "@" + e.email_domain});
        person["email"] = fields.back().value;
      }
      RETURN_IF_ERROR(
          vault.AddSubject(actor, e.tenant, fields, person["external_id"].get<std::string>())
              .status());
      people.push_back(std::move(person));
    }
    ASSIGN_OR_RETURN(auto key, vault.CreateApiKey(actor, e.tenant, "admin", "demo"));
    made[e.tenant] = {{"admin_key", key.key},
                      {"portal", "/portal/" + std::string(e.tenant)},
                      {"notice", "/privacy/" + std::string(e.tenant)},
                      {"people", people}};
  }
  return made;
}

// DIR/demo-keys.json, mode 0600, written once.
Status WriteKeys(const std::string& path, const ordered_json& made) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (fd.get() < 0) {
    return Status::FailedPrecondition("cannot write " + path + ": " + std::strerror(errno));
  }
  if (int err = WriteAll(fd.get(), made.dump(2) + "\n"); err != 0) {
    return Status::FailedPrecondition("cannot write " + path + ": " + std::strerror(err));
  }
  return Status::Ok();
}

int Demo(ServeSettings& s, const CLI::App& cmd) {
  const std::string keys = (std::filesystem::path(s.data_dir) / "demo-keys.json").string();
  if (!std::filesystem::exists(service::Vault::StorePath(s.data_dir))) {
    if (Status st = CheckServeSettings(s); !st.ok()) return Fail(st);
    const bool existed = std::filesystem::exists(s.data_dir);
    if (Status st = service::Vault::Init(s.data_dir); !st.ok()) return Fail(st);
    Status made = [&]() -> Status {
      ASSIGN_OR_RETURN(auto vault, OpenVault(s.data_dir));
      ASSIGN_OR_RETURN(ordered_json what, Populate(*vault));
      return WriteKeys(keys, what);
    }();
    if (!made.ok()) {
      // Half a demo would be served as a whole one next time: none instead.
      std::error_code ec;
      if (!existed) std::filesystem::remove_all(s.data_dir, ec);
      return Fail(made);
    }
    std::cerr << "custodian: demo data in " << s.data_dir << ": the five example tenants ("
              << "interjet, interindo, intnet-iq, inetbills, contetra), 3 people in each, and an "
                 "admin API key per tenant in "
              << keys << "\n";
  } else {
    std::cerr << "custodian: serving the demo data already in " << s.data_dir << " (keys in "
              << keys << ")\n";
  }
  // Nothing leaves the machine: what the outbox would send is written here.
  s.message_file = (std::filesystem::path(s.data_dir) / "outbox.txt").string();
  std::cerr << "custodian: try /portal/interjet (the privacy portal; sign in with a person's phone "
               "or email from the keys file), /privacy/interjet (the notice) and /v1/openapi.yaml "
               "on the address below. Messages are not sent: they are written to "
            << s.message_file << "\n";
  return Serve(s, cmd);
}

}  // namespace

void RegisterDemoCommand(CLI::App& app, int& exit_code) {
  auto s = std::make_shared<ServeSettings>();
  s->data_dir = "custodian-demo";
  CLI::App* cmd = app.add_subcommand(
      "demo", "Serve the five example tenants with a few people each (made on first run)");
  cmd->add_option("--data-dir", s->data_dir, "The demo's data directory (default custodian-demo)");
  cmd->add_option("--listen", s->listen, "HOST:PORT to listen on (default 127.0.0.1:8080)");
  cmd->callback([s, cmd, &exit_code] { exit_code = Demo(*s, *cmd); });
}

}  // namespace custodian::cli
