#include "crypto/sms_keywords.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace custodian::crypto {
namespace {

struct Case {
  std::string body;
  SmsKeyword expected;
};

void ExpectAll(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    EXPECT_EQ(ClassifySmsKeyword(c.body), c.expected) << "body: \"" << c.body << "\"";
  }
}

TEST(SmsKeywordTest, ClassifiesEveryKeywordInAnyAsciiCase) {
  const std::vector<std::pair<std::string, SmsKeyword>> keywords = {
      {"STOP", SmsKeyword::kStop},        {"STOPALL", SmsKeyword::kStop},
      {"UNSUBSCRIBE", SmsKeyword::kStop}, {"CANCEL", SmsKeyword::kStop},
      {"END", SmsKeyword::kStop},         {"QUIT", SmsKeyword::kStop},
      {"START", SmsKeyword::kStart},      {"UNSTOP", SmsKeyword::kStart},
      {"YES", SmsKeyword::kStart},        {"HELP", SmsKeyword::kHelp},
      {"INFO", SmsKeyword::kHelp},
  };
  for (const auto& [word, kind] : keywords) {
    std::string lower = word;
    for (char& c : lower) c = static_cast<char>(c - 'A' + 'a');
    std::string capitalized = lower;
    capitalized[0] = word[0];
    std::string alternating = word;
    for (size_t i = 0; i < alternating.size(); i += 2) alternating[i] = lower[i];
    ExpectAll({{word, kind}, {lower, kind}, {capitalized, kind}, {alternating, kind}});
  }
}

TEST(SmsKeywordTest, IgnoresSurroundingWhitespaceAndTrailingPeriodOrBang) {
  ExpectAll({
      {" Stop! ", SmsKeyword::kStop},
      {"stop.", SmsKeyword::kStop},
      {"STOP!!!", SmsKeyword::kStop},
      {"stop.!", SmsKeyword::kStop},
      {"\tstop\r\n", SmsKeyword::kStop},
      {"\n\n  Unsubscribe \n", SmsKeyword::kStop},
      {"stop !", SmsKeyword::kStop},
      {"Start.", SmsKeyword::kStart},
      {"yes!", SmsKeyword::kStart},
      {" help ", SmsKeyword::kHelp},
      {"Info.", SmsKeyword::kHelp},
  });
}

TEST(SmsKeywordTest, TheKeywordMustBeTheWholeMessage) {
  ExpectAll({
      {"don't stop", SmsKeyword::kNone},
      {"stopping", SmsKeyword::kNone},
      {"stop it", SmsKeyword::kNone},
      {"please stop", SmsKeyword::kNone},
      {"STOP STOP", SmsKeyword::kNone},
      {"STOP ALL", SmsKeyword::kNone},
      {"stop\nthanks", SmsKeyword::kNone},
      {"unstoppable", SmsKeyword::kNone},
      {"yes please", SmsKeyword::kNone},
      {"yesterday", SmsKeyword::kNone},
      {"helpful", SmsKeyword::kNone},
      {"the end", SmsKeyword::kNone},
      {"sto", SmsKeyword::kNone},
      {"st op", SmsKeyword::kNone},
  });
}

TEST(SmsKeywordTest, OnlyPeriodAndBangAreIgnoredAndOnlyAtTheEnd) {
  ExpectAll({
      {"stop?", SmsKeyword::kNone},
      {"stop,", SmsKeyword::kNone},
      {"\"stop\"", SmsKeyword::kNone},
      {"!stop", SmsKeyword::kNone},
      {".stop", SmsKeyword::kNone},
      {"s.t.o.p", SmsKeyword::kNone},
      {"stop\xf0\x9f\x9b\x91", SmsKeyword::kNone},  // stop + U+1F6D1 (stop sign emoji)
  });
}

TEST(SmsKeywordTest, DoesNotFoldNonAsciiLetters) {
  ExpectAll({
      {"\xef\xbc\xb3\xef\xbc\xb4\xef\xbc\xaf\xef\xbc\xb0", SmsKeyword::kNone},  // full-width STOP
      {"ST\xc3\x96P", SmsKeyword::kNone},                                       // STÖP
      {"\xd0\xa1TOP", SmsKeyword::kNone},                                       // Cyrillic Es + TOP
      {"\xc2\xa0stop\xc2\xa0", SmsKeyword::kNone},  // no-break spaces are not trimmed
      {"stop\xe3\x80\x82", SmsKeyword::kNone},      // ideographic full stop
      {"stop\xef\xbc\x81", SmsKeyword::kNone},      // full-width exclamation mark
      {"\xc4\xb0NFO", SmsKeyword::kNone},           // İNFO (dotted capital I)
  });
}

TEST(SmsKeywordTest, EmptyAndPunctuationOnlyMessagesAreNone) {
  ExpectAll({
      {"", SmsKeyword::kNone},
      {"   ", SmsKeyword::kNone},
      {"!", SmsKeyword::kNone},
      {" . ", SmsKeyword::kNone},
      {std::string("stop\0", 5), SmsKeyword::kNone},
      {std::string("\0stop", 5), SmsKeyword::kNone},
  });
}

}  // namespace
}  // namespace custodian::crypto
