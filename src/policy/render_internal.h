// Internals of the notice renderer (policy/render.h), shared by its files.
//
// The notice is built once as a small format-neutral document (sections of
// paragraphs, lists and tables whose text is plain, unescaped policy text) and
// then written as markdown or HTML; each writer escapes every piece of text it
// emits. Tests use the escaping functions to find policy strings in the output.
// Pure functions over value types; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "policy/model.h"
#include "policy/render.h"

namespace custodian::policy::render_internal {

// A run of text. Links carry an href that SafeHref() accepted; times carry an
// ISO date for machines.
struct Span {
  enum class Kind { kText, kStrong, kLink, kTime };
  Kind kind = Kind::kText;
  std::string text;
  std::string target;  // kLink: href; kTime: YYYY-MM-DD
};
using Inline = std::vector<Span>;

Inline Text(std::string text);
Inline Strong(std::string text);

struct Table {
  std::string caption;
  std::vector<std::string> headers;       // column headers
  std::vector<std::vector<Inline>> rows;  // the first cell of a row is its header
};

struct Block {
  enum class Kind { kParagraph, kSubheading, kList, kTable };
  Kind kind = Kind::kParagraph;
  Inline text;                // kParagraph, kSubheading
  std::vector<Inline> items;  // kList
  Table table;                // kTable
};

struct Section {
  std::string id;     // HTML id and markdown anchor: "how-long-we-keep-it"
  std::string title;  // "How long we keep it"
  std::vector<Block> blocks;
};

struct NoticeDocument {
  std::string title;  // "Interjet privacy notice"
  Inline subtitle;    // version and effective date
  std::vector<Section> sections;
  Inline footer;
};

// The notice's content, in order: who we are ... version. Every section is
// always present (with a sentence saying so when the policy has nothing for it).
NoticeDocument BuildNotice(const Policy& policy);

std::string WriteMarkdown(const NoticeDocument& doc);
std::string WriteHtml(const NoticeDocument& doc);

// Escaping: the exact form in which a plain policy string appears in the output.
using policy::EscapeHtml;  // render.h
std::string EscapeMarkdown(std::string_view text);  // \ ` * _ [ ] < > | ~, newlines to spaces

// `url` when it is an http(s), mailto or tel URL with no whitespace or control
// characters (quotes, brackets and parentheses percent-encoded); "" otherwise,
// so that a policy can never smuggle a javascript: link into the notice.
std::string SafeHref(std::string_view url);

// --- words shared by the notice and by DescribeRetentionRule -----------------

// The category's label, else its taxonomy label, else the key itself.
std::string CategoryLabel(const Policy& policy, const std::string& key);
std::string PurposeLabel(const Policy& policy, const std::string& key);
std::string RecordKindLabel(const Policy& policy, const std::string& id);
std::string AsciiLower(std::string_view text);
bool StartsWithNoCase(std::string_view text, std::string_view prefix);  // prefix in lower case
std::string Trim(std::string_view text);  // ASCII whitespace at both ends
// "Name" -> "name" but "IP address", "WhatsApp chats" and "MAC address" unchanged.
std::string LowerFirst(std::string_view text);
std::string UpperFirst(std::string_view text);
// "a", "a and b", "a, b and c"; items are separated by "; " when one holds a comma.
std::string JoinWords(const std::vector<std::string>& items, std::string_view conjunction = "and");
// Items after the first go through LowerFirst; for lists inside a sentence.
std::string JoinLabels(const std::vector<std::string>& labels,
                       std::string_view conjunction = "and");
// "IN" -> "India"; unknown codes come back unchanged.
std::string CountryName(std::string_view iso_code);
// "1 January 2025"
std::string HumanDate(const Date& date);
// "email" -> "Email", "whatsapp" -> "WhatsApp"; unknown channels unchanged.
std::string ContactChannelName(std::string_view channel);
// "sms_stop" -> "reply STOP to any promotional SMS"; unknown channels unchanged.
std::string OptOutInWords(std::string_view channel);
// "Provided by you", "Recorded automatically", "Derived from other data".
std::string SourceInWords(DataSource source);
// "a service provider that handles the data on our behalf ... (processor)".
std::string RecipientKindInWords(RecipientKind kind);
// A purpose's marketing channel: "sms" -> "SMS", "push" -> "push notifications".
std::string MarketingChannelName(const std::string& channel);
// "erasure" -> "Delete your data", and what the right lets the person do.
std::string RightTitle(const std::string& name);
std::string RightMeaning(const std::string& name);  // "" for a right we have no words for
// "otp" -> "A one-time code (OTP) sent to your contact details on file".
std::string VerificationInWords(const std::string& method);
// "90 days (the default under DPDP ...)", "30 days (...), or up to 60 days more ...".
std::string DeadlineInWords(const Policy& policy, const Right& right);

// A right's response deadline: the policy's own, else the jurisdiction's default
// (DefaultsFor); grievances use the grievance default and no extension. A value
// equal to the default counts as the default (`from_policy` false).
struct ResolvedDeadline {
  int64_t days = 0;
  bool from_policy = false;
  int64_t extension_days = 0;  // 0 = no extension
  bool extension_from_policy = false;
  std::string law;  // the jurisdiction's law, "" when unknown
};
ResolvedDeadline ResolveDeadline(const Policy& policy, const Right& right);
// The right's verification method, else the policy's rights.verification.
std::string ResolveVerification(const Policy& policy, const Right& right);
// A contact as a span: a link for email, phone and web contacts.
Span ContactSpan(const ContactChannel& contact);

}  // namespace custodian::policy::render_internal
