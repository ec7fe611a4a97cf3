// The /v1 routes: parse and check the request, authenticate, make one Vault
// call, shape the JSON. No rule about personal data lives here; the service
// decides (api.h). This file: credentials, sessions, the policy and notice,
// imports, the audit trail, disclosures, and the route table; the subject
// routes are in subjects_api.cc, the rights routes in rights_api.cc.
#include "http/api.h"

#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "common/time.h"
#include "http/api_internal.h"
#include "http/audit_api.h"
#include "http/channels_api.h"
#include "http/disclosures_api.h"
#include "http/imports_api.h"
#include "http/json_body.h"
#include "http/problem.h"
#include "http/url.h"
#include "policy/render.h"
#include "service/authorize.h"

namespace custodian::http {

extern const char kOpenApiYaml[];  // generated from api/openapi.yaml (cmake/EmbedFile.cmake)
std::string_view EmbeddedOpenApi() { return kOpenApiYaml; }


namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr char kSessionCookie[] = "custodian_session";

}  // namespace

namespace api_internal {

bool UnsafeMethod(std::string_view m) { return m != "GET" && m != "HEAD" && m != "OPTIONS"; }

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

}  // namespace api_internal

using api_internal::CookieValue;
using api_internal::UnsafeMethod;

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

Response Api::TooManyRequests(std::string_view reason, std::string_view detail,
                              std::chrono::milliseconds wait) {
  if (refusals_ != nullptr) refusals_->WithLabels({reason}).Inc();
  return RetryAfter(Problem(429, "too-many-requests", "Too Many Requests", detail), wait);
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
    // The key's own rate limit if it has one, else the server's (if any).
    const KeyRate rate = id->limit.per_second
                             ? KeyRate{*id->limit.per_second, id->limit.BurstInForce()}
                             : key_limiter_->server_rate();
    const auto wait = key_limiter_->Take(id->key_id, std::chrono::steady_clock::now(), rate);
    if (wait.count() > 0) {
      std::ostringstream says;
      says << "this API key may send " << rate.per_second << " requests a second (at most "
           << rate.burst << " at once); wait as long as Retry-After says";
      return TooManyRequests("rate", says.str(), wait);
    }
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

Handler Api::Synced(Response (Api::*handler)(Request&)) {
  return [this, handler](Request& req) {
    Response r = (this->*handler)(req);
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
    return TooManyRequests("credentials", login.status().message(),
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
  // Routes whose handlers never wait for a commit (lookups and calls answer
  // through a Deferred once the store's committer has made their audit
  // events durable) run on the connection's I/O thread; the rest on the
  // handler threads (RouteOptions::on_io_thread).
  RouteOptions on_io_thread;
  on_io_thread.on_io_thread = true;
  RETURN_IF_ERROR(r.Add(
      "GET", "/v1/openapi.yaml", "openapi",
      [](Request&) {
        Response resp;
        resp.content_type = "application/yaml";
        resp.body = std::string(EmbeddedOpenApi());
        return resp;
      },
      on_io_thread));
  RETURN_IF_ERROR(r.Add("GET", "/privacy/{tenant}", "privacy_notice",
                        [this](Request& req) { return PrivacyNotice(req); }));
  RETURN_IF_ERROR(RegisterPortal(r));
  RETURN_IF_ERROR(
      r.Add("GET", "/v1/exports/{token}", "export_download", Synced(&Api::ExportDownload)));
  RETURN_IF_ERROR(r.Add("POST", "/v1/session", "session_create", Synced(&Api::SessionCreate)));
  RETURN_IF_ERROR(r.Add("DELETE", "/v1/session", "session_delete", authed(&Api::SessionDelete)));
  RETURN_IF_ERROR(r.Add("GET", "/v1/policy", "policy_get", authed(&Api::PolicyGet)));
  RETURN_IF_ERROR(r.Add("POST", "/v1/subjects", "subject_create", authed(&Api::SubjectCreate)));
  RETURN_IF_ERROR(
      r.Add("POST", "/v1/subjects/lookup", "subject_lookup", authed(&Api::SubjectLookup),
            on_io_thread));
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
  RETURN_IF_ERROR(
      r.Add("POST", "/v1/calls", "call_match", authed(&Api::CallMatch), on_io_thread));
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
