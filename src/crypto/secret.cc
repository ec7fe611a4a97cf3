#include "crypto/secret.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "crypto/internal.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define CUSTODIAN_POISON(addr, size) ASAN_POISON_MEMORY_REGION(addr, size)
#define CUSTODIAN_UNPOISON(addr, size) ASAN_UNPOISON_MEMORY_REGION(addr, size)
#else
#define CUSTODIAN_POISON(addr, size) ((void)(addr), (void)(size))
#define CUSTODIAN_UNPOISON(addr, size) ((void)(addr), (void)(size))
#endif

namespace custodian::crypto {
namespace {

[[noreturn]] void OutOfSecureMemory() {
  std::fputs("custodian: out of secure memory (sodium_malloc failed)\n", stderr);
  std::abort();
}

// Fixed-size slots carved from sodium_malloc'ed arenas. Arenas are guarded and
// mlock'ed as a whole and are never returned (the pool grows to the peak number
// of live secrets). A released slot is wiped before it is reused; under ASan it
// is also poisoned so that a use after release is reported.
class SecretPool {
 public:
  static constexpr size_t kSlotSize = 64;
  static constexpr size_t kSlotsPerArena = 1024;  // 64 KiB arenas

  static SecretPool& Get() {
    // Leaked on purpose: SecretBytes with static storage may outlive any
    // destructor we could run at exit.
    static SecretPool* const pool = new SecretPool;
    return *pool;
  }

  uint8_t* Allocate() {
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.empty()) Grow();
    uint8_t* slot = free_.back();
    free_.pop_back();
    CUSTODIAN_UNPOISON(slot, kSlotSize);
    return slot;
  }

  void Release(uint8_t* slot) {
    sodium_memzero(slot, kSlotSize);
    CUSTODIAN_POISON(slot, kSlotSize);
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(slot);
  }

 private:
  void Grow() {
    auto* arena = static_cast<uint8_t*>(sodium_malloc(kSlotSize * kSlotsPerArena));
    if (arena == nullptr) OutOfSecureMemory();
    sodium_memzero(arena, kSlotSize * kSlotsPerArena);
    free_.reserve(free_.size() + kSlotsPerArena);
    // Hand out low addresses first (pushed last).
    for (size_t i = kSlotsPerArena; i-- > 0;) {
      uint8_t* slot = arena + i * kSlotSize;
      CUSTODIAN_POISON(slot, kSlotSize);
      free_.push_back(slot);
    }
  }

  std::mutex mu_;
  std::vector<uint8_t*> free_;  // addresses only; never secret
};

}  // namespace

SecretBytes::SecretBytes(size_t size) {
  internal::EnsureSodium();
  if (size == 0) {
    std::fputs("custodian: SecretBytes of size 0 requested\n", stderr);
    std::abort();
  }
  if (size <= SecretPool::kSlotSize) {
    data_ = SecretPool::Get().Allocate();
    capacity_ = SecretPool::kSlotSize;
  } else {
    data_ = static_cast<uint8_t*>(sodium_malloc(size));
    if (data_ == nullptr) OutOfSecureMemory();
    capacity_ = size;
  }
  size_ = size;
}

SecretBytes SecretBytes::Random(size_t size) {
  SecretBytes secret(size);
  randombytes_buf(secret.data_, size);
  return secret;
}

Result<SecretBytes> SecretBytes::Copy(std::string_view bytes) {
  if (bytes.empty()) return Status::InvalidArgument("a secret must not be empty");
  SecretBytes secret(bytes.size());
  std::memcpy(secret.data_, bytes.data(), bytes.size());
  return secret;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(other.data_), size_(other.size_), capacity_(other.capacity_) {
  other.data_ = nullptr;
  other.size_ = 0;
  other.capacity_ = 0;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Release();
    data_ = other.data_;
    size_ = other.size_;
    capacity_ = other.capacity_;
    other.data_ = nullptr;
    other.size_ = 0;
    other.capacity_ = 0;
  }
  return *this;
}

SecretBytes::~SecretBytes() { Release(); }

void SecretBytes::Release() noexcept {
  if (data_ == nullptr) return;
  if (capacity_ == SecretPool::kSlotSize) {
    SecretPool::Get().Release(data_);  // wipes the slot
  } else {
    sodium_free(data_);  // wipes (sodium_munlock zeroes) and unmaps
  }
  data_ = nullptr;
  size_ = 0;
  capacity_ = 0;
}

bool SecretBytes::ConstantTimeEquals(const SecretBytes& other) const {
  return crypto::ConstantTimeEquals(view(), other.view());
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace custodian::crypto
