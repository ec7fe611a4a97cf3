// Bulk import batches (Vault::ImportSubjectBatch, ImportRecordBatch): rows
// validated one by one before the transaction, then the valid rows, their
// audit events and the import's progress written in one transaction, so a
// crash leaves either the whole batch with its progress or neither.
#include <algorithm>
#include <map>

#include "crypto/normalize.h"
#include "service/authorize.h"
#include "service/vault.h"
#include "service/vault_internal.h"

namespace custodian::service {
namespace {

constexpr char kImportIdLabel[] = "custodian.import";
constexpr char kImportRecordLabel[] = "custodian.import.record";

ImportRowResult Rejected(int field, std::string reason) {
  return {ImportOutcome::kRejected, field, std::move(reason)};
}

void Count(const std::vector<ImportRowResult>& results, store::ImportRow& p) {
  for (const ImportRowResult& r : results) {
    switch (r.outcome) {
      case ImportOutcome::kAdded: ++p.added; break;
      case ImportOutcome::kUpdated: ++p.updated; break;
      case ImportOutcome::kUnchanged: ++p.unchanged; break;
      case ImportOutcome::kRejected: ++p.rejected; break;
    }
  }
}

// A record id from a keyed digest of what the record is: the same row
// imported again gets the same id.
std::string RecordIdFor(const BlindIndex& index, std::string_view kind, std::string_view subject,
                        int64_t at_ms, std::string_view payload) {
  std::string material;
  material.append(kind).push_back('\0');
  material.append(subject).push_back('\0');
  material.append(std::to_string(at_ms)).push_back('\0');
  material.append(payload);
  std::string digest = index.Digest(kImportRecordLabel, material);
  static const char kAlphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";  // as NewId
  std::string id = "rec_";
  for (std::size_t i = 0; i < 20; ++i) id.push_back(kAlphabet[digest[i] & 31]);
  return id;
}

std::string RecordField(std::string_view record) { return "record:" + std::string(record); }

}  // namespace

Result<std::shared_ptr<const policy::Policy>> Vault::TenantPolicy(std::string_view tenant) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  return std::shared_ptr<const policy::Policy>(t, &t->policy);
}

Status Vault::AuthorizeImport(const Actor& actor, std::string_view tenant,
                              std::string_view action) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  Status allowed = AuthorizeAdmin(actor.role, "importing");
  if (!allowed.ok())
    return impl_->AuditRefusal(impl_->Event(actor, t->id, std::string(action)), allowed);
  return Status::Ok();
}

Result<std::string> Vault::ImportId(std::string_view tenant, std::string_view identity) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  return t->index.Digest(kImportIdLabel, identity);
}

Result<std::optional<store::ImportRow>> Vault::GetImport(std::string_view tenant,
                                                         std::string_view kind,
                                                         std::string_view import_id) {
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(false));
  return tx->GetImport(tenant, kind, import_id);
}

Result<std::shared_ptr<PreparedImportBatch>> Vault::PrepareSubjectBatch(
    std::string_view tenant, std::string_view phone_region, const std::vector<SubjectInput>& rows) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  auto batch = std::make_shared<PreparedImportBatch>();
  batch->tenant = t;
  batch->results.resize(rows.size());
  batch->subjects.resize(rows.size());
  std::vector<ImportRowResult>& results = batch->results;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const SubjectInput& in = rows[i];
    PreparedSubject p;
    bool ok = true;
    for (std::size_t f = 0; f < in.fields.size() && ok; ++f) {
      auto norm = NormalizeField(t->policy, in.fields[f], phone_region);
      if (!norm.ok()) {
        results[i] = Rejected(static_cast<int>(f), norm.status().message());
        ok = false;
        break;
      }
      for (const auto& prev : p.fields) {
        if (prev.category == norm->category) {
          results[i] = Rejected(static_cast<int>(f), "category given twice");
          ok = false;
        }
      }
      if (ok) p.fields.push_back(std::move(norm).value());
    }
    if (!ok) continue;
    if (p.fields.empty()) {
      results[i] = Rejected(-1, "the row has no value to import");
      continue;
    }
    if (in.external_id) {
      if (Status ext = ValidateExternalId(*in.external_id); !ext.ok()) {
        results[i] = Rejected(-1, ext.message());
        continue;
      }
      p.ext_digest = t->index.Digest(kExternalIdCategory, *in.external_id);
    }
    Finish(*t, p);
    RETURN_IF_ERROR(SealAhead(*t, p));
    batch->subjects[i] = std::move(p);
  }
  return batch;
}

Result<std::shared_ptr<PreparedImportBatch>> Vault::PrepareRecordBatch(
    std::string_view tenant, std::string_view kind, std::vector<RecordImportInput> rows) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  const policy::RecordKind* k = t->policy.FindRecordKind(std::string(kind));
  if (k == nullptr) {
    return Status::InvalidArgument("record kind " + Quote(kind) +
                                   " is not declared under record_kinds in the policy");
  }
  auto batch = std::make_shared<PreparedImportBatch>();
  batch->tenant = t;
  batch->records = true;
  batch->kind = k;
  batch->kind_name = std::string(kind);
  batch->results.resize(rows.size());
  batch->ext_digests.resize(rows.size());
  std::vector<ImportRowResult>& results = batch->results;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const RecordImportInput& in = rows[i];
    if (in.record.kind != kind) {
      return Status::Internal("a record of another kind in a record import batch");
    }
    if (Status ext = ValidateExternalId(in.subject_external_id, "the subject's external id");
        !ext.ok()) {
      results[i] = Rejected(-1, ext.message());
    } else if (in.record.payload_json.size() > kMaxRecordPayloadBytes) {
      results[i] = Rejected(-1, "the record data is " +
                                    std::to_string(in.record.payload_json.size()) +
                                    " bytes; at most " + std::to_string(kMaxRecordPayloadBytes) +
                                    " are allowed");
    } else {
      batch->ext_digests[i] = t->index.Digest(kExternalIdCategory, in.subject_external_id);
    }
  }
  batch->records_in = std::move(rows);
  return batch;
}

Result<std::vector<ImportRowResult>> Vault::ImportSubjectBatch(
    const Actor& actor, std::string_view tenant, std::string_view phone_region,
    const std::vector<SubjectInput>& rows, store::ImportRow& progress,
    const ImportBeforeCommit& before_commit) {
  ASSIGN_OR_RETURN(auto batch, PrepareSubjectBatch(tenant, phone_region, rows));
  return CommitImportBatch(actor, *batch, progress, before_commit);
}

Result<std::vector<ImportRowResult>> Vault::ImportRecordBatch(
    const Actor& actor, std::string_view tenant, std::string_view kind,
    const std::vector<RecordImportInput>& rows, store::ImportRow& progress,
    const ImportBeforeCommit& before_commit) {
  ASSIGN_OR_RETURN(auto batch, PrepareRecordBatch(tenant, kind, rows));
  return CommitImportBatch(actor, *batch, progress, before_commit);
}

Result<std::vector<ImportRowResult>> Vault::CommitImportBatch(
    const Actor& actor, PreparedImportBatch& batch, store::ImportRow& progress,
    const ImportBeforeCommit& before_commit) {
  const TenantContext& t = *batch.tenant;
  RETURN_IF_ERROR(AuthorizeAdmin(actor.role, "importing"));
  std::vector<ImportRowResult> results = batch.results;
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  if (!batch.records) {
    for (std::size_t i = 0; i < batch.subjects.size(); ++i) {
      if (!batch.subjects[i]) continue;
      ASSIGN_OR_RETURN(AddSubjectResult r, Write(*tx, t, actor, *batch.subjects[i]));
      results[i].outcome = r.created               ? ImportOutcome::kAdded
                           : r.fields_changed > 0 ? ImportOutcome::kUpdated
                                                  : ImportOutcome::kUnchanged;
    }
  } else {
    RETURN_IF_ERROR(WriteRecords(*tx, t, actor, batch, results));
  }
  store::ImportRow next = progress;
  Count(results, next);
  ASSIGN_OR_RETURN(next.rejects_bytes, before_commit(results));
  next.tenant = t.id;
  next.updated_ms = impl_->Now();
  RETURN_IF_ERROR(tx->PutImport(next));
  RETURN_IF_ERROR(tx->Commit());
  progress = std::move(next);
  return results;
}

Status Vault::WriteRecords(store::Transaction& tx, const TenantContext& t, const Actor& actor,
                           const PreparedImportBatch& batch, std::vector<ImportRowResult>& results) {
  const std::string& kind = batch.kind_name;
  struct PerSubject {
    int64_t added = 0;
    int64_t unchanged = 0;
  };
  std::map<std::string, PerSubject> touched;  // subject id -> counts, for the audit
  std::map<std::string, std::pair<store::SubjectRow, Aead>> subjects;  // by external digest
  const int64_t now = impl_->Now();
  for (std::size_t i = 0; i < batch.records_in.size(); ++i) {
    const std::string& ext = batch.ext_digests[i];
    if (ext.empty()) continue;
    auto it = subjects.find(ext);
    if (it == subjects.end()) {
      ASSIGN_OR_RETURN(auto row, tx.FindSubjectByExternalId(t.id, ext));
      if (!row || row->state == store::SubjectState::kErased) {
        results[i] = Rejected(-1, "no subject has this external id; import the subjects first");
        continue;
      }
      ASSIGN_OR_RETURN(Aead aead, impl_->SubjectAead(t, *row));
      it = subjects.emplace(ext, std::make_pair(std::move(*row), std::move(aead))).first;
    }
    const store::SubjectRow& subject = it->second.first;
    const RecordInput& in = batch.records_in[i].record;
    store::RecordRow rec;
    rec.tenant = t.id;
    rec.id = RecordIdFor(t.index, kind, subject.id, in.at_ms, in.payload_json);
    rec.subject = subject.id;
    rec.kind = kind;
    rec.at_ms = in.at_ms;
    rec.created_ms = now;
    rec.payload = it->second.second.Seal(
        in.payload_json, crypto::FieldAssociatedData(t.id, subject.id, RecordField(rec.id)));
    ASSIGN_OR_RETURN(bool inserted, tx.InsertRecordIfAbsent(rec));
    results[i].outcome = inserted ? ImportOutcome::kAdded : ImportOutcome::kUnchanged;
    PerSubject& counts = touched[subject.id];
    ++(inserted ? counts.added : counts.unchanged);
  }
  if (touched.empty()) return Status::Ok();
  // One event for the batch, naming every subject it touched.
  int64_t added = 0, unchanged = 0;
  audit::Event ev = impl_->Event(actor, t.id, "record.import");
  ev.subjects.reserve(touched.size());
  for (const auto& [subject, counts] : touched) {
    ev.subjects.push_back(subject);
    added += counts.added;
    unchanged += counts.unchanged;
  }
  ev.categories = {batch.kind->category};
  ev.reason = "kind " + kind + ": " + std::to_string(added) + " added, " +
              std::to_string(unchanged) + " unchanged, " + std::to_string(touched.size()) +
              " subjects";
  ev.outcome = added > 0 ? "ok" : "unchanged";
  ev.count = added;
  RETURN_IF_ERROR(tx.AppendAudit(ev).status());
  return Status::Ok();
}

}  // namespace custodian::service
