// custodian backup create|verify and restore (docs/backup.md), through the
// real binary: a backup restores into a new machine's directory with the
// same master key; erasures made after a backup survive its restore (from
// the store it replaces, or a newer backup); older or foreign copies cannot
// pass for newer; and a damaged backup, a wrong key or a store in use are
// refused with the place and change nothing. Contetra's promise P34:
// "regular backups, tested; disaster recovery".
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "http_api_util.h"
#include "run_util.h"
#include "test_util.h"

namespace custodian {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::HasSubstr;
using testing::StartsWith;
using testing_util::ReadFile;
using testing_util::RunOptions;
using testing_util::RunResult;
using testing_util::TempDir;
using testing_util::WriteFile;

// The binary with the key from the data directory, never the environment.
RunResult Cli(const std::vector<std::string>& args) {
  RunOptions o;
  o.env.emplace_back("CUSTODIAN_MASTER_KEY", std::nullopt);
  return testing_util::RunCustodian(args, o);
}

// What a subject's row holds in the store at `db` (no custodian code):
// "erased" with no wrapped key, "active", or "" when there is no row.
std::string RowState(const fs::path& db, const std::string& subject) {
  sqlite3* conn = nullptr;
  std::string out;
  if (sqlite3_open_v2(db.c_str(), &conn, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(conn,
                       "SELECT state, wrapped_key IS NULL, fields IS NULL FROM subjects WHERE id = ?",
                       -1, &st, nullptr);
    sqlite3_bind_text(st, 1, subject.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) {
      const int state = sqlite3_column_int(st, 0);  // store::SubjectState
      out = state == 0 ? "active" : state == 1 ? "closed" : state == 2 ? "erased" : "?";
      if (sqlite3_column_int(st, 1) == 1 && sqlite3_column_int(st, 2) == 1) out += ", shredded";
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(conn);
  return out;
}

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = (tmp_.path() / "data").string();
    ASSERT_EQ(Cli({"init", "--data-dir", data_}).exit_code, 0);
    const std::string policy = std::string(CUSTODIAN_SOURCE_DIR) + "/examples/policies/contetra.yaml";
    RunResult t = Cli({"tenant", "create", "contetra", "--policy", policy, "--data-dir", data_});
    ASSERT_EQ(t.exit_code, 0) << t.Describe();
    asha_ = Add("asha", "asha@example.in");
    ravi_ = Add("ravi", "ravi@example.in");
  }

  // Contetra's policy (the seed that promises tested, encrypted backups)
  // indexes usernames and emails.
  std::string Add(const std::string& username, const std::string& email, std::string dir = "") {
    RunResult r = Cli({"subject", "add", "contetra", "--field", "user.account.username=" + username,
                       "--field", "user.contact.email=" + email, "--role", "admin", "--data-dir",
                       dir.empty() ? data_ : dir});
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    std::string id = r.out;
    while (!id.empty() && id.back() == '\n') id.pop_back();
    return id;
  }

  // The lookup's first line: "subject ID (active)" or "no match".
  std::string Lookup(const std::string& dir, const std::string& email) {
    RunResult r = Cli({"lookup", "contetra", "--email", email, "--purpose", "essential.service",
                       "--role", "admin", "--data-dir", dir});
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    return r.out.substr(0, r.out.find('\n'));
  }

  std::string Backup(const std::string& name) {
    const std::string file = (tmp_.path() / name).string();
    RunResult r = Cli({"backup", "create", file, "--data-dir", data_});
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    return file;
  }

  // A new data directory holding only data_'s master key (another machine).
  std::string NewDir(const std::string& name) {
    const fs::path dir = tmp_.path() / name;
    fs::create_directories(dir);
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
    fs::copy_file(fs::path(data_) / "master.key", dir / "master.key");
    return dir.string();
  }

  TempDir tmp_;
  std::string data_;
  std::string asha_, ravi_;
};

TEST_F(BackupTest, ABackupIsVerifiedAndRestoresOnAnotherMachineWithTheKey) {
  const std::string file = (tmp_.path() / "b.bak").string();
  RunResult made = Cli({"backup", "create", file, "--data-dir", data_, "--json"});
  ASSERT_EQ(made.exit_code, 0) << made.Describe();
  const json m = json::parse(made.out);
  EXPECT_EQ(m["tenants"], 1);
  EXPECT_EQ(m["subjects"], 2);
  EXPECT_EQ(m["audit_events"], 4);  // tenant.create, two subject.add, and the backup itself
  EXPECT_EQ(m["id"].get<std::string>().size(), 32u);
  EXPECT_EQ(fs::status(file).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  // Nothing of the snapshot is left in the data directory, nor a partial file.
  for (const auto& entry : fs::directory_iterator(data_)) {
    EXPECT_THAT(entry.path().filename().string(), testing::Not(StartsWith(".backup-")));
  }
  EXPECT_FALSE(fs::exists(file + ".partial"));
  // No value in clear in the file.
  const std::string bytes = ReadFile(file);
  for (const char* value : {"asha", "ravi", "example.in", "SQLite format"}) {
    EXPECT_EQ(bytes.find(value), std::string::npos) << value;
  }

  RunResult verified = Cli({"backup", "verify", file, "--data-dir", data_});
  ASSERT_EQ(verified.exit_code, 0) << verified.Describe();
  EXPECT_THAT(verified.out, StartsWith("backup " + file + " ok: 1 tenant, 2 subjects, audit chain "
                                       "through event 4, made "));
  EXPECT_THAT(verified.out, HasSubstr("the audit chain verified (4 events, head " +
                                      m["audit_head"].get<std::string>() + ")"));

  const std::string other = NewDir("other");
  RunResult restored = Cli({"restore", file, "--data-dir", other, "--json"});
  ASSERT_EQ(restored.exit_code, 0) << restored.Describe();
  const json r = json::parse(restored.out);
  EXPECT_EQ(r["erasures_reapplied"], 0);
  EXPECT_EQ(r["erasures_from"], json::array());
  EXPECT_TRUE(r["replaced"].is_null());
  EXPECT_EQ(Lookup(other, "asha@example.in"), "subject " + asha_ + " (active)");
  EXPECT_EQ(Lookup(other, "ravi@example.in"), "subject " + ravi_ + " (active)");
  RunResult audit = Cli({"audit", "verify", "--data-dir", other});
  EXPECT_EQ(audit.exit_code, 0) << audit.Describe();
  RunResult events = Cli({"audit", "export", "--data-dir", other});
  // The backup carries the record of its own making, then the restore's.
  EXPECT_THAT(events.out, HasSubstr("\"actor\":\"cli\",\"role\":\"admin\",\"action\":\"backup\""));
  EXPECT_THAT(events.out, HasSubstr("\"reason\":\"backup " + m["id"].get<std::string>() + " to " +
                                    file + "\""));
  EXPECT_THAT(events.out, HasSubstr("\"action\":\"restore\""));
  EXPECT_THAT(events.out, HasSubstr("\"reason\":\"backup " + m["id"].get<std::string>() + " made "));
  // The restored directory works on: a new subject, and a new backup.
  Add("meera", "meera@example.in", other);
  EXPECT_EQ(Cli({"backup", "create", (tmp_.path() / "b2.bak").string(), "--data-dir", other})
                .exit_code,
            0);
}

TEST_F(BackupTest, ErasuresMadeAfterABackupSurviveItsRestore) {
  const std::string before = Backup("before.bak");
  ASSERT_EQ(Cli({"erase", "contetra", asha_, "--role", "admin", "--data-dir", data_}).exit_code, 0);
  const std::string after = Backup("after.bak");  // the newer copy

  // Disaster recovery on a new machine: the old backup, with the newer one's erasures.
  const std::string fresh = NewDir("fresh");
  RunResult r = Cli({"restore", before, "--data-dir", fresh, "--erasures-from", after});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("  erasures re-applied: 1 (read from " + after + ")\n"));
  EXPECT_EQ(Lookup(fresh, "asha@example.in"), "no match");
  EXPECT_EQ(Lookup(fresh, "ravi@example.in"), "subject " + ravi_ + " (active)");
  EXPECT_EQ(RowState(fs::path(fresh) / "custodian.db", asha_), "erased, shredded");
  RunResult events = Cli({"audit", "export", "--data-dir", fresh});
  EXPECT_THAT(events.out, HasSubstr("\"action\":\"erase\""));
  EXPECT_THAT(events.out, HasSubstr("\"reason\":\"re-applied after restore\""));
  EXPECT_EQ(Cli({"audit", "verify", "--data-dir", fresh}).exit_code, 0);

  // Rolling the data directory itself back: its own store's erasures hold.
  r = Cli({"restore", before, "--data-dir", data_, "--replace"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  const std::string live = (fs::path(data_) / "custodian.db").string();
  EXPECT_THAT(r.out, HasSubstr("  erasures re-applied: 1 (read from " + live + ")\n"));
  EXPECT_THAT(r.out, HasSubstr("  the store it replaced is kept as " + live + ".replaced-"));
  EXPECT_EQ(Lookup(data_, "asha@example.in"), "no match");
  EXPECT_EQ(RowState(live, asha_), "erased, shredded");
  EXPECT_EQ(RowState(live, ravi_), "active");

  // Without any newer copy, an erasure made after the backup cannot be known:
  // the restore says so.
  const std::string blind = NewDir("blind");
  r = Cli({"restore", before, "--data-dir", blind});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("  erasures re-applied: 0 (no newer copy of the store was given: "
                               "erasures made after this backup are not known here; see "
                               "--erasures-from)\n"));
  EXPECT_EQ(RowState(fs::path(blind) / "custodian.db", asha_), "active");
}

TEST_F(BackupTest, OlderOrForeignCopiesCannotPassForNewer) {
  const std::string older = Backup("older.bak");
  Add("meera", "meera@example.in");
  const std::string newer = Backup("newer.bak");
  const std::string target = NewDir("target");
  RunResult r = Cli({"restore", newer, "--data-dir", target, "--erasures-from", older});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_EQ(r.err, "custodian: " + older +
                       " is older than the backup (its audit chain ends at event 4, the backup's "
                       "at 6); give only newer copies of this store\n");
  // Another store with the same key and as many events: not this store's chain.
  const fs::path foreign = tmp_.path() / "foreign";
  ASSERT_EQ(Cli({"init", "--data-dir", foreign.string()}).exit_code, 0);
  fs::copy_file(fs::path(data_) / "master.key", foreign / "master.key",
                fs::copy_options::overwrite_existing);
  const std::string policy = std::string(CUSTODIAN_SOURCE_DIR) + "/examples/policies/contetra.yaml";
  ASSERT_EQ(Cli({"tenant", "create", "contetra", "--policy", policy, "--data-dir", foreign.string()})
                .exit_code,
            0);
  for (int i = 0; i < 5; ++i) Add("someone" + std::to_string(i), "someone" + std::to_string(i) + "@example.in", foreign.string());
  r = Cli({"restore", newer, "--data-dir", target, "--erasures-from",
           (foreign / "custodian.db").string()});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_EQ(r.err, "custodian: " + (foreign / "custodian.db").string() +
                       " does not continue the backup's audit chain (event 6 differs): it is not "
                       "a later copy of the store the backup was made from\n");
  // Nothing was restored: the target holds only its key.
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(target)) left.push_back(e.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>{"master.key"});
}

TEST_F(BackupTest, DamagedBackupsWrongKeysAndStoresInUseAreRefusedAndChangeNothing) {
  const std::string good = Backup("good.bak");
  const std::string bytes = ReadFile(good);
  const std::string live = (fs::path(data_) / "custodian.db").string();
  const std::string before = ReadFile(live);
  const std::size_t first_chunk = bytes.find("\n") + 1;  // after the magic line
  // The header's length, the header, the key's length, the key: then chunk 0.
  auto u32 = [&](std::size_t at) {
    return static_cast<std::size_t>(static_cast<unsigned char>(bytes[at])) |
           static_cast<std::size_t>(static_cast<unsigned char>(bytes[at + 1])) << 8 |
           static_cast<std::size_t>(static_cast<unsigned char>(bytes[at + 2])) << 16;
  };
  const std::size_t header = u32(first_chunk);
  const std::size_t key_at = first_chunk + 4 + header;
  const std::size_t chunk0 = key_at + 4 + u32(key_at);

  struct Case {
    std::string name;
    std::string content;
    std::string error;  // after "custodian: "
  };
  std::string flipped = bytes;
  flipped[chunk0 + 100] ^= 0x01;
  std::string header_changed = bytes;  // still well-formed: 2 subjects claimed as 3
  const std::size_t count = header_changed.find("\"subjects\":2");
  ASSERT_NE(count, std::string::npos);
  header_changed[count + 11] = '3';
  std::string last_flag = bytes;
  last_flag[chunk0 + 4] ^= 0x01;
  const Case cases[] = {
      {"flipped.bak", flipped,
       "backup F is damaged at byte " + std::to_string(chunk0) +
           " (chunk 0 fails its integrity check)"},
      {"flag.bak", last_flag,
       "backup F is damaged at byte " + std::to_string(chunk0) +
           " (chunk 0 fails its integrity check)"},
      {"header.bak", header_changed,
       "the master key does not open backup F (it was made with another master key, or its "
       "header was changed)"},
      {"cut.bak", bytes.substr(0, bytes.size() - 10),
       "backup F is cut short at byte " + std::to_string(bytes.size() - 10) + " (in chunk "},
      {"longer.bak", bytes + "x",
       "backup F has bytes after its last chunk, from byte " + std::to_string(bytes.size())},
      {"empty.bak", "", "backup F is not a custodian backup (it does not start with \"CUSTODIAN "
                        "BACKUP 1\")"},
      {"db.bak", before.substr(0, 4096),
       "backup F is not a custodian backup (it does not start with \"CUSTODIAN BACKUP 1\")"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string file = (tmp_.path() / c.name).string();
    WriteFile(file, c.content);
    std::string error = c.error;
    error.replace(error.find(" F"), 2, " " + file);
    RunResult v = Cli({"backup", "verify", file, "--data-dir", data_});
    EXPECT_EQ(v.exit_code, 1) << v.Describe();
    EXPECT_THAT(v.err, StartsWith("custodian: " + error)) << v.err;
    RunResult r = Cli({"restore", file, "--data-dir", data_, "--replace"});
    EXPECT_EQ(r.exit_code, 1) << r.Describe();
    EXPECT_THAT(r.err, StartsWith("custodian: " + error)) << r.err;
  }

  // Into a directory that does not exist yet (the key in the environment):
  // a damaged backup leaves no directory behind; a good one makes it.
  std::string key = ReadFile(fs::path(data_) / "master.key");
  while (!key.empty() && key.back() == '\n') key.pop_back();
  RunOptions with_key;
  with_key.env.emplace_back("CUSTODIAN_MASTER_KEY", key);
  const std::string nowhere = (tmp_.path() / "nowhere").string();
  RunResult damaged = testing_util::RunCustodian(
      {"restore", (tmp_.path() / "flipped.bak").string(), "--data-dir", nowhere}, with_key);
  EXPECT_EQ(damaged.exit_code, 1) << damaged.Describe();
  EXPECT_FALSE(fs::exists(nowhere));
  RunResult made = testing_util::RunCustodian({"restore", good, "--data-dir", nowhere}, with_key);
  EXPECT_EQ(made.exit_code, 0) << made.Describe();
  EXPECT_TRUE(fs::exists(fs::path(nowhere) / "custodian.db"));
  EXPECT_EQ(fs::status(nowhere).permissions() & fs::perms::all, fs::perms::owner_all);

  // Another data directory's key does not open it.
  const fs::path stranger = tmp_.path() / "stranger";
  ASSERT_EQ(Cli({"init", "--data-dir", stranger.string()}).exit_code, 0);
  RunResult v = Cli({"backup", "verify", good, "--data-dir", stranger.string()});
  EXPECT_EQ(v.err, "custodian: the master key does not open backup " + good +
                       " (it was made with another master key, or its header was changed)\n");
  // No key at all where the restore goes.
  const std::string keyless = (tmp_.path() / "keyless").string();
  RunResult r = Cli({"restore", good, "--data-dir", keyless});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "custodian: no master key to open the backup with: copy the master key it was "
                   "made with to " + keyless + "/master.key (mode 0600), or set "
                   "CUSTODIAN_MASTER_KEY\n");
  EXPECT_FALSE(fs::exists(keyless));
  // A store already there, without --replace; a store in use.
  r = Cli({"restore", good, "--data-dir", data_});
  EXPECT_EQ(r.err, "custodian: " + data_ +
                       " already holds a store; --replace restores over it (it is kept beside, "
                       "and its erasures re-applied)\n");
  WriteFile(live + "-wal", "");
  r = Cli({"restore", good, "--data-dir", data_, "--replace"});
  EXPECT_EQ(r.err, "custodian: the store in " + data_ + " is in use (" + live +
                       "-wal exists): stop `custodian serve` and every other custodian command "
                       "using it first\n");
  fs::remove(live + "-wal");
  // A backup never overwrites a file.
  RunResult again = Cli({"backup", "create", good, "--data-dir", data_});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(again.err, "custodian: " + good + " already exists\n");
  EXPECT_EQ(ReadFile(good), bytes);

  // After all of it: the store is as it was, nothing beside it.
  EXPECT_EQ(ReadFile(live), before);
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(data_)) left.push_back(e.path().filename().string());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"custodian.db", "master.key"}));
}

// A record purged on time by the retention sweep after a backup comes back
// with the backup, and is purged again before the restored store is used:
// here a billing record of a subject whose account closed in 2024 (Interjet
// keeps billing 12 months after closure).
TEST_F(BackupTest, WhatRetentionHadPurgedIsPurgedAgainOnRestore) {
  const std::string policy = std::string(CUSTODIAN_SOURCE_DIR) + "/examples/policies/interjet.yaml";
  ASSERT_EQ(Cli({"tenant", "create", "interjet", "--policy", policy, "--data-dir", data_}).exit_code, 0);
  RunResult add = Cli({"subject", "add", "interjet", "--field", "user.name=Asha Rao", "--role",
                       "admin", "--data-dir", data_});
  ASSERT_EQ(add.exit_code, 0) << add.Describe();
  const std::string asha = add.out.substr(0, add.out.find('\n'));
  ASSERT_EQ(Cli({"record", "add", "interjet", asha, "--kind", "billing", "--data",
                 R"({"invoice":"INV-1"})", "--at", "2024-01-15", "--data-dir", data_})
                .exit_code,
            0);
  ASSERT_EQ(Cli({"subject", "close", "interjet", asha, "--at", "2024-02-01", "--role", "admin",
                 "--data-dir", data_})
                .exit_code,
            0);
  const std::string file = Backup("due.bak");  // the record is due, not yet purged
  const std::string fresh = NewDir("fresh");
  RunResult r = Cli({"restore", file, "--data-dir", fresh, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_GE(json::parse(r.out)["retention_purged"].get<int>(), 1);
  RunResult events = Cli({"audit", "export", "--data-dir", fresh});
  EXPECT_THAT(events.out, HasSubstr("\"action\":\"retention.purge\""));
  // Nothing of the account is kept any longer: the subject is shredded, as
  // the sweep on the original store would have left it.
  EXPECT_EQ(RowState(fs::path(fresh) / "custodian.db", asha), "erased, shredded");
  RunResult records = Cli({"record", "list", "interjet", asha, "--purpose",
                           "essential.legal_obligation", "--role", "admin", "--data-dir", fresh});
  EXPECT_EQ(records.err, "custodian: subject '" + asha + "' has been erased\n");
  // In the backup itself it was still there (with Contetra's two).
  RunResult verified = Cli({"backup", "verify", file, "--data-dir", data_, "--json"});
  EXPECT_EQ(json::parse(verified.out)["subjects"], 3) << verified.Describe();
}

// The server keeps the store open and writing: a backup is taken anyway (a
// snapshot of one moment, verified), while a restore over the live store is
// refused until the server stops; then it goes through.
TEST_F(BackupTest, ABackupIsTakenWhileTheServerRunsAndARestoreWaitsForItToStop) {
  const std::string log = (tmp_.path() / "serve.log").string();
  ServerProcess server(data_, log, {"--no-access-log"});
  ASSERT_NE(server.port(), 0) << ReadFile(log);
  std::atomic<bool> stop{false};
  std::thread writer([&] {  // another process writing all along
    for (int i = 0; !stop && i < 200; ++i) Add("user" + std::to_string(i), "u" + std::to_string(i) + "@example.in");
  });
  const std::string file = (tmp_.path() / "live.bak").string();
  RunResult made = Cli({"backup", "create", file, "--data-dir", data_, "--json"});
  stop = true;
  writer.join();
  ASSERT_EQ(made.exit_code, 0) << made.Describe();
  RunResult verified = Cli({"backup", "verify", file, "--data-dir", data_, "--json"});
  ASSERT_EQ(verified.exit_code, 0) << verified.Describe();
  EXPECT_EQ(json::parse(verified.out)["subjects"], json::parse(made.out)["subjects"]);
  const std::string live = (fs::path(data_) / "custodian.db").string();
  RunResult r = Cli({"restore", file, "--data-dir", data_, "--replace"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "custodian: the store in " + data_ + " is in use (" + live +
                       "-wal exists): stop `custodian serve` and every other custodian command "
                       "using it first\n");
  EXPECT_EQ(server.Terminate(), 0);
  r = Cli({"restore", file, "--data-dir", data_, "--replace"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(Lookup(data_, "asha@example.in"), "subject " + asha_ + " (active)");
}

}  // namespace
}  // namespace custodian
