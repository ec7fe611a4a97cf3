#include "common/time.h"

#include <gtest/gtest.h>

namespace custodian {
namespace {

TEST(TimeTest, ParsesDatesAndRfc3339Times) {
  EXPECT_EQ(*ParseTime("1970-01-02"), 86400000);
  EXPECT_EQ(*ParseTime("1970-01-01T00:00:01.5Z"), 1500);
  EXPECT_EQ(*ParseTime("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(*ParseTime("1970-01-01t00:00:00-00:30"), 1800000);
  for (const char* bad : {"", "1970-1-01", "1970-01-01T00:00", "1970-01-01T00:00:00",
                          "1970-01-01 00:00:00Z", "1970-01-01T00:00:00+1:00", "01/02/1970"}) {
    EXPECT_FALSE(ParseTime(bad).ok()) << bad;
  }
}

TEST(TimeTest, Errors) {
  EXPECT_EQ(ParseTime("2026-13-01").status().message(), "the date or time is out of range");
  EXPECT_EQ(ParseTime("2026-02-30").status().message(), "no such day in the calendar");
  EXPECT_EQ(ParseTime("2026-01-01T00:00:00+24:00").status().message(),
            "the time zone offset is out of range");
  EXPECT_EQ(ParseTime("31/01/2026").status().message(),
            "expected a date YYYY-MM-DD or an RFC 3339 time such as 2025-03-01T10:20:30Z");
}

TEST(TimeTest, ALeapSecondIsTheNextMinutesFirstOnADayThatExists) {
  EXPECT_EQ(*ParseTime("2016-12-31T23:59:60Z"), *ParseTime("2017-01-01T00:00:00Z"));
  EXPECT_EQ(*ParseTime("2024-02-29T23:59:60Z"), *ParseTime("2024-03-01T00:00:00Z"));
  // The calendar was not checked for a leap second: this read as 2025-03-04.
  EXPECT_EQ(ParseTime("2025-02-31T23:59:60Z").status().message(), "no such day in the calendar");
  EXPECT_EQ(ParseTime("2023-02-29T23:59:60Z").status().message(), "no such day in the calendar");
}

TEST(TimeTest, ReadsOnlyTimesFormatTimeWritesInFourDigits) {
  EXPECT_EQ(*ParseTime("0000-01-01"), -62167219200000);
  EXPECT_EQ(*ParseTime("9999-12-31T23:59:59.999Z"), 253402300799999);
  // An offset that carries a time out of years 0000-9999 (they read as
  // "-001-12-31..." and "10000-01-01..." before).
  for (const char* beyond : {"0000-01-01T00:00:00+00:01", "9999-12-31T23:59:59-23:59"}) {
    EXPECT_EQ(ParseTime(beyond).status().message(), "the date or time is out of range") << beyond;
  }
}

TEST(TimeTest, FormatsUtc) {
  EXPECT_EQ(FormatTime(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTime(1743481800999), "2025-04-01T04:30:00Z");
  EXPECT_EQ(*ParseTime(FormatTime(1743481800000)), 1743481800000);
  // Rounded down, before 1970 too (-500 ms was 1970-01-01T00:00:00Z), and
  // the year in four digits (year 0 was "0-01-01T00:00:00Z").
  EXPECT_EQ(FormatTime(-500), "1969-12-31T23:59:59Z");
  EXPECT_EQ(FormatTime(-62167219200000), "0000-01-01T00:00:00Z");
  EXPECT_EQ(FormatTime(253402300799999), "9999-12-31T23:59:59Z");
}

}  // namespace
}  // namespace custodian
