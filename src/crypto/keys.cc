#include "crypto/keys.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "common/base64.h"
#include "common/fd.h"
#include "crypto/internal.h"

namespace custodian::crypto {
namespace {

static_assert(kMasterKeySize == crypto_kdf_KEYBYTES);
constexpr size_t kMasterKeyBase64Size = 44;  // 4 * ceil(32 / 3)
// Anything longer than this cannot be a key file; it is not read.
constexpr size_t kMaxKeyTextSize = 1024;

std::string ErrnoText(int err) { return std::strerror(err); }

bool IsTrailingSpace(uint8_t c) { return c == '\n' || c == '\r' || c == ' ' || c == '\t'; }

std::string ExpectedKeyFormat() {
  return "expected " + std::to_string(kMasterKeySize) + " bytes as base64 (" +
         std::to_string(kMasterKeyBase64Size) + " characters), found ";
}

// Decodes the base64 key text at `text` (secure memory or the environment).
// `source` names where it came from in errors ("master key file F").
Result<SecretBytes> ParseMasterKey(const uint8_t* text, size_t size, const std::string& source) {
  while (size > 0 && IsTrailingSpace(text[size - 1])) --size;
  if (size == 0) return Status::InvalidArgument(source + ": " + ExpectedKeyFormat() + "0 bytes");
  // Room for whatever `size` characters decode to, so that a wrong length is
  // reported as such rather than as bad base64.
  SecretBytes decoded = internal::SecretBytesAccess::Allocate(size / 4 * 3 + 3);
  size_t decoded_size = 0;
  if (!IsBase64Text(std::string_view(reinterpret_cast<const char*>(text), size),
                    Base64Alphabet::kStandard) ||
      sodium_base642bin(internal::SecretBytesAccess::MutableData(decoded), decoded.size(),
                        reinterpret_cast<const char*>(text), size, /*ignore=*/nullptr,
                        &decoded_size, /*b64_end=*/nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return Status::InvalidArgument(source + ": " + ExpectedKeyFormat() + std::to_string(size) +
                                   " characters that are not valid base64");
  }
  if (decoded_size != kMasterKeySize) {
    return Status::InvalidArgument(source + ": " + ExpectedKeyFormat() +
                                   std::to_string(decoded_size) + " bytes");
  }
  internal::SecretBytesAccess::Truncate(decoded, kMasterKeySize);
  return decoded;
}

// Closes a file descriptor on scope exit.
std::string DirectoryOf(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// The context strings below and the associated data all start with a distinct
// label, so no two kinds of blob can be confused.
std::string Encode(std::initializer_list<std::string_view> parts) {
  size_t size = 0;
  for (std::string_view part : parts) size += 4 + part.size();
  std::string out;
  out.reserve(size);
  for (std::string_view part : parts) internal::AppendLengthPrefixed(out, part);
  return out;
}

}  // namespace

Result<SecretBytes> LoadMasterKeyFile(const std::string& path) {
  internal::EnsureSodium();
  const std::string source = "master key file " + path;
  // O_NONBLOCK: a FIFO planted at `path` must not hang the open; it is then
  // refused as not a regular file. (No effect on regular files.)
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return Status::NotFound(source + " does not exist");
    return Status::FailedPrecondition("cannot open " + source + ": " + ErrnoText(err));
  }
  UniqueFd closer(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    return Status::FailedPrecondition("cannot stat " + source + ": " + ErrnoText(errno));
  }
  if (!S_ISREG(st.st_mode)) return Status::FailedPrecondition(source + " is not a regular file");
  const unsigned mode = st.st_mode & 07777;
  if ((mode & ~0600u) != 0) {
    char octal[16];
    std::snprintf(octal, sizeof octal, "%04o", mode);
    return Status::FailedPrecondition(source + " has mode " + octal +
                                      "; it must be 0600 or stricter: chmod 600 " + path);
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxKeyTextSize) {
    return Status::InvalidArgument(source + ": " + ExpectedKeyFormat() +
                                   std::to_string(st.st_size) + " bytes");
  }
  // The file's text is key material too: read it into secure memory only.
  SecretBytes text = internal::SecretBytesAccess::Allocate(kMaxKeyTextSize + 1);
  uint8_t* buffer = internal::SecretBytesAccess::MutableData(text);
  size_t size = 0;
  while (size < text.size()) {
    ssize_t n = ::read(fd, buffer + size, text.size() - size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FailedPrecondition("cannot read " + source + ": " + ErrnoText(errno));
    }
    if (n == 0) break;
    size += static_cast<size_t>(n);
  }
  if (size > kMaxKeyTextSize) {  // grew after fstat
    return Status::InvalidArgument(source + ": " + ExpectedKeyFormat() + "more than " +
                                   std::to_string(kMaxKeyTextSize) + " bytes");
  }
  return ParseMasterKey(buffer, size, source);
}

Result<SecretBytes> MasterKeyFromEnv() {
  internal::EnsureSodium();
  const char* value = std::getenv(kMasterKeyEnvVar);
  if (value == nullptr || value[0] == '\0') {
    return Status::NotFound(std::string(kMasterKeyEnvVar) + " is not set");
  }
  return ParseMasterKey(reinterpret_cast<const uint8_t*>(value), std::strlen(value),
                        kMasterKeyEnvVar);
}

Status CreateMasterKeyFile(const std::string& path) {
  internal::EnsureSodium();
  const std::string source = "master key file " + path;
  auto failed = [&](const std::string& what, int err) {
    return Status::FailedPrecondition("cannot create " + source + ": " + what + ": " +
                                      ErrnoText(err));
  };
  struct stat existing;
  if (::lstat(path.c_str(), &existing) == 0) {
    return Status::AlreadyExists(source + " already exists; refusing to overwrite it");
  }

  // mkostemp opens with O_CREAT|O_EXCL and mode 0600.
  std::string temp = path + ".tmp-XXXXXX";
  int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) return failed("create a temporary file", errno);
  Status written = [&]() -> Status {
    UniqueFd closer(fd);
    if (::fchmod(fd, 0600) != 0) return failed("chmod 600", errno);
    SecretBytes key = SecretBytes::Random(kMasterKeySize);
    SecretBytes text = internal::SecretBytesAccess::Allocate(kMasterKeyBase64Size + 1);
    char* b64 = reinterpret_cast<char*>(internal::SecretBytesAccess::MutableData(text));
    sodium_bin2base64(b64, text.size(), key.data(), key.size(), sodium_base64_VARIANT_ORIGINAL);
    b64[kMasterKeyBase64Size] = '\n';  // replaces the terminating NUL
    if (int err = WriteAll(fd, text.view()); err != 0) return failed("write", err);
    if (::fsync(fd) != 0) return failed("fsync", errno);
    return Status::Ok();
  }();
  if (!written.ok()) {
    ::unlink(temp.c_str());
    return written;
  }
  // link() never replaces an existing file, so a concurrent creator wins cleanly.
  if (::link(temp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    if (err == EEXIST) {
      return Status::AlreadyExists(source + " already exists; refusing to overwrite it");
    }
    return failed("link", err);
  }
  ::unlink(temp.c_str());
  int dir = ::open(DirectoryOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return failed("open its directory", errno);
  UniqueFd dir_closer(dir);
  if (::fsync(dir) != 0) return failed("fsync its directory", errno);
  return Status::Ok();
}

std::string WrapKey(const Aead& kek, const SecretBytes& key, std::string_view context) {
  return kek.Seal(key.view(), Encode({"custodian:key-wrap:v1", context}));
}

Result<SecretBytes> UnwrapKey(const Aead& kek, std::string_view wrapped, std::string_view context) {
  // A wrapped key is never empty.
  if (wrapped.size() <= Aead::kOverhead) return internal::IntegrityError();
  SecretBytes key = internal::SecretBytesAccess::Allocate(wrapped.size() - Aead::kOverhead);
  RETURN_IF_ERROR(kek.OpenInto(wrapped, Encode({"custodian:key-wrap:v1", context}),
                               internal::SecretBytesAccess::MutableData(key)));
  return key;
}

std::string TenantKeyContext(std::string_view tenant) { return Encode({"tenant-key", tenant}); }

std::string SubjectKeyContext(std::string_view tenant, std::string_view subject) {
  return Encode({"subject-key", tenant, subject});
}

std::string FieldAssociatedData(std::string_view tenant, std::string_view subject,
                                std::string_view field) {
  return Encode({"custodian:field:v1", tenant, subject, field});
}

Result<SecretBytes> DeriveSubkey(const SecretBytes& parent_key, Subkey purpose) {
  internal::EnsureSodium();
  if (parent_key.size() != crypto_kdf_KEYBYTES) {
    return Status::InvalidArgument("a key to derive from must be 32 bytes, got " +
                                   std::to_string(parent_key.size()));
  }
  // crypto_kdf contexts are exactly 8 characters; subkey id 1 is derivation v1.
  const char* context = nullptr;
  switch (purpose) {
    case Subkey::kKeyWrapping:
      context = "cust-kwr";
      break;
    case Subkey::kBlindIndex:
      context = "cust-bix";
      break;
    case Subkey::kAuditHash:
      context = "cust-aud";
      break;
    case Subkey::kCredentialHash:
      context = "cust-crd";
      break;
    case Subkey::kOperatorSeal:
      context = "cust-ops";
      break;
    case Subkey::kLinkToken:
      context = "cust-lnk";
      break;
    case Subkey::kChannelSeal:
      context = "cust-chn";
      break;
  }
  if (context == nullptr) return Status::InvalidArgument("unknown subkey purpose");
  SecretBytes subkey = internal::SecretBytesAccess::Allocate(32);
  if (crypto_kdf_derive_from_key(internal::SecretBytesAccess::MutableData(subkey), subkey.size(),
                                 /*subkey_id=*/1, context, parent_key.data()) != 0) {
    return Status::Internal("key derivation failed");
  }
  return subkey;
}

}  // namespace custodian::crypto
