// Internals shared by the data-subject request files (requests.cc: the state
// machine; request_fulfill.cc: what each type does; exports.cc: the access
// bundle). Not part of the API.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "service/vault.h"
#include "service/vault_internal.h"

namespace custodian::service {

// A request being worked on inside one transaction: its row, its sealed part
// opened (details, resolution, purpose, corrections, evidence), and what the
// work produced that is shown once (the export's download token).
struct Vault::RequestWork {
  store::RequestRow row;
  nlohmann::json doc = nlohmann::json::object();
  std::string download_token;
};

// The sealed part of a request, opened ({} when it does not open) / sealed.
nlohmann::json OpenRequestDoc(const TenantContext& t, const store::RequestRow& r);
std::string SealRequestDoc(const TenantContext& t, std::string_view id, const nlohmann::json& doc);

// received + the right's deadline (calendar months where the law counts in
// months), else the jurisdiction's default.
int64_t RequestDueMs(const policy::Policy& policy, std::string_view type, int64_t received_ms);
// The due date after the law's one extension; nullopt when it allows none.
std::optional<int64_t> ExtendedDueMs(const policy::Policy& policy, std::string_view type,
                                     int64_t due_ms);

RequestEvidence EvidenceFromJson(const nlohmann::json& j);
nlohmann::json EvidenceToJson(const RequestEvidence& e);
RequestView RequestViewOf(const TenantContext& t, const store::RequestRow& r, int64_t now);

// Whether a request of this type is carried out as soon as the person is
// verified, with no operator: access, portability, objection, restriction,
// consent withdrawal, and corrections of self-service categories only.
bool FulfilledOnVerification(const policy::Policy& policy, const store::RequestRow& row,
                             const nlohmann::json& doc);

}  // namespace custodian::service
