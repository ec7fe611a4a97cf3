#include "policy/calendar.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdlib>

#include "policy/duration.h"

namespace custodian::policy {
namespace {

struct Zone {
  std::string_view country;
  int minutes;
};

// Standard time of each jurisdiction custodian knows (the capital's, for
// countries with several zones).
constexpr std::array<Zone, 34> kZones = {{
    {"IN", 330}, {"ID", 420}, {"GB", 0},   {"IE", 0},   {"PT", 0},   {"IS", 0},
    {"AT", 60},  {"BE", 60},  {"HR", 60},  {"CZ", 60},  {"DK", 60},  {"FR", 60},
    {"DE", 60},  {"HU", 60},  {"IT", 60},  {"LU", 60},  {"MT", 60},  {"NL", 60},
    {"PL", 60},  {"SK", 60},  {"SI", 60},  {"ES", 60},  {"SE", 60},  {"NO", 60},
    {"LI", 60},  {"BG", 120}, {"CY", 120}, {"EE", 120}, {"FI", 120}, {"GR", 120},
    {"LV", 120}, {"LT", 120}, {"RO", 120}, {"SG", 480},
}};

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

}  // namespace

int UtcOffsetMinutes(std::string_view iso_country) {
  for (const Zone& z : kZones) {
    if (z.country == iso_country) return z.minutes;
  }
  return 0;
}

std::string UtcOffsetName(int offset_minutes) {
  if (offset_minutes == 0) return "UTC";
  int m = std::abs(offset_minutes);
  return fmt::format("UTC{}{:02}:{:02}", offset_minutes < 0 ? '-' : '+', m / 60, m % 60);
}

int64_t LocalDay(int64_t ms, int offset_minutes) {
  return FloorDiv(ms + int64_t{offset_minutes} * 60'000, kMsPerDay);
}

int64_t LocalMidnightMs(int64_t day, int offset_minutes) {
  return day * kMsPerDay - int64_t{offset_minutes} * 60'000;
}

int64_t DueDay(int64_t anchor_day, const Duration& duration) {
  return DaysSinceEpoch(AddDuration(DateFromDaysSinceEpoch(anchor_day), duration));
}

int64_t DueCutoffMs(int64_t now_ms, const Duration& duration, int offset_minutes) {
  const int64_t today = LocalDay(now_ms, offset_minutes);
  // The last anchor day whose due day has begun: start where it surely has (a
  // duration is at most its count times the unit's longest length) and walk up.
  int64_t longest = duration.count;
  switch (duration.unit) {
    case Duration::Unit::kDays: break;
    case Duration::Unit::kWeeks: longest *= 7; break;
    case Duration::Unit::kMonths: longest *= 31; break;
    case Duration::Unit::kYears: longest *= 366; break;
  }
  int64_t day = today - longest - 1;
  while (DueDay(day + 1, duration) <= today) ++day;
  // Anchors on `day` or earlier are due: before 00:00 local of day + 1.
  return LocalMidnightMs(day + 1, offset_minutes);
}

std::string MonthOfDay(int64_t day) {
  Date d = DateFromDaysSinceEpoch(day);
  return fmt::format("{:04}-{:02}", d.year, d.month);
}

}  // namespace custodian::policy
