// Rendering the human-readable privacy notice from a policy.
//
// What is published is what is enforced: every category, purpose, recipient,
// retention rule, right, cookie category and security measure of the policy
// appears in the notice. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "policy/model.h"

namespace custodian::policy {

enum class NoticeFormat { kMarkdown, kHtml, kJson };

std::string RenderNotice(const Policy& policy, NoticeFormat format);
// The normalized policy for machines (the `json` format); defaults filled in.
nlohmann::json PolicyToJson(const Policy& policy);
// "Billing records are kept for 12 months after your account is closed, then deleted."
std::string DescribeRetentionRule(const Policy& policy, const RetentionRule& rule);
// Text made safe for HTML element content and attribute values (& < > " ').
std::string EscapeHtml(std::string_view text);
// A right in the notice's words: "erasure" -> "Delete your data", and what it
// lets the person do ("" for a right there are no words for).
std::string RightTitle(const std::string& right);
std::string RightMeaning(const std::string& right);

}  // namespace custodian::policy
