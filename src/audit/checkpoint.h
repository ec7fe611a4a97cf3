// Signed checkpoints of the audit chain, and the verifier that checks events
// and checkpoints together (docs/audit.md).
//
// The chain alone shows that no event was changed unless every later hash was
// recomputed too; a checkpoint closes that gap. It is an Ed25519 signature,
// by the store's audit signing key, over a fixed, domain-separated message:
//
//   "custodian.audit.checkpoint.v1" 0x00 || seq (8 bytes, big-endian)
//     || head hash (32 bytes) || time_ms (8 bytes, big-endian, two's complement)
//
// where head hash is the chain hash of event `seq`. Whoever holds only the
// public key can check that the events up to `seq` are the ones that existed
// when the checkpoint was signed. Pure functions and value types; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "audit/event.h"
#include "custodian/status.h"

namespace custodian::audit {

inline constexpr std::size_t kPublicKeySize = 32;   // Ed25519
inline constexpr std::size_t kSecretKeySize = 64;   // libsodium's seed || public key
inline constexpr std::size_t kSeedSize = 32;
inline constexpr std::size_t kSignatureSize = 64;
inline constexpr char kCheckpointDomain[] = "custodian.audit.checkpoint.v1";

struct Checkpoint {
  int64_t seq = 0;        // the last event it covers
  std::string head_hash;  // raw 32 bytes: the chain hash of event `seq`
  int64_t time_ms = 0;    // when it was signed
  std::string key_id;     // KeyId() of the signing key's public key
  std::string signature;  // raw 64 bytes
};

// The exact bytes a checkpoint's signature covers (layout above).
std::string CheckpointMessage(int64_t seq, std::string_view head_hash, int64_t time_ms);

// A short name for a public key: the first 8 bytes of BLAKE2b-256(key), hex.
std::string KeyId(std::string_view public_key);

// The public key (32 bytes) and secret key (64 bytes, libsodium's layout) of
// a 32-byte seed. The caller keeps the secret key in secure memory.
void KeyPairFromSeed(std::string_view seed, std::string* public_key, unsigned char* secret_key);

// Signs a checkpoint. `secret_key`: 64 bytes from KeyPairFromSeed.
Checkpoint SignCheckpoint(int64_t seq, std::string_view head_hash, int64_t time_ms,
                          std::string_view public_key, const unsigned char* secret_key);

// True iff the signature is `public_key`'s over the checkpoint's message.
bool CheckpointSignatureValid(const Checkpoint& cp, std::string_view public_key);

// Public keys as text: standard base64 with padding (44 characters). Decode
// also takes 64 hex digits; surrounding whitespace is ignored.
// InvalidArgument "not an Ed25519 public key (...)" otherwise.
std::string EncodePublicKey(std::string_view raw);
Result<std::string> DecodePublicKey(std::string_view text);

std::string Base64Encode(std::string_view bytes);
// Standard base64 with padding; nullopt-like error for anything else.
Result<std::string> Base64Decode(std::string_view text);
Result<std::string> HexDecode(std::string_view hex);

// Checks events and checkpoints together, in seq order: each checkpoint is
// added right after the event it covers. A checkpoint must be signed by
// `public_key` and sign the chain hash the events produce at its seq; a
// checkpoint beyond the last event (events removed from the end) fails in
// Finish(). Stops at the first problem, naming the event or the checkpoint.
class TrailVerifier {
 public:
  // `public_key`: raw 32 bytes. Starts after `after_seq` (hash `prev_hash`).
  explicit TrailVerifier(std::string public_key, int64_t after_seq = 0,
                         std::string prev_hash = GenesisHash());
  bool AddEvent(const StoredEvent& event);
  bool AddCheckpoint(const Checkpoint& cp);
  // `pending`: a checkpoint seen (by seq) that no event reached; 0 for none.
  VerifyReport Finish(int64_t pending_checkpoint_seq = 0) const;
  bool ok() const { return chain_.ok() && problem_.empty(); }
  int64_t last_seq() const { return chain_.last_seq(); }

 private:
  bool FailCheckpoint(int64_t seq, std::string problem);
  std::string public_key_;
  std::string key_id_;
  ChainVerifier chain_;
  int64_t checkpoints_ = 0;
  int64_t signed_seq_ = 0;
  int64_t bad_checkpoint_ = 0;
  std::string problem_;
};

}  // namespace custodian::audit
