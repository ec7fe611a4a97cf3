#include "crypto/keys.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace custodian::crypto {
namespace {

std::string ToBase64(std::string_view bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const uint8_t*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();  // NUL
  return out;
}

std::string ToHex(std::string_view bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const uint8_t*>(bytes.data()),
                 bytes.size());
  out.pop_back();
  return out;
}

// 32 bytes 0x00..0x1f; base64 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".
std::string TestKeyBytes() {
  std::string key;
  for (int i = 0; i < 32; ++i) key.push_back(static_cast<char>(i));
  return key;
}

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "custodian-keys-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::string cmd = "rm -rf '" + dir_ + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }

  std::string Write(const std::string& name, const std::string& content, mode_t mode) {
    std::string path = dir_ + "/" + name;
    {
      std::ofstream out(path, std::ios::binary);
      out << content;
    }
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }

  std::vector<std::string> Entries() {
    std::vector<std::string> names;
    DIR* d = ::opendir(dir_.c_str());
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(d);
    return names;
  }

  std::string dir_;
};

TEST_F(KeyFileTest, LoadsA0600KeyFileWithOrWithoutNewline) {
  const std::string b64 = ToBase64(TestKeyBytes());
  ASSERT_EQ(b64, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
  for (std::string content : {b64, b64 + "\n", b64 + "\r\n"}) {
    std::string path = Write("master.key", content, 0600);
    auto key = LoadMasterKeyFile(path);
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    EXPECT_EQ(key->view(), TestKeyBytes());
  }
  std::string path = Write("readonly.key", b64 + "\n", 0400);
  EXPECT_TRUE(LoadMasterKeyFile(path).ok());
}

TEST_F(KeyFileTest, RefusesModesWiderThan0600WithTheExactMessage) {
  std::string path = Write("master.key", ToBase64(TestKeyBytes()) + "\n", 0644);
  auto key = LoadMasterKeyFile(path);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      key.status().message(),
      "master key file " + path + " has mode 0644; it must be 0600 or stricter: chmod 600 " + path);
  for (mode_t mode : {0640, 0604, 0660, 0700, 0601, 0777}) {
    Write("master.key", ToBase64(TestKeyBytes()), mode);
    auto wider = LoadMasterKeyFile(path);
    EXPECT_EQ(wider.status().code(), StatusCode::kFailedPrecondition) << std::oct << mode;
  }
}

TEST_F(KeyFileTest, RefusesWrongLengthsWithoutPrintingKeyBytes) {
  struct Case {
    std::string content;
    std::string found;
  };
  const std::vector<Case> cases = {
      {ToBase64(std::string(16, 'k')) + "\n", "found 16 bytes"},
      {ToBase64(std::string(33, 'k')), "found 33 bytes"},
      {ToBase64(std::string(31, 'k')), "found 31 bytes"},
      {"", "found 0 bytes"},
      {"\n", "found 0 bytes"},
      {ToBase64(TestKeyBytes()).substr(0, 43), "found 43 characters that are not valid base64"},
      {"not base64 at all, but 44 characters long!!!",
       "found 44 characters that are not valid base64"},
      {ToBase64(TestKeyBytes()) + "\nextra", "found 50 characters that are not valid base64"},
      {std::string(5000, 'A'), "found 5000 bytes"},
  };
  for (const Case& c : cases) {
    std::string path = Write("master.key", c.content, 0600);
    auto key = LoadMasterKeyFile(path);
    ASSERT_FALSE(key.ok()) << c.found;
    EXPECT_EQ(key.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(
        key.status().message(),
        "master key file " + path + ": expected 32 bytes as base64 (44 characters), " + c.found);
    if (c.content.size() > 8) {
      EXPECT_EQ(key.status().message().find(c.content.substr(0, 8)), std::string::npos);
    }
  }
}

TEST_F(KeyFileTest, MissingFileAndDirectory) {
  auto missing = LoadMasterKeyFile(dir_ + "/nope.key");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "master key file " + dir_ + "/nope.key does not exist");
  ASSERT_EQ(::chmod(dir_.c_str(), 0700), 0);
  auto directory = LoadMasterKeyFile(dir_);
  EXPECT_EQ(directory.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(directory.status().message(), "master key file " + dir_ + " is not a regular file");
}

TEST_F(KeyFileTest, AFifoIsRefusedWithoutBlocking) {
  std::string path = dir_ + "/fifo.key";
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  auto key = LoadMasterKeyFile(path);
  EXPECT_EQ(key.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(key.status().message(), "master key file " + path + " is not a regular file");
}

TEST_F(KeyFileTest, CreateMakesA0600FileThatLoads) {
  mode_t old_umask = ::umask(0);  // the mode must not depend on the umask
  std::string path = dir_ + "/master.key";
  Status created = CreateMasterKeyFile(path);
  ::umask(old_umask);
  ASSERT_TRUE(created.ok()) << created.ToString();
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_size, 45);  // 44 base64 characters and a newline
  auto key = LoadMasterKeyFile(path);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->size(), 32u);
  EXPECT_EQ(Entries(), std::vector<std::string>{"master.key"});  // no temporary left behind

  // A second key file holds another key.
  ASSERT_TRUE(CreateMasterKeyFile(dir_ + "/second.key").ok());
  EXPECT_FALSE(key->ConstantTimeEquals(LoadMasterKeyFile(dir_ + "/second.key").value()));
}

TEST_F(KeyFileTest, CreateRefusesToOverwrite) {
  std::string path = Write("master.key", "keep me\n", 0600);
  Status created = CreateMasterKeyFile(path);
  EXPECT_EQ(created.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(created.message(),
            "master key file " + path + " already exists; refusing to overwrite it");
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  EXPECT_EQ(content.str(), "keep me\n");
  EXPECT_EQ(Entries(), std::vector<std::string>{"master.key"});
}

TEST_F(KeyFileTest, CreateInAMissingDirectoryFails) {
  Status created = CreateMasterKeyFile(dir_ + "/missing/master.key");
  EXPECT_EQ(created.code(), StatusCode::kFailedPrecondition);
}

class EnvKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* old = std::getenv(kMasterKeyEnvVar);
    if (old != nullptr) saved_ = old;
    had_ = old != nullptr;
  }
  void TearDown() override {
    if (had_) {
      ::setenv(kMasterKeyEnvVar, saved_.c_str(), 1);
    } else {
      ::unsetenv(kMasterKeyEnvVar);
    }
  }
  bool had_ = false;
  std::string saved_;
};

TEST_F(EnvKeyTest, UnsetOrEmptyIsNotFound) {
  ::unsetenv(kMasterKeyEnvVar);
  auto key = MasterKeyFromEnv();
  EXPECT_EQ(key.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(key.status().message(), "CUSTODIAN_MASTER_KEY is not set");
  ::setenv(kMasterKeyEnvVar, "", 1);
  EXPECT_EQ(MasterKeyFromEnv().status().code(), StatusCode::kNotFound);
}

TEST_F(EnvKeyTest, ReadsTheBase64Key) {
  ::setenv(kMasterKeyEnvVar, (ToBase64(TestKeyBytes()) + "\n").c_str(), 1);
  auto key = MasterKeyFromEnv();
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->view(), TestKeyBytes());
}

TEST_F(EnvKeyTest, RefusesAWrongLength) {
  ::setenv(kMasterKeyEnvVar, ToBase64("0123456789abcdef").c_str(), 1);
  auto key = MasterKeyFromEnv();
  EXPECT_EQ(key.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(key.status().message(),
            "CUSTODIAN_MASTER_KEY: expected 32 bytes as base64 (44 characters), found 16 bytes");
  // A byte from 0x80 up, which libsodium 1.0.18 alone would read as '/'.
  ::setenv(kMasterKeyEnvVar, ("\xDC" + ToBase64(TestKeyBytes()).substr(1)).c_str(), 1);
  key = MasterKeyFromEnv();
  EXPECT_EQ(key.status().message(),
            "CUSTODIAN_MASTER_KEY: expected 32 bytes as base64 (44 characters), found 44 "
            "characters that are not valid base64");
  ::setenv(kMasterKeyEnvVar, "hunter2-is-not-a-key", 1);
  key = MasterKeyFromEnv();
  EXPECT_EQ(key.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(key.status().message().find("hunter2"), std::string::npos);
}

// --- wrapping and associated data ---------------------------------------------

Aead MakeAead(uint32_t version = 1) {
  return Aead::Create(SecretBytes::Random(32), version).value();
}

TEST(WrapKeyTest, RoundTrips) {
  Aead master = MakeAead();
  SecretBytes tenant_key = SecretBytes::Random(32);
  std::string wrapped = WrapKey(master, tenant_key, TenantKeyContext("interjet"));
  EXPECT_EQ(wrapped.size(), 32 + Aead::kOverhead);
  EXPECT_EQ(wrapped.find(std::string(tenant_key.view())), std::string::npos);
  auto unwrapped = UnwrapKey(master, wrapped, TenantKeyContext("interjet"));
  ASSERT_TRUE(unwrapped.ok()) << unwrapped.status().ToString();
  EXPECT_TRUE(unwrapped->ConstantTimeEquals(tenant_key));
}

TEST(WrapKeyTest, AWrappedKeyCopiedToAnotherContextFails) {
  Aead master = MakeAead();
  Aead tenant_kek = MakeAead();
  SecretBytes subject_key = SecretBytes::Random(32);
  std::string wrapped = WrapKey(tenant_kek, subject_key, SubjectKeyContext("interjet", "s-1"));
  for (const std::string& context :
       {SubjectKeyContext("interjet", "s-2"), SubjectKeyContext("inetbills", "s-1"),
        TenantKeyContext("interjet"), std::string()}) {
    auto unwrapped = UnwrapKey(tenant_kek, wrapped, context);
    ASSERT_FALSE(unwrapped.ok());
    EXPECT_EQ(unwrapped.status().code(), StatusCode::kDataLoss);
  }
  EXPECT_EQ(UnwrapKey(master, wrapped, SubjectKeyContext("interjet", "s-1")).status().code(),
            StatusCode::kDataLoss);
  // A wrapped key is not a field value, and the other way round.
  EXPECT_FALSE(tenant_kek.Open(wrapped, SubjectKeyContext("interjet", "s-1")).ok());
  std::string field = tenant_kek.Seal("value", SubjectKeyContext("interjet", "s-1"));
  EXPECT_FALSE(UnwrapKey(tenant_kek, field, SubjectKeyContext("interjet", "s-1")).ok());
}

TEST(WrapKeyTest, TamperedOrTruncatedWrappedKeysFail) {
  Aead kek = MakeAead();
  std::string wrapped = WrapKey(kek, SecretBytes::Random(32), TenantKeyContext("t"));
  for (size_t size = 0; size < wrapped.size(); ++size) {
    EXPECT_EQ(UnwrapKey(kek, wrapped.substr(0, size), TenantKeyContext("t")).status().code(),
              StatusCode::kDataLoss)
        << size;
  }
  for (size_t i = 0; i < wrapped.size(); ++i) {
    std::string tampered = wrapped;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x40);
    EXPECT_EQ(UnwrapKey(kek, tampered, TenantKeyContext("t")).status().code(),
              StatusCode::kDataLoss)
        << i;
  }
}

TEST(AssociatedDataTest, EncodingIsUnambiguous) {
  EXPECT_NE(FieldAssociatedData("a|b", "c", "f"), FieldAssociatedData("a", "b|c", "f"));
  EXPECT_NE(FieldAssociatedData("ab", "", "f"), FieldAssociatedData("a", "b", "f"));
  EXPECT_NE(FieldAssociatedData("t", "s", "f"), FieldAssociatedData("t", "sf", ""));
  EXPECT_NE(SubjectKeyContext("a|b", "c"), SubjectKeyContext("a", "b|c"));
  EXPECT_NE(TenantKeyContext("t"), SubjectKeyContext("t", ""));
  // The stored format: 4-byte big-endian lengths, a versioned label first.
  EXPECT_EQ(FieldAssociatedData("t", "s", "user.name"), std::string("\0\0\0\x12"
                                                                    "custodian:field:v1"
                                                                    "\0\0\0\x01"
                                                                    "t"
                                                                    "\0\0\0\x01"
                                                                    "s"
                                                                    "\0\0\0\x09"
                                                                    "user.name",
                                                                    4 + 18 + 5 + 5 + 13));
}

TEST(AssociatedDataTest, AFieldCopiedToAnotherRowFails) {
  Aead subject_aead = MakeAead();
  std::string blob =
      subject_aead.Seal("Asha Rao", FieldAssociatedData("interjet", "s-1", "user.name"));
  EXPECT_EQ(subject_aead.Open(blob, FieldAssociatedData("interjet", "s-1", "user.name")).value(),
            "Asha Rao");
  for (const std::string& ad : {FieldAssociatedData("interjet", "s-1", "user.contact.email"),
                                FieldAssociatedData("interjet", "s-2", "user.name"),
                                FieldAssociatedData("inetbills", "s-1", "user.name")}) {
    auto opened = subject_aead.Open(blob, ad);
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss);
  }
}

// --- subkeys ------------------------------------------------------------------

TEST(DeriveSubkeyTest, IsDeterministicAndSeparatesPurposes) {
  SecretBytes tenant_key = SecretBytes::Copy(TestKeyBytes()).value();
  SecretBytes wrap = DeriveSubkey(tenant_key, Subkey::kKeyWrapping).value();
  SecretBytes index = DeriveSubkey(tenant_key, Subkey::kBlindIndex).value();
  SecretBytes audit = DeriveSubkey(tenant_key, Subkey::kAuditHash).value();
  EXPECT_EQ(index.size(), 32u);
  EXPECT_FALSE(wrap.ConstantTimeEquals(index));
  EXPECT_FALSE(index.ConstantTimeEquals(audit));
  EXPECT_FALSE(wrap.ConstantTimeEquals(audit));
  EXPECT_FALSE(index.ConstantTimeEquals(tenant_key));
  EXPECT_TRUE(index.ConstantTimeEquals(DeriveSubkey(tenant_key, Subkey::kBlindIndex).value()));
  SecretBytes other_tenant = SecretBytes::Random(32);
  EXPECT_FALSE(index.ConstantTimeEquals(DeriveSubkey(other_tenant, Subkey::kBlindIndex).value()));
}

TEST(DeriveSubkeyTest, CredentialSubkeysAreSeparateFromTheOthers) {
  SecretBytes tenant_key = SecretBytes::Copy(TestKeyBytes()).value();
  std::vector<SecretBytes> keys;
  for (Subkey s : {Subkey::kKeyWrapping, Subkey::kBlindIndex, Subkey::kAuditHash,
                   Subkey::kCredentialHash, Subkey::kOperatorSeal, Subkey::kLinkToken,
                   Subkey::kChannelSeal}) {
    keys.push_back(DeriveSubkey(tenant_key, s).value());
  }
  for (std::size_t i = 0; i < keys.size(); ++i) {
    EXPECT_FALSE(keys[i].ConstantTimeEquals(tenant_key)) << i;
    for (std::size_t j = i + 1; j < keys.size(); ++j) {
      EXPECT_FALSE(keys[i].ConstantTimeEquals(keys[j])) << i << " " << j;
    }
  }
}

TEST(DeriveSubkeyTest, IsStable) {
  // Pinned: changing a context or id would orphan every stored index digest.
  SecretBytes tenant_key = SecretBytes::Copy(TestKeyBytes()).value();
  EXPECT_EQ(ToHex(DeriveSubkey(tenant_key, Subkey::kKeyWrapping)->view()),
            "baaa5e039af770adf67742e2d86bcd1817ff7322241b5c317fcb71f18262649d");
  EXPECT_EQ(ToHex(DeriveSubkey(tenant_key, Subkey::kBlindIndex)->view()),
            "c2879e38657861a00b684bbe215559d6d940a32fbafbafb9f409cf9d6199b7fd");
  EXPECT_EQ(ToHex(DeriveSubkey(tenant_key, Subkey::kAuditHash)->view()),
            "9e5aaf4c85b0c8a4e6df7f16c817e52e84bc0908bd8eee185d81a3d13e65d1c2");
}

TEST(DeriveSubkeyTest, RefusesAWrongSizedParent) {
  auto subkey = DeriveSubkey(SecretBytes::Random(16), Subkey::kBlindIndex);
  EXPECT_EQ(subkey.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(subkey.status().message(), "a key to derive from must be 32 bytes, got 16");
}

}  // namespace
}  // namespace custodian::crypto
