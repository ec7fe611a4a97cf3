// The public API of policy/render.h: RenderNotice's dispatch to the writers,
// and DescribeRetentionRule, one sentence per retention rule.

#include "policy/render.h"

#include <algorithm>
#include <set>
#include <utility>

#include "policy/render_internal.h"

namespace custodian::policy {
namespace {

using render_internal::CategoryLabel;
using render_internal::JoinLabels;
using render_internal::LowerFirst;
using render_internal::RecordKindLabel;
using render_internal::UpperFirst;

// Whether a label names several things ("Service logs", "Name and address"),
// for "is"/"are". A heuristic over English; labels are short noun phrases.
bool LooksPlural(std::string_view label) {
  std::string head = render_internal::Trim(label.substr(0, label.find(" (")));
  head = render_internal::AsciiLower(head);
  if (head.find(" and ") != std::string::npos) return true;
  auto plural_word = [](std::string_view word) {
    while (!word.empty() && (word.back() == ',' || word.back() == ';')) word.remove_suffix(1);
    return word.size() > 2 && word.back() == 's' && !word.ends_with("ss") &&
           !word.ends_with("us") && !word.ends_with("is");
  };
  const std::string_view view = head;
  const std::string_view first = view.substr(0, view.find(' '));
  const size_t last_space = view.rfind(' ');
  const std::string_view last =
      last_space == std::string_view::npos ? view : view.substr(last_space + 1);
  return plural_word(first) || plural_word(last);
}

// "Audit and compliance" -> "for audit and compliance"; "To meet tax law" -> "to meet tax law".
std::string ReasonPhrase(std::string_view reason) {
  std::string text = render_internal::Trim(reason);
  while (!text.empty() && text.back() == '.') text.pop_back();
  if (text.empty()) return "";
  for (std::string_view lead :
       {"for ", "to ", "because ", "as ", "under ", "so ", "in ", "until ", "while "}) {
    if (render_internal::StartsWithNoCase(text, lead)) return LowerFirst(text);
  }
  return "for " + LowerFirst(text);
}

// The anchor event as the end of "… after <event>": "your account is closed".
std::string EventClause(std::string_view after, bool plural) {
  if (after == "closed") return "your account is closed";
  std::string words(after);
  std::replace(words.begin(), words.end(), '_', ' ');
  if (words.ends_with("ed")) return std::string(plural ? "they are " : "it is ") + words;
  return "the " + words + " event";
}

std::string KeptInWords(const Policy& policy, const RetentionRule& rule) {
  if (rule.action != RetentionAction::kAnonymize || rule.keep.empty()) return "";
  std::vector<std::string> kept;
  for (const std::string& field : rule.keep) {
    std::string label = CategoryLabel(policy, field);
    std::replace(label.begin(), label.end(), '_', ' ');
    kept.push_back(LowerFirst(label));
  }
  std::string groups;
  if (rule.min_group > 1) {
    groups = std::string(", and count ") + (kept.size() > 1 ? "them" : "it") +
             " only in groups of at least " + std::to_string(rule.min_group) + " people";
  }
  return " (we keep only a general form of " + JoinLabels(kept) + groups + ")";
}

}  // namespace

std::string DescribeRetentionRule(const Policy& policy, const RetentionRule& rule) {
  // What the rule covers: its record kinds, then the categories that none of
  // those record kinds already stands for.
  std::vector<std::string> labels;
  std::set<std::string> seen;
  std::set<std::string> covered_categories;
  auto add = [&](std::string label) {
    if (seen.insert(render_internal::AsciiLower(label)).second) labels.push_back(std::move(label));
  };
  for (const std::string& id : rule.records) {
    add(RecordKindLabel(policy, id));
    if (const RecordKind* kind = policy.FindRecordKind(id)) {
      covered_categories.insert(kind->category);
    }
  }
  for (const std::string& key : rule.categories) {
    if (!covered_categories.contains(key)) add(CategoryLabel(policy, key));
  }
  if (labels.empty()) labels.push_back("Personal data");

  const bool plural = labels.size() > 1 || LooksPlural(labels.front());
  const std::string subject = UpperFirst(JoinLabels(labels));
  const std::string be = plural ? " are " : " is ";
  const std::string reason = ReasonPhrase(rule.reason);
  const bool anonymize = rule.action == RetentionAction::kAnonymize;
  const std::string anonymized = std::string("anonymized so ") + (plural ? "they" : "it") +
                                 " can no longer identify you" + KeptInWords(policy, rule);
  // How it ends, after ", then " or " and ".
  const std::string action = anonymize ? anonymized : "deleted";
  const std::string duration = rule.duration ? rule.duration->ToString() : "";

  if (rule.anchor == AnchorKind::kWhileActive) {
    std::string out = subject + be + "kept while you are an active customer";
    if (!duration.empty()) {
      out += " and for " + duration + " after your account is closed";
      if (!reason.empty()) out += ", " + reason;
      return out + ", then " + action + ".";
    }
    if (!reason.empty()) out += " (" + reason + ")";
    if (anonymize) {
      return out + " and anonymized when your account is closed so " + (plural ? "they" : "it") +
             " can no longer identify you" + KeptInWords(policy, rule) + ".";
    }
    return out + " and deleted when your account is closed.";
  }

  const std::string event = EventClause(rule.after, plural);
  if (!anonymize && reason.empty()) {
    if (!duration.empty()) return subject + be + "deleted " + duration + " after " + event + ".";
    return subject + be + "deleted when " + event + ".";
  }
  std::string out = subject + be + "kept ";
  out += duration.empty() ? "until " + event : "for " + duration + " after " + event;
  if (!reason.empty()) out += ", " + reason;
  return out + ", then " + action + ".";
}

std::string RenderNotice(const Policy& policy, NoticeFormat format) {
  switch (format) {
    case NoticeFormat::kMarkdown:
      return render_internal::WriteMarkdown(render_internal::BuildNotice(policy));
    case NoticeFormat::kHtml:
      return render_internal::WriteHtml(render_internal::BuildNotice(policy));
    case NoticeFormat::kJson:
      // Invalid UTF-8 in a policy string becomes U+FFFD rather than an exception.
      return PolicyToJson(policy).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
             "\n";
  }
  return "";
}
std::string RightTitle(const std::string& right) { return render_internal::RightTitle(right); }
std::string RightMeaning(const std::string& right) {
  return render_internal::RightMeaning(right);
}

}  // namespace custodian::policy
