// Reading the audit log straight from a SQLite store, as an auditor with the
// file would: for tests that check what events were written.
#pragma once

#include <sqlite3.h>

#include <string>
#include <vector>

namespace custodian::testing_util {

// The canonical JSON of every audit event in `db_path`, in order; only those
// whose action is `action` when it is not empty.
inline std::vector<std::string> AuditEvents(const std::string& db_path,
                                            const std::string& action = "") {
  std::vector<std::string> events;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return events;
  }
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT event FROM audit ORDER BY seq", -1, &st, nullptr);
  const std::string needle = "\"action\":\"" + action + "\"";
  while (st != nullptr && sqlite3_step(st) == SQLITE_ROW) {
    std::string e(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
    if (action.empty() || e.find(needle) != std::string::npos) events.push_back(std::move(e));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return events;
}

}  // namespace custodian::testing_util
