#include "service/disclosure_json.h"

#include "common/time.h"

namespace custodian::service {

using nlohmann::json;
using nlohmann::ordered_json;

DisclosureView DisclosureRowView(const policy::Policy& policy, const store::DisclosureRow& d) {
  DisclosureView v;
  v.id = d.id;
  v.recipient = d.recipient;
  if (const policy::Recipient* r = policy.FindRecipient(d.recipient)) {
    v.recipient_label = r->label;
    v.recipient_kind = policy::RecipientKindName(r->kind);
  }
  v.purpose = d.purpose;
  v.categories = d.categories;
  v.legal_reference = d.legal_reference;
  v.actor = d.actor;
  v.role = d.role;
  v.at_ms = d.at_ms;
  v.recorded_ms = d.recorded_ms;
  v.subjects = d.subjects;
  v.exported = d.exported;
  return v;
}

ordered_json DisclosureJson(const DisclosureView& d, bool operator_view) {
  ordered_json j = {
      {"id", d.id},
      {"recipient", d.recipient},
      {"recipient_label", d.recipient_label},
      {"recipient_kind", d.recipient_kind},
      {"purpose", d.purpose},
      {"categories", d.categories},
      {"legal_reference",
       d.legal_reference.empty() ? ordered_json() : ordered_json(d.legal_reference)},
      {"at", FormatTime(d.at_ms)},
      {"recorded_at", FormatTime(d.recorded_ms)},
      {"subjects", d.subjects},
      {"exported", d.exported}};
  if (operator_view) {
    j["actor"] = d.actor;
    j["role"] = d.role;
  }
  return j;
}

ordered_json DisclosureResultJson(const DisclosureResult& r) {
  ordered_json refused = ordered_json::array();
  for (const RefusedSubject& s : r.refused) {
    refused.push_back({{"subject", s.subject}, {"reason", s.reason}});
  }
  return {{"disclosure", DisclosureJson(r.disclosure)},
          {"subjects", r.subjects},
          {"refused", refused},
          {"unmatched_lookups", r.unmatched_lookups}};
}

ordered_json DisclosurePayloadJson(const DisclosureResult& r) {
  ordered_json subjects = ordered_json::array();
  for (const DisclosedSubject& s : r.payload) {
    ordered_json fields = ordered_json::object();
    for (const FieldValue& f : s.fields) fields[f.category] = f.value;
    ordered_json records = ordered_json::array();
    for (const RecordView& rec : s.records) {
      json payload = json::parse(rec.payload_json, nullptr, false);
      if (payload.is_discarded()) payload = json::object();
      records.push_back({{"id", rec.id},
                         {"kind", rec.kind},
                         {"category", rec.category},
                         {"at", FormatTime(rec.at_ms)},
                         {"payload", payload}});
    }
    subjects.push_back({{"subject", s.subject}, {"fields", fields}, {"records", records}});
  }
  return {{"format", "custodian.disclosure.v1"},
          {"disclosure", DisclosureJson(r.disclosure, false)},
          {"subjects", subjects}};
}

}  // namespace custodian::service
