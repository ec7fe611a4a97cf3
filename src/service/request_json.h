// The JSON form of a data-subject request, shared by the CLI (--json) and the
// HTTP API (/v1/requests), documented in docs/requests.md and
// api/openapi.yaml. Times are RFC 3339 UTC; absent values are null.
#pragma once

#include <nlohmann/json.hpp>

#include "service/vault.h"

namespace custodian::service {

// {"id", "type", "subject", "state", "verification", "assigned", "details",
//  "resolution", "purpose", "corrections": [{"category", "label", "value"}],
//  "officer", "received_at", "due_at", "extended_at", "overdue", "closed_at",
//  "evidence": {...} | null, "download_token" (only when just produced)}
nlohmann::ordered_json RequestJson(const RequestView& r);

}  // namespace custodian::service
