#include "service/consent_json.h"

#include "common/time.h"

namespace custodian::service {

using nlohmann::ordered_json;

ordered_json ConsentStatusJson(const ConsentStatus& s) {
  return {{"purpose", s.purpose},
          {"basis", s.basis},
          {"state", s.state},
          {"allowed", s.allowed},
          {"default", s.is_default},
          {"chosen_at", s.at_ms ? ordered_json(FormatTime(*s.at_ms)) : ordered_json()}};
}

ordered_json ConsentEventJson(const ConsentEvent& e) {
  ordered_json j = {{"purpose", e.purpose},
                    {"state", e.state},
                    {"source", e.source},
                    {"actor", e.actor},
                    {"policy_version", e.policy_version},
                    {"at", FormatTime(e.at_ms)},
                    {"recorded_at", FormatTime(e.recorded_ms)}};
  if (!e.message_id.empty()) j["message_id"] = e.message_id;
  if (!e.request_id.empty()) j["request_id"] = e.request_id;
  return j;
}

ordered_json ConsentViewJson(const ConsentView& v) {
  ordered_json purposes = ordered_json::array();
  for (const ConsentStatus& s : v.purposes) purposes.push_back(ConsentStatusJson(s));
  ordered_json history = ordered_json::array();
  for (const ConsentEvent& e : v.history) history.push_back(ConsentEventJson(e));
  return {{"subject", v.subject}, {"purposes", purposes}, {"history", history}};
}

}  // namespace custodian::service
