// Records: time-stamped items attached to a subject (Vault::AddRecord,
// RecordEvent, ListRecords). Payloads are JSON objects sealed under the
// subject's key with associated data naming the record, so a payload moved to
// another record or subject fails to open.
#include <sodium.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "crypto/aead.h"
#include "crypto/keys.h"
#include "crypto/normalize.h"
#include "service/authorize.h"
#include "service/vault.h"
#include "service/vault_internal.h"

namespace custodian::service {
namespace {

std::string RecordField(std::string_view record) { return "record:" + std::string(record); }

Status ValidatePayload(std::string_view json) {
  if (json.size() > kMaxRecordPayloadBytes) {
    return Status::InvalidArgument("the record data is " + std::to_string(json.size()) +
                                   " bytes; at most " + std::to_string(kMaxRecordPayloadBytes) +
                                   " are allowed");
  }
  RETURN_IF_ERROR(crypto::ValidateUtf8(json).WithContext("record data"));
  nlohmann::json parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return Status::InvalidArgument("the record data is not valid JSON; expected an object such as "
                                   "{\"amount\": 799}");
  }
  if (!parsed.is_object()) {
    return Status::InvalidArgument("the record data must be a JSON object, found " +
                                   std::string(parsed.type_name()));
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> Vault::AddRecord(const Actor& actor, std::string_view tenant,
                                     std::string_view subject, const RecordInput& record) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  const policy::RecordKind* kind = t->policy.FindRecordKind(record.kind);
  if (kind == nullptr) {
    return Status::InvalidArgument("record kind '" + record.kind +
                                   "' is not declared under record_kinds in the policy");
  }
  RETURN_IF_ERROR(ValidatePayload(record.payload_json));
  if (Status allowed = AuthorizeWrite(t->policy, actor.role, {kind->category}); !allowed.ok()) {
    audit::Event ev = impl_->Event(actor, tenant, "record.add");
    ev.subject = std::string(subject);
    ev.categories = {kind->category};
    return impl_->AuditRefusal(ev, allowed);
  }
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  ASSIGN_OR_RETURN(std::string id, WriteRecord(*tx, *t, actor, subject, record, *kind));
  RETURN_IF_ERROR(tx->Commit());
  return id;
}

Result<std::string> Vault::WriteRecord(store::Transaction& tx, const TenantContext& t,
                                       const Actor& actor, std::string_view subject,
                                       const RecordInput& record,
                                       const policy::RecordKind& kind) {
  ASSIGN_OR_RETURN(store::SubjectRow row, LiveSubject(tx, t.id, subject));
  ASSIGN_OR_RETURN(crypto::Aead aead, impl_->SubjectAead(t, row));
  store::RecordRow rec;
  rec.tenant = t.id;
  rec.id = NewId("rec_");
  rec.subject = row.id;
  rec.kind = record.kind;
  rec.at_ms = record.at_ms;
  rec.created_ms = impl_->Now();
  rec.payload = aead.Seal(record.payload_json,
                          crypto::FieldAssociatedData(t.id, row.id, RecordField(rec.id)));
  RETURN_IF_ERROR(tx.InsertRecord(rec));
  audit::Event ev = impl_->Event(actor, t.id, "record.add");
  ev.subject = row.id;
  ev.categories = {kind.category};
  ev.reason = "kind " + record.kind + ", record " + rec.id;
  ev.outcome = "ok";
  ev.count = 1;
  RETURN_IF_ERROR(tx.AppendAudit(ev).status());
  return rec.id;
}

Status Vault::RecordEvent(const Actor& actor, std::string_view tenant, std::string_view record,
                          std::string_view event, int64_t at_ms) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  ASSIGN_OR_RETURN(auto rec, tx->GetRecord(tenant, record));
  if (!rec) {
    return Status::NotFound("record '" + std::string(record) + "' does not exist in tenant '" +
                            std::string(tenant) + "'");
  }
  const policy::RecordKind* kind = t->policy.FindRecordKind(rec->kind);
  if (kind == nullptr) {
    return Status::FailedPrecondition("record kind '" + rec->kind +
                                      "' is no longer declared in the policy");
  }
  if (Status allowed = AuthorizeWrite(t->policy, actor.role, {kind->category}); !allowed.ok()) {
    tx.reset();
    audit::Event ev = impl_->Event(actor, tenant, "record.event");
    ev.subject = rec->subject;
    ev.categories = {kind->category};
    return impl_->AuditRefusal(ev, allowed);
  }
  if (std::find(kind->anchors.begin(), kind->anchors.end(), event) == kind->anchors.end()) {
    std::string allowed;
    for (const auto& a : kind->anchors) allowed += (allowed.empty() ? "" : ", ") + a;
    return Status::InvalidArgument("record kind '" + rec->kind + "' has no anchor event '" +
                                   std::string(event) + "' (declared: " +
                                   (allowed.empty() ? "none" : allowed) + ")");
  }
  RETURN_IF_ERROR(tx->PutRecordEvent(tenant, record, {std::string(event), at_ms}));
  audit::Event ev = impl_->Event(actor, tenant, "record.event");
  ev.subject = rec->subject;
  ev.categories = {kind->category};
  ev.reason = std::string(event) + ", record " + rec->id;
  ev.outcome = "ok";
  ev.count = 1;
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  return tx->Commit();
}

Result<RecordList> Vault::ListRecords(const Actor& actor, std::string_view tenant,
                                      std::string_view subject, std::string_view purpose,
                                      std::string_view kind) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  audit::Event ev = impl_->Event(actor, tenant, "record.list");
  ev.subject = std::string(subject);
  ev.purpose = std::string(purpose);
  auto grant = Authorize(t->policy, actor.role, purpose);
  if (!grant.ok()) return impl_->AuditRefusal(ev, grant.status());
  if (!kind.empty() && t->policy.FindRecordKind(std::string(kind)) == nullptr) {
    return Status::InvalidArgument("record kind '" + std::string(kind) +
                                   "' is not declared under record_kinds in the policy");
  }
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  ASSIGN_OR_RETURN(store::SubjectRow row, LiveSubject(*tx, tenant, subject));
  if (Status consent = ConsentAllows(*tx, tenant, *grant->purpose, row); !consent.ok()) {
    ev.outcome = "refused";
    ev.reason = consent.message();
    RETURN_IF_ERROR(tx->AppendAudit(ev).status());
    RETURN_IF_ERROR(tx->Commit());
    return consent;
  }
  ASSIGN_OR_RETURN(auto rows, tx->ListRecords(tenant, subject, kind));
  RecordList out;
  std::map<std::string, int> withheld;
  std::optional<crypto::Aead> aead;
  for (store::RecordRow& r : rows) {
    const policy::RecordKind* k = t->policy.FindRecordKind(r.kind);
    if (k == nullptr || !grant->categories.count(k->category)) {
      ++withheld[r.kind];
      continue;
    }
    if (!aead) {
      ASSIGN_OR_RETURN(crypto::Aead a, impl_->SubjectAead(*t, row));
      aead.emplace(std::move(a));
    }
    ASSIGN_OR_RETURN(RecordView v, OpenRecord(*tx, *t, *aead, r));
    if (std::find(ev.categories.begin(), ev.categories.end(), k->category) == ev.categories.end()) {
      ev.categories.push_back(k->category);
    }
    out.records.push_back(std::move(v));
  }
  for (const auto& [k, n] : withheld) out.withheld.push_back(k + " x" + std::to_string(n));
  ev.outcome = "ok";
  ev.count = static_cast<int64_t>(out.records.size());
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  RETURN_IF_ERROR(tx->Commit());
  return out;
}

Result<RecordView> OpenRecord(store::Transaction& tx, const TenantContext& t, const Aead& aead,
                              const store::RecordRow& r) {
  auto plain = aead.Open(r.payload, crypto::FieldAssociatedData(t.id, r.subject, RecordField(r.id)));
  if (!plain.ok()) {
    return Status::DataLoss("record '" + r.id + "' failed its integrity check");
  }
  const policy::RecordKind* k = t.policy.FindRecordKind(r.kind);
  RecordView v{r.id, r.subject, r.kind, k ? k->category : "", r.at_ms, std::move(plain).value(), {}};
  ASSIGN_OR_RETURN(auto events, tx.RecordEvents(t.id, r.id));
  for (auto& e : events) v.events.emplace_back(std::move(e.event), e.at_ms);
  return v;
}

}  // namespace custodian::service
