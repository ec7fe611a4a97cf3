#include "http/imports_api.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "http/problem.h"

namespace custodian::http {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

// Checks what both forms share: the kind, and a record kind for records.
Or<ImportSettings> Checked(ImportSettings s, bool query) {
  auto at = [query](const char* name) -> std::optional<std::string_view> {
    if (query) return std::nullopt;  // a pointer is into the body
    return name;
  };
  if (s.kind != "subjects" && s.kind != "records") {
    return BadRequest("'kind' must be subjects or records", at("/kind"));
  }
  if (s.kind == "records" && s.record_kind.empty()) {
    return BadRequest("a records import needs 'record_kind'", at("/record_kind"));
  }
  return s;
}

}  // namespace

Or<ImportSettings> ImportSettingsFromJson(const json& b, std::string* csv) {
  if (auto bad = CheckKeys(b, "",
                           {"kind", "record_kind", "mapping", "csv", "external_id_column",
                            "default_region", "ignore_unmapped"},
                           {"kind", "mapping", "csv"})) {
    return *bad;
  }
  ImportSettings s;
  if (auto bad = ReadStrings(b, {{"kind", &s.kind},
                                 {"record_kind", &s.record_kind},
                                 {"mapping", &s.mapping},
                                 {"csv", csv},
                                 {"external_id_column", &s.external_id_column},
                                 {"default_region", &s.default_region}})) {
    return *bad;
  }
  if (b.contains("ignore_unmapped")) {
    if (!b["ignore_unmapped"].is_boolean()) {
      return BadRequest("'ignore_unmapped' must be true or false", "/ignore_unmapped");
    }
    s.ignore_unmapped = b["ignore_unmapped"].get<bool>();
  }
  return Checked(std::move(s), /*query=*/false);
}

Or<ImportSettings> ImportSettingsFromQuery(const Request& req) {
  ImportSettings s;
  const std::pair<const char*, std::string*> strings[] = {
      {"kind", &s.kind},
      {"record_kind", &s.record_kind},
      {"mapping", &s.mapping},
      {"external_id_column", &s.external_id_column},
      {"default_region", &s.default_region}};
  for (const auto& [name, value] : req.query_params) {
    bool known = name == "ignore_unmapped";
    for (const auto& [key, out] : strings) known = known || name == key;
    if (!known) {
      return BadRequest("unknown query parameter " + Quote(name) +
                        "; expected kind, record_kind, mapping, external_id_column, "
                        "default_region, ignore_unmapped");
    }
  }
  for (const auto& [key, out] : strings) {
    if (auto v = req.QueryParam(key)) *out = std::string(*v);
  }
  if (s.kind.empty()) return BadRequest("missing query parameter 'kind'");
  if (s.mapping.empty()) {
    return BadRequest(
        "missing query parameter 'mapping' (the mapping file's YAML, "
        "percent-encoded)");
  }
  if (auto v = req.QueryParam("ignore_unmapped")) {
    if (*v != "true" && *v != "false") return BadRequest("'ignore_unmapped' must be true or false");
    s.ignore_unmapped = *v == "true";
  }
  return Checked(std::move(s), /*query=*/true);
}

struct ImportJobs::Job {
  std::string id;
  std::string tenant;
  std::string kind;
  std::mutex mu;
  import::ImportCounts counts;
  std::string state = "running";
  std::string error;
  std::string csv_path;
  std::string rejects_path;
  std::thread worker;
};

ImportJobs::ImportJobs(service::Vault& vault, std::string dir)
    : vault_(vault), dir_(std::move(dir)) {}

ImportJobs::~ImportJobs() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, job] : jobs_) {
    if (job->worker.joinable()) job->worker.join();
    if (!job->rejects_path.empty()) ::unlink(job->rejects_path.c_str());  // personal data
  }
}

Response ImportJobs::Start(const service::Actor& actor, const std::string& tenant,
                           std::string_view id_seed, const ImportSettings& settings,
                           const std::string& csv_file, std::string_view csv_text) {
  namespace fs = std::filesystem;
  auto job = std::make_shared<Job>();
  job->id = "imp_" + std::string(id_seed.substr(0, 20));
  job->tenant = tenant;
  job->kind = settings.kind;
  const fs::path dir = fs::path(dir_) / tenant;
  std::error_code ec;
  fs::create_directories(dir, ec);
  ::chmod(dir_.c_str(), 0700);
  ::chmod(dir.c_str(), 0700);
  job->csv_path = (dir / (job->id + ".csv")).string();
  const std::string map_path = (dir / (job->id + ".map.yaml")).string();
  auto write = [](const std::string& path, std::string_view text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    ::chmod(path.c_str(), 0600);
    out << text;
    return static_cast<bool>(out);
  };
  bool stored = write(map_path, settings.mapping);
  if (stored && !csv_file.empty()) {
    // The upload's file is already 0600 under the data directory: moved, not copied.
    fs::rename(csv_file, job->csv_path, ec);
    if (ec) {
      fs::copy_file(csv_file, job->csv_path, fs::copy_options::overwrite_existing, ec);
      ::chmod(job->csv_path.c_str(), 0600);
    }
    stored = !ec;
  } else if (stored) {
    stored = write(job->csv_path, csv_text);
  }
  if (!stored) {
    ::unlink(map_path.c_str());
    ::unlink(job->csv_path.c_str());
    return ProblemFromStatus(Status::Unavailable("cannot store the upload"));
  }
  import::ImportOptions o;
  o.kind =
      settings.kind == "records" ? import::ImportKind::kRecords : import::ImportKind::kSubjects;
  o.tenant = tenant;
  o.csv_path = job->csv_path;
  o.mapping_path = map_path;
  o.record_kind = settings.record_kind;
  o.external_id_column = settings.external_id_column;
  o.default_region = settings.default_region;
  o.ignore_unmapped = settings.ignore_unmapped;
  o.actor = actor;
  o.on_batch = [job](const import::ImportTick& t) {
    std::lock_guard<std::mutex> lock(job->mu);
    job->counts = t.counts;
  };
  job->worker = std::thread([this, job, o, map_path] {
    auto r = import::RunImport(vault_, o);
    std::lock_guard<std::mutex> lock(job->mu);
    if (r.ok()) {
      job->counts = r->counts;
      job->state = "done";
      if (r->counts.rejected > 0) job->rejects_path = r->rejects_path;
    } else {
      job->state = "failed";
      // Said of the upload, not of the server's file.
      std::string message = r.status().message();
      for (std::size_t at; (at = message.find(job->csv_path)) != std::string::npos;) {
        message.replace(at, job->csv_path.size(), "the CSV");
      }
      job->error = std::move(message);
    }
    ::unlink(map_path.c_str());
    ::unlink(job->csv_path.c_str());  // the upload holds personal data: gone once imported
  });
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_[job->id] = job;
  }
  Response r = ShapeJson(202, {{"id", job->id}, {"kind", job->kind}, {"state", "running"}});
  r.headers.emplace_back("Location", "/v1/imports/" + job->id);
  return r;
}

std::shared_ptr<ImportJobs::Job> ImportJobs::Find(std::string_view tenant, std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(std::string(id));
  if (it == jobs_.end() || it->second->tenant != tenant) return nullptr;
  return it->second;
}

Response ImportJobs::Get(std::string_view tenant, std::string_view id) {
  auto job = Find(tenant, id);
  if (!job) return ProblemFromStatus(Status::NotFound("no import " + Quote(id)));
  std::lock_guard<std::mutex> lock(job->mu);
  ordered_json j = {{"id", job->id},
                    {"kind", job->kind},
                    {"state", job->state},
                    {"rows", job->counts.rows},
                    {"added", job->counts.added},
                    {"updated", job->counts.updated},
                    {"unchanged", job->counts.unchanged},
                    {"rejected", job->counts.rejected}};
  if (!job->error.empty()) j["error"] = job->error;
  return ShapeJson(200, j);
}

Response ImportJobs::Rejects(std::string_view tenant, std::string_view id) {
  auto job = Find(tenant, id);
  if (!job) return ProblemFromStatus(Status::NotFound("no import " + Quote(id)));
  std::string path;
  {
    std::lock_guard<std::mutex> lock(job->mu);
    path = job->rejects_path;
  }
  if (path.empty()) {
    return ProblemFromStatus(
        Status::NotFound("this import has no rejected rows (or they were downloaded already)"));
  }
  std::ifstream in(path, std::ios::binary);
  std::string csv((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The rejects hold personal data: served once, then gone from the server.
  {
    std::lock_guard<std::mutex> lock(job->mu);
    ::unlink(job->rejects_path.c_str());
    job->rejects_path.clear();
  }
  Response r;
  r.content_type = "text/csv; charset=utf-8";
  r.body = std::move(csv);
  return r;
}

}  // namespace custodian::http
