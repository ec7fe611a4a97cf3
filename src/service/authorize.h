// The policy rules the vault applies before it touches data: who may use which
// purpose, which categories a purpose may see, and what a valid field value
// is. Pure functions over the policy model; thread-safe.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "custodian/status.h"
#include "policy/model.h"
#include "service/vault.h"

namespace custodian::service {

// Tenant ids: 1-63 chars of [a-z0-9-], starting with a letter.
Status ValidateTenantId(std::string_view tenant);

struct Grant {
  const policy::Purpose* purpose = nullptr;
  std::set<std::string> categories;  // what the purpose may use
};

// PermissionDenied (saying which rule refused) when the purpose is not
// declared or the role may not use it. Whether a subject consented to (or
// objected to) the purpose is checked per subject, against the consent ledger
// (ConsentAllows in service/vault_internal.h).
Result<Grant> Authorize(const policy::Policy& policy, std::string_view role,
                        std::string_view purpose);

// The tenant's administrator role: may write any declared category, erase,
// import and manage credentials. Policies list it among purposes' roles too.
inline constexpr char kAdminRole[] = "admin";

// Writing personal data is collecting it, so it needs a purpose too: `role`
// may write a category when it is admin, or when some purpose the role may
// use lists that category (a support agent may correct a phone number it
// works with; an auditor may write nothing). PermissionDenied naming the first
// category no such purpose covers.
Status AuthorizeWrite(const policy::Policy& policy, std::string_view role,
                      const std::vector<std::string>& categories);
// Operations only the administrator may do (erase, import): PermissionDenied
// "`what` needs role 'admin'" otherwise.
Status AuthorizeAdmin(std::string_view role, std::string_view what);
// Operations on a subject's lifecycle (close): any role some purpose lists.
Status AuthorizeOperator(const policy::Policy& policy, std::string_view role,
                         std::string_view what);

// The region a phone number without a country code is read in: the policy's
// organization.default_region, else its jurisdiction.
std::string_view PhoneRegion(const policy::Policy& policy);

struct NormalizedField {
  std::string category;
  std::string value;  // canonical form (E.164, lower-case email, NFC text)
  bool indexed = false;
};

// Checks one input field against the policy and normalizes it. Phone numbers
// without a country code are read in `phone_region` when given (an import's
// --default-region), else in the policy's default region. Errors say what is
// wrong, never the value, and do not name the field (the caller does).
Result<NormalizedField> NormalizeField(const policy::Policy& policy, const FieldInput& field,
                                       std::string_view phone_region = {});

// Checks every input field against the policy and normalizes it. Errors name
// the field (by position and category), never the value; `*bad` (when given)
// is then the index in `fields` of the field at fault.
Result<std::vector<NormalizedField>> NormalizeFields(const policy::Policy& policy,
                                                     const std::vector<FieldInput>& fields,
                                                     std::string_view phone_region = {},
                                                     int* bad = nullptr);

struct IndexProbe {
  std::string category;
  std::string value;  // normalized
};

// The (category, normalized value) pairs a lookup must probe: for kind
// "phone"/"email"/"text", every indexed category with that normalizer; for a
// category key, that category (which must be indexed).
//
// With `unchecked` given, a phone value is read with crypto::ReadPhoneUnchecked
// (no validity check) where it parses, and *unchecked says whether any probe
// was so read: a lookup that finds a subject by such a probe has its answer
// (the stored value was valid), and one that finds none must call again
// without `unchecked` for the checked probes, or the error.
Result<std::vector<IndexProbe>> IndexProbes(const policy::Policy& policy, const LookupQuery& query,
                                            bool* unchecked = nullptr);

}  // namespace custodian::service
