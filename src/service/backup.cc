#include "service/backup.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/time.h"
#include "common/fd.h"
#include "service/retention.h"
#include "service/vault_internal.h"

namespace custodian::service {
namespace {

namespace fs = std::filesystem;

constexpr const char* kStagingPrefixes[] = {".backup-", ".verify-", ".restore-"};
constexpr char kStagingLock[] = ".lock";
// A staging directory without its lock file is being made, or was left by a
// crash in the instant between mkdir and the lock (or by a version before the
// lock): stale once it is this old.
constexpr auto kUnlockedStagingAge = std::chrono::minutes(10);
using crypto::Aead;
using crypto::SecretBytes;

constexpr std::string_view kMagic = "CUSTODIAN BACKUP 1\n";
constexpr std::size_t kChunkBytes = std::size_t{1} << 20;
constexpr uint32_t kMaxHeaderBytes = 64 * 1024;
constexpr uint32_t kMaxWrappedBytes = 1024;

std::string Hex(std::string_view bytes) { return audit::HexEncode(bytes); }

std::string RandomHex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  return Hex(raw);
}

std::string Errno(int err) { return std::strerror(err); }

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// The associated data of chunk `index`: which backup, which chunk, and
// whether the file ends with it.
std::string ChunkAd(std::string_view id, uint64_t index, bool last) {
  return "custodian backup " + std::string(id) + " chunk " + std::to_string(index) +
         (last ? " last" : " more");
}

// The context the file key is wrapped under: the whole clear header, by hash.
std::string KeyContext(std::string_view header) {
  unsigned char digest[32];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(header.data()),
                     header.size(), nullptr, 0);
  return "custodian backup key " +
         Hex(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

nlohmann::ordered_json HeaderJson(const BackupSummary& s) {
  return {{"format", 1},          {"id", s.id},
          {"created_ms", s.created_ms}, {"chunk_bytes", kChunkBytes},
          {"schema", s.schema},   {"bytes", s.bytes},
          {"audit_events", s.audit_events}, {"audit_head", s.audit_head},
          {"tenants", s.tenants}, {"subjects", s.subjects}};
}

using Fd = UniqueFd;

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  if (const int err = custodian::WriteAll(fd, data); err != 0) {
    return Status::FailedPrecondition("cannot write " + path + ": " + Errno(err));
  }
  return Status::Ok();
}

// Reads up to `n` bytes (fewer only at the end of the file).
Result<std::string> ReadUpTo(int fd, std::size_t n, const std::string& path) {
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::read(fd, out.data() + got, n - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::FailedPrecondition("cannot read " + path + ": " + Errno(errno));
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  out.resize(got);
  return out;
}

void SyncDir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// Removes a SQLite file and what may lie beside it.
void RemoveDb(const fs::path& db) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(db.string() + suffix, ec);
}

// A private working directory (0700) named PREFIX-RANDOM, holding a
// plaintext copy of the store while a backup, verification or restore runs.
// It holds an exclusive flock on its `.lock` file for as long as it lives, so
// that RemoveStaleStaging can tell one a crash left behind from one in use;
// it is removed with everything in it when it goes.
class StagingDir {
 public:
  static Result<StagingDir> Make(const fs::path& parent, std::string_view prefix) {
    fs::path dir = parent / (std::string(prefix) + RandomHex(8));
    if (::mkdir(dir.c_str(), 0700) != 0) {
      return Status::FailedPrecondition("cannot create " + dir.string() + ": " + Errno(errno));
    }
    StagingDir staging(dir);
    const fs::path lock = dir / kStagingLock;
    staging.lock_ = UniqueFd(::open(lock.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (staging.lock_.get() < 0 || ::flock(staging.lock_.get(), LOCK_EX | LOCK_NB) != 0) {
      return Status::FailedPrecondition("cannot lock " + lock.string() + ": " + Errno(errno));
    }
    return staging;
  }
  StagingDir(StagingDir&& other) noexcept
      : dir_(std::exchange(other.dir_, fs::path())), lock_(std::move(other.lock_)) {}
  StagingDir& operator=(StagingDir&&) = delete;
  ~StagingDir() {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  const fs::path& path() const { return dir_; }

 private:
  explicit StagingDir(fs::path dir) : dir_(std::move(dir)) {}
  fs::path dir_;
  UniqueFd lock_;  // closed after the directory is gone
};

Result<std::unique_ptr<store::Store>> OpenCopy(const fs::path& db) {
  store::SqliteOptions o;
  o.create_if_missing = false;
  o.cache_kib = 8 * 1024;
  return store::OpenSqliteStore(db.string(), o);
}

// An audit event by `actor`, now; `tenant` "" for a store-wide one.
audit::Event EventBy(const Actor& actor, std::string tenant, std::string action) {
  audit::Event ev = NewEvent(SystemClockMs(), actor, tenant, std::move(action));
  ev.outcome = "ok";
  return ev;
}

// Appends `ev` in a write transaction of its own.
Status AppendAlone(store::Store& st, const audit::Event& ev) {
  ASSIGN_OR_RETURN(auto tx, st.Begin(true));
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  return tx->Commit();
}

// The counts and audit head of a store, for a backup's header.
Status Summarize(store::Store& st, BackupSummary& s) {
  ASSIGN_OR_RETURN(auto tx, st.Begin(false));
  ASSIGN_OR_RETURN(std::vector<std::string> tenants, tx->ListTenants());
  s.tenants = static_cast<int>(tenants.size());
  s.subjects = 0;
  for (const std::string& t : tenants) {
    ASSIGN_OR_RETURN(int64_t n, tx->CountSubjects(t));
    s.subjects += n;
  }
  ASSIGN_OR_RETURN(auto head, tx->AuditHead());
  s.audit_events = head ? head->first : 0;
  s.audit_head = head ? Hex(head->second) : "";
  return Status::Ok();
}

// Encrypts the file at `plain` into the new file `path` (via path.partial,
// linked into place so that an existing file is never overwritten).
Status WriteEncrypted(const Aead& master, const BackupSummary& summary, const fs::path& plain,
                      const std::string& path) {
  const std::string partial = path + ".partial";
  Fd out(::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (out.get() < 0) {
    return Status::FailedPrecondition("cannot create " + partial + ": " + Errno(errno));
  }
  Status st = [&]() -> Status {
    Fd in(::open(plain.c_str(), O_RDONLY | O_CLOEXEC));
    if (in.get() < 0) return Status::Internal("cannot read the snapshot: " + Errno(errno));
    const std::string header = HeaderJson(summary).dump();
    SecretBytes key = SecretBytes::Random(Aead::kKeySize);  // this backup's own
    const std::string wrapped = crypto::WrapKey(master, key, KeyContext(header));
    ASSIGN_OR_RETURN(Aead file_key, Aead::Create(std::move(key), 1));
    std::string head(kMagic);
    PutU32(head, static_cast<uint32_t>(header.size()));
    head += header;
    PutU32(head, static_cast<uint32_t>(wrapped.size()));
    head += wrapped;
    RETURN_IF_ERROR(WriteAll(out.get(), head, partial));
    int64_t done = 0;
    for (uint64_t index = 0;; ++index) {
      ASSIGN_OR_RETURN(std::string chunk, ReadUpTo(in.get(), kChunkBytes, plain.string()));
      done += static_cast<int64_t>(chunk.size());
      const bool last = done >= summary.bytes;
      if (!last && chunk.size() < kChunkBytes) {
        return Status::Internal("the snapshot changed while it was encrypted");
      }
      std::string sealed = file_key.Seal(chunk, ChunkAd(summary.id, index, last));
      std::string frame;
      PutU32(frame, static_cast<uint32_t>(sealed.size()));
      frame.push_back(last ? '\1' : '\0');  // in clear, and bound by the associated data
      RETURN_IF_ERROR(WriteAll(out.get(), frame + sealed, partial));
      if (last) break;
    }
    if (::fsync(out.get()) != 0) return Status::FailedPrecondition("cannot sync " + partial);
    if (::link(partial.c_str(), path.c_str()) != 0) {
      const int err = errno;
      if (err == EEXIST) return Status::AlreadyExists(path + " already exists");
      return Status::FailedPrecondition("cannot create " + path + ": " + Errno(err));
    }
    return Status::Ok();
  }();
  ::unlink(partial.c_str());
  if (st.ok()) SyncDir(fs::path(path).parent_path().empty() ? fs::path(".") : fs::path(path).parent_path());
  return st;
}

// Reads the backup at `path`, checks every chunk with the master key, and
// writes the snapshot to the new file `plain`. The header comes back in
// `summary`.
Status Decrypt(const Aead& master, const std::string& path, const fs::path& plain,
               BackupSummary& summary) {
  const std::string name = "backup " + path;
  Fd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) {
    const int err = errno;
    if (err == ENOENT) return Status::NotFound(name + " does not exist");
    return Status::FailedPrecondition("cannot read " + name + ": " + Errno(err));
  }
  int64_t offset = 0;
  // `n` bytes, all of them, or an error saying what was cut short.
  auto take = [&](std::size_t n, std::string_view what) -> Result<std::string> {
    ASSIGN_OR_RETURN(std::string bytes, ReadUpTo(in.get(), n, path));
    if (bytes.size() < n) {
      return Status::DataLoss(name + " is cut short at byte " +
                              std::to_string(offset + static_cast<int64_t>(bytes.size())) +
                              " (in " + std::string(what) + ")");
    }
    offset += static_cast<int64_t>(n);
    return bytes;
  };
  auto u32 = [&](std::string_view what) -> Result<uint32_t> {
    ASSIGN_OR_RETURN(std::string b, take(4, what));
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[i]);
    return v;
  };
  ASSIGN_OR_RETURN(std::string magic, ReadUpTo(in.get(), kMagic.size(), path));
  if (magic != kMagic) {
    return Status::InvalidArgument(name + " is not a custodian backup (it does not start with \"" +
                                   std::string(kMagic.substr(0, kMagic.size() - 1)) + "\")");
  }
  offset = static_cast<int64_t>(kMagic.size());
  ASSIGN_OR_RETURN(uint32_t header_size, u32("the header"));
  if (header_size > kMaxHeaderBytes) {
    return Status::DataLoss(name + ": its header is damaged (it claims " +
                            std::to_string(header_size) + " bytes)");
  }
  ASSIGN_OR_RETURN(std::string header, take(header_size, "the header"));
  const nlohmann::json h = nlohmann::json::parse(header, nullptr, /*allow_exceptions=*/false);
  auto int_field = [&](const char* key) -> std::optional<int64_t> {
    if (!h.is_object() || !h.contains(key) || !h[key].is_number_integer()) return std::nullopt;
    return h[key].get<int64_t>();
  };
  const auto format = int_field("format");
  const auto chunk_bytes = int_field("chunk_bytes");
  if (!format || *format != 1 || !chunk_bytes || *chunk_bytes != static_cast<int64_t>(kChunkBytes) ||
      !h.contains("id") || !h["id"].is_string() || !h.contains("audit_head") ||
      !h["audit_head"].is_string() || !int_field("created_ms") || !int_field("schema") ||
      !int_field("bytes") || !int_field("audit_events") || !int_field("tenants") ||
      !int_field("subjects")) {
    return Status::DataLoss(name + ": its header is damaged or of an unknown format");
  }
  summary.id = h["id"].get<std::string>();
  summary.created_ms = *int_field("created_ms");
  summary.schema = static_cast<int>(*int_field("schema"));
  summary.bytes = *int_field("bytes");
  summary.audit_events = *int_field("audit_events");
  summary.audit_head = h["audit_head"].get<std::string>();
  summary.tenants = static_cast<int>(*int_field("tenants"));
  summary.subjects = *int_field("subjects");
  ASSIGN_OR_RETURN(uint32_t wrapped_size, u32("the key"));
  if (wrapped_size > kMaxWrappedBytes) {
    return Status::DataLoss(name + ": its key is damaged (it claims " +
                            std::to_string(wrapped_size) + " bytes)");
  }
  ASSIGN_OR_RETURN(std::string wrapped, take(wrapped_size, "the key"));
  auto key = crypto::UnwrapKey(master, wrapped, KeyContext(header));
  if (!key.ok()) {
    return Status::FailedPrecondition(
        "the master key does not open " + name +
        " (it was made with another master key, or its header was changed)");
  }
  ASSIGN_OR_RETURN(Aead file_key, Aead::Create(std::move(key).value(), 1));

  Fd out(::open(plain.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (out.get() < 0) {
    return Status::FailedPrecondition("cannot create " + plain.string() + ": " + Errno(errno));
  }
  int64_t written = 0;
  for (uint64_t index = 0;; ++index) {
    const int64_t at = offset;
    const std::string chunk = "chunk " + std::to_string(index);
    ASSIGN_OR_RETURN(uint32_t size, u32(chunk));
    if (size > kChunkBytes + Aead::kOverhead) {
      return Status::DataLoss(name + " is damaged at byte " + std::to_string(at) + " (" + chunk +
                              " claims " + std::to_string(size) + " bytes)");
    }
    ASSIGN_OR_RETURN(std::string flag, take(1, chunk));
    const bool last = flag[0] != '\0';
    ASSIGN_OR_RETURN(std::string sealed, take(size, chunk));
    auto opened = file_key.Open(sealed, ChunkAd(summary.id, index, last));
    if (!opened.ok()) {
      return Status::DataLoss(name + " is damaged at byte " + std::to_string(at) + " (" + chunk +
                              " fails its integrity check)");
    }
    written += static_cast<int64_t>(opened->size());
    RETURN_IF_ERROR(WriteAll(out.get(), *opened, plain.string()));
    if (last) break;
  }
  ASSIGN_OR_RETURN(std::string rest, ReadUpTo(in.get(), 1, path));
  if (!rest.empty()) {
    return Status::DataLoss(name + " has bytes after its last chunk, from byte " +
                            std::to_string(offset));
  }
  if (written != summary.bytes) {
    return Status::DataLoss(name + " holds " + std::to_string(written) +
                            " bytes where its header says " + std::to_string(summary.bytes));
  }
  if (::fsync(out.get()) != 0) return Status::FailedPrecondition("cannot sync " + plain.string());
  return Status::Ok();
}

// The checks of a decrypted snapshot: SQLite's, the audit chain, every
// tenant key under the master key, and the header's counts.
Result<audit::VerifyReport> CheckSnapshot(const Aead& master, store::Store& st,
                                          const BackupSummary& header, const std::string& name) {
  RETURN_IF_ERROR(st.CheckIntegrity().WithContext(name));
  ASSIGN_OR_RETURN(audit::VerifyReport report, st.VerifyAudit());
  if (!report.ok) {
    return Status::DataLoss(name + ": its audit chain is broken: " + report.problem);
  }
  {
    ASSIGN_OR_RETURN(auto tx, st.Begin(false));
    ASSIGN_OR_RETURN(std::vector<std::string> tenants, tx->ListTenants());
    for (const std::string& t : tenants) {
      ASSIGN_OR_RETURN(auto row, tx->GetTenant(t));
      if (!row || !crypto::UnwrapKey(master, row->wrapped_key, crypto::TenantKeyContext(t)).ok()) {
        return Status::FailedPrecondition("the master key does not open tenant '" + t + "' in " +
                                          name);
      }
    }
  }
  BackupSummary found;
  RETURN_IF_ERROR(Summarize(st, found));
  if (found.audit_events != header.audit_events || found.audit_head != header.audit_head ||
      found.tenants != header.tenants || found.subjects != header.subjects) {
    return Status::DataLoss(name + ": its contents do not match its header (audit chain through "
                                   "event " +
                            std::to_string(found.audit_events) + ", " +
                            std::to_string(found.subjects) + " subjects in " +
                            std::to_string(found.tenants) + " tenants)");
  }
  return report;
}

bool IsBackupFile(const std::string& path) {
  Fd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return false;
  auto head = ReadUpTo(in.get(), kMagic.size(), path);
  return head.ok() && *head == kMagic;
}

// What a newer copy of the store says was taken away, per tenant: subjects
// erased, and subjects an erasure request restricted to what a legal
// obligation keeps (their newer row, record kinds and erasure holds).
struct Removed {
  std::set<std::string> erased;
  std::map<std::string, store::SubjectRow> restricted;
  std::map<std::string, std::set<std::string>> kinds;
  std::map<std::string, std::vector<store::ErasureHoldRow>> holds;
};

// What `source` removed. It must continue the audit chain of the restored
// snapshot (`summary`), so that it is a later copy of it; `chain` gets its
// audit head.
Result<std::map<std::string, Removed>> RemovedIn(store::Store& source,
                                                 const BackupSummary& summary,
                                                 const std::string& name, std::string& chain) {
  ASSIGN_OR_RETURN(auto tx, source.Begin(false));
  ASSIGN_OR_RETURN(auto head, tx->AuditHead());
  const int64_t last = head ? head->first : 0;
  chain = "event " + std::to_string(last) + (head ? " (head " + Hex(head->second) + ")" : "");
  if (summary.audit_events > 0) {
    if (last < summary.audit_events) {
      return Status::FailedPrecondition(
          name + " is older than the backup (its audit chain ends at event " +
          std::to_string(last) + ", the backup's at " + std::to_string(summary.audit_events) +
          "); give only newer copies of this store");
    }
    ASSIGN_OR_RETURN(auto hash, tx->AuditHash(summary.audit_events));
    if (!hash || Hex(*hash) != summary.audit_head) {
      return Status::FailedPrecondition(
          name + " does not continue the backup's audit chain (event " +
          std::to_string(summary.audit_events) +
          " differs): it is not a later copy of the store the backup was made from");
    }
  }
  std::map<std::string, Removed> removed;
  ASSIGN_OR_RETURN(std::vector<std::string> tenants, tx->ListTenants());
  for (const std::string& t : tenants) {
    Removed& r = removed[t];
    RETURN_IF_ERROR(tx->ScanSubjects(t, [&](const store::SubjectRow& row) {
      if (row.state == store::SubjectState::kErased) {
        r.erased.insert(row.id);
      } else if (row.restricted) {
        r.restricted.emplace(row.id, row);
      }
      return true;
    }));
    for (const auto& [id, row] : r.restricted) {
      ASSIGN_OR_RETURN(auto records, tx->ListRecords(t, id, ""));
      for (const store::RecordRow& rec : records) r.kinds[id].insert(rec.kind);
      ASSIGN_OR_RETURN(r.holds[id], tx->ListErasureHolds(t, id));
    }
  }
  return removed;
}

// Restricts the restored subject `id` as the newer copy did after an erasure
// request: the fields, record kinds and holds the law keeps, nothing else,
// out of every index; audited as an erase. False if there was nothing to do.
Result<bool> Restrict(Vault& vault, const Actor& actor, const std::string& tenant,
                      const std::string& id, const Removed& newer) {
  ASSIGN_OR_RETURN(auto tx, vault.store().Begin(true));
  ASSIGN_OR_RETURN(auto restored, tx->GetSubject(tenant, id));
  if (!restored || restored->restricted || restored->state == store::SubjectState::kErased) {
    return false;
  }
  const store::SubjectRow& row = newer.restricted.at(id);
  ASSIGN_OR_RETURN(SealedFields had, DecodeFields(restored->fields));
  ASSIGN_OR_RETURN(SealedFields kept, DecodeFields(row.fields));
  std::set<std::string> keep;
  for (const auto& [category, blob] : kept) keep.insert(category);
  audit::Event ev = EventBy(actor, tenant, "erase");
  ev.subject = id;
  for (const auto& [category, blob] : had) {
    if (!keep.count(category)) ev.categories.push_back(category);
  }
  RETURN_IF_ERROR(tx->PutSubject(row));
  RETURN_IF_ERROR(tx->ReplaceIndex(tenant, id, {}));
  ASSIGN_OR_RETURN(auto records, tx->ListRecords(tenant, id, ""));
  std::set<std::string> gone;
  const auto kinds = newer.kinds.find(id);
  for (const store::RecordRow& rec : records) {
    if (kinds == newer.kinds.end() || !kinds->second.count(rec.kind)) gone.insert(rec.kind);
  }
  ASSIGN_OR_RETURN(int64_t deleted,
                   tx->DeleteSubjectRecords(tenant, id, {gone.begin(), gone.end()}));
  RETURN_IF_ERROR(tx->DeletePersonalExtras(tenant, id));
  const auto holds = newer.holds.find(id);
  if (holds != newer.holds.end()) {
    for (const store::ErasureHoldRow& h : holds->second) RETURN_IF_ERROR(tx->InsertErasureHold(h));
  }
  ev.count = static_cast<int64_t>(ev.categories.size()) + deleted;
  ev.reason = "re-applied after restore; kept under a legal obligation: " +
              std::to_string(kept.size()) + " field(s)";
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  RETURN_IF_ERROR(tx->Commit());
  return true;
}

std::string UtcStamp(int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace

Result<BackupSummary> CreateBackup(Vault& vault, const std::string& data_dir,
                                   const std::string& path, const Actor& actor) {
  std::error_code ec;
  if (fs::exists(path, ec)) return Status::AlreadyExists(path + " already exists");
  ASSIGN_OR_RETURN(Aead master, OpenMasterKey(Vault::MasterKeyPath(data_dir)));
  ASSIGN_OR_RETURN(StagingDir guard, StagingDir::Make(data_dir, kStagingPrefixes[0]));
  const fs::path& staging = guard.path();
  const fs::path plain = staging / "custodian.db";
  BackupSummary summary;
  summary.id = RandomHex(16);
  {  // A copy of every personal value is an operation on all of them: audited.
    audit::Event ev = EventBy(actor, "", "backup");
    ev.reason = "backup " + summary.id + " to " + path;
    RETURN_IF_ERROR(AppendAlone(vault.store(), ev));
  }
  RETURN_IF_ERROR(vault.store().CopyTo(plain.string()));
  summary.created_ms = SystemClockMs();
  summary.schema = store::kSchemaVersion;
  {
    ASSIGN_OR_RETURN(auto copy, OpenCopy(plain));
    RETURN_IF_ERROR(Summarize(*copy, summary));
  }  // closed: SQLite folds its WAL back into the file and removes it
  summary.bytes = static_cast<int64_t>(fs::file_size(plain, ec));
  if (ec) return Status::Internal("cannot size the snapshot: " + ec.message());
  RETURN_IF_ERROR(WriteEncrypted(master, summary, plain, path));
  return summary;
}

Result<BackupCheck> VerifyBackup(const std::string& data_dir, const std::string& path) {
  ASSIGN_OR_RETURN(Aead master, OpenMasterKey(Vault::MasterKeyPath(data_dir)));
  std::error_code ec;
  const fs::path parent = fs::is_directory(data_dir, ec) ? fs::path(data_dir)
                                                         : fs::temp_directory_path();
  ASSIGN_OR_RETURN(StagingDir guard, StagingDir::Make(parent, kStagingPrefixes[1]));
  const fs::path& staging = guard.path();
  BackupCheck check;
  const fs::path plain = staging / "custodian.db";
  RETURN_IF_ERROR(Decrypt(master, path, plain, check.summary));
  ASSIGN_OR_RETURN(auto st, OpenCopy(plain));
  ASSIGN_OR_RETURN(check.audit, CheckSnapshot(master, *st, check.summary, "backup " + path));
  return check;
}

namespace {

// RestoreBackup once `data_dir` exists and the key, place and in-use checks
// have passed: everything from decrypting to moving the store into place.
Result<RestoreReport> RestoreStaged(const std::string& data_dir, const Aead& master,
                                    bool has_store, const std::string& path,
                                    const RestoreOptions& options) {
  const fs::path dir(data_dir);
  const fs::path live = Vault::StorePath(data_dir);
  const std::string key_file = Vault::MasterKeyPath(data_dir);
  std::error_code ec;
  ASSIGN_OR_RETURN(StagingDir guard, StagingDir::Make(dir, kStagingPrefixes[2]));
  const fs::path& staging = guard.path();
  RestoreReport report;
  const fs::path plain = staging / "custodian.db";
  RETURN_IF_ERROR(Decrypt(master, path, plain, report.summary));
  {
    ASSIGN_OR_RETURN(auto st, OpenCopy(plain));
    RETURN_IF_ERROR(CheckSnapshot(master, *st, report.summary, "backup " + path).status());
  }

  // Erasures made after the backup, from every newer copy given.
  std::map<std::string, Removed> removed;
  std::string replaced_chain;  // how far the replaced store's audit chain went
  auto read_erasures = [&](const fs::path& db, const std::string& name) -> Status {
    ASSIGN_OR_RETURN(auto source, OpenCopy(db));
    std::string chain;
    ASSIGN_OR_RETURN(auto found, RemovedIn(*source, report.summary, name, chain));
    if (db == live) replaced_chain = chain;
    for (auto& [tenant, r] : found) {
      Removed& all = removed[tenant];
      all.erased.insert(r.erased.begin(), r.erased.end());
      all.restricted.insert(r.restricted.begin(), r.restricted.end());
      all.kinds.insert(r.kinds.begin(), r.kinds.end());
      all.holds.insert(r.holds.begin(), r.holds.end());
    }
    report.sources.push_back(name);
    return Status::Ok();
  };
  if (has_store) RETURN_IF_ERROR(read_erasures(live, live.string()));
  int n = 0;
  for (const std::string& from : options.erasures_from) {
    if (IsBackupFile(from)) {
      const fs::path copy = staging / ("erasures-" + std::to_string(n++) + ".db");
      BackupSummary other;
      RETURN_IF_ERROR(Decrypt(master, from, copy, other));
      RETURN_IF_ERROR(read_erasures(copy, from));
      RemoveDb(copy);
    } else if (fs::is_regular_file(from, ec)) {
      RETURN_IF_ERROR(read_erasures(from, from));
    } else {
      return Status::NotFound("--erasures-from " + from + " does not exist");
    }
  }
  {
    VaultOptions vo;
    vo.data_dir = staging.string();
    vo.master_key_file = key_file;
    vo.probe_cache_entries = 0;
    ASSIGN_OR_RETURN(std::unique_ptr<Vault> vault, Vault::Open(std::move(vo)));
    if (has_store) {
      report.replaced = live.string() + ".replaced-" + UtcStamp(SystemClockMs());
    }
    {  // The restore itself, first in the restored chain's new events.
      audit::Event ev = EventBy(options.actor, "", "restore");
      ev.reason = "backup " + report.summary.id + " made " +
                  FormatTime(report.summary.created_ms) +
                  (has_store ? "; the store it replaced had its audit chain through " +
                                   replaced_chain + ", kept in " + report.replaced
                             : "");
      RETURN_IF_ERROR(AppendAlone(vault->store(), ev));
    }
    for (const auto& [tenant, r] : removed) {
      std::vector<std::string> again;
      {
        ASSIGN_OR_RETURN(auto tx, vault->store().Begin(false));
        for (const std::string& id : r.erased) {
          ASSIGN_OR_RETURN(auto row, tx->GetSubject(tenant, id));
          if (row && row->state != store::SubjectState::kErased) again.push_back(id);
        }
      }
      for (std::size_t at = 0; at < again.size(); at += kMaxEraseBatch) {
        const std::vector<std::string> batch(
            again.begin() + static_cast<std::ptrdiff_t>(at),
            again.begin() + static_cast<std::ptrdiff_t>(std::min(again.size(), at + kMaxEraseBatch)));
        ASSIGN_OR_RETURN(EraseBatchResult done,
                         vault->EraseSubjects(options.actor, tenant, batch,
                                              "re-applied after restore"));
        report.erasures_reapplied += done.erased;
      }
      for (const auto& [id, row] : r.restricted) {
        if (r.erased.count(id)) continue;  // a copy newer still erased it
        ASSIGN_OR_RETURN(bool done, Restrict(*vault, options.actor, tenant, id, r));
        report.erasures_reapplied += done ? 1 : 0;
      }
    }
    // What fell due meanwhile (and what the replaced store had purged on
    // time) is purged now, before the store is used again.
    ASSIGN_OR_RETURN(SweepReport sweep, Retention(*vault).Sweep(options.actor, SweepOptions{}));
    for (const TenantSweep& t : sweep.tenants) {
      report.retention_purged += t.records_deleted + t.fields_deleted + t.subjects_erased;
    }
    RETURN_IF_ERROR(vault->store().Checkpoint());
  }  // closed: nothing of the restored store is left in a WAL

  // Only now does anything in the data directory change.
  if (has_store) {
    if (::rename(live.c_str(), report.replaced.c_str()) != 0) {
      return Status::FailedPrecondition("cannot move " + live.string() + " aside: " +
                                        Errno(errno));
    }
    fs::remove(live.string() + "-shm", ec);
  }
  if (::rename(plain.c_str(), live.c_str()) != 0) {
    const std::string why = Errno(errno);
    if (has_store) (void)::rename(report.replaced.c_str(), live.c_str());
    return Status::FailedPrecondition("cannot move the restored store into place: " + why);
  }
  ::chmod(live.c_str(), 0600);
  SyncDir(dir);
  return report;
}

}  // namespace

Result<RestoreReport> RestoreBackup(const std::string& data_dir, const std::string& path,
                                    const RestoreOptions& options) {
  const fs::path dir(data_dir);
  const fs::path live = Vault::StorePath(data_dir);
  const std::string key_file = Vault::MasterKeyPath(data_dir);
  auto master = OpenMasterKey(key_file);
  if (!master.ok()) {
    if (master.status().code() != StatusCode::kNotFound) return master.status();
    return Status::FailedPrecondition(
        "no master key to open the backup with: copy the master key it was made with to " +
        key_file + " (mode 0600), or set CUSTODIAN_MASTER_KEY");
  }
  std::error_code ec;
  const bool has_store = fs::exists(live, ec);
  if (has_store && !options.replace) {
    return Status::AlreadyExists(data_dir + " already holds a store; --replace restores over it "
                                            "(it is kept beside, and its erasures re-applied)");
  }
  if (fs::exists(live.string() + "-wal", ec)) {
    return Status::FailedPrecondition(
        "the store in " + data_dir + " is in use (" + live.string() +
        "-wal exists): stop `custodian serve` and every other custodian command using it first");
  }
  bool created = false;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return Status::FailedPrecondition("cannot create " + data_dir + ": " + ec.message());
    ::chmod(dir.c_str(), 0700);
    created = true;
  }
  auto report = RestoreStaged(data_dir, *master, has_store, path, options);
  // A directory made for a restore that failed is empty again (the staging
  // went with the failure): it goes too, so that nothing changed.
  if (!report.ok() && created) fs::remove(dir, ec);
  return report;
}

Result<std::vector<std::string>> RemoveStaleStaging(const std::string& data_dir) {
  std::vector<std::string> removed;
  std::error_code ec;
  fs::directory_iterator it(data_dir, ec);
  if (ec) return removed;  // nothing to sweep in a directory that cannot be read
  for (const fs::directory_entry& entry : it) {
    const std::string name = entry.path().filename().string();
    const bool staging = std::any_of(std::begin(kStagingPrefixes), std::end(kStagingPrefixes),
                                     [&](const char* p) { return name.rfind(p, 0) == 0; });
    if (!staging || !entry.is_directory(ec) || entry.is_symlink(ec)) continue;
    const fs::path lock = entry.path() / kStagingLock;
    UniqueFd fd(::open(lock.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (fd.get() >= 0) {
      if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) continue;  // in use
    } else {
      const auto written = fs::last_write_time(entry.path(), ec);
      if (ec || fs::file_time_type::clock::now() - written < kUnlockedStagingAge) continue;
    }
    fs::remove_all(entry.path(), ec);
    if (!ec) removed.push_back(name);
  }
  std::sort(removed.begin(), removed.end());
  return removed;
}

}  // namespace custodian::service
