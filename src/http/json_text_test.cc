#include "http/json_text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <string>

namespace custodian::http {
namespace {

using nlohmann::ordered_json;

std::string Literal(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

TEST(JsonTextTest, StringsAreEscapedAndReadBackAsWritten) {
  EXPECT_EQ(Literal(""), R"("")");
  EXPECT_EQ(Literal("plain"), R"("plain")");
  EXPECT_EQ(Literal("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(Literal("l1\nl2\r\t"), R"("l1\nl2\r\t")");
  EXPECT_EQ(Literal(std::string("\x00\x01\x1f\x7f", 4)), R"("\u0000\u0001\u001f\u007f")");
  EXPECT_EQ(Literal("Priya \xC3\xA9 \xF0\x9F\x98\x80"), "\"Priya \xC3\xA9 \xF0\x9F\x98\x80\"");
  // Every byte string of valid UTF-8 reads back unchanged through a real parser.
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string s;
    const int n = static_cast<int>(rng() % 24);
    for (int k = 0; k < n; ++k) {
      switch (rng() % 4) {
        case 0: s += static_cast<char>(rng() % 0x80); break;          // any ASCII, controls too
        case 1: s += "\xC3\xA9"; break;                               // é
        case 2: s += "\xE0\xA4\x85"; break;                           // अ
        default: s += "\"\\/"[rng() % 3]; break;
      }
    }
    EXPECT_EQ(ordered_json::parse(Literal(s)).get<std::string>(), s);
  }
}

TEST(JsonTextTest, WritesTheSameDocumentAsNlohmann) {
  JsonText j;
  j.BeginObject().Key("match").Bool(true).Key("subjects").BeginArray();
  for (int i = 0; i < 2; ++i) {
    j.BeginObject().Key("id").String("s" + std::to_string(i)).Key("closed_at").Null();
    j.Key("fields").BeginArray().EndArray().Key("n").Int(-42).EndObject();
  }
  j.EndArray().Key("empty").BeginObject().EndObject().Key("list").BeginArray();
  j.Int(1).Bool(false).String("x").Null().BeginArray().EndArray().EndArray().EndObject();
  const std::string text = std::move(j).Take();

  ordered_json subject = {{"id", ""}, {"closed_at", nullptr}, {"fields", ordered_json::array()},
                          {"n", -42}};
  ordered_json s0 = subject, s1 = subject;
  s0["id"] = "s0";
  s1["id"] = "s1";
  ordered_json want = {{"match", true},
                       {"subjects", {s0, s1}},
                       {"empty", ordered_json::object()},
                       {"list", {1, false, "x", nullptr, ordered_json::array()}}};
  EXPECT_EQ(text, want.dump());
}

TEST(JsonTextTest, RefusesStringsThatAreNotUtf8) {
  JsonText j;
  j.BeginArray();
  EXPECT_THROW(j.String("\xC3"), std::invalid_argument);
  EXPECT_THROW(j.String("a\xFF"), std::invalid_argument);
  j.String("ok").EndArray();
  EXPECT_EQ(std::move(j).Take(), R"(["ok"])");
}

}  // namespace
}  // namespace custodian::http
