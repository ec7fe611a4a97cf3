// The audit trail as a provable record (docs/audit.md): the signing key,
// signed checkpoints, verification (whole or since a checkpoint), the export
// an auditor verifies offline, and the auditor's filtered reads.
//
// The signing key is an Ed25519 key whose 32-byte seed is wrapped by the
// master key and kept in the store (audit_keys), with its public key in
// clear. So the master key stays the one secret to guard and back up (it
// works the same from CUSTODIAN_MASTER_KEY), a copy of the store alone cannot
// sign, and a rotation of the master key rewraps it like the tenant keys.
#include <sodium.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "audit/checkpoint.h"
#include "audit/export.h"
#include "service/vault_internal.h"

namespace custodian::service {
namespace {

// Hands the events a store scan reads to `consume` on a second thread, in
// batches and in order, so that reading (SQLite) and checking (hashing) use
// both cores: verification runs at the pace of the slower of the two rather
// than of their sum. `consume` returning false stops the pipe; Push then
// returns false and the scan ends.
class EventPipe {
 public:
  explicit EventPipe(std::function<bool(const audit::StoredEvent&)> consume)
      : consume_(std::move(consume)), worker_([this] { Run(); }) {
    batch_.reserve(kBatch);
  }
  ~EventPipe() { Close(); }

  bool Push(const audit::StoredEvent& event) {
    batch_.push_back(event);
    if (batch_.size() < kBatch) return !stopped_.load(std::memory_order_relaxed);
    return Send();
  }
  // Delivers what is left and waits for the consumer to finish.
  void Close() {
    if (!worker_.joinable()) return;
    if (!batch_.empty()) Send();
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
    }
    ready_.notify_all();
    worker_.join();
  }

 private:
  static constexpr std::size_t kBatch = 4096;
  static constexpr std::size_t kQueued = 4;  // batches in flight: bounded memory

  bool Send() {
    std::unique_lock<std::mutex> lock(mu_);
    room_.wait(lock, [&] { return queue_.size() < kQueued || stopped_; });
    if (!stopped_) queue_.push_back(std::move(batch_));
    batch_ = {};
    batch_.reserve(kBatch);
    lock.unlock();
    ready_.notify_one();
    return !stopped_.load();
  }
  void Run() {
    while (true) {
      std::vector<audit::StoredEvent> batch;
      {
        std::unique_lock<std::mutex> lock(mu_);
        ready_.wait(lock, [&] { return !queue_.empty() || closed_; });
        if (queue_.empty()) return;
        batch = std::move(queue_.front());
        queue_.pop_front();
      }
      room_.notify_one();
      if (stopped_) continue;  // drain without checking
      for (const audit::StoredEvent& e : batch) {
        if (!consume_(e)) {
          std::lock_guard<std::mutex> lock(mu_);
          stopped_ = true;
          break;
        }
      }
      if (stopped_) room_.notify_all();
    }
  }

  std::function<bool(const audit::StoredEvent&)> consume_;
  std::vector<audit::StoredEvent> batch_;  // the producer's, being filled
  std::mutex mu_;
  std::condition_variable ready_, room_;
  std::deque<std::vector<audit::StoredEvent>> queue_;
  bool closed_ = false;
  std::atomic<bool> stopped_{false};
  std::thread worker_;
};

constexpr char kSigningKeyContext[] = "custodian.audit.signing-key.v1";
constexpr int64_t kMaxCheckpointsPerPage = 100000;

// The signing key, unwrapped for one use. Wipes itself.
struct SigningKey {
  std::string public_key;
  unsigned char secret[audit::kSecretKeySize] = {};
  SigningKey() = default;
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;
  ~SigningKey() { sodium_memzero(secret, sizeof secret); }
};

Status KeyChanged() {
  return Status::DataLoss(
      "the audit signing key in the store does not match its public key (the store's "
      "audit_keys table was changed): do not trust checkpoints made since; restore the store "
      "from a backup");
}

// Opens the stored signing key with the master key.
Status OpenSigningKey(const Aead& master, const store::AuditKeyRow& row, SigningKey& out) {
  auto seed = crypto::UnwrapKey(master, row.wrapped_seed, kSigningKeyContext);
  if (!seed.ok() || seed->size() != audit::kSeedSize) {
    return Status::DataLoss(
        "the audit signing key does not open with the master key (is this the master key of "
        "this data directory?)");
  }
  audit::KeyPairFromSeed(seed->view(), &out.public_key, out.secret);
  if (out.public_key != row.public_key) return KeyChanged();
  return Status::Ok();
}

// The store's signing key, made inside `tx` (a write transaction) if absent.
Result<store::AuditKeyRow> EnsureSigningKey(store::Transaction& tx, const Aead& master,
                                            int64_t now) {
  ASSIGN_OR_RETURN(auto row, tx.GetAuditKey());
  if (row) return std::move(*row);
  SecretBytes seed = SecretBytes::Random(audit::kSeedSize);
  SigningKey key;
  audit::KeyPairFromSeed(seed.view(), &key.public_key, key.secret);
  store::AuditKeyRow fresh{1, key.public_key, crypto::WrapKey(master, seed, kSigningKeyContext),
                           now};
  RETURN_IF_ERROR(tx.InsertAuditKey(fresh));
  return fresh;
}

Status CheckAuditReader(const Actor& actor) {
  if (actor.role == "auditor" || actor.role == kAdminRole) return Status::Ok();
  return Status::PermissionDenied("reading the audit trail needs role 'auditor' or 'admin' (role " +
                                  Quote(actor.role) + " may not)");
}

}  // namespace

Result<std::string> Vault::AuditPublicKey() {
  {
    ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(false));
    ASSIGN_OR_RETURN(auto row, tx->GetAuditKey());
    if (row) return row->public_key;
  }
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  ASSIGN_OR_RETURN(store::AuditKeyRow row, EnsureSigningKey(*tx, impl_->master, impl_->Now()));
  RETURN_IF_ERROR(tx->Commit());
  return row.public_key;
}

Result<std::optional<AuditCheckpointInfo>> Vault::CheckpointAudit() {
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  ASSIGN_OR_RETURN(auto head, tx->AuditHead());
  if (!head) return std::optional<AuditCheckpointInfo>();
  ASSIGN_OR_RETURN(auto last, tx->LastAuditCheckpoint());
  if (last && last->seq >= head->first) return std::optional<AuditCheckpointInfo>();
  ASSIGN_OR_RETURN(store::AuditKeyRow row, EnsureSigningKey(*tx, impl_->master, impl_->Now()));
  SigningKey key;
  RETURN_IF_ERROR(OpenSigningKey(impl_->master, row, key));
  audit::Checkpoint cp =
      audit::SignCheckpoint(head->first, head->second, impl_->Now(), key.public_key, key.secret);
  RETURN_IF_ERROR(tx->InsertAuditCheckpoint(cp));
  RETURN_IF_ERROR(tx->Commit());
  return std::optional<AuditCheckpointInfo>(
      AuditCheckpointInfo{cp.seq, audit::HexEncode(cp.head_hash), cp.time_ms, cp.key_id});
}

Result<std::vector<AuditCheckpointInfo>> Vault::ListAuditCheckpoints(int64_t after_seq,
                                                                    int limit) {
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(false));
  ASSIGN_OR_RETURN(auto cps, tx->ListAuditCheckpoints(after_seq, 0, limit));
  std::vector<AuditCheckpointInfo> out;
  for (const auto& cp : cps) {
    out.push_back({cp.seq, audit::HexEncode(cp.head_hash), cp.time_ms, cp.key_id});
  }
  return out;
}

Result<audit::VerifyReport> Vault::VerifyAudit(std::optional<int64_t> since_seq) {
  std::optional<store::AuditKeyRow> key_row;
  std::vector<audit::Checkpoint> checkpoints;
  std::optional<audit::Checkpoint> start;
  std::optional<std::string> start_event_hash;
  {
    ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(false));
    ASSIGN_OR_RETURN(key_row, tx->GetAuditKey());
    if (since_seq) {
      ASSIGN_OR_RETURN(start, tx->GetAuditCheckpoint(*since_seq));
      if (!start) {
        return Status::NotFound("there is no checkpoint at audit event " +
                                std::to_string(*since_seq) +
                                "; `custodian audit checkpoint --list` shows them");
      }
      ASSIGN_OR_RETURN(start_event_hash, tx->AuditHash(*since_seq));
    }
    // Checkpoints are few (one per N events or T seconds); held for the scan.
    int64_t after = since_seq.value_or(0);
    while (true) {
      ASSIGN_OR_RETURN(auto page, tx->ListAuditCheckpoints(after, 0, kMaxCheckpointsPerPage));
      if (page.empty()) break;
      after = page.back().seq;
      for (auto& cp : page) checkpoints.push_back(std::move(cp));
    }
  }
  if (!key_row && !checkpoints.empty()) {
    return Status::DataLoss("the store holds audit checkpoints but no signing key (the "
                            "audit_keys table was emptied): restore the store from a backup");
  }
  std::string public_key;
  if (key_row) {
    SigningKey key;
    RETURN_IF_ERROR(OpenSigningKey(impl_->master, *key_row, key));
    public_key = key.public_key;
  } else {
    // No checkpoint was ever made: the chain alone is checked.
    public_key.assign(audit::kPublicKeySize, '\0');
  }
  int64_t after = 0;
  std::string prev = audit::GenesisHash();
  if (start) {
    audit::TrailVerifier probe(public_key, start->seq, start->head_hash);
    if (!probe.AddCheckpoint(*start)) return probe.Finish();
    if (!start_event_hash || *start_event_hash != start->head_hash) {
      audit::VerifyReport r;
      r.ok = false;
      r.first_seq = start->seq;
      r.first_bad_seq = start->seq;
      r.problem = "event " + std::to_string(start->seq) +
                  ": its stored hash differs from the one checkpoint " +
                  std::to_string(start->seq) + " signed (the event was modified or removed)";
      return r;
    }
    after = start->seq;
    prev = start->head_hash;
  }
  audit::TrailVerifier verifier(public_key, after, prev);
  std::size_t next = 0;
  // The verifier and `next` belong to the pipe's thread until Close().
  EventPipe pipe([&](const audit::StoredEvent& ev) {
    if (!verifier.AddEvent(ev)) return false;
    while (next < checkpoints.size() && checkpoints[next].seq == ev.seq) {
      if (!verifier.AddCheckpoint(checkpoints[next++])) return false;
    }
    return true;
  });
  Status scanned = impl_->store->ScanAudit(
      after, [&](const audit::StoredEvent& ev) { return pipe.Push(ev); });
  pipe.Close();
  RETURN_IF_ERROR(scanned);
  int64_t pending = next < checkpoints.size() && verifier.ok() ? checkpoints[next].seq : 0;
  audit::VerifyReport report = verifier.Finish(pending);
  if (start && report.ok) report.checkpoints += 1;
  return report;
}

Result<AuditExportSummary> Vault::ExportAudit(
    const Actor& actor, const AuditExportOptions& options,
    const std::function<Status(std::string_view)>& write) {
  audit::Event ev = impl_->Event(actor, options.tenant, "audit.export");
  if (Status s = CheckAuditReader(actor); !s.ok()) return impl_->AuditRefusal(ev, s);
  if (options.page_size < 1) return Status::InvalidArgument("the page size must be at least 1");
  if (options.from_ms && options.to_ms && *options.from_ms >= *options.to_ms) {
    return Status::InvalidArgument("--from must be before --to");
  }
  audit::ExportHeader header;
  header.tenant = options.tenant;
  header.from_ms = options.from_ms;
  header.to_ms = options.to_ms;
  header.created_ms = impl_->Now();
  header.prev_hash = audit::GenesisHash();
  {
    // The range, the key and the export's own audit event, before any output.
    ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
    if (!options.tenant.empty()) {
      ASSIGN_OR_RETURN(auto t, tx->GetTenant(options.tenant));
      if (!t) return TenantNotFound(options.tenant);
    }
    ASSIGN_OR_RETURN(auto range, tx->AuditSeqRange(options.tenant, options.from_ms, options.to_ms));
    if (range) {
      header.first_seq = range->first;
      header.last_seq = range->second;
      if (range->first > 1) {
        ASSIGN_OR_RETURN(auto prev, tx->AuditHash(range->first - 1));
        if (!prev) return Status::DataLoss("audit event " + std::to_string(range->first - 1) +
                                           " is missing; run `custodian audit verify`");
        header.prev_hash = std::move(*prev);
      }
    }
    ASSIGN_OR_RETURN(store::AuditKeyRow key, EnsureSigningKey(*tx, impl_->master, impl_->Now()));
    header.public_key = key.public_key;
    ev.outcome = "ok";
    ev.reason = range ? "events " + std::to_string(header.first_seq) + " to " +
                            std::to_string(header.last_seq)
                      : "no events";
    ev.count = range ? header.last_seq - header.first_seq + 1 : 0;
    RETURN_IF_ERROR(tx->AppendAudit(ev).status());
    RETURN_IF_ERROR(tx->Commit());
  }
  AuditExportSummary summary;
  RETURN_IF_ERROR(write(audit::ExportHeaderLine(header)));
  const bool tenant_export = !options.tenant.empty();
  int64_t cursor = header.first_seq - 1;
  std::string head = header.prev_hash;
  int64_t last_written = header.first_seq - 1;
  while (cursor < header.last_seq) {
    std::vector<store::AuditRow> rows;
    std::vector<audit::Checkpoint> cps;
    {
      ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(false));
      store::AuditFilter f;
      f.tenant = options.tenant;
      f.after_seq = cursor;
      f.to_seq = header.last_seq;
      f.limit = options.page_size;
      f.with_prev = tenant_export;
      ASSIGN_OR_RETURN(rows, tx->ListAudit(f));
      int64_t page_end = rows.empty() || static_cast<int>(rows.size()) < options.page_size
                             ? header.last_seq
                             : rows.back().event.seq;
      ASSIGN_OR_RETURN(cps, tx->ListAuditCheckpoints(cursor, page_end, kMaxCheckpointsPerPage));
      cursor = page_end;
    }
    std::size_t c = 0;
    for (const auto& row : rows) {
      // Checkpoints between the previous event and this one (tenant exports).
      while (c < cps.size() && cps[c].seq < row.event.seq) {
        RETURN_IF_ERROR(write(audit::ExportCheckpointLine(cps[c++])));
        ++summary.checkpoints;
      }
      RETURN_IF_ERROR(
          write(audit::ExportEventLine(row.event, tenant_export ? row.prev_hash : "")));
      ++summary.events;
      head = row.event.hash;
      last_written = row.event.seq;
      while (c < cps.size() && cps[c].seq == row.event.seq) {
        RETURN_IF_ERROR(write(audit::ExportCheckpointLine(cps[c++])));
        ++summary.checkpoints;
      }
    }
    if (tenant_export) {
      // Checkpoints after the page's last event, up to where the page ends.
      while (c < cps.size()) {
        RETURN_IF_ERROR(write(audit::ExportCheckpointLine(cps[c++])));
        ++summary.checkpoints;
      }
    }
    if (rows.empty()) break;
  }
  RETURN_IF_ERROR(write(audit::ExportEndLine(summary.events, summary.checkpoints,
                                             tenant_export ? last_written : header.last_seq,
                                             head)));
  if (summary.events > 0) {
    summary.first_seq = header.first_seq;
    summary.last_seq = header.last_seq;
  }
  return summary;
}

Result<AuditPage> Vault::ListAudit(const Actor& actor, std::string_view tenant,
                                   const AuditQuery& query) {
  if (query.limit < 1 || query.limit > 1000) {
    return Status::InvalidArgument("limit must be 1 to 1000");
  }
  if (query.after_seq < 0) return Status::InvalidArgument("after must be 0 or more");
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  (void)t;
  audit::Event ev = impl_->Event(actor, tenant, "audit.read");
  ev.subject = query.subject;
  if (Status s = CheckAuditReader(actor); !s.ok()) return impl_->AuditRefusal(ev, s);
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  store::AuditFilter f;
  f.tenant = std::string(tenant);
  f.after_seq = query.after_seq;
  f.subject = query.subject;
  f.actor = query.actor;
  f.action = query.action;
  f.purpose = query.purpose;
  f.from_ms = query.from_ms;
  f.to_ms = query.to_ms;
  f.limit = query.limit + 1;
  ASSIGN_OR_RETURN(auto rows, tx->ListAudit(f));
  AuditPage page;
  for (std::size_t i = 0; i < rows.size() && i < static_cast<std::size_t>(query.limit); ++i) {
    auto e = audit::Event::FromCanonical(rows[i].event.canonical);
    if (!e.ok()) {
      return Status::DataLoss("audit event " + std::to_string(rows[i].event.seq) +
                              " is not a valid event; run `custodian audit verify`");
    }
    page.events.push_back(
        {rows[i].event.seq, std::move(e).value(), audit::HexEncode(rows[i].event.hash)});
  }
  if (rows.size() > static_cast<std::size_t>(query.limit)) {
    page.next_after = page.events.back().seq;
  }
  ev.outcome = "ok";
  ev.count = static_cast<int64_t>(page.events.size());
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  RETURN_IF_ERROR(tx->Commit());
  return page;
}

}  // namespace custodian::service
