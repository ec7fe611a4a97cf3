#include "service/retention_rules.h"

#include <algorithm>
#include <cctype>
#include <iterator>

#include "policy/calendar.h"

namespace custodian::service::retention {

using policy::AnchorKind;
using policy::RetentionRule;

namespace {

bool Lists(const std::vector<std::string>& list, std::string_view key) {
  return std::find(list.begin(), list.end(), key) != list.end();
}

std::string Trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

}  // namespace

std::vector<const RetentionRule*> RulesForCategory(const policy::Policy& policy,
                                                   std::string_view category) {
  std::vector<const RetentionRule*> out;
  for (const RetentionRule& rule : policy.retention) {
    bool covers = Lists(rule.categories, category);
    for (const std::string& kind : rule.records) {
      const policy::RecordKind* k = policy.FindRecordKind(kind);
      if (k != nullptr && k->category == category) covers = true;
    }
    if (covers) out.push_back(&rule);
  }
  return out;
}

std::vector<const RetentionRule*> RulesForKind(const policy::Policy& policy,
                                               std::string_view kind) {
  std::vector<const RetentionRule*> out;
  for (const RetentionRule& rule : policy.retention) {
    if (Lists(rule.records, kind)) out.push_back(&rule);
  }
  if (!out.empty()) return out;
  const policy::RecordKind* k = policy.FindRecordKind(std::string(kind));
  if (k == nullptr) return out;
  for (const RetentionRule& rule : policy.retention) {
    if (Lists(rule.categories, k->category)) out.push_back(&rule);
  }
  return out;
}

FieldAnchor FieldAnchorOf(const RetentionRule& rule) {
  return rule.anchor == AnchorKind::kAfterEvent && rule.after == "collected"
             ? FieldAnchor::kUpdated
             : FieldAnchor::kClosed;
}

store::RecordAnchor RecordAnchorOf(const RetentionRule& rule) {
  if (rule.anchor == AnchorKind::kWhileActive || rule.after == "closed") {
    return store::RecordAnchor::kClosed;
  }
  if (rule.after == "collected") return store::RecordAnchor::kCollected;
  return store::RecordAnchor::kEvent;
}

int64_t Cutoff(const RetentionRule& rule, int64_t now_ms, int offset_minutes) {
  if (rule.anchor == AnchorKind::kWhileActive || !rule.duration) return now_ms + 1;
  return policy::DueCutoffMs(now_ms, *rule.duration, offset_minutes);
}

int64_t DueAt(const RetentionRule& rule, int64_t anchor_ms, int offset_minutes) {
  if (rule.anchor == AnchorKind::kWhileActive || !rule.duration) return anchor_ms;
  int64_t day = policy::DueDay(policy::LocalDay(anchor_ms, offset_minutes), *rule.duration);
  return policy::LocalMidnightMs(day, offset_minutes);
}

std::optional<FieldDue> FieldDueAt(const std::vector<const RetentionRule*>& rules,
                                   const store::SubjectRow& subject, int offset_minutes) {
  if (rules.empty()) return std::nullopt;  // no rule: kept (the validator forbids it)
  std::optional<FieldDue> out;
  for (const RetentionRule* rule : rules) {
    int64_t anchor = 0;
    if (FieldAnchorOf(*rule) == FieldAnchor::kUpdated) {
      anchor = subject.updated_ms;
    } else {
      if (subject.state != store::SubjectState::kClosed || !subject.closed_ms) return std::nullopt;
      anchor = *subject.closed_ms;
    }
    int64_t due = DueAt(*rule, anchor, offset_minutes);
    if (!out || due > out->due_ms) out = FieldDue{due, rule};
  }
  return out;
}

std::string PeriodText(const RetentionRule& rule) {
  if (rule.anchor == AnchorKind::kWhileActive) return "while active";
  return (rule.duration ? rule.duration->ToString() : std::string("0 days")) + " after " +
         rule.after;
}

std::string Generalize(const policy::Category* category, std::string_view key,
                       std::string_view value) {
  std::string v = Trim(value);
  bool is_date = (category != nullptr && category->normalize == policy::Normalizer::kDate) ||
                 key.find("date") != std::string_view::npos;
  if (is_date) {
    // YYYY-MM-DD (the date normalizer's form) or anything starting with a year.
    if (v.size() >= 4 && std::all_of(v.begin(), v.begin() + 4, ::isdigit)) return v.substr(0, 4);
    return "";
  }
  auto ends_with = [&](std::string_view suffix) {
    return key.size() >= suffix.size() && key.substr(key.size() - suffix.size()) == suffix;
  };
  if (ends_with(".age")) {
    if (!v.empty() && std::all_of(v.begin(), v.end(), ::isdigit) && v.size() <= 3) {
      int age = std::stoi(v);
      return std::to_string(age / 10 * 10) + "-" + std::to_string(age / 10 * 10 + 9);
    }
    return "";
  }
  if (key.find("postal_code") != std::string_view::npos) {
    return v.size() <= 3 ? std::string() : v.substr(0, 3);
  }
  if (key == "user.contact.address" || ends_with(".street")) {
    // The last comma-separated part with a letter in it, without its digits:
    // "12 MG Road, Indiranagar, Bengaluru 560038" -> "Bengaluru".
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= v.size(); ++i) {
      if (i == v.size() || v[i] == ',' || v[i] == '\n') {
        parts.push_back(v.substr(start, i - start));
        start = i + 1;
      }
    }
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
      std::string letters;
      for (char c : *it) {
        if (!std::isdigit(static_cast<unsigned char>(c))) letters.push_back(c);
      }
      letters = Trim(letters);
      if (std::any_of(letters.begin(), letters.end(), ::isalpha)) return letters;
    }
    return "";
  }
  return v;
}

std::vector<std::string> FieldCategories(std::string_view blob) {
  std::vector<std::string> out;
  auto u = [&](std::size_t at, int bytes) {
    uint64_t n = 0;
    for (int i = 0; i < bytes; ++i) n = n << 8 | static_cast<unsigned char>(blob[at + i]);
    return n;
  };
  if (blob.size() < 4) return out;
  uint64_t count = u(0, 4);
  std::size_t at = 4;
  for (uint64_t i = 0; i < count; ++i) {
    if (blob.size() - at < 2) return {};
    std::size_t len = u(at, 2);
    at += 2;
    if (blob.size() - at < len + 4) return {};
    out.emplace_back(blob.substr(at, len));
    at += len;
    std::size_t sealed = u(at, 4);
    at += 4;
    if (blob.size() - at < sealed) return {};
    at += sealed;
  }
  return out;
}

std::vector<int64_t> Without(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  if (b.empty()) return a;
  std::vector<int64_t> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

Result<std::vector<int64_t>> DueKeys(store::Transaction& tx, std::string_view tenant,
                                     std::string_view kind,
                                     const std::vector<const policy::RetentionRule*>& rules,
                                     int64_t now_ms, int offset_minutes,
                                     const std::vector<int64_t>& excluded) {
  std::vector<int64_t> due;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    ASSIGN_OR_RETURN(auto keys,
                     tx.DueRecordKeys(tenant, kind, RecordAnchorOf(*rules[i]), rules[i]->after,
                                      Cutoff(*rules[i], now_ms, offset_minutes)));
    if (i == 0) {
      due = std::move(keys);
      continue;
    }
    std::vector<int64_t> both;
    std::set_intersection(due.begin(), due.end(), keys.begin(), keys.end(),
                          std::back_inserter(both));
    due = std::move(both);
  }
  return Without(due, excluded);
}

}  // namespace custodian::service::retention
