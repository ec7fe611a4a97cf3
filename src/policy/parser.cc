#include "policy/parser.h"

#include <fmt/format.h>

#include <array>
#include <cctype>

#include "policy/duration.h"
#include "policy/taxonomy.h"

namespace custodian::policy::internal {
namespace {

using Names = std::span<const std::string_view>;

constexpr std::array<std::string_view, 13> kTopKeys = {
    "version",      "effective", "updated", "organization", "categories", "purposes", "recipients",
    "record_kinds", "retention", "rights",  "cookies",      "security",   "changes"};
constexpr std::array<std::string_view, 9> kOrganizationKeys = {
    "name",      "legal_name", "jurisdiction", "default_region",   "role",
    "role_note", "website",    "contacts",     "grievance_officer"};
constexpr std::array<std::string_view, 3> kGrievanceKeys = {"name", "title", "contacts"};
constexpr std::array<std::string_view, 2> kContactKeys = {"channel", "value"};
constexpr std::array<std::string_view, 7> kContactChannels = {"email", "phone", "whatsapp", "sms",
                                                              "web",   "post",  "in_person"};
constexpr std::array<std::string_view, 2> kRoles = {"controller", "processor"};
constexpr std::array<std::string_view, 7> kCategoryKeys = {
    "label", "description", "sensitive", "source", "index", "normalize", "custom"};
constexpr std::array<std::string_view, 3> kSources = {"provided", "observed", "derived"};
constexpr std::array<std::string_view, 2> kIndexes = {"exact", "none"};
constexpr std::array<std::string_view, 4> kNormalizers = {"text", "phone", "email", "date"};
constexpr std::array<std::string_view, 9> kPurposeKeys = {"label",      "description", "basis",
                                                          "categories", "roles",       "opt_out",
                                                          "channels",   "default",     "custom"};
constexpr std::array<std::string_view, 6> kBases = {"contract",       "legal_obligation",
                                                    "consent",        "legitimate_interest",
                                                    "vital_interest", "public_task"};
constexpr std::array<std::string_view, 5> kOptOuts = {"sms_stop", "whatsapp_stop", "email_link",
                                                      "portal", "operator"};
constexpr std::array<std::string_view, 5> kMarketingChannels = {"sms", "whatsapp", "email", "push",
                                                                "phone"};
constexpr std::array<std::string_view, 2> kDefaults = {"opted_out", "opted_in"};
constexpr std::array<std::string_view, 7> kRecipientKeys = {
    "label", "kind", "purposes", "categories", "country", "description", "notify"};
constexpr std::array<std::string_view, 4> kRecipientKinds = {"processor", "third_party",
                                                             "affiliate", "authority"};
constexpr std::array<std::string_view, 3> kRecordKindKeys = {"label", "category", "anchors"};
// Events every subject or record has; a record kind cannot redeclare them.
constexpr std::array<std::string_view, 3> kBuiltInEvents = {"closed", "collected", "active"};

std::string Quoted(std::string_view noun, std::string_view name) {
  return fmt::format("{} '{}'", noun, name);
}

Normalizer DefaultNormalizer(std::string_view key) {
  auto is_or_under = [&](std::string_view base) {
    return key == base || (key.size() > base.size() && key.substr(0, base.size()) == base &&
                           key[base.size()] == '.');
  };
  if (is_or_under("user.contact.phone_number")) return Normalizer::kPhone;
  if (is_or_under("user.contact.email")) return Normalizer::kEmail;
  if (is_or_under("user.demographic.date_of_birth")) return Normalizer::kDate;
  return Normalizer::kText;
}

template <typename Enum, std::size_t N>
Enum FromName(const std::string& name, const std::array<std::string_view, N>& names) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<Enum>(i);
  }
  return static_cast<Enum>(0);
}

}  // namespace

bool IsIdentifier(std::string_view s) {
  if (s.empty() || !std::islower(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!std::islower(static_cast<unsigned char>(c)) &&
        !std::isdigit(static_cast<unsigned char>(c)) && c != '_') {
      return false;
    }
  }
  return true;
}

bool IsId(std::string_view s) {
  if (s.empty() || !std::islower(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (!std::islower(u) && !std::isdigit(u) && c != '_' && c != '-') return false;
  }
  return true;
}

bool IsDottedKey(std::string_view s) {
  while (true) {
    std::size_t dot = s.find('.');
    if (!IsIdentifier(s.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    s.remove_prefix(dot + 1);
  }
}

std::string ToIdentifier(std::string_view s) {
  std::string out;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      out += static_cast<char>(std::tolower(u));
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

void PolicyParser::Parse(const YAML::Node& root) {
  if (!root.IsMap()) {
    r_.sink().Error(
        r_.Pos(root, {1, 1}),
        fmt::format("a policy must be a mapping of keys (version, effective, "
                    "organization, categories, purposes, ...) at the top level, found {}",
                    YamlReader::Describe(root)));
    for (std::string_view s : kTopKeys) sources_.MarkBroken(std::string(s));
    return;
  }
  std::vector<MapEntry> entries = r_.Entries(root, "", kTopKeys);
  for (const MapEntry& e : entries) {
    const std::string& k = e.key;
    if (k == "version") {
      if (auto v = r_.Text(e, "")) policy_.version = *v;
    } else if (k == "effective" || k == "updated") {
      std::optional<std::string> text = r_.Text(e, "");
      if (!text) continue;
      Result<Date> date = ParseDate(*text);
      if (!date.ok()) {
        r_.sink().Error(r_.ValuePos(e), fmt::format("'{}': {}", k, date.status().message()));
      } else {
        (k == "effective" ? policy_.effective : policy_.updated) = *date;
      }
    } else if (k == "organization") {
      ParseOrganization(e);
    } else if (k == "categories") {
      ParseCategories(e);
    } else if (k == "purposes") {
      ParsePurposes(e);
    } else if (k == "recipients") {
      ParseRecipients(e);
    } else if (k == "record_kinds") {
      ParseRecordKinds(e);
    } else if (k == "retention") {
      ParseRetention(e);
    } else if (k == "rights") {
      ParseRights(e);
    } else if (k == "cookies") {
      ParseCookies(e);
    } else if (k == "security") {
      ParseSecurity(e);
    } else if (k == "changes") {
      ParseChanges(e);
    }
  }
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kRequired = {{
      {"version", "add the policy's version, e.g. version: \"2026.1\""},
      {"effective", "add the date it takes effect, e.g. effective: 2026-04-07"},
      {"organization", "add who you are: organization: with name and jurisdiction"},
      {"categories", "declare the personal data you collect under categories:"},
      {"purposes", "declare why you use it under purposes:"},
      {"retention", "declare how long you keep each category under retention:"},
  }};
  for (const auto& [key, hint] : kRequired) {
    bool present = std::any_of(entries.begin(), entries.end(),
                               [&](const MapEntry& e) { return e.key == key; });
    if (!present) {
      r_.sink().Error({1, 1},
                      fmt::format("missing required key '{}' at the top level; {}", key, hint));
      sources_.MarkBroken(std::string(key));
    }
  }
  FillDefaults();
}

std::vector<MapEntry> PolicyParser::SectionEntries(const MapEntry& e) {
  if (e.value.IsNull()) return {};
  if (!r_.ExpectMap(e, "", false)) {
    sources_.MarkBroken(e.key);
    return {};
  }
  return r_.Entries(e.value, e.key);
}

std::vector<std::string> PolicyParser::ListAt(const MapEntry& e, const std::string& context,
                                              const std::string& path) {
  std::vector<std::string> out;
  sources_.Set(path, e.pos);
  std::optional<std::vector<ListItem>> items = r_.TextList(e, context);
  if (!items) {
    sources_.MarkBroken(path);
    return out;
  }
  for (ListItem& item : *items) {
    sources_.Set(fmt::format("{}/{}", path, out.size()), item.pos);
    out.push_back(std::move(item.value));
  }
  return out;
}

void PolicyParser::CheckId(const std::string& id, SourcePos pos, const std::string& what) {
  if (IsId(id)) return;
  std::string fixed = ToIdentifier(id);
  r_.sink().Error(pos, fmt::format("{} id '{}' is not valid; expected lower-case letters, digits, "
                                   "'_' or '-', starting with a letter{}",
                                   what, id, IsId(fixed) ? fmt::format(", e.g. '{}'", fixed) : ""));
}

void PolicyParser::CheckCountry(const std::string& code, SourcePos pos, const std::string& key,
                                const std::string& context) {
  bool ok = code.size() == 2 && std::isupper(static_cast<unsigned char>(code[0])) &&
            std::isupper(static_cast<unsigned char>(code[1]));
  if (ok) return;
  std::string hint;
  if (code.size() == 2 && std::isalpha(static_cast<unsigned char>(code[0])) &&
      std::isalpha(static_cast<unsigned char>(code[1]))) {
    hint = fmt::format(" (did you mean '{}{}'?)", static_cast<char>(std::toupper(code[0])),
                       static_cast<char>(std::toupper(code[1])));
  }
  r_.sink().Error(pos, fmt::format("'{}'{} must be an ISO 3166-1 alpha-2 country code, two "
                                   "upper-case letters such as 'IN', found '{}'{}",
                                   key, YamlReader::In(context), code, hint));
}

void PolicyParser::RequireKeys(const std::vector<MapEntry>& entries,
                               std::initializer_list<std::string_view> keys, SourcePos pos,
                               const std::string& context) {
  for (std::string_view key : keys) {
    bool present = std::any_of(entries.begin(), entries.end(),
                               [&](const MapEntry& e) { return e.key == key; });
    if (!present) {
      r_.sink().Error(pos,
                      fmt::format("missing required key '{}'{}", key, YamlReader::In(context)));
    }
  }
}

void PolicyParser::ParseOrganization(const MapEntry& e) {
  Organization& org = policy_.organization;
  org.pos = e.pos;
  if (!r_.ExpectMap(e, "", false)) {
    sources_.MarkBroken("organization");
    return;
  }
  const std::string ctx = "organization";
  std::vector<MapEntry> entries = r_.Entries(e.value, ctx, kOrganizationKeys);
  for (const MapEntry& f : entries) {
    const std::string& k = f.key;
    if (k == "contacts") {
      ParseContacts(f, ctx, &org.contacts);
    } else if (k == "grievance_officer") {
      ParseGrievanceOfficer(f);
    } else if (k == "role") {
      if (auto v = r_.OneOf(f, ctx, kRoles)) org.role = *v;
      sources_.Set("organization/role", r_.ValuePos(f));
    } else if (auto v = r_.Text(f, ctx)) {
      if (k == "name") org.name = *v;
      if (k == "legal_name") org.legal_name = *v;
      if (k == "role_note") org.role_note = *v;
      if (k == "website") org.website = *v;
      if (k == "jurisdiction" || k == "default_region") {
        CheckCountry(*v, r_.ValuePos(f), k, ctx);
        (k == "jurisdiction" ? org.jurisdiction : org.default_region) = *v;
      }
    }
  }
  RequireKeys(entries, {"name", "jurisdiction"}, e.pos, ctx);
}

void PolicyParser::ParseContacts(const MapEntry& e, const std::string& owner,
                                 std::vector<ContactChannel>* out) {
  if (!e.value.IsSequence()) {
    r_.sink().Error(r_.ValuePos(e),
                    fmt::format("'contacts' in {} must be a list of contacts (each with 'channel' "
                                "and 'value'), found {}",
                                owner, YamlReader::Describe(e.value)));
    return;
  }
  std::size_t n = 0;
  for (const YAML::Node& item : e.value) {
    std::string ctx = fmt::format("{} contact {}", owner, ++n);
    SourcePos pos = r_.Pos(item, r_.ValuePos(e));
    if (!item.IsMap()) {
      r_.sink().Error(pos, fmt::format("{} must be a mapping with 'channel' and 'value', found {}",
                                       ctx, YamlReader::Describe(item)));
      continue;
    }
    ContactChannel c;
    c.pos = pos;
    std::vector<MapEntry> entries = r_.Entries(item, ctx, kContactKeys);
    for (const MapEntry& f : entries) {
      if (f.key == "channel") {
        if (auto v = r_.OneOf(f, ctx, kContactChannels)) c.channel = *v;
      } else if (auto v = r_.Text(f, ctx)) {
        c.value = *v;
      }
    }
    RequireKeys(entries, {"channel", "value"}, pos, ctx);
    out->push_back(std::move(c));
  }
}

void PolicyParser::ParseGrievanceOfficer(const MapEntry& e) {
  const std::string ctx = "organization.grievance_officer";
  if (!r_.ExpectMap(e, "organization", false)) return;
  GrievanceOfficer& g = policy_.organization.grievance_officer;
  for (const MapEntry& f : r_.Entries(e.value, ctx, kGrievanceKeys)) {
    if (f.key == "contacts") {
      ParseContacts(f, "grievance_officer", &g.contacts);
    } else if (auto v = r_.Text(f, ctx)) {
      (f.key == "name" ? g.name : g.title) = *v;
    }
  }
}

void PolicyParser::ParseCategories(const MapEntry& e) {
  for (const MapEntry& ce : SectionEntries(e)) {
    Category c;
    c.key = ce.key;
    c.pos = ce.pos;
    bool normalize_set = false;
    const std::string ctx = Quoted("category", ce.key);
    if (r_.ExpectMap(ce, "categories", true) && ce.value.IsMap()) {
      for (const MapEntry& f : r_.Entries(ce.value, ctx, kCategoryKeys)) {
        const std::string& k = f.key;
        if (k == "label" || k == "description") {
          if (auto v = r_.Text(f, ctx)) (k == "label" ? c.label : c.description) = *v;
        } else if (k == "sensitive" || k == "custom") {
          if (auto v = r_.Bool(f, ctx)) (k == "sensitive" ? c.sensitive : c.custom) = *v;
        } else if (k == "source") {
          if (auto v = r_.OneOf(f, ctx, kSources)) c.source = FromName<DataSource>(*v, kSources);
        } else if (k == "index") {
          if (auto v = r_.OneOf(f, ctx, kIndexes)) c.index_exact = *v == "exact";
        } else if (k == "normalize") {
          normalize_set = true;
          if (auto v = r_.OneOf(f, ctx, kNormalizers)) {
            c.normalize = FromName<Normalizer>(*v, kNormalizers);
          }
        }
      }
    }
    if (!normalize_set) c.normalize = DefaultNormalizer(c.key);
    policy_.categories.push_back(std::move(c));
  }
}

void PolicyParser::ParsePurposes(const MapEntry& e) {
  for (const MapEntry& pe : SectionEntries(e)) {
    Purpose p;
    p.key = pe.key;
    p.pos = pe.pos;
    const std::string ctx = Quoted("purpose", pe.key);
    const std::string path = "purposes/" + pe.key;
    if (r_.ExpectMap(pe, "purposes", true) && pe.value.IsMap()) {
      for (const MapEntry& f : r_.Entries(pe.value, ctx, kPurposeKeys)) {
        const std::string& k = f.key;
        sources_.Set(path + "/" + k, f.pos);
        if (k == "label" || k == "description") {
          if (auto v = r_.Text(f, ctx)) (k == "label" ? p.label : p.description) = *v;
        } else if (k == "basis") {
          p.basis_pos = r_.ValuePos(f);
          if (auto v = r_.OneOf(f, ctx, kBases)) p.basis = FromName<LegalBasis>(*v, kBases);
        } else if (k == "categories") {
          p.categories = ListAt(f, ctx, path + "/categories");
        } else if (k == "roles") {
          p.roles = ListAt(f, ctx, path + "/roles");
          for (std::size_t i = 0; i < p.roles.size(); ++i) {
            const std::string& role = p.roles[i];
            if (IsIdentifier(role)) continue;
            std::string fixed = ToIdentifier(role);
            r_.sink().Error(
                sources_.Get(fmt::format("{}/roles/{}", path, i), f.pos),
                fmt::format("role '{}' in {} is not a valid role name; expected a lower-case "
                            "identifier (letters, digits, '_'){}",
                            role, ctx,
                            IsIdentifier(fixed) ? fmt::format(", e.g. '{}'", fixed) : ""));
          }
        } else if (k == "opt_out" || k == "channels") {
          std::optional<std::vector<ListItem>> items =
              r_.OneOfList(f, ctx, k == "opt_out" ? Names(kOptOuts) : Names(kMarketingChannels));
          // Some item was wrong, and said so: an empty list is not news.
          if (!items || items->size() != (f.value.IsSequence() ? f.value.size() : 0)) {
            sources_.MarkBroken(path + "/" + k);
          }
          if (!items) continue;
          for (ListItem& item : *items) {
            auto& list = k == "opt_out" ? p.opt_out : p.channels;
            sources_.Set(fmt::format("{}/{}/{}", path, k, list.size()), item.pos);
            list.push_back(std::move(item.value));
          }
        } else if (k == "default") {
          if (auto v = r_.OneOf(f, ctx, kDefaults)) p.default_granted = *v == "opted_in";
        } else if (k == "custom") {
          if (auto v = r_.Bool(f, ctx)) p.custom = *v;
        }
      }
    }
    policy_.purposes.push_back(std::move(p));
  }
}

void PolicyParser::ParseRecipients(const MapEntry& e) {
  for (const MapEntry& re : SectionEntries(e)) {
    Recipient rec;
    rec.id = re.key;
    rec.pos = re.pos;
    CheckId(re.key, re.pos, "recipient");
    const std::string ctx = Quoted("recipient", re.key);
    const std::string path = "recipients/" + re.key;
    if (r_.ExpectMap(re, "recipients", false)) {
      std::vector<MapEntry> entries = r_.Entries(re.value, ctx, kRecipientKeys);
      for (const MapEntry& f : entries) {
        const std::string& k = f.key;
        sources_.Set(path + "/" + k, f.pos);
        if (k == "kind") {
          if (auto v = r_.OneOf(f, ctx, kRecipientKinds)) {
            rec.kind = FromName<RecipientKind>(*v, kRecipientKinds);
          }
        } else if (k == "purposes" || k == "categories") {
          (k == "purposes" ? rec.purposes : rec.categories) = ListAt(f, ctx, path + "/" + k);
        } else if (auto v = r_.Text(f, ctx)) {
          if (k == "label") rec.label = *v;
          if (k == "description") rec.description = *v;
          if (k == "notify") {
            // Where the recipient takes notices of corrections, erasures and
            // restrictions (GDPR art. 19): one email address.
            const std::size_t at = v->find('@');
            if (at == std::string::npos || at == 0 || at + 1 == v->size() ||
                v->find('@', at + 1) != std::string::npos ||
                v->find_first_of(" \t<>,;") != std::string::npos) {
              r_.sink().Error(r_.ValuePos(f),
                              fmt::format("'notify' in {} must be one email address (where the "
                                          "recipient takes notices of corrections and erasures), "
                                          "found '{}'",
                                          ctx, *v));
            } else {
              rec.notify = *v;
            }
          }
          if (k == "country") {
            CheckCountry(*v, r_.ValuePos(f), k, ctx);
            rec.country = *v;
          }
        }
      }
      RequireKeys(entries, {"label", "kind"}, re.pos, ctx);
    }
    policy_.recipients.push_back(std::move(rec));
  }
}

void PolicyParser::ParseRecordKinds(const MapEntry& e) {
  for (const MapEntry& ke : SectionEntries(e)) {
    RecordKind kind;
    kind.id = ke.key;
    kind.pos = ke.pos;
    CheckId(ke.key, ke.pos, "record kind");
    const std::string ctx = Quoted("record kind", ke.key);
    const std::string path = "record_kinds/" + ke.key;
    if (r_.ExpectMap(ke, "record_kinds", false)) {
      std::vector<MapEntry> entries = r_.Entries(ke.value, ctx, kRecordKindKeys);
      for (const MapEntry& f : entries) {
        if (f.key == "anchors") {
          kind.anchors = ListAt(f, ctx, path + "/anchors");
          for (std::size_t i = 0; i < kind.anchors.size(); ++i) {
            const std::string& a = kind.anchors[i];
            SourcePos pos = sources_.Get(fmt::format("{}/anchors/{}", path, i), f.pos);
            if (std::find(kBuiltInEvents.begin(), kBuiltInEvents.end(), a) !=
                kBuiltInEvents.end()) {
              r_.sink().Error(pos, fmt::format("anchor '{}' in {} is built in; remove it from "
                                               "'anchors' (declare only events of your own, "
                                               "such as 'verified')",
                                               a, ctx));
            } else if (!IsIdentifier(a)) {
              r_.sink().Error(pos, fmt::format("anchor '{}' in {} is not a valid event name; "
                                               "expected a lower-case identifier such as "
                                               "'verified'",
                                               a, ctx));
            }
          }
        } else if (auto v = r_.Text(f, ctx)) {
          if (f.key == "label") kind.label = *v;
          if (f.key == "category") {
            kind.category = *v;
            sources_.Set(path + "/category", r_.ValuePos(f));
          }
        }
      }
      RequireKeys(entries, {"label", "category"}, ke.pos, ctx);
    }
    policy_.record_kinds.push_back(std::move(kind));
  }
}

}  // namespace custodian::policy::internal
