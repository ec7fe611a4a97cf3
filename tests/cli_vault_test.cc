// Whole-system tests of the vault's commands: the real `custodian` binary, run
// as a child process on a temporary data directory, along the path of issue 4
// (init, tenant, add, show, lookup, close, erase, audit verify), against a
// tampered audit trail, and with bad input at the command line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "run_util.h"
#include "test_util.h"

namespace custodian {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::HasSubstr;
using testing::StartsWith;
using testing_util::ReadFile;
using testing_util::RunCustodian;
using testing_util::RunOptions;
using testing_util::RunResult;
using testing_util::TempDir;

constexpr int kOk = 0, kError = 1, kUsage = 2;

constexpr char kPolicy[] = "examples/policies/interjet.yaml";  // relative to the source dir
constexpr char kUnknownTenant[] =
    "custodian: tenant 'nosuch' does not exist; create it with `custodian tenant create`\n";

// Asha's three fields, as issue 4 writes them.
const std::vector<std::string> kAshaFields = {
    "--field", "user.name=Asha Rao",                      //
    "--field", "user.contact.phone_number=088701 00100",  //
    "--field", "user.contact.email= Asha@Example.in "};

// Her values in every spelling the tests use. Subject ids are lower-case
// letters and digits 2-9, so none of these can occur in one by chance.
const std::vector<std::string> kPersonalValues = {"Asha",  "Rao",   "ASHA",       "8870100100",
                                                  "88701", "00100", "Example.in", "example.in"};

std::vector<std::string> Cat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::string Shown(const std::vector<std::string>& args) {
  std::string s = "custodian";
  for (const auto& a : args) s += " '" + a + "'";
  return s;
}

// sub_ and 20 characters of the id alphabet.
bool LooksLikeSubjectId(const std::string& id) {
  if (id.size() != 24 || id.rfind("sub_", 0) != 0) return false;
  for (char c : id.substr(4)) {
    if (std::string_view("abcdefghijkmnpqrstuvwxyz23456789").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

bool IsHex64(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

unsigned Mode(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

// A connection to the store for what the CLI cannot do: count and tamper.
class Db {
 public:
  explicit Db(const fs::path& path) {
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK)
        << path;
  }
  ~Db() { sqlite3_close(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // The first column of the first row of `sql`, with `seq` bound to ?1.
  std::string Query(const char* sql, int64_t seq = 0) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql, -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
    sqlite3_bind_int64(st, 1, seq);
    std::string out;
    if (sqlite3_step(st) == SQLITE_ROW) {
      const void* p = sqlite3_column_blob(st, 0);
      out.assign(static_cast<const char*>(p),
                 static_cast<std::size_t>(sqlite3_column_bytes(st, 0)));
    }
    sqlite3_finalize(st);
    return out;
  }
  std::vector<std::string> Column(const char* sql) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql, -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
    std::vector<std::string> out;
    while (sqlite3_step(st) == SQLITE_ROW) {
      const void* p = sqlite3_column_blob(st, 0);
      out.emplace_back(static_cast<const char*>(p),
                       static_cast<std::size_t>(sqlite3_column_bytes(st, 0)));
    }
    sqlite3_finalize(st);
    return out;
  }
  // Binds `value` as text (or a blob) to ?1 and `seq` to ?2.
  void Update(const char* sql, const std::string& value, int64_t seq, bool blob = false) {
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_, sql, -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
    if (blob) {
      sqlite3_bind_blob(st, 1, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    } else {
      sqlite3_bind_text(st, 1, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    }
    sqlite3_bind_int64(st, 2, seq);
    EXPECT_EQ(sqlite3_step(st), SQLITE_DONE) << sqlite3_errmsg(db_);
    EXPECT_EQ(sqlite3_changes(db_), 1);
    sqlite3_finalize(st);
  }

 private:
  sqlite3* db_ = nullptr;
};

class VaultCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    data_ = dir_.path() / "data";
  }

  // Runs custodian from the source directory (so kPolicy resolves) with
  // CUSTODIAN_DATA_DIR set to this test's data directory.
  RunResult Cli(const std::vector<std::string>& args,
                std::vector<std::pair<std::string, std::optional<std::string>>> env = {}) {
    RunOptions o;
    o.cwd = CUSTODIAN_SOURCE_DIR;
    o.env.push_back({"CUSTODIAN_DATA_DIR", data_.string()});
    for (auto& e : env) o.env.push_back(std::move(e));
    RunResult r = RunCustodian(args, o);
    ExpectNoPersonalValueOnStderr(args, r, dir_.path().string());
    return r;
  }

  // Runs a command that must succeed with nothing on stderr.
  std::string Ok(const std::vector<std::string>& args) {
    RunResult r = Cli(args);
    EXPECT_EQ(r.exit_code, kOk) << Shown(args) << "\n" << r.Describe();
    EXPECT_EQ(r.err, "") << Shown(args);
    return r.out;
  }

  // Runs a command that must fail with `code`, print nothing on stdout and
  // exactly `err` on stderr (unless `err` is empty: then anything non-empty).
  void Fails(const std::vector<std::string>& args, int code, const std::string& err = "") {
    RunResult r = Cli(args);
    EXPECT_EQ(r.exit_code, code) << Shown(args) << "\n" << r.Describe();
    EXPECT_EQ(r.out, "") << Shown(args);
    if (err.empty()) {
      EXPECT_NE(r.err, "") << Shown(args);
    } else {
      EXPECT_EQ(r.err, err) << Shown(args);
    }
  }

  // No failing command may print a personal value, whatever was typed. The
  // test's own directory (mkdtemp's random letters, which can spell "Rao") is
  // cut out of stderr first: a path the test chose is not a personal value.
  static void ExpectNoPersonalValueOnStderr(const std::vector<std::string>& args,
                                            const RunResult& r, const std::string& own_dir) {
    if (r.exit_code == kOk) return;
    std::string err = r.err;
    for (std::size_t at; !own_dir.empty() && (at = err.find(own_dir)) != std::string::npos;) {
      err.erase(at, own_dir.size());
    }
    for (const std::string& v : kPersonalValues) {
      EXPECT_EQ(err.find(v), std::string::npos)
          << "'" << v << "' on stderr of " << Shown(args) << "\n"
          << r.Describe();
    }
  }

  // init + tenant create interjet.
  void InitWithTenant() {
    Ok({"init"});
    Ok({"tenant", "create", "interjet", "--policy", kPolicy});
  }

  std::string AddAsha() {
    std::string out =
        Ok(Cat({"subject", "add", "interjet", "--external-id", "CUST-17"}, kAshaFields));
    EXPECT_FALSE(out.empty());
    std::string id = out.empty() ? "" : out.substr(0, out.size() - 1);
    EXPECT_TRUE(LooksLikeSubjectId(id)) << out;
    EXPECT_EQ(out, id + "\n");
    return id;
  }

  int64_t AuditRows() { return std::stoll(Db(Store()).Query("SELECT count(*) FROM audit")); }

  fs::path Store() const { return data_ / "custodian.db"; }
  fs::path Key() const { return data_ / "master.key"; }

  TempDir dir_;
  fs::path data_;
};

// The text `subject show` and `lookup` print for Asha while active.
std::string AshaText(const std::string& id, const std::string& state = "active") {
  return "subject " + id + " (" + state + ")\n" +
         "  Name [user.name]: Asha Rao\n"
         "  Phone number [user.contact.phone_number]: +918870100100\n"
         "  Email address [user.contact.email]: asha@example.in\n";
}

// Checks the JSON view of Asha.
void ExpectAshaJson(const json& v, const std::string& id, const json& closed) {
  EXPECT_EQ(v["id"], id);
  EXPECT_EQ(v["state"], closed.is_null() ? "active" : "closed");
  ASSERT_TRUE(v["created"].is_string());
  std::string created = v["created"];
  EXPECT_EQ(created.size(), 20u) << created;
  EXPECT_EQ(created.back(), 'Z') << created;
  EXPECT_EQ(v["closed"], closed);
  EXPECT_EQ(v["fields"], json({{"user.name", "Asha Rao"},
                               {"user.contact.phone_number", "+918870100100"},
                               {"user.contact.email", "asha@example.in"}}));
  EXPECT_EQ(v["withheld"], json::array());
}

json ParseJson(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << text;
  return j;
}

// --- the path of issue 4, end to end ------------------------------------------

TEST_F(VaultCliTest, IssueFourEndToEnd) {
  const std::string d = data_.string();
  // init: a store and a master key, both owner-only; once.
  EXPECT_EQ(Ok({"init", "--data-dir", d}),
            "initialized " + d + "\n  store:      " + d + "/custodian.db\n  master key: " + d +
                "/master.key (mode 0600; back it up apart from the data: without it nothing can be "
                "decrypted)\n");
  EXPECT_EQ(Mode(data_), 0700u);
  EXPECT_EQ(Mode(Key()), 0600u);
  EXPECT_EQ(Mode(Store()), 0600u);
  EXPECT_EQ(ReadFile(Key()).size(), 45u);  // 32 bytes as base64, and a newline
  std::string key_before = ReadFile(Key());
  Fails({"init", "--data-dir", d}, kError,
        "custodian: data directory " + d + " is already initialized\n");
  EXPECT_EQ(ReadFile(Key()), key_before);

  EXPECT_EQ(Ok({"tenant", "create", "interjet", "--policy", kPolicy}),
            "tenant interjet created with policy examples/policies/interjet.yaml\n");
  Fails({"tenant", "create", "interjet", "--policy", kPolicy}, kError,
        "custodian: tenant 'interjet' already exists\n");

  // add, then the same add again: an upsert that changes nothing.
  const std::string id = AddAsha();
  EXPECT_EQ(Ok(Cat({"subject", "add", "interjet", "--external-id", "CUST-17"}, kAshaFields)),
            id + " updated: 0 field(s) changed, 3 unchanged\n");

  // show, for a purpose the role may use: values normalized, nothing withheld.
  const std::vector<std::string> agent_service = {"--purpose", "essential.service", "--role",
                                                  "agent"};
  EXPECT_EQ(Ok(Cat({"subject", "show", "interjet", id}, agent_service)), AshaText(id));
  ExpectAshaJson(ParseJson(Ok(Cat({"subject", "show", "interjet", id, "--json"}, agent_service))),
                 id, nullptr);

  // A purpose that may not use phone and email shows them as withheld, by key.
  EXPECT_EQ(Ok({"subject", "show", "interjet", id, "--purpose", "essential.service.operations.kyc",
                "--role", "admin"}),
            "subject " + id +
                " (active)\n"
                "  Name [user.name]: Asha Rao\n"
                "  withheld for this purpose: user.contact.phone_number user.contact.email\n");

  // lookup by the phone in other spellings, by email, by category.
  for (const std::vector<std::string>& query : std::vector<std::vector<std::string>>{
           {"--phone", "+91 88701-00100"},
           {"--phone", "918870100100"},
           {"--email", "ASHA@example.in"},
           {"--category", "user.contact.phone_number", "--value", "088701 00100"}}) {
    EXPECT_EQ(Ok(Cat(Cat({"lookup", "interjet"}, query), agent_service)), AshaText(id))
        << Shown(query);
  }
  json matches = ParseJson(
      Ok(Cat({"lookup", "interjet", "--phone", "918870100100", "--json"}, agent_service)));
  ASSERT_EQ(matches["matches"].size(), 1u) << matches.dump();
  ExpectAshaJson(matches["matches"][0], id, nullptr);

  // A role the purpose does not allow: refused, with the rule.
  Fails({"lookup", "interjet", "--phone", "+91 88701-00100", "--purpose",
         "essential.legal_obligation", "--role", "agent"},
        kError,
        "custodian: role 'agent' may not use purpose 'essential.legal_obligation' (allowed roles: "
        "admin, auditor)\n");

  // close, then show says since when.
  EXPECT_EQ(Ok({"subject", "close", "interjet", id, "--at", "2026-01-31"}), id + " closed\n");
  EXPECT_EQ(Ok(Cat({"subject", "show", "interjet", id}, agent_service)),
            AshaText(id, "closed since 2026-01-31T00:00:00Z"));
  ExpectAshaJson(ParseJson(Ok(Cat({"subject", "show", "interjet", id, "--json"}, agent_service))),
                 id, "2026-01-31T00:00:00Z");
  Fails({"subject", "close", "interjet", id}, kError,
        "custodian: subject '" + id + "' is already closed\n");

  // erase: lookup finds nothing, show and erase say it is gone.
  EXPECT_EQ(Ok({"erase", "interjet", id}),
            id + " erased: its key is destroyed and its values can no longer be decrypted\n");
  EXPECT_EQ(Ok(Cat({"lookup", "interjet", "--phone", "+91 88701-00100"}, agent_service)),
            "no match\n");
  EXPECT_EQ(ParseJson(Ok(
                Cat({"lookup", "interjet", "--phone", "918870100100", "--json"}, agent_service))),
            json({{"matches", json::array()}}));
  Fails(Cat({"subject", "show", "interjet", id}, agent_service), kError,
        "custodian: subject '" + id + "' has been erased\n");
  Fails({"erase", "interjet", id}, kError, "custodian: subject '" + id + "' is already erased\n");

  // The trail: every operation above on personal data, refusals and misses
  // included (the failed close and erase changed nothing and are not events).
  Db db(Store());
  std::vector<std::string> trail;
  std::string all_events;
  for (const std::string& e : db.Column("SELECT event FROM audit ORDER BY seq")) {
    json event = ParseJson(e);
    trail.push_back(event["action"].get<std::string>() + " " + event["outcome"].get<std::string>());
    all_events += e + "\n";
  }
  EXPECT_THAT(trail, testing::ElementsAre("tenant.create ok", "subject.add ok",
                                          "subject.update unchanged", "subject.show ok",
                                          "subject.show ok", "subject.show ok",  // text, json, kyc
                                          "lookup hit", "lookup hit", "lookup hit", "lookup hit",
                                          "lookup hit", "lookup refused", "subject.close ok",
                                          "subject.show ok", "subject.show ok", "erase ok",
                                          "lookup miss", "lookup miss", "subject.show not_found"));
  const int64_t kEvents = 19;
  EXPECT_EQ(AuditRows(), kEvents);
  std::string verified = Ok({"audit", "verify"});
  const std::string prefix = "audit chain ok: " + std::to_string(kEvents) + " events, head ";
  ASSERT_THAT(verified, StartsWith(prefix));
  EXPECT_TRUE(IsHex64(verified.substr(prefix.size(), 64))) << verified;
  EXPECT_EQ(verified.size(), prefix.size() + 65) << verified;
  json report = ParseJson(Ok({"audit", "verify", "--json"}));
  EXPECT_EQ(report["ok"], true);
  EXPECT_EQ(report["events"], kEvents);
  EXPECT_TRUE(report["first_bad_event"].is_null());
  EXPECT_EQ(report["problem"], "");
  EXPECT_EQ("audit chain ok: " + std::to_string(kEvents) + " events, head " +
                report["head"].get<std::string>() + "\n",
            verified);

  // No value in the audit trail, and none in clear anywhere in the files.
  for (const auto& entry : fs::directory_iterator(data_)) {
    std::string bytes = ReadFile(entry.path());
    for (const std::string& v :
         {std::string("Asha"), std::string("8870100100"), std::string("asha@example.in")}) {
      EXPECT_EQ(bytes.find(v), std::string::npos) << v << " in " << entry.path();
      EXPECT_EQ(all_events.find(v), std::string::npos) << v << " in the audit trail";
    }
  }
}

TEST_F(VaultCliTest, DataDirOptionOverridesTheEnvironment) {
  fs::path other = dir_.path() / "other";
  Ok({"init", "--data-dir", other.string()});
  EXPECT_TRUE(fs::exists(other / "custodian.db"));
  EXPECT_FALSE(fs::exists(data_));
  Ok({"tenant", "create", "interjet", "--policy", kPolicy, "--data-dir", other.string()});
  Fails({"tenant", "create", "interjet", "--policy", kPolicy}, kError,
        "custodian: no custodian data directory at " + data_.string() +
            "; create one with `custodian init --data-dir " + data_.string() + "`\n");
}

TEST_F(VaultCliTest, MasterKeyFromTheEnvironment) {
  const std::string key = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";  // 32 bytes
  RunResult init = Cli({"init"}, {{"CUSTODIAN_MASTER_KEY", key}});
  ASSERT_EQ(init.exit_code, kOk) << init.Describe();
  EXPECT_THAT(init.out, HasSubstr("  master key: from CUSTODIAN_MASTER_KEY\n"));
  EXPECT_FALSE(fs::exists(Key()));
  RunResult tenant =
      Cli({"tenant", "create", "interjet", "--policy", kPolicy}, {{"CUSTODIAN_MASTER_KEY", key}});
  ASSERT_EQ(tenant.exit_code, kOk) << tenant.Describe();
  RunResult add =
      Cli(Cat({"subject", "add", "interjet"}, kAshaFields), {{"CUSTODIAN_MASTER_KEY", key}});
  ASSERT_EQ(add.exit_code, kOk) << add.Describe();

  // Without the variable there is no key to be had.
  Fails({"audit", "verify"}, kError,
        "custodian: master key file " + Key().string() + " does not exist\n");
  // Another valid key is refused when the vault opens.
  const std::string other = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
  RunResult wrong = Cli({"lookup", "interjet", "--phone", "8870100100", "--purpose",
                         "essential.service", "--role", "agent"},
                        {{"CUSTODIAN_MASTER_KEY", other}});
  EXPECT_EQ(wrong.exit_code, kError) << wrong.Describe();
  EXPECT_EQ(wrong.out, "");
  EXPECT_EQ(wrong.err, "custodian: the master key does not open this data directory (" +
                           Key().parent_path().string() +
                           "): check CUSTODIAN_MASTER_KEY, which overrides master.key when set\n");
}

TEST_F(VaultCliTest, AddAsJsonAndALookupWithManyMatches) {
  InitWithTenant();
  json first = ParseJson(Ok(Cat({"subject", "add", "interjet", "--json"}, kAshaFields)));
  ASSERT_TRUE(first["subject"].is_string());
  const std::string a = first["subject"];
  EXPECT_TRUE(LooksLikeSubjectId(a)) << a;
  EXPECT_EQ(
      first,
      json({{"subject", a}, {"created", true}, {"fields_changed", 3}, {"fields_unchanged", 0}}));
  // Someone else on the same family phone.
  json second =
      ParseJson(Ok({"subject", "add", "interjet", "--json", "--field", "user.name=Ravi Rao",
                    "--field", "user.contact.phone_number=+91 88701 00100"}));
  const std::string b = second["subject"];
  ASSERT_NE(a, b);
  json matches = ParseJson(Ok({"lookup", "interjet", "--phone", "8870100100", "--purpose",
                               "essential.service", "--role", "agent", "--json"}));
  ASSERT_EQ(matches["matches"].size(), 2u) << matches.dump();
  std::vector<std::string> ids = {matches["matches"][0]["id"], matches["matches"][1]["id"]};
  EXPECT_THAT(ids, testing::UnorderedElementsAre(a, b));
  std::string text = Ok({"lookup", "interjet", "--phone", "8870100100", "--purpose",
                         "essential.service", "--role", "agent"});
  EXPECT_THAT(text, HasSubstr(AshaText(a)));
  EXPECT_THAT(text, HasSubstr("subject " + b +
                              " (active)\n"
                              "  Name [user.name]: Ravi Rao\n"
                              "  Phone number [user.contact.phone_number]: +918870100100\n"));
  // By email only Asha.
  EXPECT_EQ(Ok({"lookup", "interjet", "--email", "asha@example.in", "--purpose",
                "essential.service", "--role", "agent"}),
            AshaText(a));
}

// --- the audit trail, tampered with -------------------------------------------

class AuditTamperTest : public VaultCliTest {
 protected:
  void SetUp() override {
    VaultCliTest::SetUp();
    InitWithTenant();
    id_ = AddAsha();
    Ok({"subject", "show", "interjet", id_, "--purpose", "essential.service", "--role", "agent"});
    Ok({"lookup", "interjet", "--phone", "918870100100", "--purpose", "essential.service", "--role",
        "agent"});
    Ok({"subject", "close", "interjet", id_});
    events_ = AuditRows();
    ASSERT_EQ(events_, 5);
    ASSERT_EQ(VerifyJson()["ok"], true);
  }

  json VerifyJson() {
    RunResult r = Cli({"audit", "verify", "--json"});
    EXPECT_EQ(r.err, "") << r.Describe();
    json j = ParseJson(r.out);
    EXPECT_EQ(r.exit_code, j["ok"] == true ? kOk : kError) << r.Describe();
    return j;
  }

  // Runs `audit verify` and expects it to name event `seq` in text and JSON.
  void ExpectBrokenAt(int64_t seq, const std::string& problem) {
    RunResult r = Cli({"audit", "verify"});
    EXPECT_EQ(r.exit_code, kError) << r.Describe();
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(r.out, "audit chain BROKEN: " + problem + " (" + std::to_string(seq - 1) +
                         " events before it verified)\n");
    json j = VerifyJson();
    EXPECT_EQ(j["ok"], false);
    EXPECT_EQ(j["first_bad_event"], seq);
    EXPECT_EQ(j["events"], seq - 1);
    EXPECT_EQ(j["problem"], problem);
  }

  static std::string Modified(int64_t seq) {
    return "event " + std::to_string(seq) +
           ": stored hash does not match its contents or its predecessor (the event or the chain "
           "was modified)";
  }

  std::string id_;
  int64_t events_ = 0;
};

TEST_F(AuditTamperTest, OneFlippedByteInAnEventIsNamed) {
  for (int64_t seq = 1; seq <= events_; ++seq) {
    const std::string original = Db(Store()).Query("SELECT event FROM audit WHERE seq = ?1", seq);
    ASSERT_GT(original.size(), 10u);
    for (std::size_t at :
         {std::size_t{0}, original.size() / 3, original.size() / 2, original.size() - 1}) {
      SCOPED_TRACE("event " + std::to_string(seq) + ", byte " + std::to_string(at));
      std::string tampered = original;
      tampered[at] = static_cast<char>(tampered[at] ^ 0x01);  // ASCII stays ASCII
      Db(Store()).Update("UPDATE audit SET event = ?1 WHERE seq = ?2", tampered, seq);
      ExpectBrokenAt(seq, Modified(seq));
      Db(Store()).Update("UPDATE audit SET event = ?1 WHERE seq = ?2", original, seq);
      ASSERT_EQ(VerifyJson()["ok"], true);
    }
  }
}

TEST_F(AuditTamperTest, OneFlippedByteInAStoredHashIsNamed) {
  const int64_t seq = 3;
  const std::string original = Db(Store()).Query("SELECT hash FROM audit WHERE seq = ?1", seq);
  ASSERT_EQ(original.size(), 32u);
  std::string tampered = original;
  tampered[17] = static_cast<char>(tampered[17] ^ 0x80);
  Db(Store()).Update("UPDATE audit SET hash = ?1 WHERE seq = ?2", tampered, seq, /*blob=*/true);
  ExpectBrokenAt(seq, Modified(seq));
}

TEST_F(AuditTamperTest, AnEventRemovedFromTheMiddleIsNamed) {
  Db(Store()).Update("DELETE FROM audit WHERE seq = ?2 AND ?1 = ''", "", 2);
  ExpectBrokenAt(2, "event 2 is missing (the next stored event is 3)");
}

TEST_F(AuditTamperTest, AnEventRewrittenWithAValidLookingOutcomeIsNamed) {
  const int64_t seq = 2;  // subject.add
  std::string event = Db(Store()).Query("SELECT event FROM audit WHERE seq = ?1", seq);
  std::size_t at = event.find("\"outcome\":\"ok\"");
  ASSERT_NE(at, std::string::npos) << event;
  event.replace(at, 14, "\"outcome\":\"no\"");
  Db(Store()).Update("UPDATE audit SET event = ?1 WHERE seq = ?2", event, seq);
  ExpectBrokenAt(seq, Modified(seq));
}

// --- bad input at the command line --------------------------------------------

TEST_F(VaultCliTest, FieldWithoutEqualsIsAUsageErrorAndChangesNothing) {
  InitWithTenant();
  const int64_t before = AuditRows();
  const std::string expected =
      "custodian: --field expects CATEGORY=VALUE (e.g. user.name=\"Full Name\"), got an argument "
      "without '='\n";
  Fails({"subject", "add", "interjet", "--field", "user.name"}, kUsage, expected);
  Fails({"subject", "add", "interjet", "--field", "user.name Asha Rao"}, kUsage, expected);
  Fails({"subject", "add", "interjet", "--field", "=Asha Rao"}, kUsage, expected);
  Fails({"subject", "add", "interjet", "--field", "user.name=Asha Rao", "--field", "8870100100"},
        kUsage, expected);
  Fails({"subject", "add", "interjet"}, kUsage);
  EXPECT_EQ(AuditRows(), before);
}

TEST_F(VaultCliTest, UnknownTenantIsAnErrorForEveryCommand) {
  InitWithTenant();
  const int64_t before = AuditRows();
  const std::vector<std::string> read = {"--purpose", "essential.service", "--role", "agent"};
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           Cat({"subject", "add", "nosuch"}, kAshaFields),
           Cat({"subject", "add", "nosuch", "--external-id", "CUST-17"}, kAshaFields),
           Cat({"subject", "show", "nosuch", "sub_x"}, read),
           Cat({"lookup", "nosuch", "--phone", "8870100100"}, read),
           {"subject", "close", "nosuch", "sub_x"},
           {"erase", "nosuch", "sub_x"},
       }) {
    Fails(args, kError, kUnknownTenant);
  }
  EXPECT_EQ(AuditRows(), before);
}

TEST_F(VaultCliTest, EraseTakesABatchAllOrNothing) {
  InitWithTenant();
  const std::string a = AddAsha();
  const std::string b = Ok({"subject", "add", "interjet", "--field", "user.name=Ravi"});
  const std::string b_id = b.substr(0, b.find('\n'));
  Fails({"erase", "interjet", a, "sub_nosuch"}, kError,
        "custodian: subject 'sub_nosuch' does not exist in tenant 'interjet'\n");
  Fails({"erase", "interjet"}, 2, "custodian: name the subjects to erase, or give --ids-file\n");
  const std::string ids = (dir_.path() / "ids.txt").string();
  testing_util::WriteFile(ids, a + "\r\n" + b_id + "\n\n");
  EXPECT_EQ(Ok({"erase", "interjet", "--ids-file", ids}),
            "2 subject(s) erased, 0 already erased: their keys are destroyed\n");
  EXPECT_EQ(Ok({"erase", "interjet", a, b_id}),
            "0 subject(s) erased, 2 already erased: their keys are destroyed\n");
}

TEST_F(VaultCliTest, UnknownSubjectIsAnError) {
  InitWithTenant();
  const std::string missing = "custodian: subject 'sub_x' does not exist in tenant 'interjet'\n";
  Fails(
      {"subject", "show", "interjet", "sub_x", "--purpose", "essential.service", "--role", "agent"},
      kError, missing);
  Fails({"subject", "close", "interjet", "sub_x"}, kError, missing);
  Fails({"erase", "interjet", "sub_x"}, kError, missing);
}

TEST_F(VaultCliTest, BadTenantIdAndBadPolicy) {
  Ok({"init"});
  Fails({"tenant", "create", "Inter Jet", "--policy", kPolicy}, kError,
        "custodian: tenant id 'Inter Jet' is not valid: use 1-63 lower-case letters, digits or "
        "'-', starting with a letter\n");
  fs::path broken = dir_.path() / "broken.yaml";
  testing_util::WriteFile(broken, "version: \"1\"\nnonsense: true\n");
  RunResult r = Cli({"tenant", "create", "acme", "--policy", broken.string()});
  EXPECT_EQ(r.exit_code, kError) << r.Describe();
  EXPECT_THAT(r.err, StartsWith("custodian: the policy has "));
  EXPECT_THAT(r.err, HasSubstr("\n  " + broken.string() + ":2:1: error: unknown key 'nonsense'"));
  Fails({"tenant", "create", "acme", "--policy", "no-such.yaml"}, kUsage);
  Fails({"subject", "add", "acme", "--field", "user.name=Asha Rao"}, kError,
        "custodian: tenant 'acme' does not exist; create it with `custodian tenant create`\n");
}

TEST_F(VaultCliTest, BadCloseTimeIsAUsageError) {
  InitWithTenant();
  const std::string id = AddAsha();
  const std::string shape =
      "custodian: --at: expected a date YYYY-MM-DD or an RFC 3339 time such as "
      "2025-03-01T10:20:30Z\n";
  for (const auto& [at, err] : std::vector<std::pair<std::string, std::string>>{
           {"yesterday", shape},
           {"31-01-2026", shape},
           {"2026-01-3x", shape},
           {"2026-1-31x", shape},
           {" 2026-1-31", shape},
           {"2026-01-31T-1:00:00Z", shape},
           {"2026-01-31T10:00:00", shape},
           {"2026-01-31T10:00:00+5:30", shape},
           {"2026-13-01", "custodian: --at: the date or time is out of range\n"},
           {"2026-01-31T24:00:00Z", "custodian: --at: the date or time is out of range\n"},
           {"2026-02-30", "custodian: --at: no such day in the calendar\n"},
       }) {
    Fails({"subject", "close", "interjet", id, "--at", at}, kUsage, err);
  }
  // Nothing was closed along the way.
  EXPECT_EQ(
      Ok({"subject", "show", "interjet", id, "--purpose", "essential.service", "--role", "agent"}),
      AshaText(id));
  EXPECT_EQ(Ok({"subject", "close", "interjet", id, "--at", "2026-01-31T10:20:30Z"}),
            id + " closed\n");
  EXPECT_EQ(
      Ok({"subject", "show", "interjet", id, "--purpose", "essential.service", "--role", "agent"}),
      AshaText(id, "closed since 2026-01-31T10:20:30Z"));
}

TEST_F(VaultCliTest, KeyFileReadableByOthersStopsEveryCommand) {
  InitWithTenant();
  const std::string id = AddAsha();
  const std::string hint = "custodian: master key file " + Key().string() +
                           " has mode 0644; it must be 0600 or stricter: chmod 600 " +
                           Key().string() + "\n";
  const std::vector<std::string> read = {"--purpose", "essential.service", "--role", "agent"};
  const std::vector<std::vector<std::string>> commands = {
      {"tenant", "create", "other", "--policy", kPolicy},
      Cat({"subject", "add", "interjet", "--external-id", "CUST-17"}, kAshaFields),
      Cat({"subject", "show", "interjet", id}, read),
      Cat({"lookup", "interjet", "--phone", "+91 88701-00100"}, read),
      {"subject", "close", "interjet", id},
      {"erase", "interjet", id},
      {"audit", "verify"},
      {"audit", "verify", "--json"},
  };
  const int64_t before = AuditRows();
  ASSERT_EQ(::chmod(Key().c_str(), 0644), 0);
  for (const auto& args : commands) Fails(args, kError, hint);
  ASSERT_EQ(::chmod(Key().c_str(), 0640), 0);
  Fails({"audit", "verify"}, kError,
        "custodian: master key file " + Key().string() +
            " has mode 0640; it must be 0600 or stricter: chmod 600 " + Key().string() + "\n");
  EXPECT_EQ(AuditRows(), before);

  // Owner-only again (read-only is stricter still): everything works.
  ASSERT_EQ(::chmod(Key().c_str(), 0400), 0);
  EXPECT_EQ(Ok(Cat({"subject", "show", "interjet", id}, read)), AshaText(id));
  ASSERT_EQ(::chmod(Key().c_str(), 0600), 0);
  EXPECT_THAT(Ok({"audit", "verify"}), StartsWith("audit chain ok: "));
}

TEST_F(VaultCliTest, MasterKeyOfTheWrongLengthStopsEveryCommand) {
  InitWithTenant();
  const std::string id = AddAsha();
  const int64_t before = AuditRows();
  const std::vector<std::string> read = {"--purpose", "essential.service", "--role", "agent"};
  const std::vector<std::vector<std::string>> commands = {
      {"tenant", "create", "other", "--policy", kPolicy},
      Cat({"subject", "add", "interjet"}, kAshaFields),
      Cat({"subject", "show", "interjet", id}, read),
      Cat({"lookup", "interjet", "--email", "asha@example.in"}, read),
      {"subject", "close", "interjet", id},
      {"erase", "interjet", id},
      {"audit", "verify"},
  };
  for (const auto& [value, err] : std::vector<std::pair<std::string, std::string>>{
           {"AAAAAAAAAAAAAAAAAAAAAA==",  // 16 bytes
            "custodian: CUSTODIAN_MASTER_KEY: expected 32 bytes as base64 (44 characters), found "
            "16 bytes\n"},
           {"q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJCrze8S",  // 36 bytes
            "custodian: CUSTODIAN_MASTER_KEY: expected 32 bytes as base64 (44 characters), found "
            "36 bytes\n"},
           {"not a key",
            "custodian: CUSTODIAN_MASTER_KEY: expected 32 bytes as base64 (44 characters), found "
            "9 characters that are not valid base64\n"},
       }) {
    for (const auto& args : commands) {
      RunResult r = Cli(args, {{"CUSTODIAN_MASTER_KEY", value}});
      EXPECT_EQ(r.exit_code, kError) << Shown(args) << "\n" << r.Describe();
      EXPECT_EQ(r.out, "") << Shown(args);
      EXPECT_EQ(r.err, err) << Shown(args);
    }
  }
  // init refuses it too, and leaves no store behind.
  fs::path fresh = dir_.path() / "fresh";
  RunResult init = Cli({"init", "--data-dir", fresh.string()},
                       {{"CUSTODIAN_MASTER_KEY", "AAAAAAAAAAAAAAAAAAAAAA=="}});
  EXPECT_EQ(init.exit_code, kError) << init.Describe();
  EXPECT_FALSE(fs::exists(fresh / "custodian.db"));
  EXPECT_FALSE(fs::exists(fresh / "master.key"));
  EXPECT_EQ(AuditRows(), before);
}

// Every failing command, whatever personal data it was given, keeps it off
// stderr (Cli() checks each run against kPersonalValues).
TEST_F(VaultCliTest, NoPersonalValueOnStderrOfAFailingCommand) {
  InitWithTenant();
  const std::string id = AddAsha();
  const std::string big(70 * 1024, 'A');
  const std::vector<std::string> read = {"--purpose", "essential.service", "--role", "agent"};
  struct Case {
    std::vector<std::string> args;
    int code;
  };
  const std::vector<Case> cases = {
      {Cat({"subject", "add", "nosuch"}, kAshaFields), kError},
      {{"subject", "add", "interjet", "--field", "user.nosuch=Asha Rao"}, kError},
      {{"subject", "add", "interjet", "--field", "user.name=Asha Rao", "--field",
        "user.name=Asha Rao"},
       kError},
      {{"subject", "add", "interjet", "--field", "user.contact.phone_number=88701 0010"}, kError},
      {{"subject", "add", "interjet", "--field", "user.contact.phone_number=asha@example.in"},
       kError},
      {{"subject", "add", "interjet", "--field", "user.contact.email=Asha Rao <asha@example.in>"},
       kError},
      {{"subject", "add", "interjet", "--field", "user.contact.email=asha@example"}, kError},
      {{"subject", "add", "interjet", "--field", "user.name=Asha\xFF Rao"}, kError},
      {{"subject", "add", "interjet", "--field", "user.name=Asha Rao " + big}, kError},
      {{"subject", "add", "interjet", "--field", "user.name=", "--field",
        "user.contact.email=asha@example.in"},
       kError},
      {{"subject", "add", "interjet", "--field", "user.name=Asha Rao", "--external-id",
        "Asha Rao " + big},
       kError},
      // An unquoted value leaves words over; they are not echoed.
      {{"subject", "add", "interjet", "--field", "user.name=Asha", "Rao"}, kUsage},
      {{"lookup", "interjet", "8870100100", "--purpose", "essential.service", "--role", "agent"},
       kUsage},
      {{"subject", "show", "interjet", id, "--json=Asha", "--purpose", "essential.service",
        "--role", "agent"},
       kUsage},
      {{"lookup", "interjet", "--phone", "8870100100", "--email", "asha@example.in", "--purpose",
        "essential.service", "--role", "agent"},
       kUsage},
      {{"lookup", "interjet", "--phone", "8870100100", "--phone", "+91 88701-00100", "--purpose",
        "essential.service", "--role", "agent"},
       kUsage},
      {Cat({"lookup", "interjet", "--phone", "88701 0010"}, read), kError},
      {Cat({"lookup", "interjet", "--email", "Asha@Example"}, read), kError},
      {Cat({"lookup", "interjet", "--category", "user.name", "--value", "Asha Rao"}, read), kError},
      {{"lookup", "interjet", "--phone", "8870100100", "--purpose", "essential.legal_obligation",
        "--role", "agent"},
       kError},
      // Without the subject's consent: refused (a lookup would just not find her).
      {{"subject", "show", "interjet", id, "--purpose", "marketing.communications", "--role",
        "marketing"},
       kError},
  };
  for (const Case& c : cases) {
    RunResult r = Cli(c.args);  // checks stderr for personal values
    EXPECT_EQ(r.exit_code, c.code) << Shown(c.args) << "\n" << r.Describe();
    EXPECT_EQ(r.out, "") << Shown(c.args);
    EXPECT_NE(r.err, "") << Shown(c.args);
  }
  // With the key file exposed, too.
  ASSERT_EQ(::chmod(Key().c_str(), 0644), 0);
  Fails(Cat({"subject", "add", "interjet"}, kAshaFields), kError);
  Fails(Cat({"lookup", "interjet", "--phone", "8870100100"}, read), kError);
}

}  // namespace
}  // namespace custodian
