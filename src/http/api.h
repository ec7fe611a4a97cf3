// The /v1 HTTP API over the Vault (docs/http-api.md, api/openapi.yaml).
//
// Every route but the public ones authenticates the caller (a tenant API key
// as `Authorization: Bearer cst_...`, or an operator session cookie plus the
// X-CSRF-Token header on unsafe methods), takes the tenant from the
// credential (a URL never names a tenant, so one tenant's caller cannot even
// address another's data: a subject of another tenant is 404 like one that
// never existed), and calls the same service methods as the CLI, which check
// role x purpose x category against the tenant's policy and audit the call.
// Reads name their purpose with `?purpose=` or an `X-Purpose` header.
// Errors are RFC 9457 problem documents; a refusal says which rule refused.
//
// Personal values travel only in bodies (lookups are POSTs), never in paths
// or query strings, so proxies and access logs never see them.
// Thread-safety: handlers run concurrently on the server's I/O threads.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "custodian/status.h"
#include "http/metrics.h"
#include "http/router.h"
#include "service/vault.h"

namespace custodian::http {

struct ApiOptions {
  // The purpose POST /v1/calls uses when the request names none ("" = the
  // request must name one).
  std::string call_purpose;
  // Session cookies get `Secure` (set when the server speaks TLS).
  bool secure_cookies = false;
  // The OpenAPI document served at /v1/openapi.yaml.
  std::string openapi_yaml;
  // Where imports uploaded over HTTP are kept while they run (0700, files 0600).
  std::string import_dir;
  // Requests a second each API key may send (0: no limit), and how many at
  // once after being idle (0: as many as the rate, at least 1). Over it: 429
  // with Retry-After (http/rate_limit.h).
  double api_key_rate = 0;
  double api_key_burst = 0;
  // The API's counters (lookups, refusals, audited calls) are registered here.
  Metrics* metrics = nullptr;
  // The reply an inbound keyword asks for (tenant, channel, sender, text);
  // the server queues it in the outbox (channels_api.h). Optional.
  std::function<void(const std::string&, const std::string&, const std::string&,
                     const std::string&)>
      on_reply;
};

// Adds every /v1 route, /privacy/{tenant} and /v1/openapi.yaml to `router`.
// The vault must outlive the router's handlers. The returned object owns the
// API's state (background imports) and must outlive the server; destroying it
// waits for running imports.
class Api;
Result<std::shared_ptr<Api>> RegisterApi(Router& router, service::Vault& vault,
                                         ApiOptions options);

// api/openapi.yaml as compiled into the binary (cmake/EmbedFile.cmake).
std::string_view EmbeddedOpenApi();

}  // namespace custodian::http
