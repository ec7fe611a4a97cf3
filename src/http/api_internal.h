// The Api class behind RegisterApi (api.h), shared by the files that define
// its routes: api.cc (credentials, sessions, the policy, imports, the audit
// trail, disclosures; registration), subjects_api.cc (subjects, records,
// calls) and rights_api.cc (consents, requests, messages, cookie choices).
// Internal to src/http.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/api.h"
#include "http/imports_api.h"
#include "http/json_body.h"
#include "http/json_text.h"
#include "http/metrics.h"
#include "http/rate_limit.h"
#include "http/router.h"
#include "service/vault.h"

namespace custodian::http {

// The caller, from the credential.
struct Caller {
  std::string tenant;
  service::Actor actor;
};

// The privacy portal's sign-in routes take 20 requests a minute from one
// address, 20 at once (portal_api.cc).
inline constexpr double kPortalAddressRate = 20.0 / 60.0;
inline constexpr double kPortalAddressBurst = 20;

namespace api_internal {

using nlohmann::json;
using nlohmann::ordered_json;

// {"category": "value", ...} in body[member] -> FieldInputs.
Or<std::vector<service::FieldInput>> Fields(const json& body, const std::string& member = "fields");
// A subject as the API shows it, written into `j`.
void SubjectJson(JsonText& j, const service::SubjectView& v);
ordered_json WriteJson(const service::AddSubjectResult& r);
// The JSON pointer to the part of the body a service check refused: the
// member, then its element: by category key in an object of fields (`fields`,
// `corrections`: give them), else by position in an array.
std::optional<std::string> FaultPointer(const service::InputFault& fault,
                                        const std::vector<service::FieldInput>* fields = nullptr);

// Whether a method changes state (needs the CSRF token with a cookie).
bool UnsafeMethod(std::string_view method);
// The value of cookie `name` in a Cookie header.
std::optional<std::string_view> CookieValue(std::string_view header, std::string_view name);

// A data-subject request's body: {"type", "details", "purpose",
// "corrections": {category: value}} and, when `subject_allowed`, "subject".
Or<service::RequestInput> RequestBody(const Request& req, bool subject_allowed);

}  // namespace api_internal

class Api {
 public:
  Api(service::Vault& vault, ApiOptions options)
      : vault_(vault),
        options_(std::move(options)),
        imports_(std::make_unique<ImportJobs>(vault, options_.import_dir)) {
    key_limiter_ = std::make_unique<KeyRateLimiter>(
        options_.api_key_rate,
        options_.api_key_burst > 0 ? options_.api_key_burst : options_.api_key_rate);
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
  // Wraps a public handler that reaches the vault: the audit-append counter
  // is brought up to date after it (Authed does the same for the others).
  Handler Synced(Response (Api::*handler)(Request&));
  Or<std::string> Purpose(const Request& req, std::string_view fallback = {});
  // A service error as a problem, counting refusals.
  Response Fail(const Status& s, std::optional<std::string_view> pointer = std::nullopt);
  // Fail() for a missing or bad bearer credential, with `WWW-Authenticate: Bearer`.
  Response Unauthorized(const Status& s);
  // 429 problem `too-many-requests` with Retry-After `wait`, counted as a
  // refusal for `reason` (a sign-in lockout, an API key over its rate).
  Response TooManyRequests(std::string_view reason, std::string_view detail,
                           std::chrono::milliseconds wait);
  // Where in the body the subject input the vault refused with `s` is at
  // fault, from the service's own check of it (nullopt: nowhere in particular).
  std::optional<std::string> SubjectPointer(const Caller& c, const service::SubjectInput& in,
                                            const Status& s);
  // The same for a data-subject request's input and a consent change.
  std::optional<std::string> RequestPointer(std::string_view tenant,
                                            const service::RequestInput& in, const Status& s);
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
  // The answers of SubjectLookup and CallMatch once their audit events are
  // durable, shaped through Answer(), which never throws.
  Response LookupAnswer(const Result<std::vector<service::SubjectView>>& views);
  Response CallAnswer(const Result<service::CallMatch>& m);
  Response Answer(const std::function<Response()>& shape);
  // A deferred response: `start` hands the service the callback it calls
  // with its result once that is durable (from the store's committer under
  // group commit); `shape` makes the answer of it, through Answer(), on the
  // connection's own thread when the server sends it.
  template <typename T>
  Response Later(const std::function<void(std::function<void(Result<T>)>)>& start,
                 Response (Api::*shape)(const Result<T>&)) {
    auto deferred = std::make_shared<Deferred>();
    start([this, deferred, shape](Result<T> r) {
      auto result = std::make_shared<Result<T>>(std::move(r));
      deferred->Complete(
          [this, result, shape] { return Answer([&] { return (this->*shape)(*result); }); });
    });
    Response later;
    later.deferred = std::move(deferred);
    return later;
  }
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
  // The privacy portal (portal_api.cc, docs/portal.md): public routes, the
  // person's session cookie instead of a key.
  Status RegisterPortal(Router& r);
  // The signed-in person of a portal request (the CSRF token checked on
  // unsafe methods), or the problem to answer.
  Or<service::PortalSession> PortalCaller(Request& req);
  // Requests a second from one address to the portal's sign-in routes.
  std::optional<Response> PortalThrottled(const Request& req);
  Response PortalPage(Request& req);
  Response PortalCodes(Request& req);
  Response PortalSessionCreate(Request& req);
  Response PortalSessionDelete(Request& req);
  Response PortalMe(Request& req);
  Response PortalRequestCreate(Request& req);
  Response PortalConsentPut(Request& req);
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
  // Keys' own rates, and options_.api_key_rate for the others.
  std::unique_ptr<KeyRateLimiter> key_limiter_;
  // Sign-in attempts to the privacy portal per remote address.
  KeyRateLimiter portal_limiter_{kPortalAddressRate, kPortalAddressBurst};
  std::unique_ptr<ImportJobs> imports_;  // joined before the vault goes
  std::shared_ptr<void> channels_;  // the channel routes' state (channels_api.h)
};

}  // namespace custodian::http
