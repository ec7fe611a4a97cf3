// custodian audit: verify | public-key | checkpoint | export (docs/audit.md).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "audit/checkpoint.h"
#include "audit/export.h"
#include "cli/app.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "common/time.h"

namespace custodian::cli {
namespace {

using nlohmann::ordered_json;

ordered_json ReportJson(const audit::VerifyReport& r) {
  return ordered_json{
      {"ok", r.ok},
      {"events", r.events},
      {"first_event", r.first_seq},
      {"last_event", r.last_seq},
      {"checkpoints", r.checkpoints},
      {"signed_through", r.signed_seq},
      {"first_bad_event", r.first_bad_seq > 0 ? ordered_json(r.first_bad_seq) : ordered_json()},
      {"bad_checkpoint",
       r.bad_checkpoint_seq > 0 ? ordered_json(r.bad_checkpoint_seq) : ordered_json()},
      {"problem", r.problem},
      {"head", r.head_hash_hex}};
}

// "audit chain ok: N events, head H" (one line when there is no checkpoint),
// then what the checkpoints cover.
void PrintReport(const audit::VerifyReport& r, std::string_view what) {
  if (!r.ok) {
    std::cout << what << " BROKEN: " << r.problem << " (" << r.events
              << " events before it verified)\n";
    return;
  }
  std::cout << what << " ok: " << r.events << " events";
  if (r.first_seq > 1) std::cout << " (" << r.first_seq << " to " << r.last_seq << ")";
  std::cout << ", head " << r.head_hash_hex << "\n";
  if (r.checkpoints > 0) {
    std::cout << "  " << r.checkpoints << " checkpoint signature" << (r.checkpoints == 1 ? "" : "s")
              << " verified, signed through event " << r.signed_seq;
    int64_t unsigned_tail = r.last_seq - r.signed_seq;
    if (unsigned_tail > 0) {
      std::cout << "; the " << unsigned_tail
                << " event(s) after it are chained but not yet signed";
    }
    std::cout << "\n";
  }
}

// --public-key: a file holding the key, or the key itself.
Result<std::string> ReadPublicKey(const std::string& arg) {
  std::ifstream f(arg);
  if (f) {
    std::stringstream ss;
    ss << f.rdbuf();
    auto key = audit::DecodePublicKey(ss.str());
    if (!key.ok()) return key.status().WithContext("--public-key " + arg);
    return key;
  }
  auto key = audit::DecodePublicKey(arg);
  if (!key.ok()) {
    return Status::InvalidArgument(
        "--public-key: no such file, and the text is " + key.status().message());
  }
  return key;
}

int VerifyExportFile(const std::string& path, const std::string& key_arg, bool json) {
  auto key = ReadPublicKey(key_arg);
  if (!key.ok()) return Fail(key.status());
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(Status::NotFound("--export: cannot open " + path));
  auto r = audit::VerifyExport(in, *key);
  if (!r.ok()) return Fail(r.status().WithContext(path));
  if (json) {
    ordered_json j = ReportJson(r->chain);
    j["key_id"] = audit::KeyId(*key);
    j["tenant"] = r->tenant.empty() ? ordered_json() : ordered_json(r->tenant);
    j["partial"] = r->partial;
    j["unsigned_events"] = r->unsigned_events;
    std::cout << j.dump(2) << "\n";
  } else {
    PrintReport(r->chain, "export " + path + " (key " + audit::KeyId(*key) + ")");
    if (r->partial && r->chain.ok) {
      std::cout << "  tenant " << r->tenant
                << " only: each event matches its hash and the checkpoints' signatures verify, "
                   "but the chain between its events runs through other tenants' events, which "
                   "this export leaves out; only a full export shows that none was removed\n";
    }
  }
  return r->chain.ok ? kExitOk : kExitError;
}

Result<std::optional<int64_t>> OptionalTime(const std::string& text, const char* flag) {
  if (text.empty()) return std::optional<int64_t>();
  auto t = ParseTime(text);
  if (!t.ok()) return t.status().WithContext(flag);
  return std::optional<int64_t>(*t);
}

}  // namespace

void RegisterAuditCommands(CLI::App& app, int& exit_code) {
  CLI::App* audit = app.add_subcommand("audit", "Work with the audit trail (docs/audit.md)");
  audit->require_subcommand(1);

  // audit verify
  {
    struct VerifyOpts : CommonOptions {
      int64_t since = 0;
      std::string export_file, public_key;
    };
    auto o = std::make_shared<VerifyOpts>();
    CLI::App* cmd = audit->add_subcommand(
        "verify",
        "Check the hash chain and every checkpoint signature: of the data directory, or of an "
        "export with only the public key (--export FILE --public-key KEY)");
    AddCommonOptions(cmd, *o, true, nullptr);
    cmd->add_option("--since", o->since,
                    "Start at the checkpoint at this event (its signature is checked) and check "
                    "only what follows");
    auto* exp = cmd->add_option("--export", o->export_file,
                                "Verify this export (custodian audit export) offline: no data "
                                "directory or master key");
    auto* key = cmd->add_option("--public-key", o->public_key,
                                "The signing key's public key (base64 or hex), or a file holding "
                                "it, as `custodian audit public-key` prints");
    exp->needs(key);
    key->needs(exp);
    cmd->callback([o, cmd, &exit_code] {
      if (!o->export_file.empty()) {
        if (cmd->count("--since") > 0) {
          std::cerr << "custodian: --since applies to a data directory, not to --export\n";
          exit_code = kExitUsage;
          return;
        }
        exit_code = VerifyExportFile(o->export_file, o->public_key, o->json);
        return;
      }
      WithVault(o->data_dir, exit_code, [&](service::Vault& v) {
        std::optional<int64_t> since;
        if (cmd->count("--since") > 0) since = o->since;
        auto r = v.VerifyAudit(since);
        if (!r.ok()) {
          exit_code = Fail(r.status());
          return;
        }
        if (o->json) {
          std::cout << ReportJson(*r).dump(2) << "\n";
        } else {
          PrintReport(*r, "audit chain");
        }
        exit_code = r->ok ? kExitOk : kExitError;
      });
    });
  }

  // audit public-key
  {
    struct KeyOpts : CommonOptions {
      bool hex = false;
    };
    auto o = std::make_shared<KeyOpts>();
    CLI::App* cmd = audit->add_subcommand(
        "public-key",
        "Print the public key that checkpoints are signed with (base64; give it to auditors)");
    AddCommonOptions(cmd, *o, true, nullptr);
    cmd->add_flag("--hex", o->hex, "Print it as 64 hex digits instead of base64");
    cmd->callback([o, &exit_code] {
      WithVault(o->data_dir, exit_code, [&](service::Vault& v) {
        auto key = v.AuditPublicKey();
        if (!key.ok()) {
          exit_code = Fail(key.status());
          return;
        }
        std::string text = o->hex ? audit::HexEncode(*key) : audit::EncodePublicKey(*key);
        if (o->json) {
          std::cout << ordered_json{{"algorithm", "ed25519"},
                                    {"key_id", audit::KeyId(*key)},
                                    {"public_key", audit::EncodePublicKey(*key)},
                                    {"public_key_hex", audit::HexEncode(*key)}}
                           .dump(2)
                    << "\n";
        } else {
          std::cout << text << "\n";
        }
      });
    });
  }

  // audit checkpoint
  {
    struct CheckpointOpts : CommonOptions {
      bool list = false;
    };
    auto o = std::make_shared<CheckpointOpts>();
    CLI::App* cmd = audit->add_subcommand(
        "checkpoint", "Sign the chain head now (serve does it every N events or T seconds)");
    AddCommonOptions(cmd, *o, true, nullptr);
    cmd->add_flag("--list", o->list, "List the checkpoints instead");
    cmd->callback([o, &exit_code] {
      WithVault(o->data_dir, exit_code, [&](service::Vault& v) {
        auto print = [&](const service::AuditCheckpointInfo& c) -> ordered_json {
          if (!o->json) {
            std::cout << "checkpoint at event " << c.seq << "  " << FormatTime(c.time_ms)
                      << "  key " << c.key_id << "  head " << c.head_hex << "\n";
          }
          return {{"seq", c.seq},
                  {"time", FormatTime(c.time_ms)},
                  {"key_id", c.key_id},
                  {"head", c.head_hex}};
        };
        if (o->list) {
          ordered_json all = ordered_json::array();
          int64_t after = 0;
          while (true) {
            auto page = v.ListAuditCheckpoints(after, 1000);
            if (!page.ok()) {
              exit_code = Fail(page.status());
              return;
            }
            if (page->empty()) break;
            for (const auto& c : *page) all.push_back(print(c));
            after = page->back().seq;
          }
          if (o->json) std::cout << all.dump(2) << "\n";
          return;
        }
        auto cp = v.CheckpointAudit();
        if (!cp.ok()) {
          exit_code = Fail(cp.status());
          return;
        }
        if (!*cp) {
          if (o->json) {
            std::cout << "null\n";
          } else {
            std::cout << "nothing to sign: no audit event since the last checkpoint\n";
          }
          return;
        }
        ordered_json j = print(**cp);
        if (o->json) std::cout << j.dump(2) << "\n";
      });
    });
  }

  // audit export
  {
    struct ExportOpts : CommonOptions {
      std::string from, to, tenant, output;
    };
    auto o = std::make_shared<ExportOpts>();
    o->role = "auditor";
    CLI::App* cmd = audit->add_subcommand(
        "export",
        "Write the audit events (and checkpoints) as JSON Lines, for `audit verify --export`");
    AddCommonOptions(cmd, *o, false, "Role acting: auditor (default) or admin");
    cmd->add_option("--from", o->from, "From the first event at or after this time (RFC 3339 or YYYY-MM-DD)");
    cmd->add_option("--to", o->to, "To the last event before this time");
    cmd->add_option("--tenant", o->tenant,
                    "Only this tenant's events (each verifiable on its own, but not the chain "
                    "between them: omit for a full export)");
    cmd->add_option("--output,-o", o->output, "Write to this file (mode 0600) instead of stdout");
    cmd->callback([o, &exit_code] {
      service::AuditExportOptions opts;
      opts.tenant = o->tenant;
      auto from = OptionalTime(o->from, "--from");
      auto to = OptionalTime(o->to, "--to");
      if (!from.ok() || !to.ok()) {
        std::cerr << "custodian: " << (!from.ok() ? from.status() : to.status()).message() << "\n";
        exit_code = kExitUsage;
        return;
      }
      opts.from_ms = *from;
      opts.to_ms = *to;
      WithVault(o->data_dir, exit_code, [&](service::Vault& v) {
        int fd = STDOUT_FILENO;
        std::string tmp;
        if (!o->output.empty()) {
          tmp = o->output + ".partial";
          fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
          if (fd < 0) {
            exit_code = Fail(Status::FailedPrecondition("cannot create " + tmp + ": " +
                                                        std::strerror(errno)));
            return;
          }
        }
        // Buffered writes; constant memory however long the export.
        std::string buf;
        buf.reserve(1 << 20);
        auto flush = [&]() -> Status {
          std::size_t off = 0;
          while (off < buf.size()) {
            ssize_t n = ::write(fd, buf.data() + off, buf.size() - off);
            if (n < 0) {
              if (errno == EINTR) continue;
              return Status::Unavailable(std::string("cannot write the export: ") +
                                         std::strerror(errno));
            }
            off += static_cast<std::size_t>(n);
          }
          buf.clear();
          return Status::Ok();
        };
        auto summary = v.ExportAudit({o->actor, o->role}, opts, [&](std::string_view line) {
          buf.append(line);
          return buf.size() >= (1 << 20) ? flush() : Status::Ok();
        });
        Status st = summary.ok() ? flush() : summary.status();
        if (!o->output.empty()) {
          if (st.ok() && ::fsync(fd) != 0) st = Status::Unavailable("cannot sync " + tmp);
          ::close(fd);
          if (st.ok() && ::rename(tmp.c_str(), o->output.c_str()) != 0) {
            st = Status::Unavailable("cannot rename " + tmp + " to " + o->output);
          }
          if (!st.ok()) ::unlink(tmp.c_str());
        }
        if (!st.ok()) {
          exit_code = Fail(st);
          return;
        }
        if (!o->output.empty()) {
          std::cerr << "exported " << summary->events << " events and " << summary->checkpoints
                    << " checkpoints to " << o->output << "\n";
        }
      });
    });
  }
}

}  // namespace custodian::cli
