// The /v1 routes: parse and check the request, authenticate, make one Vault
// call, shape the JSON. No rule about personal data lives here; the service
// decides (api.h).
#include "http/api.h"

#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/time.h"
#include "http/audit_api.h"
#include "http/channels_api.h"
#include "http/disclosures_api.h"
#include "http/imports_api.h"
#include "http/json_body.h"
#include "http/problem.h"
#include "http/url.h"
#include "policy/render.h"
#include "service/authorize.h"
#include "service/consent_json.h"
#include "service/request_json.h"

namespace custodian::http {

extern const char kOpenApiYaml[];  // generated from api/openapi.yaml (cmake/EmbedFile.cmake)
std::string_view EmbeddedOpenApi() { return kOpenApiYaml; }

namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr char kSessionCookie[] = "custodian_session";

// The caller, from the credential.
struct Caller {
  std::string tenant;
  service::Actor actor;
};

bool UnsafeMethod(std::string_view m) { return m != "GET" && m != "HEAD" && m != "OPTIONS"; }

// The value of cookie `name` in a Cookie header.
std::optional<std::string_view> CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    std::size_t semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    std::size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
  return std::nullopt;
}

// {"category": "value", ...} in body[member] -> FieldInputs.
Or<std::vector<service::FieldInput>> Fields(const json& body, const std::string& member = "fields") {
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

ordered_json SubjectJson(const service::SubjectView& v) {
  ordered_json fields = ordered_json::array();
  for (const auto& f : v.fields) {
    fields.push_back({{"category", f.category}, {"label", f.label}, {"value", f.value}});
  }
  return {{"id", v.id},
          {"state", v.state},
          {"created_at", FormatTime(v.created_ms)},
          {"closed_at", v.closed_ms ? ordered_json(FormatTime(*v.closed_ms)) : ordered_json()},
          {"fields", fields},
          {"withheld", v.withheld}};
}

ordered_json WriteJson(const service::AddSubjectResult& r) {
  return {{"id", r.subject_id},
          {"created", r.created},
          {"fields_changed", r.fields_changed},
          {"fields_unchanged", r.fields_unchanged}};
}

// The JSON pointer to the part of the body a service check refused: the
// member, then its element: by category key in an object of fields (`fields`,
// `corrections`: give them), else by position in an array.
std::optional<std::string> FaultPointer(const service::InputFault& fault,
                                        const std::vector<service::FieldInput>* fields = nullptr) {
  if (fault.member.empty()) return std::nullopt;
  const std::string at = "/" + fault.member;
  if (fault.index < 0) return at;
  if (fields == nullptr) return at + "/" + std::to_string(fault.index);
  if (static_cast<std::size_t>(fault.index) >= fields->size()) return at;
  return Pointer(at, (*fields)[static_cast<std::size_t>(fault.index)].category);
}

}  // namespace

class Api {
 public:
  Api(service::Vault& vault, ApiOptions options)
      : vault_(vault),
        options_(std::move(options)),
        imports_(std::make_unique<ImportJobs>(vault, options_.import_dir)) {
    if (options_.metrics != nullptr) {
      auto lookups = options_.metrics->AddCounter(
          "custodian_lookups_total", "Subject lookups over HTTP by outcome", {"outcome"});
      auto refusals = options_.metrics->AddCounter(
          "custodian_refusals_total", "Requests refused by the policy or authentication",
          {"reason"});
      auto audited = options_.metrics->AddCounter(
          "custodian_audited_calls_total",
          "Requests that reached the service, each leaving at least one audit event", {"route"});
      auto appends = options_.metrics->AddCounter(
          "custodian_audit_appends_total",
          "Audit events this server committed (updated after every request)", {});
      if (appends.ok()) audit_appends_ = &(*appends)->WithLabels({});
      if (lookups.ok()) lookups_ = *lookups;
      if (refusals.ok()) refusals_ = *refusals;
      if (audited.ok()) audited_ = *audited;
    }
  }

  Status Register(Router& r);

 private:
  // Wraps an authenticated handler: credentials first, then the handler.
  Handler Authed(std::function<Response(Request&, const Caller&)> fn);
  Or<Caller> Authenticate(Request& req);
  Or<std::string> Purpose(const Request& req, std::string_view fallback = {});
  // A service error as a problem, counting refusals.
  Response Fail(const Status& s, std::optional<std::string_view> pointer = std::nullopt);
  // Fail() for a missing or bad bearer credential, with `WWW-Authenticate: Bearer`.
  Response Unauthorized(const Status& s);
  // Where in the body the subject input the vault refused with `s` is at
  // fault, from the service's own check of it (nullopt: nowhere in particular).
  std::optional<std::string> SubjectPointer(const Caller& c, const service::SubjectInput& in,
                                            const Status& s);
  // The same for a data-subject request's input and a consent change.
  std::optional<std::string> RequestPointer(const Caller& c, const service::RequestInput& in,
                                            const Status& s);
  std::optional<std::string> ConsentPointer(const Caller& c, const service::ConsentChange& change,
                                            const Status& s);
  void Audited(const Request& req) {
    if (audited_) audited_->WithLabels({req.route_name}).Inc();
  }
  // Brings custodian_audit_appends_total up to the store's count (monotonic
  // even when requests finish out of order).
  void SyncAuditAppends() {
    if (audit_appends_ == nullptr) return;
    int64_t now = vault_.store().AuditEventsCommitted();
    int64_t seen = audit_seen_.load();
    while (now > seen && !audit_seen_.compare_exchange_weak(seen, now)) {
    }
    if (now > seen) audit_appends_->Inc(static_cast<uint64_t>(now - seen));
  }

  Response SessionCreate(Request& req);
  Response SessionDelete(Request& req, const Caller& c);
  Response PolicyGet(Request& req, const Caller& c);
  Response PrivacyNotice(Request& req);
  Response ExportDownload(Request& req);
  Response SubjectCreate(Request& req, const Caller& c);
  Response SubjectLookup(Request& req, const Caller& c);
  Response SubjectGet(Request& req, const Caller& c);
  Response SubjectUpdate(Request& req, const Caller& c);
  Response SubjectErase(Request& req, const Caller& c);
  Response SubjectClose(Request& req, const Caller& c);
  Response RecordList(Request& req, const Caller& c);
  Response RecordCreate(Request& req, const Caller& c);
  Response RecordEvent(Request& req, const Caller& c);
  Response CallMatch(Request& req, const Caller& c);
  Response ConsentList(Request& req, const Caller& c);
  Response ConsentGet(Request& req, const Caller& c);
  Response ConsentPut(Request& req, const Caller& c);
  Response CookieChoicesGet(Request& req, const Caller& c);
  Response RequestCreate(Request& req, const Caller& c);
  Response RequestList(Request& req, const Caller& c);
  Response RequestGet(Request& req, const Caller& c);
  Response RequestTransition(Request& req, const Caller& c);
  Response RequestCodeSend(Request& req, const Caller& c);
  Response RequestCodeCheck(Request& req, const Caller& c);
  Response MessageCreate(Request& req, const Caller& c);
  Response MessageGet(Request& req, const Caller& c);
  Response MessageList(Request& req, const Caller& c);
  Response ImportCreate(Request& req, const Caller& c);
  Response ImportGet(Request& req, const Caller& c);
  Response ImportRejects(Request& req, const Caller& c);
  Response AuditList(Request& req, const Caller& c);
  Response DisclosureCreate(Request& req, const Caller& c);
  Response DisclosureList(Request& req, const Caller& c);
  // Whether `c` may import here: a refusal (audited), else nullopt.
  std::optional<Response> ImportRefused(const Caller& c);

  service::Vault& vault_;
  ApiOptions options_;
  CounterFamily* lookups_ = nullptr;
  CounterFamily* refusals_ = nullptr;
  CounterFamily* audited_ = nullptr;
  Counter* audit_appends_ = nullptr;
  std::atomic<int64_t> audit_seen_{0};
  std::unique_ptr<ImportJobs> imports_;  // joined before the vault goes
  std::shared_ptr<void> channels_;  // the channel routes' state (channels_api.h)
};

Response Api::Fail(const Status& s, std::optional<std::string_view> pointer) {
  if (refusals_ != nullptr) {
    if (s.code() == StatusCode::kPermissionDenied) refusals_->WithLabels({"policy"}).Inc();
    if (s.code() == StatusCode::kUnauthenticated) refusals_->WithLabels({"credentials"}).Inc();
  }
  return ProblemFromStatus(s, pointer);
}

Response Api::Unauthorized(const Status& s) {
  Response r = Fail(s);
  r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

std::optional<std::string> Api::RequestPointer(const Caller& c, const service::RequestInput& in,
                                               const Status& s) {
  if (s.code() != StatusCode::kInvalidArgument) return std::nullopt;
  auto policy = vault_.TenantPolicy(c.tenant);
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

std::optional<std::string> Api::SubjectPointer(const Caller& c, const service::SubjectInput& in,
                                               const Status& s) {
  if (s.code() != StatusCode::kInvalidArgument) return std::nullopt;
  auto policy = vault_.TenantPolicy(c.tenant);
  if (!policy.ok()) return std::nullopt;
  service::InputFault fault;
  if (service::CheckSubjectInput(**policy, in, &fault).ok()) return std::nullopt;
  return FaultPointer(fault, fault.member == "fields" ? &in.fields : nullptr);
}

Or<Caller> Api::Authenticate(Request& req) {
  if (auto auth = req.Header("Authorization")) {
    std::string_view v = *auth;
    constexpr std::string_view kBearer = "Bearer ";
    if (v.size() <= kBearer.size() || !EqualsIgnoreCase(v.substr(0, kBearer.size()), kBearer)) {
      return Unauthorized(Status::Unauthenticated("use `Authorization: Bearer <API key>`"));
    }
    auto id = vault_.AuthenticateApiKey(v.substr(kBearer.size()));
    if (!id.ok()) return Unauthorized(id.status());
    req.principal = id->actor.id;
    return Caller{id->tenant, id->actor};
  }
  if (auto cookie = req.Header("Cookie")) {
    if (auto token = CookieValue(*cookie, kSessionCookie)) {
      auto session = vault_.AuthenticateSession(*token);
      if (!session.ok()) return Fail(session.status());
      if (UnsafeMethod(req.method)) {
        auto csrf = req.Header("X-CSRF-Token");
        Status ok = vault_.CheckCsrf(*session, csrf ? *csrf : std::string_view());
        if (!ok.ok()) return Fail(ok);
      }
      req.principal = session->actor.id;
      return Caller{session->tenant, session->actor};
    }
  }
  return Unauthorized(Status::Unauthenticated(
      "no credentials: send `Authorization: Bearer <API key>` or sign in at POST /v1/session"));
}

Handler Api::Authed(std::function<Response(Request&, const Caller&)> fn) {
  return [this, fn = std::move(fn)](Request& req) -> Response {
    auto caller = Authenticate(req);
    if (!caller.ok()) return *caller.error;
    Response r = fn(req, *caller.value);
    SyncAuditAppends();
    return r;
  };
}

Or<std::string> Api::Purpose(const Request& req, std::string_view fallback) {
  auto q = req.QueryParam("purpose");
  auto h = req.Header("X-Purpose");
  if (q && h && *q != *h) {
    return BadRequest("the purpose query parameter and the X-Purpose header disagree");
  }
  if (q && !q->empty()) return std::string(*q);
  if (h && !h->empty()) return std::string(*h);
  if (!fallback.empty()) return std::string(fallback);
  return BadRequest(
      "name the purpose of this read: ?purpose=<purpose> or an X-Purpose header, one of the "
      "purposes declared in the policy (GET /v1/policy)");
}

Response Api::SessionCreate(Request& req) {
  auto body = JsonBody(req);
  if (!body.ok()) return *body.error;
  const json& b = *body.value;
  if (auto bad = CheckKeys(b, "", {"tenant", "email", "password", "totp"},
                           {"tenant", "email", "password", "totp"})) {
    return *bad;
  }
  std::string v[4];
  const char* keys[4] = {"tenant", "email", "password", "totp"};
  for (int i = 0; i < 4; ++i) {
    auto s = OptString(b, keys[i]);
    if (!s.ok()) return *s.error;
    v[i] = **s.value;
  }
  int64_t locked_ms = 0;
  auto login = vault_.Login(v[0], v[1], v[2], v[3], req.remote_address, &locked_ms);
  if (!login.ok() && locked_ms > 0) {
    // Locked out (accounts that do not exist lock alike): say when to retry.
    if (refusals_ != nullptr) refusals_->WithLabels({"credentials"}).Inc();
    return RetryAfter(
        Problem(429, "too-many-requests", "Too Many Requests", login.status().message()),
        std::chrono::milliseconds(locked_ms));
  }
  if (!login.ok()) return Fail(login.status());
  req.principal = login->actor.id;
  std::string cookie =
      std::string(kSessionCookie) + "=" + login->session_token +
      "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
      std::to_string(std::max<int64_t>(0, (login->expires_ms - service::SystemClockMs()) / 1000));
  if (options_.secure_cookies || req.tls) cookie += "; Secure";
  Response r = ShapeJson(201, {{"tenant", login->tenant},
                               {"operator", login->actor.id},
                               {"role", login->actor.role},
                               {"csrf_token", login->csrf_token},
                               {"expires_at", FormatTime(login->expires_ms)}});
  r.headers.emplace_back("Set-Cookie", cookie);
  return r;
}

Response Api::SessionDelete(Request& req, const Caller&) {
  auto cookie = req.Header("Cookie");
  auto token = cookie ? CookieValue(*cookie, kSessionCookie) : std::nullopt;
  if (!token) {
    return Fail(Status::FailedPrecondition("this request is not signed in with a session cookie"));
  }
  Status s = vault_.Logout(*token);
  if (!s.ok()) return Fail(s);
  Response r = NoContent();
  r.headers.emplace_back("Set-Cookie", std::string(kSessionCookie) +
                                           "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
  return r;
}

Response Api::PolicyGet(Request&, const Caller& c) {
  auto policy = vault_.TenantPolicy(c.tenant);
  if (!policy.ok()) return Fail(policy.status());
  return Response::Json(200, policy::PolicyToJson(**policy).dump());
}

Response Api::PrivacyNotice(Request& req) {
  std::string tenant(*req.PathParam("tenant"));
  auto policy = vault_.TenantPolicy(tenant);
  if (!policy.ok()) {
    return Problem(404, "not-found", "Not Found", "no privacy notice is published here");
  }
  Response r;
  r.content_type = "text/html; charset=utf-8";
  r.body = policy::RenderNotice(**policy, policy::NoticeFormat::kHtml);
  r.headers.emplace_back("Cache-Control", "public, max-age=300");
  return r;
}

// GET /v1/exports/{token}: the access bundle, once. Public: the link's token
// is the credential (it went to the person through the outbox).
Response Api::ExportDownload(Request& req) {
  auto bundle = vault_.DownloadExport(*req.PathParam("token"));
  if (!bundle.ok()) {
    const Status& s = bundle.status();
    if (s.code() == StatusCode::kFailedPrecondition) {
      return Problem(410, "gone", "Gone", s.message());
    }
    return Fail(s);
  }
  Response r;
  r.content_type = "application/zip";
  r.body = std::move(bundle->zip);
  r.headers.emplace_back("Content-Disposition",
                         "attachment; filename=\"" + bundle->filename + "\"");
  r.headers.emplace_back("X-Content-SHA256", bundle->sha256);
  return r;
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
  auto views = vault_.Lookup(c.actor, c.tenant, q, *purpose.value);
  if (!views.ok()) return Fail(views.status());
  if (lookups_ != nullptr) lookups_->WithLabels({views->empty() ? "miss" : "hit"}).Inc();
  ordered_json matches = ordered_json::array();
  for (const auto& v : *views) matches.push_back(SubjectJson(v));
  return ShapeJson(200, {{"matches", matches}});
}

Response Api::SubjectGet(Request& req, const Caller& c) {
  auto purpose = Purpose(req);
  if (!purpose.ok()) return *purpose.error;
  Audited(req);
  auto v = vault_.ShowSubject(c.actor, c.tenant, *req.PathParam("id"), *purpose.value);
  if (!v.ok()) return Fail(v.status());
  return ShapeJson(200, SubjectJson(*v));
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
  auto m = vault_.MatchCall(c.actor, c.tenant, call, *purpose.value);
  if (!m.ok()) return Fail(m.status());
  if (lookups_ != nullptr) lookups_->WithLabels({m->subjects.empty() ? "miss" : "hit"}).Inc();
  ordered_json subjects = ordered_json::array();
  for (const auto& v : m->subjects) subjects.push_back(SubjectJson(v));
  ordered_json consents = ordered_json::object();
  for (const auto& [p, granted] : m->consents) consents[p] = granted;
  return ShapeJson(
      200, {{"match", !m->subjects.empty()},
            {"subjects", subjects},
            {"flags",
             {{"account_closed", m->account_closed},
              {"consents", consents},
              {"open_requests", m->open_requests}}},
            {"call_record", m->call_record ? ordered_json(*m->call_record) : ordered_json()}});
}

std::optional<Response> Api::ImportRefused(const Caller& c) {
  if (Status s = vault_.AuthorizeImport(c.actor, c.tenant, "import.start"); !s.ok()) {
    return Fail(s);
  }
  if (!imports_->enabled()) {
    return Fail(Status::FailedPrecondition("this server takes no imports over HTTP"));
  }
  return std::nullopt;
}

// The body is the CSV itself (text/csv, with the settings in the query; an
// upload the server streamed to a file), or a JSON object holding both.
Response Api::ImportCreate(Request& req, const Caller& c) {
  if (auto refused = ImportRefused(c)) return *refused;
  const std::string type = MediaType(req);
  const bool csv_body = !req.body_file.empty() || type == "text/csv";
  if (!csv_body && type != "application/json") {
    return Problem(415, "unsupported-media-type", "Unsupported Media Type",
                   "send the CSV as text/csv (settings in the query), or a JSON object with "
                   "the CSV and settings as application/json");
  }
  std::string csv;
  Or<ImportSettings> settings = [&]() -> Or<ImportSettings> {
    if (csv_body) return ImportSettingsFromQuery(req);
    auto body = JsonBody(req);
    if (!body.ok()) return *body.error;
    return ImportSettingsFromJson(*body.value, &csv);
  }();
  if (!settings.ok()) return *settings.error;
  Audited(req);
  return imports_->Start(c.actor, c.tenant, req.request_id, *settings.value, req.body_file,
                         csv_body ? std::string_view(req.body) : std::string_view(csv));
}

Response Api::ImportGet(Request& req, const Caller& c) {
  if (Status s = vault_.AuthorizeImport(c.actor, c.tenant, "import.read"); !s.ok()) {
    return Fail(s);
  }
  return imports_->Get(c.tenant, *req.PathParam("id"));
}

Response Api::ImportRejects(Request& req, const Caller& c) {
  if (Status s = vault_.AuthorizeImport(c.actor, c.tenant, "import.read"); !s.ok()) {
    return Fail(s);
  }
  return imports_->Rejects(c.tenant, *req.PathParam("id"));
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

Response Api::RequestCreate(Request& req, const Caller& c) {
  auto body = JsonBody(req);
  if (!body.ok()) return *body.error;
  const json& b = *body.value;
  if (auto bad = CheckKeys(b, "", {"type", "subject", "details", "purpose", "corrections"},
                          {"type"})) {
    return *bad;
  }
  service::RequestInput in;
  if (auto bad = ReadStrings(b, {{"type", &in.type},
                                 {"subject", &in.subject},
                                 {"details", &in.details},
                                 {"purpose", &in.purpose}})) {
    return *bad;
  }
  if (b.contains("corrections")) {
    auto corrections = Fields(b, "corrections");
    if (!corrections.ok()) return *corrections.error;
    in.corrections = std::move(*corrections.value);
  }
  // The vault checks the role (a refusal is audited) before the input.
  Audited(req);
  auto r = vault_.SubmitRequest(c.actor, c.tenant, in);
  if (!r.ok()) return Fail(r.status(), RequestPointer(c, in, r.status()));
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

Response Api::AuditList(Request& req, const Caller& c) {
  service::AuditQuery q;
  if (auto bad = ParseAuditQuery(req, q)) return *bad;
  Audited(req);
  auto page = vault_.ListAudit(c.actor, c.tenant, q);
  if (!page.ok()) return Fail(page.status());
  return AuditPageResponse(*page);
}

Response Api::DisclosureCreate(Request& req, const Caller& c) {
  auto body = JsonBody(req);
  if (!body.ok()) return *body.error;
  service::DisclosureInput in;
  if (auto bad = ParseDisclosureBody(*body.value, in)) return *bad;
  Audited(req);
  auto r = vault_.Disclose(c.actor, c.tenant, in);
  if (!r.ok()) {
    std::optional<std::string> at;
    if (auto policy = vault_.TenantPolicy(c.tenant); policy.ok()) {
      at = DisclosurePointer(**policy, in, service::SystemClockMs());
    }
    return Fail(r.status(), at);
  }
  return DisclosureCreatedResponse(*r);
}

Response Api::DisclosureList(Request& req, const Caller& c) {
  Audited(req);
  auto list = vault_.ListDisclosures(c.actor, c.tenant, *req.PathParam("id"));
  if (!list.ok()) return Fail(list.status());
  return DisclosureListResponse(*list);
}

Status Api::Register(Router& r) {
  auto authed = [this](auto method) {
    return Authed(
        [this, method](Request& req, const Caller& c) { return (this->*method)(req, c); });
  };
  RETURN_IF_ERROR(r.Add("GET", "/v1/openapi.yaml", "openapi", [](Request&) {
    Response resp;
    resp.content_type = "application/yaml";
    resp.body = std::string(EmbeddedOpenApi());
    return resp;
  }));
  RETURN_IF_ERROR(r.Add("GET", "/privacy/{tenant}", "privacy_notice",
                        [this](Request& req) { return PrivacyNotice(req); }));
  RETURN_IF_ERROR(r.Add("GET", "/v1/exports/{token}", "export_download", [this](Request& req) {
    Response resp = ExportDownload(req);
    SyncAuditAppends();
    return resp;
  }));
  RETURN_IF_ERROR(r.Add("POST", "/v1/session", "session_create", [this](Request& req) {
    Response resp = SessionCreate(req);
    SyncAuditAppends();
    return resp;
  }));
  RETURN_IF_ERROR(r.Add("DELETE", "/v1/session", "session_delete", authed(&Api::SessionDelete)));
  RETURN_IF_ERROR(r.Add("GET", "/v1/policy", "policy_get", authed(&Api::PolicyGet)));
  RETURN_IF_ERROR(r.Add("POST", "/v1/subjects", "subject_create", authed(&Api::SubjectCreate)));
  RETURN_IF_ERROR(
      r.Add("POST", "/v1/subjects/lookup", "subject_lookup", authed(&Api::SubjectLookup)));
  RETURN_IF_ERROR(r.Add("GET", "/v1/subjects/{id}", "subject_get", authed(&Api::SubjectGet)));
  RETURN_IF_ERROR(
      r.Add("PATCH", "/v1/subjects/{id}", "subject_update", authed(&Api::SubjectUpdate)));
  RETURN_IF_ERROR(
      r.Add("DELETE", "/v1/subjects/{id}", "subject_erase", authed(&Api::SubjectErase)));
  RETURN_IF_ERROR(
      r.Add("POST", "/v1/subjects/{id}/close", "subject_close", authed(&Api::SubjectClose)));
  RETURN_IF_ERROR(
      r.Add("GET", "/v1/subjects/{id}/records", "record_list", authed(&Api::RecordList)));
  RETURN_IF_ERROR(
      r.Add("POST", "/v1/subjects/{id}/records", "record_create", authed(&Api::RecordCreate)));
  RETURN_IF_ERROR(
      r.Add("POST", "/v1/records/{id}/events", "record_event", authed(&Api::RecordEvent)));
  RETURN_IF_ERROR(r.Add("POST", "/v1/calls", "call_match", authed(&Api::CallMatch)));
  ASSIGN_OR_RETURN(channels_,
                   RegisterChannelRoutes(
                       r, vault_, ChannelRoutesOptions{service::SystemClockMs, options_.on_reply}));
  RETURN_IF_ERROR(r.Add("GET", "/v1/cookies/consents/{visitor}", "cookie_choices_get",
                        authed(&Api::CookieChoicesGet)));
  RETURN_IF_ERROR(r.Add("POST", "/v1/requests", "request_create", authed(&Api::RequestCreate)));
  RETURN_IF_ERROR(r.Add("GET", "/v1/requests", "request_list", authed(&Api::RequestList)));
  RETURN_IF_ERROR(r.Add("GET", "/v1/requests/{id}", "request_get", authed(&Api::RequestGet)));
  RETURN_IF_ERROR(r.Add("POST", "/v1/requests/{id}/transitions", "request_transition",
                        authed(&Api::RequestTransition)));
  RETURN_IF_ERROR(
      r.Add("POST", "/v1/requests/{id}/code", "request_code_send", authed(&Api::RequestCodeSend)));
  RETURN_IF_ERROR(r.Add("POST", "/v1/requests/{id}/verification", "request_code_check",
                        authed(&Api::RequestCodeCheck)));
  RETURN_IF_ERROR(r.Add("POST", "/v1/messages", "message_create", authed(&Api::MessageCreate)));
  RETURN_IF_ERROR(r.Add("GET", "/v1/messages", "message_list", authed(&Api::MessageList)));
  RETURN_IF_ERROR(r.Add("GET", "/v1/messages/{id}", "message_get", authed(&Api::MessageGet)));
  RETURN_IF_ERROR(
      r.Add("GET", "/v1/subjects/{id}/consents", "consent_list", authed(&Api::ConsentList)));
  RETURN_IF_ERROR(r.Add("GET", "/v1/subjects/{id}/consents/{purpose}", "consent_get",
                        authed(&Api::ConsentGet)));
  RETURN_IF_ERROR(r.Add("PUT", "/v1/subjects/{id}/consents/{purpose}", "consent_put",
                        authed(&Api::ConsentPut)));
  // A CSV uploaded as text/csv streams to a file, up to the server's upload
  // limit; who may not import is refused before the upload is read.
  RouteOptions upload;
  upload.upload_media_type = "text/csv";
  upload.before_upload = [this](Request& req) -> std::optional<Response> {
    auto caller = Authenticate(req);
    if (!caller.ok()) return *caller.error;
    std::optional<Response> refused = ImportRefused(*caller.value);
    if (!refused) {
      auto settings = ImportSettingsFromQuery(req);
      if (!settings.ok()) refused = *settings.error;
    }
    SyncAuditAppends();
    return refused;
  };
  RETURN_IF_ERROR(
      r.Add("POST", "/v1/imports", "import_create", authed(&Api::ImportCreate), upload));
  RETURN_IF_ERROR(r.Add("GET", "/v1/imports/{id}", "import_get", authed(&Api::ImportGet)));
  RETURN_IF_ERROR(
      r.Add("GET", "/v1/imports/{id}/rejects", "import_rejects", authed(&Api::ImportRejects)));
  RETURN_IF_ERROR(r.Add("GET", "/v1/audit", "audit_list", authed(&Api::AuditList)));
  RETURN_IF_ERROR(
      r.Add("POST", "/v1/disclosures", "disclosure_create", authed(&Api::DisclosureCreate)));
  RETURN_IF_ERROR(r.Add("GET", "/v1/subjects/{id}/disclosures", "disclosure_list",
                        authed(&Api::DisclosureList)));
  return Status::Ok();
}

Result<std::shared_ptr<Api>> RegisterApi(Router& router, service::Vault& vault,
                                         ApiOptions options) {
  auto api = std::make_shared<Api>(vault, std::move(options));
  RETURN_IF_ERROR(api->Register(router));
  return api;
}

}  // namespace custodian::http
