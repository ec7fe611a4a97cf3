// Outbox throughput against a local Telnyx sink, in one run with a baseline:
// queue N SMS messages through the vault (consent-checked, sealed, audited)
// and deliver them with the worker (claim, re-check, read the number from the
// vault, HTTP POST, record the outcome), against the bare cost of the same N
// HTTP POSTs to the same sink with the same transport.
//
//   CUSTODIAN_BENCH_MESSAGES=2000 build-bench/outbox_bench
#include <benchmark/benchmark.h>
#include <sodium.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "outbox/test_sinks.h"
#include "outbox/worker.h"
#include "service/vault.h"

namespace custodian::bench {
namespace {

namespace fs = std::filesystem;
using service::Vault;

const service::Actor kAdmin{"bench", "admin"};
constexpr char kNotices[] = "essential.service.notifications";

std::size_t Messages() {
  const char* v = std::getenv("CUSTODIAN_BENCH_MESSAGES");
  return v ? std::strtoull(v, nullptr, 10) : 1000;
}

void Must(const Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "outbox_bench: %s\n", s.ToString().c_str());
    std::abort();
  }
}

struct Fixture {
  fs::path dir;
  outbox::testing::HttpSink sink{{{200, R"({"data":{"id":"tlx"}})"}}};
  std::unique_ptr<Vault> vault;
  std::vector<std::string> subjects;

  Fixture() {
    dir = fs::temp_directory_path() / ("custodian-outbox-bench-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    unsetenv("CUSTODIAN_MASTER_KEY");
    Must(Vault::Init((dir / "vault").string()));
    service::VaultOptions o;
    o.data_dir = (dir / "vault").string();
    vault = std::move(Vault::Open(o)).value();
    std::ifstream in(std::string(CUSTODIAN_SOURCE_DIR) + "/examples/policies/interjet.yaml");
    std::stringstream policy;
    policy << in.rdbuf();
    Must(vault->CreateTenant(kAdmin, "bench", policy.str(), "interjet.yaml"));
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    char b64[sodium_base64_ENCODED_LEN(sizeof pk, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, pk, sizeof pk, sodium_base64_VARIANT_ORIGINAL);
    nlohmann::json settings = {{"telnyx",
                                {{"public_key", b64},
                                 {"api_key", "KEY"},
                                 {"base_url", sink.url()},
                                 {"from", "+918040001000"}}}};
    Must(vault->SetChannelSettings(kAdmin, "bench", settings.dump()));
    std::vector<service::SubjectInput> batch;
    for (int i = 0; i < 1000; ++i) {
      char phone[32];
      std::snprintf(phone, sizeof phone, "+9198%08d", 10000000 + i);
      batch.push_back({{{"user.name", "Customer"}, {"user.contact.phone_number", phone}},
                       "C" + std::to_string(i)});
    }
    auto added = vault->AddSubjects(kAdmin, "bench", batch);
    Must(added.status());
    for (const auto& r : *added) subjects.push_back(r.subject_id);
  }
  ~Fixture() {
    vault.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

Fixture& Get() {
  static Fixture* f = new Fixture();
  return *f;
}

// Queue N messages, then deliver them all; items = messages delivered.
void BM_OutboxQueueAndDeliver(benchmark::State& state) {
  Fixture& f = Get();
  const std::size_t n = Messages();
  for (auto _ : state) {
    for (std::size_t i = 0; i < n; ++i) {
      Must(f.vault
               ->EnqueueMessage(kAdmin, "bench",
                                {"sms", f.subjects[i % f.subjects.size()], "", kNotices, "",
                                 "Your bill is ready", ""})
               .status());
    }
    auto counts = outbox::DeliverDue(*f.vault, {});
    Must(counts.status());
    if (counts->sent != static_cast<int64_t>(n)) std::abort();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
}
BENCHMARK(BM_OutboxQueueAndDeliver)->Unit(benchmark::kMillisecond)->Iterations(3);

// The baseline: the same N POSTs through the same transport, no outbox.
void BM_BarePosts(benchmark::State& state) {
  Fixture& f = Get();
  const std::size_t n = Messages();
  auto transport = outbox::NewTelnyxTransport({f.sink.url(), "KEY", "+918040001000", ""});
  for (auto _ : state) {
    for (std::size_t i = 0; i < n; ++i) {
      auto r = transport->Send({"msg_bench" + std::to_string(i),
                                outbox::Channel::kSms,
                                "+919810000000",
                                "",
                                "Your bill is ready",
                                {}});
      Must(r.status());
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
}
BENCHMARK(BM_BarePosts)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace custodian::bench

BENCHMARK_MAIN();
