// Internals of the retention engine: which rules govern a field or a record,
// when a rule makes an item due, and the general form anonymization keeps.
// Pure functions over the policy model; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/model.h"
#include "store/store.h"

namespace custodian::service::retention {

// The rules that govern a subject's field of `category`: those listing the
// category, or a record kind of that category. Policy order.
std::vector<const policy::RetentionRule*> RulesForCategory(const policy::Policy& policy,
                                                           std::string_view category);
// The rules that govern records of `kind`: those listing the kind; when none
// does, those listing its category.
std::vector<const policy::RetentionRule*> RulesForKind(const policy::Policy& policy,
                                                       std::string_view kind);

// What starts a rule's period for a field, and for a record.
//   while: active       -> the account's closure, due at once
//   after: closed       -> the account's closure
//   after: collected    -> fields: the subject's last update (fields carry no
//                          time of their own); records: the record's time
//   after: <custom>     -> records: that event; fields (which have no events):
//                          the account's closure
enum class FieldAnchor { kClosed, kUpdated };
FieldAnchor FieldAnchorOf(const policy::RetentionRule& rule);
store::RecordAnchor RecordAnchorOf(const policy::RetentionRule& rule);

// Items whose anchor lies before this instant are due at `now_ms` under `rule`.
int64_t Cutoff(const policy::RetentionRule& rule, int64_t now_ms, int offset_minutes);
// When an item anchored at `anchor_ms` falls due under `rule`.
int64_t DueAt(const policy::RetentionRule& rule, int64_t anchor_ms, int offset_minutes);

// When a field of a subject falls due under all of `rules` (the latest of
// them), and the rule that decides it (the last to fall due; the first in
// policy order on a tie); nullopt when some rule's anchor has not happened
// (the account is open).
struct FieldDue {
  int64_t due_ms = 0;
  const policy::RetentionRule* rule = nullptr;
};
std::optional<FieldDue> FieldDueAt(const std::vector<const policy::RetentionRule*>& rules,
                                   const store::SubjectRow& subject, int offset_minutes);

// "while active", "12 months after closed".
std::string PeriodText(const policy::RetentionRule& rule);

// The general form anonymization keeps of a value of `category`: a date of
// birth (or any date) -> its year; an age -> a ten-year band ("30-39"); a
// postal code -> its first three characters; a postal address -> its last
// part that is not a number (the city or state); other categories, which the
// policy's `keep` names as already general (an age range, a gender, product
// categories), as they are.
std::string Generalize(const policy::Category* category, std::string_view key,
                       std::string_view value);

// The categories named in a sealed-fields blob (service/field_codec.h), read
// without copying the sealed values. Empty on a malformed blob.
std::vector<std::string> FieldCategories(std::string_view blob);

// `a` without the keys in `b`, both ascending.
std::vector<int64_t> Without(const std::vector<int64_t>& a, const std::vector<int64_t>& b);

// Keys (ascending) of the tenant's records of `kind` due at `now_ms` under
// all of `rules` (the intersection of each rule's due set), read in `tx`,
// without the keys in `excluded` (ascending: rows of shredded subjects).
Result<std::vector<int64_t>> DueKeys(store::Transaction& tx, std::string_view tenant,
                                     std::string_view kind,
                                     const std::vector<const policy::RetentionRule*>& rules,
                                     int64_t now_ms, int offset_minutes,
                                     const std::vector<int64_t>& excluded);

}  // namespace custodian::service::retention
