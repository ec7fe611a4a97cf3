// The mapping file of a bulk import: which CSV column holds what.
//
//   columns:
//     customer_id: external_id          # the subject's external id
//     full_name: user.name              # a category declared in the policy
//     notes: ignore                     # read, never stored
//     billed_on: at                     # records: the record's time
//     amount: data.amount               # records: a field of the record's JSON payload
//     plan_code: data.plan:string       # ... kept as a string even if it looks like a number
//
// LoadMapping checks the file against the CSV header and the tenant's policy
// before anything is imported. Every problem is reported as
// "FILE:LINE:COL: message" (positions of the mapping entry, 1-based), never
// quoting a value from the CSV (column names are not data).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "custodian/status.h"
#include "policy/model.h"

namespace custodian::import {

enum class ImportKind { kSubjects, kRecords };

struct ColumnRule {
  enum class Type { kIgnore, kCategory, kExternalId, kAt, kData };
  Type type = Type::kIgnore;
  std::string target;         // kCategory: the category key; kData: the payload field name
  bool force_string = false;  // kData with ":string": never turned into a JSON number
};

// One rule per CSV header column, in header order.
struct Mapping {
  std::vector<ColumnRule> columns;
  int external_id_column = -1;  // index into the header
  int at_column = -1;           // records only
};

struct MappingOptions {
  ImportKind kind = ImportKind::kSubjects;
  // --external-id: the column holding the (subject's) external id, as an
  // alternative to `COLUMN: external_id` in the file ("" = not given).
  std::string external_id_column;
  // --ignore-unmapped: columns the file does not name are ignored instead of
  // being an error.
  bool ignore_unmapped = false;
  // Names the CSV in messages about its header.
  std::string csv_name = "the CSV file";
};

// Parses and checks `yaml` (named `source_name` in messages) against the CSV
// `header` and `policy`. InvalidArgument with every problem found, one per
// line, each "FILE:LINE:COL: message".
Result<Mapping> LoadMapping(std::string_view yaml, const std::string& source_name,
                            const std::vector<std::string>& header, const policy::Policy& policy,
                            const MappingOptions& options);

}  // namespace custodian::import
