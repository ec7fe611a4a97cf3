// cli/serve_settings.h: `custodian serve`'s settings from the config file and
// the command line, every bad value refused with where it was set, the
// documented examples valid, and broken config files refused with a place
// (or taken) but never thrown on.
#include "cli/serve_settings.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <sstream>

#include "mutation_util.h"
#include "run_util.h"
#include "test_util.h"

namespace custodian::cli {
namespace {

using testing_util::ReadFile;
using testing_util::TempDir;
using testing_util::WriteFile;

const FlagGiven kNoFlags = [](std::string_view) { return false; };

// The config file `text` (named `name` in dir) applied and checked: "" when
// both pass, else the error.
std::string Apply(const TempDir& dir, const std::string& name, const std::string& text,
                  ServeSettings& s, const FlagGiven& given = kNoFlags) {
  s.config = (dir.path() / name).string();
  WriteFile(s.config, text);
  if (Status st = ApplyConfigFile(s, given); !st.ok()) return st.message();
  if (Status st = CheckServeSettings(s); !st.ok()) return st.message();
  return "";
}

struct BadValue {
  const char* key;    // in the config file
  const char* value;  // as YAML
  const char* flag;   // the same setting on the command line
  const char* says;   // after "--config: F:1: 'key'" or "--flag"
  void (*set)(ServeSettings&);  // the same value, as the command line would set it
};

// Every setting with a range, out of it: from the file and from the flag,
// each refused with its own place, the exact words.
TEST(ServeSettingsTest, EveryValueOutOfRangeIsRefusedNamingWhereItWasSet) {
  const BadValue cases[] = {
      {"data_dir", "''", "--data-dir", " must name a directory",
       [](ServeSettings& s) { s.data_dir = ""; }},
      {"listen", "localhost", "--listen", ": expected HOST:PORT, like 127.0.0.1:8080",
       [](ServeSettings& s) { s.listen = "localhost"; }},
      {"listen", "':70000'", "--listen", ": the port must be a number from 0 to 65535",
       [](ServeSettings& s) { s.listen = ":70000"; }},
      {"listen", "':-1'", "--listen", ": the port must be a number from 0 to 65535",
       [](ServeSettings& s) { s.listen = ":-1"; }},
      {"threads", "-1", "--threads", " must be 0 or more (0: the default, 4)",
       [](ServeSettings& s) { s.threads = -1; }},
      {"io_threads", "-2", "--io-threads", " must be 0 or more (0: one per core)",
       [](ServeSettings& s) { s.io_threads = -2; }},
      {"max_body_bytes", "0", "--max-body", " must be 1 or more (bytes)",
       [](ServeSettings& s) { s.max_body = 0; }},
      {"max_upload_bytes", "-1", "--max-upload", " must be 1 or more (bytes)",
       [](ServeSettings& s) { s.max_upload = -1; }},
      {"max_connections", "0", "--max-connections", " must be 1 or more",
       [](ServeSettings& s) { s.max_connections = 0; }},
      {"api_key_rate", "-0.5", "--api-key-rate", " must be a number, 0 or more (0: no limit)",
       [](ServeSettings& s) { s.api_key_rate = -0.5; }},
      {"api_key_rate", ".nan", "--api-key-rate", " must be a number, 0 or more (0: no limit)",
       [](ServeSettings& s) { s.api_key_rate = std::nan(""); }},
      {"api_key_burst", ".inf", "--api-key-burst",
       " must be a number, 0 or more (0: as many as the rate)",
       [](ServeSettings& s) { s.api_key_burst = HUGE_VAL; }},
      {"probe_cache_entries", "-1", "--probe-cache", " must be 0 or more (0: remember none)",
       [](ServeSettings& s) { s.probe_cache = -1; }},
      {"request_timeout_ms", "0", "--request-timeout-ms", " must be 1 or more (milliseconds)",
       [](ServeSettings& s) { s.request_timeout_ms = 0; }},
      {"shutdown_grace_ms", "-5", "--shutdown-grace-ms",
       " must be 0 or more (milliseconds; 0: stop at once)",
       [](ServeSettings& s) { s.shutdown_grace_ms = -5; }},
      {"audit_checkpoint_events", "-1", "--audit-checkpoint-events", " must be 0 or more (0: off)",
       [](ServeSettings& s) { s.checkpoint_events = -1; }},
      {"audit_checkpoint_seconds", "-1", "--audit-checkpoint-seconds",
       " must be 0 or more (0: off)", [](ServeSettings& s) { s.checkpoint_seconds = -1; }},
      {"retention_interval_minutes", "0", "--retention-every",
       " must be 1 or more (minutes; or --no-retention)",
       [](ServeSettings& s) { s.retention_minutes = 0; }},
      {"backup", "{interval_minutes: 0}", "--backup-every", " must be 1 or more (minutes)",
       [](ServeSettings& s) { s.backup_minutes = 0; }},
      {"backup", "{keep: -3}", "--backup-keep", " must be 1 or more (backups)",
       [](ServeSettings& s) { s.backup_keep = -3; }},
      {"backup", "{dir: /dev/null}", "--backup-dir", ": /dev/null is not a directory",
       [](ServeSettings& s) { s.backup_dir = "/dev/null"; }},
      {"backup", "{dir: /no-such-dir-here/backups}", "--backup-dir",
       ": /no-such-dir-here/backups cannot be made: /no-such-dir-here is not a directory",
       [](ServeSettings& s) { s.backup_dir = "/no-such-dir-here/backups"; }},
      {"tls", "{cert: /c.pem}", "--tls-cert",
       " is given without a key (--tls-key, or tls.key in --config): give both, or neither",
       [](ServeSettings& s) { s.tls_cert = "/c.pem"; }},
      {"tls", "{key: /k.pem}", "--tls-key",
       " is given without a certificate (--tls-cert, or tls.cert in --config): give both, or "
       "neither",
       [](ServeSettings& s) { s.tls_key = "/k.pem"; }},
  };
  TempDir dir;
  for (const BadValue& c : cases) {
    SCOPED_TRACE(std::string(c.key) + ": " + c.value);
    ServeSettings from_file;
    from_file.data_dir = "d";
    const std::string flag = c.flag;
    const std::string key =
        std::string(c.key) == "tls"      ? (flag == "--tls-cert" ? "tls.cert" : "tls.key")
        : std::string(c.key) == "backup" ? (flag == "--backup-every" ? "backup.interval_minutes"
                                            : flag == "--backup-keep" ? "backup.keep"
                                                                      : "backup.dir")
                                         : c.key;
    const std::string error =
        Apply(dir, "s.yaml", std::string(c.key) + ": " + c.value + "\n", from_file);
    EXPECT_EQ(error, "--config: " + from_file.config + ":1: '" + key + "'" + c.says);
    ServeSettings from_flag;
    from_flag.data_dir = "d";
    c.set(from_flag);
    Status st = CheckServeSettings(from_flag);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(st.message(), std::string(c.flag) + c.says);
  }
  // Every problem is listed, one a line, in the table's order.
  ServeSettings s;
  s.data_dir = "d";
  const std::string both = Apply(dir, "two.toml", "shutdown_grace_ms = -1\nthreads = -1\n", s);
  EXPECT_EQ(both,
            "--config: " + s.config + ":2: 'threads' must be 0 or more (0: the default, 4)\n" +
                "--config: " + s.config +
                ":1: 'shutdown_grace_ms' must be 0 or more (milliseconds; 0: stop at once)");
  // Without the retention sweep its interval is not looked at.
  ServeSettings off;
  off.data_dir = "d";
  EXPECT_EQ(Apply(dir, "off.yaml", "retention: false\nretention_interval_minutes: 0\n", off), "");
  EXPECT_TRUE(off.no_retention);
}

// Values of the wrong type, unknown keys, and a table where a value goes:
// each refused with its line, and only the file's first problem.
TEST(ServeSettingsTest, WrongTypesAndUnknownKeysSayWhere) {
  TempDir dir;
  const std::string wrong = "' has a value of the wrong type (bad conversion); docs/cli.md shows "
                            "each setting";
  const std::pair<std::string, std::string> cases[] = {
      {"threads: many\n", ":1: 'threads" + wrong},
      {"threads: 2.5\n", ":1: 'threads" + wrong},
      {"threads: 3000000000\n", ":1: 'threads" + wrong},
      {"listen: [a, b]\n", ":1: 'listen" + wrong},
      {"group_commit: maybe\n", ":1: 'group_commit" + wrong},
      {"data_dir:\n", ":1: 'data_dir' has no value; docs/cli.md shows each setting"},
      {"call_purpose: ~\n", ":1: 'call_purpose' has no value; docs/cli.md shows each setting"},
      {"tls: /etc/cert.pem\n", ":1: 'tls' must be a table of cert and key"},
      {"listen: ':1'\ntls:\n  cert: a\n  kye: b\n",
       ":4: unknown key 'tls.kye'; expected data_dir, listen, tls.cert, tls.key, threads"},
      {"threads: 1\nthreds: 2\n", ":2: unknown key 'threds'; expected data_dir, listen"},
      {"listen: {host: a}\n", ":1: unknown key 'listen.host'; expected data_dir"},
  };
  for (const auto& [text, says] : cases) {
    SCOPED_TRACE(text);
    ServeSettings s;
    const std::string error = Apply(dir, "w.yaml", text, s);
    EXPECT_EQ(error.substr(0, ("--config: " + s.config + says).size()), "--config: " + s.config + says)
        << error;
  }
}

// A flag the command line gave wins over the file, whose value must still
// be of the right type; settings only the file gives are taken from it.
TEST(ServeSettingsTest, TheCommandLineWinsAndTheFileIsStillChecked) {
  TempDir dir;
  const FlagGiven threads_given = [](std::string_view flag) { return flag == "--threads"; };
  ServeSettings s;
  s.data_dir = "d";
  s.threads = 7;  // as CLI11 set it
  EXPECT_EQ(Apply(dir, "s.yaml", "threads: 2\nio_threads: 3\naccess_log: false\n", s, threads_given),
            "");
  EXPECT_EQ(s.threads, 7);
  EXPECT_EQ(s.io_threads, 3);
  EXPECT_TRUE(s.no_access_log);
  EXPECT_EQ(s.from_config.count("--threads"), 0u);
  EXPECT_EQ(s.from_config.at("--io-threads"), "--config: " + s.config + ":2: 'io_threads'");

  ServeSettings t;
  t.data_dir = "d";
  const std::string error = Apply(dir, "t.yaml", "threads: many\n", t, threads_given);
  EXPECT_EQ(error.rfind("--config: " + t.config + ":1: 'threads' has a value of the wrong type", 0),
            0u)
      << error;
  // A value the command line overrides is not the file's to answer for.
  ServeSettings u;
  u.data_dir = "d";
  u.threads = 2;
  EXPECT_EQ(Apply(dir, "u.yaml", "threads: -1\n", u, threads_given), "");
}

// A fenced block of docs/cli.md that starts with `first_line`.
std::string DocBlock(const std::string& fence, const std::string& first_line) {
  const std::string doc = ReadFile(std::string(CUSTODIAN_SOURCE_DIR) + "/docs/cli.md");
  const std::size_t at = doc.find("```" + fence + "\n" + first_line);
  if (at == std::string::npos) return "";
  const std::size_t begin = at + fence.size() + 4;
  return doc.substr(begin, doc.find("```", begin) - begin);
}

// docs/cli.md's example config files are valid, and name every key there is;
// `serve --help` lists every flag.
TEST(ServeSettingsTest, TheDocumentedExamplesAndFlagsAreTheSettings) {
  TempDir dir;
  const std::string yaml = DocBlock("yaml", "data_dir:");
  const std::string toml = DocBlock("toml", "data_dir");
  ASSERT_FALSE(yaml.empty());
  ASSERT_FALSE(toml.empty());
  ServeSettings a;
  EXPECT_EQ(Apply(dir, "doc.yaml", yaml, a), "");
  EXPECT_EQ(a.data_dir, "/var/lib/custodian");
  EXPECT_EQ(a.tls_key, "/etc/custodian/key.pem");
  ServeSettings b;
  EXPECT_EQ(Apply(dir, "doc.toml", toml, b), "");
  EXPECT_EQ(b.io_threads, 2);
  EXPECT_EQ(b.tls_cert, "/etc/custodian/cert.pem");
  // Every setting is in the YAML example (so in the docs): from_config has
  // each flag once the example is read.
  for (std::string_view flag : ServeSettingFlags()) {
    EXPECT_EQ(a.from_config.count(flag), 1u) << flag << " is not in docs/cli.md's example";
  }
  const testing_util::RunResult help = testing_util::RunCustodian({"serve", "--help"});
  EXPECT_EQ(help.exit_code, 0) << help.Describe();
  for (std::string_view flag : ServeSettingFlags()) {
    EXPECT_NE(help.out.find(std::string(flag)), std::string::npos) << flag;
  }
}

using testing_util::Lines;

// The documented examples, changed at random with a fixed seed (lines
// dropped, doubled, swapped, re-indented; values replaced by oddities; the
// text cut short; stray bytes). Whatever the text: nothing throws, and a
// refusal names the file and a line of it, or a flag.
// CUSTODIAN_MUTATION_ROUNDS runs more on demand.
TEST(ServeSettingsTest, BrokenConfigFilesAreRefusedWithAPlaceOrTaken) {
  const int rounds = testing_util::MutationRounds(150);
  const std::vector<std::string> values = {
      "",     "[",     "{",      "-1",   "0",        "1e999", "\"x\"", "'", "~",    "true",
      "nan",  ".nan",  "=",      "[[a]]", "{a: b}",  "a = 1", "\xff",  "#", "\t", "2026-02-30",
      "99999999999999999999", ":0", "[1, [2]]", "\"\\u0000\""};
  std::mt19937_64 rng(20261202);
  TempDir dir;
  int refused = 0, taken = 0;
  for (const std::string fence : {"yaml", "toml"}) {
    const std::string original = DocBlock(fence, fence == "yaml" ? "data_dir:" : "data_dir");
    ASSERT_FALSE(original.empty());
    for (int round = 0; round < rounds; ++round) {
      const std::string text =
          testing_util::Mutate(original, rng, values, fence == "yaml" ? ": " : " = ");
      ServeSettings s;
      std::string error;
      ASSERT_NO_THROW(error = Apply(dir, "m." + fence, text, s)) << text;
      if (error.empty()) {
        ++taken;
        continue;
      }
      ++refused;
      const int count = static_cast<int>(Lines(text).size());
      for (const std::string& line : Lines(error)) {
        if (line.rfind("--config: ", 0) != 0) {  // a check of a value the file did not set
          EXPECT_EQ(line.rfind("--", 0), 0u) << line << "\n" << text;
          continue;
        }
        const std::string prefix = "--config: " + s.config + ":";
        ASSERT_EQ(line.rfind(prefix, 0), 0u) << line;
        const int at = std::atoi(line.c_str() + prefix.size());
        EXPECT_GE(at, 1) << line << "\n" << text;
        EXPECT_LE(at, count + 1) << line << "\n" << text;
      }
    }
  }
  EXPECT_GT(refused, 0);
  EXPECT_GT(taken, 0);
}

}  // namespace
}  // namespace custodian::cli
