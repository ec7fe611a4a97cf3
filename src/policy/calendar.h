// The retention calendar: when a rule's period ends, in the tenant's
// jurisdiction's local time.
//
// Retention is counted in whole days of the tenant's calendar. An item whose
// anchor (closure, collection, verification) happened at any time of local day
// D falls due at 00:00 local time on AddDuration(D, duration): "12 months after
// 31 January 2026" is due from 00:00 on 31 January 2027; "1 month after 31
// January" is due from 00:00 on the last day of February. Local time is a fixed
// offset from UTC per jurisdiction (no daylight saving; see UtcOffsetMinutes).
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "policy/model.h"

namespace custodian::policy {

inline constexpr int64_t kMsPerDay = 86'400'000;

// The jurisdiction's standard time as minutes east of UTC: IN +330, ID +420
// (Jakarta), GB 0, the EU/EEA states their standard (winter) time, anything
// else 0 (UTC). Daylight saving is not applied: in summer an EU tenant's days
// start an hour late, which delays a purge by at most an hour, never advances it.
int UtcOffsetMinutes(std::string_view iso_country);
// "UTC+05:30", "UTC".
std::string UtcOffsetName(int offset_minutes);

// The local day (days since 1970-01-01) of the instant `ms`.
int64_t LocalDay(int64_t ms, int offset_minutes);
// 00:00 local time of `day`, as unix milliseconds.
int64_t LocalMidnightMs(int64_t day, int offset_minutes);

// The day an item anchored on local day `anchor_day` falls due.
int64_t DueDay(int64_t anchor_day, const Duration& duration);

// The instant before which an anchor must lie for its item to be due at `now_ms`:
// an item anchored at t is due iff t < DueCutoffMs(now_ms, duration, offset).
// (DueDay is non-decreasing in the anchor day, so "due" is a prefix of time.)
int64_t DueCutoffMs(int64_t now_ms, const Duration& duration, int offset_minutes);

// "2027-01" for a day.
std::string MonthOfDay(int64_t day);

}  // namespace custodian::policy
