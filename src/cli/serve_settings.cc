#include "cli/serve_settings.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "cli/config_file.h"
#include "service/vault.h"

namespace custodian::cli {
namespace {

// One setting: its key in the config file, the flag that wins over it, and
// how its value is read (a yaml-cpp conversion, which throws on a wrong type).
struct Setting {
  std::string_view key;
  std::string_view flag;
  void (*read)(const YAML::Node& value, ServeSettings& s);
};

constexpr Setting kSettings[] = {
    {"data_dir", "--data-dir", [](const YAML::Node& v, ServeSettings& s) { s.data_dir = v.as<std::string>(); }},
    {"listen", "--listen", [](const YAML::Node& v, ServeSettings& s) { s.listen = v.as<std::string>(); }},
    {"tls.cert", "--tls-cert", [](const YAML::Node& v, ServeSettings& s) { s.tls_cert = v.as<std::string>(); }},
    {"tls.key", "--tls-key", [](const YAML::Node& v, ServeSettings& s) { s.tls_key = v.as<std::string>(); }},
    {"threads", "--threads", [](const YAML::Node& v, ServeSettings& s) { s.threads = v.as<int>(); }},
    {"io_threads", "--io-threads", [](const YAML::Node& v, ServeSettings& s) { s.io_threads = v.as<int>(); }},
    {"max_body_bytes", "--max-body", [](const YAML::Node& v, ServeSettings& s) { s.max_body = v.as<int64_t>(); }},
    {"max_upload_bytes", "--max-upload", [](const YAML::Node& v, ServeSettings& s) { s.max_upload = v.as<int64_t>(); }},
    {"max_connections", "--max-connections",
     [](const YAML::Node& v, ServeSettings& s) { s.max_connections = v.as<int64_t>(); }},
    {"api_key_rate", "--api-key-rate", [](const YAML::Node& v, ServeSettings& s) { s.api_key_rate = v.as<double>(); }},
    {"api_key_burst", "--api-key-burst",
     [](const YAML::Node& v, ServeSettings& s) { s.api_key_burst = v.as<double>(); }},
    {"probe_cache_entries", "--probe-cache",
     [](const YAML::Node& v, ServeSettings& s) { s.probe_cache = v.as<int64_t>(); }},
    {"request_timeout_ms", "--request-timeout-ms",
     [](const YAML::Node& v, ServeSettings& s) { s.request_timeout_ms = v.as<int64_t>(); }},
    {"shutdown_grace_ms", "--shutdown-grace-ms",
     [](const YAML::Node& v, ServeSettings& s) { s.shutdown_grace_ms = v.as<int64_t>(); }},
    {"call_purpose", "--call-purpose", [](const YAML::Node& v, ServeSettings& s) { s.call_purpose = v.as<std::string>(); }},
    {"access_log", "--no-access-log", [](const YAML::Node& v, ServeSettings& s) { s.no_access_log = !v.as<bool>(); }},
    {"group_commit", "--group-commit", [](const YAML::Node& v, ServeSettings& s) { s.group_commit = v.as<bool>(); }},
    {"outbox", "--no-outbox", [](const YAML::Node& v, ServeSettings& s) { s.no_outbox = !v.as<bool>(); }},
    {"retention", "--no-retention", [](const YAML::Node& v, ServeSettings& s) { s.no_retention = !v.as<bool>(); }},
    {"retention_interval_minutes", "--retention-every",
     [](const YAML::Node& v, ServeSettings& s) { s.retention_minutes = v.as<int64_t>(); }},
    {"backup.dir", "--backup-dir", [](const YAML::Node& v, ServeSettings& s) { s.backup_dir = v.as<std::string>(); }},
    {"backup.interval_minutes", "--backup-every",
     [](const YAML::Node& v, ServeSettings& s) { s.backup_minutes = v.as<int64_t>(); }},
    {"backup.keep", "--backup-keep", [](const YAML::Node& v, ServeSettings& s) { s.backup_keep = v.as<int64_t>(); }},
    {"audit_checkpoint_events", "--audit-checkpoint-events",
     [](const YAML::Node& v, ServeSettings& s) { s.checkpoint_events = v.as<int64_t>(); }},
    {"audit_checkpoint_seconds", "--audit-checkpoint-seconds",
     [](const YAML::Node& v, ServeSettings& s) { s.checkpoint_seconds = v.as<int64_t>(); }},
};

const Setting* FindSetting(std::string_view key) {
  for (const Setting& setting : kSettings) {
    if (setting.key == key) return &setting;
  }
  return nullptr;
}

// The error for a key no setting has. A key that names a table ("tls") is
// told the keys the table takes.
std::string UnknownKey(const std::string& key) {
  std::string inner;
  for (const Setting& setting : kSettings) {
    if (setting.key.size() > key.size() + 1 && setting.key.compare(0, key.size(), key) == 0 &&
        setting.key[key.size()] == '.') {
      inner += std::string(inner.empty() ? "" : " and ") + std::string(setting.key.substr(key.size() + 1));
    }
  }
  if (!inner.empty()) return "'" + key + "' must be a table of " + inner;
  std::string known;
  for (std::size_t i = 0; i < std::size(kSettings); ++i) {
    known += std::string(i == 0 ? "" : i + 1 == std::size(kSettings) ? " or " : ", ") +
             std::string(kSettings[i].key);
  }
  return "unknown key '" + key + "'; expected " + known;
}

// Who set a flag's value, to start its error: the flag itself, or the config
// file's line and key.
std::string Who(const ServeSettings& s, std::string_view flag) {
  auto it = s.from_config.find(flag);
  return it == s.from_config.end() ? std::string(flag) : it->second;
}

std::string Number(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

// `value` must be at least `min`; `note` says what the smallest value means.
template <typename T>
void AtLeast(const ServeSettings& s, std::string_view flag, T value, T min, std::string_view note,
             std::vector<std::string>& problems) {
  if (value >= min) return;
  problems.push_back(Who(s, flag) + " must be " + Number(static_cast<double>(min)) + " or more" +
                     std::string(note));
}

// A rate or burst: a finite number, 0 or more.
void Rate(const ServeSettings& s, std::string_view flag, double value, std::string_view note,
          std::vector<std::string>& problems) {
  if (std::isfinite(value) && value >= 0) return;
  problems.push_back(Who(s, flag) + " must be a number, 0 or more" + std::string(note));
}

}  // namespace

int64_t DefaultProbeCache() {
  return static_cast<int64_t>(service::VaultOptions{}.probe_cache_entries);
}

Status ApplyConfigFile(ServeSettings& s, const FlagGiven& given) {
  ASSIGN_OR_RETURN(ConfigFile file, ReadConfigFile(s.config));
  for (const ConfigEntry& entry : file.entries) {
    const std::string where = "--config: " + s.config + ":" + std::to_string(entry.line) + ": ";
    const Setting* setting = FindSetting(entry.key);
    if (setting == nullptr) return Status::InvalidArgument(where + UnknownKey(entry.key));
    // yaml-cpp reads an empty value as the text "null"; here it is no value.
    if (entry.value.IsNull()) {
      return Status::InvalidArgument(where + "'" + entry.key +
                                     "' has no value; docs/cli.md shows each setting");
    }
    try {
      ServeSettings checked;  // the type is checked even when the command line wins
      setting->read(entry.value, checked);
      if (given(setting->flag)) continue;
      setting->read(entry.value, s);
    } catch (const YAML::Exception& e) {
      return Status::InvalidArgument(where + "'" + entry.key + "' has a value of the wrong type (" +
                                     e.msg + "); docs/cli.md shows each setting");
    }
    s.from_config[std::string(setting->flag)] = where + "'" + entry.key + "'";
  }
  return Status::Ok();
}

Status ParseListen(std::string_view text, std::string& host, uint16_t& port) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return Status::InvalidArgument("expected HOST:PORT, like 127.0.0.1:8080");
  }
  std::string h(text.substr(0, colon));
  const std::string p(text.substr(colon + 1));
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty()) h = "127.0.0.1";
  char* end = nullptr;
  const long number = std::strtol(p.c_str(), &end, 10);
  if (p.empty() || p.front() == '-' || p.front() == '+' || p.front() == ' ' || *end != '\0' ||
      number < 0 || number > 65535) {
    return Status::InvalidArgument("the port must be a number from 0 to 65535");
  }
  host = std::move(h);
  port = static_cast<uint16_t>(number);
  return Status::Ok();
}

Status CheckServeSettings(const ServeSettings& s) {
  std::vector<std::string> problems;
  if (s.data_dir.empty()) problems.push_back(Who(s, "--data-dir") + " must name a directory");
  std::string host;
  uint16_t port = 0;
  if (Status listen = ParseListen(s.listen, host, port); !listen.ok()) {
    problems.push_back(Who(s, "--listen") + ": " + listen.message());
  }
  if (s.tls_cert.empty() != s.tls_key.empty()) {
    const bool cert = !s.tls_cert.empty();
    problems.push_back(Who(s, cert ? "--tls-cert" : "--tls-key") + " is given without " +
                       (cert ? "a key (--tls-key, or tls.key in --config)"
                             : "a certificate (--tls-cert, or tls.cert in --config)") +
                       ": give both, or neither");
  }
  AtLeast(s, "--threads", s.threads, 0,
          " (0: the default, " + std::to_string(kDefaultServeThreads) + ")", problems);
  AtLeast(s, "--io-threads", s.io_threads, 0, " (0: one per core)", problems);
  AtLeast<int64_t>(s, "--max-body", s.max_body, 1, " (bytes)", problems);
  AtLeast<int64_t>(s, "--max-upload", s.max_upload, 1, " (bytes)", problems);
  AtLeast<int64_t>(s, "--max-connections", s.max_connections, 1, "", problems);
  Rate(s, "--api-key-rate", s.api_key_rate, " (0: no limit)", problems);
  Rate(s, "--api-key-burst", s.api_key_burst, " (0: as many as the rate)", problems);
  AtLeast<int64_t>(s, "--probe-cache", s.probe_cache, 0, " (0: remember none)", problems);
  AtLeast<int64_t>(s, "--request-timeout-ms", s.request_timeout_ms, 1, " (milliseconds)", problems);
  AtLeast<int64_t>(s, "--shutdown-grace-ms", s.shutdown_grace_ms, 0,
                   " (milliseconds; 0: stop at once)", problems);
  AtLeast<int64_t>(s, "--audit-checkpoint-events", s.checkpoint_events, 0, " (0: off)", problems);
  AtLeast<int64_t>(s, "--audit-checkpoint-seconds", s.checkpoint_seconds, 0, " (0: off)", problems);
  if (!s.no_retention) {
    AtLeast<int64_t>(s, "--retention-every", s.retention_minutes, 1,
                     " (minutes; or --no-retention)", problems);
  }
  AtLeast<int64_t>(s, "--backup-every", s.backup_minutes, 1, " (minutes)", problems);
  AtLeast<int64_t>(s, "--backup-keep", s.backup_keep, 1, " (backups)", problems);
  if (!s.backup_dir.empty()) {
    // The server makes the directory (0700) if its parent exists.
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path dir(s.backup_dir);
    const fs::path parent = dir.has_parent_path() ? dir.parent_path() : fs::path(".");
    if (fs::exists(dir, ec) ? !fs::is_directory(dir, ec) : !fs::is_directory(parent, ec)) {
      problems.push_back(Who(s, "--backup-dir") + ": " + s.backup_dir +
                         (fs::exists(dir, ec) ? " is not a directory"
                                              : " cannot be made: " + parent.string() +
                                                    " is not a directory"));
    }
  }
  if (problems.empty()) return Status::Ok();
  std::string message;
  for (const std::string& p : problems) message += (message.empty() ? "" : "\n") + p;
  return Status::InvalidArgument(message);
}

std::vector<std::string_view> ServeSettingFlags() {
  std::vector<std::string_view> flags;
  for (const Setting& setting : kSettings) flags.push_back(setting.flag);
  return flags;
}

}  // namespace custodian::cli
