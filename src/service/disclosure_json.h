// The JSON forms of disclosures, shared by the CLI (--json, the payload file),
// the HTTP API (/v1/disclosures) and the access export (disclosures.json);
// documented in docs/disclosures.md and api/openapi.yaml. Times are RFC 3339
// UTC; absent values are null.
#pragma once

#include <nlohmann/json.hpp>

#include "service/vault.h"
#include "store/store.h"

namespace custodian::service {

// A stored disclosure with what the policy says of its recipient now.
DisclosureView DisclosureRowView(const policy::Policy& policy, const store::DisclosureRow& row);

// {"id", "recipient", "recipient_label", "recipient_kind", "purpose",
//  "categories", "legal_reference", "at", "recorded_at", "subjects",
//  "exported"}; with `operator_view` also "actor" and "role" (the access
//  export leaves out who recorded it).
nlohmann::ordered_json DisclosureJson(const DisclosureView& d, bool operator_view = true);

// {"disclosure": {...}, "subjects": [ids], "refused": [{"subject", "reason"}],
//  "unmatched_lookups": [indexes]}; no personal value.
nlohmann::ordered_json DisclosureResultJson(const DisclosureResult& r);

// The payload handed to the recipient: {"format": "custodian.disclosure.v1",
//  "disclosure": {...}, "subjects": [{"subject", "fields": {category: value},
//  "records": [{"id", "kind", "at", "payload": {...}}]}]}. Personal data.
nlohmann::ordered_json DisclosurePayloadJson(const DisclosureResult& r);

}  // namespace custodian::service
