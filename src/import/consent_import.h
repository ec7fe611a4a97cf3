// Bulk import of consent choices a company already holds (docs/consent.md,
// "Importing existing choices"): a CSV with a header naming the columns
//
//   external_id, purpose, state, at        required
//   source, message_id, request_id          optional (source defaults to import)
//
// Each row is one choice with its original time. Rows are checked one by one
// (the vault's ImportConsentBatch): a bad row goes to FILE.rejects.csv with its
// line, column and reason (never a value) and the others are recorded, a
// batch per transaction. A choice already in the subject's history (same
// purpose, state, time and source) is reported unchanged, so running the same
// file again records nothing twice.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "custodian/status.h"
#include "import/importer.h"
#include "service/vault.h"

namespace custodian::import {

struct ConsentImportOptions {
  std::string tenant;
  std::string csv_path;
  std::size_t batch_rows = 1000;
  service::Actor actor;
  std::function<void(const ImportTick&)> on_batch;  // optional
};

Result<ImportSummary> RunConsentImport(service::Vault& vault, const ConsentImportOptions& options);

}  // namespace custodian::import
