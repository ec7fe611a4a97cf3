// custodian serve: the HTTP API (src/http) over one data directory.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/serve_settings.h"
#include "http/api.h"
#include "http/server.h"
#include "outbox/worker.h"
#include "service/audit_checkpointer.h"
#include "service/backup_schedule.h"
#include "service/retention_schedule.h"

namespace custodian::cli {

int Serve(ServeSettings& s, const CLI::App& cmd) {
  // Every setting is read and checked before anything is created or opened.
  if (!s.config.empty()) {
    Status st = ApplyConfigFile(s, [&cmd](std::string_view flag) {
      return cmd.count(std::string(flag)) > 0;
    });
    if (!st.ok()) return Fail(st);
  }
  if (Status st = CheckServeSettings(s); !st.ok()) return Fail(st);
  http::ServerOptions o;
  if (Status st = ParseListen(s.listen, o.address, o.port); !st.ok()) return Fail(st);
  if (!s.tls_cert.empty()) o.tls = http::TlsFiles{s.tls_cert, s.tls_key};
  // Lookups and calls do not wait for their audit events' commit (the store's
  // committer answers them, docs/http.md): they run on the I/O threads, one
  // per core unless --io-threads says. Other routes' handlers block until
  // theirs is synced, and requests arriving meanwhile share the next commit if
  // there are threads to run them: so a few more handler threads than cores.
  o.threads = s.io_threads;
  o.handler_threads = s.threads == 0 ? kDefaultServeThreads : s.threads;
  o.max_body_bytes = static_cast<std::size_t>(s.max_body);
  o.max_upload_bytes = static_cast<uint64_t>(s.max_upload);
  // CSV uploads to POST /v1/imports stream here, then move next door to
  // uploads/<tenant>/ while they are imported (tenant ids hold no '_').
  o.upload_dir = (std::filesystem::path(s.data_dir) / "uploads" / "_incoming").string();
  o.max_connections = static_cast<std::size_t>(s.max_connections);
  o.request_timeout = std::chrono::milliseconds(s.request_timeout_ms);
  o.access_log = !s.no_access_log;

  // First start: a new data directory and master key, said out loud.
  if (!std::filesystem::exists(service::Vault::StorePath(s.data_dir))) {
    Status init = service::Vault::Init(s.data_dir);
    if (!init.ok()) return Fail(init);
    std::cerr << "custodian: created the data directory " << s.data_dir;
    if (std::getenv("CUSTODIAN_MASTER_KEY") == nullptr) {
      std::cerr << " and its master key " << service::Vault::MasterKeyPath(s.data_dir)
                << " (back it up: without it the data cannot be read)";
    }
    std::cerr << "\n";
  }
  service::VaultOptions vo;
  vo.data_dir = s.data_dir;
  vo.group_commit = s.group_commit;
  vo.probe_cache_entries = static_cast<std::size_t>(s.probe_cache);
  vo.checkpoint_pages = service::kServeCheckpointPages;
  auto vault = service::Vault::Open(std::move(vo));
  if (!vault.ok()) return Fail(vault.status());
  service::Vault& v = **vault;
  o.readiness = [&v]() -> Status {
    auto tx = v.store().Begin(false);
    return tx.ok() ? Status::Ok() : tx.status();
  };

  http::Metrics metrics;
  o.metrics = &metrics;
  http::Router router;
  http::ApiOptions api_options;
  api_options.call_purpose = s.call_purpose;
  api_options.secure_cookies = o.tls.has_value();
  api_options.import_dir = (std::filesystem::path(s.data_dir) / "uploads").string();
  api_options.metrics = &metrics;
  api_options.api_key_rate = s.api_key_rate;
  api_options.api_key_burst = s.api_key_burst;
  // The outbox worker delivers queued messages; replies to inbound keywords
  // (STOP confirmations, HELP) are queued to the sender and delivered at once.
  std::unique_ptr<outbox::Worker> worker;
  if (!s.no_outbox) {
    outbox::WorkerOptions wo;
    if (!s.message_file.empty()) {
      wo.transports = [file = s.message_file](const service::ChannelSettings&, std::string_view)
          -> Result<std::unique_ptr<outbox::Transport>> { return outbox::NewFileTransport(file); };
    }
    worker = std::make_unique<outbox::Worker>(v, wo);
    api_options.on_reply = [&v, w = worker.get()](const std::string& tenant,
                                                  const std::string& channel, const std::string& to,
                                                  const std::string& text) {
      service::MessageRequest reply{channel, "", to, "", "", text, ""};
      auto queued = v.EnqueueMessage({"telnyx", ""}, tenant, reply);
      if (!queued.ok()) {
        std::cerr << "custodian: outbox: reply not queued: " << queued.status().message() << "\n";
        return;
      }
      w->Wake();
    };
  }
  // Data-subject requests per tenant, counted at every scrape.
  auto open_requests = metrics.AddGauge("custodian_requests_open",
                                        "Data-subject requests not yet closed", {"tenant"});
  auto overdue_requests = metrics.AddGauge(
      "custodian_requests_overdue", "Open data-subject requests past their due date", {"tenant"});
  if (open_requests.ok() && overdue_requests.ok()) {
    metrics.AddCollector([&v, open = *open_requests, overdue = *overdue_requests] {
      auto counts = v.CountRequests();
      if (!counts.ok()) return;
      for (const auto& c : *counts) {
        open->WithLabels({c.tenant}).Set(c.open);
        overdue->WithLabels({c.tenant}).Set(c.overdue);
      }
    });
  }
  // The retention sweep, on a schedule (docs/retention.md); what the last
  // sweep of each tenant found, from the store (whichever server ran it).
  std::unique_ptr<service::RetentionSchedule> sweeps;
  if (!s.no_retention) {
    service::ScheduleOptions so;
    so.interval = std::chrono::minutes(s.retention_minutes);
    sweeps = std::make_unique<service::RetentionSchedule>(v, so);
  }
  auto due = metrics.AddGauge("custodian_retention_items_due",
                              "Items the last retention sweep found due (held ones excluded)",
                              {"tenant"});
  auto overdue = metrics.AddGauge(
      "custodian_retention_items_overdue",
      "Items due but not purged when the last sweep ended (0 unless it was stopped)", {"tenant"});
  auto last = metrics.AddGauge("custodian_retention_last_sweep_timestamp_seconds",
                               "When the last retention sweep of the tenant finished", {"tenant"});
  auto took = metrics.AddGauge("custodian_retention_last_sweep_duration_milliseconds",
                               "How long the last retention sweep of the tenant took", {"tenant"});
  if (due.ok() && overdue.ok() && last.ok() && took.ok()) {
    metrics.AddCollector([&v, due = *due, overdue = *overdue, last = *last, took = *took] {
      auto rows = service::Retention(v).LastSweeps();
      if (!rows.ok()) return;
      for (const store::SweepRow& r : *rows) {
        due->WithLabels({r.tenant}).Set(r.due);
        overdue->WithLabels({r.tenant}).Set(r.overdue);
        last->WithLabels({r.tenant}).Set(r.finished_ms / 1000);
        took->WithLabels({r.tenant}).Set(r.finished_ms - r.started_ms);
      }
    });
  }
  // Regular encrypted backups (docs/backup.md), when a directory is given.
  std::unique_ptr<service::BackupSchedule> backups;
  if (!s.backup_dir.empty()) {
    if (::mkdir(s.backup_dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return Fail(Status::FailedPrecondition("--backup-dir: cannot create " + s.backup_dir + ": " +
                                             std::strerror(errno)));
    }
    service::BackupScheduleOptions bo;
    bo.data_dir = s.data_dir;
    bo.dir = s.backup_dir;
    bo.interval = std::chrono::minutes(s.backup_minutes);
    bo.keep = static_cast<int>(std::min<int64_t>(s.backup_keep, 1'000'000));
    bo.on_error = [](const Status& st) {
      std::cerr << "custodian: scheduled backup failed (retried): " << st.message() << "\n";
    };
    backups = std::make_unique<service::BackupSchedule>(v, bo);
    auto when = metrics.AddGauge("custodian_backup_last_success_timestamp_seconds",
                                 "When this server's last scheduled backup was written", {});
    auto size = metrics.AddGauge("custodian_backup_last_bytes",
                                 "The size of this server's last scheduled backup file", {});
    auto ok = metrics.AddGauge("custodian_backup_last_ok",
                               "1 if this server's last scheduled backup succeeded, 0 if it failed",
                               {});
    if (when.ok() && size.ok() && ok.ok()) {
      metrics.AddCollector([b = backups.get(), when = *when, size = *size, ok = *ok] {
        auto round = b->last();
        if (!round) return;
        ok->WithLabels({}).Set(round->status.ok() ? 1 : 0);
        if (!round->status.ok()) return;
        when->WithLabels({}).Set(round->finished_ms / 1000);
        size->WithLabels({}).Set(round->file_bytes);
      });
    }
  }
  auto api = http::RegisterApi(router, v, api_options);
  if (!api.ok()) return Fail(api.status());
  auto server = http::Server::Create(o, std::move(router));
  if (!server.ok()) return Fail(server.status());
  http::ShutdownSignal signals;  // before Start: no signal is missed
  if (Status st = (*server)->Start(); !st.ok()) return Fail(st);
  if (worker) worker->Start();
  // Signed checkpoints of the audit chain (docs/audit.md).
  service::CheckpointerOptions co;
  co.every_events = s.checkpoint_events;
  co.every_ms = s.checkpoint_seconds * 1000;
  co.on_error = [](const Status& st) {
    std::cerr << "custodian: audit checkpoint failed (retried): " << st.message() << "\n";
  };
  service::AuditCheckpointer checkpointer(v, co);
  if (s.checkpoint_events > 0 || s.checkpoint_seconds > 0) checkpointer.Start();
  if (sweeps) sweeps->Start();
  if (backups) backups->Start();
  std::cerr << "custodian: serving " << (o.tls ? "https" : "http") << "://"
            << (o.address.find(':') != std::string::npos ? "[" + o.address + "]" : o.address) << ":"
            << (*server)->port() << " (data: " << s.data_dir << ")" << std::endl;
  int sig = signals.WaitThenShutdown(**server, std::chrono::milliseconds(s.shutdown_grace_ms));
  // Answers still waiting for their commit are handed to the stopped server
  // now, while it exists (after it, they would have nowhere to go).
  v.store().WaitForCommitCallbacks();
  if (worker) worker->Stop();
  checkpointer.Stop();
  if (sweeps) sweeps->Stop();
  if (backups) backups->Stop();
  std::cerr << "custodian: stopped on signal " << sig << "\n";
  return kExitOk;
}

void RegisterServeCommand(CLI::App& app, int& exit_code) {
  auto s = std::make_shared<ServeSettings>();
  s->data_dir = CommonOptions::DefaultDataDir();
  CLI::App* cmd = app.add_subcommand("serve", "Run the HTTP API (docs/http-api.md)");
  cmd->add_option("--data-dir", s->data_dir,
                  "Data directory (default $CUSTODIAN_DATA_DIR or ./custodian-data; created with "
                  "a master key on first start)");
  cmd->add_option("--listen", s->listen, "HOST:PORT to listen on (default 127.0.0.1:8080)");
  cmd->add_option("--tls-cert", s->tls_cert, "PEM certificate (chain): serve HTTPS");
  cmd->add_option("--tls-key", s->tls_key, "PEM private key of --tls-cert");
  cmd->add_option("--config", s->config,
                  "YAML file (or TOML, named *.toml) with these settings (docs/cli.md)");
  cmd->add_option("--threads", s->threads,
                  "Handler threads for the routes that wait for a commit (default " +
                      std::to_string(kDefaultServeThreads) + ")");
  cmd->add_option("--io-threads", s->io_threads,
                  "I/O threads, each serving its own connections, lookups and calls "
                  "(default: one per core)");
  cmd->add_option("--max-body", s->max_body, "Largest request body in bytes (default 1 MiB)");
  cmd->add_option("--max-upload", s->max_upload,
                  "Largest CSV upload to POST /v1/imports in bytes, streamed to the data "
                  "directory (default 1 GiB)");
  cmd->add_option("--max-connections", s->max_connections,
                  "Connections open at once; beyond, a new one is answered 503 (default 1024)");
  cmd->add_option("--request-timeout-ms", s->request_timeout_ms,
                  "How long receiving one request, or sending one response, may take (default 30000)");
  cmd->add_option("--shutdown-grace-ms", s->shutdown_grace_ms,
                  "On SIGTERM/SIGINT, how long in-flight requests may take to finish "
                  "(default 10000)");
  cmd->add_option("--api-key-rate", s->api_key_rate,
                  "Requests a second each API key may send; over it, 429 with Retry-After "
                  "(default 0: no limit)");
  cmd->add_option("--api-key-burst", s->api_key_burst,
                  "Requests an idle API key may send at once (default: the rate)");
  cmd->add_option("--probe-cache", s->probe_cache,
                  "Lookup values whose index digests are kept in memory, for all tenants, so a "
                  "repeat skips normalizing (default 262144, ~220 bytes each; 0: none)");
  cmd->add_option("--call-purpose", s->call_purpose,
                  "Purpose POST /v1/calls uses when a request names none");
  cmd->add_flag("--no-access-log", s->no_access_log, "Do not write the JSON access log");
  cmd->add_flag("--no-outbox", s->no_outbox,
                "Do not deliver queued messages from this server (another one does)");
  cmd->add_option("--retention-every", s->retention_minutes,
                  "Run the retention sweep every N minutes (default 60; the first 5 s after start)");
  cmd->add_flag("--no-retention", s->no_retention,
                "Do not run the retention sweep from this server (another one, or cron, does)");
  cmd->add_flag("--group-commit,!--no-group-commit", s->group_commit,
                "Concurrent requests share one store commit (each still answered only once "
                "its audit event is durable); the default, --no-group-commit: one each");
  cmd->add_option("--backup-dir", s->backup_dir,
                  "Write an encrypted backup into this directory on a schedule (docs/backup.md)");
  cmd->add_option("--backup-every", s->backup_minutes,
                  "Minutes between scheduled backups (default 1440; counted from the newest "
                  "backup in --backup-dir)");
  cmd->add_option("--backup-keep", s->backup_keep,
                  "Scheduled backups kept; older ones are deleted (default 7)");
  cmd->add_option("--audit-checkpoint-events", s->checkpoint_events,
                  "Sign the audit chain head every N events (default 10000; 0: off)");
  cmd->add_option("--audit-checkpoint-seconds", s->checkpoint_seconds,
                  "...and every T seconds when events were added (default 60; 0: off)");
  cmd->callback([s, cmd, &exit_code] { exit_code = Serve(*s, *cmd); });
}

}  // namespace custodian::cli
