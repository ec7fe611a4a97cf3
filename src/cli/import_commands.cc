// custodian import subjects | records
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "cli/commands.h"
#include "import/consent_import.h"
#include "import/importer.h"

namespace custodian::cli {
namespace {

using nlohmann::ordered_json;

struct ImportOpts : CommonOptions {
  std::string tenant, csv, map, kind, external_id, region;
  bool ignore_unmapped = false;
  std::size_t batch = 5000;
};

// A progress line on stderr, redrawn with \r at most four times a second.
class ProgressLine {
 public:
  ProgressLine() : start_(Clock::now()), last_(start_) {}

  void Update(const import::ImportTick& t) {
    auto now = Clock::now();
    if (now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    double secs = std::chrono::duration<double>(now - start_).count();
    double rate = secs > 0 ? static_cast<double>(t.rows_this_run) / secs : 0;
    double fraction = t.file_bytes > 0
                          ? static_cast<double>(t.bytes_read) / static_cast<double>(t.file_bytes)
                          : 1;
    // Time left from this run's pace through the file's bytes.
    double bytes_per_s = secs > 0 ? static_cast<double>(t.bytes_read - t.run_start) / secs : 0;
    double eta =
        bytes_per_s > 0 ? static_cast<double>(t.file_bytes - t.bytes_read) / bytes_per_s : 0;
    char line[160];
    std::snprintf(line, sizeof line, "\r%lld rows  %3.0f%%  %.0f rows/s  ETA %02d:%02d   ",
                  static_cast<long long>(t.counts.rows), fraction * 100, rate,
                  static_cast<int>(eta) / 60, static_cast<int>(eta) % 60);
    std::cerr << line << std::flush;
    drawn_ = true;
  }
  void Clear() {
    if (drawn_) std::cerr << "\r" << std::string(60, ' ') << "\r" << std::flush;
  }

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point start_, last_;
  bool drawn_ = false;
};

void AddImportOptions(CLI::App* cmd, ImportOpts& o) {
  cmd->add_option("tenant", o.tenant, "Tenant id")->required();
  cmd->add_option("file", o.csv, "The CSV file (header row first)")->required();
  cmd->add_option("--map", o.map, "The mapping file (YAML): what each column holds")->required();
  cmd->add_flag("--ignore-unmapped", o.ignore_unmapped,
                "Ignore columns the mapping does not name (default: an error)");
  cmd->add_option("--batch", o.batch, "Rows per transaction (default 5000)");
  AddCommonOptions(cmd, o, true, "Role acting (default admin)");
}

// Prints what an import did and sets the exit code (3 when rows were rejected).
void ReportImport(const ImportOpts& o, const Result<import::ImportSummary>& summary,
                  int& exit_code) {
  if (!summary.ok()) {
    exit_code = Fail(summary.status());
    return;
  }
  const import::ImportCounts& c = summary->counts;
  if (o.json) {
    ordered_json j{{"file", o.csv},        {"rows", c.rows},           {"added", c.added},
                   {"updated", c.updated}, {"unchanged", c.unchanged}, {"rejected", c.rejected}};
    if (summary->resumed) j["resumed_at_line"] = summary->resumed_at_line;
    if (c.rejected > 0) j["rejects"] = summary->rejects_path;
    std::cout << j.dump(2) << "\n";
  } else {
    if (summary->resumed) {
      std::cout << "resumed an interrupted import at line " << summary->resumed_at_line << "\n";
    }
    std::cout << o.csv << ": " << c.rows << " rows: " << c.added << " added, " << c.updated
              << " updated, " << c.unchanged << " unchanged, " << c.rejected << " rejected\n";
    if (c.rejected > 0) std::cout << "rejected rows are in " << summary->rejects_path << "\n";
  }
  exit_code = c.rejected > 0 ? kExitPartial : kExitOk;
}

void RunImportCommand(const ImportOpts& o, import::ImportKind kind, int& exit_code) {
  WithVault(o.data_dir, exit_code, [&](service::Vault& vault) {
    import::ImportOptions options;
    options.kind = kind;
    options.tenant = o.tenant;
    options.csv_path = o.csv;
    options.mapping_path = o.map;
    options.record_kind = o.kind;
    options.external_id_column = o.external_id;
    options.ignore_unmapped = o.ignore_unmapped;
    options.default_region = o.region;
    options.batch_rows = o.batch;
    options.actor = {o.actor, o.role};
    ProgressLine progress;
    if (::isatty(2)) {
      options.on_batch = [&progress](const import::ImportTick& t) { progress.Update(t); };
    }
    auto summary = import::RunImport(vault, options);
    progress.Clear();
    ReportImport(o, summary, exit_code);
  });
}

}  // namespace

void RegisterImportCommands(CLI::App& app, int& exit_code) {
  CLI::App* imp =
      app.add_subcommand("import", "Import subjects, records or consents from a CSV file");
  imp->require_subcommand(1);

  auto subj = std::make_shared<ImportOpts>();
  subj->role = "admin";
  CLI::App* s = imp->add_subcommand(
      "subjects", "Import subjects, upserting by external id (exit 3 if some rows are rejected)");
  AddImportOptions(s, *subj);
  s->add_option("--external-id", subj->external_id,
                "The column holding the external id (instead of `COLUMN: external_id`)");
  s->add_option("--default-region", subj->region,
                "Region for phone numbers without a country code (default: the policy's)");
  s->callback(
      [subj, &exit_code] { RunImportCommand(*subj, import::ImportKind::kSubjects, exit_code); });

  auto recs = std::make_shared<ImportOpts>();
  recs->role = "admin";
  CLI::App* r = imp->add_subcommand(
      "records", "Import records of one kind for existing subjects (exit 3 if some are rejected)");
  AddImportOptions(r, *recs);
  r->add_option("--kind", recs->kind, "A record kind declared in the policy")->required();
  r->add_option("--external-id", recs->external_id, "The column holding the subject's external id");
  r->callback(
      [recs, &exit_code] { RunImportCommand(*recs, import::ImportKind::kRecords, exit_code); });

  auto cons = std::make_shared<ImportOpts>();
  cons->role = "admin";
  cons->batch = 1000;
  CLI::App* c = imp->add_subcommand(
      "consents",
      "Import consent choices with their original times: columns external_id, purpose, state, "
      "at [, source, message_id, request_id] (exit 3 if some are rejected)");
  c->add_option("tenant", cons->tenant, "Tenant id")->required();
  c->add_option("file", cons->csv, "CSV file (RFC 4180, UTF-8, header row)")->required();
  c->add_option("--batch", cons->batch, "Rows per transaction (default 1000)");
  AddCommonOptions(c, *cons, true, "Role acting (default admin)");
  c->callback([cons, &exit_code] {
    WithVault(cons->data_dir, exit_code, [&](service::Vault& vault) {
      import::ConsentImportOptions options;
      options.tenant = cons->tenant;
      options.csv_path = cons->csv;
      options.batch_rows = cons->batch;
      options.actor = {cons->actor, cons->role};
      ProgressLine progress;
      if (::isatty(2)) {
        options.on_batch = [&progress](const import::ImportTick& t) { progress.Update(t); };
      }
      auto summary = import::RunConsentImport(vault, options);
      progress.Clear();
      ReportImport(*cons, summary, exit_code);
    });
  });
}

}  // namespace custodian::cli
