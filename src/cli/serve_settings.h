// The settings of `custodian serve`: each from the command line, else from
// the config file (`--config`, YAML or TOML: cli/config_file.h), else its
// default.
//
// One table (serve_settings.cc) names every setting's config key and flag
// and reads its value, so that an unknown key's error lists the keys there
// are, and a value out of range is refused naming where it was set: the flag
// (`--threads must be 0 or more ...`) or the config file's line
// (`--config: serve.yaml:3: 'threads' must be 0 or more ...`). Every check
// runs before `serve` creates or opens anything.
//
// Thread-safety: pure functions over the values given.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "custodian/status.h"

namespace CLI {
class App;
}

namespace custodian::cli {

// The vault's default probe cache (service::VaultOptions::probe_cache_entries).
int64_t DefaultProbeCache();

struct ServeSettings {
  std::string data_dir;
  std::string listen = "127.0.0.1:8080";
  std::string tls_cert;
  std::string tls_key;
  std::string config;  // --config: the file ApplyConfigFile reads
  int threads = 0;     // 0: kDefaultServeThreads
  int io_threads = 0;  // 0: one per core
  int64_t max_body = int64_t{1} << 20;
  int64_t max_upload = int64_t{1} << 30;
  int64_t max_connections = 1024;
  double api_key_rate = 0;   // requests a second per API key; 0: no limit
  double api_key_burst = 0;  // at once after idle; 0: the rate
  int64_t probe_cache = DefaultProbeCache();
  int64_t request_timeout_ms = 30'000;
  int64_t shutdown_grace_ms = 10'000;
  std::string call_purpose;
  bool no_access_log = false;
  bool group_commit = true;
  bool no_outbox = false;
  int64_t checkpoint_events = 10000;  // sign the audit head every N events...
  int64_t checkpoint_seconds = 60;    // ...or every T seconds when it moved
  bool no_retention = false;
  int64_t retention_minutes = 60;
  // `custodian demo` only (no flag, no config key): the outbox appends every
  // message to this file instead of sending it (outbox::NewFileTransport).
  std::string message_file;
  std::string backup_dir;            // "": no scheduled backups
  int64_t backup_minutes = 24 * 60;  // a backup every N minutes...
  int64_t backup_keep = 7;           // ...keeping the newest N

  // Flag -> where the config file set it ("--config: PATH:LINE: 'key'"),
  // filled by ApplyConfigFile; a flag not here came from the command line or
  // is the default.
  std::map<std::string, std::string, std::less<>> from_config;
};

// Handler threads when `threads` is 0.
inline constexpr int kDefaultServeThreads = 4;

// Whether the command line gave the flag (it then wins over the file).
using FlagGiven = std::function<bool(std::string_view flag)>;

// Reads `s.config` into `s`, except the settings whose flag `given` says the
// command line set; their values in the file are still checked for type.
// Errors start with "--config: PATH": cannot read it, a syntax error with
// its line and column, a setting's name that is not text or is set twice,
// an unknown key (the error lists the known ones), or a value of the wrong
// type, with the key's line.
Status ApplyConfigFile(ServeSettings& s, const FlagGiven& given);

// Every setting's range, and that --tls-cert and --tls-key come together.
// InvalidArgument with one line per problem, each naming its flag or the
// config file's line and key.
Status CheckServeSettings(const ServeSettings& s);

// "host:port", "[v6]:port" or ":port" (host 127.0.0.1). The error says what
// is wrong, for the caller to prefix with where the text came from.
Status ParseListen(std::string_view text, std::string& host, uint16_t& port);

// Runs `custodian serve` with `s` (the config file read and every value
// checked first); `cmd` says which flags the command line gave. The exit code.
int Serve(ServeSettings& s, const CLI::App& cmd);

// Each setting's flag, in the table's order (a test checks that `serve`
// has each of them).
std::vector<std::string_view> ServeSettingFlags();

}  // namespace custodian::cli
