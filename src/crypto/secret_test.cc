#include "crypto/secret.h"

#include <gtest/gtest.h>

#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace custodian::crypto {
namespace {

// The type's contract, checked at compile time.
static_assert(!std::is_copy_constructible_v<SecretBytes>);
static_assert(!std::is_copy_assignable_v<SecretBytes>);
static_assert(std::is_nothrow_move_constructible_v<SecretBytes>);
static_assert(!std::is_default_constructible_v<SecretBytes>);
static_assert(!std::is_convertible_v<SecretBytes, std::string>);
static_assert(!std::is_convertible_v<SecretBytes, std::string_view>);
template <typename T>
concept Streamable = requires(std::ostream& os, const T& t) {
  os << t;
};
static_assert(!Streamable<SecretBytes>);

TEST(SecretBytesTest, RandomHasTheRequestedSizeAndDiffers) {
  SecretBytes a = SecretBytes::Random(32);
  SecretBytes b = SecretBytes::Random(32);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a.view().size(), 32u);
  EXPECT_NE(a.data(), nullptr);
  EXPECT_FALSE(a.ConstantTimeEquals(b));
  EXPECT_TRUE(a.ConstantTimeEquals(a));
}

TEST(SecretBytesTest, CopyHoldsTheBytes) {
  auto s = SecretBytes::Copy(std::string_view("k\0ey", 4));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->view(), std::string_view("k\0ey", 4));
}

TEST(SecretBytesTest, CopyRefusesEmpty) {
  auto s = SecretBytes::Copy("");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
}

TEST(SecretBytesTest, LargeSecretsUseTheirOwnRegion) {
  std::string bytes(5000, 'x');
  auto s = SecretBytes::Copy(bytes);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->view(), bytes);
  SecretBytes r = SecretBytes::Random(65);
  EXPECT_EQ(r.size(), 65u);
}

TEST(SecretBytesTest, MoveLeavesTheSourceEmpty) {
  SecretBytes a = SecretBytes::Copy("0123456789abcdef0123456789abcdef").value();
  const uint8_t* where = a.data();
  SecretBytes b = std::move(a);
  EXPECT_EQ(b.data(), where);
  EXPECT_EQ(b.view(), "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move): the contract under test
  EXPECT_EQ(a.data(), nullptr);
  SecretBytes c = SecretBytes::Random(8);
  c = std::move(b);
  EXPECT_EQ(c.view(), "0123456789abcdef0123456789abcdef");
}

TEST(SecretBytesTest, ConstantTimeEqualsComparesContentAndSize) {
  SecretBytes a = SecretBytes::Copy("same-bytes").value();
  SecretBytes b = SecretBytes::Copy("same-bytes").value();
  SecretBytes c = SecretBytes::Copy("same-byteZ").value();
  SecretBytes d = SecretBytes::Copy("same-bytes!").value();
  EXPECT_TRUE(a.ConstantTimeEquals(b));
  EXPECT_FALSE(a.ConstantTimeEquals(c));
  EXPECT_FALSE(a.ConstantTimeEquals(d));
}

TEST(ConstantTimeEqualsTest, Strings) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("token", "token"));
  EXPECT_FALSE(ConstantTimeEquals("token", "tokem"));
  EXPECT_FALSE(ConstantTimeEquals("token", "token2"));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
}

TEST(SecretBytesTest, ManyLiveSecretsKeepTheirOwnBytes) {
  // More than one pool arena (1024 slots each).
  std::vector<SecretBytes> secrets;
  std::vector<std::string> expected;
  std::set<const uint8_t*> addresses;
  for (int i = 0; i < 3000; ++i) {
    std::string bytes = "secret-" + std::to_string(i);
    secrets.push_back(SecretBytes::Copy(bytes).value());
    expected.push_back(bytes);
    addresses.insert(secrets.back().data());
  }
  EXPECT_EQ(addresses.size(), secrets.size());
  for (size_t i = 0; i < secrets.size(); ++i) EXPECT_EQ(secrets[i].view(), expected[i]);
  secrets.erase(secrets.begin(), secrets.begin() + 1500);
  for (int i = 0; i < 1500; ++i) secrets.push_back(SecretBytes::Random(32));
  for (size_t i = 0; i < 1500; ++i) EXPECT_EQ(secrets[i].view(), expected[i + 1500]);
}

TEST(SecretBytesTest, ConcurrentAllocationIsSafe) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < 5000; ++i) {
        std::string bytes = std::to_string(t) + ":" + std::to_string(i);
        SecretBytes s = SecretBytes::Copy(bytes).value();
        ASSERT_EQ(s.view(), bytes);
      }
    });
  }
  for (auto& thread : threads) thread.join();
}

}  // namespace
}  // namespace custodian::crypto
