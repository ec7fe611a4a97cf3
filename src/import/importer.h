// Bulk import of subjects or records from a CSV file (docs/import.md).
//
// RunImport streams the file (csv_reader.h), maps each row with the mapping
// file (mapping.h), and hands batches to the vault, which validates every row
// on its own and writes the valid ones, their audit events and the import's
// progress in one transaction. Rejected rows go to FILE.rejects.csv with their
// line, column and reason (never a value in the reason).
//
// Resuming: an import is named by tenant, kind and a digest of (absolute path,
// file size, the first 64 KiB, the mapping file, the options). If a run of the
// same import stopped before its end (a crash, kill -9), the next run continues
// at the stored position and ends in the state an uninterrupted run reaches. A
// run after a finished one starts again from the top (and, the rows being
// already there, reports them unchanged).
//
// Errors: a fatal problem before anything is written (unreadable file, bad
// mapping, unknown tenant) is an error Status; so is a failure mid-way (the
// batches committed so far stay, and the next run resumes after them).
// Thread-safety: RunImport may run on any thread; one import per file at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "custodian/status.h"
#include "import/mapping.h"
#include "service/vault.h"

namespace custodian::import {

struct ImportCounts {
  int64_t rows = 0;  // data rows read
  int64_t added = 0;
  int64_t updated = 0;
  int64_t unchanged = 0;
  int64_t rejected = 0;
};

// Reported after every committed batch.
struct ImportTick {
  ImportCounts counts;          // cumulative, including rows of earlier runs when resumed
  uint64_t bytes_read = 0;      // offset reached in the file
  uint64_t run_start = 0;       // offset this run started at (past the header, or resumed)
  uint64_t file_bytes = 0;
  int64_t rows_this_run = 0;
};

struct ImportOptions {
  ImportKind kind = ImportKind::kSubjects;
  std::string tenant;
  std::string csv_path;
  std::string mapping_path;
  std::string record_kind;           // records: a kind declared in the policy
  std::string external_id_column;    // --external-id
  bool ignore_unmapped = false;      // --ignore-unmapped
  std::string default_region;        // --default-region: phone region instead of the policy's
  std::size_t batch_rows = 5000;     // --batch
  service::Actor actor;
  std::function<void(const ImportTick&)> on_batch;  // optional
};

struct ImportSummary {
  ImportCounts counts;
  bool resumed = false;
  uint64_t resumed_at_line = 0;  // when resumed: the line the run continued at
  std::string rejects_path;      // written when counts.rejected > 0
};

Result<ImportSummary> RunImport(service::Vault& vault, const ImportOptions& options);

// The record time of an import row is read by ParseTime (common/time.h).

// A data.NAME value as JSON: a number when it reads as one (an optional '-',
// digits without a leading zero, an optional fraction; at most 15 digits, so
// it is exact), else a string. force_string: always a string.
bool LooksLikeJsonNumber(std::string_view text);

// "FILE.rejects.csv" for FILE.
std::string RejectsPath(const std::string& csv_path);

// Appends `field` to a CSV line, quoted (RFC 4180) when it must be.
void AppendCsvField(std::string& out, std::string_view field);

}  // namespace custodian::import
