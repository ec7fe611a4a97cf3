// Small helpers shared by tests: a self-deleting temporary directory and file I/O.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace custodian::testing_util {

// Makes every later audit append to the store at `db` fail, as a full disk
// would: a trigger that aborts each insert into the audit table.
inline void FailAuditAppends(const std::filesystem::path& db) {
  sqlite3* conn = nullptr;
  const int opened = sqlite3_open(db.c_str(), &conn);
  const int made = opened != SQLITE_OK
                       ? opened
                       : sqlite3_exec(conn,
                                      "CREATE TRIGGER no_audit BEFORE INSERT ON audit "
                                      "BEGIN SELECT RAISE(ABORT, 'audit disk full'); END;",
                                      nullptr, nullptr, nullptr);
  sqlite3_close(conn);
  ASSERT_EQ(opened, SQLITE_OK) << db;
  ASSERT_EQ(made, SQLITE_OK) << db;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "custodian-test-XXXXXX").string();
    char* p = mkdtemp(tmpl.data());
    path_ = p ? std::filesystem::path(p) : std::filesystem::path();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteFile(const std::filesystem::path& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << data;
}

// `text` with the first `from` replaced by `to` (unchanged when absent): for
// tests that derive a policy from an example one.
inline std::string ReplaceFirst(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

}  // namespace custodian::testing_util
