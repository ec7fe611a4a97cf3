// What the service-level benchmarks share: stop on any error, read an
// example policy, and a vault with one tenant ("bench") in a directory of its
// own under $TMPDIR, removed when the benchmark ends.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "service/vault.h"

namespace custodian::bench {

// A benchmark cannot go on after an error: say it and stop.
inline void MustOk(const Status& s, const char* program) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", program, s.ToString().c_str());
    std::abort();
  }
}

// examples/policies/NAME.yaml.
inline std::string ExamplePolicyYaml(const std::string& name) {
  std::ifstream in(std::string(CUSTODIAN_SOURCE_DIR) + "/examples/policies/" + name + ".yaml");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// $CUSTODIAN_BENCH_SUBJECTS, else `fallback`.
inline std::size_t BenchSubjects(std::size_t fallback) {
  const char* v = std::getenv("CUSTODIAN_BENCH_SUBJECTS");
  return v != nullptr ? std::strtoull(v, nullptr, 10) : fallback;
}

// A directory custodian-PROGRAM-PID under $TMPDIR holding a vault (DIR/vault)
// with the tenant "bench" on `policy_yaml`; both go with it.
struct BenchVault {
  std::filesystem::path dir;
  std::unique_ptr<service::Vault> vault;

  BenchVault(const std::string& program, const std::string& policy_yaml) {
    dir = std::filesystem::temp_directory_path() /
          ("custodian-" + program + "-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    unsetenv("CUSTODIAN_MASTER_KEY");
    MustOk(service::Vault::Init((dir / "vault").string()), program.c_str());
    service::VaultOptions o;
    o.data_dir = (dir / "vault").string();
    auto opened = service::Vault::Open(o);
    MustOk(opened.status(), program.c_str());
    vault = std::move(opened).value();
    MustOk(vault->CreateTenant({"bench", "admin"}, "bench", policy_yaml, "bench.yaml"),
           program.c_str());
  }
  ~BenchVault() {
    vault.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  BenchVault(const BenchVault&) = delete;
  BenchVault& operator=(const BenchVault&) = delete;
};

}  // namespace custodian::bench
