// What a crash in the middle of a backup, a verification or a restore leaves
// in the data directory (a staging directory with a plaintext copy of the
// store) is removed when the vault next opens, unless a live process still
// holds its lock: such a copy must not outlive a later erasure.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "common/fd.h"
#include "service/backup.h"
#include "test_util.h"
#include "vault_test_util.h"

namespace custodian::service {
namespace {

namespace fs = std::filesystem;

// A staging directory as a crashed process leaves it: a lock file no one
// holds (`with_lock`) and a copy of the store.
fs::path Staging(const fs::path& data, const std::string& name, bool with_lock) {
  const fs::path dir = data / name;
  fs::create_directory(dir);
  if (with_lock) testing_util::WriteFile((dir / ".lock").string(), "");
  testing_util::WriteFile((dir / "custodian.db").string(), "SQLite format 3");
  return dir;
}

TEST(BackupStagingTest, OpeningTheVaultRemovesWhatACrashLeftAndNothingInUse) {
  testing_util::TempDir tmp;
  const fs::path data = tmp.path() / "data";
  ASSERT_NE(testing_util::OpenTestVault(data, SystemClockMs), nullptr);

  const fs::path crashed_backup = Staging(data, ".backup-0011223344556677", true);
  const fs::path crashed_restore = Staging(data, ".restore-8899aabbccddeeff", true);
  const fs::path old_unlocked = Staging(data, ".verify-0123456789abcdef", false);
  fs::last_write_time(old_unlocked, fs::file_time_type::clock::now() - std::chrono::hours(1));
  // In use: another process (here another open file description) holds the lock.
  const fs::path running = Staging(data, ".backup-fedcba9876543210", true);
  UniqueFd held(::open((running / ".lock").c_str(), O_RDWR | O_CLOEXEC));
  ASSERT_GE(held.get(), 0);
  ASSERT_EQ(::flock(held.get(), LOCK_EX | LOCK_NB), 0);
  // Being made: no lock file yet, and young.
  const fs::path young = Staging(data, ".restore-0000111122223333", false);
  // Not a staging directory.
  const fs::path other = Staging(data, ".backupish", true);

  auto removed = RemoveStaleStaging(data.string());
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, (std::vector<std::string>{".backup-0011223344556677",
                                                ".restore-8899aabbccddeeff",
                                                ".verify-0123456789abcdef"}));
  EXPECT_FALSE(fs::exists(crashed_backup));
  EXPECT_FALSE(fs::exists(crashed_restore));
  EXPECT_FALSE(fs::exists(old_unlocked));
  EXPECT_TRUE(fs::exists(running / "custodian.db"));
  EXPECT_TRUE(fs::exists(young / "custodian.db"));
  EXPECT_TRUE(fs::exists(other / "custodian.db"));

  // Vault::Open sweeps: once the lock is released the copy goes.
  held.Close();
  VaultOptions options;
  options.data_dir = data.string();
  auto vault = Vault::Open(options);
  ASSERT_TRUE(vault.ok()) << vault.status().ToString();
  EXPECT_FALSE(fs::exists(running));
  EXPECT_TRUE(fs::exists(young));
  // A directory that does not exist has nothing to sweep.
  auto none = RemoveStaleStaging((tmp.path() / "missing").string());
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace custodian::service
