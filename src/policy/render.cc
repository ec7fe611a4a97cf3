// RenderNotice's dispatch, DescribeRetentionRule, and the small word helpers
// the notice is written with (render_internal.h).

#include "policy/render.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <set>
#include <utility>

#include "policy/render_internal.h"
#include "policy/taxonomy.h"

namespace custodian::policy {
namespace render_internal {
namespace {

bool IsAsciiUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsAsciiLower(char c) { return c >= 'a' && c <= 'z'; }

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (IsAsciiUpper(c)) c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && AsciiLower(text.substr(0, prefix.size())) == prefix;
}

std::string Trim(std::string_view text) {
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return std::string(text.substr(begin, end - begin));
}

std::string DigitsOf(std::string_view text, bool keep_plus) {
  std::string out;
  for (char c : text) {
    if (std::isdigit(static_cast<unsigned char>(c)) || (keep_plus && c == '+' && out.empty())) {
      out += c;
    }
  }
  return out;
}

}  // namespace

Inline Text(std::string text) { return {Span{Span::Kind::kText, std::move(text), {}}}; }
Inline Strong(std::string text) { return {Span{Span::Kind::kStrong, std::move(text), {}}}; }

std::string CategoryLabel(const Policy& policy, const std::string& key) {
  if (const Category* c = policy.FindCategory(key); c != nullptr && !c->label.empty()) {
    return c->label;
  }
  if (const char* label = TaxonomyLabel(TaxonomyKind::kDataCategory, key)) return label;
  return key;
}

std::string PurposeLabel(const Policy& policy, const std::string& key) {
  if (const Purpose* p = policy.FindPurpose(key); p != nullptr && !p->label.empty()) {
    return p->label;
  }
  if (const char* label = TaxonomyLabel(TaxonomyKind::kDataUse, key)) return label;
  return key;
}

std::string RecordKindLabel(const Policy& policy, const std::string& id) {
  if (const RecordKind* r = policy.FindRecordKind(id); r != nullptr && !r->label.empty()) {
    return r->label;
  }
  std::string words = id;
  std::replace(words.begin(), words.end(), '_', ' ');
  return UpperFirst(words);
}

std::string LowerFirst(std::string_view text) {
  if (text.empty() || !IsAsciiUpper(text[0])) return std::string(text);
  // Only a plain capitalised word is lowered: acronyms ("IP"), brands with
  // inner capitals ("WhatsApp"), codes ("4G") and letters ("A/B") keep their case.
  size_t i = 1;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (IsAsciiLower(c) || c == '-' || c == '\'') continue;
    if (IsAsciiUpper(c) || (c >= '0' && c <= '9')) return std::string(text);
    break;  // the end of the first word
  }
  if (i == 1 && i < text.size() && text[i] != ' ') return std::string(text);
  std::string out(text);
  out[0] = static_cast<char>(out[0] - 'A' + 'a');
  return out;
}

std::string UpperFirst(std::string_view text) {
  std::string out(text);
  if (!out.empty() && IsAsciiLower(out[0])) out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

std::string JoinWords(const std::vector<std::string>& items, std::string_view conjunction) {
  // "a, b and c" is ambiguous when an item holds a comma; two items are not.
  const bool has_comma =
      items.size() > 2 && std::any_of(items.begin(), items.end(), [](const std::string& s) {
        return s.find(',') != std::string::npos;
      });
  const std::string separator = has_comma ? "; " : ", ";
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) {
      if (i + 1 < items.size()) {
        out += separator;
      } else {
        out += has_comma ? "; " : " ";
        out += conjunction;
        out += ' ';
      }
    }
    out += items[i];
  }
  return out;
}

std::string JoinLabels(const std::vector<std::string>& labels, std::string_view conjunction) {
  std::vector<std::string> words;
  words.reserve(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    words.push_back(i == 0 ? labels[i] : LowerFirst(labels[i]));
  }
  return JoinWords(words, conjunction);
}

std::string CountryName(std::string_view iso_code) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 44> kNames = {{
      {"AE", "the United Arab Emirates"},
      {"AT", "Austria"},
      {"AU", "Australia"},
      {"BD", "Bangladesh"},
      {"BE", "Belgium"},
      {"BR", "Brazil"},
      {"CA", "Canada"},
      {"CH", "Switzerland"},
      {"CN", "China"},
      {"CZ", "Czechia"},
      {"DE", "Germany"},
      {"DK", "Denmark"},
      {"ES", "Spain"},
      {"FI", "Finland"},
      {"FR", "France"},
      {"GB", "the United Kingdom"},
      {"GR", "Greece"},
      {"HK", "Hong Kong"},
      {"ID", "Indonesia"},
      {"IE", "Ireland"},
      {"IN", "India"},
      {"IQ", "Iraq"},
      {"IT", "Italy"},
      {"JP", "Japan"},
      {"KR", "South Korea"},
      {"LK", "Sri Lanka"},
      {"MY", "Malaysia"},
      {"NL", "the Netherlands"},
      {"NO", "Norway"},
      {"NP", "Nepal"},
      {"NZ", "New Zealand"},
      {"PH", "the Philippines"},
      {"PK", "Pakistan"},
      {"PL", "Poland"},
      {"PT", "Portugal"},
      {"SA", "Saudi Arabia"},
      {"SE", "Sweden"},
      {"SG", "Singapore"},
      {"TH", "Thailand"},
      {"TR", "Türkiye"},
      {"US", "the United States"},
      {"VN", "Vietnam"},
      {"ZA", "South Africa"},
      {"EU", "the European Union"},
  }};
  for (const auto& [code, name] : kNames) {
    if (code == iso_code) return std::string(name);
  }
  return std::string(iso_code);
}

std::string HumanDate(const Date& date) {
  static constexpr std::array<const char*, 12> kMonths = {
      "January", "February", "March",     "April",   "May",      "June",
      "July",    "August",   "September", "October", "November", "December"};
  if (date.month < 1 || date.month > 12 || date.day < 1) return date.ToString();
  return std::to_string(date.day) + " " + kMonths[date.month - 1] + " " + std::to_string(date.year);
}

std::string ContactChannelName(std::string_view channel) {
  if (channel == "email") return "Email";
  if (channel == "phone") return "Phone";
  if (channel == "whatsapp") return "WhatsApp";
  if (channel == "sms") return "SMS";
  if (channel == "web") return "Web";
  if (channel == "post") return "Post";
  if (channel == "in_person") return "In person";
  return std::string(channel);
}

std::string OptOutInWords(std::string_view channel) {
  if (channel == "sms_stop") return "reply STOP to any promotional SMS";
  if (channel == "whatsapp_stop") return "reply STOP on WhatsApp";
  if (channel == "email_link") return "use the unsubscribe link in any marketing email";
  if (channel == "portal") return "change your choices in the privacy portal";
  if (channel == "operator") return "ask our staff using the contacts in this notice";
  return std::string(channel);
}

std::string SafeHref(std::string_view url) {
  if (!StartsWithNoCase(url, "https://") && !StartsWithNoCase(url, "http://") &&
      !StartsWithNoCase(url, "mailto:") && !StartsWithNoCase(url, "tel:")) {
    return "";
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return "";
    if (c == '"' || c == '\'' || c == '<' || c == '>' || c == '(' || c == ')' || c == '\\' ||
        c == '`') {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

Span ContactSpan(const ContactChannel& contact) {
  const std::string& value = contact.value;
  std::string href;
  if (contact.channel == "email" && value.find('@') != std::string::npos) {
    href = SafeHref("mailto:" + value);
  } else if (contact.channel == "phone" || contact.channel == "sms") {
    const std::string digits = DigitsOf(value, /*keep_plus=*/true);
    if (digits.size() >= 3) href = "tel:" + digits;
  } else if (contact.channel == "whatsapp") {
    const std::string digits = DigitsOf(value, /*keep_plus=*/false);
    if (digits.size() >= 6) href = "https://wa.me/" + digits;
  } else if (contact.channel == "web") {
    // "www.example.com" is taken as a https URL; anything else needs its scheme.
    const bool bare_host =
        value.find(':') == std::string::npos && value.find('.') != std::string::npos;
    href = SafeHref(bare_host ? "https://" + value : value);
  }
  if (href.empty()) return Span{Span::Kind::kText, value, {}};
  return Span{Span::Kind::kLink, value, href};
}

}  // namespace render_internal

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
  return " (we keep only a general form of " + JoinLabels(kept) + ")";
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

}  // namespace custodian::policy
