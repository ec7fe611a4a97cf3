#include "import/consent_import.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "common/time.h"
#include "import/csv_reader.h"
#include "service/authorize.h"

namespace custodian::import {
namespace {

enum Column { kExternalId, kPurpose, kState, kAt, kSource, kMessageId, kRequestId, kColumns };
constexpr std::array<const char*, kColumns> kNames = {
    "external_id", "purpose", "state", "at", "source", "message_id", "request_id"};
constexpr int kRequired = 4;  // the first four

// One data row waiting for the vault's verdict.
struct Pending {
  uint64_t line = 0;
  std::vector<std::string> fields;  // the original fields, for the rejects file
  std::string column;               // rejected here: the column at fault
  std::string reason;               // rejected here
  int vault_index = -1;
};

class ConsentImporter {
 public:
  ConsentImporter(service::Vault& vault, const ConsentImportOptions& options)
      : vault_(vault), options_(options) {}
  ~ConsentImporter() {
    if (csv_fd_ >= 0) ::close(csv_fd_);
    if (rejects_fd_ >= 0) ::close(rejects_fd_);
  }

  Result<ImportSummary> Run() {
    if (options_.batch_rows == 0 || options_.batch_rows > 100000) {
      return Status::InvalidArgument("--batch must be between 1 and 100000 rows");
    }
    ASSIGN_OR_RETURN(auto policy, vault_.TenantPolicy(options_.tenant));
    (void)policy;
    RETURN_IF_ERROR(service::AuthorizeAdmin(options_.actor.role, "importing consents"));
    csv_fd_ = ::open(options_.csv_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (csv_fd_ < 0) return Errno("cannot read " + options_.csv_path);
    ASSIGN_OR_RETURN(reader_, CsvReader::Create(NewFdSource(csv_fd_)));
    RETURN_IF_ERROR(reader_->ReadHeader().WithContext(options_.csv_path));
    RETURN_IF_ERROR(MapHeader());

    ImportSummary summary;
    summary.rejects_path = RejectsPath(options_.csv_path);
    ImportTick tick;
    struct stat st {};
    if (::fstat(csv_fd_, &st) == 0) tick.file_bytes = static_cast<uint64_t>(st.st_size);
    tick.run_start = reader_->offset();
    bool end = false;
    while (!end) {
      std::vector<Pending> rows;
      std::vector<service::ConsentImportInput> batch;
      while (rows.size() < options_.batch_rows) {
        CsvRow row;
        auto next = reader_->Next(row);
        if (!next.ok() && reader_->failed()) return next.status().WithContext(options_.csv_path);
        if (next.ok() && !*next) {
          end = true;
          break;
        }
        Pending& p = rows.emplace_back();
        p.line = row.line;
        if (!next.ok()) {
          p.reason = next.status().message();
          if (row.error_field < reader_->header().size()) {
            p.column = reader_->header()[row.error_field];
          }
          continue;
        }
        p.fields.assign(row.fields.begin(), row.fields.end());
        Map(p, batch);
      }
      if (rows.empty()) break;
      ASSIGN_OR_RETURN(auto results,
                       vault_.ImportConsentBatch(options_.actor, options_.tenant, batch));
      std::string rejects;
      for (Pending& p : rows) {
        ++summary.counts.rows;
        if (p.vault_index >= 0) {
          const service::ImportRowResult& r = results[static_cast<std::size_t>(p.vault_index)];
          if (r.outcome == service::ImportOutcome::kAdded) {
            ++summary.counts.added;
            continue;
          }
          if (r.outcome == service::ImportOutcome::kUnchanged) {
            ++summary.counts.unchanged;
            continue;
          }
          p.reason = r.reason;
          p.column = ColumnOf(r.field);
        }
        ++summary.counts.rejected;
        AppendReject(rejects, p);
      }
      RETURN_IF_ERROR(WriteRejects(rejects));
      if (options_.on_batch) {
        tick.counts = summary.counts;
        tick.bytes_read = reader_->offset();
        tick.rows_this_run = summary.counts.rows;
        options_.on_batch(tick);
      }
    }
    if (summary.counts.rejected == 0) ::unlink(summary.rejects_path.c_str());
    return summary;
  }

 private:
  static Status Errno(const std::string& what) {
    return Status::Unavailable(what + ": " + std::strerror(errno));
  }

  Status MapHeader() {
    const auto& header = reader_->header();
    columns_.fill(-1);
    for (std::size_t c = 0; c < header.size(); ++c) {
      auto it = std::find(kNames.begin(), kNames.end(), header[c]);
      if (it == kNames.end()) {
        return Status::InvalidArgument(
            options_.csv_path + ":1: column '" + header[c] +
            "' is not one a consent import takes: external_id, purpose, state, at, source, "
            "message_id, request_id");
      }
      columns_[static_cast<std::size_t>(it - kNames.begin())] = static_cast<int>(c);
    }
    for (int i = 0; i < kRequired; ++i) {
      if (columns_[static_cast<std::size_t>(i)] < 0) {
        return Status::InvalidArgument(options_.csv_path + ":1: the header has no '" +
                                       kNames[static_cast<std::size_t>(i)] +
                                       "' column; a consent import needs external_id, purpose, "
                                       "state and at");
      }
    }
    return Status::Ok();
  }

  // The column a service::ConsentImportField names.
  static std::string ColumnOf(int field) {
    switch (field) {
      case service::kConsentExternalId:
        return kNames[kExternalId];
      case service::kConsentPurpose:
        return kNames[kPurpose];
      case service::kConsentState:
        return kNames[kState];
      case service::kConsentSource:
        return kNames[kSource];
      case service::kConsentMessageId:
        return kNames[kMessageId];
      case service::kConsentRequestId:
        return kNames[kRequestId];
      default:
        return "";
    }
  }

  std::string Field(const Pending& p, Column c) const {
    int i = columns_[c];
    return i < 0 ? std::string() : p.fields[static_cast<std::size_t>(i)];
  }

  void Map(Pending& p, std::vector<service::ConsentImportInput>& batch) {
    service::ConsentImportInput in;
    in.subject_external_id = Field(p, kExternalId);
    if (in.subject_external_id.empty()) {
      p.column = kNames[kExternalId];
      p.reason = "the external id is empty";
      return;
    }
    in.change.purpose = Field(p, kPurpose);
    in.change.state = Field(p, kState);
    std::string at = Field(p, kAt);
    auto t = ParseTime(at);
    if (!t.ok()) {
      p.column = kNames[kAt];
      p.reason = at.empty() ? "the time of the choice is empty" : t.status().message();
      return;
    }
    in.change.at_ms = *t;
    std::string source = Field(p, kSource);
    in.change.source = source.empty() ? "import" : source;
    in.change.message_id = Field(p, kMessageId);
    in.change.request_id = Field(p, kRequestId);
    p.vault_index = static_cast<int>(batch.size());
    batch.push_back(std::move(in));
  }

  void AppendReject(std::string& out, const Pending& p) {
    out += std::to_string(p.line);
    out.push_back(',');
    AppendCsvField(out, p.column);
    out.push_back(',');
    AppendCsvField(out, p.reason);
    for (const std::string& f : p.fields) {
      out.push_back(',');
      AppendCsvField(out, f);
    }
    out += "\r\n";
  }

  Status WriteRejects(std::string& out) {
    if (out.empty()) return Status::Ok();
    const std::string path = RejectsPath(options_.csv_path);
    if (rejects_fd_ < 0) {
      rejects_fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (rejects_fd_ < 0) return Errno("cannot write " + path);
      std::string header = "line,column,reason";
      for (const std::string& h : reader_->header()) {
        header.push_back(',');
        AppendCsvField(header, h);
      }
      out.insert(0, header + "\r\n");
    }
    std::string_view left = out;
    while (!left.empty()) {
      ssize_t n = ::write(rejects_fd_, left.data(), left.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Errno("cannot write " + path);
      left.remove_prefix(static_cast<std::size_t>(n));
    }
    return Status::Ok();
  }

  service::Vault& vault_;
  const ConsentImportOptions& options_;
  int csv_fd_ = -1;
  int rejects_fd_ = -1;
  std::unique_ptr<CsvReader> reader_;
  std::array<int, kColumns> columns_{};
};

}  // namespace

Result<ImportSummary> RunConsentImport(service::Vault& vault, const ConsentImportOptions& options) {
  ConsentImporter importer(vault, options);
  return importer.Run();
}

}  // namespace custodian::import
