// The vault's commands: init, tenant, subject, lookup, erase (audit: audit_commands.cc).
#include <time.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "service/vault.h"

namespace custodian::cli {
namespace {

using nlohmann::ordered_json;
using service::Actor;
using service::Vault;

ordered_json ViewJson(const service::SubjectView& v) {
  ordered_json j;
  j["id"] = v.id;
  j["state"] = v.state;
  j["created"] = FormatTime(v.created_ms);
  j["closed"] = v.closed_ms ? ordered_json(FormatTime(*v.closed_ms)) : ordered_json(nullptr);
  ordered_json fields = ordered_json::object();
  for (const auto& f : v.fields) fields[f.category] = f.value;
  j["fields"] = fields;
  j["withheld"] = v.withheld;
  return j;
}

void PrintView(const service::SubjectView& v) {
  std::cout << "subject " << v.id << " (" << v.state;
  if (v.closed_ms) std::cout << " since " << FormatTime(*v.closed_ms);
  std::cout << ")\n";
  for (const auto& f : v.fields) {
    std::cout << "  " << f.label << " [" << f.category << "]: " << f.value << "\n";
  }
  if (!v.withheld.empty()) {
    std::cout << "  withheld for this purpose:";
    for (const auto& c : v.withheld) std::cout << " " << c;
    std::cout << "\n";
  }
}

}  // namespace

void RegisterVaultCommands(CLI::App& app, int& exit_code) {
  // init
  {
    auto o = std::make_shared<CommonOptions>();
    CLI::App* cmd =
        app.add_subcommand("init", "Create a data directory with a store and master key");
    cmd->add_option("--data-dir", o->data_dir, "Data directory to create");
    cmd->callback([o, &exit_code] {
      Status s = Vault::Init(o->data_dir);
      if (!s.ok()) {
        exit_code = Fail(s);
        return;
      }
      std::cout << "initialized " << o->data_dir
                << "\n  store:      " << Vault::StorePath(o->data_dir) << "\n";
      const char* env_key = std::getenv("CUSTODIAN_MASTER_KEY");
      if (env_key == nullptr || *env_key == '\0') {
        std::cout << "  master key: " << Vault::MasterKeyPath(o->data_dir)
                  << " (mode 0600; back it up apart from the data: without it nothing can be "
                     "decrypted)\n";
      } else {
        std::cout << "  master key: from CUSTODIAN_MASTER_KEY\n";
      }
    });
  }

  // tenant create
  {
    CLI::App* tenant = app.add_subcommand("tenant", "Manage tenants");
    tenant->require_subcommand(1);
    struct TenantOpts : CommonOptions {
      std::string id, policy_file;
    };
    auto o = std::make_shared<TenantOpts>();
    CLI::App* create = tenant->add_subcommand("create", "Create a tenant with its policy");
    create->add_option("tenant", o->id, "Tenant id (lower-case letters, digits, '-')")->required();
    create->add_option("--policy", o->policy_file, "Policy YAML file")
        ->required()
        ->check(CLI::ExistingFile);
    AddCommonOptions(create, *o, false, nullptr);
    create->callback([o, &exit_code] {
      auto vault = OpenVault(o->data_dir);
      if (!vault.ok()) {
        exit_code = Fail(vault.status());
        return;
      }
      auto yaml = ReadWholeFile(o->policy_file);
      if (!yaml.ok()) {
        exit_code = Fail(yaml.status());
        return;
      }
      Status s = (*vault)->CreateTenant({o->actor, "admin"}, o->id, *yaml, o->policy_file);
      if (!s.ok()) {
        exit_code = Fail(s);
        return;
      }
      std::cout << "tenant " << o->id << " created with policy " << o->policy_file << "\n";
    });
  }

  // subject add | show | close
  {
    CLI::App* subject = app.add_subcommand("subject", "Add, show and close subjects");
    subject->require_subcommand(1);

    struct AddOpts : CommonOptions {
      std::string tenant;
      std::vector<std::string> fields;
      std::string external_id;
    };
    auto add = std::make_shared<AddOpts>();
    add->role = "admin";
    CLI::App* a = subject->add_subcommand("add", "Add a subject (or update one by --external-id)");
    a->add_option("tenant", add->tenant, "Tenant id")->required();
    a->add_option("--field", add->fields, "CATEGORY=VALUE, repeatable")->required();
    a->add_option("--external-id", add->external_id, "Your id for this person; upserts");
    AddCommonOptions(a, *add, true, "Role acting (default admin)");
    a->callback([add, &exit_code] {
      auto parsed = ParseFieldArgs(add->fields, "--field", exit_code);
      if (!parsed) return;
      std::vector<service::FieldInput> fields = std::move(*parsed);
      auto vault = OpenVault(add->data_dir);
      if (!vault.ok()) {
        exit_code = Fail(vault.status());
        return;
      }
      std::optional<std::string> ext;
      if (!add->external_id.empty()) ext = add->external_id;
      auto r = (*vault)->AddSubject({add->actor, add->role}, add->tenant, fields, ext);
      if (!r.ok()) {
        exit_code = Fail(r.status());
        return;
      }
      if (add->json) {
        ordered_json j{{"subject", r->subject_id},
                       {"created", r->created},
                       {"fields_changed", r->fields_changed},
                       {"fields_unchanged", r->fields_unchanged}};
        std::cout << j.dump(2) << "\n";
      } else if (r->created) {
        std::cout << r->subject_id << "\n";
      } else {
        std::cout << r->subject_id << " updated: " << r->fields_changed << " field(s) changed, "
                  << r->fields_unchanged << " unchanged\n";
      }
    });

    struct ShowOpts : CommonOptions {
      std::string tenant, subject, purpose;
    };
    auto show = std::make_shared<ShowOpts>();
    CLI::App* s = subject->add_subcommand("show", "Show a subject's fields for one purpose");
    s->add_option("tenant", show->tenant, "Tenant id")->required();
    s->add_option("subject", show->subject, "Subject id")->required();
    s->add_option("--purpose", show->purpose, "Declared purpose of this read")->required();
    AddCommonOptions(s, *show, true, "Role of the reader (e.g. agent, admin)");
    s->get_option("--role")->required();
    s->callback([show, &exit_code] {
      auto vault = OpenVault(show->data_dir);
      if (!vault.ok()) {
        exit_code = Fail(vault.status());
        return;
      }
      auto v = (*vault)->ShowSubject({show->actor, show->role}, show->tenant, show->subject,
                                     show->purpose);
      if (!v.ok()) {
        exit_code = Fail(v.status());
        return;
      }
      if (show->json) {
        std::cout << ViewJson(*v).dump(2) << "\n";
      } else {
        PrintView(*v);
      }
    });

    struct CloseOpts : CommonOptions {
      std::string tenant, subject, at;
    };
    auto close = std::make_shared<CloseOpts>();
    close->role = "admin";
    CLI::App* c = subject->add_subcommand("close", "Mark a subject's account closed");
    c->add_option("tenant", close->tenant, "Tenant id")->required();
    c->add_option("subject", close->subject, "Subject id")->required();
    c->add_option("--at", close->at, "When it closed: YYYY-MM-DD or RFC 3339 (default now)");
    AddCommonOptions(c, *close, false, "Role acting (default admin)");
    c->callback([close, &exit_code] {
      std::optional<int64_t> at;
      if (!close->at.empty()) {
        auto t = ParseTime(close->at);
        if (!t.ok()) {
          std::cerr << "custodian: --at: " << t.status().message() << "\n";
          exit_code = kExitUsage;
          return;
        }
        at = *t;
      }
      auto vault = OpenVault(close->data_dir);
      if (!vault.ok()) {
        exit_code = Fail(vault.status());
        return;
      }
      Status st =
          (*vault)->CloseSubject({close->actor, close->role}, close->tenant, close->subject, at);
      if (!st.ok()) {
        exit_code = Fail(st);
        return;
      }
      std::cout << close->subject << " closed\n";
    });
  }

  // lookup
  {
    struct LookupOpts : CommonOptions {
      std::string tenant, phone, email, category, value, purpose;
    };
    auto o = std::make_shared<LookupOpts>();
    CLI::App* cmd = app.add_subcommand("lookup", "Find subjects by an indexed value");
    cmd->add_option("tenant", o->tenant, "Tenant id")->required();
    auto* phone = cmd->add_option("--phone", o->phone, "Phone number, any common format");
    auto* email = cmd->add_option("--email", o->email, "Email address");
    auto* category = cmd->add_option("--category", o->category, "An indexed category key");
    cmd->add_option("--value", o->value, "Value for --category")->needs(category);
    phone->excludes(email)->excludes(category);
    email->excludes(category);
    cmd->add_option("--purpose", o->purpose, "Declared purpose of this read")->required();
    AddCommonOptions(cmd, *o, true, "Role of the reader (e.g. agent, admin)");
    cmd->get_option("--role")->required();
    cmd->callback([o, &exit_code] {
      service::LookupQuery q;
      if (!o->phone.empty()) {
        q = {"phone", o->phone};
      } else if (!o->email.empty()) {
        q = {"email", o->email};
      } else if (!o->category.empty()) {
        q = {o->category, o->value};
      } else {
        std::cerr << "custodian: lookup needs --phone, --email or --category with --value\n";
        exit_code = kExitUsage;
        return;
      }
      auto vault = OpenVault(o->data_dir);
      if (!vault.ok()) {
        exit_code = Fail(vault.status());
        return;
      }
      auto views = (*vault)->Lookup({o->actor, o->role}, o->tenant, q, o->purpose);
      if (!views.ok()) {
        exit_code = Fail(views.status());
        return;
      }
      if (o->json) {
        ordered_json arr = ordered_json::array();
        for (const auto& v : *views) arr.push_back(ViewJson(v));
        std::cout << ordered_json{{"matches", arr}}.dump(2) << "\n";
        return;
      }
      if (views->empty()) std::cout << "no match\n";
      for (const auto& v : *views) PrintView(v);
    });
  }

  // erase
  {
    struct EraseOpts : CommonOptions {
      std::string tenant, ids_file;
      std::vector<std::string> subjects;
    };
    auto o = std::make_shared<EraseOpts>();
    o->role = "admin";
    CLI::App* cmd = app.add_subcommand(
        "erase", "Erase subjects for good (crypto-shredding); several at once in one batch");
    cmd->add_option("tenant", o->tenant, "Tenant id")->required();
    cmd->add_option("subjects", o->subjects, "Subject ids");
    cmd->add_option("--ids-file", o->ids_file,
                    "A file of subject ids, one per line (up to 100000 per run)");
    AddCommonOptions(cmd, *o, false, "Role acting (default admin)");
    cmd->callback([o, &exit_code] {
      std::vector<std::string> ids = o->subjects;
      if (!o->ids_file.empty()) {
        std::ifstream in(o->ids_file);
        if (!in) {
          exit_code = Fail(Status::NotFound("cannot read " + o->ids_file));
          return;
        }
        for (std::string line; std::getline(in, line);) {
          while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
          if (!line.empty()) ids.push_back(line);
        }
      }
      if (ids.empty()) {
        std::cerr << "custodian: name the subjects to erase, or give --ids-file\n";
        exit_code = kExitUsage;
        return;
      }
      auto vault = OpenVault(o->data_dir);
      if (!vault.ok()) {
        exit_code = Fail(vault.status());
        return;
      }
      if (ids.size() == 1 && o->ids_file.empty()) {
        Status st = (*vault)->EraseSubject({o->actor, o->role}, o->tenant, ids[0]);
        if (!st.ok()) {
          exit_code = Fail(st);
          return;
        }
        std::cout << ids[0]
                  << " erased: its key is destroyed and its values can no longer be "
                     "decrypted\n";
        return;
      }
      auto r = (*vault)->EraseSubjects({o->actor, o->role}, o->tenant, ids);
      if (!r.ok()) {
        exit_code = Fail(r.status());
        return;
      }
      std::cout << r->erased << " subject(s) erased, " << r->already_erased
                << " already erased: their keys are destroyed\n";
    });
  }
}

}  // namespace custodian::cli
