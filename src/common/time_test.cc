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

TEST(TimeTest, FormatsUtc) {
  EXPECT_EQ(FormatTime(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTime(1743481800999), "2025-04-01T04:30:00Z");
  EXPECT_EQ(*ParseTime(FormatTime(1743481800000)), 1743481800000);
}

}  // namespace
}  // namespace custodian
