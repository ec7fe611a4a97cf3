#include "service/request_json.h"

#include "common/time.h"

namespace custodian::service {

using nlohmann::ordered_json;

namespace {

ordered_json Opt(const std::string& v) { return v.empty() ? ordered_json() : ordered_json(v); }
ordered_json OptTime(const std::optional<int64_t>& ms) {
  return ms ? ordered_json(FormatTime(*ms)) : ordered_json();
}

ordered_json EvidenceJson(const RequestEvidence& e) {
  ordered_json kept = ordered_json::array();
  for (const KeptItem& k : e.kept) {
    kept.push_back({{"item", k.item},
                    {"label", k.label},
                    {"until", FormatTime(k.until_ms)},
                    {"rule", k.rule},
                    {"reason", k.reason},
                    {"purged_at", OptTime(k.purged_ms)}});
  }
  ordered_json j = {{"done", e.done}, {"by", e.by}, {"at", FormatTime(e.at_ms)}};
  if (!e.erased.empty() || !e.kept.empty()) {
    j["erased"] = e.erased;
    j["kept"] = kept;
  }
  if (!e.corrected.empty()) j["corrected"] = e.corrected;
  if (!e.purposes.empty()) j["purposes"] = e.purposes;
  if (!e.export_id.empty()) {
    j["export"] = {{"id", e.export_id},
                   {"sha256", e.export_sha256},
                   {"bytes", e.export_bytes},
                   {"expires_at", FormatTime(e.export_expires_ms)}};
  }
  j["recipients"] = e.recipients;
  j["notices"] = e.notices;
  return j;
}

}  // namespace

ordered_json RequestJson(const RequestView& r) {
  ordered_json corrections = ordered_json::array();
  for (const FieldValue& f : r.corrections) {
    corrections.push_back({{"category", f.category}, {"label", f.label}, {"value", Opt(f.value)}});
  }
  ordered_json j = {{"id", r.id},
                    {"type", r.type},
                    {"subject", Opt(r.subject)},
                    {"state", r.state},
                    {"verification", r.verification},
                    {"assigned", Opt(r.assigned)},
                    {"details", Opt(r.details)},
                    {"resolution", Opt(r.resolution)},
                    {"purpose", Opt(r.purpose)},
                    {"corrections", corrections},
                    {"officer", Opt(r.officer)},
                    {"received_at", FormatTime(r.received_ms)},
                    {"due_at", FormatTime(r.due_ms)},
                    {"extended_at", OptTime(r.extended_ms)},
                    {"overdue", r.overdue},
                    {"closed_at", OptTime(r.closed_ms)},
                    {"evidence", r.evidence ? EvidenceJson(*r.evidence) : ordered_json()}};
  if (!r.download_token.empty()) j["download_token"] = r.download_token;
  return j;
}

}  // namespace custodian::service
