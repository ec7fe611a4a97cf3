// cli/config_file.h: the serve settings file, YAML or TOML, read as one list
// of entries (in the system tests: no test binary of its own for the cli layer).
#include "cli/config_file.h"

#include <gtest/gtest.h>

#include <fstream>
#include <tuple>
#include <vector>

#include "test_util.h"

namespace custodian::cli {
namespace {

std::string Write(const testing_util::TempDir& dir, const std::string& name,
                  const std::string& text) {
  std::string path = (dir.path() / name).string();
  std::ofstream(path) << text;
  return path;
}

// The same settings in both formats read the same, each key with its line.
TEST(ConfigFileTest, TomlAndYamlGiveTheSameSettings) {
  testing_util::TempDir dir;
  std::string yaml = Write(dir, "serve.yaml",
                           "threads: 2\n"
                           "listen: 0.0.0.0:8443\n"
                           "tls: {cert: /etc/c.pem, key: /etc/k.pem}\n"
                           "api_key_rate: 0.5\n"
                           "access_log: false\n");
  std::string toml = Write(dir, "serve.toml",
                           "# comment\n"
                           "threads = 2\n"
                           "listen = \"0.0.0.0:8443\"\n"
                           "api_key_rate = 0.5\n"
                           "access_log = false\n"
                           "\n"
                           "[tls]\n"
                           "cert = \"/etc/c.pem\"\n"
                           "key = \"/etc/k.pem\"\n");
  // Each key with its value and line; a table's keys as "table.key".
  auto read = [](const std::string& path) {
    auto file = ReadConfigFile(path);
    EXPECT_TRUE(file.ok()) << file.status().ToString();
    std::vector<std::tuple<std::string, std::string, int>> out;
    for (const ConfigEntry& e : file->entries) out.emplace_back(e.key, e.value.Scalar(), e.line);
    return out;
  };
  using Entries = std::vector<std::tuple<std::string, std::string, int>>;
  EXPECT_EQ(read(yaml), (Entries{{"threads", "2", 1},
                                 {"listen", "0.0.0.0:8443", 2},
                                 {"tls.cert", "/etc/c.pem", 3},
                                 {"tls.key", "/etc/k.pem", 3},
                                 {"api_key_rate", "0.5", 4},
                                 {"access_log", "false", 5}}));
  EXPECT_EQ(read(toml), (Entries{{"threads", "2", 2},
                                 {"listen", "0.0.0.0:8443", 3},
                                 {"api_key_rate", "0.5", 4},
                                 {"access_log", "false", 5},
                                 {"tls.cert", "/etc/c.pem", 8},
                                 {"tls.key", "/etc/k.pem", 9}}));
  // Spelled as a dotted TOML key, or a YAML block map, the same entries.
  EXPECT_EQ(read(Write(dir, "dotted.toml", "tls.cert = \"/c\"\ntls.key = \"/k\"\n")),
            (Entries{{"tls.cert", "/c", 1}, {"tls.key", "/k", 2}}));
  EXPECT_EQ(read(Write(dir, "block.yaml", "tls:\n  cert: /c\n  key: /k\n")),
            (Entries{{"tls.cert", "/c", 2}, {"tls.key", "/k", 3}}));
  // An empty file, or one of comments only, sets nothing.
  EXPECT_EQ(read(Write(dir, "empty.yaml", "")), Entries{});
  EXPECT_EQ(read(Write(dir, "comments.yaml", "# nothing yet\n")), Entries{});
  EXPECT_EQ(read(Write(dir, "empty.toml", "")), Entries{});
}

TEST(ConfigFileTest, TomlArraysAndDatesBecomeSequencesAndText) {
  testing_util::TempDir dir;
  auto file = ReadConfigFile(Write(dir, "x.toml", "a = [1, 2]\nwhen = 2026-12-01\nbig = 3000000000\n"));
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_EQ(file->entries.size(), 3u);
  ASSERT_TRUE(file->entries[0].value.IsSequence());
  EXPECT_EQ(file->entries[0].value[1].as<int>(), 2);
  EXPECT_EQ(file->entries[1].value.as<std::string>(), "2026-12-01");
  EXPECT_EQ(file->entries[2].value.as<int64_t>(), 3000000000);
}

TEST(ConfigFileTest, ErrorsSayWhere) {
  testing_util::TempDir dir;
  std::string toml = Write(dir, "bad.toml", "threads = 2\nlisten = \"unterminated\n");
  auto bad_toml = ReadConfigFile(toml);
  ASSERT_FALSE(bad_toml.ok());
  EXPECT_EQ(bad_toml.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad_toml.status().message().rfind("--config: " + toml + ":2:", 0), 0u)
      << bad_toml.status().message();

  std::string dup = Write(dir, "dup.toml", "threads = 2\nthreads = 3\n");
  auto twice = ReadConfigFile(dup);
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().message().rfind("--config: " + dup + ":2:", 0), 0u)
      << twice.status().message();

  std::string yaml = Write(dir, "bad.yaml", "threads: 2\nlisten: [unclosed\n");
  auto bad_yaml = ReadConfigFile(yaml);
  ASSERT_FALSE(bad_yaml.ok());
  EXPECT_EQ(bad_yaml.status().message().rfind("--config: " + yaml + ":3:", 0), 0u)
      << bad_yaml.status().message();

  // yaml-cpp keeps both of a key set twice, and takes a list or a map as a
  // key: each is refused with its place, as toml++ refuses the first.
  std::string twice_yaml = Write(dir, "dup.yaml", "threads: 2\ntls: {cert: a}\nthreads: 3\n");
  EXPECT_EQ(ReadConfigFile(twice_yaml).status().message(),
            "--config: " + twice_yaml + ":3:1: 'threads' is set twice (first on line 1)");
  std::string nested_twice = Write(dir, "dup2.yaml", "tls:\n  cert: a\n  cert: b\n");
  EXPECT_EQ(ReadConfigFile(nested_twice).status().message(),
            "--config: " + nested_twice + ":3:3: 'tls.cert' is set twice (first on line 2)");
  for (auto [text, at] : {std::pair<const char*, const char*>{"[a]: 1\n", ":1:1"},
                          {"{a: 1}: 2\n", ":1:1"},
                          {"? [x]\n: 1\n", ":1:3"}}) {
    std::string key = Write(dir, "key.yaml", text);
    EXPECT_EQ(ReadConfigFile(key).status().message(),
              "--config: " + key + at + ": a setting's name must be text")
        << text;
  }
  std::string list = Write(dir, "list.yaml", "- threads\n");
  EXPECT_EQ(ReadConfigFile(list).status().message(),
            "--config: " + list + ":1:1: expected a map of settings, like `threads: 4`");

  for (const char* name : {"missing.yaml", "missing.toml"}) {
    std::string path = (dir.path() / name).string();
    auto missing = ReadConfigFile(path);
    EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
    EXPECT_EQ(missing.status().message(), "--config: cannot read " + path);
  }
}

}  // namespace
}  // namespace custodian::cli
