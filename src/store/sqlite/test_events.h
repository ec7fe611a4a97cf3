// An audit event for store tests, whose content does not matter to them.
#pragma once

#include <string>

#include "audit/event.h"

namespace custodian::store {

inline audit::Event TestEvent(const std::string& action) {
  audit::Event e;
  e.time_ms = 1;
  e.tenant = "alpha";
  e.actor = "test";
  e.role = "admin";
  e.action = action;
  e.outcome = "ok";
  return e;
}

}  // namespace custodian::store
