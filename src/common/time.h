// Times as custodian reads and writes them: RFC 3339 in UTC.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "custodian/status.h"

namespace custodian {

// Days in `month` (1..12) of `year` in the proleptic Gregorian calendar; 0 for
// a month out of range.
int DaysInMonth(int year, int month);

// "2026-01-31T10:20:30Z" from unix milliseconds (whole seconds, UTC).
std::string FormatTime(int64_t ms);

// "YYYY-MM-DD" (midnight UTC) or RFC 3339 "YYYY-MM-DDTHH:MM:SS[.fraction]"
// followed by "Z" or an offset "+HH:MM" / "-HH:MM" ('t' and 'z' accepted), to
// unix milliseconds. InvalidArgument saying what is wrong (never echoing the
// text): the shape, a field out of range, or a day the calendar lacks.
Result<int64_t> ParseTime(std::string_view text);

}  // namespace custodian
