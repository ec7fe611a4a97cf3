#include "common/time.h"

#include <time.h>

#include <cstdio>

namespace custodian {
namespace {

bool Digits(std::string_view s, std::size_t from, std::size_t n) {
  if (from + n > s.size()) return false;
  for (std::size_t i = from; i < from + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

int Num(std::string_view s, std::size_t from, std::size_t n) {
  int v = 0;
  for (std::size_t i = from; i < from + n; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

// What ParseTime reads, in unix ms: 0000-01-01T00:00:00Z to the last ms of
// 9999-12-31, so that FormatTime writes every result back in four digits.
constexpr int64_t kMinMs = -62167219200000;
constexpr int64_t kMaxMs = 253402300799999;

}  // namespace

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 0;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

std::string FormatTime(int64_t ms) {
  // Whole seconds, rounded down: -500 ms is 23:59:59 of 1969-12-31.
  const int64_t floor_s = ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
  const time_t secs = static_cast<time_t>(floor_s);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02dZ",
                static_cast<long long>(tm.tm_year) + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec);
  return buf;
}

Result<int64_t> ParseTime(std::string_view s) {
  const Status bad = Status::InvalidArgument(
      "expected a date YYYY-MM-DD or an RFC 3339 time such as 2025-03-01T10:20:30Z");
  if (!(Digits(s, 0, 4) && s.size() >= 10 && s[4] == '-' && Digits(s, 5, 2) && s[7] == '-' &&
        Digits(s, 8, 2))) {
    return bad;
  }
  int y = Num(s, 0, 4), mo = Num(s, 5, 2), d = Num(s, 8, 2), h = 0, mi = 0, sec = 0, ms = 0;
  int64_t offset_s = 0;
  if (s.size() > 10) {
    if (!((s[10] == 'T' || s[10] == 't') && Digits(s, 11, 2) && s.size() > 19 && s[13] == ':' &&
          Digits(s, 14, 2) && s[16] == ':' && Digits(s, 17, 2))) {
      return bad;
    }
    h = Num(s, 11, 2);
    mi = Num(s, 14, 2);
    sec = Num(s, 17, 2);
    std::size_t i = 19;
    if (s[i] == '.') {
      ++i;
      std::size_t start = i;
      int scale = 100;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        ms += (s[i] - '0') * scale;
        scale /= 10;
        ++i;
      }
      if (i == start || i - start > 9) return bad;
    }
    if (i < s.size() && (s[i] == 'Z' || s[i] == 'z') && i + 1 == s.size()) {
      offset_s = 0;
    } else if (i < s.size() && (s[i] == '+' || s[i] == '-') && i + 6 == s.size() &&
               Digits(s, i + 1, 2) && s[i + 3] == ':' && Digits(s, i + 4, 2)) {
      int oh = Num(s, i + 1, 2), om = Num(s, i + 4, 2);
      if (oh > 23 || om > 59) return Status::InvalidArgument("the time zone offset is out of range");
      offset_s = (oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
    } else {
      return bad;
    }
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) {
    return Status::InvalidArgument("the date or time is out of range");
  }
  // Checked for a leap second too: "2025-02-31T23:59:60Z" is no time.
  if (d > DaysInMonth(y, mo)) return Status::InvalidArgument("no such day in the calendar");
  struct tm tm {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;  // 60, a leap second, reads as the next minute's first
  const time_t t = timegm(&tm);
  const int64_t result = (static_cast<int64_t>(t) - offset_s) * 1000 + ms;
  if (result < kMinMs || result > kMaxMs) {
    return Status::InvalidArgument("the date or time is out of range");
  }
  return result;
}

}  // namespace custodian
