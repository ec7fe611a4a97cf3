// POST /v1/disclosures and GET /v1/subjects/{id}/disclosures: the body read
// into a DisclosureInput and the answers shaped (docs/disclosures.md,
// api/openapi.yaml). The routes are in api.cc, which authenticates and calls
// Vault::Disclose / ListDisclosures. Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "http/message.h"
#include "service/vault.h"

namespace custodian::http {

// Reads recipient, purpose, categories, subjects, lookups, legal_reference,
// at and export. A 400 problem pointing at the member when one is malformed
// or unknown.
std::optional<Response> ParseDisclosureBody(const nlohmann::json& body,
                                            service::DisclosureInput& input);

// The JSON pointer a refusal of `input` is about ("/categories/1"...), from
// the same checks the vault made; nullopt when it is about no member.
std::optional<std::string> DisclosurePointer(const policy::Policy& policy,
                                             const service::DisclosureInput& input,
                                             int64_t now_ms);

// 201 {"disclosure", "subjects", "refused", "unmatched_lookups"} and, when the
// payload was exported, "payload".
Response DisclosureCreatedResponse(const service::DisclosureResult& result);

// 200 {"disclosures": [...]}.
Response DisclosureListResponse(const std::vector<service::DisclosureView>& list);

}  // namespace custodian::http
