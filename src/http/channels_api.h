// Public routes of the consent channels: the Telnyx inbound webhook and email
// unsubscribe links (channels_api.cc, docs/channels.md).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "custodian/status.h"
#include "http/router.h"
#include "service/vault.h"

namespace custodian::http {

struct ChannelRoutesOptions {
  // Milliseconds since the epoch (webhook timestamps are checked against it).
  std::function<int64_t()> clock = service::SystemClockMs;
  // Called with the reply an inbound keyword asks for (STOP confirmation,
  // HELP text): tenant, channel (sms|whatsapp), the sender's number, text.
  // The server queues it in the outbox. Optional.
  std::function<void(const std::string&, const std::string&, const std::string&,
                     const std::string&)>
      on_reply;
};

// Adds POST /v1/webhooks/telnyx, GET and POST /v1/unsubscribe. The returned
// object owns the routes' state and must outlive the router.
Result<std::shared_ptr<void>> RegisterChannelRoutes(Router& router, service::Vault& vault,
                                                    ChannelRoutesOptions options = {});

}  // namespace custodian::http
