#include "policy/taxonomy.h"

#include <span>

#include "policy/suggest.h"

namespace custodian::policy {
namespace {

std::span<const TaxonomyEntry> Entries(TaxonomyKind kind) {
  if (kind == TaxonomyKind::kDataCategory) {
    return {internal::kDataCategories, internal::kDataCategoriesCount};
  }
  return {internal::kDataUses, internal::kDataUsesCount};
}

}  // namespace

// A linear scan: the tables hold about a hundred keys and are read only while
// loading a policy, so a hash map would buy nothing measurable.
const char* TaxonomyLabel(TaxonomyKind kind, std::string_view key) {
  for (const TaxonomyEntry& e : Entries(kind)) {
    if (key == e.key) return e.label;
  }
  return nullptr;
}

bool IsTaxonomyKey(TaxonomyKind kind, std::string_view key) {
  return TaxonomyLabel(kind, key) != nullptr;
}

std::string_view ParentKey(std::string_view key) {
  std::size_t dot = key.rfind('.');
  if (dot == std::string_view::npos) return {};
  return key.substr(0, dot);
}

std::optional<std::string> SuggestTaxonomyKey(TaxonomyKind kind, std::string_view key) {
  std::optional<std::string> best;
  std::size_t best_distance = 0;
  for (const TaxonomyEntry& e : Entries(kind)) {
    std::optional<std::size_t> d = TypoDistance(key, e.key);
    if (d && (!best || *d < best_distance)) {
      best = e.key;
      best_distance = *d;
    }
  }
  return best;
}

std::vector<std::string> TaxonomyKeys(TaxonomyKind kind) {
  std::vector<std::string> keys;
  for (const TaxonomyEntry& e : Entries(kind)) keys.emplace_back(e.key);
  return keys;
}

std::vector<std::string> TaxonomyChildren(TaxonomyKind kind, std::string_view parent) {
  std::vector<std::string> keys;
  for (const TaxonomyEntry& e : Entries(kind)) {
    std::string_view key = e.key;
    if (ParentKey(key) == parent && !parent.empty()) keys.emplace_back(key);
  }
  return keys;
}

}  // namespace custodian::policy
