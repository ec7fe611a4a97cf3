// PolicyToJson: the normalized policy for machines. Defaults are filled in
// (labels, default_region, each right's deadline with its source, verification)
// so a reader needs neither the taxonomy nor the jurisdiction tables. Lists
// keep the policy's order; object keys are sorted (nlohmann::json), so the
// output is deterministic. Source positions and the file path are left out.

#include <string>
#include <vector>

#include "policy/jurisdiction.h"
#include "policy/render.h"
#include "policy/render_internal.h"
#include "policy/taxonomy.h"

namespace custodian::policy {
namespace {

using nlohmann::json;
using render_internal::CategoryLabel;
using render_internal::PurposeLabel;
using render_internal::RecordKindLabel;

json OrNull(const std::optional<Date>& date) {
  return date ? json(date->ToString()) : json(nullptr);
}

const char* UnitName(Duration::Unit unit) {
  switch (unit) {
    case Duration::Unit::kDays:
      return "days";
    case Duration::Unit::kWeeks:
      return "weeks";
    case Duration::Unit::kMonths:
      return "months";
    case Duration::Unit::kYears:
      return "years";
  }
  return "days";
}

json ContactsJson(const std::vector<ContactChannel>& contacts) {
  json out = json::array();
  for (const ContactChannel& c : contacts)
    out.push_back({{"channel", c.channel}, {"value", c.value}});
  return out;
}

json OrganizationJson(const Policy& policy) {
  const auto& org = policy.organization;
  const JurisdictionDefaults defaults = DefaultsFor(org.jurisdiction);
  return {
      {"name", org.name},
      {"legal_name", org.legal_name},
      {"jurisdiction", org.jurisdiction},
      {"law", defaults.law},
      {"default_region", org.default_region.empty() ? org.jurisdiction : org.default_region},
      {"role", org.role},
      {"role_note", org.role_note},
      {"website", org.website},
      {"contacts", ContactsJson(org.contacts)},
      {"grievance_officer",
       {{"name", org.grievance_officer.name},
        {"title", org.grievance_officer.title},
        {"contacts", ContactsJson(org.grievance_officer.contacts)}}},
  };
}

json CategoriesJson(const Policy& policy) {
  json out = json::array();
  for (const Category& c : policy.categories) {
    out.push_back({
        {"key", c.key},
        {"label", CategoryLabel(policy, c.key)},
        {"description", c.description},
        {"sensitive", c.sensitive},
        {"source", DataSourceName(c.source)},
        {"index", c.index_exact ? "exact" : "none"},
        {"normalize", NormalizerName(c.normalize)},
        {"custom", c.custom},
        {"parent", std::string(ParentKey(c.key))},
    });
  }
  return out;
}

json PurposesJson(const Policy& policy) {
  json out = json::array();
  for (const Purpose& p : policy.purposes) {
    json item = {
        {"key", p.key},
        {"label", PurposeLabel(policy, p.key)},
        {"description", p.description},
        {"basis", p.basis ? json(LegalBasisName(*p.basis)) : json(nullptr)},
        {"basis_in_words", p.basis ? json(LegalBasisPlainWords(*p.basis)) : json(nullptr)},
        {"categories", p.categories},
        {"roles", p.roles},
        {"custom", p.custom},
    };
    if (p.basis == LegalBasis::kConsent) {
      item["consent"] = {
          {"opt_out", p.opt_out},
          {"channels", p.channels},
          {"default", p.default_granted ? "opted_in" : "opted_out"},
      };
    }
    out.push_back(std::move(item));
  }
  return out;
}

json RecipientsJson(const Policy& policy) {
  json out = json::array();
  for (const Recipient& r : policy.recipients) {
    out.push_back({
        {"id", r.id},
        {"label", r.label.empty() ? r.id : r.label},
        {"kind", RecipientKindName(r.kind)},
        {"purposes", r.purposes},
        {"categories", r.categories},
        {"country", r.country},
        {"description", r.description},
    });
  }
  return out;
}

json RecordKindsJson(const Policy& policy) {
  json out = json::array();
  for (const RecordKind& r : policy.record_kinds) {
    out.push_back({
        {"id", r.id},
        {"label", RecordKindLabel(policy, r.id)},
        {"category", r.category},
        {"anchors", r.anchors},
    });
  }
  return out;
}

json RetentionJson(const Policy& policy) {
  json out = json::array();
  for (size_t i = 0; i < policy.retention.size(); ++i) {
    const RetentionRule& r = policy.retention[i];
    json item = {
        {"name", r.name.empty() ? "retention[" + std::to_string(i) + "]" : r.name},
        {"categories", r.categories},
        {"records", r.records},
        {"action", RetentionActionName(r.action)},
        {"keep", r.keep},
        {"min_group", r.min_group},
        {"reason", r.reason},
        {"description", DescribeRetentionRule(policy, r)},
    };
    if (r.anchor == AnchorKind::kWhileActive) {
      item["while"] = "active";
    } else {
      item["after"] = r.after;
    }
    if (r.duration) {
      item["for"] = r.duration->ToString();
      item["duration"] = {{"count", r.duration->count}, {"unit", UnitName(r.duration->unit)}};
    } else {
      item["for"] = nullptr;
      item["duration"] = nullptr;
    }
    out.push_back(std::move(item));
  }
  return out;
}

json RightsJson(const Policy& policy) {
  json offered = json::array();
  for (const Right& r : policy.rights) {
    const render_internal::ResolvedDeadline d = render_internal::ResolveDeadline(policy, r);
    offered.push_back({
        {"name", r.name},
        {"deadline_days", d.days},
        {"deadline_source", d.from_policy ? "policy" : "jurisdiction default"},
        {"extension_days", d.extension_days},
        {"extension_source", d.extension_from_policy ? "policy" : "jurisdiction default"},
        {"verification", render_internal::ResolveVerification(policy, r)},
        {"self_service", r.self_service},
        {"exceptions", r.exceptions},
        {"how", r.how},
    });
  }
  return {{"verification", policy.rights_verification}, {"offered", std::move(offered)}};
}

json CookiesJson(const Policy& policy) {
  json out = json::array();
  for (const CookieCategory& c : policy.cookies) {
    out.push_back({
        {"id", c.id},
        {"label", c.label.empty() ? c.id : c.label},
        {"purpose", c.purpose},
        {"consent_required", c.consent_required},
        {"examples", c.examples},
        {"description", c.description},
    });
  }
  return out;
}

json SecurityJson(const Policy& policy) {
  json out = json::array();
  for (const SecurityMeasure& m : policy.security) {
    out.push_back({
        {"id", m.id},
        {"label", m.label.empty() ? m.id : m.label},
        {"enforced", !m.enforced.empty()},
        {"setting", m.enforced.empty() ? json(nullptr) : json(m.enforced)},
    });
  }
  return out;
}

}  // namespace

nlohmann::json PolicyToJson(const Policy& policy) {
  return {
      {"version", policy.version},
      {"effective", OrNull(policy.effective)},
      {"updated", OrNull(policy.updated)},
      {"organization", OrganizationJson(policy)},
      {"categories", CategoriesJson(policy)},
      {"purposes", PurposesJson(policy)},
      {"recipients", RecipientsJson(policy)},
      {"record_kinds", RecordKindsJson(policy)},
      {"retention", RetentionJson(policy)},
      {"rights", RightsJson(policy)},
      {"cookies", CookiesJson(policy)},
      {"security", SecurityJson(policy)},
      {"changes",
       {{"notice", policy.changes.notice},
        {"url", policy.changes.url},
        {"text", policy.changes.text}}},
  };
}

}  // namespace custodian::policy
