#include "policy/jurisdiction.h"

#include <algorithm>
#include <array>
#include <span>

namespace custodian::policy {
namespace {

// EU member states (27), ISO 3166-1 alpha-2. Greece is "GR" (not the EU's "EL").
constexpr std::array<std::string_view, 27> kEu = {
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"};
// EEA members outside the EU apply the GDPR through the EEA Agreement.
constexpr std::array<std::string_view, 3> kEeaOnly = {"IS", "LI", "NO"};

bool In(std::string_view code, std::span<const std::string_view> list) {
  return std::find(list.begin(), list.end(), code) != list.end();
}

}  // namespace

JurisdictionDefaults DefaultsFor(std::string_view iso_country) {
  // GDPR art. 12(3): one month, extendable by two further months (counted in
  // calendar months; 30 and 60 days for the notice's wording).
  if (In(iso_country, kEu)) return {"GDPR", 30, 60, 30, 1, 2};
  if (In(iso_country, kEeaOnly)) return {"GDPR (EEA Agreement)", 30, 60, 30, 1, 2};
  if (iso_country == "GB") return {"UK GDPR", 30, 60, 30, 1, 2};
  // DPDP Rules 2025: grievances and data principal rights answered within 90 days at most.
  if (iso_country == "IN") return {"DPDP Act 2023 / DPDP Rules 2025", 90, 0, 90};
  // UU PDP arts. 32-33: access and correction within 3 x 24 hours.
  if (iso_country == "ID") return {"UU PDP (Law No. 27 of 2022)", 3, 0, 3};
  return {"", 30, 0, 30};
}

}  // namespace custodian::policy
