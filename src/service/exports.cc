// The access and portability export (Vault::BuildExport, DownloadExport): a
// zip of everything custodian holds about one subject, in the layout of
// docs/export-format.md, sealed with the tenant's channel key until it is
// downloaded once through an expiring link. Its SHA-256 is the request's
// evidence. Plaintext buffers are wiped once the zip is built.
#include <sodium.h>
#include <zip.h>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "common/time.h"
#include "policy/render.h"
#include "service/consent_json.h"
#include "service/disclosure_json.h"
#include "service/requests_internal.h"
#include "service/vault.h"
#include "service/vault_internal.h"

namespace custodian::service {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr int64_t kExportTtlMs = 7LL * 24 * 3600 * 1000;
constexpr char kFormat[] = "custodian.export.v1";
constexpr char kTokenCategory[] = "custodian.export_token";

std::string SealAd(std::string_view id) { return "custodian.export.v1:" + std::string(id); }

std::string Hex(const unsigned char* data, std::size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data, n);
  out.pop_back();
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return Hex(digest, sizeof digest);
}

// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.
std::string CsvField(std::string_view v) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(v);
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string CsvLine(const std::vector<std::string>& fields) {
  std::string line;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) line += ',';
    line += CsvField(fields[i]);
  }
  return line + "\r\n";
}

// Whether a policy list (a purpose's or recipient's categories) holds
// `category`: exact keys, as the vault authorizes reads.
bool Lists(const std::vector<std::string>& listed, const std::string& category) {
  return std::find(listed.begin(), listed.end(), category) != listed.end();
}

// What the policy says about one category: the purposes that use it with
// their legal basis, the recipients it may go to, and how long it is kept.
ordered_json CategoryUse(const policy::Policy& policy, const std::string& category,
                         const std::string& record_kind) {
  ordered_json purposes = ordered_json::array();
  for (const policy::Purpose& p : policy.purposes) {
    if (!Lists(p.categories, category)) continue;
    purposes.push_back({{"purpose", p.key},
                        {"label", p.label},
                        {"basis", p.basis ? policy::LegalBasisName(*p.basis) : ""}});
  }
  ordered_json recipients = ordered_json::array();
  for (const policy::Recipient& r : policy.recipients) {
    if (!Lists(r.categories, category)) continue;
    recipients.push_back({{"recipient", r.id},
                          {"label", r.label},
                          {"kind", policy::RecipientKindName(r.kind)},
                          {"country", r.country}});
  }
  ordered_json retention = ordered_json::array();
  for (const policy::RetentionRule& rule : policy.retention) {
    const bool applies = record_kind.empty()
                             ? Lists(rule.categories, category)
                             : std::find(rule.records.begin(), rule.records.end(), record_kind) !=
                                   rule.records.end();
    if (!applies) continue;
    retention.push_back({{"rule", rule.name},
                         {"text", policy::DescribeRetentionRule(policy, rule)},
                         {"reason", rule.reason}});
  }
  return {{"purposes", purposes}, {"recipients", recipients}, {"retention", retention}};
}

// Builds a zip in memory from (name, content) pairs; the contents must stay
// alive until it returns.
Result<std::string> Zip(const std::deque<std::pair<std::string, std::string>>& files,
                        int64_t mtime_ms) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* buffer = zip_source_buffer_create(nullptr, 0, 0, &error);
  if (buffer == nullptr) return Status::Internal("cannot create the export bundle");
  zip_source_keep(buffer);
  std::unique_ptr<zip_source_t, decltype(&zip_source_free)> owned(buffer, &zip_source_free);
  zip_t* archive = zip_open_from_source(buffer, ZIP_TRUNCATE, &error);
  if (archive == nullptr) {
    zip_error_fini(&error);
    return Status::Internal("cannot create the export bundle");
  }
  for (const auto& [name, content] : files) {
    zip_source_t* source = zip_source_buffer(archive, content.data(), content.size(), 0);
    const zip_int64_t index =
        source ? zip_file_add(archive, name.c_str(), source, ZIP_FL_ENC_UTF_8) : -1;
    if (index < 0) {
      if (source) zip_source_free(source);
      zip_discard(archive);
      return Status::Internal("cannot add " + name + " to the export bundle");
    }
    zip_file_set_mtime(archive, static_cast<zip_uint64_t>(index),
                       static_cast<time_t>(mtime_ms / 1000), 0);
  }
  if (zip_close(archive) != 0) {
    zip_discard(archive);
    return Status::Internal("cannot finish the export bundle");
  }
  if (zip_source_open(buffer) != 0) return Status::Internal("cannot read the export bundle");
  zip_source_seek(buffer, 0, SEEK_END);
  const zip_int64_t size = zip_source_tell(buffer);
  zip_source_seek(buffer, 0, SEEK_SET);
  std::string out(static_cast<std::size_t>(std::max<zip_int64_t>(size, 0)), '\0');
  const zip_int64_t read = zip_source_read(buffer, out.data(), out.size());
  zip_source_close(buffer);
  if (read != size) return Status::Internal("cannot read the export bundle");
  return out;
}

}  // namespace

Status Vault::BuildExport(store::Transaction& tx, const TenantContext& t, RequestWork& work,
                          const store::SubjectRow& subject, RequestEvidence& evidence) {
  const policy::Policy& policy = t.policy;
  const store::RequestRow& request = work.row;
  const int64_t now = impl_->Now();
  std::deque<std::pair<std::string, std::string>> files;

  // subject.json: every field, decrypted, with what the policy says of it.
  std::set<std::string> all;
  for (const policy::Category& c : policy.categories) all.insert(c.key);
  ASSIGN_OR_RETURN(SealedFields held, DecodeFields(subject.fields));
  for (const auto& [category, blob] : held) {
    if (!all.count(category)) all.insert(category);  // a category no longer declared
  }
  ASSIGN_OR_RETURN(SubjectView rest, impl_->Project(t, subject, all));
  ordered_json fields = ordered_json::array();
  for (const FieldValue& f : rest.fields) {
    const policy::Category* c = policy.FindCategory(f.category);
    ordered_json entry = {{"category", f.category},
                          {"label", f.label},
                          {"value", f.value},
                          {"sensitive", c != nullptr && c->sensitive}};
    entry.update(CategoryUse(policy, f.category, ""));
    fields.push_back(std::move(entry));
  }
  ordered_json subject_json = {
      {"id", subject.id},
      {"state", store::SubjectStateName(subject.state)},
      {"restricted", subject.restricted},
      {"created_at", FormatTime(subject.created_ms)},
      {"closed_at", subject.closed_ms ? json(FormatTime(*subject.closed_ms)) : json(nullptr)},
      {"fields", fields}};
  for (auto& f : rest.fields) sodium_memzero(f.value.data(), f.value.size());

  // records/<kind>.csv: one file per kind, payload keys as columns.
  ASSIGN_OR_RETURN(auto rows, tx.ListRecords(t.id, subject.id, ""));
  std::optional<Aead> aead;
  std::map<std::string, std::vector<RecordView>> by_kind;
  for (const store::RecordRow& r : rows) {
    if (!aead) {
      ASSIGN_OR_RETURN(Aead a, impl_->SubjectAead(t, subject));
      aead.emplace(std::move(a));
    }
    ASSIGN_OR_RETURN(RecordView v, OpenRecord(tx, t, *aead, r));
    by_kind[r.kind].push_back(std::move(v));
  }
  ordered_json record_files = ordered_json::array();
  int64_t record_count = 0;
  for (auto& [kind, records] : by_kind) {
    std::set<std::string> keys;
    std::set<std::string> events;
    std::vector<json> payloads;
    for (const RecordView& r : records) {
      json p = json::parse(r.payload_json, nullptr, false);
      if (!p.is_object()) p = json::object();
      for (auto it = p.begin(); it != p.end(); ++it) keys.insert(it.key());
      for (const auto& [event, at] : r.events) events.insert(event);
      payloads.push_back(std::move(p));
    }
    std::vector<std::string> header = {"record_id", "at"};
    for (const std::string& e : events) header.push_back("event:" + e);
    for (const std::string& k : keys) header.push_back(k);
    std::string csv = CsvLine(header);
    for (std::size_t i = 0; i < records.size(); ++i) {
      std::vector<std::string> line = {records[i].id, FormatTime(records[i].at_ms)};
      for (const std::string& e : events) {
        auto it = std::find_if(records[i].events.begin(), records[i].events.end(),
                               [&](const auto& pair) { return pair.first == e; });
        line.push_back(it == records[i].events.end() ? "" : FormatTime(it->second));
      }
      for (const std::string& k : keys) {
        const json& p = payloads[i];
        if (!p.contains(k)) {
          line.emplace_back();
        } else {
          line.push_back(p[k].is_string() ? p[k].get<std::string>() : p[k].dump());
        }
      }
      csv += CsvLine(line);
      for (std::string& f : line) sodium_memzero(f.data(), f.size());
      sodium_memzero(records[i].payload_json.data(), records[i].payload_json.size());
    }
    const policy::RecordKind* k = policy.FindRecordKind(kind);
    ordered_json entry = {{"kind", kind},
                          {"label", k ? k->label : kind},
                          {"category", k ? k->category : ""},
                          {"file", "records/" + kind + ".csv"},
                          {"records", records.size()}};
    entry.update(CategoryUse(policy, k ? k->category : "", kind));
    record_files.push_back(std::move(entry));
    record_count += static_cast<int64_t>(records.size());
    files.emplace_back("records/" + kind + ".csv", std::move(csv));
  }
  subject_json["records"] = record_files;

  // consents.json: the standing choices and their history.
  if (!aead) {
    ASSIGN_OR_RETURN(Aead a, impl_->SubjectAead(t, subject));
    aead.emplace(std::move(a));
  }
  ASSIGN_OR_RETURN(ConsentView consents, ReadConsents(tx, t, *aead, subject.id));

  // disclosures.json: who the data may go to, and what went to whom.
  ordered_json recipients = ordered_json::array();
  for (const policy::Recipient& r : policy.recipients) {
    ordered_json categories = ordered_json::array();
    for (const auto& [category, blob] : held) {
      if (Lists(r.categories, category)) categories.push_back(category);
    }
    if (categories.empty()) continue;
    recipients.push_back({{"recipient", r.id},
                          {"label", r.label},
                          {"kind", policy::RecipientKindName(r.kind)},
                          {"country", r.country},
                          {"purposes", r.purposes},
                          {"categories", categories}});
  }
  ASSIGN_OR_RETURN(auto disclosed, tx.ListSubjectDisclosures(t.id, subject.id));
  ordered_json went = ordered_json::array();
  for (const store::DisclosureRow& d : disclosed) {
    ordered_json j = DisclosureJson(DisclosureRowView(policy, d), false);
    j.erase("subjects");  // how many others the same disclosure covered: not theirs to know
    if (const policy::Recipient* r = policy.FindRecipient(d.recipient)) j["country"] = r->country;
    went.push_back(std::move(j));
  }
  ordered_json disclosures = {{"declared_recipients", recipients}, {"disclosures", went}};

  // requests.json: the subject's requests (this one included).
  ASSIGN_OR_RETURN(auto requests, tx.ListRequests(t.id, false, subject.id));
  ordered_json past = ordered_json::array();
  for (const store::RequestRow& r : requests) {
    past.push_back({{"id", r.id},
                    {"type", r.type},
                    {"state", store::RequestStateName(r.state)},
                    {"received_at", FormatTime(r.received_ms)},
                    {"due_at", FormatTime(r.due_ms)},
                    {"closed_at", r.closed_ms ? json(FormatTime(*r.closed_ms)) : json(nullptr)}});
  }

  // retention.json: the holds on what an erasure kept.
  ASSIGN_OR_RETURN(auto holds, tx.ListErasureHolds(t.id, subject.id));
  ordered_json kept = ordered_json::array();
  for (const store::ErasureHoldRow& h : holds) {
    kept.push_back({{"item", h.item},
                    {"until", FormatTime(h.until_ms)},
                    {"rule", h.rule},
                    {"reason", h.reason},
                    {"request", h.request_id},
                    {"purged_at", h.purged_ms ? json(FormatTime(*h.purged_ms)) : json(nullptr)}});
  }
  // Legal holds on the subject or its records: their scope and dates, not
  // their reason (a court order may forbid telling the person why).
  ASSIGN_OR_RETURN(auto legal, tx.ListHolds(t.id, subject.id, std::nullopt));
  ordered_json legal_holds = ordered_json::array();
  for (const store::HoldRow& h : legal) {
    legal_holds.push_back(
        {{"id", h.id},
         {"record", h.record.empty() ? json(nullptr) : json(h.record)},
         {"placed_at", FormatTime(h.created_ms)},
         {"until", h.until_ms ? json(FormatTime(*h.until_ms)) : json(nullptr)},
         {"released_at", h.released_ms ? json(FormatTime(*h.released_ms)) : json(nullptr)},
         {"standing", h.Stands(now)}});
  }
  ordered_json rules = ordered_json::array();
  for (const policy::RetentionRule& rule : policy.retention) {
    rules.push_back({{"rule", rule.name},
                     {"categories", rule.categories},
                     {"records", rule.records},
                     {"text", policy::DescribeRetentionRule(policy, rule)},
                     {"reason", rule.reason}});
  }

  files.emplace_front("subject.json", subject_json.dump(2));
  files.emplace_back("consents.json", ConsentViewJson(consents).dump(2));
  files.emplace_back("disclosures.json", disclosures.dump(2));
  files.emplace_back("requests.json", past.dump(2));
  files.emplace_back(
      "retention.json",
      ordered_json{{"rules", rules}, {"holds", kept}, {"legal_holds", legal_holds}}.dump(2));
  if (request.type == "portability") {
    // The same fields as one flat CSV, for moving them to another service.
    std::string csv = CsvLine({"category", "label", "value"});
    for (const auto& f : subject_json["fields"]) {
      std::vector<std::string> line = {f["category"].get<std::string>(),
                                       f["label"].get<std::string>(),
                                       f["value"].get<std::string>()};
      csv += CsvLine(line);
      for (std::string& v : line) sodium_memzero(v.data(), v.size());
    }
    files.emplace_back("portable.csv", std::move(csv));
  }
  ordered_json manifest_files = ordered_json::array();
  for (const auto& [name, content] : files) {
    manifest_files.push_back(
        {{"name", name}, {"bytes", content.size()}, {"sha256", Sha256Hex(content)}});
  }
  ordered_json manifest = {
      {"format", kFormat},
      {"tenant", t.id},
      {"organization", policy.organization.legal_name.empty() ? policy.organization.name
                                                              : policy.organization.legal_name},
      {"policy_version", policy.version},
      {"request", {{"id", request.id}, {"type", request.type}}},
      {"subject", subject.id},
      {"generated_at", FormatTime(now)},
      {"files", manifest_files}};
  files.emplace_front("manifest.json", manifest.dump(2));

  auto zipped = Zip(files, now);
  for (auto& [name, content] : files) sodium_memzero(content.data(), content.size());
  if (!zipped.ok()) return zipped.status();
  std::string zip = std::move(zipped).value();

  unsigned char secret[32];
  randombytes_buf(secret, sizeof secret);
  char encoded[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(encoded, sizeof encoded, secret, sizeof secret,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(secret, sizeof secret);
  store::ExportRow row;
  row.tenant = t.id;
  row.id = NewId("exp_");
  row.request_id = request.id;
  row.subject = subject.id;
  row.sha256 = Sha256Hex(zip);
  row.bytes = static_cast<int64_t>(zip.size());
  row.token_digest = t.credentials.Digest(kTokenCategory, encoded);
  row.created_ms = now;
  row.expires_ms = now + kExportTtlMs;
  row.sealed = t.channel_seal.Seal(zip, SealAd(row.id));
  sodium_memzero(zip.data(), zip.size());
  RETURN_IF_ERROR(tx.InsertExport(row));
  work.download_token = t.id + "." + row.id + "." + encoded;
  sodium_memzero(encoded, sizeof encoded);

  evidence.export_id = row.id;
  evidence.export_sha256 = row.sha256;
  evidence.export_bytes = row.bytes;
  evidence.export_expires_ms = row.expires_ms;
  evidence.done = "exported " + std::to_string(rest.fields.size()) + " fields and " +
                  std::to_string(record_count) + " records";
  return Status::Ok();
}

Result<ExportDownload> Vault::DownloadExport(std::string_view token) {
  // "<tenant>.<export id>.<secret>"
  const std::size_t first = token.find('.');
  const std::size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  const Status unknown = Status::NotFound("no export has this link; ask for a new copy");
  if (second == std::string_view::npos || token.size() > 256) return unknown;
  const std::string_view tenant = token.substr(0, first);
  const std::string_view id = token.substr(first + 1, second - first - 1);
  const std::string_view secret = token.substr(second + 1);
  if (!ValidateTenantId(tenant).ok()) return unknown;
  auto t = TenantFor(tenant);
  if (!t.ok()) return unknown;
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  ASSIGN_OR_RETURN(auto found, tx->GetExport(tenant, id));
  if (!found) return unknown;
  const std::string digest = (*t)->credentials.Digest(kTokenCategory, secret);
  if (digest.size() != found->token_digest.size() ||
      sodium_memcmp(digest.data(), found->token_digest.data(), digest.size()) != 0) {
    return unknown;
  }
  audit::Event ev = impl_->Event({"subject", ""}, tenant, "export.download");
  ev.subject = found->subject;
  ev.reason = "request " + found->request_id;
  const int64_t now = impl_->Now();
  Status refusal = Status::Ok();
  if (found->downloaded_ms) {
    refusal = Status::FailedPrecondition("this export was already downloaded on " +
                                         FormatTime(*found->downloaded_ms).substr(0, 10) +
                                         "; a link works once: ask for a new copy");
  } else if (now > found->expires_ms || found->sealed.empty()) {
    refusal = Status::FailedPrecondition("this export's link expired on " +
                                         FormatTime(found->expires_ms).substr(0, 10) +
                                         "; ask for a new copy");
  }
  if (!refusal.ok()) {
    ev.outcome = "refused";
    ev.reason += found->downloaded_ms ? "; already downloaded" : "; expired";
    RETURN_IF_ERROR(tx->AppendAudit(ev).status());
    RETURN_IF_ERROR(tx->Commit());
    return refusal;
  }
  auto zip = (*t)->channel_seal.Open(found->sealed, SealAd(found->id));
  if (!zip.ok()) return Status::DataLoss("export " + Quote(id) + " failed its integrity check");
  RETURN_IF_ERROR(tx->MarkExportDownloaded(tenant, id, now));
  ev.outcome = "ok";
  ev.count = static_cast<int64_t>(zip->size());
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  RETURN_IF_ERROR(tx->Commit());
  return ExportDownload{std::string(tenant), found->request_id,
                        "custodian-export-" + found->request_id + ".zip", found->sha256,
                        std::move(zip).value()};
}

}  // namespace custodian::service
