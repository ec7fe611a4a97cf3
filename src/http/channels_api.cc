// The public routes of the consent channels (docs/channels.md):
//
//   POST /v1/webhooks/telnyx   inbound SMS/WhatsApp (Telnyx message.received)
//   GET  /v1/unsubscribe       the confirmation page of an email unsubscribe link
//   POST /v1/unsubscribe       RFC 8058 one-click unsubscribe (and the page's button)
//
// None takes an API key: the webhook is authenticated by Telnyx's Ed25519
// signature (checked with the key in the receiving tenant's settings), the
// unsubscribe link by its own MAC. Answers never say whether a number or a
// subject is known.
#include "http/channels_api.h"

#include <nlohmann/json.hpp>

#include "common/time.h"
#include "crypto/webhook_signature.h"
#include "http/json_body.h"
#include "http/problem.h"
#include "policy/render.h"

namespace custodian::http {

extern const char kCookieBannerJs[];  // generated from web/cookie-banner.js

namespace {

using nlohmann::json;
using policy::EscapeHtml;

Response Html(int status, std::string_view title, std::string_view body_html) {
  Response r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>" +
      EscapeHtml(title) +
      "</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem "
      "auto;padding:0 1rem}button{font:inherit;padding:.5rem 1rem}</style></head><body>" +
      std::string(body_html) + "</body></html>\n";
  return r;
}

// A refused or broken link, as a page a person can read.
Response LinkProblem(const Status& s) {
  int status = s.code() == StatusCode::kFailedPrecondition ? 410
               : s.code() == StatusCode::kNotFound         ? 404
                                                           : 400;
  std::string why = s.code() == StatusCode::kFailedPrecondition
                        ? "This unsubscribe link has expired."
                        : "This unsubscribe link is not valid (it may be incomplete or changed).";
  return Html(status, "Unsubscribe",
              "<h1>Unsubscribe</h1><p>" + EscapeHtml(why) +
                  "</p><p>Use the link in a newer message, or reply STOP to any text message "
                  "from us.</p>");
}

class ChannelRoutes {
 public:
  ChannelRoutes(service::Vault& vault, const ChannelRoutesOptions& options)
      : vault_(vault), options_(options) {}

  Response Telnyx(Request& req);
  Response CookieBannerJs(Request& req);
  Response CookieChoicePost(Request& req);
  Response UnsubscribePage(Request& req);
  Response UnsubscribePost(Request& req);

 private:
  service::Vault& vault_;
  ChannelRoutesOptions options_;
};

// The parts of a Telnyx message.received event custodian uses.
struct TelnyxEvent {
  std::string id;          // data.id (the event's id: replays repeat it)
  std::string type;        // data.event_type
  std::string message_id;  // data.payload.id
  std::string from;        // data.payload.from.phone_number
  std::string to;          // data.payload.to[0].phone_number
  std::string text;        // data.payload.text
  std::string channel;     // sms | whatsapp (from data.payload.type)
};

Or<TelnyxEvent> ParseTelnyx(const json& body) {
  TelnyxEvent e;
  auto data = body.find("data");
  if (data == body.end() || !data->is_object()) return BadRequest("missing object 'data'", "/data");
  auto str = [](const json& obj, const char* key, std::string& out) {
    auto it = obj.find(key);
    if (it == obj.end() || !it->is_string()) return false;
    out = it->get<std::string>();
    return true;
  };
  if (!str(*data, "event_type", e.type)) {
    return BadRequest("'event_type' must be a string", "/data/event_type");
  }
  if (!str(*data, "id", e.id) || e.id.empty() || e.id.size() > 128) {
    return BadRequest("'id' must be the event's id (1 to 128 characters)", "/data/id");
  }
  if (e.type != "message.received") return e;
  auto payload = data->find("payload");
  if (payload == data->end() || !payload->is_object()) {
    return BadRequest("missing object 'payload'", "/data/payload");
  }
  str(*payload, "id", e.message_id);
  auto from = payload->find("from");
  if (from == payload->end() || !from->is_object() || !str(*from, "phone_number", e.from)) {
    return BadRequest("'from.phone_number' must be a string", "/data/payload/from/phone_number");
  }
  auto to = payload->find("to");
  if (to == payload->end() || !to->is_array() || to->empty() || !(*to)[0].is_object() ||
      !str((*to)[0], "phone_number", e.to)) {
    return BadRequest("'to' must be a list of {\"phone_number\": ...}", "/data/payload/to");
  }
  if (!str(*payload, "text", e.text)) {
    return BadRequest("'text' must be a string", "/data/payload/text");
  }
  std::string type;
  str(*payload, "type", type);
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  e.channel = type.find("whatsapp") != std::string::npos ? "whatsapp" : "sms";
  return e;
}

Response ChannelRoutes::Telnyx(Request& req) {
  auto body = JsonBody(req);
  if (!body.ok()) return *body.error;
  auto event = ParseTelnyx(*body.value);
  if (!event.ok()) return *event.error;
  const TelnyxEvent& e = *event.value;
  if (e.type != "message.received") {
    return ShapeJson(200, {{"status", "ignored"}, {"reason", "event type " + e.type}});
  }
  auto tenant = vault_.TenantForNumber(e.to);
  if (!tenant.ok()) return ProblemFromStatus(tenant.status(), "/data/payload/to/0/phone_number");
  auto settings = vault_.GetChannelSettings(*tenant);
  if (!settings.ok()) return ProblemFromStatus(settings.status());
  if (!settings->telnyx) return ProblemFromStatus(Status::NotFound("no Telnyx settings"));
  auto sig = req.Header(crypto::kTelnyxSignatureHeader);
  auto ts = req.Header(crypto::kTelnyxTimestampHeader);
  Status verified = crypto::VerifyTelnyxSignature(
      settings->telnyx->public_key, sig ? *sig : std::string_view(), ts ? *ts : std::string_view(),
      req.body, options_.clock() / 1000);
  if (!verified.ok()) {
    vault_.AuditWebhookRefusal(*tenant, "telnyx", verified);
    return ProblemFromStatus(verified);
  }
  auto applied =
      vault_.ApplyInboundMessage(*tenant, {e.channel, e.from, e.message_id, e.text}, e.id);
  if (!applied.ok()) {
    if (applied.status().code() == StatusCode::kFailedPrecondition) {
      return ShapeJson(200, {{"status", "duplicate"}});
    }
    return ProblemFromStatus(applied.status());
  }
  if (options_.on_reply && !applied->reply.empty()) {
    options_.on_reply(*tenant, e.channel, e.from, applied->reply);
  }
  return ShapeJson(
      200, {{"status", "applied"}, {"keyword", applied->keyword}, {"purposes", applied->purposes}});
}

Response ChannelRoutes::UnsubscribePage(Request& req) {
  auto token = req.QueryParam("token");
  if (!token || token->empty()) return LinkProblem(Status::InvalidArgument("no token"));
  auto target = vault_.CheckUnsubscribeToken(*token);
  if (!target.ok()) return LinkProblem(target.status());
  std::string what = EscapeHtml(target->purpose_label);
  std::string org = EscapeHtml(target->organization);
  if (target->withdrawn) {
    return Html(200, "Unsubscribed",
                "<h1>You are unsubscribed</h1><p>" + org + " sends you no more: " + what + ".</p>");
  }
  // A GET never unsubscribes (mail scanners follow links): the button posts.
  return Html(200, "Unsubscribe",
              "<h1>Unsubscribe</h1><p>Stop receiving from " + org + ": " + what +
                  "?</p><form method=\"post\" action=\"?token=" + EscapeHtml(*token) +
                  "\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">"
                  "<button type=\"submit\">Unsubscribe</button></form>");
}

Response ChannelRoutes::UnsubscribePost(Request& req) {
  auto token = req.QueryParam("token");
  if (!token || token->empty()) return LinkProblem(Status::InvalidArgument("no token"));
  auto done = vault_.Unsubscribe(*token);
  if (!done.ok()) return LinkProblem(done.status());
  return Html(200, "Unsubscribed",
              "<h1>You are unsubscribed</h1><p>" + EscapeHtml(done->organization) +
                  " sends you no more: " + EscapeHtml(done->purpose_label) +
                  ".</p><p>You can opt in again at any time.</p>");
}

// Cookie choices are posted from the tenant's own website, another origin:
// the route answers CORS for any origin (no credentials are involved, and a
// choice carries nothing but a random visitor id).
void AllowAnyOrigin(Response& r) { r.headers.emplace_back("Access-Control-Allow-Origin", "*"); }

Response ChannelRoutes::CookieBannerJs(Request& req) {
  auto tenant = req.QueryParam("tenant");
  if (!tenant || tenant->empty()) {
    return BadRequest("name the tenant: /v1/cookies/banner.js?tenant=<tenant>");
  }
  auto banner = vault_.GetCookieBanner(*tenant);
  if (!banner.ok()) {
    return Problem(404, "not-found", "Not Found", "no cookie banner is published here");
  }
  json categories = json::array();
  for (const service::CookieCategoryInfo& c : banner->categories) {
    categories.push_back({{"id", c.id},
                          {"label", c.label},
                          {"description", c.description},
                          {"required", c.required}});
  }
  json config = {{"tenant", banner->tenant},
                 {"organization", banner->organization},
                 {"policy_version", banner->policy_version},
                 {"notice_url", "/privacy/" + banner->tenant},
                 {"categories", categories}};
  Response r;
  r.content_type = "text/javascript; charset=utf-8";
  // dump() escapes nothing that could close a script element: '<' is escaped
  // to keep "</script>" inside a label from ending an inline copy.
  std::string config_text = config.dump();
  std::string safe;
  for (char c : config_text) safe += c == '<' ? std::string("\\u003c") : std::string(1, c);
  r.body = "(" + std::string(kCookieBannerJs) + ")(" + safe + ");\n";
  r.headers.emplace_back("Cache-Control", "public, max-age=300");
  AllowAnyOrigin(r);
  return r;
}

Response ChannelRoutes::CookieChoicePost(Request& req) {
  auto body = JsonBody(req);
  Response r = [&]() -> Response {
    if (!body.ok()) return *body.error;
    const json& b = *body.value;
    if (auto bad = CheckKeys(b, "", {"tenant", "visitor", "policy_version", "choices"},
                             {"tenant", "visitor", "policy_version", "choices"})) {
      return *bad;
    }
    service::CookieChoice choice;
    std::string tenant;
    if (auto bad = ReadStrings(b, {{"tenant", &tenant},
                                   {"visitor", &choice.visitor},
                                   {"policy_version", &choice.policy_version}})) {
      return *bad;
    }
    const json& choices = b["choices"];
    if (!choices.is_object()) return BadRequest("'choices' must be an object", "/choices");
    for (const auto& [id, accepted] : choices.items()) {
      if (!accepted.is_boolean()) {
        return BadRequest("a choice must be true or false", Pointer("/choices", id));
      }
      choice.choices.emplace_back(id, accepted.get<bool>());
    }
    auto policy = vault_.TenantPolicy(tenant);
    if (!policy.ok()) {
      bool unknown = policy.status().code() == StatusCode::kNotFound;
      return ProblemFromStatus(policy.status(),
                               unknown ? std::optional<std::string_view>("/tenant") : std::nullopt);
    }
    std::string field;
    if (Status s = service::CheckCookieChoice(**policy, choice, &field); !s.ok()) {
      return ProblemFromStatus(s, Pointer("", field));
    }
    auto record = vault_.RecordCookieChoice(tenant, choice);
    if (!record.ok()) return ProblemFromStatus(record.status());
    json stored = json::object();
    for (const auto& [id, on] : record->choices) stored[id] = on;
    return ShapeJson(201, {{"visitor", record->visitor},
                           {"policy_version", record->policy_version},
                           {"choices", stored},
                           {"recorded_at", FormatTime(record->at_ms)}});
  }();
  AllowAnyOrigin(r);
  return r;
}

}  // namespace

Result<std::shared_ptr<void>> RegisterChannelRoutes(Router& router, service::Vault& vault,
                                                    ChannelRoutesOptions options) {
  auto routes = std::make_shared<ChannelRoutes>(vault, options);
  ChannelRoutes* r = routes.get();
  RETURN_IF_ERROR(router.Add("POST", "/v1/webhooks/telnyx", "webhook_telnyx",
                             [r](Request& req) { return r->Telnyx(req); }));
  RETURN_IF_ERROR(router.Add("GET", "/v1/unsubscribe", "unsubscribe_page",
                             [r](Request& req) { return r->UnsubscribePage(req); }));
  RETURN_IF_ERROR(router.Add("POST", "/v1/unsubscribe", "unsubscribe",
                             [r](Request& req) { return r->UnsubscribePost(req); }));
  RETURN_IF_ERROR(router.Add("GET", "/v1/cookies/banner.js", "cookie_banner",
                             [r](Request& req) { return r->CookieBannerJs(req); }));
  RETURN_IF_ERROR(router.Add("POST", "/v1/cookies/consents", "cookie_choice",
                             [r](Request& req) { return r->CookieChoicePost(req); }));
  RETURN_IF_ERROR(
      router.Add("OPTIONS", "/v1/cookies/consents", "cookie_choice_preflight", [](Request&) {
        Response p;
        p.status = 204;
        p.content_type.clear();
        p.headers = {{"Access-Control-Allow-Origin", "*"},
                     {"Access-Control-Allow-Methods", "POST"},
                     {"Access-Control-Allow-Headers", "Content-Type"},
                     {"Access-Control-Max-Age", "600"}};
        return p;
      }));
  return std::shared_ptr<void>(routes);
}

}  // namespace custodian::http
