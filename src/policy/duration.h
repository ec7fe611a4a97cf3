// Parsing the policy's durations ("12 months") and dates ("2026-04-07").
//
// Pure functions; thread-safe. Error messages say what was found and what
// was expected, and are meant to be shown as they are (after a context such
// as "retention rule 'media': ").
#pragma once

#include <string_view>

#include "custodian/status.h"
#include "policy/model.h"

namespace custodian::policy {

// "<positive whole number> <unit>", unit one of day(s), week(s), month(s),
// year(s) in any case; singular and plural are both accepted whatever the
// number. Spaces around and between are allowed ("12months" too). The number
// is at most kMaxDurationCount. A unit typo gets a did-you-mean:
// "12 monthz" -> "... did you mean '12 months'?".
inline constexpr int64_t kMaxDurationCount = 10000;
Result<Duration> ParseDuration(std::string_view text);

// Exactly YYYY-MM-DD, and a day that exists in the proleptic Gregorian calendar.
Result<Date> ParseDate(std::string_view text);

// `date` plus `duration` in the calendar: days and weeks are exact; months and
// years keep the day of the month, or take the month's last day when it has
// no such day (31 January + 1 month = 28 February; 29 February 2024 + 1 year
// = 28 February 2025). `date` must be a valid date.
Date AddDuration(const Date& date, const Duration& duration);

// Days since 1970-01-01 (negative before), and back.
int64_t DaysSinceEpoch(const Date& date);
Date DateFromDaysSinceEpoch(int64_t days);

}  // namespace custodian::policy
