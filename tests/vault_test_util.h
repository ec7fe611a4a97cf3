// A vault for service-level tests: a fresh data directory with its own master
// key file, a clock the test sets, and tenants made from the example policies.
// Also an Ed25519 public key in the form channel settings take.
#pragma once

#include <gtest/gtest.h>
#include <sodium.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "service/vault.h"
#include "test_util.h"

namespace custodian::testing_util {

// Initializes `dir` and opens it with `clock` (nullptr when anything fails;
// the test's ASSERT on the result says so).
inline std::unique_ptr<service::Vault> OpenTestVault(const std::filesystem::path& dir,
                                                     service::Clock clock) {
  unsetenv("CUSTODIAN_MASTER_KEY");  // the key file in `dir`, not the environment
  if (!service::Vault::Init(dir.string()).ok()) return nullptr;
  service::VaultOptions o;
  o.data_dir = dir.string();
  o.clock = std::move(clock);
  auto vault = service::Vault::Open(std::move(o));
  return vault.ok() ? std::move(vault).value() : nullptr;
}

// Creates `tenant` with examples/policies/POLICY.yaml.
inline Status CreateExampleTenant(service::Vault& vault, const std::string& tenant,
                                  const std::string& policy = "interjet") {
  const std::string file = policy + ".yaml";
  return vault.CreateTenant(
      {"test", "admin"}, tenant,
      ReadFile(std::filesystem::path(CUSTODIAN_SOURCE_DIR) / "examples/policies" / file), file);
}

// A test with a fresh vault in tmp_/data whose clock is now_ (the test moves
// it), opened with the example tenants it names ({tenant, policy file name}).
class ClockedVaultTest : public ::testing::Test {
 protected:
  void OpenWithTenants(std::initializer_list<std::pair<std::string, std::string>> tenants) {
    dir_ = tmp_.path() / "data";
    vault_ = OpenTestVault(dir_, [this] { return now_; });
    ASSERT_NE(vault_, nullptr);
    for (const auto& [tenant, policy] : tenants) {
      ASSERT_TRUE(CreateExampleTenant(*vault_, tenant, policy).ok()) << tenant;
    }
  }
  std::string Db() const { return (dir_ / "custodian.db").string(); }

  TempDir tmp_;
  std::filesystem::path dir_;
  int64_t now_ = 0;
  std::unique_ptr<service::Vault> vault_;
};

// A fresh Ed25519 public key, standard base64 (a Telnyx account's key).
inline std::string NewEd25519PublicKey() {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(pk, sk);
  char b64[sodium_base64_ENCODED_LEN(sizeof pk, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(b64, sizeof b64, pk, sizeof pk, sodium_base64_VARIANT_ORIGINAL);
  return b64;
}

}  // namespace custodian::testing_util
