// cli/config_file.h: the serve settings file, YAML or TOML, read as one tree
// (in the system tests: no test binary of its own for the cli layer).
#include "cli/config_file.h"

#include <gtest/gtest.h>

#include <fstream>

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
  for (const std::string& path : {yaml, toml}) {
    SCOPED_TRACE(path);
    auto file = ReadConfigFile(path);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    const YAML::Node& root = file->root;
    ASSERT_TRUE(root.IsMap());
    EXPECT_EQ(root.size(), 5u);
    EXPECT_EQ(root["threads"].as<int>(), 2);
    EXPECT_EQ(root["listen"].as<std::string>(), "0.0.0.0:8443");
    EXPECT_EQ(root["tls"]["cert"].as<std::string>(), "/etc/c.pem");
    EXPECT_EQ(root["tls"]["key"].as<std::string>(), "/etc/k.pem");
    EXPECT_EQ(root["api_key_rate"].as<double>(), 0.5);
    EXPECT_FALSE(root["access_log"].as<bool>());
  }
  EXPECT_EQ(ReadConfigFile(yaml)->lines,
            (std::map<std::string, int>{
                {"threads", 1}, {"listen", 2}, {"tls", 3}, {"api_key_rate", 4}, {"access_log", 5}}));
  EXPECT_EQ(ReadConfigFile(toml)->lines,
            (std::map<std::string, int>{
                {"threads", 2}, {"listen", 3}, {"api_key_rate", 4}, {"access_log", 5}, {"tls", 7}}));
}

TEST(ConfigFileTest, TomlArraysAndDatesBecomeSequencesAndText) {
  testing_util::TempDir dir;
  auto file = ReadConfigFile(Write(dir, "x.toml", "a = [1, 2]\nwhen = 2026-12-01\nbig = 3000000000\n"));
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_TRUE(file->root["a"].IsSequence());
  EXPECT_EQ(file->root["a"][1].as<int>(), 2);
  EXPECT_EQ(file->root["when"].as<std::string>(), "2026-12-01");
  EXPECT_EQ(file->root["big"].as<int64_t>(), 3000000000);
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

  std::string list = Write(dir, "list.yaml", "- threads\n");
  EXPECT_EQ(ReadConfigFile(list).status().message(), "--config: " + list + ": expected a map");

  for (const char* name : {"missing.yaml", "missing.toml"}) {
    std::string path = (dir.path() / name).string();
    auto missing = ReadConfigFile(path);
    EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
    EXPECT_EQ(missing.status().message(), "--config: cannot read " + path);
  }
}

}  // namespace
}  // namespace custodian::cli
