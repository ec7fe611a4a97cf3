#include "audit/checkpoint.h"

#include <sodium.h>

#include "common/base64.h"

namespace custodian::audit {
namespace {

void EnsureSodium() {
  static const int kInit = sodium_init();
  (void)kInit;
}

void PutBigEndian(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' ||
                        s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

std::string CheckpointMessage(int64_t seq, std::string_view head_hash, int64_t time_ms) {
  std::string m(kCheckpointDomain);
  m.push_back('\0');
  PutBigEndian(m, static_cast<uint64_t>(seq));
  m.append(head_hash);
  PutBigEndian(m, static_cast<uint64_t>(time_ms));
  return m;
}

std::string KeyId(std::string_view public_key) {
  EnsureSodium();
  unsigned char h[32];
  crypto_generichash(h, sizeof h, U(public_key), public_key.size(), nullptr, 0);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(h), 8));
}

void KeyPairFromSeed(std::string_view seed, std::string* public_key, unsigned char* secret_key) {
  EnsureSodium();
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_seed_keypair(pk, secret_key, U(seed));
  public_key->assign(reinterpret_cast<const char*>(pk), sizeof pk);
}

Checkpoint SignCheckpoint(int64_t seq, std::string_view head_hash, int64_t time_ms,
                          std::string_view public_key, const unsigned char* secret_key) {
  EnsureSodium();
  Checkpoint cp;
  cp.seq = seq;
  cp.head_hash = std::string(head_hash);
  cp.time_ms = time_ms;
  cp.key_id = KeyId(public_key);
  std::string m = CheckpointMessage(seq, head_hash, time_ms);
  cp.signature.assign(kSignatureSize, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(cp.signature.data()), nullptr, U(m),
                       m.size(), secret_key);
  return cp;
}

bool CheckpointSignatureValid(const Checkpoint& cp, std::string_view public_key) {
  EnsureSodium();
  if (cp.signature.size() != kSignatureSize || public_key.size() != kPublicKeySize ||
      cp.head_hash.size() != kHashSize) {
    return false;
  }
  std::string m = CheckpointMessage(cp.seq, cp.head_hash, cp.time_ms);
  return crypto_sign_verify_detached(U(cp.signature), U(m), m.size(), U(public_key)) == 0;
}

std::string Base64Encode(std::string_view bytes) {
  EnsureSodium();
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), U(bytes), bytes.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();  // the terminating NUL
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  EnsureSodium();
  std::string out(text.size(), '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (!IsBase64Text(text, Base64Alphabet::kStandard) ||
      sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size()) {
    return Status::InvalidArgument("not valid base64");
  }
  out.resize(len);
  return out;
}

Result<std::string> HexDecode(std::string_view hex) {
  EnsureSodium();
  std::string out(hex.size() / 2, '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (hex.size() % 2 != 0 ||
      sodium_hex2bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), hex.data(),
                     hex.size(), nullptr, &len, &end) != 0 ||
      end != hex.data() + hex.size()) {
    return Status::InvalidArgument("not valid hex");
  }
  out.resize(len);
  return out;
}

std::string EncodePublicKey(std::string_view raw) { return Base64Encode(raw); }

Result<std::string> DecodePublicKey(std::string_view text) {
  text = Trim(text);
  Result<std::string> raw = text.size() == 2 * kPublicKeySize ? HexDecode(text) : Base64Decode(text);
  if (!raw.ok() || raw->size() != kPublicKeySize) {
    return Status::InvalidArgument(
        "not an Ed25519 public key (expected 44 characters of base64 or 64 hex digits, as "
        "`custodian audit public-key` prints)");
  }
  return raw;
}

TrailVerifier::TrailVerifier(std::string public_key, int64_t after_seq, std::string prev_hash)
    : public_key_(std::move(public_key)),
      key_id_(KeyId(public_key_)),
      chain_(after_seq, std::move(prev_hash)) {}

bool TrailVerifier::AddEvent(const StoredEvent& event) {
  if (!ok()) return false;
  return chain_.Add(event);
}

bool TrailVerifier::FailCheckpoint(int64_t seq, std::string problem) {
  bad_checkpoint_ = seq;
  problem_ = "checkpoint at event " + std::to_string(seq) + ": " + std::move(problem);
  return false;
}

bool TrailVerifier::AddCheckpoint(const Checkpoint& cp) {
  if (!ok()) return false;
  if (cp.seq != chain_.last_seq()) {
    return FailCheckpoint(cp.seq, "it is out of place (the events before it end at " +
                                      std::to_string(chain_.last_seq()) + ")");
  }
  if (cp.key_id != key_id_) {
    return FailCheckpoint(cp.seq, "signed by key " + cp.key_id + ", not by the key given (" +
                                      key_id_ + ")");
  }
  if (!CheckpointSignatureValid(cp, public_key_)) {
    return FailCheckpoint(cp.seq, "the signature does not verify with key " + key_id_ +
                                      " (the checkpoint was forged or modified)");
  }
  if (cp.head_hash.size() != kHashSize ||
      sodium_memcmp(cp.head_hash.data(), chain_.head().data(), kHashSize) != 0) {
    std::string range = signed_seq_ > 0 ? "events " + std::to_string(signed_seq_ + 1) + " to " +
                                              std::to_string(cp.seq)
                                        : "events up to " + std::to_string(cp.seq);
    return FailCheckpoint(cp.seq, "the signed head hash differs from the chain's hash there (" +
                                      range + " were changed after they were signed)");
  }
  ++checkpoints_;
  signed_seq_ = cp.seq;
  return true;
}

VerifyReport TrailVerifier::Finish(int64_t pending_checkpoint_seq) const {
  VerifyReport r = chain_.Finish();
  r.checkpoints = checkpoints_;
  r.signed_seq = signed_seq_;
  if (!r.ok) return r;
  if (!problem_.empty()) {
    r.ok = false;
    r.bad_checkpoint_seq = bad_checkpoint_;
    r.problem = problem_;
    return r;
  }
  if (pending_checkpoint_seq > 0) {
    r.ok = false;
    r.bad_checkpoint_seq = pending_checkpoint_seq;
    r.first_bad_seq = chain_.last_seq() + 1;
    r.problem = "checkpoint at event " + std::to_string(pending_checkpoint_seq) +
                ": the events end at " + std::to_string(chain_.last_seq()) +
                " (events signed by it were removed)";
  }
  return r;
}

}  // namespace custodian::audit
