// custodian retention plan | run | aggregates, and custodian hold add | list |
// release (docs/retention.md).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "service/retention.h"

namespace custodian::cli {
namespace {

using nlohmann::ordered_json;

struct RetentionOpts : CommonOptions {
  std::string tenant;
  std::string at;
  bool dry_run = false;
  int batch = 5000;
  int batch_subjects = 500;
};

struct HoldOpts : CommonOptions {
  std::string tenant;
  std::string subject;
  std::string record;
  std::string reason;
  std::string until;
  std::string id;
  bool standing = false;
};

// "2027-01-31" or an RFC 3339 time, for --at and --until.
Result<int64_t> ParseWhen(const std::string& option, const std::string& text) {
  auto t = ParseTime(text);
  if (!t.ok()) return t.status().WithContext(option);
  return t;
}

std::string Plural(int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// "12 records, 3 subjects" (the parts that are not zero), or "nothing".
std::string Items(int64_t records, int64_t subjects) {
  std::string s;
  if (records) s = Plural(records, "record", "records");
  if (subjects) s += (s.empty() ? "" : ", ") + Plural(subjects, "subject", "subjects");
  return s.empty() ? "nothing" : s;
}

void PrintPlan(const service::RetentionPlan& plan, bool json) {
  if (json) {
    ordered_json rules = ordered_json::array();
    for (const auto& r : plan.rules) {
      ordered_json months = ordered_json::array();
      for (const auto& m : r.months) {
        months.push_back({{"month", m.month}, {"records", m.records}, {"subjects", m.subjects}});
      }
      rules.push_back({{"rule", r.rule},
                       {"action", r.action},
                       {"period", r.period},
                       {"reason", r.reason},
                       {"due", {{"records", r.due_records}, {"subjects", r.due_subjects}}},
                       {"months", months},
                       {"waiting", {{"records", r.waiting_records}, {"subjects", r.waiting_subjects}}}});
    }
    std::cout << ordered_json{{"tenant", plan.tenant},
                              {"at", FormatTime(plan.at_ms)},
                              {"time_zone", plan.time_zone},
                              {"holds", plan.holds},
                              {"rules", rules}}
                     .dump(2)
              << "\n";
    return;
  }
  std::cout << "retention plan of " << plan.tenant << " at " << FormatTime(plan.at_ms)
            << " (dates in the tenant's calendar, " << plan.time_zone << ")\n";
  for (const auto& r : plan.rules) {
    std::cout << "\n" << r.rule << ": " << r.action << ", " << r.period
              << (r.reason.empty() ? "" : " (" + r.reason + ")") << "\n";
    std::cout << "  due now:  " << Items(r.due_records, r.due_subjects) << "\n";
    for (const auto& m : r.months) {
      std::cout << "  " << m.month << ":  " << Items(m.records, m.subjects) << "\n";
    }
    if (r.waiting_records || r.waiting_subjects) {
      std::cout << "  no date yet: " << Items(r.waiting_records, r.waiting_subjects)
                << " (the anchor has not happened: account open, or not yet "
                << (r.period.find(" after ") != std::string::npos
                        ? r.period.substr(r.period.find(" after ") + 7)
                        : std::string("closed"))
                << ")\n";
    }
  }
  if (plan.holds > 0) {
    std::cout << "\n" << Plural(plan.holds, "legal hold stands", "legal holds stand")
              << ": what they cover is counted above but will not be purged while they stand "
                 "(custodian hold list "
              << plan.tenant << ")\n";
  }
}

ordered_json HoldJson(const service::HoldView& h) {
  ordered_json j{{"id", h.id},         {"subject", h.subject},
                 {"record", h.record}, {"reason", h.reason},
                 {"actor", h.actor},   {"created", FormatTime(h.created_ms)},
                 {"standing", h.standing}};
  j["until"] = h.until_ms ? ordered_json(FormatTime(*h.until_ms)) : ordered_json(nullptr);
  j["released"] = h.released_ms ? ordered_json(FormatTime(*h.released_ms)) : ordered_json(nullptr);
  return j;
}

void PrintHold(const service::HoldView& h) {
  std::cout << h.id << "  " << (h.standing ? "standing" : "released") << "  " << h.subject
            << (h.record.empty() ? "" : " record " + h.record) << "  since "
            << FormatTime(h.created_ms)
            << (h.until_ms ? "  until " + FormatTime(*h.until_ms) : std::string())
            << (h.released_ms ? "  released " + FormatTime(*h.released_ms) + " by " + h.released_by
                              : std::string())
            << "\n  reason: " << h.reason << "\n";
}

// A progress line on stderr (terminals only), at most four times a second.
class Progress {
 public:
  void Update(const service::SweepProgress& p) {
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    char line[160];
    std::snprintf(line, sizeof line, "\r%s: %lld of %lld due items done   ", p.tenant.c_str(),
                  static_cast<long long>(p.done), static_cast<long long>(p.due));
    std::cerr << line << std::flush;
    drawn_ = true;
  }
  void Clear() {
    if (drawn_) std::cerr << "\r" << std::string(70, ' ') << "\r" << std::flush;
  }

 private:
  std::chrono::steady_clock::time_point last_{};
  bool drawn_ = false;
};

}  // namespace

void RegisterRetentionCommands(CLI::App& app, int& exit_code) {
  CLI::App* retention = app.add_subcommand(
      "retention", "Apply the policy's retention rules: plan, run the sweep (docs/retention.md)");
  retention->require_subcommand(1);

  auto plan = std::make_shared<RetentionOpts>();
  plan->role = "admin";
  CLI::App* p = retention->add_subcommand(
      "plan", "What falls due when, per rule and month (counts only, never a value)");
  p->add_option("tenant", plan->tenant, "Tenant id")->required();
  p->add_option("--at", plan->at, "Plan as of this date or time (default now), e.g. 2027-02-01");
  AddCommonOptions(p, *plan, true, "Role acting (default admin)");
  p->callback([plan, &exit_code] {
    std::optional<int64_t> at;
    if (!plan->at.empty()) {
      auto t = ParseWhen("--at", plan->at);
      if (!t.ok()) {
        exit_code = Fail(t.status());
        return;
      }
      at = *t;
    }
    WithVault(plan->data_dir, exit_code, [&](service::Vault& vault) {
      auto result = service::Retention(vault).Plan({plan->actor, plan->role}, plan->tenant, at);
      if (!result.ok()) {
        exit_code = Fail(result.status());
        return;
      }
      PrintPlan(*result, plan->json);
    });
  });

  auto run = std::make_shared<RetentionOpts>();
  run->role = "admin";
  CLI::App* r = retention->add_subcommand(
      "run", "Purge what is due now, in batches (resumable: run it again after a crash)");
  r->add_option("--tenant", run->tenant, "Only this tenant (default: every tenant)");
  r->add_flag("--dry-run", run->dry_run, "Count what is due; purge nothing");
  r->add_option("--batch", run->batch, "Records per batch transaction (default 5000)")
      ->check(CLI::Range(1, 1'000'000));
  r->add_option("--batch-subjects", run->batch_subjects,
                "Subjects per batch transaction, for shredding and compaction (default 500)")
      ->check(CLI::Range(1, 100'000));
  AddCommonOptions(r, *run, true, "Role acting (default admin)");
  r->callback([run, &exit_code] {
    WithVault(run->data_dir, exit_code, [&](service::Vault& vault) {
      service::SweepOptions o;
      o.tenant = run->tenant;
      o.dry_run = run->dry_run;
      o.batch_records = run->batch;
      o.batch_subjects = run->batch_subjects;
      Progress progress;
      if (::isatty(2)) o.on_batch = [&progress](const service::SweepProgress& tick) { progress.Update(tick); };
      auto start = std::chrono::steady_clock::now();
      auto report = service::Retention(vault).Sweep({run->actor, run->role}, o);
      progress.Clear();
      if (!report.ok()) {
        exit_code = Fail(report.status());
        return;
      }
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      ordered_json tenants = ordered_json::array();
      for (const auto& t : report->tenants) {
        if (run->json) {
          tenants.push_back({{"tenant", t.tenant},
                             {"due", t.due},
                             {"records_deleted", t.records_deleted},
                             {"fields_deleted", t.fields_deleted},
                             {"subjects_anonymized", t.subjects_anonymized},
                             {"subjects_erased", t.subjects_erased},
                             {"records_compacted", t.records_compacted},
                             {"held", t.held},
                             {"overdue", t.overdue}});
          continue;
        }
        if (report->dry_run) {
          std::cout << t.tenant << ": " << Plural(t.due, "item is", "items are")
                    << " due (dry run: nothing purged)\n";
          continue;
        }
        std::cout << t.tenant << ": " << Plural(t.due, "item", "items") << " due; "
                  << Plural(t.records_deleted, "record", "records") << " and "
                  << Plural(t.fields_deleted, "field", "fields") << " purged, "
                  << Plural(t.subjects_anonymized, "subject", "subjects") << " anonymized, "
                  << Plural(t.subjects_erased, "subject", "subjects")
                  << " erased (nothing left to keep), " << t.held << " held";
        if (t.records_compacted > 0) {
          std::cout << "; the rows of " << Plural(t.records_compacted, "record", "records")
                    << " shredded with their subject's key removed";
        }
        std::cout << "\n";
      }
      if (run->json) {
        std::cout << ordered_json{{"dry_run", report->dry_run},
                                  {"seconds", secs},
                                  {"tenants", tenants}}
                         .dump(2)
                  << "\n";
      }
    });
  });

  auto agg = std::make_shared<RetentionOpts>();
  agg->role = "admin";
  CLI::App* a = retention->add_subcommand(
      "aggregates", "What anonymize rules kept: generalized values and counts, no subject");
  a->add_option("tenant", agg->tenant, "Tenant id")->required();
  AddCommonOptions(a, *agg, true, "Role acting (default admin)");
  a->callback([agg, &exit_code] {
    WithVault(agg->data_dir, exit_code, [&](service::Vault& vault) {
      auto rows = service::Retention(vault).Aggregates({agg->actor, agg->role}, agg->tenant);
      if (!rows.ok()) {
        exit_code = Fail(rows.status());
        return;
      }
      ordered_json arr = ordered_json::array();
      for (const auto& row : rows->groups) {
        ordered_json values = ordered_json::object();
        std::string text;
        for (const auto& [k, v] : row.values) {
          values[k] = v;
          text += (text.empty() ? "" : ", ") + k + "=" + v;
        }
        if (agg->json) {
          arr.push_back({{"rule", row.rule}, {"values", values}, {"count", row.count}});
        } else {
          std::cout << row.rule << "  " << row.count << "  " << (text.empty() ? "(none kept)" : text)
                    << "\n";
        }
      }
      ordered_json withheld = ordered_json::array();
      for (const auto& w : rows->withheld) {
        if (agg->json) {
          withheld.push_back(
              {{"rule", w.rule}, {"min_group", w.min_group}, {"groups", w.groups}});
        } else {
          std::cout << w.rule << "  withheld: " << w.groups << " group"
                    << (w.groups == 1 ? "" : "s") << " of fewer than " << w.min_group
                    << " accounts\n";
        }
      }
      if (agg->json) {
        std::cout << ordered_json{{"aggregates", arr}, {"withheld", withheld}}.dump(2) << "\n";
      }
      if (!agg->json && rows->groups.empty() && rows->withheld.empty()) {
        std::cout << "no anonymized aggregates yet\n";
      }
    });
  });

  CLI::App* hold = app.add_subcommand(
      "hold", "Legal holds: what they cover is never purged while they stand");
  hold->require_subcommand(1);

  auto add = std::make_shared<HoldOpts>();
  add->role = "admin";
  CLI::App* h = hold->add_subcommand("add", "Place a legal hold on a subject (or one record)");
  h->add_option("tenant", add->tenant, "Tenant id")->required();
  h->add_option("subject", add->subject, "Subject id")->required();
  h->add_option("--reason", add->reason, "Why (a court order, a dispute...); kept sealed")
      ->required();
  h->add_option("--until", add->until, "The hold lapses then (date or time); default: until released");
  h->add_option("--record", add->record, "Hold only this record of the subject");
  AddCommonOptions(h, *add, true, "Role acting (default admin)");
  h->callback([add, &exit_code] {
    service::HoldInput in{add->subject, add->record, add->reason, std::nullopt};
    if (!add->until.empty()) {
      auto t = ParseWhen("--until", add->until);
      if (!t.ok()) {
        exit_code = Fail(t.status());
        return;
      }
      in.until_ms = *t;
    }
    WithVault(add->data_dir, exit_code, [&](service::Vault& vault) {
      auto held = service::Retention(vault).AddHold({add->actor, add->role}, add->tenant, in);
      if (!held.ok()) {
        exit_code = Fail(held.status());
        return;
      }
      if (add->json) {
        std::cout << HoldJson(*held).dump(2) << "\n";
      } else {
        std::cout << held->id << "\n";
      }
    });
  });

  auto list = std::make_shared<HoldOpts>();
  list->role = "admin";
  CLI::App* l = hold->add_subcommand("list", "The tenant's legal holds, oldest first");
  l->add_option("tenant", list->tenant, "Tenant id")->required();
  l->add_option("--subject", list->subject, "Only this subject's");
  l->add_flag("--standing", list->standing, "Only holds that stand now");
  AddCommonOptions(l, *list, true, "Role acting (default admin)");
  l->callback([list, &exit_code] {
    WithVault(list->data_dir, exit_code, [&](service::Vault& vault) {
      auto holds = service::Retention(vault).ListHolds({list->actor, list->role}, list->tenant,
                                                       list->subject, list->standing);
      if (!holds.ok()) {
        exit_code = Fail(holds.status());
        return;
      }
      ordered_json arr = ordered_json::array();
      for (const auto& x : *holds) {
        if (list->json) {
          arr.push_back(HoldJson(x));
        } else {
          PrintHold(x);
        }
      }
      if (list->json) std::cout << ordered_json{{"holds", arr}}.dump(2) << "\n";
      if (!list->json && holds->empty()) std::cout << "no legal holds\n";
    });
  });

  auto rel = std::make_shared<HoldOpts>();
  rel->role = "admin";
  CLI::App* x = hold->add_subcommand("release", "Release a legal hold");
  x->add_option("tenant", rel->tenant, "Tenant id")->required();
  x->add_option("hold", rel->id, "Hold id (hold_...)")->required();
  AddCommonOptions(x, *rel, true, "Role acting (default admin)");
  x->callback([rel, &exit_code] {
    WithVault(rel->data_dir, exit_code, [&](service::Vault& vault) {
      auto released = service::Retention(vault).ReleaseHold({rel->actor, rel->role}, rel->tenant,
                                                            rel->id);
      if (!released.ok()) {
        exit_code = Fail(released.status());
        return;
      }
      if (rel->json) {
        std::cout << HoldJson(*released).dump(2) << "\n";
      } else {
        std::cout << released->id << " released\n";
      }
    });
  });
}

}  // namespace custodian::cli
