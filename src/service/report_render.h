// Renders a report's JSON (Vault::ReportProcessing, ReportRequests,
// ReportAccess; docs/reports.md) as markdown or a self-contained HTML page.
// The JSON is the source of truth: the renderings show the same figures, as
// headings, short facts and tables. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "custodian/status.h"

namespace custodian::service {

// `format`: json (returned as given), markdown or html. InvalidArgument for
// another format or JSON that is not a report.
Result<std::string> RenderReport(std::string_view report_json, std::string_view format);

}  // namespace custodian::service
