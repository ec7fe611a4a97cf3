#include "store/sqlite/statement.h"

#include <cstdio>
#include <cstdlib>

namespace custodian::store::sqlite {

Status FromSqlite(int rc, sqlite3* db, std::string_view what) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return Status::Ok();
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return Status::AlreadyExists(msg);
      }
      return Status::FailedPrecondition(msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
      return Status::Unavailable(msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::DataLoss(msg);
    default:
      return Status::Internal(msg);
  }
}

Result<Db> Db::Open(const std::string& path, bool create) {
  // SQLite counts its allocations under one process-wide mutex unless told
  // not to; every connection of every thread then queues on it. Nothing here
  // reads those counters. Must come before SQLite initializes (the first
  // open); if something initialized it already, the call is refused, harmlessly.
  static const bool no_memstatus = [] {
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)no_memstatus;
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = FromSqlite(rc, raw, "open " + path);
    sqlite3_close(raw);
    return s;
  }
  sqlite3_extended_result_codes(raw, 1);
  return Db(raw);
}

Db& Db::operator=(Db&& other) noexcept {
  if (this != &other) {
    if (db_) sqlite3_close_v2(db_);
    db_ = other.db_;
    other.db_ = nullptr;
  }
  return *this;
}

Db::~Db() {
  if (db_) sqlite3_close_v2(db_);
}

Status Db::Exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  sqlite3_free(err);
  return FromSqlite(rc, db_, "sqlite");
}

Stmt::Stmt(Db& db, const char* sql) : db_(db.raw()) {
  int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) {
    std::fprintf(stderr, "custodian: internal error preparing SQL: %s\n", sqlite3_errmsg(db_));
    std::abort();  // our own SQL: a broken invariant, not bad input
  }
}

Stmt::~Stmt() { sqlite3_finalize(stmt_); }

// A default-constructed string_view has a null data(), which SQLite would
// bind as NULL: "" is bound from a real empty string instead.
void Stmt::BindText(int i, std::string_view v) {
  sqlite3_bind_text(stmt_, i, v.data() ? v.data() : "", static_cast<int>(v.size()),
                    SQLITE_TRANSIENT);
}
void Stmt::BindBlob(int i, std::string_view v) {
  sqlite3_bind_blob(stmt_, i, v.data() ? v.data() : "", static_cast<int>(v.size()),
                    SQLITE_TRANSIENT);
}
void Stmt::BindBlobOrNull(int i, std::string_view v) {
  if (v.empty()) {
    sqlite3_bind_null(stmt_, i);
  } else {
    BindBlob(i, v);
  }
}
void Stmt::BindInt64(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
void Stmt::BindOptionalDouble(int i, const std::optional<double>& v) {
  if (v) {
    sqlite3_bind_double(stmt_, i, *v);
  } else {
    sqlite3_bind_null(stmt_, i);
  }
}

void Stmt::BindOptionalInt64(int i, const std::optional<int64_t>& v) {
  if (v) {
    sqlite3_bind_int64(stmt_, i, *v);
  } else {
    sqlite3_bind_null(stmt_, i);
  }
}

Result<bool> Stmt::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status s = FromSqlite(rc, db_, "sqlite");
  sqlite3_reset(stmt_);
  return s;
}

Status Stmt::Run() {
  while (true) {
    auto r = Step();
    if (!r.ok()) return r.status();
    if (!*r) return Status::Ok();
  }
}

void Stmt::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t Stmt::ColumnInt64(int i) { return sqlite3_column_int64(stmt_, i); }
double Stmt::ColumnDouble(int i) { return sqlite3_column_double(stmt_, i); }
bool Stmt::ColumnIsNull(int i) { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
std::string Stmt::ColumnText(int i) {
  const unsigned char* p = sqlite3_column_text(stmt_, i);
  int n = sqlite3_column_bytes(stmt_, i);
  return p ? std::string(reinterpret_cast<const char*>(p), n) : std::string();
}
std::string Stmt::ColumnBlob(int i) {
  const void* p = sqlite3_column_blob(stmt_, i);
  int n = sqlite3_column_bytes(stmt_, i);
  return p ? std::string(static_cast<const char*>(p), n) : std::string();
}

}  // namespace custodian::store::sqlite
