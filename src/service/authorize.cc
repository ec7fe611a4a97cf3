#include "service/authorize.h"

#include <algorithm>

#include "crypto/normalize.h"

namespace custodian::service {
namespace {

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

Result<std::string> Normalize(const policy::Policy& policy, const policy::Category& c,
                              std::string_view raw, std::string_view region_override = {}) {
  switch (c.normalize) {
    case policy::Normalizer::kPhone: {
      std::string_view region = !region_override.empty() ? region_override : PhoneRegion(policy);
      return crypto::NormalizePhone(raw, region);
    }
    case policy::Normalizer::kEmail:
      return crypto::NormalizeEmail(raw);
    case policy::Normalizer::kText:
      return crypto::NormalizeText(raw);
    case policy::Normalizer::kDate:
      return crypto::NormalizeDate(raw);
  }
  return Status::Internal("unknown normalizer");
}

}  // namespace

std::string_view PhoneRegion(const policy::Policy& policy) {
  return policy.organization.default_region.empty() ? policy.organization.jurisdiction
                                                    : policy.organization.default_region;
}

Status ValidateTenantId(std::string_view tenant) {
  bool ok = !tenant.empty() && tenant.size() <= 63 && tenant[0] >= 'a' && tenant[0] <= 'z' &&
            std::all_of(tenant.begin(), tenant.end(), [](char c) {
              return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
            });
  if (!ok) {
    return Status::InvalidArgument("tenant id " + Quote(tenant) +
                                   " is not valid: use 1-63 lower-case letters, digits or '-', "
                                   "starting with a letter");
  }
  return Status::Ok();
}

Result<Grant> Authorize(const policy::Policy& policy, std::string_view role,
                        std::string_view purpose) {
  const policy::Purpose* p = policy.FindPurpose(std::string(purpose));
  if (p == nullptr) {
    return Status::PermissionDenied("purpose " + Quote(purpose) +
                                    " is not declared in the policy (version " + policy.version +
                                    "); every read must name a declared purpose");
  }
  if (std::find(p->roles.begin(), p->roles.end(), role) == p->roles.end()) {
    return Status::PermissionDenied("role " + Quote(role) + " may not use purpose " +
                                    Quote(purpose) + " (allowed roles: " + Join(p->roles) + ")");
  }
  Grant g;
  g.purpose = p;
  g.categories.insert(p->categories.begin(), p->categories.end());
  return g;
}

Status AuthorizeWrite(const policy::Policy& policy, std::string_view role,
                      const std::vector<std::string>& categories) {
  if (role == kAdminRole) return Status::Ok();
  for (const std::string& category : categories) {
    bool covered = std::any_of(policy.purposes.begin(), policy.purposes.end(), [&](const auto& p) {
      return std::find(p.roles.begin(), p.roles.end(), role) != p.roles.end() &&
             std::find(p.categories.begin(), p.categories.end(), category) != p.categories.end();
    });
    if (!covered) {
      return Status::PermissionDenied("role " + Quote(role) + " may not write category " +
                                      Quote(category) + ": no purpose that uses it lists the role");
    }
  }
  return Status::Ok();
}

Status AuthorizeAdmin(std::string_view role, std::string_view what) {
  if (role == kAdminRole) return Status::Ok();
  return Status::PermissionDenied(std::string(what) + " needs role 'admin' (not " + Quote(role) +
                                  ")");
}

Status AuthorizeOperator(const policy::Policy& policy, std::string_view role,
                         std::string_view what) {
  if (role == kAdminRole) return Status::Ok();
  for (const auto& p : policy.purposes) {
    if (std::find(p.roles.begin(), p.roles.end(), role) != p.roles.end()) return Status::Ok();
  }
  return Status::PermissionDenied(std::string(what) + " needs a role some purpose lists (not " +
                                  Quote(role) + ")");
}

Result<NormalizedField> NormalizeField(const policy::Policy& policy, const FieldInput& f,
                                       std::string_view phone_region) {
  const policy::Category* c = policy.FindCategory(f.category);
  if (c == nullptr) {
    return Status::InvalidArgument("category " + Quote(f.category) +
                                   " is not declared in the policy; only declared categories "
                                   "may be collected");
  }
  if (f.value.empty()) return Status::InvalidArgument("the value is empty");
  if (f.value.size() > kMaxValueBytes) {
    return Status::InvalidArgument("the value is " + std::to_string(f.value.size()) +
                                   " bytes; at most " + std::to_string(kMaxValueBytes) +
                                   " are allowed");
  }
  ASSIGN_OR_RETURN(std::string norm, Normalize(policy, *c, f.value, phone_region));
  return NormalizedField{f.category, std::move(norm), c->index_exact};
}

Result<std::vector<NormalizedField>> NormalizeFields(const policy::Policy& policy,
                                                     const std::vector<FieldInput>& fields,
                                                     std::string_view phone_region, int* bad) {
  std::vector<NormalizedField> out;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const FieldInput& f = fields[i];
    std::string where = "field " + std::to_string(i + 1) + " (" + f.category + ")";
    auto refuse = [&](const std::string& why) {
      if (bad != nullptr) *bad = static_cast<int>(i);
      return Status::InvalidArgument(where + ": " + why);
    };
    if (policy.FindCategory(f.category) != nullptr) {
      for (const auto& prev : out) {
        if (prev.category == f.category) return refuse("category given twice");
      }
    }
    auto norm = NormalizeField(policy, f, phone_region);
    if (!norm.ok()) return refuse(norm.status().message());
    out.push_back(std::move(norm).value());
  }
  return out;
}

Result<std::vector<IndexProbe>> IndexProbes(const policy::Policy& policy, const LookupQuery& query,
                                            bool* unchecked) {
  if (unchecked != nullptr) *unchecked = false;
  std::vector<const policy::Category*> targets;
  if (query.kind == "phone" || query.kind == "email" || query.kind == "text") {
    for (const auto& c : policy.categories) {
      if (c.index_exact && query.kind == policy::NormalizerName(c.normalize)) {
        targets.push_back(&c);
      }
    }
    if (targets.empty()) {
      return Status::FailedPrecondition("the policy indexes no category by " + query.kind +
                                        "; mark one `index: exact` to look it up");
    }
  } else {
    const policy::Category* c = policy.FindCategory(query.kind);
    if (c == nullptr) {
      return Status::InvalidArgument("category " + Quote(query.kind) +
                                     " is not declared in the policy");
    }
    if (!c->index_exact) {
      return Status::FailedPrecondition("category " + Quote(query.kind) +
                                        " is not indexed (`index: exact`), so it cannot be "
                                        "looked up");
    }
    targets.push_back(c);
  }
  if (query.value.empty()) return Status::InvalidArgument("the lookup value is empty");
  std::vector<IndexProbe> out;
  for (const policy::Category* c : targets) {
    if (unchecked != nullptr && c->normalize == policy::Normalizer::kPhone) {
      auto reading = crypto::ReadPhoneUnchecked(query.value, PhoneRegion(policy));
      if (reading.ok() && reading->has_value()) {
        out.push_back({c->key, std::move(**reading)});
        *unchecked = true;
        continue;
      }
    }
    auto norm = Normalize(policy, *c, query.value);
    if (!norm.ok()) {
      return Status::InvalidArgument("lookup by " + query.kind + ": " + norm.status().message());
    }
    out.push_back({c->key, std::move(norm).value()});
  }
  return out;
}

}  // namespace custodian::service
