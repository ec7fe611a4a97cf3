// CSV imports over HTTP (POST /v1/imports, GET /v1/imports/{id} and its
// rejects; docs/http-api.md#imports): an import's settings from a JSON body or
// from the query string of a text/csv upload, and the imports running in the
// background. Authentication and authorization are the caller's (api.cc);
// this file only runs what was allowed.
// Thread-safety: ImportJobs may be used from every handler thread at once.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "http/json_body.h"
#include "http/message.h"
#include "import/importer.h"
#include "service/vault.h"

namespace custodian::http {

// What an import needs besides its CSV.
struct ImportSettings {
  std::string kind;     // "subjects" or "records"
  std::string mapping;  // the mapping file's YAML text
  std::string record_kind;
  std::string external_id_column;
  std::string default_region;
  bool ignore_unmapped = false;
};

// From a JSON body {kind, record_kind?, mapping, csv, external_id_column?,
// default_region?, ignore_unmapped?}; `*csv` gets the CSV text. 400 with a
// pointer for an unknown, missing or mistyped member.
Or<ImportSettings> ImportSettingsFromJson(const nlohmann::json& body, std::string* csv);
// From the query string of an upload whose body is the CSV itself
// (?kind=subjects&mapping=<the YAML, percent-encoded>&...): the same
// settings as parameters, ignore_unmapped "true" or "false". 400 naming the
// parameter for an unknown, missing or bad one.
Or<ImportSettings> ImportSettingsFromQuery(const Request& req);

// Imports running in the background, one thread each. Jobs live in memory:
// a restarted server knows none.
class ImportJobs {
 public:
  // `dir`: where uploads and rejects are kept while needed (0700, files 0600,
  // a subdirectory per tenant); "" takes no imports.
  ImportJobs(service::Vault& vault, std::string dir);
  // Waits for running imports, then deletes rejects never fetched (personal data).
  ~ImportJobs();
  ImportJobs(const ImportJobs&) = delete;
  ImportJobs& operator=(const ImportJobs&) = delete;

  bool enabled() const { return !dir_.empty(); }

  // Starts importing for `actor` of `tenant`, as job "imp_" + `id_seed`[:20]:
  // the CSV is `csv_file` (an upload's file, renamed into the import
  // directory) or else `csv_text`. 202 {id, kind, state} with Location; 503
  // when the upload cannot be stored. The CSV and mapping are deleted when
  // the import ends.
  Response Start(const service::Actor& actor, const std::string& tenant, std::string_view id_seed,
                 const ImportSettings& settings, const std::string& csv_file,
                 std::string_view csv_text);
  // 200 with the job's progress; 404 when `tenant` has no job `id`.
  Response Get(std::string_view tenant, std::string_view id);
  // 200 text/csv with the rejected rows, once (then deleted); 404 when there
  // are none, or none any more.
  Response Rejects(std::string_view tenant, std::string_view id);

 private:
  struct Job;
  std::shared_ptr<Job> Find(std::string_view tenant, std::string_view id);

  service::Vault& vault_;
  const std::string dir_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Job>> jobs_;
};

}  // namespace custodian::http
