// The words the notice is written with (render_internal.h): labels, lists,
// countries, dates, contacts and the fixed phrases for each policy value.

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <utility>

#include "policy/jurisdiction.h"
#include "policy/render_internal.h"
#include "policy/taxonomy.h"

namespace custodian::policy::render_internal {
namespace {

bool IsAsciiUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsAsciiLower(char c) { return c >= 'a' && c <= 'z'; }

std::string DigitsOf(std::string_view text, bool keep_plus) {
  std::string out;
  for (char c : text) {
    if (std::isdigit(static_cast<unsigned char>(c)) || (keep_plus && c == '+' && out.empty())) {
      out += c;
    }
  }
  return out;
}

std::string Days(int64_t n) { return std::to_string(n) + (n == 1 ? " day" : " days"); }

}  // namespace

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

std::string SourceInWords(DataSource source) {
  switch (source) {
    case DataSource::kProvided:
      return "Provided by you";
    case DataSource::kObserved:
      return "Recorded automatically";
    case DataSource::kDerived:
      return "Derived from other data";
  }
  return "";
}

std::string RecipientKindInWords(RecipientKind kind) {
  switch (kind) {
    case RecipientKind::kProcessor:
      return "a service provider that handles the data on our behalf and on our instructions "
             "(processor)";
    case RecipientKind::kThirdParty:
      return "an independent organisation that decides for itself how to use the data "
             "(third party)";
    case RecipientKind::kAffiliate:
      return "a company related to us (affiliate)";
    case RecipientKind::kAuthority:
      return "a public authority, regulator or law enforcement body (authority)";
  }
  return "";
}

std::string MarketingChannelName(const std::string& channel) {
  if (channel == "push") return "push notifications";
  if (channel == "phone") return "phone calls";
  const std::string name = ContactChannelName(channel);
  return name == "Email" ? "email" : name;
}

std::string RightTitle(const std::string& name) {
  static const std::map<std::string, std::string> kTitles = {
      {"access", "Access your data"},
      {"correction", "Correct your data"},
      {"erasure", "Delete your data"},
      {"objection", "Object to a use of your data"},
      {"restriction", "Restrict how we use your data"},
      {"portability", "Take your data elsewhere"},
      {"consent_withdrawal", "Withdraw your consent"},
      {"grievance", "Raise a grievance"},
  };
  if (auto it = kTitles.find(name); it != kTitles.end()) return it->second;
  std::string words = name;
  for (char& c : words) {
    if (c == '_') c = ' ';
  }
  return UpperFirst(words);
}

std::string RightMeaning(const std::string& name) {
  if (name == "access") return "See the personal data we hold about you and get a copy.";
  if (name == "correction") return "Have inaccurate or incomplete data corrected.";
  if (name == "erasure") return "Have your personal data deleted.";
  if (name == "objection") {
    return "Object to a use of your data that relies on our legitimate interests.";
  }
  if (name == "restriction") return "Ask us to limit how we use your data for a while.";
  if (name == "portability") {
    return "Receive your data in a machine-readable format, or have it sent to another "
           "organisation.";
  }
  if (name == "consent_withdrawal") {
    return "Withdraw consent you gave, at any time (see Marketing and how to opt out).";
  }
  if (name == "grievance") return "Complain about how we handle your data (see Grievance officer).";
  return "";
}

std::string VerificationInWords(const std::string& method) {
  if (method == "otp") return "A one-time code (OTP) sent to your contact details on file";
  if (method == "operator") return "A member of our staff checks your identity";
  if (method == "none") return "No identity check";
  return method;
}

std::string DeadlineInWords(const Policy& policy, const Right& right) {
  const ResolvedDeadline d = ResolveDeadline(policy, right);
  std::string out = Days(d.days);
  if (!d.from_policy && !d.law.empty()) out += " (the default under " + d.law + ")";
  if (d.extension_days > 0) {
    out += ", or up to " + Days(d.extension_days) + " more where the law allows";
  }
  return out;
}

ResolvedDeadline ResolveDeadline(const Policy& policy, const Right& right) {
  const JurisdictionDefaults defaults = DefaultsFor(policy.organization.jurisdiction);
  const bool grievance = right.name == "grievance";
  const int64_t default_days =
      grievance ? defaults.grievance_deadline_days : defaults.rights_deadline_days;
  const int64_t default_extension = grievance ? 0 : defaults.extension_days;
  ResolvedDeadline d;
  d.law = defaults.law;
  // The loader fills the defaults into the model, so a value equal to the
  // default is reported as the default: it is what the law sets either way.
  d.days = right.deadline_days.value_or(default_days);
  d.from_policy = d.days != default_days;
  d.extension_days = right.extension_days.value_or(default_extension);
  d.extension_from_policy = d.extension_days != default_extension;
  return d;
}

std::string ResolveVerification(const Policy& policy, const Right& right) {
  return right.verification.empty() ? policy.rights_verification : right.verification;
}

}  // namespace custodian::policy::render_internal
