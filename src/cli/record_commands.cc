// custodian record add | event | list
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "service/vault.h"

namespace custodian::cli {
namespace {

using nlohmann::ordered_json;

struct RecordOpts : CommonOptions {
  std::string tenant, subject, record, kind, at, data, event, purpose;
};

// --at parsed, or now when empty; usage error (exit 2) when malformed.
bool TimeOption(const std::string& at, int64_t& out, int& exit_code) {
  if (at.empty()) {
    out = service::SystemClockMs();
    return true;
  }
  auto t = ParseTime(at);
  if (!t.ok()) {
    std::cerr << "custodian: --at: " << t.status().message() << "\n";
    exit_code = kExitUsage;
    return false;
  }
  out = *t;
  return true;
}

}  // namespace

void RegisterRecordCommands(CLI::App& app, int& exit_code) {
  CLI::App* record = app.add_subcommand("record", "Add records to subjects and list them");
  record->require_subcommand(1);

  auto add = std::make_shared<RecordOpts>();
  add->role = "admin";
  CLI::App* a = record->add_subcommand("add", "Attach a record (a JSON object) to a subject");
  a->add_option("tenant", add->tenant, "Tenant id")->required();
  a->add_option("subject", add->subject, "Subject id")->required();
  a->add_option("--kind", add->kind, "A record kind declared in the policy")->required();
  a->add_option("--data", add->data, "The record, a JSON object")->required();
  a->add_option("--at", add->at, "When it happened: YYYY-MM-DD or RFC 3339 (default now)");
  AddCommonOptions(a, *add, true, "Role acting (default admin)");
  a->callback([add, &exit_code] {
    int64_t at = 0;
    if (!TimeOption(add->at, at, exit_code)) return;
    auto vault = OpenVault(add->data_dir);
    if (!vault.ok()) {
      exit_code = Fail(vault.status());
      return;
    }
    auto id = (*vault)->AddRecord({add->actor, add->role}, add->tenant, add->subject,
                                  {add->kind, at, add->data});
    if (!id.ok()) {
      exit_code = Fail(id.status());
      return;
    }
    if (add->json) {
      std::cout << ordered_json{{"record", *id}}.dump(2) << "\n";
    } else {
      std::cout << *id << "\n";
    }
  });

  auto ev = std::make_shared<RecordOpts>();
  ev->role = "admin";
  CLI::App* e = record->add_subcommand("event", "Record an anchor event (e.g. verified)");
  e->add_option("tenant", ev->tenant, "Tenant id")->required();
  e->add_option("record", ev->record, "Record id")->required();
  e->add_option("event", ev->event, "An anchor event the record's kind declares")->required();
  e->add_option("--at", ev->at, "When: YYYY-MM-DD or RFC 3339 (default now)");
  AddCommonOptions(e, *ev, false, "Role acting (default admin)");
  e->callback([ev, &exit_code] {
    int64_t at = 0;
    if (!TimeOption(ev->at, at, exit_code)) return;
    auto vault = OpenVault(ev->data_dir);
    if (!vault.ok()) {
      exit_code = Fail(vault.status());
      return;
    }
    Status s = (*vault)->RecordEvent({ev->actor, ev->role}, ev->tenant, ev->record, ev->event, at);
    if (!s.ok()) {
      exit_code = Fail(s);
      return;
    }
    std::cout << ev->record << " " << ev->event << " at " << FormatTime(at) << "\n";
  });

  auto list = std::make_shared<RecordOpts>();
  CLI::App* l = record->add_subcommand("list", "List a subject's records for one purpose");
  l->add_option("tenant", list->tenant, "Tenant id")->required();
  l->add_option("subject", list->subject, "Subject id")->required();
  l->add_option("--purpose", list->purpose, "Declared purpose of this read")->required();
  l->add_option("--kind", list->kind, "Only this record kind");
  AddCommonOptions(l, *list, true, "Role of the reader (e.g. agent, admin)");
  l->get_option("--role")->required();
  l->callback([list, &exit_code] {
    auto vault = OpenVault(list->data_dir);
    if (!vault.ok()) {
      exit_code = Fail(vault.status());
      return;
    }
    auto r = (*vault)->ListRecords({list->actor, list->role}, list->tenant, list->subject,
                                   list->purpose, list->kind);
    if (!r.ok()) {
      exit_code = Fail(r.status());
      return;
    }
    if (list->json) {
      ordered_json arr = ordered_json::array();
      for (const auto& v : r->records) {
        ordered_json events = ordered_json::object();
        for (const auto& [name, ms] : v.events) events[name] = FormatTime(ms);
        arr.push_back({{"id", v.id},
                       {"kind", v.kind},
                       {"category", v.category},
                       {"at", FormatTime(v.at_ms)},
                       {"data", ordered_json::parse(v.payload_json, nullptr, false)},
                       {"events", events}});
      }
      std::cout << ordered_json{{"records", arr}, {"withheld", r->withheld}}.dump(2) << "\n";
      return;
    }
    if (r->records.empty()) std::cout << "no records for this purpose\n";
    for (const auto& v : r->records) {
      std::cout << v.id << "  " << FormatTime(v.at_ms) << "  " << v.kind << "  " << v.payload_json;
      for (const auto& [name, ms] : v.events) std::cout << "  " << name << "@" << FormatTime(ms);
      std::cout << "\n";
    }
    if (!r->withheld.empty()) {
      std::cout << "withheld for this purpose:";
      for (const auto& w : r->withheld) std::cout << " " << w;
      std::cout << "\n";
    }
  });
}

}  // namespace custodian::cli
