// The JSON form of the consent ledger's views, shared by the CLI (--json) and
// the HTTP API (GET/PUT /v1/subjects/{id}/consents), documented in
// docs/consent.md and api/openapi.yaml. Times are RFC 3339 UTC.
#pragma once

#include <nlohmann/json.hpp>

#include "service/vault.h"

namespace custodian::service {

// {"purpose", "basis", "state", "allowed", "default", "chosen_at" (null when default)}
nlohmann::ordered_json ConsentStatusJson(const ConsentStatus& s);
// {"purpose", "state", "source", "actor", "policy_version", "at", "recorded_at",
//  "message_id", "request_id"} (evidence only when present)
nlohmann::ordered_json ConsentEventJson(const ConsentEvent& e);
// {"subject", "purposes": [status...], "history": [event...]}
nlohmann::ordered_json ConsentViewJson(const ConsentView& v);

}  // namespace custodian::service
