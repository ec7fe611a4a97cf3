#include "http/url.h"

#include <gtest/gtest.h>

#include <string>

namespace custodian::http {
namespace {

TEST(UrlTest, PercentDecodeAcceptsEscapesAndUtf8) {
  struct Case {
    std::string in;
    bool plus_as_space;
    std::string out;
  };
  const Case cases[] = {
      {"", false, ""},
      {"plain", false, "plain"},
      {"a%20b", false, "a b"},
      {"a+b", false, "a+b"},
      {"a+b", true, "a b"},
      {"%2B", true, "+"},
      {"%2f%2F", false, "//"},
      {"%C3%A9t%C3%A9", false, "\xC3\xA9t\xC3\xA9"},
      {"\xC3\xA9", false, "\xC3\xA9"},
      {"%F0%9F%98%80", false, "\xF0\x9F\x98\x80"},
  };
  for (const Case& c : cases) {
    auto r = PercentDecode(c.in, c.plus_as_space);
    ASSERT_TRUE(r.ok()) << c.in << ": " << r.status().ToString();
    EXPECT_EQ(*r, c.out) << c.in;
  }
}

TEST(UrlTest, PercentDecodeRefusesBadEscapesAndBadUtf8) {
  struct Case {
    std::string in;
    std::string message;
  };
  const Case cases[] = {
      {"%", "invalid percent-escape at offset 0"},
      {"ab%4", "invalid percent-escape at offset 2"},
      {"%G1", "invalid percent-escape at offset 0"},
      {"%1G", "invalid percent-escape at offset 0"},
      {"x%%41", "invalid percent-escape at offset 1"},
      {"%00", "percent-escape of a NUL byte at offset 0"},
      {std::string("ab\0c", 4), "a NUL byte at offset 2"},  // raw, as url.h promises
      {"%C3%28", "decoded text is not valid UTF-8"},      // bad continuation
      {"%C0%AF", "decoded text is not valid UTF-8"},      // overlong '/'
      {"%ED%A0%80", "decoded text is not valid UTF-8"},   // surrogate
      {"%F4%90%80%80", "decoded text is not valid UTF-8"},  // above U+10FFFF
      {"%FF", "decoded text is not valid UTF-8"},
      {"%E2%82", "decoded text is not valid UTF-8"},      // truncated
      {"\xC3", "decoded text is not valid UTF-8"},        // raw invalid byte
  };
  for (const Case& c : cases) {
    auto r = PercentDecode(c.in, false);
    ASSERT_FALSE(r.ok()) << c.in;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), c.message) << c.in;
  }
}

TEST(UrlTest, ParseQuery) {
  auto r = ParseQuery("a=1&&b=x%20y+z&flag&a=2&empty=&=v");
  ASSERT_TRUE(r.ok());
  Params want = {{"a", "1"}, {"b", "x y z"}, {"flag", ""}, {"a", "2"}, {"empty", ""}, {"", "v"}};
  EXPECT_EQ(*r, want);
  EXPECT_TRUE(ParseQuery("")->empty());
}

TEST(UrlTest, ParseQueryNamesWhichPartIsBad) {
  auto r = ParseQuery("ok=1&bad=%ZZ");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "query parameter value: invalid percent-escape at offset 0");
  r = ParseQuery("%FF=1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "query parameter name: decoded text is not valid UTF-8");
}

}  // namespace
}  // namespace custodian::http
