#include "cli/format.h"

#include <time.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string_view>

namespace custodian::cli {

std::string FormatTime(int64_t ms) {
  time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

namespace {

// True if `text` has a digit wherever `shape` has 'd' and `shape`'s other
// characters verbatim. (sscanf alone accepts "2026-01-3x", " 2026-1-31" and
// "T-1:00:00Z", silently reading another date.)
bool HasShape(const std::string& text, std::string_view shape) {
  if (text.size() != shape.size()) return false;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    bool ok = shape[i] == 'd' ? text[i] >= '0' && text[i] <= '9' : text[i] == shape[i];
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Result<int64_t> ParseTime(const std::string& text) {
  struct tm tm {};
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  char tail = 0;
  int n = std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &s, &tail);
  bool date_only = n == 3 && HasShape(text, "dddd-dd-dd");
  bool full = n == 7 && tail == 'Z' && HasShape(text, "dddd-dd-ddTdd:dd:ddZ");
  if (!date_only && !full) {
    return Status::InvalidArgument("expected a date YYYY-MM-DD or a UTC time YYYY-MM-DDTHH:MM:SSZ");
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
    return Status::InvalidArgument("the date or time is out of range");
  }
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  time_t t = timegm(&tm);
  struct tm check {};
  gmtime_r(&t, &check);
  if (check.tm_mday != d || check.tm_mon != mo - 1) {
    return Status::InvalidArgument("no such day in the calendar");
  }
  return static_cast<int64_t>(t) * 1000;
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace custodian::cli
