// Micro-benchmarks of the crypto layer: the per-value costs that bound import,
// lookup and read throughput (sealing a field, opening it, unwrapping a subject
// key, the blind-index digest, phone and email normalization).
//
//   cmake --build build --target crypto_bench && build/crypto_bench
#include <benchmark/benchmark.h>
#include <sodium.h>

#include <string>

#include "crypto/aead.h"
#include "crypto/blind_index.h"
#include "crypto/keys.h"
#include "crypto/normalize.h"
#include "crypto/password.h"
#include "crypto/secret.h"

namespace custodian::crypto {
namespace {

const std::string kValue32 = "+918870100100 / asha@example.in.";  // 32 bytes
const std::string kFieldAd = FieldAssociatedData("interjet", "7f3c9a1e-subject", "user.name");

Aead NewAead() { return Aead::Create(SecretBytes::Random(32), 1).value(); }

void BM_AeadSeal32(benchmark::State& state) {
  static const Aead aead = NewAead();
  for (auto _ : state) benchmark::DoNotOptimize(aead.Seal(kValue32, kFieldAd));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AeadSeal32)->ThreadRange(1, 2)->UseRealTime();

void BM_AeadOpen32(benchmark::State& state) {
  static const Aead aead = NewAead();
  const std::string blob = aead.Seal(kValue32, kFieldAd);
  for (auto _ : state) benchmark::DoNotOptimize(aead.Open(blob, kFieldAd));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AeadOpen32)->ThreadRange(1, 2)->UseRealTime();

// What reading a subject's fields costs before the first Open: unwrap the
// subject key with the tenant's wrapping key and build its Aead.
void BM_UnwrapSubjectKeyAndCreateAead(benchmark::State& state) {
  const Aead tenant_kek = NewAead();
  const std::string context = SubjectKeyContext("interjet", "7f3c9a1e-subject");
  const std::string wrapped = WrapKey(tenant_kek, SecretBytes::Random(32), context);
  for (auto _ : state) {
    auto aead = Aead::Create(UnwrapKey(tenant_kek, wrapped, context).value(), 1);
    benchmark::DoNotOptimize(aead);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_UnwrapSubjectKeyAndCreateAead);

// What adding a subject costs before sealing its fields.
void BM_NewSubjectKeyAndWrap(benchmark::State& state) {
  const Aead tenant_kek = NewAead();
  const std::string context = SubjectKeyContext("interjet", "7f3c9a1e-subject");
  for (auto _ : state) {
    SecretBytes key = SecretBytes::Random(32);
    benchmark::DoNotOptimize(WrapKey(tenant_kek, key, context));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NewSubjectKeyAndWrap);

void BM_SecretBytesRandom32(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(SecretBytes::Random(32));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SecretBytesRandom32);

// Why SecretBytes pools small secrets: one guarded allocation per key.
void BM_SodiumMallocFree32(benchmark::State& state) {
  if (sodium_init() < 0) state.SkipWithError("sodium_init failed");
  for (auto _ : state) {
    void* p = sodium_malloc(32);
    benchmark::DoNotOptimize(p);
    sodium_free(p);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SodiumMallocFree32);

void BM_BlindIndexDigest(benchmark::State& state) {
  static const BlindIndex index = BlindIndex::Create(SecretBytes::Random(32)).value();
  for (auto _ : state) {
    benchmark::DoNotOptimize(index.Digest("user.contact.phone_number", "+918870100100"));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BlindIndexDigest)->ThreadRange(1, 2)->UseRealTime();

void BM_DeriveSubkey(benchmark::State& state) {
  const SecretBytes tenant_key = SecretBytes::Random(32);
  for (auto _ : state) benchmark::DoNotOptimize(DeriveSubkey(tenant_key, Subkey::kBlindIndex));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DeriveSubkey);

void BM_NormalizePhone(benchmark::State& state, const char* raw) {
  for (auto _ : state) {
    auto e164 = NormalizePhone(raw, "IN");
    if (!e164.ok()) state.SkipWithError("normalization failed");
    benchmark::DoNotOptimize(e164);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_NormalizePhone, national, "088701 00100")->ThreadRange(1, 2)->UseRealTime();
BENCHMARK_CAPTURE(BM_NormalizePhone, e164, "+918870100100");
BENCHMARK_CAPTURE(BM_NormalizePhone, cc_without_plus, "918870100100");

void BM_NormalizeEmail(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(NormalizeEmail(" Asha.Rao@Example.in "));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NormalizeEmail);

void BM_NormalizeText(benchmark::State& state) {
  // "\xAD" "a": written as one literal, \xADa would be a single (out of range)
  // escape, an invalid UTF-8 byte, and the benchmark would time the error path.
  for (auto _ : state) {
    auto r = NormalizeText("  Jose\xCC\x81 Mar\xC3\xAD" "a  ");
    if (!r.ok()) state.SkipWithError("normalization failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NormalizeText);

// Argon2id, interactive limits: deliberately slow.
void BM_HashPassword(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(HashPassword("correct horse battery staple"));
}
BENCHMARK(BM_HashPassword)->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace
}  // namespace custodian::crypto

BENCHMARK_MAIN();
