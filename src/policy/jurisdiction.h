// Default response deadlines by jurisdiction, used when a policy's rights
// section sets none. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace custodian::policy {

struct JurisdictionDefaults {
  std::string law;               // "GDPR", "DPDP Act 2023 / DPDP Rules 2025", ...
  int64_t rights_deadline_days;  // access, correction, erasure, ...
  int64_t extension_days;        // how much longer, if the law allows (0 = none)
  int64_t grievance_deadline_days;
  // Laws that count in calendar months (GDPR art. 12(3): one month, two more):
  // the deadline is this many months after receipt (31 January + 1 month =
  // 28/29 February); the *_days above are their approximate length in days.
  int64_t rights_deadline_months = 0;
  int64_t extension_months = 0;
};

// Known: EU/EEA member states and GB (GDPR: 30 days + 60), IN (DPDP: 90 days),
// ID (UU PDP, 3 days). Anything else gets a conservative 30 days and an empty
// `law`. `iso_country` is matched exactly (upper case).
JurisdictionDefaults DefaultsFor(std::string_view iso_country);

}  // namespace custodian::policy
