// PolicyParser: retention, rights, cookies, security, changes and defaults.
#include <fmt/format.h>

#include <array>

#include "policy/duration.h"
#include "policy/jurisdiction.h"
#include "policy/parser.h"
#include "policy/taxonomy.h"

namespace custodian::policy::internal {
namespace {

constexpr std::array<std::string_view, 10> kRuleKeys = {
    "name", "categories", "records", "while", "after", "for", "action", "keep", "min_group",
    "reason"};
constexpr int64_t kMaxMinGroup = 1'000'000;
constexpr std::array<std::string_view, 1> kWhile = {"active"};
constexpr std::array<std::string_view, 2> kActions = {"delete", "anonymize"};
constexpr std::array<std::string_view, 9> kRightsKeys = {
    "verification", "access",      "correction", "erasure",           "objection",
    "restriction",  "portability", "grievance",  "consent_withdrawal"};
constexpr std::array<std::string_view, 6> kRightKeys = {
    "deadline_days", "extension_days", "verification", "self_service", "exceptions", "how"};
constexpr std::array<std::string_view, 3> kVerifications = {"otp", "operator", "none"};
constexpr std::array<std::string_view, 5> kCookieKeys = {"label", "purpose", "consent", "examples",
                                                         "description"};
constexpr std::array<std::string_view, 2> kSecurityKeys = {"label", "enforced"};
constexpr std::array<std::string_view, 3> kChangesKeys = {"notice", "url", "text"};
constexpr std::array<std::string_view, 2> kNotices = {"posted", "opt_in_out"};
// Ten years: longer than any law's deadline, small enough for date arithmetic.
constexpr int64_t kMaxDeadlineDays = 3650;

bool Has(const std::vector<MapEntry>& entries, std::string_view key) {
  return std::any_of(entries.begin(), entries.end(),
                     [&](const MapEntry& e) { return e.key == key; });
}

const MapEntry* Find(const std::vector<MapEntry>& entries, std::string_view key) {
  for (const MapEntry& e : entries) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

}  // namespace

void PolicyParser::ParseRetention(const MapEntry& e) {
  if (!e.value.IsSequence()) {
    r_.sink().Error(r_.ValuePos(e),
                    fmt::format("'retention' must be a list of rules (each starting with '- '), "
                                "found {}",
                                YamlReader::Describe(e.value)));
    sources_.MarkBroken("retention");
    return;
  }
  std::size_t index = 0;
  // An empty item ('- ' alone) has no place of its own in yaml-cpp: the
  // list's is given instead, and the message names the item's number.
  for (const YAML::Node& node : e.value) ParseRetentionRule(node, index++, r_.ValuePos(e));
}

void PolicyParser::ParseRetentionRule(const YAML::Node& node, std::size_t index,
                                      SourcePos list_pos) {
  RetentionRule rule;
  rule.pos = r_.Pos(node, list_pos);
  rule.name = fmt::format("retention[{}]", index + 1);
  // The name first, so that every message about the rule can use it. (Not
  // node["name"]: on a mapping without the key, yaml-cpp then throws.)
  if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      if (key.IsScalar() && key.Scalar() == "name" && value.IsScalar() && !value.Scalar().empty()) {
        rule.name = value.Scalar();
        break;
      }
    }
  }
  const std::string ctx = fmt::format("retention rule '{}'", rule.name);
  if (!node.IsMap()) {
    r_.sink().Error(rule.pos, fmt::format("{} must be a mapping (categories, records, while or "
                                          "after, for, action...), found {}",
                                          ctx, YamlReader::Describe(node)));
    policy_.retention.push_back(std::move(rule));
    return;
  }
  const std::string path = fmt::format("retention/{}", index);
  std::vector<MapEntry> entries = r_.Entries(node, ctx, kRuleKeys);
  for (const MapEntry& f : entries) {
    const std::string& k = f.key;
    sources_.Set(path + "/" + k, f.pos);
    if (k == "categories" || k == "records" || k == "keep") {
      std::vector<std::string> list = ListAt(f, ctx, path + "/" + k);
      (k == "categories" ? rule.categories : k == "records" ? rule.records : rule.keep) = list;
    } else if (k == "while") {
      if (r_.OneOf(f, ctx, kWhile)) rule.anchor = AnchorKind::kWhileActive;
    } else if (k == "min_group") {
      if (auto v = r_.Integer(f, ctx)) {
        if (*v < 1 || *v > kMaxMinGroup) {
          r_.sink().Error(r_.ValuePos(f),
                          fmt::format("{}: 'min_group' must be a whole number from 1 to {} (the "
                                      "fewest accounts a reported group of kept values may "
                                      "hold), found {}",
                                      ctx, kMaxMinGroup, *v));
        } else {
          rule.min_group = *v;
        }
      }
    } else if (k == "action") {
      if (auto v = r_.OneOf(f, ctx, kActions)) {
        rule.action = *v == "anonymize" ? RetentionAction::kAnonymize : RetentionAction::kDelete;
      }
    } else if (auto v = r_.Text(f, ctx)) {
      if (k == "name") {
        CheckId(*v, r_.ValuePos(f), "retention rule");
        bool taken = std::any_of(policy_.retention.begin(), policy_.retention.end(),
                                 [&](const RetentionRule& other) { return other.name == *v; });
        if (taken) {
          r_.sink().Error(r_.ValuePos(f), fmt::format("retention rule name '{}' is used by an "
                                                      "earlier rule; give each rule its own name",
                                                      *v));
        }
      } else if (k == "after") {
        rule.anchor = AnchorKind::kAfterEvent;
        rule.after = *v;
        sources_.Set(path + "/after", r_.ValuePos(f));
      } else if (k == "for") {
        Result<Duration> d = ParseDuration(*v);
        if (d.ok()) {
          rule.duration = *d;
        } else {
          r_.sink().Error(r_.ValuePos(f), fmt::format("{}: {}", ctx, d.status().message()));
        }
      } else if (k == "reason") {
        rule.reason = *v;
      }
    }
  }
  const MapEntry* while_key = Find(entries, "while");
  const MapEntry* after_key = Find(entries, "after");
  const MapEntry* for_key = Find(entries, "for");
  if (while_key && after_key) {
    r_.sink().Error(after_key->pos,
                    fmt::format("{} has both 'while' and 'after'; use one: 'while: active' keeps "
                                "data while the account is active, 'after: EVENT' with 'for: "
                                "DURATION' keeps it for a time after an event",
                                ctx));
  } else if (!while_key && !after_key) {
    r_.sink().Error(rule.pos, fmt::format("{} has neither 'while' nor 'after'; add 'while: "
                                          "active', or 'after: EVENT' with 'for: DURATION'",
                                          ctx));
  } else if (after_key && !for_key) {
    r_.sink().Error(after_key->pos,
                    fmt::format("{} has 'after' but no 'for'; add how long to keep the data after "
                                "the event, e.g. 'for: 12 months'",
                                ctx));
  } else if (while_key && for_key) {
    r_.sink().Error(for_key->pos,
                    fmt::format("{} has 'for' with 'while: active'; data kept while active is due "
                                "when the account closes. To keep it longer, use 'after: closed' "
                                "with 'for'",
                                ctx));
  }
  if (!Has(entries, "categories") && !Has(entries, "records")) {
    r_.sink().Error(rule.pos, fmt::format("{} covers nothing; list the 'categories' and/or "
                                          "'records' it applies to",
                                          ctx));
  }
  const MapEntry* keep_key = Find(entries, "keep");
  if (keep_key && rule.action != RetentionAction::kAnonymize) {
    r_.sink().Error(keep_key->pos, fmt::format("{} has 'keep' but its action is not 'anonymize'; "
                                               "'keep' lists the categories that "
                                               "'action: anonymize' keeps in generalized form",
                                               ctx));
  }
  const MapEntry* min_group_key = Find(entries, "min_group");
  if (min_group_key && (rule.action != RetentionAction::kAnonymize || !keep_key)) {
    r_.sink().Error(min_group_key->pos,
                    fmt::format("{} has 'min_group' but nothing to report: 'min_group' applies "
                                "to what 'action: anonymize' keeps ('keep')",
                                ctx));
  }
  policy_.retention.push_back(std::move(rule));
}

void PolicyParser::ParseRights(const MapEntry& e) {
  if (e.value.IsNull()) return;
  if (!r_.ExpectMap(e, "", false)) {
    sources_.MarkBroken("rights");
    return;
  }
  for (const MapEntry& f : r_.Entries(e.value, "rights", kRightsKeys)) {
    if (f.key == "verification") {
      if (auto v = r_.OneOf(f, "rights", kVerifications)) policy_.rights_verification = *v;
    } else {
      ParseRight(f);
    }
  }
}

void PolicyParser::ParseRight(const MapEntry& e) {
  Right right;
  right.name = e.key;
  right.pos = e.pos;
  const std::string ctx = fmt::format("right '{}'", e.key);
  const std::string path = "rights/" + e.key;
  if (r_.ExpectMap(e, "rights", true) && e.value.IsMap()) {
    for (const MapEntry& f : r_.Entries(e.value, ctx, kRightKeys)) {
      const std::string& k = f.key;
      if (k == "deadline_days" || k == "extension_days") {
        std::optional<int64_t> days = r_.Integer(f, ctx);
        if (!days) continue;
        bool deadline = k == "deadline_days";
        if (deadline && *days <= 0) {
          r_.sink().Error(r_.ValuePos(f),
                          fmt::format("'deadline_days' in {} must be a positive number of days, "
                                      "found {}",
                                      ctx, *days));
        } else if (*days < 0) {
          r_.sink().Error(r_.ValuePos(f),
                          fmt::format("'extension_days' in {} must be zero or a positive number "
                                      "of days, found {}",
                                      ctx, *days));
        } else if (*days > kMaxDeadlineDays) {
          r_.sink().Error(r_.ValuePos(f),
                          fmt::format("'{}' in {} must be at most {} days, found {}", k, ctx,
                                      kMaxDeadlineDays, *days));
        } else {
          (deadline ? right.deadline_days : right.extension_days) = *days;
        }
      } else if (k == "verification") {
        if (auto v = r_.OneOf(f, ctx, kVerifications)) right.verification = *v;
      } else if (k == "self_service") {
        if (e.key != "correction") {
          r_.sink().Error(f.pos, fmt::format("'self_service' applies only to the correction "
                                             "right (the categories people may correct "
                                             "themselves), not to {}",
                                             ctx));
          continue;
        }
        right.self_service = ListAt(f, ctx, path + "/self_service");
      } else if (k == "exceptions") {
        right.exceptions = ListAt(f, ctx, path + "/exceptions");
      } else if (auto v = r_.Text(f, ctx)) {
        right.how = *v;
      }
    }
  }
  policy_.rights.push_back(std::move(right));
}

void PolicyParser::ParseCookies(const MapEntry& e) {
  for (const MapEntry& ce : SectionEntries(e)) {
    CookieCategory cookie;
    cookie.id = ce.key;
    cookie.pos = ce.pos;
    CheckId(ce.key, ce.pos, "cookie category");
    const std::string ctx = fmt::format("cookie category '{}'", ce.key);
    const std::string path = "cookies/" + ce.key;
    if (r_.ExpectMap(ce, "cookies", false)) {
      std::vector<MapEntry> entries = r_.Entries(ce.value, ctx, kCookieKeys);
      for (const MapEntry& f : entries) {
        const std::string& k = f.key;
        sources_.Set(path + "/" + k, r_.ValuePos(f));
        if (k == "consent") {
          if (auto v = r_.Bool(f, ctx)) cookie.consent_required = *v;
        } else if (k == "examples") {
          cookie.examples = ListAt(f, ctx, path + "/examples");
        } else if (auto v = r_.Text(f, ctx)) {
          if (k == "label") cookie.label = *v;
          if (k == "purpose") cookie.purpose = *v;
          if (k == "description") cookie.description = *v;
        }
      }
      RequireKeys(entries, {"label", "purpose"}, ce.pos, ctx);
    }
    policy_.cookies.push_back(std::move(cookie));
  }
}

void PolicyParser::ParseSecurity(const MapEntry& e) {
  for (const MapEntry& me : SectionEntries(e)) {
    SecurityMeasure measure;
    measure.id = me.key;
    measure.pos = me.pos;
    CheckId(me.key, me.pos, "security measure");
    const std::string ctx = fmt::format("security measure '{}'", me.key);
    if (r_.ExpectMap(me, "security", false)) {
      std::vector<MapEntry> entries = r_.Entries(me.value, ctx, kSecurityKeys);
      for (const MapEntry& f : entries) {
        if (auto v = r_.Text(f, ctx)) (f.key == "label" ? measure.label : measure.enforced) = *v;
      }
      RequireKeys(entries, {"label"}, me.pos, ctx);
    }
    policy_.security.push_back(std::move(measure));
  }
}

void PolicyParser::ParseChanges(const MapEntry& e) {
  if (!r_.ExpectMap(e, "", false)) return;
  ChangePolicy& changes = policy_.changes;
  for (const MapEntry& f : r_.Entries(e.value, "changes", kChangesKeys)) {
    if (f.key == "notice") {
      if (auto v = r_.OneOf(f, "changes", kNotices)) changes.notice = *v;
    } else if (auto v = r_.Text(f, "changes")) {
      (f.key == "url" ? changes.url : changes.text) = *v;
    }
  }
}

void PolicyParser::FillDefaults() {
  for (Category& c : policy_.categories) {
    const char* label = TaxonomyLabel(TaxonomyKind::kDataCategory, c.key);
    if (c.label.empty() && label != nullptr) c.label = label;
  }
  for (Purpose& p : policy_.purposes) {
    const char* label = TaxonomyLabel(TaxonomyKind::kDataUse, p.key);
    if (p.label.empty() && label != nullptr) p.label = label;
  }
  Organization& org = policy_.organization;
  if (org.default_region.empty()) org.default_region = org.jurisdiction;
  JurisdictionDefaults law = DefaultsFor(org.jurisdiction);
  for (Right& right : policy_.rights) {
    if (right.verification.empty()) right.verification = policy_.rights_verification;
    bool grievance = right.name == "grievance";
    if (!right.deadline_days) {
      right.deadline_days = grievance ? law.grievance_deadline_days : law.rights_deadline_days;
      if (!grievance && law.rights_deadline_months > 0) {
        right.deadline_months = law.rights_deadline_months;
      }
    }
    if (!right.extension_days && !grievance && law.extension_days > 0) {
      right.extension_days = law.extension_days;
      if (law.extension_months > 0) right.extension_months = law.extension_months;
    }
  }
}

}  // namespace custodian::policy::internal
