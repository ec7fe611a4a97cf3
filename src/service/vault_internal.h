// Internals shared by the vault's source files (vault.cc, records.cc): the
// per-tenant context, Vault::Impl and small helpers. Not part of the API.
#pragma once

#include <sodium.h>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "crypto/aead.h"
#include "crypto/blind_index.h"
#include "crypto/keys.h"
#include "crypto/normalize.h"
#include "crypto/secret.h"
#include "policy/loader.h"
#include "service/authorize.h"
#include "service/field_codec.h"
#include "service/probe_cache.h"
#include "service/vault.h"

namespace custodian::service {
namespace internal {

using crypto::Aead;
using crypto::BlindIndex;
using crypto::SecretBytes;

inline constexpr char kExternalIdCategory[] = "custodian.external_id";

}  // namespace internal

// The master key: CUSTODIAN_MASTER_KEY when set, else the key file at
// `key_file`, as the Aead that wraps tenant keys (vault.cc).
Result<crypto::Aead> OpenMasterKey(const std::string& key_file);

namespace internal {

inline std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

inline Status TenantNotFound(std::string_view tenant) {
  return Status::NotFound("tenant " + Quote(tenant) +
                          " does not exist; create it with `custodian tenant create`");
}
inline Status SubjectNotFound(std::string_view tenant, std::string_view subject) {
  return Status::NotFound("subject " + Quote(subject) + " does not exist in tenant " +
                          Quote(tenant));
}

// The checks every external id gets (a subject's, a record's subject's, a
// lookup's): 1 to 256 bytes of UTF-8. `what` names it in the length error.
inline Status ValidateExternalId(std::string_view id, std::string_view what = "the external id") {
  if (id.empty() || id.size() > 256) {
    return Status::InvalidArgument(std::string(what) + " must be 1 to 256 bytes");
  }
  return crypto::ValidateUtf8(id).WithContext("external id");
}

inline std::string NewId(std::string_view prefix) {
  static const char kAlphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";  // no 0/1/l/o
  unsigned char raw[20];
  randombytes_buf(raw, sizeof raw);
  std::string id(prefix);
  for (unsigned char c : raw) id.push_back(kAlphabet[c & 31]);
  return id;
}

}  // namespace internal
using namespace internal;  // NOLINT: private header of one library

// An audit event by `actor` at `time_ms` in `tenant` ("" for a store-wide
// one); outcome and the rest left for the caller.
inline audit::Event NewEvent(int64_t time_ms, const Actor& actor, std::string_view tenant,
                             std::string action) {
  audit::Event e;
  e.time_ms = time_ms;
  e.tenant = std::string(tenant);
  e.actor = actor.id;
  e.role = actor.role;
  e.action = std::move(action);
  return e;
}

// Everything the vault needs about one tenant, built once from the store.
struct TenantContext {
  std::string id;
  policy::Policy policy;
  Aead tenant_aead;    // seals nothing itself; kept to prove the key opened
  Aead key_wrap;       // wraps subject keys
  BlindIndex index;    // digests of indexed values and external ids
  BlindIndex credentials;  // digests of API key / session secrets, operator emails
  Aead operator_seal;      // seals operators' TOTP secrets and emails
  SecretBytes link_key;    // MACs unsubscribe links
  Aead channel_seal;       // seals channel settings
  // Lookup values already digested (no value in clear; service/probe_cache.h),
  // kept in the vault's ProbeTable.
  std::shared_ptr<const ProbeCache> probes;
};

// The in-memory side of credentials (service/access.cc): the API key cache,
// the sign-in limiter. Defined there.
struct AccessState;
struct AccessStateDeleter {
  void operator()(AccessState* state) const;
};
AccessState* NewAccessState(const VaultOptions& options);

struct Vault::Impl {
  VaultOptions options;
  std::unique_ptr<store::Store> store;
  Aead master;
  std::mutex mu;
  std::unordered_map<std::string, std::shared_ptr<const TenantContext>> tenants;
  std::unique_ptr<AccessState, AccessStateDeleter> access;
  // Every tenant context's probe cache keeps its entries here.
  std::shared_ptr<const ProbeTable> probe_table;

  Impl(VaultOptions o, std::unique_ptr<store::Store> s, Aead m)
      : options(std::move(o)),
        store(std::move(s)),
        master(std::move(m)),
        access(NewAccessState(options)),
        probe_table(std::make_shared<const ProbeTable>(options.probe_cache_entries)) {}

  int64_t Now() const { return options.clock(); }

  audit::Event Event(const Actor& actor, std::string_view tenant, std::string action) const {
    return NewEvent(Now(), actor, tenant, std::move(action));
  }

  // Loads (and caches) the tenant's policy and keys. Uses `tx` to read.
  Result<std::shared_ptr<const TenantContext>> Tenant(store::Transaction& tx,
                                                      std::string_view tenant) {
    if (auto cached = CachedTenant(tenant)) return cached;
    ASSIGN_OR_RETURN(auto row, tx.GetTenant(tenant));
    if (!row) return TenantNotFound(tenant);
    policy::LoadResult loaded = policy::LoadPolicyString(row->policy_yaml, row->id + ".yaml");
    if (!loaded.ok()) {
      return Status::DataLoss("the stored policy of tenant " + Quote(tenant) +
                              " no longer loads: " + loaded.diagnostics.front().ToString());
    }
    auto key = crypto::UnwrapKey(master, row->wrapped_key, crypto::TenantKeyContext(row->id));
    if (!key.ok()) {
      return Status::DataLoss("the master key does not open the key of tenant " + Quote(tenant) +
                              " (is this the master key of this data directory?)");
    }
    ASSIGN_OR_RETURN(SecretBytes wrap_key, crypto::DeriveSubkey(*key, crypto::Subkey::kKeyWrapping));
    ASSIGN_OR_RETURN(SecretBytes index_key, crypto::DeriveSubkey(*key, crypto::Subkey::kBlindIndex));
    ASSIGN_OR_RETURN(SecretBytes credential_key,
                     crypto::DeriveSubkey(*key, crypto::Subkey::kCredentialHash));
    ASSIGN_OR_RETURN(SecretBytes operator_key,
                     crypto::DeriveSubkey(*key, crypto::Subkey::kOperatorSeal));
    ASSIGN_OR_RETURN(SecretBytes link_key, crypto::DeriveSubkey(*key, crypto::Subkey::kLinkToken));
    ASSIGN_OR_RETURN(SecretBytes channel_key,
                     crypto::DeriveSubkey(*key, crypto::Subkey::kChannelSeal));
    ASSIGN_OR_RETURN(Aead tenant_aead, Aead::Create(std::move(key).value(), row->key_version));
    ASSIGN_OR_RETURN(Aead key_wrap, Aead::Create(std::move(wrap_key), row->key_version));
    ASSIGN_OR_RETURN(BlindIndex index, BlindIndex::Create(std::move(index_key)));
    ASSIGN_OR_RETURN(BlindIndex credentials, BlindIndex::Create(std::move(credential_key)));
    ASSIGN_OR_RETURN(Aead operator_seal, Aead::Create(std::move(operator_key), row->key_version));
    ASSIGN_OR_RETURN(Aead channel_seal, Aead::Create(std::move(channel_key), row->key_version));
    auto ctx = std::make_shared<const TenantContext>(TenantContext{
        row->id, std::move(*loaded.policy), std::move(tenant_aead), std::move(key_wrap),
        std::move(index), std::move(credentials), std::move(operator_seal), std::move(link_key),
        std::move(channel_seal), std::make_shared<const ProbeCache>(probe_table)});
    std::lock_guard<std::mutex> lock(mu);
    tenants.emplace(row->id, ctx);
    return std::shared_ptr<const TenantContext>(ctx);
  }

  Result<Aead> SubjectAead(const TenantContext& t, const store::SubjectRow& row) {
    if (row.wrapped_key.empty()) {
      return Status::FailedPrecondition("subject " + Quote(row.id) + " has been erased");
    }
    ASSIGN_OR_RETURN(SecretBytes key, crypto::UnwrapKey(t.key_wrap, row.wrapped_key,
                                                        crypto::SubjectKeyContext(t.id, row.id)));
    return Aead::Create(std::move(key), t.key_wrap.key_version());
  }

  // Decrypts the categories `allowed` lets through; the others are withheld.
  Result<SubjectView> Project(const TenantContext& t, const store::SubjectRow& row,
                              const std::set<std::string>& allowed) {
    SubjectView view;
    view.id = row.id;
    view.state = store::SubjectStateName(row.state);
    view.created_ms = row.created_ms;
    view.closed_ms = row.closed_ms;
    ASSIGN_OR_RETURN(SealedFieldViews sealed, DecodeFieldViews(row.fields));
    std::optional<Aead> aead;
    for (const auto& [category_view, blob] : sealed) {
      std::string category(category_view);
      if (!allowed.count(category)) {
        view.withheld.push_back(std::move(category));
        continue;
      }
      if (!aead) {
        ASSIGN_OR_RETURN(Aead a, SubjectAead(t, row));
        aead.emplace(std::move(a));
      }
      auto plain = aead->Open(blob, crypto::FieldAssociatedData(t.id, row.id, category));
      if (!plain.ok()) {
        return Status::DataLoss("field " + Quote(category) + " of subject " + Quote(row.id) +
                                " failed its integrity check");
      }
      const policy::Category* c = t.policy.FindCategory(category);
      std::string label = c ? c->label : category;
      view.fields.push_back({std::move(category), std::move(label), std::move(plain).value()});
    }
    return view;
  }

  // Where to reach the subject with a notice: its email on file when
  // `channel` is "email" (or "" and it has one), else its phone by sms.
  // nullopt when it has neither (or not the one asked for).
  struct Contact {
    std::string channel;  // email | sms | whatsapp
    std::string to;
  };
  Result<std::optional<Contact>> ContactOnFile(const TenantContext& t,
                                               const store::SubjectRow& row,
                                               std::string_view channel) {
    if (row.state == store::SubjectState::kErased) return std::optional<Contact>();
    for (const char* kind : {"email", "sms"}) {
      const bool email = std::string_view(kind) == "email";
      if (!channel.empty() && (channel == "email") != email) continue;
      std::set<std::string> contacts;
      for (const policy::Category& c : t.policy.categories) {
        if (c.normalize == (email ? policy::Normalizer::kEmail : policy::Normalizer::kPhone)) {
          contacts.insert(c.key);
        }
      }
      ASSIGN_OR_RETURN(SubjectView view, Project(t, row, contacts));
      if (!view.fields.empty()) {
        return std::optional<Contact>(
            Contact{channel.empty() ? kind : std::string(channel), view.fields.front().value});
      }
    }
    return std::optional<Contact>();
  }

  // Loaded before: the tenant's context without a transaction, or null.
  std::shared_ptr<const TenantContext> CachedTenant(std::string_view tenant) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = tenants.find(std::string(tenant));
    return it == tenants.end() ? nullptr : it->second;
  }

  // `event` as the record of `refusal`.
  static audit::Event RefusalEvent(audit::Event event, const Status& refusal) {
    event.outcome = "refused";
    event.reason = refusal.message();
    return event;
  }
  // Appends a refusal event in its own transaction and returns `refusal`.
  Status AuditRefusal(audit::Event event, const Status& refusal) {
    event = RefusalEvent(std::move(event), refusal);
    auto tx = store->Begin(true);
    if (!tx.ok()) return tx.status();
    auto seq = (*tx)->AppendAudit(event);
    if (!seq.ok()) return seq.status();
    RETURN_IF_ERROR((*tx)->Commit());
    return refusal;
  }
};


// Validated, normalized input for one subject, ready to be written.
struct Vault::PreparedSubject {
  std::vector<NormalizedField> fields;
  std::vector<std::string> digests;  // parallel to fields: blind-index digest if indexed
  std::string ext_digest;
  std::string subject_id;  // update this existing subject (not by external id)
  // The row this input becomes if it is a new subject (Vault::SealAhead: id,
  // wrapped key, sealed fields). Imports seal it ahead, on the thread that
  // prepares; otherwise Write seals it when it finds no subject. Unused when
  // the subject exists.
  std::optional<store::SubjectRow> fresh;
};

// An import batch validated and prepared off the store (Vault::Prepare*Batch),
// waiting for Vault::CommitImportBatch.
struct PreparedImportBatch {
  std::shared_ptr<const TenantContext> tenant;
  bool records = false;
  std::vector<ImportRowResult> results;  // rejects filled in; the rest decided at commit
  // subjects: prepared[i] is set for rows that passed validation
  std::vector<std::optional<Vault::PreparedSubject>> subjects;
  // records
  const policy::RecordKind* kind = nullptr;
  std::string kind_name;
  std::vector<RecordImportInput> records_in;
  std::vector<std::string> ext_digests;  // "" for rejected rows
};

// OK unless the subject's processing is restricted (a restriction request,
// or what an erasure kept under a legal obligation) and `purpose` rests on
// neither a legal obligation nor vital interests. PermissionDenied otherwise.
Status RestrictionAllows(const store::SubjectRow& subject, const policy::Purpose& purpose);

// The subjects an audit event is about: one goes in `subject`, several in
// `subjects` (none: neither is touched).
inline void SetEventSubjects(audit::Event& ev, std::vector<std::string> subjects) {
  if (subjects.size() == 1) {
    ev.subject = std::move(subjects.front());
    ev.subjects.clear();
  } else {
    ev.subjects = std::move(subjects);
  }
}

// True if two consent checks came out the same (allowed, or refused alike).
inline bool SameOutcome(const Status& a, const Status& b) {
  return a.ok() == b.ok() && a.message() == b.message();
}

// True if `a` and `b` are the same subject as far as a read is concerned:
// what a read outside the writer saw still stands inside it (lookups, show).
inline bool SameSubjectRow(const store::SubjectRow& a, const store::SubjectRow& b) {
  return a.state == b.state && a.updated_ms == b.updated_ms && a.closed_ms == b.closed_ms &&
         a.erased_ms == b.erased_ms && a.restricted == b.restricted &&
         a.wrapped_key == b.wrapped_key && a.fields == b.fields;
}

// OK when `purpose` may be used for `subject` now (service/consent.cc): not
// refused by a restriction (RestrictionAllows), and by the consent ledger a
// consent-based purpose needs the subject's grant (or a declared default of
// opted_in), a legitimate-interest purpose must have no standing objection;
// other purposes need nothing. PermissionDenied saying which otherwise.
Status ConsentAllows(store::Transaction& tx, std::string_view tenant,
                     const policy::Purpose& purpose, const store::SubjectRow& subject);

// Queues a message to an address inside `tx` (the address already
// normalized), sealed like every outbox message, with a message.enqueue audit
// event built on `base`. Returns the message id. (service/outbox.cc)
Result<std::string> QueueDirectMessage(store::Transaction& tx, const TenantContext& t,
                                       audit::Event base, const std::string& channel,
                                       const std::string& to, const std::string& email_subject,
                                       const std::string& text, int64_t now);
// Records one choice for a live subject inside `tx`: the history entry, the
// standing choice (unless a later one stands) and a consent.<state> audit
// event built on `base`. The change is checked against the policy first.
Status RecordConsent(store::Transaction& tx, const TenantContext& t, const Aead& subject_aead,
                     const audit::Event& base, std::string_view subject,
                     const policy::Purpose& purpose, const ConsentChange& change, int64_t now);
// The subject's standing on every purpose with a choice and its history of
// choices, opened with the subject's key (service/consent.cc).
Result<ConsentView> ReadConsents(store::Transaction& tx, const TenantContext& t, const Aead& aead,
                                 std::string_view subject);
// A record opened with its subject's key, with its anchor events (service/records.cc).
Result<RecordView> OpenRecord(store::Transaction& tx, const TenantContext& t, const Aead& aead,
                              const store::RecordRow& row);
// The tenant's channel settings (service/channels.cc); defaults when unset.
Result<ChannelSettings> LoadChannelSettings(store::Transaction& tx, const TenantContext& t);
// The subject's standing on every consent and legitimate-interest purpose.
Result<std::vector<ConsentStatus>> ConsentStatuses(store::Transaction& tx,
                                                   const policy::Policy& policy,
                                                   std::string_view tenant,
                                                   std::string_view subject);

// The subject row if it exists and is not erased; NotFound otherwise.
inline Result<store::SubjectRow> LiveSubject(store::Transaction& tx, std::string_view tenant,
                                             std::string_view subject) {
  ASSIGN_OR_RETURN(auto row, tx.GetSubject(tenant, subject));
  if (!row) return SubjectNotFound(tenant, subject);
  if (row->state == store::SubjectState::kErased) {
    return Status::NotFound("subject " + Quote(subject) + " has been erased");
  }
  return std::move(*row);
}

}  // namespace custodian::service
