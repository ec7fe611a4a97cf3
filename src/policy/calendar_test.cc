#include "policy/calendar.h"

#include <gtest/gtest.h>

#include "policy/duration.h"

namespace custodian::policy {
namespace {

int64_t Day(int y, int m, int d) { return DaysSinceEpoch({y, m, d}); }
// Unix ms of local wall time y-m-d hh:mm in a zone `offset` minutes east of UTC.
int64_t Local(int y, int m, int d, int hh, int mm, int offset) {
  return LocalMidnightMs(Day(y, m, d), offset) + (hh * 60 + mm) * 60'000LL;
}

TEST(CalendarTest, ZonesOfTheSeedJurisdictions) {
  EXPECT_EQ(UtcOffsetMinutes("IN"), 330);
  EXPECT_EQ(UtcOffsetMinutes("ID"), 420);
  EXPECT_EQ(UtcOffsetMinutes("DE"), 60);
  EXPECT_EQ(UtcOffsetMinutes("ZZ"), 0);
  EXPECT_EQ(UtcOffsetName(330), "UTC+05:30");
  EXPECT_EQ(UtcOffsetName(-210), "UTC-03:30");
  EXPECT_EQ(UtcOffsetName(0), "UTC");
}

TEST(CalendarTest, LocalDayFollowsTheOffset) {
  // 2026-01-30T20:00Z is already 31 January in India (01:30 IST).
  int64_t t = LocalMidnightMs(Day(2026, 1, 30), 0) + 20 * 3'600'000LL;
  EXPECT_EQ(LocalDay(t, 0), Day(2026, 1, 30));
  EXPECT_EQ(LocalDay(t, 330), Day(2026, 1, 31));
  EXPECT_EQ(LocalDay(-1, 0), -1);  // before the epoch: floor, not truncation
}

TEST(CalendarTest, MonthsKeepTheDayOrTakeTheMonthsLast) {
  Duration year{12, Duration::Unit::kMonths};
  Duration month{1, Duration::Unit::kMonths};
  EXPECT_EQ(DueDay(Day(2026, 1, 31), year), Day(2027, 1, 31));
  EXPECT_EQ(DueDay(Day(2026, 1, 31), month), Day(2026, 2, 28));
  EXPECT_EQ(DueDay(Day(2028, 1, 31), month), Day(2028, 2, 29));
  EXPECT_EQ(DueDay(Day(2024, 2, 29), {1, Duration::Unit::kYears}), Day(2025, 2, 28));
  EXPECT_EQ(DueDay(Day(2026, 1, 1), {90, Duration::Unit::kDays}), Day(2026, 4, 1));
}

// The cutoff agrees with DueDay for every anchor near it: due iff anchor < cutoff.
TEST(CalendarTest, CutoffSplitsAnchorsExactlyWhereDueDayDoes) {
  const int offset = 330;
  for (Duration d : {Duration{12, Duration::Unit::kMonths}, Duration{1, Duration::Unit::kMonths},
                     Duration{90, Duration::Unit::kDays}, Duration{8, Duration::Unit::kYears},
                     Duration{6, Duration::Unit::kWeeks}}) {
    for (int64_t today = Day(2027, 1, 25); today <= Day(2027, 3, 5); ++today) {
      int64_t now = LocalMidnightMs(today, offset) + 12 * 3'600'000LL;
      int64_t cutoff = DueCutoffMs(now, d, offset);
      for (int64_t anchor = today - 3000; anchor <= today; anchor += 1) {
        bool due = DueDay(anchor, d) <= today;
        int64_t t = LocalMidnightMs(anchor, offset) + 23 * 3'600'000LL;  // late in the day
        ASSERT_EQ(t < cutoff, due) << d.ToString() << " anchor day " << anchor << " today "
                                   << today;
      }
    }
  }
}

TEST(CalendarTest, TwelveMonthsAfterThe31stOfJanuaryInIndia) {
  Duration year{12, Duration::Unit::kMonths};
  int64_t closed = Local(2026, 1, 31, 18, 0, 330);
  // 30 January 2027, 23:59 IST: not yet; 31 January 2027, 00:00 IST: due.
  EXPECT_GE(closed, DueCutoffMs(Local(2027, 1, 30, 23, 59, 330), year, 330));
  EXPECT_LT(closed, DueCutoffMs(Local(2027, 1, 31, 0, 0, 330), year, 330));
  EXPECT_EQ(MonthOfDay(Day(2027, 1, 31)), "2027-01");
}

}  // namespace
}  // namespace custodian::policy
