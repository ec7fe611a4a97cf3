// The data-subject rights routes of the /v1 API: consents, requests and
// their verification, messages, cookie choices (api_internal.h).
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/time.h"
#include "http/api_internal.h"
#include "http/json_body.h"
#include "http/problem.h"
#include "http/url.h"
#include "service/authorize.h"
#include "service/consent_json.h"
#include "service/request_json.h"

namespace custodian::http {

using api_internal::FaultPointer;
using api_internal::Fields;
using api_internal::RequestBody;
using api_internal::json;
using api_internal::ordered_json;

namespace {

ordered_json MessageJson(const service::MessageStatus& m) {
  auto time = [](const std::optional<int64_t>& ms) {
    return ms ? ordered_json(FormatTime(*ms)) : ordered_json();
  };
  return {{"id", m.id},
          {"channel", m.channel},
          {"subject", m.subject.empty() ? ordered_json() : ordered_json(m.subject)},
          {"purpose", m.purpose},
          {"state", m.state},
          {"attempts", m.attempts},
          {"next_attempt_at", time(m.next_attempt_ms)},
          {"last_error", m.last_error.empty() ? ordered_json() : ordered_json(m.last_error)},
          {"provider_id", m.provider_id.empty() ? ordered_json() : ordered_json(m.provider_id)},
          {"created_at", FormatTime(m.created_ms)},
          {"sent_at", time(m.sent_ms)}};
}

}  // namespace

std::optional<std::string> Api::RequestPointer(std::string_view tenant,
                                               const service::RequestInput& in, const Status& s) {
  if (s.code() != StatusCode::kInvalidArgument) return std::nullopt;
  auto policy = vault_.TenantPolicy(tenant);
  if (!policy.ok()) return std::nullopt;
  service::InputFault fault;
  if (service::CheckRequestInput(**policy, in, &fault).ok()) return std::nullopt;
  return FaultPointer(fault, fault.member == "corrections" ? &in.corrections : nullptr);
}

std::optional<std::string> Api::ConsentPointer(const Caller& c,
                                               const service::ConsentChange& change,
                                               const Status& s) {
  if (s.code() != StatusCode::kInvalidArgument) return std::nullopt;
  auto policy = vault_.TenantPolicy(c.tenant);
  if (!policy.ok()) return std::nullopt;
  int field = -1;
  if (service::CheckConsentChange(**policy, change, &field).ok()) return std::nullopt;
  static const char* const kPointers[] = {"", "", "/state", "/source", "/message_id",
                                          "/request_id"};
  // The purpose is in the path, not the body: no pointer.
  if (field < service::kConsentState || field > service::kConsentRequestId) return std::nullopt;
  return std::string(kPointers[field]);
}

Response Api::ConsentList(Request& req, const Caller& c) {
  Audited(req);
  auto v = vault_.GetConsents(c.actor, c.tenant, *req.PathParam("id"));
  if (!v.ok()) return Fail(v.status());
  return ShapeJson(200, service::ConsentViewJson(*v));
}

Response Api::ConsentGet(Request& req, const Caller& c) {
  std::string purpose(*req.PathParam("purpose"));
  Audited(req);
  auto v = vault_.GetConsents(c.actor, c.tenant, *req.PathParam("id"));
  if (!v.ok()) return Fail(v.status());
  auto it = std::find_if(v->purposes.begin(), v->purposes.end(),
                         [&](const service::ConsentStatus& s) { return s.purpose == purpose; });
  if (it == v->purposes.end()) {
    return Problem(404, "not-found", "Not Found",
                   "purpose " + Quote(purpose) +
                       " is not a consent or legitimate-interest purpose of the policy, so it "
                       "has no choice to show");
  }
  ordered_json j = service::ConsentStatusJson(*it);
  ordered_json history = ordered_json::array();
  for (const service::ConsentEvent& e : v->history) {
    if (e.purpose == purpose) history.push_back(service::ConsentEventJson(e));
  }
  j["history"] = history;
  return ShapeJson(200, j);
}

Response Api::ConsentPut(Request& req, const Caller& c) {
  auto body = JsonBody(req);
  if (!body.ok()) return *body.error;
  const json& b = *body.value;
  if (auto bad =
          CheckKeys(b, "", {"state", "source", "at", "message_id", "request_id"}, {"state"})) {
    return *bad;
  }
  service::ConsentChange change;
  change.purpose = std::string(*req.PathParam("purpose"));
  if (auto bad = ReadStrings(b, {{"state", &change.state},
                                 {"source", &change.source},
                                 {"message_id", &change.message_id},
                                 {"request_id", &change.request_id}})) {
    return *bad;
  }
  auto at = OptTime(b, "at");
  if (!at.ok()) return *at.error;
  change.at_ms = *at.value;
  // The vault checks the role (a refusal is audited) before the change's
  // values; where in the body a refused value is comes after, from its check.
  Audited(req);
  auto r = vault_.SetConsents(c.actor, c.tenant, *req.PathParam("id"), {change});
  if (!r.ok()) return Fail(r.status(), ConsentPointer(c, change, r.status()));
  return ShapeJson(200, service::ConsentStatusJson(r->front()));
}

Response Api::MessageCreate(Request& req, const Caller& c) {
  auto body = JsonBody(req);
  if (!body.ok()) return *body.error;
  const json& b = *body.value;
  if (auto bad = CheckKeys(b, "", {"channel", "subject", "purpose", "email_subject", "text"},
                           {"channel", "subject", "purpose", "text"})) {
    return *bad;
  }
  service::MessageRequest m;
  if (auto bad = ReadStrings(b, {{"channel", &m.channel},
                                 {"subject", &m.subject},
                                 {"purpose", &m.purpose},
                                 {"email_subject", &m.email_subject},
                                 {"text", &m.text}})) {
    return *bad;
  }
  if (auto key = req.Header("Idempotency-Key")) m.idempotency_key = std::string(*key);
  std::string field;
  if (Status s = service::CheckMessageRequest(m, &field); !s.ok()) {
    return field.empty() ? Fail(s) : Fail(s, Pointer("", field));
  }
  Audited(req);
  auto r = vault_.EnqueueMessage(c.actor, c.tenant, m);
  if (!r.ok()) return Fail(r.status());
  return ShapeJson(r->duplicate ? 200 : 202, MessageJson(*r));
}

Response Api::CookieChoicesGet(Request& req, const Caller& c) {
  Audited(req);
  auto list = vault_.CookieChoices(c.actor, c.tenant, *req.PathParam("visitor"));
  if (!list.ok()) return Fail(list.status());
  ordered_json items = ordered_json::array();
  for (const service::CookieChoiceRecord& r : *list) {
    ordered_json choices = ordered_json::object();
    for (const auto& [id, on] : r.choices) choices[id] = on;
    items.push_back({{"policy_version", r.policy_version},
                     {"choices", choices},
                     {"recorded_at", FormatTime(r.at_ms)}});
  }
  return ShapeJson(200, {{"visitor", std::string(*req.PathParam("visitor"))}, {"choices", items}});
}

namespace api_internal {

Or<service::RequestInput> RequestBody(const Request& req, bool subject_allowed) {
  auto body = JsonBody(req);
  if (!body.ok()) return *body.error;
  const json& b = *body.value;
  auto bad = subject_allowed
                 ? CheckKeys(b, "", {"type", "subject", "details", "purpose", "corrections"},
                             {"type"})
                 : CheckKeys(b, "", {"type", "details", "purpose", "corrections"}, {"type"});
  if (bad) return *bad;
  service::RequestInput in;
  if (auto wrong = ReadStrings(b, {{"type", &in.type},
                                   {"subject", &in.subject},
                                   {"details", &in.details},
                                   {"purpose", &in.purpose}})) {
    return *wrong;
  }
  if (b.contains("corrections")) {
    auto corrections = Fields(b, "corrections");
    if (!corrections.ok()) return *corrections.error;
    in.corrections = std::move(*corrections.value);
  }
  return in;
}

}  // namespace api_internal

Response Api::RequestCreate(Request& req, const Caller& c) {
  auto in = RequestBody(req, /*subject_allowed=*/true);
  if (!in.ok()) return *in.error;
  // The vault checks the role (a refusal is audited) before the input.
  Audited(req);
  auto r = vault_.SubmitRequest(c.actor, c.tenant, *in.value);
  if (!r.ok()) return Fail(r.status(), RequestPointer(c.tenant, *in.value, r.status()));
  return ShapeJson(201, service::RequestJson(*r));
}

Response Api::RequestList(Request& req, const Caller& c) {
  bool open = false, overdue = false;
  for (auto [name, out] : {std::pair<const char*, bool*>{"open", &open}, {"overdue", &overdue}}) {
    if (auto v = req.QueryParam(name)) {
      if (*v != "true" && *v != "false") return BadRequest(Quote(name) + " must be true or false");
      *out = *v == "true";
    }
  }
  Audited(req);
  auto list = vault_.ListRequests(c.actor, c.tenant, open, overdue);
  if (!list.ok()) return Fail(list.status());
  ordered_json items = ordered_json::array();
  for (const auto& r : *list) items.push_back(service::RequestJson(r));
  return ShapeJson(200, {{"requests", items}});
}

Response Api::RequestGet(Request& req, const Caller& c) {
  Audited(req);
  auto r = vault_.GetRequest(c.actor, c.tenant, *req.PathParam("id"));
  if (!r.ok()) return Fail(r.status());
  return ShapeJson(200, service::RequestJson(*r));
}

Response Api::RequestTransition(Request& req, const Caller& c) {
  auto body = JsonBody(req);
  if (!body.ok()) return *body.error;
  const json& b = *body.value;
  if (auto bad = CheckKeys(b, "", {"action", "reason"}, {"action"})) return *bad;
  auto action = OptString(b, "action");
  if (!action.ok()) return *action.error;
  auto reason = OptString(b, "reason");
  if (!reason.ok()) return *reason.error;
  static const std::pair<const char*, service::RequestAction> kActions[] = {
      {"verify", service::RequestAction::kVerify},
      {"start", service::RequestAction::kStart},
      {"complete", service::RequestAction::kComplete},
      {"reject", service::RequestAction::kReject},
      {"extend", service::RequestAction::kExtend}};
  const auto* found = std::find_if(std::begin(kActions), std::end(kActions),
                                   [&](const auto& a) { return **action.value == a.first; });
  if (found == std::end(kActions)) {
    return BadRequest("'action' must be verify, start, complete, reject or extend", "/action");
  }
  Audited(req);
  auto r = vault_.AdvanceRequest(c.actor, c.tenant, *req.PathParam("id"), found->second,
                                 reason.value->value_or(""));
  if (!r.ok()) {
    bool about_reason = r.status().code() == StatusCode::kInvalidArgument;
    return about_reason ? Fail(r.status(), "/reason") : Fail(r.status());
  }
  return ShapeJson(200, service::RequestJson(*r));
}

Response Api::RequestCodeSend(Request& req, const Caller& c) {
  auto body = JsonBody(req);
  if (!body.ok()) return *body.error;
  if (auto bad = CheckKeys(*body.value, "", {"channel"}, {"channel"})) return *bad;
  auto channel = OptString(*body.value, "channel");
  if (!channel.ok()) return *channel.error;
  Audited(req);
  auto r = vault_.SendVerificationCode(c.actor, c.tenant, *req.PathParam("id"), **channel.value);
  if (!r.ok()) {
    return r.status().code() == StatusCode::kInvalidArgument ? Fail(r.status(), "/channel")
                                                             : Fail(r.status());
  }
  return ShapeJson(202, service::RequestJson(*r));
}

Response Api::RequestCodeCheck(Request& req, const Caller& c) {
  auto body = JsonBody(req);
  if (!body.ok()) return *body.error;
  if (auto bad = CheckKeys(*body.value, "", {"code"}, {"code"})) return *bad;
  auto code = OptString(*body.value, "code");
  if (!code.ok()) return *code.error;
  Audited(req);
  auto r = vault_.CheckVerificationCode(c.actor, c.tenant, *req.PathParam("id"), **code.value);
  if (!r.ok()) {
    // A wrong code is the person's mistake, not the caller's credentials: 422.
    if (r.status().code() == StatusCode::kUnauthenticated) {
      return Problem(422, "wrong-code", "Unprocessable Content", r.status().message(), "/code");
    }
    return Fail(r.status());
  }
  return ShapeJson(200, service::RequestJson(*r));
}

Response Api::MessageGet(Request& req, const Caller& c) {
  Audited(req);
  auto m = vault_.GetMessage(c.actor, c.tenant, *req.PathParam("id"));
  if (!m.ok()) return Fail(m.status());
  return ShapeJson(200, MessageJson(*m));
}

Response Api::MessageList(Request& req, const Caller& c) {
  int limit = 100;
  if (auto l = req.QueryParam("limit")) {
    limit = std::atoi(std::string(*l).c_str());
    if (limit < 1 || limit > 1000) return BadRequest("limit must be 1 to 1000");
  }
  Audited(req);
  auto list = vault_.ListMessages(c.actor, c.tenant, limit);
  if (!list.ok()) return Fail(list.status());
  ordered_json items = ordered_json::array();
  for (const auto& m : *list) items.push_back(MessageJson(m));
  return ShapeJson(200, {{"messages", items}});
}

}  // namespace custodian::http
