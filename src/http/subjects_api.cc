// The subject routes of the /v1 API: subjects (create, look up, read,
// update, close, erase), their records and anchor events, and incoming calls
// matched to subjects (api_internal.h).
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/time.h"
#include "http/api_internal.h"
#include "http/json_body.h"
#include "http/json_text.h"
#include "http/problem.h"
#include "http/url.h"
#include "service/authorize.h"

namespace custodian::http {

namespace api_internal {

Or<std::vector<service::FieldInput>> Fields(const json& body, const std::string& member) {
  const std::string at = "/" + member;
  auto it = body.find(member);
  if (it == body.end()) return BadRequest("missing field " + Quote(member), at);
  if (!it->is_object() || it->empty()) {
    return BadRequest(Quote(member) + " must be an object of category keys to values, not empty",
                      at);
  }
  std::vector<service::FieldInput> out;
  for (const auto& [key, value] : it->items()) {
    if (!value.is_string()) {
      return BadRequest("the value of " + Quote(key) + " must be a string", Pointer(at, key));
    }
    out.push_back({key, value.get<std::string>()});
  }
  return out;
}

void SubjectJson(JsonText& j, const service::SubjectView& v) {
  j.BeginObject().Key("id").String(v.id).Key("state").String(v.state);
  j.Key("created_at").String(FormatTime(v.created_ms)).Key("closed_at");
  if (v.closed_ms) {
    j.String(FormatTime(*v.closed_ms));
  } else {
    j.Null();
  }
  j.Key("fields").BeginArray();
  for (const auto& f : v.fields) {
    j.BeginObject().Key("category").String(f.category).Key("label").String(f.label);
    j.Key("value").String(f.value).EndObject();
  }
  j.EndArray().Key("withheld").BeginArray();
  for (const auto& w : v.withheld) j.String(w);
  j.EndArray().EndObject();
}

ordered_json WriteJson(const service::AddSubjectResult& r) {
  return {{"id", r.subject_id},
          {"created", r.created},
          {"fields_changed", r.fields_changed},
          {"fields_unchanged", r.fields_unchanged}};
}

std::optional<std::string> FaultPointer(const service::InputFault& fault,
                                        const std::vector<service::FieldInput>* fields) {
  if (fault.member.empty()) return std::nullopt;
  const std::string at = "/" + fault.member;
  if (fault.index < 0) return at;
  if (fields == nullptr) return at + "/" + std::to_string(fault.index);
  if (static_cast<std::size_t>(fault.index) >= fields->size()) return at;
  return Pointer(at, (*fields)[static_cast<std::size_t>(fault.index)].category);
}

}  // namespace api_internal

using api_internal::FaultPointer;
using api_internal::Fields;
using api_internal::json;
using api_internal::ordered_json;
using api_internal::SubjectJson;
using api_internal::WriteJson;

std::optional<std::string> Api::SubjectPointer(const Caller& c, const service::SubjectInput& in,
                                               const Status& s) {
  if (s.code() != StatusCode::kInvalidArgument) return std::nullopt;
  auto policy = vault_.TenantPolicy(c.tenant);
  if (!policy.ok()) return std::nullopt;
  service::InputFault fault;
  if (service::CheckSubjectInput(**policy, in, &fault).ok()) return std::nullopt;
  return FaultPointer(fault, fault.member == "fields" ? &in.fields : nullptr);
}

Response Api::SubjectCreate(Request& req, const Caller& c) {
  auto body = JsonBody(req);
  if (!body.ok()) return *body.error;
  const json& b = *body.value;
  if (auto bad = CheckKeys(b, "", {"fields", "external_id"}, {"fields"})) return *bad;
  auto fields = Fields(b);
  if (!fields.ok()) return *fields.error;
  auto ext = OptString(b, "external_id");
  if (!ext.ok()) return *ext.error;
  Audited(req);
  auto r = vault_.AddSubject(c.actor, c.tenant, *fields.value, *ext.value);
  if (!r.ok()) return Fail(r.status(), SubjectPointer(c, {*fields.value, *ext.value}, r.status()));
  return ShapeJson(r->created ? 201 : 200, WriteJson(*r));
}

Response Api::SubjectLookup(Request& req, const Caller& c) {
  auto purpose = Purpose(req);
  if (!purpose.ok()) return *purpose.error;
  auto body = JsonBody(req);
  if (!body.ok()) return *body.error;
  const json& b = *body.value;
  if (auto bad = CheckKeys(b, "", {"phone", "email", "external_id", "category", "value"})) {
    return *bad;
  }
  service::LookupQuery q;
  int given = 0;
  for (const char* k : {"phone", "email", "external_id"}) {
    auto v = OptString(b, k);
    if (!v.ok()) return *v.error;
    if (*v.value) {
      ++given;
      q = {k == std::string_view("external_id") ? service::kExternalIdKind : k, **v.value};
    }
  }
  auto category = OptString(b, "category");
  if (!category.ok()) return *category.error;
  auto value = OptString(b, "value");
  if (!value.ok()) return *value.error;
  if (*category.value || *value.value) {
    if (!*category.value) return BadRequest("missing field 'category'", "/category");
    if (!*value.value) return BadRequest("missing field 'value'", "/value");
    ++given;
    q = {**category.value, **value.value};
  }
  if (given != 1) {
    return BadRequest("give exactly one of phone, email, external_id, or category with value", "");
  }
  Audited(req);
  // The answer leaves once its audit events are durable; this thread does
  // not wait for that (under group commit the store's committer completes
  // it), so it serves other connections meanwhile.
  return Later<std::vector<service::SubjectView>>(
      [&](auto done) { vault_.LookupThen(c.actor, c.tenant, q, *purpose.value, std::move(done)); },
      &Api::LookupAnswer);
}

Response Api::LookupAnswer(const Result<std::vector<service::SubjectView>>& views) {
  if (!views.ok()) return Fail(views.status());
  if (lookups_ != nullptr) lookups_->WithLabels({views->empty() ? "miss" : "hit"}).Inc();
  JsonText j;
  j.BeginObject().Key("matches").BeginArray();
  for (const auto& v : *views) SubjectJson(j, v);
  j.EndArray().EndObject();
  return Response::Json(200, std::move(j).Take());
}

Response Api::Answer(const std::function<Response()>& shape) {
  SyncAuditAppends();
  try {
    return shape();
  } catch (...) {
    // As the dispatcher answers a handler that throws: the text may quote
    // personal data, so it goes nowhere.
    return Problem(500, "internal", "Internal Server Error",
                   "the server could not complete the request");
  }
}

Response Api::SubjectGet(Request& req, const Caller& c) {
  auto purpose = Purpose(req);
  if (!purpose.ok()) return *purpose.error;
  Audited(req);
  auto v = vault_.ShowSubject(c.actor, c.tenant, *req.PathParam("id"), *purpose.value);
  if (!v.ok()) return Fail(v.status());
  JsonText j;
  SubjectJson(j, *v);
  return Response::Json(200, std::move(j).Take());
}

Response Api::SubjectUpdate(Request& req, const Caller& c) {
  auto body = JsonBody(req);
  if (!body.ok()) return *body.error;
  if (auto bad = CheckKeys(*body.value, "", {"fields"}, {"fields"})) return *bad;
  auto fields = Fields(*body.value);
  if (!fields.ok()) return *fields.error;
  Audited(req);
  auto r = vault_.UpdateSubject(c.actor, c.tenant, *req.PathParam("id"), *fields.value);
  if (!r.ok()) return Fail(r.status(), SubjectPointer(c, {*fields.value, {}}, r.status()));
  return ShapeJson(200, WriteJson(*r));
}

Response Api::SubjectErase(Request& req, const Caller& c) {
  Audited(req);
  Status s = vault_.EraseSubject(c.actor, c.tenant, *req.PathParam("id"));
  if (!s.ok()) return Fail(s);
  return NoContent();
}

Response Api::SubjectClose(Request& req, const Caller& c) {
  auto body = JsonBody(req, /*optional_body=*/true);
  if (!body.ok()) return *body.error;
  if (auto bad = CheckKeys(*body.value, "", {"at"})) return *bad;
  auto at = OptTime(*body.value, "at");
  if (!at.ok()) return *at.error;
  Audited(req);
  std::string id(*req.PathParam("id"));
  Status s = vault_.CloseSubject(c.actor, c.tenant, id, *at.value);
  if (!s.ok()) return Fail(s);
  // What the store now holds, read back for the response's closed_at.
  int64_t closed = at.value->value_or(service::SystemClockMs());
  return ShapeJson(200, {{"id", id}, {"state", "closed"}, {"closed_at", FormatTime(closed)}});
}

Response Api::RecordList(Request& req, const Caller& c) {
  auto purpose = Purpose(req);
  if (!purpose.ok()) return *purpose.error;
  auto kind = req.QueryParam("kind");
  Audited(req);
  auto list = vault_.ListRecords(c.actor, c.tenant, *req.PathParam("id"), *purpose.value,
                                 kind ? *kind : std::string_view());
  if (!list.ok()) return Fail(list.status());
  ordered_json records = ordered_json::array();
  for (const auto& v : list->records) {
    ordered_json events = ordered_json::object();
    for (const auto& [name, ms] : v.events) events[name] = FormatTime(ms);
    ordered_json data = ordered_json::parse(v.payload_json, nullptr, false);
    if (data.is_discarded()) data = ordered_json::object();
    records.push_back({{"id", v.id},
                       {"kind", v.kind},
                       {"category", v.category},
                       {"at", FormatTime(v.at_ms)},
                       {"data", data},
                       {"events", events}});
  }
  return ShapeJson(200, {{"records", records}, {"withheld", list->withheld}});
}

Response Api::RecordCreate(Request& req, const Caller& c) {
  auto body = JsonBody(req);
  if (!body.ok()) return *body.error;
  const json& b = *body.value;
  if (auto bad = CheckKeys(b, "", {"kind", "at", "data"}, {"kind", "at", "data"})) return *bad;
  auto kind = OptString(b, "kind");
  if (!kind.ok()) return *kind.error;
  auto at = OptTime(b, "at");
  if (!at.ok()) return *at.error;
  if (!b["data"].is_object()) return BadRequest("'data' must be a JSON object", "/data");
  Audited(req);
  auto id = vault_.AddRecord(c.actor, c.tenant, *req.PathParam("id"),
                             {**kind.value, **at.value, b["data"].dump()});
  if (!id.ok()) return Fail(id.status());
  return ShapeJson(201, {{"id", *id}});
}

Response Api::RecordEvent(Request& req, const Caller& c) {
  auto body = JsonBody(req);
  if (!body.ok()) return *body.error;
  const json& b = *body.value;
  if (auto bad = CheckKeys(b, "", {"event", "at"}, {"event"})) return *bad;
  auto event = OptString(b, "event");
  if (!event.ok()) return *event.error;
  auto at = OptTime(b, "at");
  if (!at.ok()) return *at.error;
  int64_t when = at.value->value_or(service::SystemClockMs());
  Audited(req);
  std::string record(*req.PathParam("id"));
  Status s = vault_.RecordEvent(c.actor, c.tenant, record, **event.value, when);
  if (!s.ok()) return Fail(s);
  return ShapeJson(200, {{"record", record}, {"event", **event.value}, {"at", FormatTime(when)}});
}

Response Api::CallMatch(Request& req, const Caller& c) {
  auto purpose = Purpose(req, options_.call_purpose);
  if (!purpose.ok()) return *purpose.error;
  auto body = JsonBody(req);
  if (!body.ok()) return *body.error;
  const json& b = *body.value;
  service::CallInput call;
  if (b.contains("data")) {
    // Telnyx's call.initiated webhook: {"data": {"event_type", "occurred_at", "payload": {...}}}
    if (auto bad = CheckKeys(b, "", {"data", "meta"})) return *bad;
    const json& data = b["data"];
    if (!data.is_object()) return BadRequest("'data' must be an object", "/data");
    auto type = OptString(data, "event_type", "/data");
    if (!type.ok()) return *type.error;
    if (*type.value != std::optional<std::string>("call.initiated")) {
      return BadRequest("only call.initiated events are matched", "/data/event_type");
    }
    auto payload = data.find("payload");
    if (payload == data.end() || !payload->is_object()) {
      return BadRequest("missing object 'payload'", "/data/payload");
    }
    auto from = OptString(*payload, "from", "/data/payload");
    auto to = OptString(*payload, "to", "/data/payload");
    auto id = OptString(*payload, "call_control_id", "/data/payload");
    auto when = OptString(data, "occurred_at", "/data");
    for (auto* v : {&from, &to, &id, &when}) {
      if (!v->ok()) return *v->error;
    }
    if (!*from.value) return BadRequest("missing field 'from'", "/data/payload/from");
    call.caller = **from.value;
    call.callee = to.value->value_or("");
    call.call_id = id.value->value_or("");
    if (*when.value) {
      auto t = ParseTime(**when.value);
      if (!t.ok()) return BadRequest("'occurred_at': " + t.status().message(), "/data/occurred_at");
      call.at_ms = *t;
    }
  } else {
    if (auto bad = CheckKeys(b, "", {"caller", "callee", "call_id", "at"}, {"caller"})) {
      return *bad;
    }
    auto caller = OptString(b, "caller");
    auto callee = OptString(b, "callee");
    auto id = OptString(b, "call_id");
    for (auto* v : {&caller, &callee, &id}) {
      if (!v->ok()) return *v->error;
    }
    auto at = OptTime(b, "at");
    if (!at.ok()) return *at.error;
    call.caller = **caller.value;
    call.callee = callee.value->value_or("");
    call.call_id = id.value->value_or("");
    call.at_ms = at.value->value_or(0);
  }
  Audited(req);
  // As SubjectLookup: answered from the commit's callback.
  return Later<service::CallMatch>(
      [&](auto done) {
        vault_.MatchCallThen(c.actor, c.tenant, call, *purpose.value, std::move(done));
      },
      &Api::CallAnswer);
}

Response Api::CallAnswer(const Result<service::CallMatch>& m) {
  if (!m.ok()) return Fail(m.status());
  if (lookups_ != nullptr) lookups_->WithLabels({m->subjects.empty() ? "miss" : "hit"}).Inc();
  JsonText j;
  j.BeginObject().Key("match").Bool(!m->subjects.empty()).Key("subjects").BeginArray();
  for (const auto& v : m->subjects) SubjectJson(j, v);
  j.EndArray().Key("flags").BeginObject().Key("account_closed").Bool(m->account_closed);
  j.Key("consents").BeginObject();
  for (const auto& [p, granted] : m->consents) j.Key(p).Bool(granted);
  j.EndObject().Key("open_requests").Int(m->open_requests).EndObject().Key("call_record");
  if (m->call_record) {
    j.String(*m->call_record);
  } else {
    j.Null();
  }
  j.EndObject();
  return Response::Json(200, std::move(j).Take());
}

}  // namespace custodian::http
