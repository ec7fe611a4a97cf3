// GET /v1/audit: the query and the page as JSON (docs/http-api.md, docs/audit.md).
// The route itself is in api.cc, which authenticates and calls
// Vault::ListAudit. Thread-safety: pure functions.
#pragma once

#include <optional>

#include "http/message.h"
#include "service/vault.h"

namespace custodian::http {

// Reads subject, actor, action, purpose, from, to (RFC 3339), after (the
// cursor: a seq) and limit (1..1000, default 100) from the query string. A
// 400 problem naming the parameter when one is malformed or unknown.
std::optional<Response> ParseAuditQuery(const Request& req, service::AuditQuery& query);

// {"events": [...], "next_after": N | null}, each event with its seq, time,
// hash and canonical fields.
Response AuditPageResponse(const service::AuditPage& page);

}  // namespace custodian::http
