// libFuzzer target for the times custodian reads from requests, mappings and
// the command line (common/time.h).
//
// Half the inputs are raw text; the other half are built from fields the
// input picks (each a little past its range), so that most are well-formed.
// The target checks:
//   - a time ParseTime reads is written back by FormatTime in the shape
//     YYYY-MM-DDTHH:MM:SSZ, which ParseTime reads as the same second;
//   - for built text, ParseTime gives exactly what a reference computes from
//     the fields (days from the civil date, written here independently), or
//     refuses exactly the fields out of range: a month or day the calendar
//     lacks (also with a leap second), an hour, minute or offset out of
//     range, a result outside years 0000-9999;
//   - every error message is one of the known templates: none echoes input.
// A broken invariant aborts with a message; ASan/UBSan catch memory errors.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/time.h"
#include "fuzz_util.h"

namespace custodian {
namespace {

using fuzz::Check;

void CheckMessage(const Status& st) {
  const std::string& m = st.message();
  Check(m == "expected a date YYYY-MM-DD or an RFC 3339 time such as 2025-03-01T10:20:30Z" ||
            m == "the time zone offset is out of range" ||
            m == "the date or time is out of range" || m == "no such day in the calendar",
        "an unknown error message");
}

// Days from 1970-01-01 to the civil date (proleptic Gregorian), by counting
// whole 400-year eras and the days before the month in a March-based year.
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int DaysInMonth(int y, int m) {
  if (m == 2) return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28;
  return m == 4 || m == 6 || m == 9 || m == 11 ? 30 : 31;
}

void CheckRoundTrip(int64_t ms) {
  const std::string text = FormatTime(ms);
  Check(text.size() == 20 && text[4] == '-' && text[10] == 'T' && text.back() == 'Z',
        "FormatTime wrote another shape");
  auto again = ParseTime(text);
  const int64_t second = ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
  Check(again.ok() && *again == second * 1000, "FormatTime's text reads as another second");
}

void FuzzBuilt(FuzzedDataProvider& in) {
  const int y = in.ConsumeIntegralInRange(0, 9999);
  const int mo = in.ConsumeIntegralInRange(0, 13);
  const int d = in.ConsumeIntegralInRange(0, 32);
  const bool date_only = in.ConsumeBool();
  const int h = in.ConsumeIntegralInRange(0, 25);
  const int mi = in.ConsumeIntegralInRange(0, 61);
  const int s = in.ConsumeIntegralInRange(0, 61);
  const int frac_digits = in.ConsumeIntegralInRange(0, 10);
  const int zone = in.ConsumeIntegralInRange(0, 2);  // Z, +, -
  const int oh = in.ConsumeIntegralInRange(0, 25);
  const int om = in.ConsumeIntegralInRange(0, 61);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, mo, d);
  std::string text = buf;
  int64_t frac_ms = 0;
  if (!date_only) {
    std::snprintf(buf, sizeof buf, "T%02d:%02d:%02d", h, mi, s);
    text += buf;
    if (frac_digits > 0) {
      text += '.';
      int scale = 100;
      for (int i = 0; i < frac_digits; ++i) {
        const int digit = in.ConsumeIntegralInRange(0, 9);
        text += static_cast<char>('0' + digit);
        frac_ms += digit * scale;
        scale /= 10;
      }
    }
    if (zone == 0) {
      text += 'Z';
    } else {
      std::snprintf(buf, sizeof buf, "%c%02d:%02d", zone == 1 ? '+' : '-', oh, om);
      text += buf;
    }
  }
  auto got = ParseTime(text);

  const char* want_error = nullptr;
  int64_t want = 0;
  if (!date_only && frac_digits > 9) {
    want_error = "expected a date YYYY-MM-DD or an RFC 3339 time such as 2025-03-01T10:20:30Z";
  } else if (!date_only && zone != 0 && (oh > 23 || om > 59)) {
    want_error = "the time zone offset is out of range";
  } else if (mo < 1 || mo > 12 || d < 1 || d > 31 ||
             (!date_only && (h > 23 || mi > 59 || s > 60))) {
    want_error = "the date or time is out of range";
  } else if (d > DaysInMonth(y, mo)) {
    want_error = "no such day in the calendar";
  } else {
    const int64_t offset_s = date_only || zone == 0 ? 0 : (zone == 1 ? 1 : -1) * (oh * 3600 + om * 60);
    const int64_t secs = DaysFromCivil(y, mo, d) * 86400 +
                         (date_only ? 0 : h * 3600 + mi * 60 + s) - offset_s;
    want = secs * 1000 + (date_only ? 0 : frac_ms);
    if (want < -62167219200000 || want > 253402300799999) {
      want_error = "the date or time is out of range";
    }
  }
  if (want_error != nullptr) {
    Check(!got.ok() && got.status().message() == want_error, "ParseTime refused otherwise");
    return;
  }
  Check(got.ok() && *got == want, "ParseTime read another time than the reference");
  CheckRoundTrip(*got);
}

}  // namespace
}  // namespace custodian

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace custodian;
  FuzzedDataProvider in(data, size);
  if (in.ConsumeBool()) {
    FuzzBuilt(in);
    return 0;
  }
  const std::string raw = in.ConsumeRemainingBytesAsString();
  auto got = ParseTime(raw);
  if (got.ok()) {
    CheckRoundTrip(*got);
  } else {
    CheckMessage(got.status());
  }
  return 0;
}
