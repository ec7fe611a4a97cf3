#include "crypto/normalize.h"

#include <gtest/gtest.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace custodian::crypto {
namespace {

// An error message must not repeat the value, nor any run of its digits.
void ExpectNoValueIn(const Status& status, std::string_view raw) {
  const std::string& message = status.message();
  if (raw.size() >= 4) {
    EXPECT_EQ(message.find(raw), std::string::npos) << message;
  }
  std::string digits;
  for (char c : raw) {
    if (c >= '0' && c <= '9') digits.push_back(c);
  }
  for (size_t i = 0; i + 4 <= digits.size(); ++i) {
    EXPECT_EQ(message.find(digits.substr(i, 4)), std::string::npos) << message;
  }
}

// --- phone ------------------------------------------------------------------

struct PhoneCase {
  std::string raw;
  std::string region;
  std::string e164;
};

TEST(NormalizePhoneTest, ValidNumbers) {
  const std::vector<PhoneCase> cases = {
      // The issue's example, every way it is written in India.
      {"088701 00100", "IN", "+918870100100"},
      {"+91 88701-00100", "IN", "+918870100100"},
      {"918870100100", "IN", "+918870100100"},
      {"(0)88701 00100", "IN", "+918870100100"},
      {"8870100100", "IN", "+918870100100"},
      {"+918870100100", "IN", "+918870100100"},
      {"0091 88701 00100", "IN", "+918870100100"},
      {"91 88701 00100", "IN", "+918870100100"},
      {"  088701.00100\t", "IN", "+918870100100"},
      {"088701 00100", "in", "+918870100100"},
      {"\xEF\xBC\x8B"
       "91 88701 00100",
       "IN", "+918870100100"},                   // fullwidth plus
      {"011 2345 6789", "IN", "+911123456789"},  // Delhi landline
      // United States.
      {"(650) 253-0000", "US", "+16502530000"},
      {"650.253.0000", "US", "+16502530000"},
      {"1 650 253 0000", "US", "+16502530000"},
      {"+1 650-253-0000", "US", "+16502530000"},
      {"+1 650 253 0000 ext. 12", "US", "+16502530000"},  // extension dropped
      // Indonesia.
      {"0812-3456-7890", "ID", "+6281234567890"},
      {"+62 812 3456 7890", "ID", "+6281234567890"},
      {"62 812 3456 7890", "ID", "+6281234567890"},
      // International numbers whatever the region, and with no region.
      {"+1 650 253 0000", "IN", "+16502530000"},
      {"+91 88701 00100", "US", "+918870100100"},
      {"+91 88701 00100", "", "+918870100100"},
  };
  for (const PhoneCase& c : cases) {
    auto e164 = NormalizePhone(c.raw, c.region);
    ASSERT_TRUE(e164.ok()) << "'" << c.raw << "' in " << c.region << ": "
                           << e164.status().ToString();
    EXPECT_EQ(*e164, c.e164) << "'" << c.raw << "' in " << c.region;
  }
}

struct BadPhoneCase {
  std::string raw;
  std::string region;
  std::string message;
};

TEST(NormalizePhoneTest, InvalidNumbers) {
  const std::string kExpectedIn =
      "expected an international number (+<country code> <number>) or a number of region IN";
  const std::vector<BadPhoneCase> cases = {
      {"", "IN", "not a valid phone number: not a number; " + kExpectedIn},
      {"call me", "IN", "not a valid phone number: not a number; " + kExpectedIn},
      {"12", "IN", "not a valid phone number: not a valid number in its country's numbering plan"},
      {"088701 0010", "IN",
       "not a valid phone number: not a valid number in its country's numbering plan"},
      {"+91 55555 55555", "IN",
       "not a valid phone number: not a valid number in its country's numbering plan"},
      {"91887010010", "IN",
       "not a valid phone number: not a valid number in its country's numbering plan"},
      {"0000000000", "IN",
       "not a valid phone number: not a valid number in its country's numbering plan"},
      {"555-0100", "US",
       "not a valid phone number: not a valid number in its country's numbering plan"},
      {"+999 1234 5678", "IN", "not a valid phone number: no valid country code; " + kExpectedIn},
      {"088701 00100", "",
       "not a valid phone number: no valid country code; expected an international number "
       "(+<country code> <number>)"},
      {"+91 88701 00100 1234 5678 9012 3456", "IN", "not a valid phone number: too long"},
      {std::string(101, '1'), "IN", "not a valid phone number: longer than 100 bytes"},
      {"0887\xFF"
       "0100100",
       "IN", "phone number: not valid UTF-8: invalid byte sequence at byte offset 4"},
      {"088701 00100", "XX",
       "unknown default region 'XX': expected an ISO 3166-1 alpha-2 code such as IN, US or ID"},
      {"088701 00100", "India",
       "unknown default region: expected an ISO 3166-1 alpha-2 code such as IN, US or ID"},
  };
  for (const BadPhoneCase& c : cases) {
    auto e164 = NormalizePhone(c.raw, c.region);
    ASSERT_FALSE(e164.ok()) << "'" << c.raw << "' in " << c.region << " gave " << *e164;
    EXPECT_EQ(e164.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(e164.status().message(), c.message) << "'" << c.raw << "' in " << c.region;
    ExpectNoValueIn(e164.status(), c.raw);
  }
}

// --- email ------------------------------------------------------------------

// ReadPhoneUnchecked is what a lookup probes before it pays for the validity
// check, on the promise that a reading found in the index is the answer
// NormalizePhone would give. That holds if (a) a valid unchecked reading is
// NormalizePhone's result, and (b) a stored (normalized) value normalizes to
// itself, so that finding it means the reading is valid. Checked over
// generated numbers of five regions, half with their country code written
// without '+', where NormalizePhone's retry gives another reading.
TEST(NormalizePhoneTest, AValidUncheckedReadingIsWhatNormalizePhoneReturns) {
  struct Region {
    const char* code;
    const char* country_code;
  } regions[] = {{"IN", "91"}, {"ID", "62"}, {"US", "1"}, {"GB", "44"}, {"DE", "49"}};
  std::mt19937 rng(11);
  int valid = 0, retried = 0;
  for (int i = 0; i < 20000; ++i) {
    const Region& r = regions[rng() % 5];
    std::string raw = rng() % 2 ? r.country_code : "";
    const int len = 6 + static_cast<int>(rng() % 9);
    for (int k = 0; k < len; ++k) raw += static_cast<char>('0' + rng() % 10);
    auto n = NormalizePhone(raw, r.code);
    auto u = ReadPhoneUnchecked(raw, r.code);
    ASSERT_TRUE(u.ok()) << raw;
    if (n.ok()) {
      ++valid;
      auto again = NormalizePhone(*n, "");
      ASSERT_TRUE(again.ok()) << *n;
      EXPECT_EQ(*again, *n) << raw;  // (b)
      if (!u->has_value() || **u != *n) ++retried;
    }
    if (u->has_value()) {
      auto reading_valid = NormalizePhone(**u, "");
      if (reading_valid.ok() && *reading_valid == **u) {
        ASSERT_TRUE(n.ok()) << raw;
        EXPECT_EQ(*n, **u) << raw;  // (a)
      }
    }
  }
  // The corpus has both kinds: readings that are the answer, and retries.
  EXPECT_GT(valid, 1000);
  EXPECT_GT(retried, 5);
}

// Numbers written "+", digits, spaces and hyphens are read without
// libphonenumber (as "+" and the digits). The promise (a) above must hold for
// them too: whenever that reading is a normalized number, NormalizePhone
// returns it. Checked over every region's example numbers of every type, in
// E.164 and in international format, with separators moved about, and over
// random digit strings (national prefixes after the country code included,
// which such a reading keeps and libphonenumber drops).
TEST(NormalizePhoneTest, APlainInternationalReadingKeepsThePromise) {
  using i18n::phonenumbers::PhoneNumber;
  using i18n::phonenumbers::PhoneNumberUtil;
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  std::set<std::string> regions;
  util.GetSupportedRegions(&regions);
  std::vector<std::string> corpus;
  for (const std::string& region : regions) {
    for (int type = PhoneNumberUtil::FIXED_LINE; type <= PhoneNumberUtil::VOICEMAIL; ++type) {
      PhoneNumber n;
      if (!util.GetExampleNumberForType(region, static_cast<PhoneNumberUtil::PhoneNumberType>(type),
                                        &n)) {
        continue;
      }
      std::string e164, intl;
      util.Format(n, PhoneNumberUtil::E164, &e164);
      util.Format(n, PhoneNumberUtil::INTERNATIONAL, &intl);
      corpus.push_back(e164);
      corpus.push_back(intl);
    }
  }
  std::mt19937 rng(23);
  const std::size_t examples = corpus.size();
  for (std::size_t i = 0; i < examples; ++i) {  // separators moved about
    std::string digits;
    for (char c : corpus[i]) {
      if (c >= '0' && c <= '9') digits.push_back(c);
    }
    std::string raw = "+";
    for (char c : digits) {
      const unsigned r = rng() % 8;
      if (r == 0) raw += ' ';
      if (r == 1) raw += '-';
      if (r == 2) raw += " - ";
      raw += c;
    }
    if (rng() % 4 == 0) raw += rng() % 2 ? " " : "-";
    corpus.push_back(raw);
    corpus.push_back("+" + digits.substr(0, 3) + " 0" + digits.substr(3));  // a national prefix
  }
  for (int i = 0; i < 20000; ++i) {  // random: mostly not numbers
    std::string raw = "+";
    const int len = 1 + static_cast<int>(rng() % 17);
    for (int k = 0; k < len; ++k) {
      raw += static_cast<char>('0' + rng() % 10);
      if (rng() % 5 == 0) raw += rng() % 2 ? ' ' : '-';
    }
    corpus.push_back(raw);
  }
  int plain = 0, promised = 0;
  for (const std::string& raw : corpus) {
    SCOPED_TRACE(raw);
    auto u = ReadPhoneUnchecked(raw, "IN");
    ASSERT_TRUE(u.ok());
    bool in_form = true;
    std::string expected = "+";
    for (char c : raw.substr(1)) {
      if (c >= '0' && c <= '9') {
        expected.push_back(c);
      } else if (c != ' ' && c != '-') {
        in_form = false;
      }
    }
    if (!in_form) continue;
    ++plain;
    ASSERT_TRUE(u->has_value());
    EXPECT_EQ(**u, expected);
    auto reading_valid = NormalizePhone(**u, "");
    if (!reading_valid.ok() || *reading_valid != **u) continue;  // no stored value is it
    ++promised;
    auto n = NormalizePhone(raw, "IN");
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, **u);  // (a)
  }
  EXPECT_GT(plain, 20000);
  EXPECT_GT(promised, 1000);
}

TEST(NormalizePhoneTest, ReadPhoneUncheckedParsesWithoutTheValidityCheck) {
  EXPECT_EQ(ReadPhoneUnchecked("088701 00100", "IN").value(), "+918870100100");
  EXPECT_EQ(ReadPhoneUnchecked("1234", "IN").value(), "+911234");  // parses; not valid
  EXPECT_EQ(ReadPhoneUnchecked("4902776954100", "DE").value(), "+494902776954100");
  EXPECT_EQ(NormalizePhone("4902776954100", "DE").value(), "+492776954100");  // the retry
  EXPECT_EQ(ReadPhoneUnchecked("12345", "").value(), std::nullopt);  // no country code
  // "+", digits, spaces and hyphens: "+" and the digits, whatever they are.
  EXPECT_EQ(ReadPhoneUnchecked("+91 88701-00100", "DE").value(), "+918870100100");
  EXPECT_EQ(ReadPhoneUnchecked("+91 088701 00100", "IN").value(), "+9108870100100");
  EXPECT_EQ(NormalizePhone("+91 088701 00100", "IN").value(), "+918870100100");
  EXPECT_EQ(ReadPhoneUnchecked("+1 2", "").value(), "+12");
  EXPECT_EQ(ReadPhoneUnchecked("+ -", "").value(), std::nullopt);  // no digit: parsed, fails
  EXPECT_EQ(ReadPhoneUnchecked("+91 (0) 88701 00100", "IN").value(), "+918870100100");  // parsed
  EXPECT_EQ(ReadPhoneUnchecked("not a number", "IN").value(), std::nullopt);
  // Bad input fails as NormalizePhone fails.
  for (auto [raw, region] : std::vector<std::pair<std::string, std::string>>{
           {"\xff", "IN"}, {std::string(101, '1'), "IN"}, {"+91 88701 00100", "XX"}}) {
    auto u = ReadPhoneUnchecked(raw, region);
    auto n = NormalizePhone(raw, region);
    ASSERT_FALSE(u.ok()) << raw;
    EXPECT_EQ(u.status().message(), n.status().message());
  }
}

TEST(NormalizeEmailTest, ValidAddresses) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {" Asha@Example.in ", "asha@example.in"},
      {"ASHA.RAO+billing@EXAMPLE.CO.IN", "asha.rao+billing@example.co.in"},
      {"\tasha@example.in\r\n", "asha@example.in"},
      {"\xC2\xA0"
       "asha@example.in"
       "\xE3\x80\x80",
       "asha@example.in"},  // NBSP, ideographic space
      {"\xEF\xBB\xBF"
       "asha@example.in",
       "asha@example.in"},  // byte-order mark
      {"o'neil_x-1@sub.example.org", "o'neil_x-1@sub.example.org"},
      // Non-ASCII: the domain is lower-cased, the local part's non-ASCII kept.
      {"J\xC3\x96RG@B\xC3\x9C"
       "CHER.DE",
       "j\xC3\x96rg@b\xC3\xBC"
       "cher.de"},
      // NFC: "u" + combining diaeresis in the domain becomes "ü".
      {"x@bu\xCC\x88"
       "cher.de",
       "x@b\xC3\xBC"
       "cher.de"},
  };
  for (const auto& [raw, expected] : cases) {
    auto email = NormalizeEmail(raw);
    ASSERT_TRUE(email.ok()) << "'" << raw << "': " << email.status().ToString();
    EXPECT_EQ(*email, expected) << "'" << raw << "'";
  }
}

TEST(NormalizeEmailTest, InvalidAddresses) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "it is empty"},
      {"   ", "it is empty"},
      {"asha.example.in", "expected exactly one '@'"},
      {"asha@rao@example.in", "expected exactly one '@'"},
      {"@example.in", "expected a local part before '@'"},
      {"asha@", "expected a domain with a dot after '@' (like example.com)"},
      {"asha@localhost", "expected a domain with a dot after '@' (like example.com)"},
      {"asha@.example.in",
       "expected a domain without empty labels (no leading, trailing or double dot)"},
      {"asha@example.in.",
       "expected a domain without empty labels (no leading, trailing or double dot)"},
      {"asha@example..in",
       "expected a domain without empty labels (no leading, trailing or double dot)"},
      {"asha rao@example.in", "white space or a control character inside it"},
      {"asha\x01@example.in", "white space or a control character inside it"},
      {"Asha <asha@example.in>", "white space or a control character inside it"},
      {"<asha@example.in>", "expected no unquoted special character (\"(),:;<>[\\])"},
      {"\"asha\"@example.in", "expected no unquoted special character (\"(),:;<>[\\])"},
      {"asha@example.in,b@example.in", "expected no unquoted special character (\"(),:;<>[\\])"},
      {std::string(65, 'a') + "@example.in", "local part longer than 64 bytes"},
      {"a@" + std::string(250, 'b') + ".in", "longer than 254 bytes"},
      // 254 bytes as written; U+023A (2 bytes) lower-cases to U+2C65 (3
      // bytes), so the canonical form would be 379 and would not read as
      // itself (found by fuzz/normalize_fuzz.cc).
      {"a@x." + [] {
         std::string d;
         for (int i = 0; i < 125; ++i) d += "\xC8\xBA";
         return d;
       }(),
       "longer than 254 bytes"},
  };
  for (const auto& [raw, why] : cases) {
    auto email = NormalizeEmail(raw);
    ASSERT_FALSE(email.ok()) << "'" << raw << "' gave " << *email;
    EXPECT_EQ(email.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(email.status().message(), "not a valid email address: " + why) << "'" << raw << "'";
    ExpectNoValueIn(email.status(), raw);
    EXPECT_EQ(email.status().message().find("asha"), std::string::npos);
  }
  auto bad_utf8 = NormalizeEmail(
      "asha@ex\xC3"
      "ample.in");
  EXPECT_EQ(bad_utf8.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad_utf8.status().message(),
            "email address: not valid UTF-8: invalid byte sequence at byte offset 7");
}

// --- text and UTF-8 ---------------------------------------------------------------

TEST(NormalizeTextTest, NfcAndTrim) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Asha Rao", "Asha Rao"},
      {"  Asha Rao \n", "Asha Rao"},
      {"Jose\xCC\x81", "Jos\xC3\xA9"},               // e + combining acute -> é
      {"Jos\xC3\xA9", "Jos\xC3\xA9"},                // already NFC
      {"\xE1\x84\x80\xE1\x85\xA1", "\xEA\xB0\x80"},  // Hangul jamo -> syllable
      {"\xC2\xA0\xE3\x80\x80"
       "Asha\xE2\x80\xAF",
       "Asha"},                                      // Unicode spaces trimmed
      {"line one\nline two", "line one\nline two"},  // inner white space kept
      {"\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80"},      // 4-byte sequence
  };
  for (const auto& [raw, expected] : cases) {
    auto text = NormalizeText(raw);
    ASSERT_TRUE(text.ok()) << "'" << raw << "': " << text.status().ToString();
    EXPECT_EQ(*text, expected) << "'" << raw << "'";
  }
}

TEST(NormalizeTextTest, Errors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "text is empty"},
      {" \t\n\xC2\xA0", "text is empty"},
      {std::string("Asha\0Rao", 8), "text contains a NUL character at byte offset 4"},
      {"Asha\xC3", "text: not valid UTF-8: invalid byte sequence at byte offset 4"},
      {"Ash\xE9 Rao", "text: not valid UTF-8: invalid byte sequence at byte offset 3"},  // Latin-1
  };
  for (const auto& [raw, message] : cases) {
    auto text = NormalizeText(raw);
    ASSERT_FALSE(text.ok()) << "'" << raw << "'";
    EXPECT_EQ(text.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(text.status().message(), message);
  }
}

TEST(NormalizeDateTest, Valid) {
  EXPECT_EQ(*NormalizeDate("1990-04-03"), "1990-04-03");
  EXPECT_EQ(*NormalizeDate(" 1990/04/03\t"), "1990-04-03");
  EXPECT_EQ(*NormalizeDate("2000-02-29"), "2000-02-29");  // divisible by 400
  EXPECT_EQ(*NormalizeDate("2024-02-29"), "2024-02-29");
  EXPECT_EQ(*NormalizeDate("2026-12-31"), "2026-12-31");
}

TEST(NormalizeDateTest, Invalid) {
  const std::string kShape =
      "not a valid date: expected YYYY-MM-DD (day-first and month-first forms are ambiguous)";
  struct Case {
    const char* in;
    std::string message;
  } cases[] = {
      {"03/04/1990", kShape},
      {"1990-4-3", kShape},
      {"1990-04/03", kShape},
      {"19900403", kShape},
      {"1990-04-0x", kShape},
      {"", kShape},
      {"0999-01-01", "not a valid date: the year must be 1000 to 9999"},
      {"1990-13-01", "not a valid date: the month must be 01 to 12"},
      {"1990-00-01", "not a valid date: the month must be 01 to 12"},
      {"1900-02-29", "not a valid date: that month has no such day"},  // not a leap year
      {"2023-02-29", "not a valid date: that month has no such day"},
      {"2026-04-31", "not a valid date: that month has no such day"},
      {"2026-04-00", "not a valid date: that month has no such day"},
  };
  for (const Case& c : cases) {
    auto r = NormalizeDate(c.in);
    ASSERT_FALSE(r.ok()) << c.in;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.in;
    EXPECT_EQ(r.status().message(), c.message) << c.in;
  }
  auto bad = NormalizeDate("1990-04-0\xff");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("date"), std::string::npos);
}

TEST(ValidateUtf8Test, Table) {
  const std::vector<std::pair<std::string, int>> cases = {
      // -1: valid
      {"", -1},
      {"plain ascii", -1},
      {"\xC3\xA9", -1},                  // é
      {"\xE0\xA4\xB9\xE0\xA4\xBF", -1},  // हि
      {"\xF4\x8F\xBF\xBF", -1},          // U+10FFFF
      {"a\x80", 1},                      // lone continuation byte
      {"ab\xC3", 2},                     // truncated sequence
      {"\xC0\xAF", 0},                   // overlong '/'
      {"\xE0\x80\xAF", 0},               // overlong, 3 bytes
      {"x\xED\xA0\x80", 1},              // UTF-16 surrogate
      {"\xF4\x90\x80\x80", 0},           // above U+10FFFF
      {"\xFF", 0},
      {"ok\xE2\x82", 2},  // truncated 3-byte sequence
  };
  for (const auto& [text, offset] : cases) {
    Status status = ValidateUtf8(text);
    if (offset < 0) {
      EXPECT_TRUE(status.ok()) << status.ToString();
    } else {
      EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
      EXPECT_EQ(status.message(),
                "not valid UTF-8: invalid byte sequence at byte offset " + std::to_string(offset));
    }
  }
}

}  // namespace
}  // namespace custodian::crypto
