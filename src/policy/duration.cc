#include "policy/duration.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <string>

#include "common/time.h"
#include "policy/suggest.h"

namespace custodian::policy {
namespace {

constexpr std::string_view kDurationForm =
    "a positive whole number and a unit (days, weeks, months or years), e.g. "
    "'12 months'";

struct UnitName {
  std::string_view singular;
  std::string_view plural;
  Duration::Unit unit;
};
constexpr std::array<UnitName, 4> kUnits = {{
    {"day", "days", Duration::Unit::kDays},
    {"week", "weeks", Duration::Unit::kWeeks},
    {"month", "months", Duration::Unit::kMonths},
    {"year", "years", Duration::Unit::kYears},
}};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Status BadDuration(std::string_view text, std::string_view problem) {
  return Status::InvalidArgument(
      fmt::format("invalid duration '{}': {}; expected {}", text, problem, kDurationForm));
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

Result<Duration> ParseDuration(std::string_view raw) {
  std::string_view text = Trim(raw);
  if (text.empty()) return BadDuration(raw, "it is empty");
  std::size_t i = 0;
  if (text[0] == '-' || text[0] == '+') ++i;
  std::size_t digits_begin = i;
  while (i < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.' || text[i] == ',')) {
    ++i;
  }
  std::string_view number = text.substr(digits_begin, i - digits_begin);
  std::string_view unit_text = Trim(text.substr(i));
  if (number.empty()) return BadDuration(raw, "it does not start with a number");
  if (!AllDigits(number)) return BadDuration(raw, "the number must be a whole number");
  if (text[0] == '-') return BadDuration(raw, "the number must be positive");
  int64_t count = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), count);
  if (ec != std::errc() || count > kMaxDurationCount) {
    return BadDuration(raw, fmt::format("the number is larger than {}", kMaxDurationCount));
  }
  if (count == 0) return BadDuration(raw, "the number must be positive");
  if (unit_text.empty()) return BadDuration(raw, "the unit is missing");

  std::string unit = Lower(unit_text);
  for (const UnitName& u : kUnits) {
    if (unit == u.singular || unit == u.plural) return Duration{count, u.unit};
  }
  std::array<std::string_view, 8> names;
  for (std::size_t k = 0; k < kUnits.size(); ++k) {
    names[2 * k] = count == 1 ? kUnits[k].singular : kUnits[k].plural;
    names[2 * k + 1] = count == 1 ? kUnits[k].plural : kUnits[k].singular;
  }
  std::optional<std::string> guess = ClosestMatch(unit, names);
  if (guess) {
    return Status::InvalidArgument(
        fmt::format("invalid duration '{}': unknown unit '{}'; did you mean '{} {}'? Expected {}",
                    raw, unit_text, count, *guess, kDurationForm));
  }
  return BadDuration(raw, fmt::format("unknown unit '{}'", unit_text));
}

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
int64_t DaysSinceEpoch(const Date& date) {
  int64_t y = date.year - (date.month <= 2 ? 1 : 0);
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t mp = (date.month + 9) % 12;
  int64_t doy = (153 * mp + 2) / 5 + date.day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Date DateFromDaysSinceEpoch(int64_t days) {
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  int64_t doe = days - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  int year = static_cast<int>(yoe + era * 400 + (month <= 2 ? 1 : 0));
  return {year, month, day};
}

Date AddDuration(const Date& date, const Duration& duration) {
  switch (duration.unit) {
    case Duration::Unit::kDays:
    case Duration::Unit::kWeeks: {
      int64_t days = duration.count * (duration.unit == Duration::Unit::kWeeks ? 7 : 1);
      return DateFromDaysSinceEpoch(DaysSinceEpoch(date) + days);
    }
    case Duration::Unit::kMonths:
    case Duration::Unit::kYears: {
      int64_t months = duration.count * (duration.unit == Duration::Unit::kYears ? 12 : 1);
      int64_t index = int64_t{date.year} * 12 + (date.month - 1) + months;
      Date out;
      out.year = static_cast<int>(index >= 0 ? index / 12 : (index - 11) / 12);
      out.month = static_cast<int>(index - int64_t{out.year} * 12) + 1;
      out.day = std::min(date.day, DaysInMonth(out.year, out.month));
      return out;
    }
  }
  return date;
}

Result<Date> ParseDate(std::string_view text) {
  auto number = [&](std::size_t pos, std::size_t len, int* out) {
    std::string_view part = text.substr(pos, len);
    if (!AllDigits(part)) return false;
    std::from_chars(part.data(), part.data() + part.size(), *out);
    return true;
  };
  Date d;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !number(0, 4, &d.year) ||
      !number(5, 2, &d.month) || !number(8, 2, &d.day)) {
    return Status::InvalidArgument(
        fmt::format("invalid date '{}': expected YYYY-MM-DD, e.g. '2026-04-07'", text));
  }
  if (d.month < 1 || d.month > 12) {
    return Status::InvalidArgument(fmt::format(
        "invalid date '{}': there is no month {:02}; expected YYYY-MM-DD, e.g. '2026-04-07'", text,
        d.month));
  }
  if (d.day < 1 || d.day > DaysInMonth(d.year, d.month)) {
    return Status::InvalidArgument(
        fmt::format("invalid date '{}': {:04}-{:02} has no day {:02}; expected YYYY-MM-DD, e.g. "
                    "'2026-04-07'",
                    text, d.year, d.month, d.day));
  }
  return d;
}

}  // namespace custodian::policy
