#include "crypto/aead.h"

#include <sodium.h>

#include <array>
#include <cassert>
#include <cstdlib>
#include <cstring>

#include "crypto/internal.h"

namespace custodian::crypto {
namespace {

static_assert(Aead::kKeySize == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
static_assert(Aead::kNonceSize == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
static_assert(Aead::kTagSize == crypto_aead_xchacha20poly1305_ietf_ABYTES);

constexpr uint8_t kFormatXChaCha20Poly1305 = 0x01;

// The AEAD's associated data: the blob header, then the caller's. Kept on the
// stack for the usual short associated data.
class FullAssociatedData {
 public:
  FullAssociatedData(const uint8_t* header, std::string_view caller) {
    size_ = Aead::kHeaderSize + caller.size();
    uint8_t* dst = inline_.data();
    if (size_ > inline_.size()) {
      heap_.resize(size_);
      dst = reinterpret_cast<uint8_t*>(heap_.data());
    }
    std::memcpy(dst, header, Aead::kHeaderSize);
    if (!caller.empty()) std::memcpy(dst + Aead::kHeaderSize, caller.data(), caller.size());
    data_ = dst;
  }
  FullAssociatedData(const FullAssociatedData&) = delete;
  FullAssociatedData& operator=(const FullAssociatedData&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  std::array<uint8_t, 256> inline_;
  std::string heap_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace

namespace internal {
// One message for every way a blob can fail to open: the reason would tell an
// attacker which byte to change next.
Status IntegrityError() {
  return Status::DataLoss(
      "integrity check failed: the ciphertext cannot be opened with this key and associated data");
}
}  // namespace internal

using internal::IntegrityError;

Result<Aead> Aead::Create(SecretBytes key, uint32_t key_version) {
  internal::EnsureSodium();
  if (key.size() != kKeySize) {
    return Status::InvalidArgument("an XChaCha20-Poly1305 key must be 32 bytes, got " +
                                   std::to_string(key.size()));
  }
  return Aead(std::move(key), key_version);
}

std::string Aead::Seal(std::string_view plaintext, std::string_view associated_data) const {
  std::string blob(kOverhead + plaintext.size(), '\0');
  auto* out = reinterpret_cast<uint8_t*>(blob.data());
  out[0] = kFormatXChaCha20Poly1305;
  internal::StoreBigEndian32(key_version_, out + 1);
  uint8_t* nonce = out + kHeaderSize;
  randombytes_buf(nonce, kNonceSize);
  FullAssociatedData ad(out, associated_data);
  unsigned long long written = 0;
  int rc = crypto_aead_xchacha20poly1305_ietf_encrypt(
      nonce + kNonceSize, &written, reinterpret_cast<const uint8_t*>(plaintext.data()),
      plaintext.size(), ad.data(), ad.size(), nullptr, nonce, key_.data());
  if (rc != 0 || written != plaintext.size() + kTagSize) {
    // Only possible beyond crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX.
    std::abort();
  }
  return blob;
}

Status Aead::OpenInto(std::string_view blob, std::string_view associated_data, uint8_t* out) const {
  if (blob.size() < kOverhead) return IntegrityError();
  const auto* in = reinterpret_cast<const uint8_t*>(blob.data());
  if (in[0] != kFormatXChaCha20Poly1305) return IntegrityError();
  // Checked before decrypting for speed; the header is authenticated as AD anyway.
  if (internal::LoadBigEndian32(in + 1) != key_version_) return IntegrityError();
  const uint8_t* nonce = in + kHeaderSize;
  const uint8_t* ciphertext = nonce + kNonceSize;
  const size_t ciphertext_size = blob.size() - kHeaderSize - kNonceSize;
  FullAssociatedData ad(in, associated_data);
  unsigned long long written = 0;
  // libsodium verifies the tag before writing any plaintext.
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &written, nullptr, ciphertext,
                                                 ciphertext_size, ad.data(), ad.size(), nonce,
                                                 key_.data()) != 0) {
    return IntegrityError();
  }
  assert(written == blob.size() - kOverhead);
  return Status::Ok();
}

Result<std::string> Aead::Open(std::string_view blob, std::string_view associated_data) const {
  if (blob.size() < kOverhead) return IntegrityError();
  std::string plaintext(blob.size() - kOverhead, '\0');
  RETURN_IF_ERROR(OpenInto(blob, associated_data, reinterpret_cast<uint8_t*>(plaintext.data())));
  return plaintext;
}

Result<uint32_t> Aead::KeyVersionOf(std::string_view blob) {
  if (blob.size() < kOverhead) return IntegrityError();
  const auto* in = reinterpret_cast<const uint8_t*>(blob.data());
  if (in[0] != kFormatXChaCha20Poly1305) return IntegrityError();
  return internal::LoadBigEndian32(in + 1);
}

}  // namespace custodian::crypto
