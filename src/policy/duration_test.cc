#include "policy/duration.h"

#include <gtest/gtest.h>

#include "common/time.h"

namespace custodian::policy {
namespace {

using Unit = Duration::Unit;

struct GoodDuration {
  const char* text;
  int64_t count;
  Unit unit;
};

class ParseDurationGood : public testing::TestWithParam<GoodDuration> {};

TEST_P(ParseDurationGood, Parses) {
  Result<Duration> d = ParseDuration(GetParam().text);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->count, GetParam().count);
  EXPECT_EQ(d->unit, GetParam().unit);
}

INSTANTIATE_TEST_SUITE_P(
    Forms, ParseDurationGood,
    testing::Values(GoodDuration{"12 months", 12, Unit::kMonths},
                    GoodDuration{"90 days", 90, Unit::kDays},
                    GoodDuration{"1 year", 1, Unit::kYears},
                    GoodDuration{"6 weeks", 6, Unit::kWeeks}, GoodDuration{"1 day", 1, Unit::kDays},
                    GoodDuration{"1 months", 1, Unit::kMonths},  // plural with 1: unambiguous
                    GoodDuration{"2 year", 2, Unit::kYears},     // singular with 2: likewise
                    GoodDuration{"  7   Days ", 7, Unit::kDays},
                    GoodDuration{"3years", 3, Unit::kYears},
                    GoodDuration{"10000 days", 10000, Unit::kDays}));

struct BadDuration {
  const char* text;
  const char* message;
};

class ParseDurationBad : public testing::TestWithParam<BadDuration> {};

TEST_P(ParseDurationBad, ExplainsTheProblem) {
  Result<Duration> d = ParseDuration(GetParam().text);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(d.status().message(), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Forms, ParseDurationBad,
    testing::Values(
        BadDuration{
            "12 monthz",
            "invalid duration '12 monthz': unknown unit 'monthz'; did you mean '12 months'? "
            "Expected a positive whole number and a unit (days, weeks, months or years), "
            "e.g. '12 months'"},
        BadDuration{
            "1 dya",
            "invalid duration '1 dya': unknown unit 'dya'; did you mean '1 day'? Expected a "
            "positive whole number and a unit (days, weeks, months or years), e.g. '12 "
            "months'"},
        BadDuration{"12 fortnights",
                    "invalid duration '12 fortnights': unknown unit 'fortnights'; expected a "
                    "positive whole number and a unit (days, weeks, months or years), e.g. '12 "
                    "months'"},
        BadDuration{"",
                    "invalid duration '': it is empty; expected a positive whole number and a "
                    "unit (days, weeks, months or years), e.g. '12 months'"},
        BadDuration{"months",
                    "invalid duration 'months': it does not start with a number; "
                    "expected a positive whole number and a unit (days, weeks, months or "
                    "years), e.g. '12 months'"},
        BadDuration{"12",
                    "invalid duration '12': the unit is missing; expected a positive whole "
                    "number and a unit (days, weeks, months or years), e.g. '12 months'"},
        BadDuration{"0 days",
                    "invalid duration '0 days': the number must be positive; expected a "
                    "positive whole number and a unit (days, weeks, months or years), "
                    "e.g. '12 months'"},
        BadDuration{"-3 days",
                    "invalid duration '-3 days': the number must be positive; expected "
                    "a positive whole number and a unit (days, weeks, months or years), "
                    "e.g. '12 months'"},
        BadDuration{"1.5 years",
                    "invalid duration '1.5 years': the number must be a whole number; "
                    "expected a positive whole number and a unit (days, weeks, months "
                    "or years), e.g. '12 months'"},
        BadDuration{"10001 days",
                    "invalid duration '10001 days': the number is larger than 10000; "
                    "expected a positive whole number and a unit (days, weeks, "
                    "months or years), e.g. '12 months'"},
        BadDuration{"99999999999999999999 days",
                    "invalid duration '99999999999999999999 days': the number is larger than "
                    "10000; expected a positive whole number and a unit (days, weeks, months or "
                    "years), e.g. '12 months'"}));

TEST(DurationToString, SingularAndPlural) {
  EXPECT_EQ((Duration{1, Unit::kDays}.ToString()), "1 day");
  EXPECT_EQ((Duration{12, Unit::kMonths}.ToString()), "12 months");
  EXPECT_EQ((Duration{1, Unit::kYears}.ToString()), "1 year");
  EXPECT_EQ((Duration{6, Unit::kWeeks}.ToString()), "6 weeks");
}

TEST(DurationToString, RoundTripsThroughParse) {
  for (Unit unit : {Unit::kDays, Unit::kWeeks, Unit::kMonths, Unit::kYears}) {
    for (int64_t count : {1, 2, 90}) {
      Duration d{count, unit};
      Result<Duration> back = ParseDuration(d.ToString());
      ASSERT_TRUE(back.ok()) << d.ToString();
      EXPECT_EQ(*back, d);
    }
  }
}

TEST(ParseDate, AcceptsRealDates) {
  Result<Date> d = ParseDate("2026-04-07");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, (Date{2026, 4, 7}));
  EXPECT_EQ(d->ToString(), "2026-04-07");
  EXPECT_TRUE(ParseDate("2024-02-29").ok());  // leap year
  EXPECT_TRUE(ParseDate("2000-02-29").ok());  // divisible by 400
  EXPECT_EQ((Date{5, 1, 2}.ToString()), "0005-01-02");
}

TEST(ParseDate, RejectsOtherForms) {
  EXPECT_EQ(ParseDate("07/04/2026").status().message(),
            "invalid date '07/04/2026': expected YYYY-MM-DD, e.g. '2026-04-07'");
  EXPECT_EQ(ParseDate("2026-4-7").status().message(),
            "invalid date '2026-4-7': expected YYYY-MM-DD, e.g. '2026-04-07'");
  EXPECT_EQ(ParseDate("2026-13-01").status().message(),
            "invalid date '2026-13-01': there is no month 13; expected YYYY-MM-DD, e.g. "
            "'2026-04-07'");
  EXPECT_EQ(ParseDate("2025-02-29").status().message(),
            "invalid date '2025-02-29': 2025-02 has no day 29; expected YYYY-MM-DD, e.g. "
            "'2026-04-07'");
  EXPECT_EQ(ParseDate("1900-02-29").status().message(),
            "invalid date '1900-02-29': 1900-02 has no day 29; expected YYYY-MM-DD, e.g. "
            "'2026-04-07'");
  EXPECT_FALSE(ParseDate("2026-04-00").ok());
  EXPECT_FALSE(ParseDate("2026-04-31").ok());
  EXPECT_FALSE(ParseDate("").ok());
}

TEST(AddDuration, CalendarMonthsAndYears) {
  auto add = [](Date d, int64_t n, Unit u) { return AddDuration(d, Duration{n, u}); };
  EXPECT_EQ(add({2026, 1, 31}, 12, Unit::kMonths), (Date{2027, 1, 31}));
  EXPECT_EQ(add({2026, 1, 31}, 1, Unit::kMonths), (Date{2026, 2, 28}));
  EXPECT_EQ(add({2024, 1, 31}, 1, Unit::kMonths), (Date{2024, 2, 29}));
  EXPECT_EQ(add({2024, 2, 29}, 1, Unit::kYears), (Date{2025, 2, 28}));
  EXPECT_EQ(add({2024, 2, 29}, 2, Unit::kYears), (Date{2026, 2, 28}));
  EXPECT_EQ(add({2024, 2, 29}, 4, Unit::kYears), (Date{2028, 2, 29}));
  EXPECT_EQ(add({2026, 11, 15}, 3, Unit::kMonths), (Date{2027, 2, 15}));
  EXPECT_EQ(add({2026, 12, 1}, 1, Unit::kMonths), (Date{2027, 1, 1}));
}

TEST(AddDuration, ExactDaysAndWeeks) {
  auto add = [](Date d, int64_t n, Unit u) { return AddDuration(d, Duration{n, u}); };
  EXPECT_EQ(add({2026, 1, 31}, 1, Unit::kDays), (Date{2026, 2, 1}));
  EXPECT_EQ(add({2024, 2, 28}, 1, Unit::kDays), (Date{2024, 2, 29}));
  EXPECT_EQ(add({2025, 12, 31}, 1, Unit::kDays), (Date{2026, 1, 1}));
  EXPECT_EQ(add({2026, 4, 7}, 90, Unit::kDays), (Date{2026, 7, 6}));
  EXPECT_EQ(add({2026, 4, 7}, 6, Unit::kWeeks), (Date{2026, 5, 19}));
  EXPECT_EQ(add({2026, 1, 1}, 365, Unit::kDays), (Date{2027, 1, 1}));
}

TEST(DaysSinceEpoch, KnownDaysAndRoundTrip) {
  EXPECT_EQ(DaysSinceEpoch({1970, 1, 1}), 0);
  EXPECT_EQ(DaysSinceEpoch({1969, 12, 31}), -1);
  EXPECT_EQ(DaysSinceEpoch({2000, 3, 1}), 11017);
  EXPECT_EQ(DaysSinceEpoch({2026, 4, 7}), 20550);
  for (int64_t d = -800000; d <= 800000; d += 997) {
    Date date = DateFromDaysSinceEpoch(d);
    ASSERT_GE(date.day, 1);
    ASSERT_LE(date.day, DaysInMonth(date.year, date.month));
    ASSERT_EQ(DaysSinceEpoch(date), d) << date.ToString();
  }
}

TEST(DateOrder, ComparesChronologically) {
  EXPECT_LT((Date{2025, 12, 31}), (Date{2026, 1, 1}));
  EXPECT_LT((Date{2026, 1, 31}), (Date{2026, 2, 1}));
}

}  // namespace
}  // namespace custodian::policy
