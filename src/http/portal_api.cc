// The privacy portal's routes (docs/portal.md): public, for the people whose
// data a tenant holds.
//
//   GET    /portal/{tenant}                 the portal page (web/portal.html)
//   GET    /portal-assets/portal.js         its script (web/portal.js)
//   POST   /v1/portal/{tenant}/codes        ask for a sign-in code: {"phone"} or {"email"}
//   POST   /v1/portal/{tenant}/session      sign in with it: {"challenge", "code"}
//   DELETE /v1/portal/{tenant}/session      sign out
//   GET    /v1/portal/{tenant}/me           the person's consents and requests
//   POST   /v1/portal/{tenant}/requests     a request about themselves
//   PUT    /v1/portal/{tenant}/consents/{purpose}   give or withdraw consent
//
// The session is a cookie scoped to the tenant's portal path (HttpOnly,
// SameSite=Strict, Secure under TLS); unsafe methods also need the CSRF token
// from the sign-in as X-CSRF-Token. The sign-in routes take a limited number
// of requests a minute from one address, and the vault limits codes per
// contact. No answer says whether a contact is on file.
#include <nlohmann/json.hpp>

#include "common/time.h"
#include "http/api_internal.h"
#include "http/problem.h"
#include "policy/render.h"
#include "service/consent_json.h"
#include "service/request_json.h"

namespace custodian::http {

extern const char kPortalHtml[];  // generated from web/portal.html
extern const char kPortalJs[];    // generated from web/portal.js

namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr char kPortalCookie[] = "custodian_portal";

std::string CookiePath(std::string_view tenant) { return "/v1/portal/" + std::string(tenant); }

// A page's every occurrence of `from` replaced by `to`.
std::string ReplaceAll(std::string text, std::string_view from, std::string_view to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// A purpose's label in the policy, else its key.
std::string PurposeLabel(const policy::Policy& policy, const std::string& key) {
  const policy::Purpose* p = policy.FindPurpose(key);
  return p != nullptr && !p->label.empty() ? p->label : key;
}

// What a request looks like to the person: the API's form without who in
// the company handles it.
ordered_json PersonsRequest(const service::RequestView& r) {
  ordered_json j = service::RequestJson(r);
  j.erase("assigned");
  if (!r.download_token.empty()) j["download_url"] = "/v1/exports/" + r.download_token;
  return j;
}

}  // namespace

using api_internal::CookieValue;
using api_internal::RequestBody;
using api_internal::UnsafeMethod;

std::optional<Response> Api::PortalThrottled(const Request& req) {
  const auto wait = portal_limiter_.Take("portal " + req.remote_address,
                                         std::chrono::steady_clock::now());
  if (wait.count() == 0) return std::nullopt;
  return TooManyRequests("portal",
                         "too many sign-in attempts from this address; wait as long as "
                         "Retry-After says",
                         wait);
}

Or<service::PortalSession> Api::PortalCaller(Request& req) {
  const std::string tenant(*req.PathParam("tenant"));
  auto cookie = req.Header("Cookie");
  auto token = cookie ? CookieValue(*cookie, kPortalCookie) : std::nullopt;
  if (!token) {
    return Fail(Status::Unauthenticated("not signed in: ask for a code at POST " +
                                        CookiePath(tenant) + "/codes"));
  }
  auto session = vault_.AuthenticatePortal(tenant, *token);
  if (!session.ok()) return Fail(session.status());
  if (UnsafeMethod(req.method)) {
    auto csrf = req.Header("X-CSRF-Token");
    Status ok = vault_.CheckPortalCsrf(*session, csrf ? *csrf : std::string_view());
    if (!ok.ok()) return Fail(ok);
  }
  req.principal = "subject";
  return *session;
}

Response Api::PortalPage(Request& req) {
  const std::string tenant(*req.PathParam("tenant"));
  auto policy = vault_.TenantPolicy(tenant);
  if (!policy.ok()) {
    return Problem(404, "not-found", "Not Found", "no privacy portal is published here");
  }
  Response r;
  r.content_type = "text/html; charset=utf-8";
  std::string page = ReplaceAll(kPortalHtml, "{{organization}}",
                                policy::EscapeHtml((*policy)->organization.name));
  r.body = ReplaceAll(std::move(page), "{{tenant}}", policy::EscapeHtml(tenant));
  // Only its own script, styles and API; never framed.
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; "
                         "connect-src 'self'; img-src 'self'; form-action 'self'; "
                         "base-uri 'none'; frame-ancestors 'none'");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

Response Api::PortalCodes(Request& req) {
  if (auto throttled = PortalThrottled(req)) return *throttled;
  auto body = JsonBody(req);
  if (!body.ok()) return *body.error;
  const json& b = *body.value;
  if (auto bad = CheckKeys(b, "", {"phone", "email"})) return *bad;
  if (b.contains("phone") == b.contains("email")) {
    return BadRequest("give your phone number or your email address (one of them)");
  }
  const std::string kind = b.contains("phone") ? "phone" : "email";
  auto value = OptString(b, kind);
  if (!value.ok()) return *value.error;
  int64_t retry_ms = 0;
  auto challenge =
      vault_.StartPortalSignIn(*req.PathParam("tenant"), {kind, **value.value}, &retry_ms);
  if (!challenge.ok()) {
    if (retry_ms > 0) {
      return TooManyRequests("portal", challenge.status().message(),
                             std::chrono::milliseconds(retry_ms));
    }
    const std::string at = "/" + kind;
    return Fail(challenge.status(), challenge.status().code() == StatusCode::kInvalidArgument
                                        ? std::optional<std::string_view>(at)
                                        : std::nullopt);
  }
  return ShapeJson(202, {{"challenge", challenge->id},
                         {"channel", challenge->channel},
                         {"expires_at", FormatTime(challenge->expires_ms)},
                         {"message", std::string("if this ") +
                                         (kind == "phone" ? "number" : "address") +
                                         " is on file with us, a code is on its way to it"}});
}

Response Api::PortalSessionCreate(Request& req) {
  if (auto throttled = PortalThrottled(req)) return *throttled;
  auto body = JsonBody(req);
  if (!body.ok()) return *body.error;
  const json& b = *body.value;
  if (auto bad = CheckKeys(b, "", {"challenge", "code"}, {"challenge", "code"})) return *bad;
  std::string challenge, code;
  if (auto bad = ReadStrings(b, {{"challenge", &challenge}, {"code", &code}})) return *bad;
  const std::string tenant(*req.PathParam("tenant"));
  auto in = vault_.OpenPortalSession(tenant, challenge, code);
  if (!in.ok()) {
    return Fail(in.status(), in.status().code() == StatusCode::kUnauthenticated
                                 ? std::optional<std::string_view>("/code")
                                 : std::nullopt);
  }
  std::string cookie = std::string(kPortalCookie) + "=" + in->token +
                       "; Path=" + CookiePath(tenant) +
                       "; HttpOnly; SameSite=Strict; Max-Age=" +
                       std::to_string((in->expires_ms - service::SystemClockMs()) / 1000);
  if (options_.secure_cookies || req.tls) cookie += "; Secure";
  Response r = ShapeJson(201, {{"csrf_token", in->csrf_token},
                               {"expires_at", FormatTime(in->expires_ms)}});
  r.headers.emplace_back("Set-Cookie", cookie);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

Response Api::PortalSessionDelete(Request& req) {
  auto session = PortalCaller(req);
  if (!session.ok()) return *session.error;
  Status s = vault_.ClosePortalSession(*session.value);
  if (!s.ok()) return Fail(s);
  Response r = NoContent();
  r.headers.emplace_back("Set-Cookie", std::string(kPortalCookie) + "=; Path=" +
                                           CookiePath(session.value->tenant) +
                                           "; HttpOnly; SameSite=Strict; Max-Age=0");
  return r;
}

Response Api::PortalMe(Request& req) {
  auto session = PortalCaller(req);
  if (!session.ok()) return *session.error;
  auto overview = vault_.ReadPortal(*session.value);
  if (!overview.ok()) return Fail(overview.status());
  auto policy = vault_.TenantPolicy(session.value->tenant);
  if (!policy.ok()) return Fail(policy.status());
  ordered_json rights = ordered_json::array();
  for (const std::string& right : overview->rights) {
    rights.push_back({{"type", right},
                      {"title", policy::RightTitle(right)},
                      {"meaning", policy::RightMeaning(right)}});
  }
  ordered_json consents = ordered_json::array();
  for (const service::ConsentStatus& c : overview->consents) {
    ordered_json j = service::ConsentStatusJson(c);
    j["label"] = PurposeLabel(**policy, c.purpose);
    consents.push_back(std::move(j));
  }
  ordered_json requests = ordered_json::array();
  for (const service::RequestView& r : overview->requests) requests.push_back(PersonsRequest(r));
  // What a correction may name: the policy's categories (public in its notice).
  ordered_json categories = ordered_json::array();
  for (const policy::Category& c : (*policy)->categories) {
    categories.push_back({{"key", c.key}, {"label", c.label.empty() ? c.key : c.label}});
  }
  Response r = ShapeJson(200, {{"subject", overview->subject},
                               {"organization", overview->organization},
                               {"expires_at", FormatTime(session.value->expires_ms)},
                               {"rights", rights},
                               {"consents", consents},
                               {"categories", categories},
                               {"requests", requests}});
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

Response Api::PortalRequestCreate(Request& req) {
  auto session = PortalCaller(req);
  if (!session.ok()) return *session.error;
  auto in = RequestBody(req, /*subject_allowed=*/false);
  if (!in.ok()) return *in.error;
  const std::string& tenant = session.value->tenant;
  auto r = vault_.SubmitPortalRequest(*session.value, *in.value);
  if (!r.ok()) {
    service::RequestInput checked = *in.value;
    checked.subject = session.value->subject;
    return Fail(r.status(), RequestPointer(tenant, checked, r.status()));
  }
  Response resp = ShapeJson(201, PersonsRequest(*r));
  resp.headers.emplace_back("Cache-Control", "no-store");
  return resp;
}

Response Api::PortalConsentPut(Request& req) {
  auto session = PortalCaller(req);
  if (!session.ok()) return *session.error;
  auto body = JsonBody(req);
  if (!body.ok()) return *body.error;
  if (auto bad = CheckKeys(*body.value, "", {"state"}, {"state"})) return *bad;
  std::string state;
  if (auto bad = ReadStrings(*body.value, {{"state", &state}})) return *bad;
  const std::string purpose(*req.PathParam("purpose"));
  auto status = vault_.SetPortalConsent(*session.value, purpose, state);
  auto policy = vault_.TenantPolicy(session.value->tenant);
  if (!policy.ok()) return Fail(policy.status());
  if (!status.ok()) {
    // The purpose is in the path, the state in the body: a bad value of a
    // declared purpose is the state's.
    const bool state_at_fault = status.status().code() == StatusCode::kInvalidArgument &&
                                (*policy)->FindPurpose(purpose) != nullptr;
    return Fail(status.status(),
                state_at_fault ? std::optional<std::string_view>("/state") : std::nullopt);
  }
  ordered_json j = service::ConsentStatusJson(*status);
  j["label"] = PurposeLabel(**policy, purpose);
  return ShapeJson(200, j);
}

Status Api::RegisterPortal(Router& r) {
  RETURN_IF_ERROR(r.Add("GET", "/portal/{tenant}", "portal_page",
                        [this](Request& req) { return PortalPage(req); }));
  RETURN_IF_ERROR(r.Add("GET", "/portal-assets/portal.js", "portal_js", [](Request&) {
    Response resp;
    resp.content_type = "text/javascript; charset=utf-8";
    resp.body = kPortalJs;
    resp.headers.emplace_back("Cache-Control", "public, max-age=300");
    return resp;
  }));
  RETURN_IF_ERROR(r.Add("POST", "/v1/portal/{tenant}/codes", "portal_codes",
                        Synced(&Api::PortalCodes)));
  RETURN_IF_ERROR(r.Add("POST", "/v1/portal/{tenant}/session", "portal_session_create",
                        Synced(&Api::PortalSessionCreate)));
  RETURN_IF_ERROR(r.Add("DELETE", "/v1/portal/{tenant}/session", "portal_session_delete",
                        Synced(&Api::PortalSessionDelete)));
  RETURN_IF_ERROR(r.Add("GET", "/v1/portal/{tenant}/me", "portal_me",
                        Synced(&Api::PortalMe)));
  RETURN_IF_ERROR(r.Add("POST", "/v1/portal/{tenant}/requests", "portal_request_create",
                        Synced(&Api::PortalRequestCreate)));
  RETURN_IF_ERROR(r.Add("PUT", "/v1/portal/{tenant}/consents/{purpose}", "portal_consent_put",
                        Synced(&Api::PortalConsentPut)));
  return Status::Ok();
}

}  // namespace custodian::http
