// Thin RAII wrappers over sqlite3 and sqlite3_stmt that turn SQLite result
// codes into Status. Not thread-safe: the owning store serializes use.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "custodian/status.h"

namespace custodian::store::sqlite {

// Maps an SQLite result code to a Status; `what` says which operation failed.
Status FromSqlite(int rc, sqlite3* db, std::string_view what);

class Db {
 public:
  static Result<Db> Open(const std::string& path, bool create);
  Db(Db&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Db& operator=(Db&& other) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  Status Exec(const char* sql);
  sqlite3* raw() { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

class Stmt {
 public:
  // A statement that fails to prepare is a programming error: the SQL is ours.
  Stmt(Db& db, const char* sql);
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  void BindText(int i, std::string_view v);
  void BindBlob(int i, std::string_view v);
  void BindBlobOrNull(int i, std::string_view v);  // empty -> NULL
  void BindInt64(int i, int64_t v);
  void BindOptionalInt64(int i, const std::optional<int64_t>& v);
  void BindOptionalDouble(int i, const std::optional<double>& v);

  // true: a row is ready; false: done.
  Result<bool> Step();
  // Step() to completion for statements that return no rows.
  Status Run();
  void Reset();

  int64_t ColumnInt64(int i);
  double ColumnDouble(int i);
  bool ColumnIsNull(int i);
  std::string ColumnText(int i);
  std::string ColumnBlob(int i);

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace custodian::store::sqlite
