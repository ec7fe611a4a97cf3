#include "import/importer.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <mutex>
#include <sstream>
#include <thread>

#include "common/time.h"
#include "common/fd.h"
#include "crypto/normalize.h"
#include "import/csv_reader.h"
#include "service/authorize.h"

namespace custodian::import {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kIdentityPrefixBytes = 64 * 1024;
constexpr std::size_t kMaxVerbatimBytes = 1024 * 1024;
constexpr std::size_t kMaxMappingBytes = 1024 * 1024;

using Fd = UniqueFd;

Status Errno(const std::string& what) {
  return Status::Unavailable(what + ": " + std::strerror(errno));
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  if (const int err = custodian::WriteAll(fd, data); err != 0) {
    return Status::Unavailable("cannot write " + path + ": " + std::strerror(err));
  }
  return Status::Ok();
}

// What one row of the batch became before the vault saw it.
struct Entry {
  uint64_t line = 0;
  int vault_index = -1;     // index into the vault batch, or -1 if rejected here
  std::string column;       // rejected here: the column at fault ("" = the row)
  std::string reason;
  std::vector<std::string> fields;  // the original fields (for the rejects file)
  std::string verbatim;             // rejected by the reader: the raw record
  std::vector<int> field_columns;   // vault field index -> header column
};

// One batch read and prepared by the reader thread, waiting to be committed.
struct Batch {
  std::vector<Entry> entries;
  int64_t rejected_here = 0;  // rows rejected before the vault saw them
  CsvPosition end;            // where the next batch starts
  bool last = false;          // the input ends with this batch
  std::shared_ptr<service::PreparedImportBatch> prepared;  // null with an error
  Status error = Status::Ok();  // the reader failed: nothing after this
};

// A bounded hand-off from the reader thread to the committing thread.
class BatchQueue {
 public:
  static constexpr std::size_t kQueued = 2;
  // False when the consumer has closed the queue (the batch is dropped).
  bool Push(std::unique_ptr<Batch> b) {
    std::unique_lock<std::mutex> lock(mu_);
    room_.wait(lock, [&] { return closed_ || items_.size() < kQueued; });
    if (closed_) return false;
    items_.push_back(std::move(b));
    ready_.notify_one();
    return true;
  }
  std::unique_ptr<Batch> Pop() {
    std::unique_lock<std::mutex> lock(mu_);
    ready_.wait(lock, [&] { return !items_.empty(); });
    std::unique_ptr<Batch> b = std::move(items_.front());
    items_.pop_front();
    room_.notify_one();
    return b;
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    items_.clear();
    room_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable ready_, room_;
  std::deque<std::unique_ptr<Batch>> items_;
  bool closed_ = false;
};

class Importer {
 public:
  Importer(service::Vault& vault, const ImportOptions& options)
      : vault_(vault), options_(options) {}

  Result<ImportSummary> Run();

 private:
  Status Open();
  Status Identify(const std::string& mapping_text);
  Status StartRejects(bool resumed);
  // Appends the batch's rejects to the rejects file and syncs it; returns its length.
  Result<uint64_t> WriteRejects(const std::vector<Entry>& entries,
                                const std::vector<service::ImportRowResult>& results);
  Status MapSubject(const CsvRow& row, Entry& e, std::vector<service::SubjectInput>& batch);
  Status MapRecord(const CsvRow& row, Entry& e, std::vector<service::RecordImportInput>& batch);
  std::string Verbatim(uint64_t from, uint64_t to);
  // The reader thread: batches of rows, mapped and prepared, into `queue`
  // until the end of the input, an error (pushed as a batch with `error`) or
  // the queue's closing.
  void ReadBatches(BatchQueue& queue);

  service::Vault& vault_;
  const ImportOptions& options_;
  std::string kind_;  // "subjects" | "records:KIND"
  std::unique_ptr<Fd> csv_fd_;
  uint64_t file_bytes_ = 0;
  std::unique_ptr<CsvReader> reader_;
  Mapping mapping_;
  std::string import_id_;
  std::string identity_;
  std::string rejects_path_;
  std::unique_ptr<Fd> rejects_fd_;
  uint64_t rejects_bytes_ = 0;
};

Status Importer::Open() {
  int fd = ::open(options_.csv_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot read " + options_.csv_path);
  csv_fd_ = std::make_unique<Fd>(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Errno("cannot read " + options_.csv_path);
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument(options_.csv_path +
                                   " is not a regular file; imports read files they can resume");
  }
  file_bytes_ = static_cast<uint64_t>(st.st_size);
  ASSIGN_OR_RETURN(reader_, CsvReader::Create(NewFdSource(fd)));
  return reader_->ReadHeader().WithContext(options_.csv_path);
}

Status Importer::Identify(const std::string& mapping_text) {
  std::error_code ec;
  fs::path abs = fs::absolute(options_.csv_path, ec);
  std::string prefix(std::min<uint64_t>(file_bytes_, kIdentityPrefixBytes), '\0');
  std::size_t got = 0;
  while (got < prefix.size()) {
    ssize_t n = ::pread(csv_fd_->get(), prefix.data() + got, prefix.size() - got,
                        static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("cannot read " + options_.csv_path);
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  prefix.resize(got);
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, 32);
  auto add = [&](std::string_view part) {
    std::string len = std::to_string(part.size()) + ":";
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(len.data()),
                              len.size());
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(part.data()),
                              part.size());
  };
  add("custodian import v1");
  add(kind_);
  add(abs.string());
  add(std::to_string(file_bytes_));
  add(prefix);
  add(mapping_text);
  add(options_.external_id_column);
  add(options_.ignore_unmapped ? "ignore-unmapped" : "");
  add(options_.default_region);
  unsigned char out[32];
  crypto_generichash_final(&state, out, sizeof out);
  sodium_memzero(prefix.data(), prefix.size());
  identity_.assign(reinterpret_cast<const char*>(out), sizeof out);
  ASSIGN_OR_RETURN(import_id_, vault_.ImportId(options_.tenant, identity_));
  return Status::Ok();
}

Status Importer::StartRejects(bool resumed) {
  int fd = ::open(rejects_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot write " + rejects_path_);
  rejects_fd_ = std::make_unique<Fd>(fd);
  if (resumed) {
    // Drop what a batch that never committed had written.
    if (::ftruncate(fd, static_cast<off_t>(rejects_bytes_)) != 0 ||
        ::lseek(fd, 0, SEEK_END) < 0) {
      return Errno("cannot write " + rejects_path_);
    }
    return Status::Ok();
  }
  if (::ftruncate(fd, 0) != 0) return Errno("cannot write " + rejects_path_);
  std::string header = "line,column,reason";
  for (const std::string& h : reader_->header()) {
    header.push_back(',');
    AppendCsvField(header, h);
  }
  header += "\r\n";
  RETURN_IF_ERROR(WriteAll(fd, header, rejects_path_));
  rejects_bytes_ = header.size();
  return Status::Ok();
}

std::string Importer::Verbatim(uint64_t from, uint64_t to) {
  std::string out(std::min<uint64_t>(to - from, kMaxVerbatimBytes), '\0');
  std::size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::pread(csv_fd_->get(), out.data() + got, out.size() - got,
                        static_cast<off_t>(from + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

Result<uint64_t> Importer::WriteRejects(const std::vector<Entry>& entries,
                                        const std::vector<service::ImportRowResult>& results) {
  std::string out;
  const auto& header = reader_->header();
  for (const Entry& e : entries) {
    std::string column = e.column;
    std::string reason = e.reason;
    if (e.vault_index >= 0) {
      const service::ImportRowResult& r = results[static_cast<std::size_t>(e.vault_index)];
      if (r.outcome != service::ImportOutcome::kRejected) continue;
      reason = r.reason;
      if (r.field >= 0 && static_cast<std::size_t>(r.field) < e.field_columns.size()) {
        column = header[static_cast<std::size_t>(e.field_columns[r.field])];
      } else if (mapping_.external_id_column >= 0 && r.field < 0 &&
                 r.reason.find("external id") != std::string::npos) {
        column = header[static_cast<std::size_t>(mapping_.external_id_column)];
      }
    }
    out += std::to_string(e.line);
    out.push_back(',');
    AppendCsvField(out, column);
    out.push_back(',');
    AppendCsvField(out, reason);
    if (!e.fields.empty()) {
      for (const std::string& f : e.fields) {
        out.push_back(',');
        AppendCsvField(out, f);
      }
    } else {
      out.push_back(',');
      AppendCsvField(out, e.verbatim);
      for (std::size_t i = 1; i < header.size(); ++i) out.push_back(',');
    }
    out += "\r\n";
  }
  if (out.empty()) return rejects_bytes_;
  RETURN_IF_ERROR(WriteAll(rejects_fd_->get(), out, rejects_path_));
  sodium_memzero(out.data(), out.size());
  if (::fdatasync(rejects_fd_->get()) != 0) return Errno("cannot sync " + rejects_path_);
  rejects_bytes_ += out.size();
  return rejects_bytes_;
}

Status Importer::MapSubject(const CsvRow& row, Entry& e,
                            std::vector<service::SubjectInput>& batch) {
  service::SubjectInput in;
  for (std::size_t c = 0; c < mapping_.columns.size(); ++c) {
    const ColumnRule& rule = mapping_.columns[c];
    std::string_view value = row.fields[c];
    if (rule.type == ColumnRule::Type::kExternalId) {
      if (value.empty()) {
        e.column = reader_->header()[c];
        e.reason = "the external id is empty";
        return Status::Ok();
      }
      in.external_id = std::string(value);
    } else if (rule.type == ColumnRule::Type::kCategory && !value.empty()) {
      in.fields.push_back({rule.target, std::string(value)});
      e.field_columns.push_back(static_cast<int>(c));
    }
  }
  e.vault_index = static_cast<int>(batch.size());
  batch.push_back(std::move(in));
  return Status::Ok();
}

Status Importer::MapRecord(const CsvRow& row, Entry& e,
                           std::vector<service::RecordImportInput>& batch) {
  service::RecordImportInput in;
  in.record.kind = options_.record_kind;
  nlohmann::ordered_json data = nlohmann::ordered_json::object();
  for (std::size_t c = 0; c < mapping_.columns.size(); ++c) {
    const ColumnRule& rule = mapping_.columns[c];
    std::string_view value = row.fields[c];
    const std::string& name = reader_->header()[c];
    switch (rule.type) {
      case ColumnRule::Type::kExternalId:
        if (value.empty()) {
          e.column = name;
          e.reason = "the external id is empty";
          return Status::Ok();
        }
        in.subject_external_id = std::string(value);
        break;
      case ColumnRule::Type::kAt: {
        auto at = ParseTime(value);
        if (!at.ok()) {
          e.column = name;
          e.reason = value.empty() ? "the record time is empty" : at.status().message();
          return Status::Ok();
        }
        in.record.at_ms = *at;
        break;
      }
      case ColumnRule::Type::kData:
        if (value.empty()) break;
        if (!rule.force_string && LooksLikeJsonNumber(value)) {
          data[rule.target] = nlohmann::ordered_json::parse(value);
        } else {
          data[rule.target] = std::string(value);
        }
        break;
      default:
        break;
    }
  }
  if (data.empty()) {
    e.reason = "the row has no data value to import";
    return Status::Ok();
  }
  in.record.payload_json = data.dump();
  e.vault_index = static_cast<int>(batch.size());
  batch.push_back(std::move(in));
  return Status::Ok();
}

void Importer::ReadBatches(BatchQueue& queue) {
  const bool records = options_.kind == ImportKind::kRecords;
  const std::vector<std::string>& header = reader_->header();
  bool end = false;
  while (!end) {
    auto batch = std::make_unique<Batch>();
    auto fail = [&](Status s) {
      batch->error = std::move(s);
      queue.Push(std::move(batch));
    };
    std::vector<service::SubjectInput> subjects;
    std::vector<service::RecordImportInput> recs;
    std::vector<Entry>& entries = batch->entries;
    while (entries.size() < options_.batch_rows) {
      CsvRow row;
      auto next = reader_->Next(row);
      if (!next.ok() && reader_->failed()) return fail(next.status().WithContext(options_.csv_path));
      if (next.ok() && !*next) {
        end = true;
        break;
      }
      Entry& e = entries.emplace_back();
      e.line = row.line;
      if (!next.ok()) {
        e.reason = next.status().message();
        if (row.error_field != CsvRow::kNoField && row.error_field < header.size()) {
          e.column = header[row.error_field];
        }
        e.verbatim = Verbatim(row.offset, reader_->position().offset);
        ++batch->rejected_here;
        continue;
      }
      // Kept for the rejects file (the reader's views die at its next call).
      e.fields.assign(row.fields.begin(), row.fields.end());
      Status mapped = records ? MapRecord(row, e, recs) : MapSubject(row, e, subjects);
      if (!mapped.ok()) return fail(mapped);
      if (e.vault_index < 0) ++batch->rejected_here;
    }
    batch->end = reader_->position();
    batch->last = end;
    auto prepared = records ? vault_.PrepareRecordBatch(options_.tenant, options_.record_kind,
                                                        std::move(recs))
                            : vault_.PrepareSubjectBatch(options_.tenant, options_.default_region,
                                                         subjects);
    if (!prepared.ok()) return fail(prepared.status());
    batch->prepared = std::move(prepared).value();
    if (!queue.Push(std::move(batch))) return;  // the writer stopped
  }
}

Result<ImportSummary> Importer::Run() {
  const bool records = options_.kind == ImportKind::kRecords;
  kind_ = records ? "records:" + options_.record_kind : "subjects";
  if (options_.batch_rows == 0 || options_.batch_rows > 100000) {
    return Status::InvalidArgument("--batch must be between 1 and 100000 rows");
  }
  // Everything that can be wrong with the command is found before anything is written.
  ASSIGN_OR_RETURN(auto policy, vault_.TenantPolicy(options_.tenant));
  RETURN_IF_ERROR(service::AuthorizeAdmin(options_.actor.role, "importing"));
  if (records && policy->FindRecordKind(options_.record_kind) == nullptr) {
    return Status::InvalidArgument("record kind '" + options_.record_kind +
                                   "' is not declared under record_kinds in the policy");
  }
  if (!options_.default_region.empty()) {
    // An international number is valid whatever the region: only an unknown region fails.
    auto probe = crypto::NormalizePhone("+918870100100", options_.default_region);
    if (!probe.ok()) return probe.status().WithContext("--default-region");
  }
  std::string mapping_text;
  {
    std::ifstream in(options_.mapping_path, std::ios::binary);
    if (!in) return Status::NotFound("cannot read the mapping file " + options_.mapping_path);
    std::ostringstream ss;
    ss << in.rdbuf();
    mapping_text = ss.str();
    if (mapping_text.size() > kMaxMappingBytes) {
      return Status::InvalidArgument("the mapping file " + options_.mapping_path +
                                     " is over 1 MiB");
    }
  }
  RETURN_IF_ERROR(Open());
  MappingOptions mo;
  mo.kind = options_.kind;
  mo.external_id_column = options_.external_id_column;
  mo.ignore_unmapped = options_.ignore_unmapped;
  mo.csv_name = options_.csv_path;
  ASSIGN_OR_RETURN(mapping_, LoadMapping(mapping_text, options_.mapping_path, reader_->header(),
                                         *policy, mo));
  RETURN_IF_ERROR(Identify(mapping_text));

  ImportSummary summary;
  store::ImportRow progress;
  ASSIGN_OR_RETURN(auto stored, vault_.GetImport(options_.tenant, kind_, import_id_));
  if (stored && !stored->done) {
    progress = std::move(*stored);
    summary.resumed = true;
    summary.resumed_at_line = progress.line;
    rejects_bytes_ = progress.rejects_bytes;
    RETURN_IF_ERROR(reader_->SeekTo({progress.offset, progress.line}));
  } else {
    CsvPosition start = reader_->position();
    progress.kind = kind_;
    progress.digest = import_id_;
    progress.offset = start.offset;
    progress.line = start.line;
    progress.started_ms = service::SystemClockMs();
  }
  rejects_path_ = RejectsPath(options_.csv_path);
  RETURN_IF_ERROR(StartRejects(summary.resumed));

  // Two stages on two threads: a reader thread parses, maps and prepares
  // batch N+1 (normalization, digests, sealing: the CPU-heavy half) while this
  // thread commits batch N. At most kQueued prepared batches wait.
  const uint64_t run_start = reader_->position().offset;
  int64_t rows_this_run = 0;
  BatchQueue queue;
  std::thread reader([&] { ReadBatches(queue); });
  Status failed = Status::Ok();
  while (true) {
    std::unique_ptr<Batch> batch = queue.Pop();
    if (!batch->error.ok()) {
      failed = batch->error;
      break;
    }
    if (batch->prepared == nullptr) break;  // the end
    store::ImportRow next = progress;
    next.offset = batch->end.offset;
    next.line = batch->end.line;
    next.rows += static_cast<int64_t>(batch->entries.size());
    next.rejected += batch->rejected_here;
    next.done = batch->last;
    auto before_commit = [&](const std::vector<service::ImportRowResult>& results) {
      return WriteRejects(batch->entries, results);
    };
    auto results = vault_.CommitImportBatch(options_.actor, *batch->prepared, next, before_commit);
    if (!results.ok()) {
      failed = results.status();
      break;
    }
    progress = std::move(next);
    rows_this_run += static_cast<int64_t>(batch->entries.size());
    if (options_.on_batch) {
      ImportTick tick;
      tick.counts = {progress.rows, progress.added, progress.updated, progress.unchanged,
                     progress.rejected};
      tick.bytes_read = progress.offset;
      tick.run_start = run_start;
      tick.file_bytes = file_bytes_;
      tick.rows_this_run = rows_this_run;
      options_.on_batch(tick);
    }
    if (batch->last) break;
  }
  queue.Close();
  reader.join();
  RETURN_IF_ERROR(failed);
  summary.counts = {progress.rows, progress.added, progress.updated, progress.unchanged,
                    progress.rejected};
  summary.rejects_path = rejects_path_;
  if (progress.rejected == 0) {
    rejects_fd_.reset();
    ::unlink(rejects_path_.c_str());
  }
  return summary;
}

}  // namespace

std::string RejectsPath(const std::string& csv_path) { return csv_path + ".rejects.csv"; }

void AppendCsvField(std::string& out, std::string_view field) {
  bool quote = field.find_first_of(",\"\r\n") != std::string_view::npos;
  if (!quote) {
    out.append(field);
    return;
  }
  out.push_back('"');
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

bool LooksLikeJsonNumber(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
  if (s[i] == '0' && i + 1 < s.size() && s[i + 1] != '.') return false;
  std::size_t digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    std::size_t frac = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++frac;
    if (frac == 0) return false;
    digits += frac;
  }
  return i == s.size() && digits <= 15;
}

Result<ImportSummary> RunImport(service::Vault& vault, const ImportOptions& options) {
  Importer importer(vault, options);
  return importer.Run();
}

}  // namespace custodian::import
