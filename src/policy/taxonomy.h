// The fideslang taxonomy custodian accepts: data categories and data uses.
//
// The keys are data (src/policy/taxonomy/*.tsv) compiled in at build time.
// Thread-safe: read-only after static initialisation.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace custodian::policy {

struct TaxonomyEntry {
  const char* key;
  const char* label;
};

namespace internal {
extern const TaxonomyEntry kDataCategories[];
extern const std::size_t kDataCategoriesCount;
extern const TaxonomyEntry kDataUses[];
extern const std::size_t kDataUsesCount;
}  // namespace internal

enum class TaxonomyKind { kDataCategory, kDataUse };

// Label of a known key, or nullptr.
const char* TaxonomyLabel(TaxonomyKind kind, std::string_view key);
bool IsTaxonomyKey(TaxonomyKind kind, std::string_view key);
// "user.contact.phone_number" -> "user.contact"; "" for a root.
std::string_view ParentKey(std::string_view key);
// Closest known key by edit distance, when close enough to be a likely typo.
std::optional<std::string> SuggestTaxonomyKey(TaxonomyKind kind, std::string_view key);
// All keys of a kind, in file order.
std::vector<std::string> TaxonomyKeys(TaxonomyKind kind);
// The known keys directly under `parent` ("user.contact" -> "user.contact.email", ...),
// in file order; empty when there are none.
std::vector<std::string> TaxonomyChildren(TaxonomyKind kind, std::string_view parent);

}  // namespace custodian::policy
