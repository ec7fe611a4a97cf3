#include "service/vault.h"

#include <sodium.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

#include "crypto/aead.h"
#include "crypto/blind_index.h"
#include "crypto/keys.h"
#include "crypto/normalize.h"
#include "crypto/secret.h"
#include "policy/loader.h"
#include "service/authorize.h"
#include "service/backup.h"
#include "service/field_codec.h"
#include "service/vault_internal.h"

namespace custodian::service {

namespace fs = std::filesystem;

int64_t SystemClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Vault::Vault(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Vault::~Vault() {
  // Writes submitted to the store's committer (LookupThen, MatchCallThen)
  // use the vault: they finish while all of it is still here.
  if (impl_ && impl_->store) impl_->store->WaitForCommitCallbacks();
}
store::Store& Vault::store() { return *impl_->store; }

std::string Vault::StorePath(const std::string& data_dir) {
  return (fs::path(data_dir) / "custodian.db").string();
}
std::string Vault::MasterKeyPath(const std::string& data_dir) {
  return (fs::path(data_dir) / "master.key").string();
}

Status Vault::Init(const std::string& data_dir) {
  std::error_code ec;
  if (fs::exists(StorePath(data_dir), ec)) {
    return Status::AlreadyExists("data directory " + data_dir + " is already initialized");
  }
  fs::create_directories(data_dir, ec);
  if (ec) {
    return Status::FailedPrecondition("cannot create data directory " + data_dir + ": " +
                                      ec.message());
  }
  ::chmod(data_dir.c_str(), 0700);
  auto env_key = crypto::MasterKeyFromEnv();
  if (!env_key.ok()) {
    if (env_key.status().code() != StatusCode::kNotFound) return env_key.status();
    RETURN_IF_ERROR(crypto::CreateMasterKeyFile(MasterKeyPath(data_dir)));
  }
  auto st = store::OpenSqliteStore(StorePath(data_dir));
  if (!st.ok()) return st.status();
  // Sealed values only, but still nobody else's business: owner-only, like the key.
  ::chmod(StorePath(data_dir).c_str(), 0600);
  return Status::Ok();
}

// A wrong master key must be refused at open, before it can be used to wrap a
// new tenant's key that the real key could then never open.
static Status CheckMasterKey(store::Store& st, const Aead& master, const std::string& dir) {
  ASSIGN_OR_RETURN(auto tx, st.Begin(false));
  ASSIGN_OR_RETURN(std::vector<std::string> tenants, tx->ListTenants());
  if (tenants.empty()) return Status::Ok();
  ASSIGN_OR_RETURN(auto row, tx->GetTenant(tenants.front()));
  if (!row || !crypto::UnwrapKey(master, row->wrapped_key, crypto::TenantKeyContext(row->id)).ok()) {
    return Status::FailedPrecondition(
        "the master key does not open this data directory (" + dir +
        "): check CUSTODIAN_MASTER_KEY, which overrides master.key when set");
  }
  return Status::Ok();
}

Result<Aead> OpenMasterKey(const std::string& key_file) {
  auto key = crypto::MasterKeyFromEnv();
  if (!key.ok()) {
    if (key.status().code() != StatusCode::kNotFound) return key.status();
    key = crypto::LoadMasterKeyFile(key_file);
    if (!key.ok()) return key.status();
  }
  return Aead::Create(std::move(key).value(), 1);
}

Result<std::unique_ptr<Vault>> Vault::Open(VaultOptions options) {
  std::error_code ec;
  if (!fs::exists(StorePath(options.data_dir), ec)) {
    return Status::NotFound("no custodian data directory at " + options.data_dir +
                            "; create one with `custodian init --data-dir " + options.data_dir +
                            "`");
  }
  ASSIGN_OR_RETURN(Aead master, OpenMasterKey(options.master_key_file.empty()
                                                    ? MasterKeyPath(options.data_dir)
                                                    : options.master_key_file));
  store::SqliteOptions so;
  so.create_if_missing = false;
  so.group_commit = options.group_commit;
  if (options.checkpoint_pages > 0) so.checkpoint_pages = options.checkpoint_pages;
  ASSIGN_OR_RETURN(auto st, store::OpenSqliteStore(StorePath(options.data_dir), so));
  RETURN_IF_ERROR(CheckMasterKey(*st, master, options.data_dir));
  // A plaintext copy a crashed backup or restore left must not outlive the
  // erasures made from now on (invariant 4).
  (void)RemoveStaleStaging(options.data_dir);
  if (!options.clock) options.clock = SystemClockMs;
  return std::unique_ptr<Vault>(
      new Vault(std::make_unique<Impl>(std::move(options), std::move(st), std::move(master))));
}

Status Vault::CreateTenant(const Actor& actor, std::string_view tenant,
                           std::string_view policy_yaml, const std::string& source_name) {
  RETURN_IF_ERROR(ValidateTenantId(tenant));
  policy::LoadResult loaded = policy::LoadPolicyString(policy_yaml, source_name);
  if (!loaded.ok()) {
    std::string msg = "the policy has " + std::to_string(loaded.error_count()) + " error(s):";
    for (const auto& d : loaded.diagnostics) msg += "\n  " + d.ToString();
    return Status::InvalidArgument(msg);
  }
  SecretBytes key = SecretBytes::Random(crypto::kMasterKeySize);
  store::TenantRow row;
  row.id = std::string(tenant);
  row.wrapped_key = crypto::WrapKey(impl_->master, key, crypto::TenantKeyContext(tenant));
  row.key_version = 1;
  row.policy_yaml = std::string(policy_yaml);
  row.policy_version = loaded.policy->version;
  row.created_ms = impl_->Now();
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  RETURN_IF_ERROR(tx->InsertTenant(row));
  audit::Event ev = impl_->Event(actor, tenant, "tenant.create");
  ev.outcome = "ok";
  ev.reason = "policy version " + row.policy_version;
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  return tx->Commit();
}

Result<TenantInfo> Vault::GetTenant(std::string_view tenant) {
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(false));
  ASSIGN_OR_RETURN(auto row, tx->GetTenant(tenant));
  if (!row) return TenantNotFound(tenant);
  ASSIGN_OR_RETURN(int64_t n, tx->CountSubjects(tenant));
  return TenantInfo{row->id, row->policy_version, n};
}

Result<std::shared_ptr<const TenantContext>> Vault::TenantFor(std::string_view tenant) {
  // Loaded before: no transaction needed (every request starts here).
  if (auto cached = impl_->CachedTenant(tenant)) return cached;
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(false));
  return impl_->Tenant(*tx, tenant);
}

Status CheckSubjectInput(const policy::Policy& policy, const SubjectInput& in, InputFault* fault) {
  auto refuse = [&](const char* member, int index, Status s) {
    if (fault != nullptr) *fault = {member, index};
    return s;
  };
  int bad = -1;
  auto fields = NormalizeFields(policy, in.fields, {}, &bad);
  if (!fields.ok()) return refuse("fields", bad, fields.status());
  for (NormalizedField& f : *fields) sodium_memzero(f.value.data(), f.value.size());
  if (in.fields.empty()) {
    return refuse("fields", -1, Status::InvalidArgument("a subject needs at least one field"));
  }
  if (in.external_id) {
    if (Status s = ValidateExternalId(*in.external_id); !s.ok())
      return refuse("external_id", -1, s);
  }
  return Status::Ok();
}

Result<Vault::PreparedSubject> Vault::Prepare(const TenantContext& t, const SubjectInput& in) {
  PreparedSubject p;
  ASSIGN_OR_RETURN(p.fields, NormalizeFields(t.policy, in.fields));
  if (p.fields.empty()) return Status::InvalidArgument("a subject needs at least one field");
  if (in.external_id) {
    RETURN_IF_ERROR(ValidateExternalId(*in.external_id));
    p.ext_digest = t.index.Digest(kExternalIdCategory, *in.external_id);
  }
  Finish(t, p);
  return p;
}

void Vault::Finish(const TenantContext& t, PreparedSubject& p) {
  p.digests.resize(p.fields.size());
  for (std::size_t i = 0; i < p.fields.size(); ++i) {
    if (p.fields[i].indexed) p.digests[i] = t.index.Digest(p.fields[i].category, p.fields[i].value);
  }
}

Status Vault::SealAhead(const TenantContext& t, PreparedSubject& p) {
  store::SubjectRow row;
  row.tenant = t.id;
  row.id = NewId("sub_");
  row.external_digest = p.ext_digest;
  SecretBytes key = SecretBytes::Random(Aead::kKeySize);
  row.wrapped_key = crypto::WrapKey(t.key_wrap, key, crypto::SubjectKeyContext(t.id, row.id));
  ASSIGN_OR_RETURN(Aead aead, Aead::Create(std::move(key), t.key_wrap.key_version()));
  SealedFields sealed;
  sealed.reserve(p.fields.size());
  for (const NormalizedField& f : p.fields) {
    sealed.emplace_back(f.category,
                        aead.Seal(f.value, crypto::FieldAssociatedData(t.id, row.id, f.category)));
  }
  row.fields = EncodeFields(sealed);
  p.fresh = std::move(row);
  return Status::Ok();
}

Result<AddSubjectResult> Vault::Write(store::Transaction& tx, const TenantContext& t,
                                      const Actor& actor, PreparedSubject& in) {
  std::optional<store::SubjectRow> existing;
  if (!in.subject_id.empty()) {
    ASSIGN_OR_RETURN(store::SubjectRow row, LiveSubject(tx, t.id, in.subject_id));
    existing = std::move(row);
  } else if (!in.ext_digest.empty()) {
    ASSIGN_OR_RETURN(existing, tx.FindSubjectByExternalId(t.id, in.ext_digest));
  }
  const int64_t now = impl_->Now();
  if (!existing) {
    // A new subject: its row is sealed (ahead, for imports, or now); only
    // the times are left to set.
    if (!in.fresh) RETURN_IF_ERROR(SealAhead(t, in));
    store::SubjectRow row = std::move(*in.fresh);
    in.fresh.reset();
    row.created_ms = row.updated_ms = now;
    AddSubjectResult result;
    result.subject_id = row.id;
    result.created = true;
    result.fields_changed = static_cast<int>(in.fields.size());
    audit::Event ev = impl_->Event(actor, t.id, "subject.add");
    ev.subject = row.id;
    ev.outcome = "ok";
    ev.count = result.fields_changed;
    std::vector<store::IndexEntry> index;
    for (std::size_t i = 0; i < in.fields.size(); ++i) {
      ev.categories.push_back(in.fields[i].category);
      if (in.fields[i].indexed) index.push_back({in.fields[i].category, in.digests[i]});
    }
    RETURN_IF_ERROR(tx.PutSubject(row));
    if (!index.empty()) RETURN_IF_ERROR(tx.ReplaceIndex(t.id, row.id, index));
    RETURN_IF_ERROR(tx.AppendAudit(ev).status());
    return result;
  }
  // An existing subject: fields given replace those held when they differ.
  AddSubjectResult result;
  store::SubjectRow row = std::move(*existing);
  ASSIGN_OR_RETURN(Aead aead, impl_->SubjectAead(t, row));
  ASSIGN_OR_RETURN(SealedFields sealed, DecodeFields(row.fields));
  std::map<std::string, std::string> held;  // category -> plaintext (upsert compare)
  for (const auto& [category, blob] : sealed) {
    ASSIGN_OR_RETURN(std::string plain,
                     aead.Open(blob, crypto::FieldAssociatedData(t.id, row.id, category)));
    held[category] = std::move(plain);
  }
  result.subject_id = row.id;

  std::vector<std::string> touched;
  for (const NormalizedField& f : in.fields) {
    auto it = held.find(f.category);
    if (it != held.end() && crypto::ConstantTimeEquals(it->second, f.value)) {
      ++result.fields_unchanged;
      continue;
    }
    std::string blob = aead.Seal(f.value, crypto::FieldAssociatedData(t.id, row.id, f.category));
    auto slot = std::find_if(sealed.begin(), sealed.end(),
                             [&](const auto& p) { return p.first == f.category; });
    if (slot != sealed.end()) {
      slot->second = std::move(blob);
    } else {
      sealed.emplace_back(f.category, std::move(blob));
    }
    touched.push_back(f.category);
    ++result.fields_changed;
  }

  audit::Event ev = impl_->Event(actor, t.id, "subject.update");
  ev.subject = row.id;
  ev.categories = touched;
  ev.outcome = "ok";
  ev.count = result.fields_changed;
  if (result.fields_changed > 0) {
    // Index entries: every indexed category held, from the input or kept from
    // before for categories not given now.
    std::vector<store::IndexEntry> index;
    for (std::size_t i = 0; i < in.fields.size(); ++i) {
      if (in.fields[i].indexed) index.push_back({in.fields[i].category, in.digests[i]});
    }
    for (const auto& [category, plain] : held) {
      const policy::Category* c = t.policy.FindCategory(category);
      bool given = std::any_of(in.fields.begin(), in.fields.end(),
                               [&](const NormalizedField& f) { return f.category == category; });
      if (c && c->index_exact && !given) {
        index.push_back({category, t.index.Digest(category, plain)});
      }
    }
    row.fields = EncodeFields(sealed);
    row.updated_ms = now;
    RETURN_IF_ERROR(tx.PutSubject(row));
    RETURN_IF_ERROR(tx.ReplaceIndex(t.id, row.id, index));
  } else {
    ev.outcome = "unchanged";
  }
  RETURN_IF_ERROR(tx.AppendAudit(ev).status());
  return result;
}

Result<AddSubjectResult> Vault::UpdateSubject(const Actor& actor, std::string_view tenant,
                                              std::string_view subject,
                                              const std::vector<FieldInput>& fields) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  ASSIGN_OR_RETURN(PreparedSubject p, Prepare(*t, SubjectInput{fields, std::nullopt}));
  std::vector<std::string> categories;
  for (const NormalizedField& f : p.fields) categories.push_back(f.category);
  if (Status allowed = AuthorizeWrite(t->policy, actor.role, categories); !allowed.ok()) {
    audit::Event ev = impl_->Event(actor, t->id, "subject.update");
    ev.subject = std::string(subject);
    return impl_->AuditRefusal(ev, allowed);
  }
  p.subject_id = std::string(subject);
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  ASSIGN_OR_RETURN(AddSubjectResult r, Write(*tx, *t, actor, p));
  RETURN_IF_ERROR(tx->Commit());
  return r;
}

Result<AddSubjectResult> Vault::AddSubject(const Actor& actor, std::string_view tenant,
                                           const std::vector<FieldInput>& fields,
                                           const std::optional<std::string>& external_id) {
  ASSIGN_OR_RETURN(auto results, AddSubjects(actor, tenant, {SubjectInput{fields, external_id}}));
  return results.front();
}

Result<std::vector<AddSubjectResult>> Vault::AddSubjects(const Actor& actor,
                                                         std::string_view tenant,
                                                         const std::vector<SubjectInput>& batch) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  // Parsing and normalization happen before the write transaction starts.
  std::vector<PreparedSubject> prepared;
  prepared.reserve(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto p = Prepare(*t, batch[i]);
    if (!p.ok()) {
      return batch.size() == 1 ? p.status()
                               : p.status().WithContext("subject " + std::to_string(i + 1));
    }
    prepared.push_back(std::move(p).value());
  }
  std::vector<std::string> categories;
  for (const PreparedSubject& p : prepared) {
    for (const NormalizedField& f : p.fields) categories.push_back(f.category);
  }
  if (Status allowed = AuthorizeWrite(t->policy, actor.role, categories); !allowed.ok()) {
    audit::Event ev = impl_->Event(actor, t->id, "subject.add");
    return impl_->AuditRefusal(ev, allowed);
  }
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  std::vector<AddSubjectResult> results;
  results.reserve(prepared.size());
  for (PreparedSubject& p : prepared) {
    ASSIGN_OR_RETURN(AddSubjectResult r, Write(*tx, *t, actor, p));
    results.push_back(std::move(r));
  }
  RETURN_IF_ERROR(tx->Commit());
  return results;
}

Result<SubjectView> Vault::ShowSubject(const Actor& actor, std::string_view tenant,
                                       std::string_view subject, std::string_view purpose) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  audit::Event ev = impl_->Event(actor, tenant, "subject.show");
  ev.subject = std::string(subject);
  ev.purpose = std::string(purpose);
  auto grant = Authorize(t->policy, actor.role, purpose);
  if (!grant.ok()) return impl_->AuditRefusal(ev, grant.status());
  // What the read finds, and the decryption, happen outside the writer (as
  // for lookups, service/lookup.cc); the write transaction then checks that
  // the row and the consent outcome still stand before the event is appended
  // (unless the store tells that nothing they depend on was written since),
  // and decides again under its lock if they do not.
  struct Seen {
    std::optional<store::SubjectRow> row;
    Status consent;
    std::optional<SubjectView> view;
  };
  auto read = [&](store::Transaction& tx) -> Result<Seen> {
    Seen seen;
    ASSIGN_OR_RETURN(seen.row, tx.GetSubject(tenant, subject));
    if (seen.row && seen.row->state != store::SubjectState::kErased) {
      seen.consent = ConsentAllows(tx, tenant, *grant->purpose, *seen.row);
    }
    return seen;
  };
  auto live = [](const Seen& s) { return s.row && s.row->state != store::SubjectState::kErased; };
  Seen seen;
  const uint64_t read_token = impl_->store->SubjectReadToken();
  {
    ASSIGN_OR_RETURN(auto rtx, impl_->store->Begin(false));
    ASSIGN_OR_RETURN(seen, read(*rtx));
  }
  if (live(seen) && seen.consent.ok()) {
    ASSIGN_OR_RETURN(seen.view, impl_->Project(*t, *seen.row, grant->categories));
  }
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  if (!tx->SubjectsUnchangedSince(read_token)) {
    ASSIGN_OR_RETURN(Seen now, read(*tx));
    const bool same = seen.row.has_value() == now.row.has_value() &&
                      (!now.row || SameSubjectRow(*seen.row, *now.row)) &&
                      SameOutcome(seen.consent, now.consent);
    if (!same) {
      if (live(now) && now.consent.ok()) {
        ASSIGN_OR_RETURN(now.view, impl_->Project(*t, *now.row, grant->categories));
      }
      seen = std::move(now);
    }
  }
  if (!live(seen)) {
    Status nf = seen.row ? Status::NotFound("subject " + Quote(subject) + " has been erased")
                         : SubjectNotFound(tenant, subject);
    ev.outcome = "not_found";
    RETURN_IF_ERROR(tx->AppendAudit(ev).status());
    RETURN_IF_ERROR(tx->Commit());
    return nf;
  }
  if (!seen.consent.ok()) {
    ev.outcome = "refused";
    ev.reason = seen.consent.message();
    RETURN_IF_ERROR(tx->AppendAudit(ev).status());
    RETURN_IF_ERROR(tx->Commit());
    return seen.consent;
  }
  for (const auto& f : seen.view->fields) ev.categories.push_back(f.category);
  ev.outcome = "ok";
  ev.count = static_cast<int64_t>(seen.view->fields.size());
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  RETURN_IF_ERROR(tx->Commit());
  return std::move(*seen.view);
}

Status Vault::CloseSubject(const Actor& actor, std::string_view tenant, std::string_view subject,
                           std::optional<int64_t> at_ms) {
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  ASSIGN_OR_RETURN(auto t, impl_->Tenant(*tx, tenant));
  if (Status allowed = AuthorizeOperator(t->policy, actor.role, "closing a subject");
      !allowed.ok()) {
    tx.reset();
    audit::Event ev = impl_->Event(actor, tenant, "subject.close");
    ev.subject = std::string(subject);
    return impl_->AuditRefusal(ev, allowed);
  }
  ASSIGN_OR_RETURN(auto row, tx->GetSubject(tenant, subject));
  if (!row) return SubjectNotFound(tenant, subject);
  if (row->state == store::SubjectState::kErased) {
    return Status::FailedPrecondition("subject " + Quote(subject) + " has been erased");
  }
  if (row->state == store::SubjectState::kClosed) {
    return Status::FailedPrecondition("subject " + Quote(subject) + " is already closed");
  }
  row->state = store::SubjectState::kClosed;
  row->closed_ms = at_ms.value_or(impl_->Now());
  row->updated_ms = impl_->Now();
  RETURN_IF_ERROR(tx->PutSubject(*row));
  audit::Event ev = impl_->Event(actor, tenant, "subject.close");
  ev.subject = std::string(subject);
  ev.outcome = "ok";
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  return tx->Commit();
}

Status Vault::EraseSubject(const Actor& actor, std::string_view tenant, std::string_view subject) {
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  ASSIGN_OR_RETURN(auto t, impl_->Tenant(*tx, tenant));
  (void)t;
  if (Status allowed = AuthorizeAdmin(actor.role, "erasure"); !allowed.ok()) {
    tx.reset();
    audit::Event ev = impl_->Event(actor, tenant, "erase");
    ev.subject = std::string(subject);
    return impl_->AuditRefusal(ev, allowed);
  }
  ASSIGN_OR_RETURN(auto row, tx->GetSubject(tenant, subject));
  if (!row) return SubjectNotFound(tenant, subject);
  if (row->state == store::SubjectState::kErased) {
    return Status::FailedPrecondition("subject " + Quote(subject) + " is already erased");
  }
  ASSIGN_OR_RETURN(SealedFields sealed, DecodeFields(row->fields));
  RETURN_IF_ERROR(tx->EraseSubject(tenant, subject, impl_->Now()));
  audit::Event ev = impl_->Event(actor, tenant, "erase");
  ev.subject = std::string(subject);
  for (const auto& [category, blob] : sealed) ev.categories.push_back(category);
  ev.outcome = "ok";
  ev.count = static_cast<int64_t>(sealed.size());
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  RETURN_IF_ERROR(tx->Commit());
  // Move the erased pages out of the WAL now: secure_delete zeroed them in the
  // database pages, but the WAL still holds the pre-erasure page images until
  // a checkpoint. Busy readers can keep a checkpoint from finishing; the next
  // erase or the store's own auto-checkpoint completes it.
  (void)impl_->store->Checkpoint();
  return Status::Ok();
}


Result<EraseBatchResult> Vault::EraseSubjects(const Actor& actor, std::string_view tenant,
                                              const std::vector<std::string>& subjects,
                                              std::string_view reason) {
  audit::Event ev = impl_->Event(actor, tenant, "erase");
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  (void)t;
  if (Status allowed = AuthorizeAdmin(actor.role, "erasure"); !allowed.ok()) {
    return impl_->AuditRefusal(ev, allowed);
  }
  if (subjects.empty() || subjects.size() > kMaxEraseBatch) {
    return Status::InvalidArgument("a batch erases 1 to " + std::to_string(kMaxEraseBatch) +
                                   " subjects");
  }
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  const int64_t now = impl_->Now();
  EraseBatchResult result;
  std::set<std::string> categories;
  for (const std::string& id : subjects) {
    ASSIGN_OR_RETURN(auto row, tx->GetSubject(tenant, id));
    if (!row) return SubjectNotFound(tenant, id);  // nothing erased: the batch rolls back
    if (row->state == store::SubjectState::kErased) {
      ++result.already_erased;
      continue;
    }
    ASSIGN_OR_RETURN(SealedFields sealed, DecodeFields(row->fields));
    for (const auto& [category, blob] : sealed) categories.insert(category);
    RETURN_IF_ERROR(tx->EraseSubject(tenant, id, now));
    ev.subjects.push_back(id);
    ++result.erased;
  }
  std::sort(ev.subjects.begin(), ev.subjects.end());
  ev.categories.assign(categories.begin(), categories.end());
  ev.outcome = "ok";
  ev.count = result.erased;
  ev.reason = std::string(reason);
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  RETURN_IF_ERROR(tx->Commit());
  (void)impl_->store->Checkpoint();  // as EraseSubject: the erased pages leave the WAL
  return result;
}

}  // namespace custodian::service
