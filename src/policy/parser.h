// Building the policy model from a YAML document (internal to the policy layer).
//
// PolicyParser reads every section of the document into a Policy, checking
// its shape: each mapping has a closed set of keys, each value its type, each
// enumerated value its set, scalars their format (dates, durations,
// deadlines, country codes, identifiers). What needs the whole document
// (references, coverage) is left to ValidatePolicy. Fills in the defaults of
// the format. Reports problems to the reader's sink; never throws on its own
// (yaml-cpp calls it makes do not throw on a loaded document).
// Not thread-safe: one parser per load.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "policy/model.h"
#include "policy/validator.h"
#include "policy/yaml_reader.h"

namespace custodian::policy::internal {

class PolicyParser {
 public:
  PolicyParser(YamlReader& reader, Policy& policy, SourceInfo& sources)
      : r_(reader), policy_(policy), sources_(sources) {}

  // Reads the document's root node (any node type) and fills in defaults.
  void Parse(const YAML::Node& root);

 private:
  // parser.cc
  void ParseOrganization(const MapEntry& e);
  void ParseContacts(const MapEntry& e, const std::string& owner, std::vector<ContactChannel>* out);
  void ParseGrievanceOfficer(const MapEntry& e);
  void ParseCategories(const MapEntry& e);
  void ParsePurposes(const MapEntry& e);
  void ParseRecipients(const MapEntry& e);
  void ParseRecordKinds(const MapEntry& e);
  // parser_sections.cc
  void ParseRetention(const MapEntry& e);
  void ParseRetentionRule(const YAML::Node& node, std::size_t index, SourcePos list_pos);
  void ParseRights(const MapEntry& e);
  void ParseRight(const MapEntry& e);
  void ParseCookies(const MapEntry& e);
  void ParseSecurity(const MapEntry& e);
  void ParseChanges(const MapEntry& e);
  void FillDefaults();

  // Entries of a section keyed by names the author chooses (categories,
  // recipients...); marks the section broken when it is not a mapping.
  std::vector<MapEntry> SectionEntries(const MapEntry& e);
  // Reads a text list and records each item's position under `path`/<index>.
  std::vector<std::string> ListAt(const MapEntry& e, const std::string& context,
                                  const std::string& path);
  // Reports `id` unless it is a lower-case id ("razorpay", "call-recording").
  void CheckId(const std::string& id, SourcePos pos, const std::string& what);
  void CheckCountry(const std::string& code, SourcePos pos, const std::string& key,
                    const std::string& context);
  void RequireKeys(const std::vector<MapEntry>& entries,
                   std::initializer_list<std::string_view> keys, SourcePos pos,
                   const std::string& context);

  YamlReader& r_;
  Policy& policy_;
  SourceInfo& sources_;
};

// [a-z][a-z0-9_]*: role names, anchor events.
bool IsIdentifier(std::string_view s);
// [a-z][a-z0-9_-]*: ids of recipients, record kinds, cookies, measures, rules.
bool IsId(std::string_view s);
// "user.contact.phone_number": identifiers joined by dots.
bool IsDottedKey(std::string_view s);
// What a policy key would be in the right spelling: "Call Centre" -> "call_centre".
std::string ToIdentifier(std::string_view s);

}  // namespace custodian::policy::internal
