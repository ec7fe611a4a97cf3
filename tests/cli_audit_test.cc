// `custodian audit`: checkpoint, public-key, export and verify (whole, since a
// checkpoint, and offline from an export with only the public key), with the
// real binary on the Interjet policy.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <string>

#include "run_util.h"
#include "test_util.h"

namespace custodian {
namespace {

using nlohmann::json;
using testing_util::ReadFile;
using testing_util::RunCustodian;
using testing_util::RunResult;
using testing_util::TempDir;
using testing_util::WriteFile;

const std::string kPolicy = std::string(CUSTODIAN_SOURCE_DIR) + "/examples/policies/interjet.yaml";

class AuditCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = (dir_.path() / "data").string();
    ASSERT_EQ(Run({"init"}).exit_code, 0);
    ASSERT_EQ(Run({"tenant", "create", "interjet", "--policy", kPolicy}).exit_code, 0);
    Add("Asha Rao");
  }
  RunResult Run(std::vector<std::string> args) {
    args.push_back("--data-dir");
    args.push_back(data_);
    return RunCustodian(args);
  }
  std::string Ok(const std::vector<std::string>& args) {
    RunResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    return r.out;
  }
  void Add(const std::string& name) {
    Ok({"subject", "add", "interjet", "--field", "user.name=" + name});
  }
  std::string Path(const std::string& name) { return (dir_.path() / name).string(); }

  TempDir dir_;
  std::string data_;
};

TEST_F(AuditCliTest, AnAuditorVerifiesAnExportOfflineWithThePublicKey) {
  json cp = json::parse(Ok({"audit", "checkpoint", "--json"}));
  EXPECT_EQ(cp["seq"], 2);
  EXPECT_EQ(Ok({"audit", "checkpoint"}), "nothing to sign: no audit event since the last checkpoint\n");
  Add("Ravi");
  std::string key = Ok({"audit", "public-key"});
  ASSERT_EQ(key.size(), 45u) << key;  // 44 base64 characters and a newline
  WriteFile(Path("key.pub"), key);
  json key_json = json::parse(Ok({"audit", "public-key", "--json"}));
  EXPECT_EQ(key_json["algorithm"], "ed25519");
  EXPECT_EQ(key_json["key_id"], cp["key_id"]);

  RunResult exported = Run({"audit", "export", "-o", Path("audit.jsonl")});
  ASSERT_EQ(exported.exit_code, 0) << exported.Describe();
  EXPECT_EQ(exported.err, "exported 3 events and 1 checkpoints to " + Path("audit.jsonl") + "\n");
  struct stat st {};
  ASSERT_EQ(stat(Path("audit.jsonl").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(ReadFile(Path("audit.jsonl")).find("Asha"), std::string::npos);

  // Offline: no data directory at all.
  RunResult v = RunCustodian({"audit", "verify", "--export", Path("audit.jsonl"), "--public-key",
                              Path("key.pub")});
  EXPECT_EQ(v.exit_code, 0) << v.Describe();
  EXPECT_EQ(v.out.rfind("export " + Path("audit.jsonl") + " (key " +
                            key_json["key_id"].get<std::string>() + ") ok: 3 events, head ",
                        0),
            0u)
      << v.out;
  EXPECT_NE(v.out.find("  1 checkpoint signature verified, signed through event 2; the 1 "
                       "event(s) after it are chained but not yet signed\n"),
            std::string::npos)
      << v.out;
  // The key given inline works too; another key does not.
  EXPECT_EQ(RunCustodian({"audit", "verify", "--export", Path("audit.jsonl"), "--public-key",
                          key.substr(0, 44)})
                .exit_code,
            0);
  RunResult wrong = RunCustodian({"audit", "verify", "--export", Path("audit.jsonl"),
                                  "--public-key", std::string(64, 'a'), "--json"});
  EXPECT_EQ(wrong.exit_code, 1) << wrong.Describe();
  json w = json::parse(wrong.out);
  EXPECT_EQ(w["ok"], false);
  EXPECT_EQ(w["bad_checkpoint"], 2);
  // A tampered export names the event.
  std::string text = ReadFile(Path("audit.jsonl"));
  text.replace(text.find("subject.add"), 11, "subject.del");
  WriteFile(Path("tampered.jsonl"), text);
  RunResult t = RunCustodian({"audit", "verify", "--export", Path("tampered.jsonl"),
                              "--public-key", Path("key.pub"), "--json"});
  EXPECT_EQ(t.exit_code, 1);
  EXPECT_EQ(json::parse(t.out)["first_bad_event"], 2);
  // Usage errors.
  EXPECT_EQ(RunCustodian({"audit", "verify", "--export", Path("audit.jsonl")}).exit_code, 2);
  RunResult bad_key = RunCustodian(
      {"audit", "verify", "--export", Path("audit.jsonl"), "--public-key", "nonsense"});
  EXPECT_EQ(bad_key.exit_code, 1);
  EXPECT_NE(bad_key.err.find("not an Ed25519 public key"), std::string::npos) << bad_key.err;
}

TEST_F(AuditCliTest, VerifySinceACheckpointAndTamperingNamed) {
  Ok({"audit", "checkpoint"});
  Add("Ravi");
  Add("Meera");
  Ok({"audit", "checkpoint"});
  std::string list = Ok({"audit", "checkpoint", "--list"});
  EXPECT_EQ(std::count(list.begin(), list.end(), '\n'), 2) << list;
  json since = json::parse(Ok({"audit", "verify", "--since", "2", "--json"}));
  EXPECT_EQ(since["ok"], true);
  EXPECT_EQ(since["first_event"], 3);
  EXPECT_EQ(since["events"], 2);
  EXPECT_EQ(since["checkpoints"], 2);
  RunResult none = Run({"audit", "verify", "--since", "3"});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_EQ(none.err,
            "custodian: there is no checkpoint at audit event 3; `custodian audit checkpoint "
            "--list` shows them\n");
  // A forged checkpoint is named.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((data_ + "/custodian.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE audit_checkpoints SET time_ms = time_ms + 1 WHERE seq = 4",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  RunResult v = Run({"audit", "verify"});
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_NE(v.out.find("audit chain BROKEN: checkpoint at event 4: the signature does not verify"),
            std::string::npos)
      << v.out;
}

TEST_F(AuditCliTest, ExportNeedsAnAuditorOrAdminRole) {
  RunResult r = Run({"audit", "export", "--role", "agent"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "custodian: reading the audit trail needs role 'auditor' or 'admin' (role 'agent' "
            "may not)\n");
  EXPECT_EQ(Run({"audit", "export", "--from", "yesterday"}).exit_code, 2);
}

}  // namespace
}  // namespace custodian
