// Lookups read outside their write transaction (service/lookup.cc): what they
// return is still exactly what their audit events say, never a subject after
// its erasure, and nothing when the events cannot be written.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "service/vault.h"
#include "test_util.h"

namespace custodian::service {

// A lookup's read and its write, apart (Vault::PrepareLookup): the gap in
// which a racing change lands, opened on purpose.
struct LookupTestPeer {
  static Result<Vault::PendingLookup> Read(Vault& v, const Actor& actor, const LookupQuery& q) {
    return v.PrepareLookup(actor, "interjet", {q}, "essential.service");
  }
  // The lookup's write, committed; then what it answers.
  static Result<std::vector<SubjectView>> Write(Vault& v, const Vault::PendingLookup& p) {
    ASSIGN_OR_RETURN(auto tx, v.store().Begin(true));
    RETURN_IF_ERROR(p.write(*tx));
    RETURN_IF_ERROR(tx->Commit());
    return p.views->front();
  }
};

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const Actor kAdmin{"test", "admin"};
const Actor kAgent{"test", "agent"};
const Actor kMarketing{"test", "marketing"};  // may not use essential.service
const LookupQuery kAshaPhone{"phone", "088701 00100"};

class LookupTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    unsetenv("CUSTODIAN_MASTER_KEY");
    dir_ = tmp_.path() / "data";
    ASSERT_TRUE(Vault::Init(dir_.string()).ok());
    VaultOptions o;
    o.data_dir = dir_.string();
    o.group_commit = GetParam();
    auto v = Vault::Open(o);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    vault_ = std::move(v).value();
    std::string policy = testing_util::ReadFile(fs::path(CUSTODIAN_SOURCE_DIR) /
                                                "examples/policies/interjet.yaml");
    ASSERT_TRUE(vault_->CreateTenant(kAdmin, "interjet", policy, "interjet.yaml").ok());
    auto r = vault_->AddSubject(kAdmin, "interjet",
                                {{"user.name", "Asha Rao"},
                                 {"user.contact.phone_number", "088701 00100"}},
                                std::nullopt);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    asha_ = r->subject_id;
  }
  // The audit events, parsed, in chain order.
  std::vector<nlohmann::json> Events() {
    std::vector<nlohmann::json> out;
    EXPECT_TRUE(vault_->store()
                    .ScanAudit(0,
                               [&](const audit::StoredEvent& e) {
                                 out.push_back(nlohmann::json::parse(e.canonical));
                                 return true;
                               })
                    .ok());
    return out;
  }
  testing_util::TempDir tmp_;
  fs::path dir_;
  std::unique_ptr<Vault> vault_;
  std::string asha_;
};

TEST_P(LookupTest, ALookupRacingAnErasureNeverReturnsTheSubjectAfterItsErasure) {
  std::atomic<bool> stop{false};
  std::atomic<int> returned{0}, failed{0};
  std::vector<std::thread> lookups;
  for (int i = 0; i < 4; ++i) {
    lookups.emplace_back([&] {
      while (!stop.load()) {
        auto r = vault_->Lookup(kAgent, "interjet", kAshaPhone, "essential.service");
        if (!r.ok()) {
          ++failed;
          continue;
        }
        returned += static_cast<int>(r->size());
      }
    });
  }
  std::this_thread::sleep_for(30ms);
  ASSERT_TRUE(vault_->EraseSubject(kAdmin, "interjet", asha_).ok());
  std::this_thread::sleep_for(30ms);
  stop = true;
  for (auto& t : lookups) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(returned.load(), 0);
  int hits = 0;
  bool erased = false;
  for (const nlohmann::json& e : Events()) {
    if (e.value("action", "") == "erase") erased = true;
    if (e.value("action", "") == "lookup" && e.value("outcome", "") == "hit") {
      ++hits;
      EXPECT_FALSE(erased) << "a lookup returned the subject after its erasure: " << e.dump();
    }
  }
  EXPECT_TRUE(erased);
  EXPECT_EQ(hits, returned.load());  // one event per subject returned, no more, no fewer
}

// Showing a subject reads and decrypts outside the writer too (Vault::
// ShowSubject): the same guarantee, and a withdrawal of consent racing it.
TEST_P(LookupTest, AShowRacingAnErasureNeverReturnsTheSubjectAfterItsErasure) {
  std::atomic<bool> stop{false};
  std::atomic<int> shown{0}, gone{0}, failed{0};
  std::vector<std::thread> shows;
  for (int i = 0; i < 4; ++i) {
    shows.emplace_back([&] {
      while (!stop.load()) {
        auto r = vault_->ShowSubject(kAgent, "interjet", asha_, "essential.service");
        if (r.ok()) {
          EXPECT_EQ(r->id, asha_);
          ++shown;
        } else if (r.status().code() == StatusCode::kNotFound) {
          ++gone;
        } else {
          ++failed;
        }
      }
    });
  }
  std::this_thread::sleep_for(30ms);
  ASSERT_TRUE(vault_->EraseSubject(kAdmin, "interjet", asha_).ok());
  std::this_thread::sleep_for(30ms);
  stop = true;
  for (auto& t : shows) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(shown.load(), 0);
  EXPECT_GT(gone.load(), 0);
  int ok = 0, not_found = 0;
  bool erased = false;
  for (const nlohmann::json& e : Events()) {
    if (e.value("action", "") == "erase") erased = true;
    if (e.value("action", "") != "subject.show") continue;
    if (e.value("outcome", "") == "ok") {
      ++ok;
      EXPECT_FALSE(erased) << "a show returned the subject after its erasure: " << e.dump();
    } else if (e.value("outcome", "") == "not_found") {
      ++not_found;
      EXPECT_TRUE(erased) << "a show missed a subject before its erasure: " << e.dump();
    }
  }
  EXPECT_EQ(ok, shown.load());  // one event per answer, as answered
  EXPECT_EQ(not_found, gone.load());
}

// The write skips its re-read of what the read found only when the store can
// tell nothing a subject read depends on was written since
// (Transaction::SubjectsUnchangedSince). Each change here lands between the
// read and the write, and each must show in the answer and its event.
TEST_P(LookupTest, AnErasureBetweenALookupsReadAndItsWriteIsNotBypassed) {
  auto pending = LookupTestPeer::Read(*vault_, kAgent, kAshaPhone);
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  ASSERT_EQ(pending->views->front().size(), 1u);
  ASSERT_TRUE(vault_->EraseSubject(kAdmin, "interjet", asha_).ok());
  auto answer = LookupTestPeer::Write(*vault_, *pending);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_TRUE(answer->empty());
  EXPECT_EQ(Events().back().value("outcome", ""), "miss");
}

TEST_P(LookupTest, AnotherProcessesChangeBetweenALookupsReadAndItsWriteIsNotBypassed) {
  auto pending = LookupTestPeer::Read(*vault_, kAgent, kAshaPhone);
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  ASSERT_EQ(pending->views->front().size(), 1u);
  // Another process restricts Asha's processing: a contract purpose may no
  // longer read her.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "custodian.db").c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  const std::string sql = "UPDATE subjects SET restricted = 1 WHERE id = '" + asha_ + "'";
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto answer = LookupTestPeer::Write(*vault_, *pending);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_TRUE(answer->empty());
  nlohmann::json last = Events().back();
  EXPECT_EQ(last.value("outcome", ""), "refused");
  EXPECT_EQ(last.value("subject", ""), asha_);
}

TEST_P(LookupTest, AnAuditedReadBetweenALookupsReadAndItsWriteChangesNothing) {
  // Other lookups and shows only append events: the answer stands as read.
  auto pending = LookupTestPeer::Read(*vault_, kAgent, kAshaPhone);
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  ASSERT_TRUE(vault_->Lookup(kAgent, "interjet", kAshaPhone, "essential.service").ok());
  ASSERT_TRUE(vault_->ShowSubject(kAgent, "interjet", asha_, "essential.service").ok());
  auto answer = LookupTestPeer::Write(*vault_, *pending);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  ASSERT_EQ(answer->size(), 1u);
  EXPECT_EQ(answer->front().id, asha_);
  EXPECT_EQ(Events().back().value("outcome", ""), "hit");
}

TEST_P(LookupTest, ALookupWhoseEventCannotBeWrittenReturnsNothing) {
  testing_util::FailAuditAppends(dir_ / "custodian.db");
  auto r = vault_->Lookup(kAgent, "interjet", kAshaPhone, "essential.service");
  EXPECT_FALSE(r.ok());
  auto many = vault_->LookupMany(kAgent, "interjet", {kAshaPhone, kAshaPhone},
                                 "essential.service");
  EXPECT_FALSE(many.ok());
  // A show decrypts before its write transaction, and still returns nothing.
  EXPECT_FALSE(vault_->ShowSubject(kAgent, "interjet", asha_, "essential.service").ok());
  // Concurrent lookups fail alike, and do not take each other down with them.
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 10; ++j) {
        ok += vault_->Lookup(kAgent, "interjet", kAshaPhone, "essential.service").ok();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 0);
}

// A refusal is audited by the lookup's own write, not by a commit of its own
// before the write: so LookupThen's caller (an HTTP I/O thread) never waits
// for one, and the refusal is answered only once its event is durable.
TEST_P(LookupTest, ARefusalIsAuditedByTheLookupsWrite) {
  const std::size_t before = Events().size();
  auto pending = LookupTestPeer::Read(*vault_, kMarketing, kAshaPhone);
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  EXPECT_EQ(pending->refused.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(Events().size(), before);  // nothing written yet
  auto answer = LookupTestPeer::Write(*vault_, *pending);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_TRUE(answer->empty());
  std::vector<nlohmann::json> events = Events();
  ASSERT_EQ(events.size(), before + 1);
  EXPECT_EQ(events.back().value("outcome", ""), "refused");
  EXPECT_EQ(events.back().value("actor", ""), "test");
  EXPECT_EQ(events.back().value("reason", ""), pending->refused.message());

  std::promise<Result<std::vector<SubjectView>>> answered;
  vault_->LookupThen(kMarketing, "interjet", kAshaPhone, "essential.service",
                     [&](Result<std::vector<SubjectView>> r) { answered.set_value(std::move(r)); });
  auto then = answered.get_future();
  ASSERT_EQ(then.wait_for(20s), std::future_status::ready);
  Result<std::vector<SubjectView>> refused = then.get();
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(refused.status().message(),
            "role 'marketing' may not use purpose 'essential.service' (allowed roles: admin, "
            "agent)");
  events = Events();  // durable by the time it was answered
  ASSERT_EQ(events.size(), before + 2);
  EXPECT_EQ(events.back().value("outcome", ""), "refused");
  EXPECT_EQ(events.back().value("reason", ""), refused.status().message());
}

// A refusal whose event cannot be written answers with the store's error, not
// the refusal: no answer without its audit event.
TEST_P(LookupTest, ARefusalWhoseEventCannotBeWrittenIsAnError) {
  testing_util::FailAuditAppends(dir_ / "custodian.db");
  auto r = vault_->Lookup(kMarketing, "interjet", kAshaPhone, "essential.service");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().code(), StatusCode::kPermissionDenied);
  std::promise<Status> answered;
  vault_->LookupThen(kMarketing, "interjet", kAshaPhone, "essential.service",
                     [&](Result<std::vector<SubjectView>> res) { answered.set_value(res.status()); });
  auto then = answered.get_future();
  ASSERT_EQ(then.wait_for(20s), std::future_status::ready);
  Status st = then.get();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.code(), StatusCode::kPermissionDenied);
}

// A call whose role may look the caller up but may not keep the call record
// (Intnet IQ's `call` kind, with a role only essential.service lists): the
// lookup's events, the record's refusal, and 403, the same through MatchCall
// and through MatchCallThen (which, under group commit, answers from the
// committer: its caller never waits for the commit).
TEST_P(LookupTest, ACallWhoseRecordTheRoleMayNotKeepIsRefusedAfterItsLookup) {
  std::string policy = testing_util::ReadFile(fs::path(CUSTODIAN_SOURCE_DIR) /
                                              "examples/policies/intnet-iq.yaml");
  const std::string agents = "user.device.cookie_id]\n    roles: [admin, agent]";
  ASSERT_NE(policy.find(agents), std::string::npos);
  policy.replace(policy.find(agents), agents.size(),
                 "user.device.cookie_id]\n    roles: [admin, agent, frontdesk]");
  ASSERT_TRUE(vault_->CreateTenant(kAdmin, "intnet", policy, "intnet-iq.yaml").ok());
  auto budi = vault_->AddSubject(kAdmin, "intnet",
                                 {{"user.name", "Budi"},
                                  {"user.contact.phone_number", "+62 812-3456-7890"}},
                                 std::nullopt);
  ASSERT_TRUE(budi.ok()) << budi.status().ToString();
  const Actor desk{"desk", "frontdesk"};
  const CallInput call{"+6281234567890", "+6221555000", "v3:x", 0};
  const std::string refusal =
      "role 'frontdesk' may not write category 'system.operations.call_metadata': no purpose "
      "that uses it lists the role";
  auto check_events = [&](std::size_t before) {
    std::vector<nlohmann::json> events = Events();
    ASSERT_EQ(events.size(), before + 2);
    const nlohmann::json& lookup = events[before];
    EXPECT_EQ(lookup.value("action", ""), "lookup");
    EXPECT_EQ(lookup.value("outcome", ""), "hit");
    EXPECT_EQ(lookup.value("subject", ""), budi->subject_id);
    const nlohmann::json& record = events[before + 1];
    EXPECT_EQ(record.value("action", ""), "record.add");
    EXPECT_EQ(record.value("outcome", ""), "refused");
    EXPECT_EQ(record.value("subject", ""), budi->subject_id);
    EXPECT_EQ(record.value("reason", ""), refusal);
    EXPECT_EQ(record["categories"], nlohmann::json::array({"system.operations.call_metadata"}));
  };

  std::size_t before = Events().size();
  auto sync = vault_->MatchCall(desk, "intnet", call, "essential.service");
  EXPECT_EQ(sync.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(sync.status().message(), refusal);
  check_events(before);

  before = Events().size();
  std::promise<std::pair<Result<CallMatch>, std::thread::id>> answered;
  vault_->MatchCallThen(desk, "intnet", call, "essential.service", [&](Result<CallMatch> r) {
    answered.set_value({std::move(r), std::this_thread::get_id()});
  });
  auto then = answered.get_future();
  ASSERT_EQ(then.wait_for(20s), std::future_status::ready);
  auto [result, thread] = then.get();
  EXPECT_EQ(result.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(result.status().message(), refusal);
  EXPECT_EQ(thread != std::this_thread::get_id(), GetParam());
  check_events(before);

  auto records = vault_->ListRecords(kAdmin, "intnet", budi->subject_id,
                                     "essential.service.call_matching", "call");
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  EXPECT_TRUE(records->records.empty());
  // The agent, whose purposes use call metadata, keeps the call the same way.
  std::promise<Result<CallMatch>> kept;
  vault_->MatchCallThen(kAgent, "intnet", call, "essential.service.call_matching",
                        [&](Result<CallMatch> r) { kept.set_value(std::move(r)); });
  auto kept_future = kept.get_future();
  ASSERT_EQ(kept_future.wait_for(20s), std::future_status::ready);
  Result<CallMatch> match = kept_future.get();
  ASSERT_TRUE(match.ok()) << match.status().ToString();
  ASSERT_TRUE(match->call_record.has_value());
  ASSERT_EQ(match->subjects.size(), 1u);
  EXPECT_EQ(match->subjects[0].id, budi->subject_id);
}

INSTANTIATE_TEST_SUITE_P(CommitModes, LookupTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "Group" : "Single"; });

}  // namespace
}  // namespace custodian::service
